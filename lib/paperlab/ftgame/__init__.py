"""Fine-tuning games: bargaining between a Generalist and Domain specialists, solved in sympy.

Paper: Benjamin Laufer, Jon Kleinberg, Hoda Heidari, "Fine-Tuning Games: Bargaining and Adaptation for
General-Purpose Models", arXiv:2308.04399 (v1 Aug 2023, v3 Dec 2024; venue not verified here).
Official code: none found (a theory paper; this package is the implementation).

What is the paper's and what is ours: the model (bargain over the revenue share delta, then G invests
alpha_0 at cost phi_0, then D fine-tunes to alpha_1 >= alpha_0 at cost phi_1), the solution concept
(subgame-perfect equilibrium, then bargaining solutions over the Pareto set) and the three regime names
(contribute / free-ride / abstain) are the paper's, as its abstract states them. The concrete cost
families, every closed form and every number computed here are our instantiation, derived with sympy
and checked against the numeric brute force in :mod:`paperlab.ftgame.numeric`.

Modules: ``symbolic`` (general backward induction with certified concavity), ``quadratic`` (closed
forms and bargaining solutions), ``numeric`` (brute force, Pareto masks), ``multi`` (n specialists),
``experiment`` (the measurements behind the paper's claims), ``render`` (sympy as LaTeX), ``exercises``.
"""

from paperlab.ftgame import derivations, exercises, experiment, render
from paperlab.ftgame.exercises import SOLUTIONS, check_exercise
from paperlab.ftgame.multi import (
                                   REGIMES,
                                   MultiOutcome,
                                   domain_response,
                                   entry_thresholds,
                                   multi_bruteforce,
                                   pareto_common_delta,
                                   regime_conditions,
                                   solve_multi,
)
from paperlab.ftgame.numeric import (
                                   Outcome,
                                   argmax_1d,
                                   bargaining_bruteforce,
                                   check_share,
                                   dominated_by_grid,
                                   frontier_bruteforce,
                                   pareto_mask,
                                   payoffs_bruteforce,
                                   quadratic_callables,
                                   runs,
                                   shares_grid,
                                   spe_bruteforce,
                                   spe_grid,
)
from paperlab.ftgame.quadratic import (
                                   BARGAINING_SOLUTIONS,
                                   bargaining_solutions,
                                   egalitarian_share,
                                   hold_up,
                                   ideal_shares,
                                   max_alpha1_share,
                                   pareto_interval,
                                   quadratic_spe,
                                   utilitarian_share,
)
from paperlab.ftgame.symbolic import (
                                   A0,
                                   A1,
                                   C0,
                                   C1,
                                   DELTA,
                                   SPE,
                                   NotConcaveError,
                                   Stage,
                                   best_response,
                                   power_family,
                                   quadratic_family,
                                   solve_spe,
                                   vertical_monopoly,
)

__all__ = [
    "A0", "A1", "derivations", "exercises", "experiment", "render", "dominated_by_grid", "shares_grid", "spe_grid", "C0", "C1", "DELTA", "REGIMES", "BARGAINING_SOLUTIONS", "SOLUTIONS", "SPE", "check_exercise", "MultiOutcome", "NotConcaveError", "Outcome",
    "Stage", "argmax_1d", "bargaining_bruteforce", "bargaining_solutions", "best_response", "check_share",
    "domain_response", "egalitarian_share", "entry_thresholds", "frontier_bruteforce", "hold_up", "ideal_shares",
    "max_alpha1_share", "multi_bruteforce", "pareto_common_delta", "pareto_interval", "pareto_mask",
    "payoffs_bruteforce", "power_family", "quadratic_callables", "quadratic_family", "quadratic_spe",
    "regime_conditions", "runs", "solve_multi", "solve_spe", "spe_bruteforce", "utilitarian_share",
    "vertical_monopoly",
]
