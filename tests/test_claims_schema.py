"""Every committed claim carries the evidence its verdict rests on (reports/claims/*.json)."""

import json
import math

import pytest
from paperlab.core import claims
from paperlab.core.paths import reports_dir

FILES = sorted((reports_dir() / "claims").glob("*.json"))
ALL = [(f.stem, c) for f in FILES for c in json.loads(f.read_text())]


def _id(x):
    return f"{x[0]}: {x[1].get('claim', '?')[:50]}"


def test_there_are_claims():
    assert len(FILES) >= 12 and len(ALL) >= 12


@pytest.mark.parametrize("item", ALL, ids=[_id(x) for x in ALL])
def test_claim_schema(item):
    module, c = item
    for key in ("claim", "paper_value", "ours", "seeds", "verdict", "rule", "why", "kind", "min_effect_why"):
        assert key in c and c[key] not in (None, ""), f"{module}: missing {key!r} in {c.get('claim')!r}"
    assert c["kind"] in claims.KINDS
    allowed = claims.DERIVATION_VERDICTS if c["kind"] == "derivation" else claims.VERDICTS
    assert c["verdict"] in allowed, f"{module}: verdict {c['verdict']!r}"
    if c["verdict"] == "not run":
        return
    lo, hi = c["interval"]
    assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi
    assert lo - 1e-12 <= c["estimate"] <= hi + 1e-12 or c["kind"] in ("threshold", "derivation")
    assert math.isfinite(c["min_effect"])
    assert len(c["ours"]["per_seed"]) == len(c["seeds"])
    if c["kind"] in ("paired", "paired-bootstrap"):
        inst = c["instrument"]
        assert inst and {"check", "value", "threshold", "passed"} <= set(inst), f"{module}: comparison without instrument"
    # the verdict follows from the recorded evidence (no hand-typed verdicts)
    insts = c.get("instruments") or ([c["instrument"]] if c.get("instrument") else [])
    if any(not i["passed"] for i in insts):
        assert c["verdict"] == "not testable here"
    elif c["kind"] in ("paired", "paired-bootstrap"):
        expect = "held" if lo > c["min_effect"] else "not held" if hi < c["min_effect"] else "inconclusive"
        assert c["verdict"] == expect
    if "secondary" in c:
        assert c["secondary_tally"].endswith("secondary held")
