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


CHECKS = {1: check_1, 2: check_2, 3: check_3, 4: check_4, 5: check_5}


def check_exercise(n: int, answer) -> str:
    """The notebook's exercise checks (1-5), the course's one convention: not attempted / incorrect / close / correct."""
    if n not in CHECKS:
        raise ValueError(f"exercise number must be 1-5, got {n}")
    return CHECKS[n](answer)


# Worked solutions (solutions/11_ftgame.ipynb is generated from these; tests/test_solutions.py runs each one).
SOLUTIONS = {
    1: ("With equal costs the game is symmetric, and the utilitarian share $c_1/(c_0+c_1)$ of the quadratic family "
        "is $1/2$ at $c_0 = c_1$. Substituting into the library's closed form confirms it.",
        """from paperlab.ftgame import C0, C1
answer_1 = float(ftgame.utilitarian_share().subs({C0: 1, C1: 1}))
verdict = ftgame.check_exercise(1, answer_1)"""),
    2: ("The hold-up ratio of the best bargain to the vertical monopoly is $(c_0^2 + c_0c_1 + c_1^2)/(c_0+c_1)^2$; at "
        "$c_1 = 3c_0$ it is $(1 + 3 + 9)/16 = 13/16$. (3/4 is the value at equal costs.)",
        """import sympy as sp
from paperlab.ftgame import C0, C1
ratio = ftgame.hold_up()[2]          # (c0^2 + c0 c1 + c1^2) / (c0 + c1)^2
answer_2 = sp.nsimplify(ratio.subs({C0: 1, C1: 3}))
print(answer_2)
verdict = ftgame.check_exercise(2, float(answer_2))"""),
    3: ("D maximises $(1-\\delta)\\alpha_1 - c_1(\\alpha_1-\\alpha_0)^3$; the first-order condition "
        "$(1-\\delta) = 3c_1(\\alpha_1-\\alpha_0)^2$ has two roots $\\alpha_0 \\pm \\sqrt{(1-\\delta)/(3c_1)}$. The second "
        "derivative $-6c_1(\\alpha_1-\\alpha_0)$ is negative only above $\\alpha_0$, so D's reply is the $+$ root.",
        """import sympy as sp
from paperlab.ftgame import A0, A1, C1, DELTA
roots = sp.solve(sp.diff((1 - DELTA) * A1 - C1 * (A1 - A0)**3, A1), A1)
# the root above alpha_0 (check at one admissible point: c1 = 1, delta = 1/2)
answer_3 = next(r for r in roots if (r - A0).subs({C1: 1, DELTA: sp.Rational(1, 2)}) > 0)
print(answer_3)
verdict = ftgame.check_exercise(3, answer_3)"""),
    4: ("`bargaining_solutions(1, 20)['nash']` is G's share $\\delta$ (an exact algebraic root of a cubic); with the "
        "cheaper partner G keeps the larger part, so the smaller share is D's, $1-\\delta$. At about a quarter, it is "
        "still a genuine profit share, not a corner.",
        """delta = float(ftgame.bargaining_solutions(1, 20)["nash"])
answer_4 = min(delta, 1 - delta)
print(delta, answer_4)
verdict = ftgame.check_exercise(4, answer_4)"""),
    5: ("The domain's margin from its first unit of fine-tuning is $(1-\\delta)\\rho - b = 0.5 - 0.6 < 0$, so it does not "
        "fine-tune; it still enters because $(1-\\delta)\\rho\\alpha_0 - \\kappa = 0.25 - 0.1 \\ge 0$: it free-rides on "
        "G's $\\alpha_0$. `domain_response` gives the same (step 0, positive utility; $c$ plays no role).",
        """step, util, enters = ftgame.domain_response(0.5, 0.5, 1.0, 0.1, 0.6, 1.0)
answer_5 = "contribute" if step > 0 else ("free-ride" if enters else "abstain")
print(step, util, enters)
verdict = ftgame.check_exercise(5, answer_5)"""),
}
