"""Check functions for the notebook's exercises (the answers live here, never in the notebook).

Hints are printed only after an attempt (a wrong or close answer), never before: ``core.checks`` does that.
"""

from __future__ import annotations

import sympy as sp

from paperlab.core import checks
from paperlab.ftgame.symbolic import A0, C1, DELTA

# Exercise 4: the Nash share at (c0, c1) = (1, 20) is the root of 1404 d^3 - 909 d^2 - 94 d - 1 near 0.7393;
# the firm with the cheaper partner (G) keeps it, so the smaller share is D's: 1 - 0.7393... (tested).
_EX4 = 0.26070018232026484


def check_1(answer):
    """Utilitarian share at c0 = c1."""
    return checks.check_close("exercise 1", answer, 0.5, rtol=1e-6,
                              hint="set c0 = c1 in the utilitarian share c1 / (c0 + c1)")


def check_2(answer):
    """Best bargain's joint surplus as a fraction of the vertical monopoly's, at c1 = 3 c0."""
    hint = "substitute c1 = 3 c0 into the hold-up ratio (c0^2 + c0 c1 + c1^2) / (c0 + c1)^2"
    if isinstance(answer, (int, float)) and abs(float(answer) - 0.75) < 1e-9:
        hint = "3/4 is the ratio at equal costs; here D's cost is three times G's"
    return checks.check_close("exercise 2", answer, 13 / 16, rtol=1e-6, close_rtol=0.02, hint=hint)


def check_3(answer):
    """D's best response to alpha_0 under the cubic cost c1 (alpha_1 - alpha_0)^3 (a sympy expression)."""
    expected = A0 + sp.sqrt((1 - DELTA) / (3 * C1))
    if isinstance(answer, (list, tuple)):  # the whole output of sp.solve: two roots, only one is D's reply
        return checks.check_true("exercise 3", answer, lambda a: False,
                                 hint=f"sp.solve returned {len(answer)} roots; pick the one with alpha_1 >= alpha_0")
    hint = "set d/d alpha_1 [(1 - delta) alpha_1 - c1 (alpha_1 - alpha_0)^3] = 0"
    if isinstance(answer, sp.Basic) and sp.simplify(answer - (2 * A0 - expected)) == 0:
        hint = "that root lies below alpha_0 (a minimum of U_D); D's reply is the other one"
    return checks.check_equal("exercise 3", answer, expected, hint=hint)


def check_4(answer):
    """The smaller revenue share either firm keeps under the Nash bargain at c1 / c0 = 20."""
    hint = "float(ftgame.bargaining_solutions(1, 20)['nash']) is G's share delta; D keeps 1 - delta"
    if isinstance(answer, (int, float)) and abs(float(answer) - (1 - _EX4)) < 1e-3:
        hint = "that is G's share, the larger one; the question asks for the smaller"
    return checks.check_close("exercise 4", answer, _EX4, rtol=1e-4, close_rtol=0.02, hint=hint)


def check_5(answer):
    """Regime of a domain with rho=1, b=0.6, delta=0.5, kappa=0.1 when alpha_0 = 0.5."""
    return checks.check_choice("exercise 5", answer, "free-ride", ["contribute", "free-ride", "abstain"],
                               hint="first compare (1 - delta) rho with b, then the entry condition")
