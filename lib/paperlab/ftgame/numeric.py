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


# ---------------------------------------------------------------- a fast nested-grid solver (any k, p)
def _zoom_argmax(f, lo, hi, n: int, passes: int = 3):
    """Row-wise argmax of ``f(x)`` for x in [lo, hi] (arrays of shape (m,)): a grid, then zoomed grids.

    Each pass re-grids [best - step, best + step] with ``n`` points, so the resolution after ``passes``
    is about (hi - lo) / (n - 1) * (2 / (n - 1)) ** (passes - 1). No derivative and no closed form.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    t = np.linspace(0.0, 1.0, n)[None, :]
    x = lo[:, None] + (hi - lo)[:, None] * t
    rows = np.arange(len(lo))
    for it in range(passes):
        v = f(x)
        j = np.argmax(v, axis=1)
        best, val = x[rows, j], v[rows, j]
        if it + 1 < passes:
            h = x[:, 1] - x[:, 0]
            a = np.maximum(best - h, lo)
            b = np.minimum(best + h, hi)
            x = a[:, None] + (b - a)[:, None] * t
    return best, val


def spe_grid(deltas, c0, c1, k=2.0, p=1.0, n: int = 81, passes: int = 3) -> dict:
    """SPE for every share in ``deltas`` by nested zoomed grids (vectorised; independent of the sympy code).

    r = alpha_1^p, phi_0 = c0 alpha_0^k, phi_1 = c1 (alpha_1 - alpha_0)^k. D's step d = alpha_1 - alpha_0 is
    maximised on a grid for every candidate alpha_0 of G, D enters iff its best utility is >= 0, and G's
    alpha_0 is maximised on a grid given D's replies. Returns arrays alpha0, alpha1, U_G, U_D (len(deltas),).
    """
    deltas = np.atleast_1d(np.asarray(deltas, dtype=float))
    for d in deltas:
        check_share(d)
    _, _, _, a0_max, d_max = quadratic_callables(c0, c1, k, p)  # checks the costs, gives safe bounds
    rows = [spe_grid_one(float(d), c0, c1, k, p, a0_max, d_max, n, passes) for d in deltas]
    return {key: np.array([r[j] for r in rows]) for j, key in enumerate(("alpha0", "alpha1", "U_G", "U_D"))}


def spe_grid_one(delta, c0, c1, k, p, a0_max, d_max, n, passes):
    """(alpha0, alpha1, U_G, U_D) at one share: backward induction with grids only."""
    def reply(a0):  # stage 2, for a vector of alpha_0: D's best step d and utility U_D
        U_D = lambda d: (1 - delta) * (a0[:, None] + d) ** p - c1 * d**k  # noqa: E731
        return _zoom_argmax(U_D, np.zeros_like(a0), np.full_like(a0, d_max), n, passes)

    def U_G(a0s):  # stage 1: G's utility on a (1, n) grid of alpha_0, D replying to each
        a0 = a0s[0]
        step, u = reply(a0)
        return (delta * (a0 + step) ** p * (u >= -ENTRY_TOL) - c0 * a0**k)[None, :]

    a0, ug = _zoom_argmax(U_G, np.zeros(1), np.full(1, a0_max), n, passes)
    step, ud = reply(a0)
    entered = bool(ud[0] >= -ENTRY_TOL)
    return a0[0], a0[0] + step[0] * entered, ug[0], max(ud[0], 0.0) * entered


def shares_grid(c0, c1, k=2.0, p=1.0, n_delta: int = 201, n: int = 81) -> dict:
    """Nash, egalitarian, utilitarian and max-alpha_1 shares from ``spe_grid`` payoffs (no closed form).

    Each criterion is maximised on a share grid of ``n_delta`` points, then on a zoomed grid of 41 points
    around the best one (resolution ~1e-4). Also returns the grid payoffs (for Pareto checks) under "grid".
    """
    xs = np.linspace(0.0, 1.0, n_delta)
    g = spe_grid(xs, c0, c1, k, p, n)
    crit = {"nash": lambda s: s["U_G"] * s["U_D"], "egalitarian": lambda s: np.minimum(s["U_G"], s["U_D"]),
            "utilitarian": lambda s: s["U_G"] + s["U_D"], "max_alpha1": lambda s: s["alpha1"]}
    out = {"grid": {"delta": xs, **g}}
    h = xs[1] - xs[0]
    for name, f in crit.items():
        j = int(np.argmax(f(g)))
        zs = np.linspace(max(xs[j] - h, 0.0), min(xs[j] + h, 1.0), 41)
        z = spe_grid(zs, c0, c1, k, p, n)
        m = int(np.argmax(f(z)))
        out[name] = float(zs[m])
        out[name + "_payoffs"] = {key: float(v[m]) for key, v in z.items()}
    return out


def dominated_by_grid(point, U_grid, rtol: float = 1e-6) -> bool:
    """Is the payoff vector ``point`` Pareto-dominated by a row of ``U_grid`` beyond a relative tolerance?"""
    U = np.asarray(U_grid, dtype=float)
    pt = np.asarray(point, dtype=float)
    if U.ndim != 2 or U.shape[1] != pt.size:
        raise ValueError(f"U_grid must have shape (m, {pt.size}), got {U.shape}")
    tol = rtol * max(1.0, float(np.abs(U).max()))
    return bool(np.any(np.all(U >= pt - tol, axis=1) & np.any(U > pt + tol, axis=1)))
