"""n domain specialists: contribute, free-ride or abstain (OUR instantiation of the paper's regimes).

Domain i earns rho_i alpha_i and pays kappa_i 1[enter] + b_i (alpha_i - alpha_0) + c_i (alpha_i - alpha_0)^2;
G keeps the share delta_i of domain i's revenue and pays c0 alpha_0^2. The fixed cost kappa_i makes
abstaining possible, the linear cost b_i makes free-riding possible. The paper's own functional form
for its n-specialist section was not readable from here; only the three regime names are the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from paperlab.ftgame.numeric import argmax_1d, check_costs

REGIMES = ("contribute", "free-ride", "abstain")


def regime_conditions():
    """The three regimes as sympy inequalities for one domain (shares delta, alpha_0 given)."""
    d, rho, kappa, b, c, a0 = sp.symbols("delta_i rho_i kappa_i b_i c_i alpha_0", positive=True)
    m = (1 - d) * rho - b  # the domain's marginal gain from its first unit of fine-tuning
    best = (1 - d) * rho * a0 + m**2 / (4 * c) - kappa  # its utility when it contributes
    return {
        "step": sp.Max(0, m / (2 * c)),  # Eq: alpha_i - alpha_0 = max(0, ((1-delta_i) rho_i - b_i) / (2 c_i))
        "contribute": sp.And(m > 0, best >= 0),
        "free-ride": sp.And(m <= 0, (1 - d) * rho * a0 - kappa >= 0),
        "abstain": "otherwise",
    }


def _params(c0, delta, rho, kappa, b, c):
    rho, kappa, b, c = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (rho, kappa, b, c))
    n = len(rho)
    if not (kappa.shape == b.shape == c.shape == (n,)):
        raise ValueError(f"rho, kappa, b, c must all have shape (n,), got {rho.shape}, {kappa.shape}, "
                         f"{b.shape}, {c.shape}")
    delta = np.broadcast_to(np.asarray(delta, dtype=float), (n,)).copy()  # common share or one per domain
    if np.any((delta < 0) | (delta > 1)) or not np.all(np.isfinite(delta)):
        raise ValueError(f"every share delta_i must lie in [0, 1], got {delta}")
    check_costs(c0=c0, c=c)
    if np.any(rho <= 0) or np.any(kappa < 0) or np.any(b < 0):
        raise ValueError(f"need rho > 0, kappa >= 0, b >= 0; got rho={rho}, kappa={kappa}, b={b}")
    return float(c0), delta, rho, kappa, b, c


def domain_response(alpha0, delta, rho, kappa, b, c):
    """Each domain's best reply to alpha_0: (step alpha_i - alpha_0, utility if it enters, enters?)."""
    m = (1 - delta) * rho - b
    step = np.maximum(0.0, m / (2 * c))  # Eq: interior step, or 0 (free-ride) when the margin m <= 0
    util = (1 - delta) * rho * (alpha0 + step) - b * step - c * step**2 - kappa
    return step, util, util >= -1e-12


def entry_thresholds(delta, rho, kappa, b, c):
    """tau_i: domain i enters iff alpha_0 >= tau_i (its utility rises linearly in alpha_0)."""
    m = np.maximum(0.0, (1 - delta) * rho - b)
    slope = (1 - delta) * rho
    gap = kappa - m**2 / (4 * c)
    with np.errstate(divide="ignore"):
        tau = np.where(slope > 0, gap / np.where(slope > 0, slope, 1.0), np.where(gap <= 0, 0.0, np.inf))
    return np.maximum(tau, 0.0)


@dataclass(frozen=True)
class MultiOutcome:
    alpha0: float
    steps: np.ndarray  # (n,) alpha_i - alpha_0 (0 for abstainers)
    enters: np.ndarray  # (n,) bool
    regimes: tuple
    U_G: float
    U_D: np.ndarray  # (n,)


def _outcome(alpha0, c0, delta, rho, kappa, b, c):
    step, util, enters = domain_response(alpha0, delta, rho, kappa, b, c)
    U_G = float(np.sum(enters * delta * rho * (alpha0 + step)) - c0 * alpha0**2)
    regimes = tuple("abstain" if not e else ("contribute" if s > 0 else "free-ride") for s, e in zip(step, enters))
    return MultiOutcome(float(alpha0), np.where(enters, step, 0.0), enters, regimes, U_G, np.where(enters, util, 0.0))


