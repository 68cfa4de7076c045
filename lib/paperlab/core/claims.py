"""Claims: what a notebook measured against what the paper says, with a computed verdict.

``record(...)`` writes ``reports/claims/<module>.json`` in the cpu profile (the committed numbers),
``reports/claims-gpu/`` in the gpu profile (not committed), and nothing in the smoke profile.
Verdicts come from rule functions here, each returning ``(verdict, rule_text)``; the notebook
calls a rule on its measured numbers and passes both on. Nothing is typed by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from paperlab.core.paths import reports_dir
from paperlab.core.profiles import Profile, profile

VERDICTS = ("held", "partly", "not held", "not run")


def _arr(x) -> np.ndarray:
    a = np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=float)
    if a.size == 0:
        raise ValueError("a rule needs at least one measured value")
    return a


def rule_better(a, b, higher_is_better: bool = True, min_gap: float = 0.0) -> tuple[str, str]:
    """Paired comparison over seeds of method A against B.

    held: A beats B by more than ``min_gap`` on every seed; partly: on the mean but not every seed;
    not held: otherwise.
    """
    a, b = _arr(a), _arr(b)
    if a.shape != b.shape:
        raise ValueError(f"paired rule needs equal-length runs, got {a.shape} and {b.shape}")
    d = (a - b) if higher_is_better else (b - a)
    word = "higher" if higher_is_better else "lower"
    text = f"paired over seeds: held if A is {word} than B by > {min_gap:g} on every seed; partly if only on the mean"
    if np.all(d > min_gap):
        return "held", text
    if d.mean() > min_gap:
        return "partly", text
    return "not held", text


def rule_threshold(values, low: float | None = None, high: float | None = None) -> tuple[str, str]:
    """held: every seed within [low, high]; partly: the mean is; not held: otherwise."""
    v = _arr(values)
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    text = f"held if every seed lies in [{lo:g}, {hi:g}]; partly if only the mean does"
    if np.all((v >= lo) & (v <= hi)):
        return "held", text
    if lo <= v.mean() <= hi:
        return "partly", text
    return "not held", text


def rule_all(*verdicts: tuple[str, str]) -> tuple[str, str]:
    """Combine sub-rules: held if all held, not held if none held or partly, else partly."""
    names = [v for v, _ in verdicts]
    text = "all of: " + "; ".join(t for _, t in verdicts)
    if all(v == "held" for v in names):
        return "held", text
    if all(v in ("not held", "not run") for v in names):
        return "not held", text
    return "partly", text


def summarize(per_seed) -> dict[str, Any]:
    v = _arr(per_seed)
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "per_seed": [float(x) for x in v],
    }


def claims_path(module: str, P: Profile) -> Path | None:
    if P.name == "cpu":
        return reports_dir() / "claims" / f"{module}.json"
    if P.name == "gpu":
        return reports_dir() / "claims-gpu" / f"{module}.json"
    return None


def record(module: str, claim: str, *, paper_value: str, metric: str, per_seed, seeds, verdict: str,
           rule: str, why: str, P: Profile | None = None) -> dict[str, Any]:
    """Record one measured claim (upserted by its ``claim`` text). Returns the stored object."""
    P = P or profile()
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if not rule or not why:
        raise ValueError("record() needs the rule that computed the verdict and a sentence of why")
    seeds = [int(s) for s in seeds]
    per_seed = list(per_seed)
    if verdict != "not run" and len(per_seed) != len(seeds):
        raise ValueError(f"{len(per_seed)} per-seed values for {len(seeds)} seeds")
    ours = {"metric": metric, **(summarize(per_seed) if per_seed else {"mean": None, "std": None, "per_seed": []})}
    obj = {"claim": claim, "paper_value": str(paper_value), "ours": ours, "seeds": seeds, "verdict": verdict,
           "rule": rule, "why": why, "profile": P.name}
    path = claims_path(module, P)
    shown = "" if ours["mean"] is None else f" ({metric} {ours['mean']:.4g} ± {ours['std']:.2g})"
    print(f"[{verdict}] {claim}{shown}" + ("" if path else "  (smoke profile: not recorded)"))
    from paperlab.core.distributed import is_main_process

    if path is not None and is_main_process():  # under torchrun only rank 0 writes
        path.parent.mkdir(parents=True, exist_ok=True)
        items = json.loads(path.read_text()) if path.exists() else []
        items = [c for c in items if c.get("claim") != claim] + [obj]
        path.write_text(json.dumps(items, indent=2) + "\n")
    return obj


def load(module: str, P: Profile | None = None) -> list[dict[str, Any]]:
    path = claims_path(module, P or Profile("cpu"))
    if path is None or not path.exists():
        return []
    return json.loads(path.read_text())
