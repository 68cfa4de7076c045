import json

import pytest
from paperlab.core import claims
from paperlab.core.profiles import Profile


@pytest.fixture
def tmp_repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    return tmp_path


def test_rule_better():
    assert claims.rule_better([3, 3, 3], [1, 2, 2])[0] == "held"
    assert claims.rule_better([3, 0.5, 3], [1, 2, 2])[0] == "partly"
    assert claims.rule_better([0, 0, 0], [1, 2, 2])[0] == "not held"
    assert claims.rule_better([0.1, 0.2], [0.3, 0.4], higher_is_better=False)[0] == "held"
    with pytest.raises(ValueError, match="equal-length"):
        claims.rule_better([1, 2], [1])


def test_rule_threshold_and_all():
    assert claims.rule_threshold([0.1, 0.2], high=0.3)[0] == "held"
    assert claims.rule_threshold([0.1, 0.5], high=0.35)[0] == "partly"
    assert claims.rule_threshold([0.9], low=0.95)[0] == "not held"
    assert claims.rule_all(("held", "a"), ("held", "b"))[0] == "held"
    assert claims.rule_all(("held", "a"), ("not held", "b"))[0] == "partly"


def test_record_writes_schema_in_cpu_and_upserts(tmp_repo):
    v, rule = claims.rule_better([2, 3, 4], [1, 1, 1])
    kw = dict(paper_value="+1.0", metric="acc gap", per_seed=[1, 2, 3], seeds=[0, 1, 2], verdict=v, rule=rule,
              why="because", P=Profile("cpu"))
    claims.record("demo", "A beats B", **kw)
    claims.record("demo", "A beats B", **kw)
    data = json.loads((tmp_repo / "reports" / "claims" / "demo.json").read_text())
    assert len(data) == 1
    c = data[0]
    assert set(c) >= {"claim", "paper_value", "ours", "seeds", "verdict", "why", "profile"}
    assert c["ours"]["mean"] == 2.0 and c["ours"]["per_seed"] == [1.0, 2.0, 3.0] and c["verdict"] == "held"


def test_smoke_records_nothing(tmp_repo):
    claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], verdict="held", rule="r",
                  why="w", P=Profile("smoke"))
    assert not (tmp_repo / "reports").exists()


def test_bad_verdict_and_missing_rule(tmp_repo):
    with pytest.raises(ValueError, match="verdict"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], verdict="yes", rule="r",
                      why="w", P=Profile("cpu"))
    with pytest.raises(ValueError, match="rule"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1], seeds=[0], verdict="held", rule="",
                      why="w", P=Profile("cpu"))
    with pytest.raises(ValueError, match="seeds"):
        claims.record("demo", "x", paper_value="-", metric="m", per_seed=[1, 2], seeds=[0], verdict="held",
                      rule="r", why="w", P=Profile("cpu"))
