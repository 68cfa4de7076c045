import json
import multiprocessing as mp

import numpy as np
import pytest
from paperlab.core import claims
from paperlab.core.profiles import Profile


@pytest.fixture
def tmp_repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    return tmp_path


OK = claims.instrument("baseline beats chance (accuracy)", 0.9, low=0.5)
BAD = claims.instrument("pre-training task learned (accuracy)", 0.52, low=0.6)
KW = dict(min_effect=0.0, why_min="any improvement", instrument=OK)


def test_zero_effect_is_rarely_held():
    """Under no true effect, 'held' must come at most ~5% of the time (it is ~2.5% for a two-sided 95% interval)."""
    rng = np.random.default_rng(0)
    for n in (3, 5, 10):
        held = 0
        for _ in range(2000):
            a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
            held += claims.paired(a, b, **KW)["verdict"] == "held"
        assert held / 2000 <= 0.05, (n, held)


def test_zero_effect_bootstrap_rarely_held():
    rng = np.random.default_rng(1)
    held = 0
    for _ in range(200):
        a, b = rng.integers(0, 2, (3, 200)), rng.integers(0, 2, (3, 200))
        held += claims.paired_bootstrap(a, b, n_boot=400, **KW)["verdict"] == "held"
    assert held / 200 <= 0.08  # percentile bootstrap at n=3 is slightly liberal; still rare


def test_large_effect_held_opposite_not_held():
    rng = np.random.default_rng(2)
    a, b = 1.0 + rng.normal(0, 0.1, 5), rng.normal(0, 0.1, 5)
    r = claims.paired(a, b, **KW)
    assert r["verdict"] == "held" and r["interval"][0] > 0 and r["kind"] == "paired"
    assert claims.paired(b, a, **KW)["verdict"] == "not held"
    # lower is better
    assert claims.paired(b, a, higher_is_better=False, **KW)["verdict"] == "held"
    # an effect smaller than the minimum meaningful one is not held
    small = claims.paired(0.1 + b, b, min_effect=1.0, why_min="paper's effect", instrument=OK)
    assert small["verdict"] == "not held"


def test_noisy_effect_is_inconclusive_and_reports_detectable():
    r = claims.paired([0.0012, 0.0108, -0.0143], [0, 0, 0], **KW)
    assert r["verdict"] == "inconclusive"
    assert r["interval"][0] < 0 < r["interval"][1]
    assert r["detectable"] == pytest.approx(r["interval"][1] - r["estimate"])


def test_failed_instrument_is_not_testable():
    r = claims.paired([5, 6, 7], [0, 0, 0], min_effect=0, why_min="x", instrument=BAD)
    assert r["verdict"] == "not testable here"
    assert "pre-training task learned" in r["rule"] and r["instrument"]["passed"] is False
    r2 = claims.paired([5, 6, 7], [0, 0, 0], min_effect=0, why_min="x", instrument=[OK, BAD])
    assert r2["verdict"] == "not testable here" and r2["instrument"] == BAD
    assert claims.threshold([0.01, 0.02], high=0.05, why_min="x", instrument=BAD)["verdict"] == "not testable here"


def test_comparison_needs_instrument():
    with pytest.raises(ValueError, match="instrument"):
        claims.paired([1, 2], [0, 0], min_effect=0, why_min="x", instrument=None)
    with pytest.raises(ValueError, match="why"):
        claims.paired([1, 2], [0, 0], min_effect=0, why_min="", instrument=OK)


def test_threshold():
    assert claims.threshold([0.01, 0.02, 0.015], high=0.05, why_min="x")["verdict"] == "held"
    assert claims.threshold([0.5, 0.6, 0.55], high=0.05, why_min="x")["verdict"] == "not held"
    assert claims.threshold([0.01, 0.2, 0.02], high=0.05, why_min="x")["verdict"] == "inconclusive"
    assert claims.threshold([4.0], low=3, why_min="x", exact=True)["verdict"] == "held"
    assert claims.threshold([0.5], low=0.4, why_min="x", interval=(0.35, 0.6))["verdict"] == "inconclusive"
    with pytest.raises(ValueError, match="interval"):
        claims.threshold([0.5], low=0.4, why_min="x")


