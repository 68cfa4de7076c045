"""A numeric brute-force solver for the fine-tuning game, independent of the sympy code.

Every stage is ``max`` over a coarse grid followed by scipy's bounded Brent refinement around the best
grid point, so it needs no derivative, no concavity and no closed form. It is slow-ish (nested
optimisation) and exists to check the symbolic results, and to explore families with no closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

ENTRY_TOL = 1e-12  # a specialist indifferent between entering and staying out enters


def check_share(delta) -> float:
    """A revenue share must lie in [0, 1]."""
    d = float(delta)
    if not np.isfinite(d) or d < 0 or d > 1:
        raise ValueError(f"the revenue share delta must lie in [0, 1], got {delta!r}")
    return d


def check_costs(**costs) -> None:
    """Cost coefficients must be positive finite numbers (arrays allowed)."""
    for name, v in costs.items():
        a = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"cost coefficient {name} must be > 0, got {v!r}")


def argmax_1d(f: Callable[[float], float], lo: float, hi: float, n_grid: int = 41, xatol: float = 1e-11):
    """max_{lo <= x <= hi} f(x): grid search, then bounded Brent between the best point's neighbours."""
    xs = np.linspace(lo, hi, n_grid)
    vals = np.array([f(x) for x in xs])
    k = int(np.argmax(vals))
    a, b = xs[max(k - 1, 0)], xs[min(k + 1, n_grid - 1)]
    res = minimize_scalar(lambda x: -f(x), bounds=(a, b), method="bounded", options={"xatol": xatol})
    if -res.fun < vals[k]:
        return float(xs[k]), float(vals[k])
    x = float(res.x)
    # Brent on values stops at ~sqrt(machine eps); polish with a root of the central difference
    h, s = 1e-6 * (hi - lo), 1e-5 * (hi - lo)
    slope = lambda z: f(z + h) - f(z - h)  # noqa: E731
    if lo < x - s - h and x + s + h < hi and slope(x - s) > 0 > slope(x + s):
        x = brentq(slope, x - s, x + s, xtol=1e-15)
    return x, float(f(x))


@dataclass(frozen=True)
class Outcome:
    alpha0: float
    alpha1: float
    U_G: float
    U_D: float
    entered: bool


def specialist_bruteforce(alpha0, delta, revenue, phi1, d_max):
    """D's best reply to alpha_0: best alpha_1 = alpha_0 + d on [0, d_max], then enter iff U_D >= 0."""
    d, u = argmax_1d(lambda d: (1 - delta) * revenue(alpha0 + d) - phi1(alpha0 + d, alpha0), 0.0, d_max)
    return alpha0 + d, u, u >= -ENTRY_TOL


def spe_bruteforce(delta, revenue, phi0, phi1, a0_max: float, d_max: float) -> Outcome:
    """SPE for one share by nested numeric maximisation (G's alpha_0 on [0, a0_max], D's step on [0, d_max]).

    ``revenue(a1)``, ``phi0(a0)``, ``phi1(a1, a0)`` are plain Python callables on floats.
    """
    delta = check_share(delta)
    if a0_max <= 0 or d_max <= 0:
        raise ValueError(f"search bounds must be positive, got a0_max={a0_max}, d_max={d_max}")

    def U_G(a0):
        a1, _, entered = specialist_bruteforce(a0, delta, revenue, phi1, d_max)
        return delta * revenue(a1) * entered - phi0(a0)

    a0, ug = argmax_1d(U_G, 0.0, a0_max)
    a1, ud, entered = specialist_bruteforce(a0, delta, revenue, phi1, d_max)
    return Outcome(a0, a1, ug, max(ud, 0.0) if entered else 0.0, bool(entered))


def quadratic_callables(c0, c1, k=2.0, p=1.0):
    """r = a1^p, phi0 = c0 a0^k, phi1 = c1 (a1 - a0)^k as float callables, with safe search bounds."""
    check_costs(c0=c0, c1=c1)
    r = (lambda a: a) if p == 1 else (lambda a: max(a, 0.0) ** p)
    phi0 = lambda a0: c0 * a0**k  # noqa: E731
    phi1 = lambda a1, a0: c1 * max(a1 - a0, 0.0) ** k  # noqa: E731
    # marginal revenue <= max(1, p a^(p-1)) and marginal cost k c a^(k-1): actions stay below these
    a0_max = 2.0 * (1.0 / (k * c0)) ** (1 / (k - 1)) + 1.0
    d_max = 2.0 * (1.0 / (k * c1)) ** (1 / (k - 1)) + 1.0
    return r, phi0, phi1, a0_max, d_max


