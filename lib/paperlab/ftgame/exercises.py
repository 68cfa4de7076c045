"""Check functions for the notebook's exercises (kept here so the tests can prove the answers check)."""

from __future__ import annotations

import sympy as sp

from paperlab.core import checks
from paperlab.ftgame.symbolic import A0, C1, DELTA


def check_1(answer):
    """Utilitarian share at c0 = c1."""
    return checks.check_close("exercise 1", answer, 0.5, rtol=1e-6, hint="set c0 = c1 in c1 / (c0 + c1)")


def check_2(answer):
    """Best bargain's joint surplus as a fraction of the vertical monopoly's, at c0 = c1."""
    return checks.check_close("exercise 2", answer, 0.75, rtol=1e-6, close_rtol=0.05,
                              hint="(c0^2 + c0 c1 + c1^2) / (c0 + c1)^2 at c0 = c1")


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
    """The share at which the egalitarian and Nash solutions coincide."""
    return checks.check_close("exercise 4", answer, 0.5, rtol=1e-4, close_rtol=0.05,
                              hint="scan c1/c0 and compare the two curves: where do they cross?")


def check_5(answer):
    """Regime of a domain with rho=1, b=0.6, delta=0.5, kappa=0.1 when alpha_0 = 0.5."""
    return checks.check_choice("exercise 5", answer, "free-ride", ["contribute", "free-ride", "abstain"],
                               hint="first compare (1 - delta) rho with b, then the entry condition")
