"""The one-specialist fine-tuning game in sympy: backward induction for any cost family.

Timing (paper, Sec. 2 as summarised in the abstract): G and D bargain over the share ``delta``;
G picks ``alpha_0`` at cost ``phi_0``; D picks ``alpha_1 >= alpha_0`` at cost ``phi_1`` (or stays out);
revenue ``r(alpha_1)`` is split ``delta : 1 - delta``.

``best_response`` solves one player's stage with a *certified* first-order condition: it proves
``d2U/dx2 <= 0`` on ``x >= lower`` (for every 0 < delta < 1) before trusting a stationary point, and
returns the corner when the marginal gain at the lower bound is not positive.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

# The game's symbols. delta is the Generalist's share; 0 < delta < 1 is encoded where needed by
# substituting delta = u / (1 + u) with u > 0 (sympy has no "less than one" assumption).
DELTA = sp.Symbol("delta", positive=True)
A0, A1 = sp.symbols("alpha_0 alpha_1", nonnegative=True)
C0, C1 = sp.symbols("c_0 c_1", positive=True)
_U = sp.Symbol("u", positive=True)


class NotConcaveError(ValueError):
    """The solver cannot certify that a stationary point is a maximum."""


def _in_unit_box(expr, shares=(DELTA,)):
    """Rewrite ``expr`` so that each share symbol ranges over (0, 1) through u/(1+u), u > 0."""
    return sp.together(expr.subs({s: _U / (1 + _U) for s in shares}))


def _sign(expr, shares=(DELTA,)):
    """'pos', 'nonpos', 'nonneg', 'neg', 'zero' or None when sympy cannot decide (0 < shares < 1)."""
    e = sp.factor(sp.simplify(_in_unit_box(expr, shares)))
    if e.is_zero:
        return "zero"
    for name, test in (("pos", e.is_positive), ("neg", e.is_negative),
                       ("nonneg", e.is_nonnegative), ("nonpos", e.is_nonpositive)):
        if test:
            return name
    return None


@dataclass(frozen=True)
class Stage:
    """One player's problem ``max_{x >= lower} U``: the FOC, its certified root and the corner test."""

    objective: sp.Expr
    x: sp.Symbol
    lower: sp.Expr
    foc: sp.Expr  # dU/dx
    second: sp.Expr  # d2U/dx2
    interior: sp.Expr | None  # root of foc with x >= lower (None: no root there)
    margin: sp.Expr  # dU/dx at x = lower: interior optimum iff margin > 0
    interior_certified: bool = field(default=False)

    @property
    def response(self) -> sp.Expr:
        """The best response: the interior root when certified, otherwise a Piecewise with the corner."""
        if self.interior is None:
            return sp.sympify(self.lower)
        if self.interior_certified:
            return self.interior
        return sp.Piecewise((self.interior, self.margin > 0), (self.lower, True))


def best_response(U, x, lower=0, shares=(DELTA,)) -> Stage:
    """Solve ``max_{x >= lower} U(x)`` symbolically (Eq. FOC: dU/dx = 0, SOC: d2U/dx2 <= 0).

    Raises NotConcaveError if ``d2U/dx2 <= 0`` cannot be proved for all ``x >= lower`` and all
    parameters (positive symbols, shares in (0, 1)): a stationary point would not be trusted.
    """
    U, lower = sp.sympify(U), sp.sympify(lower)
    if not isinstance(x, sp.Symbol):
        raise TypeError(f"x must be a sympy Symbol, got {x!r}")
    foc, second = sp.diff(U, x), sp.diff(U, x, 2)
    t = sp.Dummy("t", positive=True)  # x > lower: concavity on the open half-line
    if _sign(second.subs(x, lower + t), shares) not in ("zero", "neg", "nonpos"):
        raise NotConcaveError(
            f"cannot certify an interior optimum of U = {U} in {x}: d2U/d{x}2 = {sp.simplify(second)} "
            f"is not provably <= 0 for {x} >= {lower} (is the cost convex in the player's own action?)")
    margin = sp.simplify(foc.subs(x, lower))
    if sp.simplify(second) == 0:  # linear objective: corner, or unbounded if the margin is positive
        if _sign(margin, shares) in ("pos",):
            raise ValueError(f"U = {U} grows without bound in {x}: the cost must be strictly convex")
        return Stage(U, x, lower, foc, second, None, margin, False)
    try:
        roots = [r for r in sp.solve(sp.Eq(foc, 0), x) if r.is_real is not False]
    except NotImplementedError:  # sympy has no algorithm for this equation (e.g. mixed exp / polynomial)
        roots = []
    roots = [r for r in roots if _sign(r - lower, shares) in ("pos", "nonneg", "zero", None)]
    if len(roots) > 1:
        roots = [r for r in roots if _sign(r - lower, shares) in ("pos", "nonneg", "zero")]
    if not roots:
        raise NotImplementedError(f"sympy found no closed-form stationary point of U = {U} in {x}; "
                                  "solve this family numerically with paperlab.ftgame.spe_bruteforce")
    if len(roots) != 1:
        raise NotConcaveError(f"expected one stationary point of {U} with {x} >= {lower}, found {roots}")
    interior = sp.simplify(roots[0])
    certified = _sign(margin, shares) == "pos"
    return Stage(U, x, lower, foc, second, interior, margin, certified)