def frontier_bruteforce(deltas, c0, c1, k=2.0, p=1.0) -> np.ndarray:
    """(len(deltas), 2) array of brute-force equilibrium payoffs (U_G, U_D) along the share grid."""
    r, phi0, phi1, a0m, dm = quadratic_callables(c0, c1, k, p)
    out = [spe_bruteforce(d, r, phi0, phi1, a0m, dm) for d in deltas]
    return np.array([[o.U_G, o.U_D] for o in out])


def payoffs_bruteforce(c0, c1, k=2.0, p=1.0):
    """delta -> (U_G, U_D, alpha_1) from the nested brute-force SPE (vectorised over a delta array)."""
    r, phi0, phi1, a0m, dm = quadratic_callables(c0, c1, k, p)

    def payoffs(deltas):
        out = [spe_bruteforce(d, r, phi0, phi1, a0m, dm) for d in np.atleast_1d(deltas)]
        return tuple(np.array([getattr(o, f) for o in out]) for f in ("U_G", "U_D", "alpha1"))

    return payoffs


def _grid_argmax(f, xs, vals, xatol):
    """Refine the best grid point of ``vals = f(xs)`` by bounded Brent between its neighbours."""
    k = int(np.argmax(vals))
    a, b = xs[max(k - 1, 0)], xs[min(k + 1, len(xs) - 1)]
    res = minimize_scalar(lambda x: -float(f(np.array([x]))[0]), bounds=(a, b), method="bounded",
                          options={"xatol": xatol})
    return float(res.x) if -res.fun >= vals[k] else float(xs[k])


def bargaining_bruteforce(payoffs, n_grid: int = 20_001, xatol: float = 1e-12) -> dict:
    """Bargaining shares by search over delta in [0, 1], given ``payoffs(deltas) -> (U_G, U_D, alpha_1)``.

    No first-order conditions: ideal points, utilitarian, Nash and max-alpha_1 maximise their objective
    on a grid then by Brent; egalitarian / Kalai-Smorodinsky maximise min(U_G, U_D) (resp. of the
    payoffs normalised by each player's maximum) and are polished by brentq on the crossing.
    """
    xs = np.linspace(0.0, 1.0, n_grid)
    UG, UD, A1 = payoffs(xs)
    comp = {"G": lambda d: payoffs(d)[0], "D": lambda d: payoffs(d)[1]}
    dG = _grid_argmax(comp["G"], xs, UG, xatol)
    dD = _grid_argmax(comp["D"], xs, UD, xatol)
    ugm, udm = float(payoffs(np.array([dG]))[0][0]), float(payoffs(np.array([dD]))[1][0])
    out = {"ideal_G": dG, "ideal_D": dD}
    out["utilitarian"] = _grid_argmax(lambda d: sum(payoffs(d)[:2]), xs, UG + UD, xatol)
    out["nash"] = _grid_argmax(lambda d: np.prod(payoffs(d)[:2], axis=0), xs, UG * UD, xatol)
    out["max_alpha1"] = _grid_argmax(lambda d: payoffs(d)[2], xs, A1, xatol)
    for name, (sg, sd) in {"egalitarian": (1.0, 1.0), "kalai_smorodinsky": (ugm, udm)}.items():
        def gap(d, sg=sg, sd=sd):
            return float(payoffs(np.array([d]))[0][0] / sg - payoffs(np.array([d]))[1][0] / sd)
        k = int(np.argmax(np.minimum(UG / sg, UD / sd)))
        a, b = xs[max(k - 1, 0)], xs[min(k + 1, n_grid - 1)]
        out[name] = brentq(gap, a, b, xtol=xatol) if gap(a) * gap(b) < 0 else float(xs[k])
    return out


def pareto_mask(U: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Rows of U (m, n_players) not dominated by another row (>= everywhere, > somewhere, up to tol)."""
    U = np.asarray(U, dtype=float)
    if U.ndim != 2:
        raise ValueError(f"pareto_mask needs a (m, n_players) array, got shape {U.shape}")
    keep = np.ones(len(U), dtype=bool)
    for i in range(len(U)):
        ge = np.all(U >= U[i] - tol, axis=1)
        gt = np.any(U > U[i] + tol, axis=1)
        keep[i] = not np.any(ge & gt)
    return keep


def runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """Maximal runs of True in a 1-D mask as (first, last) index pairs, keeping those >= min_len long."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    starts, ends = np.flatnonzero(~m[:-1] & m[1:]), np.flatnonzero(m[:-1] & ~m[1:]) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends) if e - s + 1 >= min_len]
