import pandas as pd
import pytest
from paperlab.core import nb


def test_repo_url_and_badge_come_from_pyproject():
    url = nb.repo_url()
    assert url.startswith("https://github.com/")
    badge = nb.colab_badge("04_hyperens")
    assert nb.BADGE_IMG in badge
    assert badge.endswith(f"{url.removeprefix('https://github.com/')}/blob/main/notebooks/04_hyperens.ipynb)")
    assert url in nb.colab_install_source()


def test_show_source_prints_real_source(capsys):
    nb.show_source(nb.mean_std)
    out = capsys.readouterr().out
    assert "def mean_std" in out and "ddof=1" in out
    with pytest.raises(TypeError, match="show_source"):
        nb.source_of(3)


def test_results_table_and_mean_std():
    df = nb.results_table([{"method": "a", "acc": 0.91234}, {"method": "b", "acc": 0.5}])
    assert isinstance(df, pd.DataFrame) and df.loc[0, "acc"] == "0.912"
    assert nb.mean_std([1.0, 2.0, 3.0], "{:.1f}") == "2.0 ± 1.0"
    with pytest.raises(ValueError):
        nb.results_table([])


def test_setup_returns_profile(monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAB_PROFILE", "smoke")
    P = nb.setup(seed=1)
    assert P.name == "smoke" and "smoke" in capsys.readouterr().out
