"""Checks of OUR algebra against independent computations (the notebook's D1-D4; verified derivations, not claims).

Each ``check_*`` takes a seed (one batch of random games) and returns the per-game errors; the notebook records the
largest per seed with ``claims.derivation``.

- D1 ``check_spe``: the symbolic SPE of the quadratic game against the nested brute force ``spe_bruteforce``.
- D2 ``check_bargains``: exact bargaining shares against a search over delta (``bargaining_bruteforce``).
- D3 ``check_pareto``: the Pareto interval [delta_D, delta_G] against a dominance scan on a delta grid.
- D4 ``check_multi``: ``solve_multi`` against ``multi_bruteforce`` and the sympy regime conditions.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from paperlab.ftgame.multi import multi_bruteforce, regime_conditions, solve_multi
from paperlab.ftgame.numeric import bargaining_bruteforce, pareto_mask, quadratic_callables, spe_bruteforce
from paperlab.ftgame.quadratic import bargaining_solutions, pareto_interval, quadratic_spe
from paperlab.ftgame.symbolic import C0, C1, DELTA


def draw_quadratic(seed: int, n: int) -> np.ndarray:
    """``n`` random quadratic games (c0, c1, delta): c0, c1 ~ U[0.3, 5], delta ~ U[0.02, 0.98]; shape (n, 3)."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(0.3, 5, n), rng.uniform(0.3, 5, n), rng.uniform(0.02, 0.98, n)])


def closed_payoffs(c0, c1, spe=None):
    """delta -> (U_G*, U_D*, alpha_1*) arrays from the quadratic game's symbolic SPE, at costs (c0, c1)."""
    spe = spe or quadratic_spe()
    f = sp.lambdify((DELTA, C0, C1), [spe.U_G, spe.U_D, spe.alpha1])
    return lambda d: tuple(np.broadcast_to(np.asarray(v, float), np.shape(d)) for v in f(d, c0, c1))


def check_spe(seed: int, n_draws: int, spe=None) -> list[float]:
    """D1: max |symbolic - brute force| over (alpha0, alpha1, U_G, U_D), per game; random games plus delta = 0, 1."""
    spe = spe or quadratic_spe()
    sym = sp.lambdify((DELTA, C0, C1), [spe.alpha0, spe.alpha1, spe.U_G, spe.U_D])
    draws = draw_quadratic(seed, n_draws)
    draws = np.vstack([draws, [[draws[0, 0], draws[0, 1], 0.0], [draws[0, 0], draws[0, 1], 1.0]]])  # the corners
    errs = []
    for c0, c1, dl in draws:
        o = spe_bruteforce(dl, *quadratic_callables(c0, c1))
        errs.append(float(np.abs(np.array([o.alpha0, o.alpha1, o.U_G, o.U_D]) - sym(dl, c0, c1)).max()))
    return errs


def check_bargains(seed: int, n_draws: int, spe=None) -> list[float]:
    """D2: |exact share - searched share| for every solution, at random rational costs."""
    errs = []
    for c0, c1, _ in draw_quadratic(seed, n_draws):
        c0, c1 = sp.Rational(round(c0 * 100), 100), sp.Rational(round(c1 * 100), 100)  # exact rationals
        exact = bargaining_solutions(c0, c1)
        found = bargaining_bruteforce(closed_payoffs(float(c0), float(c1), spe))
        errs += [abs(found[k] - float(v)) for k, v in exact.items() if v is not sp.nan]
    return errs


def check_pareto(seed: int, n_draws: int, deltas, spe=None) -> list[float]:
    """D3: both endpoint differences, formula [delta_D, delta_G] vs a dominance scan; c1/c0 log-uniform in [1/10, 10]."""
    lo_e, hi_e = (sp.lambdify((C0, C1), e, "sympy") for e in pareto_interval())
    rng, errs = np.random.default_rng(seed), []
    for _ in range(n_draws):
        c0 = rng.uniform(0.3, 5)
        c1 = c0 * np.exp(rng.uniform(-np.log(10), np.log(10)))
        UG, UD, _ = closed_payoffs(c0, c1, spe)(deltas)
        m = pareto_mask(np.column_stack([UG, UD]))
        errs += [abs(deltas[m].min() - float(lo_e(c0, c1))), abs(deltas[m].max() - float(hi_e(c0, c1)))]
    return errs


@lru_cache(maxsize=1)
def _conditions():
    return regime_conditions()


def regime_from_conditions(delta, rho, kappa, b, c, alpha0) -> str:
    """A domain's regime read off the sympy conditions of ``regime_conditions`` (a tie goes to entering)."""
    cond = _conditions()
    syms = sp.symbols("delta_i rho_i kappa_i b_i c_i alpha_0", positive=True)
    sub = dict(zip(syms, (delta, rho, kappa + 1e-300, b + 1e-300, c, alpha0 + 1e-9)))  # tie -> enter, as the solver
    if bool(cond["contribute"].subs(sub)):
        return "contribute"
    return "free-ride" if bool(cond["free-ride"].subs(sub)) else "abstain"


def check_multi(seed: int, n_draws: int) -> list[float]:
    """D4: |alpha0 difference| + number of domains whose three regime labels disagree, per random n = 3 game."""
    from paperlab.ftgame.experiment import draw_multi

    rng, errs = np.random.default_rng(seed), []
    for _ in range(n_draws):
        c0, dl, rho, kappa, b, c = draw_multi(rng)
        s, bf = solve_multi(c0, dl, rho, kappa, b, c), multi_bruteforce(c0, dl, rho, kappa, b, c)
        labels = [(s.regimes[i], bf.regimes[i], regime_from_conditions(dl, rho[i], kappa[i], b[i], c[i], s.alpha0))
                  for i in range(3)]
        errs.append(abs(s.alpha0 - bf.alpha0) + sum(len(set(t)) > 1 for t in labels))
    return errs
