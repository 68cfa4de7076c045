"""Claims: what a notebook measured against what the paper says, with a verdict computed by a rule.

A verdict is evidence about the paper only when the experiment could have seen the effect, so every
rule here returns a *result* (a plain dict, JSON-ready) that carries, beside the verdict:

- an **interval**: the mean paired difference (or the value) with a confidence interval, a
  t-interval over seeds (:func:`paired`, :func:`threshold`) or a bootstrap over seeds *and* test
  examples where test sets are small (:func:`paired_bootstrap`, :func:`bootstrap_mean`);
- a **minimum meaningful effect** with the sentence that justifies it, and the smallest effect this
  run could have detected (the interval's half-width, about 2 standard errors with many seeds);
- an **instrument check** (:func:`instrument`): a positive control showing that the experiment sees
  the mechanism when it is present. If it failed, the verdict is "not testable here".

Verdicts (nothing else, and never typed by hand):

=====================  ======================================================================
held                   the interval lies beyond the minimum effect in the claimed direction
not held               the interval excludes the claimed effect (the data speak against it)
inconclusive           the interval spans both: more seeds / test examples would decide
not testable here      an instrument check failed; the record says which and by how much
not run                the experiment was not run (the record says why)
=====================  ======================================================================

A compound claim names its primary rule, which alone sets the verdict (:func:`compound`); the other
rules are reported as a tally ("1/3 secondary held") and never upgrade it. Checks of our own algebra
against an independent computation are *verified derivations* (:func:`derivation`), recorded apart
from the paper's claims.

``record(...)`` writes ``reports/claims/<module>.json`` in the cpu profile (the committed numbers),
``reports/claims-gpu/`` in the gpu profile (not committed), and nothing in the smoke profile.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from paperlab.core.io import atomic_write_text, locked
from paperlab.core.paths import reports_dir
from paperlab.core.profiles import Profile, profile

VERDICTS = ("held", "not held", "inconclusive", "not testable here", "not run")
DERIVATION_VERDICTS = ("verified", "not verified")
KINDS = ("paired", "paired-bootstrap", "threshold", "derivation", "not run")
LEVEL = 0.95
N_BOOT = 4000


# ---------------------------------------------------------------- input checks
def _arr(x, name: str = "values") -> np.ndarray:
    try:
        a = np.asarray(x if isinstance(x, np.ndarray) else list(x), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers, got {x!r}") from exc
    if a.size == 0:
        raise ValueError(f"{name} is empty: a rule needs at least one measured value")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity: {a.tolist()}")
    return a


def _check_min_effect(min_effect, why_min: str) -> float:
    if min_effect is None or not np.isfinite(float(min_effect)):
        raise ValueError(f"min_effect must be a finite number, got {min_effect!r}")
    if not why_min or not str(why_min).strip():
        raise ValueError("state why this minimum effect is meaningful (why_min=...), e.g. from the paper's own effect")
    return float(min_effect)


def _check_level(level: float) -> float:
    if not 0.5 < level < 1:
        raise ValueError(f"level must lie in (0.5, 1), got {level}")
    return float(level)


# ---------------------------------------------------------------- instrument checks
def instrument(check: str, value: float, *, low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """A positive control: ``check`` measured ``value`` and passes when it lies in [low, high].

    Example: ``instrument("oracle rationales reach the answer (test accuracy)", 0.99, low=0.9)``.
    """
    if not check or not str(check).strip():
        raise ValueError("an instrument check needs a description of what it measures")
    if low is None and high is None:
        raise ValueError(f"instrument {check!r} needs a threshold (low= and/or high=)")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"instrument {check!r} measured a non-finite value {value!r}")
    lo = -math.inf if low is None else float(low)
    hi = math.inf if high is None else float(high)
    if low is not None and high is not None:
        thr = f"in [{lo:g}, {hi:g}]"
    elif low is not None:
        thr = f">= {lo:g}"
    else:
        thr = f"<= {hi:g}"
    return {"check": str(check), "value": v, "threshold": thr, "passed": bool(lo <= v <= hi)}


def _instruments(inst) -> list[dict[str, Any]]:
    if inst is None:
        return []
    items = [inst] if isinstance(inst, dict) else list(inst)
    for i in items:
        if not isinstance(i, dict) or not {"check", "value", "threshold", "passed"} <= set(i):
            raise ValueError(f"an instrument check must come from claims.instrument(...), got {i!r}")
    return items


def _gate(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The instrument shown beside the claim: the first failed one, else the first one."""
    failed = [i for i in items if not i["passed"]]
    return failed[0] if failed else (items[0] if items else None)