@dataclass(frozen=True)
class SPE:
    """Subgame-perfect equilibrium of the one-specialist game as functions of delta and the costs."""

    alpha0: sp.Expr
    alpha1: sp.Expr
    U_G: sp.Expr
    U_D: sp.Expr
    d_stage: Stage
    g_stage: Stage


@lru_cache(maxsize=16)
def solve_spe(revenue, phi0, phi1, shares=(DELTA,)) -> SPE:
    """Backward induction. ``revenue`` in A1, ``phi0`` in A0, ``phi1`` in A0 and A1 (sympy expressions).

    Eq. (utilities): U_G = delta r(alpha_1) - phi_0(alpha_0),  U_D = (1 - delta) r(alpha_1) - phi_1.
    """
    for name, e in (("revenue", revenue), ("phi0", phi0), ("phi1", phi1)):
        if not isinstance(e, sp.Basic):
            raise TypeError(f"{name} must be a sympy expression, got {type(e).__name__}")
    U_D = (1 - DELTA) * revenue - phi1  # Eq. U_D
    d_stage = best_response(U_D, A1, lower=A0, shares=shares)  # stage 2: D best-responds to alpha_0
    a1 = d_stage.response
    if isinstance(a1, sp.Piecewise):
        raise NotConcaveError("D's best response has a corner for some parameters; split the cases "
                              f"(substitute values) and solve each: {a1}")
    U_G = DELTA * revenue.subs(A1, a1) - phi0  # Eq. U_G with alpha_1 = alpha_1*(alpha_0)
    g_stage = best_response(U_G, A0, lower=0, shares=shares)  # stage 1: G anticipates D
    a0 = g_stage.response
    alpha1 = sp.simplify(a1.subs(A0, a0))
    unit = {sp.Abs(s - 1): 1 - s for s in shares}  # |delta - 1| = 1 - delta on (0, 1)
    UG = sp.factor(sp.simplify(U_G.subs(A0, a0).subs(unit)))
    UD = sp.factor(sp.simplify(U_D.subs({A1: alpha1, A0: a0}).subs(unit)))
    if _sign(UD, shares) not in ("pos", "nonneg", "zero"):
        warnings.warn(f"cannot certify D's participation U_D* = {UD} >= 0; D may stay out", stacklevel=2)
    return SPE(a0, alpha1, UG, UD, d_stage, g_stage)


def quadratic_family():
    """The card's quadratic instantiation: r = alpha_1, phi_0 = c0 alpha_0^2, phi_1 = c1 (alpha_1 - alpha_0)^2."""
    return A1, C0 * A0**2, C1 * (A1 - A0) ** 2


def power_family(k, p=1):
    """r = alpha_1^p, phi_0 = c0 alpha_0^k, phi_1 = c1 (alpha_1 - alpha_0)^k (k > 1, 0 < p <= 1)."""
    k, p = sp.nsimplify(k), sp.nsimplify(p)
    if not (k > 1):
        raise ValueError(f"cost exponent k must be > 1 (strictly convex costs), got {k}")
    if not (0 < p <= 1):
        raise ValueError(f"revenue exponent p must be in (0, 1], got {p}")
    return A1**p, C0 * A0**k, C1 * (A1 - A0) ** k


def vertical_monopoly(revenue, phi0, phi1):
    """One firm pays both costs: max_{alpha_0, alpha_1} r(alpha_1) - phi_0 - phi_1 (the benchmark)."""
    W = revenue - phi0 - phi1
    d = sp.Symbol("d", nonnegative=True)  # alpha_1 = alpha_0 + d
    Wd = W.subs(A1, A0 + d)
    sol = sp.solve([sp.diff(Wd, A0), sp.diff(Wd, d)], [A0, d], dict=True)
    sol = [s for s in sol if all(v.is_nonnegative is not False for v in s.values())]
    if len(sol) != 1:
        raise NotConcaveError(f"vertical monopoly: expected one stationary point, got {sol}")
    H = sp.hessian(Wd, (A0, d)).subs(sol[0])
    if not (sp.simplify(H[0, 0]).is_negative and sp.simplify(H.det()).is_positive):
        raise NotConcaveError(f"vertical monopoly: Hessian {H} is not provably negative definite")
    a0, dd = sp.simplify(sol[0][A0]), sp.simplify(sol[0][d])
    return {"alpha0": a0, "alpha1": sp.simplify(a0 + dd), "W": sp.factor(sp.simplify(Wd.subs({A0: a0, d: dd})))}
