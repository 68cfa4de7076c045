import json

import nbformat
import pytest
from paperlab import reproduce


@pytest.fixture
def tmp_repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "README.md").write_text(f"intro\n{reproduce.MAP_START}\nold\n{reproduce.MAP_END}\nrest\n")
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    return tmp_path


def _write_nb(path, code, meta=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in code]
    nb.metadata["paperlab"] = meta or {}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_unknown_notebook_lists_valid_ones(tmp_repo):
    _write_nb(tmp_repo / "notebooks" / "01_demo.ipynb", ["1"])
    with pytest.raises(SystemExit) as err:
        reproduce.resolve(["nope"])
    assert "nope" in str(err.value) and "01_demo" in str(err.value)
    assert reproduce.resolve(["01_demo"])[0].name == "01_demo.ipynb"
    assert reproduce.module_of(tmp_repo / "notebooks" / "01_demo.ipynb") == "demo"


def test_failing_notebook_does_not_stop_others_and_is_named(tmp_repo, capsys):
    _write_nb(tmp_repo / "notebooks" / "01_bad.ipynb", ["x = 1", "raise ValueError('boom')"])
    _write_nb(tmp_repo / "notebooks" / "02_good.ipynb", ["y = 2"], {"paper": "P", "claim": "C"})
    rc = reproduce.main([])
    err = capsys.readouterr().err
    assert rc == 1
    assert "01_bad.ipynb: cell 1" in err and "boom" in err
    runtimes = json.loads((tmp_repo / "reports" / "runtimes.json").read_text())
    assert "02_good" in runtimes and "01_bad" not in runtimes
    executed = nbformat.read(tmp_repo / "notebooks" / "02_good.ipynb", as_version=4)
    assert executed.cells[0].execution_count == 1


def test_reports_written(tmp_repo):
    _write_nb(tmp_repo / "notebooks" / "03_demo.ipynb", ["1"], {"paper": "Some paper", "claim": "X beats Y"})
    (tmp_repo / "reports" / "claims").mkdir(parents=True)
    (tmp_repo / "reports" / "claims" / "demo.json").write_text(json.dumps([
        {"claim": "X beats Y", "paper_value": "+2", "ours": {"metric": "acc", "mean": 0.5, "std": 0.1, "per_seed": [0.5]},
         "seeds": [0], "kind": "threshold", "verdict": "inconclusive", "rule": "r", "estimate": 0.5,
         "interval": [0.3, 0.7], "level": 0.95, "interval_method": "given", "min_effect": 0.4, "min_effect_why": "m",
         "range": [0.4, None], "instrument": {"check": "c", "value": 1.0, "threshold": ">= 0.5", "passed": True},
         "why": "w", "profile": "cpu"}]))
    reproduce.write_reports()
    readme = (tmp_repo / "README.md").read_text()
    assert "old" not in readme and "03_demo" in readme and "1 inconclusive" in readme and "1 claims:" in readme and readme.endswith("rest\n")
    assert "X beats Y" in (tmp_repo / "reports" / "CLAIMS.md").read_text()


def test_failed_or_timed_out_run_keeps_notebook_and_claims(tmp_repo, capsys):
    _write_nb(tmp_repo / "notebooks" / "01_slow.ipynb", ["import time; time.sleep(30)"])
    before = (tmp_repo / "notebooks" / "01_slow.ipynb").read_text()
    claims_file = tmp_repo / "reports" / "claims" / "slow.json"
    claims_file.parent.mkdir(parents=True)
    claims_file.write_text("[]\n")
    rc = reproduce.main(["--timeout", "2"])
    err = capsys.readouterr().err
    assert rc == 1 and "01_slow.ipynb" in err and "Timeout" in err
    assert (tmp_repo / "notebooks" / "01_slow.ipynb").read_text() == before  # left unchanged
    assert claims_file.read_text() == "[]\n"  # the committed claims survive a failed run


def test_check_nb_refuses_notebooks_with_nothing_to_train():
    """`make train NB=_template` (and the theory notebook) stop at the check with the list of trainable ones."""
    from paperlab import reproduce

    with pytest.raises(SystemExit, match="skeleton: nothing to train.*07_pat"):
        reproduce.main(["--check-nb", "_template"])
    with pytest.raises(SystemExit, match="no train command"):
        reproduce.main(["--check-nb", "11_ftgame"])
    assert reproduce.main(["--check-nb", "07_pat"]) == 0
