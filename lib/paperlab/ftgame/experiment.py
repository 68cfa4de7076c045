"""The measurements behind the notebook's claims about the paper (and its checks of our own algebra).

Paper claims (tested in models the paper's abstract covers, never through our closed forms):

- ``sharing_sweep``: "profit-sharing can arise even when one firm faces significantly higher costs" --
  Nash and egalitarian bargains over a sweep of cost ratios c1/c0 in [1/10, 10], for a random cost family
  per seed (cost exponent k, revenue exponent p, cost scale), all computed by the nested-grid solver
  :func:`paperlab.ftgame.numeric.spe_grid`.
- ``regime_counts``: contribute / free-ride / abstain with n specialists (OUR cost form, see ``multi``).
- ``pareto_pieces``: the Pareto set of common shares with n specialists can be disconnected.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from paperlab.ftgame.multi import REGIMES, pareto_common_delta, solve_multi
from paperlab.ftgame.numeric import dominated_by_grid, pareto_mask, runs, shares_grid

RATIO_RANGE = (0.1, 10.0)  # "significantly higher costs": a factor 10 either way (our reading; paper's range not read)


def draw_family(seed: int) -> dict:
    """One random cost family per seed: c0 ~ logU[0.3, 3], k ~ U[1.5, 3], p ~ U[0.5, 1]."""
    rng = np.random.default_rng(seed)
    return {"c0": float(np.exp(rng.uniform(np.log(0.3), np.log(3.0)))), "k": float(rng.uniform(1.5, 3.0)),
            "p": float(rng.uniform(0.5, 1.0))}


def sharing_point(c0, c1, k, p, n_delta=101, n=81) -> dict:
    """At one cost pair: the Nash and egalitarian shares, how much each firm keeps, Pareto and investment checks."""
    s = shares_grid(c0, c1, k, p, n_delta=n_delta, n=n)
    g = s["grid"]
    U = np.column_stack([g["U_G"], g["U_D"]])
    row = {"c0": c0, "c1": c1, "ratio": c1 / c0, "k": k, "p": p, "max_alpha1": s["max_alpha1"]}
    for name in ("nash", "egalitarian"):
        d, pay = s[name], s[name + "_payoffs"]
        row[name] = d
        row[name + "_pareto"] = not dominated_by_grid([pay["U_G"], pay["U_D"]], U)
        # both firms invest: G builds alpha_0 > 0 and D adds alpha_1 - alpha_0 > 0 (relative to the monopoly scale)
        row[name + "_invest"] = min(pay["alpha0"], pay["alpha1"] - pay["alpha0"]) / max(pay["alpha1"], 1e-12)
        row[name + "_payoffs"] = (pay["U_G"], pay["U_D"])
    # the smallest revenue share either firm keeps under either bargain: > 0 means genuine profit sharing
    row["kept"] = min(min(row[n_], 1 - row[n_]) for n_ in ("nash", "egalitarian"))
    return row


def sharing_sweep(seed: int, n_ratios: int = 5, n_delta=101, n=81) -> dict:
    """Per seed: a random cost family, swept over log-spaced ratios c1/c0 in [1/10, 10]."""
    fam = draw_family(seed)
    ratios = np.logspace(np.log10(RATIO_RANGE[0]), np.log10(RATIO_RANGE[1]), n_ratios)
    rows = [sharing_point(fam["c0"], fam["c0"] * q, fam["k"], fam["p"], n_delta, n) for q in ratios]
    rho = spearmanr(ratios, [r["nash"] for r in rows])[0] if n_ratios >= 3 else float("nan")
    return {"family": fam, "rows": rows,
            "kept": min(r["kept"] for r in rows),  # primary: min over the sweep
            "pareto": float(np.mean([r["nash_pareto"] and r["egalitarian_pareto"] for r in rows])),
            "invest": min(min(r["nash_invest"], r["egalitarian_invest"]) for r in rows),
            "direction": float(rho)}


def draw_multi(rng, with_delta=True):
    """A random n = 3 game (our ranges): c0 ~ U[0.5, 2], common delta ~ U[0.2, 0.8], and per domain
    rho ~ U[0.5, 3], kappa ~ U[0, 1], b ~ U[0, 1.5], c ~ U[0.5, 2]."""
    c0 = rng.uniform(0.5, 2)
    delta = rng.uniform(0.2, 0.8) if with_delta else None
    rho, kappa, b, c = rng.uniform(0.5, 3, 3), rng.uniform(0, 1, 3), rng.uniform(0, 1.5, 3), rng.uniform(0.5, 2, 3)
    return (c0, delta, rho, kappa, b, c) if with_delta else (c0, rho, kappa, b, c)


def regime_counts(games, zero: str | None = None) -> dict:
    """How often each regime occurs at the SPE of ``games`` (tuples from ``draw_multi``).

    ``zero="kappa"`` or ``"b"`` switches that cost term off (the ablation / instrument)."""
    if zero not in (None, "kappa", "b"):
        raise ValueError(f"zero must be None, 'kappa' or 'b', got {zero!r}")
    counts = dict.fromkeys(REGIMES, 0)
    for c0, delta, rho, kappa, b, c in games:
        kappa = kappa * 0 if zero == "kappa" else kappa
        b = b * 0 if zero == "b" else b
        for r in solve_multi(c0, delta, rho, kappa, b, c).regimes:
            counts[r] += 1
    return counts


def strict_pareto_mask(U: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Weak Pareto optimality: rows that no other row beats for EVERY player (strict dominance only)."""
    U = np.asarray(U, dtype=float)
    return np.array([not np.any(np.all(U > U[i] + tol, axis=1)) for i in range(len(U))])


