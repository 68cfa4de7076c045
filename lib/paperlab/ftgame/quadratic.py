"""The quadratic one-specialist game in closed form: ideal shares, Pareto set, bargaining solutions.

r(alpha_1) = alpha_1, phi_0 = c0 alpha_0^2, phi_1 = c1 (alpha_1 - alpha_0)^2 (our instantiation of the
paper's polynomial-cost case). Everything here is derived from ``solve_spe`` by sympy; exact rationals
in, exact algebraic numbers out (``bargaining_solutions``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from paperlab.ftgame.symbolic import C0, C1, DELTA, quadratic_family, solve_spe, vertical_monopoly

BARGAINING_SOLUTIONS = ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "max_alpha1")


@lru_cache(maxsize=1)
def quadratic_spe():
    """The SPE of the quadratic game (cached: the notebook and tests call it often)."""
    return solve_spe(*quadratic_family())


@lru_cache(maxsize=1)
def ideal_shares():
    """Each player's favourite delta on [0, 1] (Piecewise in c0, c1).

    G: dU_G/d delta = 0 at c0/(2c0 - c1), inside [0, 1] (and a maximum) iff c1 <= c0; else U_G rises on
    [0, 1] and G wants delta = 1. D mirrors it: (c1 - c0)/(2c1 - c0) iff c1 >= c0, else 0.
    """
    spe = quadratic_spe()
    g_root = sp.solve(sp.diff(spe.U_G, DELTA), DELTA)[0]
    d_root = sp.solve(sp.diff(spe.U_D, DELTA), DELTA)[0]
    delta_G = sp.Piecewise((sp.factor(g_root), C1 <= C0), (sp.S.One, True))
    delta_D = sp.Piecewise((sp.factor(d_root), C1 >= C0), (sp.S.Zero, True))
    return delta_G, delta_D


@lru_cache(maxsize=1)
def pareto_interval():
    """The Pareto-optimal bargains: the deltas between the two ideal shares (both ends included)."""
    delta_G, delta_D = ideal_shares()
    return sp.Min(delta_G, delta_D), sp.Max(delta_G, delta_D)


@lru_cache(maxsize=1)
def utilitarian_share():
    """argmax_delta U_G + U_D: the FOC of the concave joint surplus."""
    W = quadratic_spe().U_G + quadratic_spe().U_D
    (root,) = sp.solve(sp.diff(W, DELTA), DELTA)
    return sp.factor(root)


@lru_cache(maxsize=1)
def egalitarian_share():
    """U_G = U_D: the root of a quadratic in delta that lies in [0, 1] (1/2 when c0 = c1)."""
    spe = quadratic_spe()
    poly = sp.Poly(sp.numer(sp.together(spe.U_G - spe.U_D)), DELTA)
    roots = sp.solve(poly.as_expr(), DELTA)
    # of the two roots keep the one inside (0, 1): test it at c0 = 1, c1 = 2 and at c0 = 2, c1 = 1
    def inside(r):
        return all(0 < r.subs({C0: a, C1: b}) < 1 for a, b in ((1, 2), (2, 1), (1, 5)))
    (root,) = [r for r in roots if inside(r)]
    return sp.Piecewise((sp.S.Half, sp.Eq(C0, C1)), (sp.simplify(root), True))


@lru_cache(maxsize=1)
def max_alpha1_share():
    """argmax_delta alpha_1*(delta): alpha_1* is linear in delta, so a corner (every delta ties if c0 = c1)."""
    slope = sp.simplify(sp.diff(quadratic_spe().alpha1, DELTA))
    return slope, sp.Piecewise((sp.S.One, C0 < C1), (sp.S.Zero, C1 < C0), (sp.nan, True))


def _exact(v):
    v = sp.nsimplify(v)
    if not (v.is_Rational and v > 0):
        raise ValueError(f"costs must be positive numbers (given as exact rationals here), got {v}")
    return v


def bargaining_solutions(c0, c1) -> dict:
    """All five bargaining shares at given costs, exact (Rational / algebraic / CRootOf).

    Nash: max U_G U_D over the Pareto interval (a root of a cubic); KS: U_G / U_G^max = U_D / U_D^max
    (a root of a quadratic once the ideal points are known). Disagreement point (0, 0).
    """
    c0, c1 = _exact(c0), _exact(c1)
    sub = {C0: c0, C1: c1}
    spe = quadratic_spe()
    UG, UD = spe.U_G.subs(sub), spe.U_D.subs(sub)
    lo, hi = (sp.nsimplify(e.subs(sub)) for e in pareto_interval())
    nash_poly = sp.Poly(sp.numer(sp.together(sp.diff(UG * UD, DELTA))), DELTA)
    cands = [r for r in nash_poly.real_roots() if lo <= r <= hi] + [lo, hi]
    nash = max(cands, key=lambda r: (UG * UD).subs(DELTA, r))
    dG, dD = (sp.nsimplify(e.subs(sub)) for e in ideal_shares())
    ug_max, ud_max = UG.subs(DELTA, dG), UD.subs(DELTA, dD)
    ks_roots = sp.solve(sp.expand(UG * ud_max - UD * ug_max), DELTA)
    (ks,) = [r for r in ks_roots if lo <= r <= hi]
    return {
        "utilitarian": utilitarian_share().subs(sub),
        "egalitarian": sp.nsimplify(egalitarian_share().subs(sub)),
        "nash": nash,
        "kalai_smorodinsky": sp.radsimp(ks),
        "max_alpha1": max_alpha1_share()[1].subs(sub),
    }


@lru_cache(maxsize=1)
def hold_up():
    """Vertical-monopoly benchmark and the joint surplus the bargain can reach at best (the utilitarian share)."""
    vm = vertical_monopoly(*quadratic_family())
    spe = quadratic_spe()
    W_best = sp.factor(sp.simplify((spe.U_G + spe.U_D).subs(DELTA, utilitarian_share())))
    return vm, W_best, sp.factor(sp.simplify(W_best / vm["W"]))