def _not_testable_text(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{i['check']} = {i['value']:.4g} (needs {i['threshold']})" for i in items if not i["passed"])


# ---------------------------------------------------------------- intervals
def t_interval(values, level: float = LEVEL) -> tuple[float, float, float, float]:
    """(mean, low, high, standard error) of a t-interval over seeds; needs >= 2 values."""
    from scipy import stats

    v = _arr(values)
    if v.size < 2:
        raise ValueError(f"a t-interval needs at least 2 seeds, got {v.size}")
    m = float(v.mean())
    se = float(v.std(ddof=1) / math.sqrt(v.size))
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1)) * se
    return m, m - half, m + half, se


def _as_matrix(x, name: str) -> np.ndarray:
    a = _arr(np.asarray(x, dtype=float).ravel(), name).reshape(np.shape(x))
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{name} must be (seeds, examples) per-example scores, got shape {a.shape}")
    return a


def bootstrap_mean(scores, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float, float]:
    """(mean, low, high, standard error) of the mean of per-example ``scores`` of shape (seeds, examples).

    Hierarchical percentile bootstrap: resample seeds, then test examples within each seed, so both
    training noise and test-set noise widen the interval (a single seed gives a test-set-only interval).
    """
    s = _as_matrix(scores, "scores")
    rng = np.random.default_rng(seed)
    n, m = s.shape
    boots = np.empty(n_boot)
    chunk = max(1, 2_000_000 // (n * m))  # bounded memory for large test sets
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        si = rng.integers(0, n, size=(k, n)) if n > 1 else np.zeros((k, 1), dtype=int)
        ei = rng.integers(0, m, size=(k, n, m))
        boots[start:start + k] = s[si[:, :, None], ei].mean(axis=(1, 2))
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    return float(s.mean()), float(lo), float(hi), float(boots.std(ddof=1))


# ---------------------------------------------------------------- rules
def _decide_direction(lo: float, hi: float, min_effect: float) -> str:
    if lo > min_effect:
        return "held"
    if hi < min_effect:
        return "not held"
    return "inconclusive"


def _result(kind: str, verdict: str, rule: str, **fields) -> dict[str, Any]:
    return {"kind": kind, "verdict": verdict, "rule": rule, **fields}


def _finish(res: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    res["instrument"] = _gate(items)
    res["instruments"] = items
    if items and not all(i["passed"] for i in items):
        res["verdict"] = "not testable here"
        res["rule"] += f" Not testable here: the instrument check failed ({_not_testable_text(items)})."
    return res


def paired(a, b, *, min_effect: float, why_min: str, instrument, higher_is_better: bool = True,
           names: tuple[str, str] = ("A", "B"), level: float = LEVEL) -> dict[str, Any]:
    """Paired comparison over seeds: does A beat B by more than ``min_effect``?

    ``d = A - B`` (or ``B - A`` when lower is better) per seed; t-interval of its mean.
    held if the interval's low end exceeds ``min_effect``; not held if its high end is below it;
    inconclusive otherwise; not testable here if ``instrument`` (one check or a list) failed.
    ``instrument`` is required: pass the positive control that shows this comparison can see the effect.
    """
    a, b = _arr(a, f"{names[0]} per seed"), _arr(b, f"{names[1]} per seed")
    if a.shape != b.shape:
        raise ValueError(f"a paired rule needs equal-length runs, got {a.size} values for {names[0]} and {b.size} for {names[1]}")
    if a.size < 2:
        raise ValueError(f"a paired rule needs at least 2 seeds, got {a.size}; use paired_bootstrap for one seed")
    items = _instruments(instrument)
    if not items:
        raise ValueError("a comparison needs an instrument check (claims.instrument(...)): the positive control "
                         "that shows the experiment can see the effect")
    min_effect, level = _check_min_effect(min_effect, why_min), _check_level(level)
    d = (a - b) if higher_is_better else (b - a)
    m, lo, hi, se = t_interval(d, level)
    word = "higher" if higher_is_better else "lower"
    rule = (f"paired over {d.size} seeds, {names[0]} vs {names[1]} ({word} is better): {level:.0%} t-interval of the "
            f"mean improvement; held if it lies above {min_effect:g}, not held if below, else inconclusive.")
    res = _result("paired", _decide_direction(lo, hi, min_effect), rule, estimate=m, interval=[lo, hi],
                  interval_method=f"t-interval over {d.size} seeds", level=level, se=se, detectable=hi - m,
                  min_effect=min_effect, min_effect_why=str(why_min), differences=[float(x) for x in d],
                  n=int(d.size))
    return _finish(res, items)


def paired_bootstrap(a, b, *, min_effect: float, why_min: str, instrument, higher_is_better: bool = True,
                     names: tuple[str, str] = ("A", "B"), level: float = LEVEL, n_boot: int = N_BOOT) -> dict[str, Any]:
    """Paired comparison on per-example scores of shape (seeds, examples), e.g. 0/1 correctness.

    The same examples must be scored for A and B (pairing). A hierarchical bootstrap over seeds and
    examples gives the interval of the mean improvement; the verdict follows :func:`paired`. Use it
    where test sets are small or a method has no training seed (zero-shot rows).
    """
    A, B = _as_matrix(a, f"{names[0]} scores"), _as_matrix(b, f"{names[1]} scores")
    if A.shape != B.shape:
        raise ValueError(f"paired_bootstrap needs the same (seeds, examples) for both, got {A.shape} and {B.shape}")
    items = _instruments(instrument)
    if not items:
        raise ValueError("a comparison needs an instrument check (claims.instrument(...))")
    min_effect, level = _check_min_effect(min_effect, why_min), _check_level(level)
    d = (A - B) if higher_is_better else (B - A)
    m, lo, hi, se = bootstrap_mean(d, level, n_boot)
    word = "higher" if higher_is_better else "lower"
    rule = (f"paired over {d.shape[0]} seeds x {d.shape[1]} test examples, {names[0]} vs {names[1]} ({word} is better): "
            f"{level:.0%} bootstrap interval of the mean improvement; held if it lies above {min_effect:g}, "
            "not held if below, else inconclusive.")
    res = _result("paired-bootstrap", _decide_direction(lo, hi, min_effect), rule, estimate=m, interval=[lo, hi],
                  interval_method=f"hierarchical bootstrap ({n_boot} draws) over {d.shape[0]} seeds and {d.shape[1]} examples",
                  level=level, se=se, detectable=max(hi - m, m - lo), min_effect=min_effect, min_effect_why=str(why_min),
                  differences=[float(x) for x in d.mean(axis=1)], n=int(d.shape[0]))
    return _finish(res, items)


def threshold(values, *, low: float | None = None, high: float | None = None, why_min: str, instrument=None,
              interval: Sequence[float] | None = None, exact: bool = False, level: float = LEVEL) -> dict[str, Any]:
    """A value claimed to lie in [low, high] (e.g. "ASR <= 0.05", "AUROC >= 0.95").

    held if every seed and the whole interval lie inside the range; not held if the interval lies
    wholly outside it; inconclusive otherwise. The interval is the t-interval over seeds, or
    ``interval=(lo, hi)`` from a bootstrap (one checkpoint, many test examples), or the value itself
    when ``exact=True`` (a deterministic quantity such as an algebraic count).
    """
    v = _arr(values)
    if low is None and high is None:
        raise ValueError("threshold needs low= and/or high=")
    lo_b = -math.inf if low is None else float(low)
    hi_b = math.inf if high is None else float(high)
    if lo_b > hi_b:
        raise ValueError(f"empty range: low {low} > high {high}")
    level = _check_level(level)
    bound = lo_b if low is not None else hi_b
    _check_min_effect(bound, why_min)
    m = float(v.mean())
    if interval is not None:
        lo, hi = (float(x) for x in interval)
        if not (lo <= hi) or not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"interval must be (low, high) with low <= high, got {interval!r}")
        method, se = "given (bootstrap)", (hi - lo) / 4
    elif exact:
        lo = hi = m
        method, se = "exact (deterministic quantity)", 0.0
    elif v.size >= 2:
        m, lo, hi, se = t_interval(v, level)
        method = f"t-interval over {v.size} seeds"
    else:
        raise ValueError("one value has no interval: pass interval=(low, high) (e.g. from claims.bootstrap_mean) "
                         "or exact=True for a deterministic quantity")
    rng = f"[{lo_b:g}, {hi_b:g}]"
    if np.all((v >= lo_b) & (v <= hi_b)) and lo >= lo_b and hi <= hi_b:
        verdict = "held"
    elif hi < lo_b or lo > hi_b:
        verdict = "not held"
    else:
        verdict = "inconclusive"
    rule = (f"value claimed in {rng}: held if every seed and the {method} lie inside, not held if the interval lies "
            "outside, else inconclusive.")
    res = _result("threshold", verdict, rule, estimate=m, interval=[lo, hi], interval_method=method, level=level,
                  se=se, detectable=(hi - lo) / 2, min_effect=bound, min_effect_why=str(why_min), range=[low, high],
                  n=int(v.size))
    return _finish(res, _instruments(instrument))


def compound(primary: dict[str, Any], *secondary: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """The primary rule alone sets the verdict; the secondary ones are tallied and never upgrade it."""
    for r in (primary, *secondary):
        if not isinstance(r, dict) or r.get("verdict") not in VERDICTS:
            raise ValueError(f"compound() takes results of claims rules, got {r!r}")
    if names is not None and len(names) != len(secondary):
        raise ValueError(f"{len(names)} names for {len(secondary)} secondary rules")
    names = list(names) if names is not None else [f"secondary {i + 1}" for i in range(len(secondary))]
    out = dict(primary)
    out["secondary"] = [{"name": n, "verdict": r["verdict"], "estimate": r.get("estimate"), "interval": r.get("interval"),
                         "rule": r["rule"]} for n, r in zip(names, secondary)]
    held = sum(r["verdict"] == "held" for r in secondary)
    out["secondary_tally"] = f"{held}/{len(secondary)} secondary held"
    out["rule"] = f"primary: {primary['rule']} Secondary (reported, never upgrade the verdict): " + \
        "; ".join(f"{n}: {r['verdict']}" for n, r in zip(names, secondary)) + "."
    return out


def derivation(errors, *, tolerance: float, check: str) -> dict[str, Any]:
    """A verified derivation: our algebra agrees with an independent computation within ``tolerance``.

    ``errors`` are the absolute disagreements (one per test point). Recorded apart from the paper's claims.
    """
    e = np.abs(_arr(errors, "errors"))
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance}")
    if not check:
        raise ValueError("derivation() needs the independent computation it was checked against (check=...)")
    ok = bool(np.all(e <= tolerance))
    rule = f"verified derivation: max |difference| over {e.size} points <= {tolerance:g} against {check}."
    return _result("derivation", "verified" if ok else "not verified", rule, estimate=float(e.max()),
                   interval=[float(e.min()), float(e.max())], interval_method="range over test points",
                   min_effect=float(tolerance), min_effect_why="numerical tolerance of the independent computation",
                   n=int(e.size), instrument=None, instruments=[])


def not_run(reason: str) -> dict[str, Any]:
    """The experiment was not run; ``reason`` says why (and what it would need)."""
    if not reason:
        raise ValueError("not_run() needs a reason")
    return _result("not run", "not run", f"not run: {reason}", estimate=None, interval=None, min_effect=None,
                   min_effect_why=str(reason), instrument=None, instruments=[], n=0)


# ---------------------------------------------------------------- recording
def summarize(per_seed) -> dict[str, Any]:
    v = _arr(per_seed)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "per_seed": [float(x) for x in v]}