def solve_multi(c0, delta, rho, kappa, b, c) -> MultiOutcome:
    """G's piecewise problem: entry sets are nested in alpha_0 (thresholds tau_i), so try each one.

    On [tau_(j), tau_(j+1)] the entry set S is fixed and U_G is concave: alpha_0 = clip(sum_S delta_i rho_i / (2 c0)).
    """
    c0, delta, rho, kappa, b, c = _params(c0, delta, rho, kappa, b, c)
    tau = entry_thresholds(delta, rho, kappa, b, c)
    cuts = np.unique(np.concatenate([[0.0], tau[np.isfinite(tau)]]))
    best = None
    for j, lo in enumerate(cuts):
        hi = cuts[j + 1] if j + 1 < len(cuts) else np.inf
        S = tau <= lo
        a0 = float(np.clip(np.sum(delta[S] * rho[S]) / (2 * c0), lo, hi))  # Eq: G's FOC on this piece
        out = _outcome(a0, c0, delta, rho, kappa, b, c)
        if best is None or out.U_G > best.U_G + 1e-15:
            best = out
    return best


def _reply_grid(a0, delta, rho, kappa, b, c, n_step):
    """Brute-force replies to a vector of alpha_0: (len(a0), n) steps and utilities over a step grid."""
    steps = np.linspace(0.0, 1.0, n_step)[None, :] * (rho / c + 1.0)[:, None]  # (n, n_step)
    U = ((1 - delta) * rho)[:, None, None] * (a0[None, :, None] + steps[:, None, :]) \
        - (b[:, None] * steps)[:, None, :] - (c[:, None] * steps**2)[:, None, :] - kappa[:, None, None]
    k = np.argmax(U, axis=2)  # (n, len(a0))
    return np.take_along_axis(steps, k, axis=1).T, np.take_along_axis(U, k[..., None], axis=2)[..., 0].T


def multi_bruteforce(c0, delta, rho, kappa, b, c, n_grid: int = 801, n_step: int = 401) -> MultiOutcome:
    """Independent check of ``solve_multi``: every domain maximises over a grid of steps and enters iff
    that beats staying out; G scans a grid of alpha_0, then both are refined by ``argmax_1d``."""
    c0, delta, rho, kappa, b, c = _params(c0, delta, rho, kappa, b, c)
    tau = entry_thresholds(delta, rho, kappa, b, c)
    a0_max = 1.5 * max(np.sum(rho) / (2 * c0), np.max(np.where(np.isfinite(tau), tau, 0.0))) + 0.1

    def reply(a0):  # scalar alpha_0: refine each domain's step numerically
        out = [argmax_1d(lambda s, i=i: (1 - delta[i]) * rho[i] * (a0 + s) - b[i] * s - c[i] * s**2 - kappa[i],
                         0.0, rho[i] / c[i] + 1.0, n_grid=11) for i in range(len(rho))]
        steps, utils = np.array([o[0] for o in out]), np.array([o[1] for o in out])
        return np.where(steps > 1e-7, steps, 0.0), utils

    def U_G(a0):
        steps, utils = reply(a0)
        return float(np.sum((utils >= -1e-12) * delta * rho * (a0 + steps)) - c0 * a0**2)

    grid = np.linspace(0.0, a0_max, n_grid)
    steps, utils = _reply_grid(grid, delta, rho, kappa, b, c, n_step)
    vals = np.sum((utils >= 0) * delta * rho * (grid[:, None] + steps), axis=1) - c0 * grid**2
    k = int(np.argmax(vals))
    a0, _ = argmax_1d(U_G, grid[max(k - 1, 0)], grid[min(k + 1, n_grid - 1)], n_grid=9)
    steps, utils = reply(a0)
    enters = utils >= -1e-12
    regimes = tuple("abstain" if not e else ("contribute" if s > 0 else "free-ride") for s, e in zip(steps, enters))
    return MultiOutcome(a0, np.where(enters, steps, 0.0), enters, regimes, U_G(a0), np.where(enters, utils, 0.0))


def pareto_common_delta(c0, rho, kappa, b, c, deltas) -> np.ndarray:
    """(len(deltas), n + 1) payoffs (U_G, U_1..U_n) of the SPE for each common share delta."""
    rows = []
    for d in deltas:
        o = solve_multi(c0, d, rho, kappa, b, c)
        rows.append([o.U_G, *o.U_D])
    return np.array(rows)