def test_compound_never_upgrades():
    bad = claims.threshold([0.2, 0.3, 0.25], high=0.05, why_min="x")
    good = claims.threshold([0.9, 0.95, 0.92], low=0.5, why_min="x")
    c = claims.compound(bad, good, good, names=["acc", "acc2"])
    assert c["verdict"] == "not held" and c["secondary_tally"] == "2/2 secondary held"
    c2 = claims.compound(claims.paired([0.1, -0.1, 0.05], [0, 0, 0], **KW), good)
    assert c2["verdict"] == "inconclusive"


def test_bootstrap_mean_single_seed():
    m, lo, hi, se = claims.bootstrap_mean([[1, 0, 1, 1, 0, 1, 1, 1]])
    assert lo < m < hi and 0 <= lo and hi <= 1


def test_derivation_and_not_run():
    assert claims.derivation([1e-9, 0.0], tolerance=1e-6, check="brute force")["verdict"] == "verified"
    assert claims.derivation([1e-3], tolerance=1e-6, check="brute force")["verdict"] == "not verified"
    assert claims.not_run("needs a GPU")["verdict"] == "not run"


@pytest.mark.parametrize("a,b,msg", [
    ([1, 2], [1], "equal-length"),
    ([1, float("nan")], [1, 2], "NaN"),
    ([], [], "empty"),
    ([1], [0], "at least 2"),
    (["x", 1], [1, 2], "numbers"),
])
def test_bad_input_is_a_clear_error(a, b, msg):
    with pytest.raises(ValueError, match=msg):
        claims.paired(a, b, **KW)


def test_record_roundtrip(tmp_repo):
    r = claims.paired([2, 2.1, 1.9], [1, 1, 1], **KW)
    kw = dict(paper_value="n/a", metric="acc", per_seed=[2, 2.1, 1.9], seeds=[0, 1, 2], result=r, why="demo",
              P=Profile("cpu"))
    claims.record("demo", "A beats B", **kw)
    claims.record("demo", "A beats B", **kw)
    items = json.loads((tmp_repo / "reports" / "claims" / "demo.json").read_text())
    assert len(items) == 1
    c = items[0]
    assert c["verdict"] == "held" and c["instrument"]["passed"] and len(c["interval"]) == 2
    assert c["ours"]["per_seed"] == [2, 2.1, 1.9] and c["min_effect_why"] == "any improvement"
    assert claims.load("demo") == items


def test_record_smoke_writes_nothing(tmp_repo):
    r = claims.threshold([1], low=0, why_min="x", exact=True)
    claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], result=r, why="w",
                  P=Profile("smoke"))
    assert not (tmp_repo / "reports").exists()


def test_record_rejects_bad_input(tmp_repo):
    r = claims.threshold([1], low=0, why_min="x", exact=True)
    with pytest.raises(ValueError, match="result"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], result=("held", "r"), why="w")
    with pytest.raises(ValueError, match="verdict"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], result={**r, "verdict": "partly"},
                      why="w")
    with pytest.raises(ValueError, match="why"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], result=r, why="")
    with pytest.raises(ValueError, match="per-seed"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1, 2], seeds=[0], result=r, why="w",
                      P=Profile("cpu"))


def test_corrupt_claims_file_is_a_clear_error(tmp_repo):
    p = tmp_repo / "reports" / "claims" / "demo.json"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"\xff\xfe{not json")
    with pytest.raises(ValueError, match="git checkout"):
        claims.load("demo")


def _writer(home, k):
    import os

    os.environ["PAPERLAB_HOME"] = home
    from paperlab.core import claims as c
    from paperlab.core.profiles import Profile as Pr

    r = c.threshold([1], low=0, why_min="x", exact=True)
    for i in range(20):
        c.record("demo", f"claim {k}-{i}", paper_value="-", metric="m", per_seed=[1], seeds=[0], result=r, why="w",
                 P=Pr("cpu"))


def test_concurrent_writers_lose_nothing(tmp_repo, capsys):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_repo), k)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    items = json.loads((tmp_repo / "reports" / "claims" / "demo.json").read_text())
    assert len(items) == 40