def pareto_pieces(game, deltas, min_len: int = 3, strict: bool = False) -> list[tuple[int, int]]:
    """Connected pieces (runs of >= min_len grid shares) of the Pareto set of common shares of one game."""
    U = pareto_common_delta(*game, deltas)
    mask = strict_pareto_mask(U) if strict else pareto_mask(U)
    return runs(mask, min_len=min_len)


def regime_map(rho1s, kap1s, delta: float = 0.5) -> np.ndarray:
    """Each domain's regime (index into REGIMES) as domain 1's revenue rate rho_1 and entry cost kappa_1 vary.

    Fixed: c0 = 1, common share ``delta``, rho = (rho_1, 1.5, 0.8), kappa = (kappa_1, 0.3, 0.5), b = (0.4, 0.2, 0.5),
    c = 1. Returns shape (3, len(kap1s), len(rho1s)).
    """
    code_of = {r: i for i, r in enumerate(REGIMES)}
    maps = np.zeros((3, len(kap1s), len(rho1s)))
    for a, k1 in enumerate(kap1s):
        for j, r1 in enumerate(rho1s):
            o = solve_multi(1.0, delta, rho=[r1, 1.5, 0.8], kappa=[k1, 0.3, 0.5], b=[0.4, 0.2, 0.5], c=[1, 1, 1])
            maps[:, a, j] = [code_of[r] for r in o.regimes]
    return maps


def cost_exponent_ablation(ks, deltas, c0: float = 1.0, c1: float = 2.0):
    """The ablation over the cost exponent k (both costs c (.)^k, revenue alpha_1): per k, the SPE in closed form
    (``solve_spe`` on ``power_family(k)``), its payoff frontier over ``deltas`` and the bargaining shares found by a
    search over delta. Returns (rows for a table, {k: (U_G*, U_D*)})."""
    import warnings

    import sympy as sp

    from paperlab.ftgame.numeric import bargaining_bruteforce
    from paperlab.ftgame.symbolic import C0, C1, DELTA, power_family, solve_spe

    rows, frontiers = [], {}
    for k in map(sp.nsimplify, ks):
        s = solve_spe(*power_family(k))
        f = sp.lambdify((DELTA, C0, C1), [s.U_G, s.U_D, s.alpha1])

        def pay(d, f=f):
            return tuple(np.broadcast_to(np.asarray(v, float), np.shape(d)) for v in f(d, c0, c1))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # fractional powers at the corner shares
            sol = bargaining_bruteforce(pay, n_grid=4001)
            frontiers[str(k)] = pay(deltas)[:2]
        rows.append({"k": str(k), "Pareto lo": min(sol["ideal_D"], sol["ideal_G"]),
                     "Pareto hi": max(sol["ideal_D"], sol["ideal_G"]),
                     **{name: sol[name] for name in ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky")}})
    return rows, frontiers