def claims_path(module: str, P: Profile) -> Path | None:
    if P.name == "cpu":
        return reports_dir() / "claims" / f"{module}.json"
    if P.name == "gpu":
        return reports_dir() / "claims-gpu" / f"{module}.json"
    return None


def _validate_result(result: dict[str, Any]) -> None:
    if not isinstance(result, dict) or "verdict" not in result or "kind" not in result:
        raise ValueError(f"record(result=...) takes the result of a claims rule, got {result!r}")
    allowed = DERIVATION_VERDICTS if result["kind"] == "derivation" else VERDICTS
    if result["verdict"] not in allowed:
        raise ValueError(f"verdict must be one of {allowed}, got {result['verdict']!r}")


def format_interval(obj: dict[str, Any], digits: int = 3) -> str:
    """'+0.013 [-0.004, +0.030]' for a recorded claim or a rule's result."""
    if obj.get("interval") is None or obj.get("estimate") is None:
        return "—"
    lo, hi = obj["interval"]
    sign = "+" if obj["kind"] in ("paired", "paired-bootstrap") else ""
    f = f"{sign}.{digits}g"
    return f"{obj['estimate']:{f}} [{lo:{f}}, {hi:{f}}]"


def record(module: str, claim: str, *, paper_value: str, metric: str, per_seed, seeds, result: dict[str, Any],
           why: str, P: Profile | None = None) -> dict[str, Any]:
    """Record one measured claim (upserted by its ``claim`` text). Returns the stored object.

    ``per_seed`` are the values of ``metric`` (the method's own numbers, shown beside the verdict);
    ``result`` is what a rule of this module returned (verdict, interval, minimum effect, instrument).
    """
    P = P or profile()
    _validate_result(result)
    if not why or not str(why).strip():
        raise ValueError("record() needs a sentence of why")
    seeds = [int(s) for s in seeds]
    per_seed = list(per_seed)
    if result["verdict"] != "not run" and len(per_seed) != len(seeds):
        raise ValueError(f"{len(per_seed)} per-seed values for {len(seeds)} seeds")
    ours = {"metric": metric, **(summarize(per_seed) if per_seed else {"mean": None, "std": None, "per_seed": []})}
    obj = {"claim": claim, "paper_value": str(paper_value), "ours": ours, "seeds": seeds, "n_seeds": len(seeds),
           **result, "why": why, "profile": P.name}
    path = claims_path(module, P)
    inst = obj.get("instrument")
    shown = f" (effect {format_interval(obj)}; min {obj['min_effect']:g})" if obj.get("interval") is not None else ""
    inst_s = f"; instrument {'passed' if inst['passed'] else 'FAILED'}: {inst['check']} = {inst['value']:.4g}" if inst else ""
    tally = f"; {obj['secondary_tally']}" if obj.get("secondary_tally") else ""
    print(f"[{obj['verdict']}] {claim}{shown}{inst_s}{tally}" + ("" if path else "  (smoke profile: not recorded)"))
    from paperlab.core.distributed import is_main_process

    if path is not None and is_main_process():  # under torchrun only rank 0 writes
        with locked(path):
            items = load_file(path)
            items = [c for c in items if c.get("claim") != claim] + [obj]
            atomic_write_text(path, json.dumps(items, indent=2) + "\n")
    return obj


def load_file(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); restore it with `git checkout -- {path}` "
                         "or re-run its notebook with `make reproduce NB=...`") from exc


def load(module: str, P: Profile | None = None) -> list[dict[str, Any]]:
    path = claims_path(module, P or Profile("cpu"))
    if path is None:
        return []
    return load_file(path)
