"""The information-theoretic argument against exact modality alignment, step by step in sympy.

Jiang et al., CVPR 2023 (arXiv 2303.05952), section "exact alignment is sub-optimal". The paper's
text we could read (abstract, introduction) states the result in words: when the modality gap is
zero (exact alignment), the representation pays a price on the downstream task, the *information
gap* between the modalities. The statement and proof below are a standard reconstruction of that
argument (the paper's theorem environment was not available to us):

    Delta_p = |I(X_v; Y) - I(X_t; Y)|,  Z_v = g_v(X_v) = g_t(X_t) = Z_t a.s.  =>
    min_h E[-log h(Y|Z_v)] - min_h' E[-log h'(Y|X_v)]  >=  I(X_v;Y) - I(X_t;Y).

Every function returns sympy objects (or exact/numeric helpers) that ``tests/test_modality.py``
checks with ``simplify(a - b) == 0`` and, for the worked examples, by brute-force enumeration.
Natural logarithms throughout (nats).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

# ----------------------------------------------------------------------------- input checks


def check_prob(p, name: str = "p") -> None:
    """Raise ValueError unless ``p`` (a number, or a sympy number) is a probability in [0, 1]."""
    try:
        val = float(p)
    except (TypeError, ValueError):
        return  # a free symbol: sympy keeps it symbolic, nothing to check
    if not 0.0 <= val <= 1.0 or math.isnan(val):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


def check_joint(joint) -> np.ndarray:
    """A joint probability table (any shape): non-negative entries summing to 1."""
    a = np.asarray(joint, dtype=float)
    if a.size == 0 or np.any(a < -1e-12) or np.any(a > 1 + 1e-12) or np.any(np.isnan(a)):
        raise ValueError(f"a joint distribution needs entries in [0, 1], got min {a.min() if a.size else None}, "
                         f"max {a.max() if a.size else None}")
    if abs(a.sum() - 1.0) > 1e-9:
        raise ValueError(f"a joint distribution must sum to 1, got {a.sum():.6g}")
    return a


# ----------------------------------------------------------------------------- step 1: optimal CE


def cross_entropy(p: list, q: list):
    """E_{Y~p}[-log q(Y)] = -sum_k p_k log q_k (sympy). Lists of equal length."""
    if len(p) != len(q):
        raise ValueError(f"p and q need the same number of outcomes, got {len(p)} and {len(q)}")
    for k, pk in enumerate(p):
        check_prob(pk, f"p[{k}]")
    return -sum(pk * sp.log(qk) for pk, qk in zip(p, q))


def entropy(p: list):
    """H(p) = -sum_k p_k log p_k (sympy), with 0 log 0 = 0 for literal zeros."""
    for k, pk in enumerate(p):
        check_prob(pk, f"p[{k}]")
    return -sum(pk * sp.log(pk) for pk in p if pk != 0)


def step1_optimal_predictor():
    """Gibbs' inequality for a binary label: argmin_q CE(p, q) = p, and min CE = H(p).

    Returns ``(p, q, argmin, min_value, gap)`` where ``gap = CE(p,q) - H(p)`` is the KL divergence
    KL(p || q) >= 0. Applied pointwise for every value z, the best predictor h(y|z) is the true
    conditional p(y|z), so  min_h E[-log h(Y|Z)] = H(Y|Z).
    """
    p, q = sp.symbols("p q", positive=True)
    ce = cross_entropy([p, 1 - p], [q, 1 - q])
    argmin = sp.solve(sp.diff(ce, q), q)
    min_value = sp.simplify(ce.subs(q, argmin[0]))
    gap = sp.simplify(ce - entropy([p, 1 - p]))
    return p, q, argmin, min_value, gap


# ----------------------------------------------------------------------------- step 2: H(Y|Z) = H(Y) - I(Z;Y)


def joint_symbols(nz: int = 2, ny: int = 2):
    """A symbolic joint table P[z, y] (positive symbols; the last cell makes it sum to 1)."""
    if nz < 1 or ny < 1 or nz * ny < 2:
        raise ValueError(f"need at least two cells, got nz={nz}, ny={ny}")
    cells = sp.symbols(f"p0:{nz * ny - 1}", positive=True)
    flat = list(cells) + [1 - sum(cells)]
    return sp.Matrix(nz, ny, flat), cells


def conditional_entropy(P: sp.Matrix):
    """H(Y|Z) = -sum_{z,y} P[z,y] log(P[z,y] / P[z]) for a joint table P (rows z, columns y)."""
    pz = [sum(P.row(i)) for i in range(P.rows)]
    return -sum(P[i, j] * sp.log(P[i, j] / pz[i]) for i in range(P.rows) for j in range(P.cols))


def mutual_information(P: sp.Matrix):
    """I(Z;Y) = sum_{z,y} P[z,y] log(P[z,y] / (P[z] P[y]))."""
    pz = [sum(P.row(i)) for i in range(P.rows)]
    py = [sum(P.col(j)) for j in range(P.cols)]
    return sum(P[i, j] * sp.log(P[i, j] / (pz[i] * py[j])) for i in range(P.rows) for j in range(P.cols))


def marginal_entropy_y(P: sp.Matrix):
    """H(Y) from the joint table (columns are y)."""
    py = [sum(P.col(j)) for j in range(P.cols)]
    return -sum(v * sp.log(v) for v in py)


def _log_expand(expr):
    return sp.expand(sp.expand_log(expr, force=True))


def step2_identity(nz: int = 2, ny: int = 2):
    """Returns H(Y|Z) - (H(Y) - I(Z;Y)) for a generic symbolic joint table; it simplifies to 0."""
    P, _ = joint_symbols(nz, ny)
    return sp.simplify(_log_expand(conditional_entropy(P) - (marginal_entropy_y(P) - mutual_information(P))))


# ----------------------------------------------------------------------------- step 3: data processing


def step3_chain_rule():
    """Data processing for a deterministic encoder Z = g(X_t): I(X_t;Y) = I(Z;Y) + I(X_t;Y | Z).

    X_t takes 3 values, g merges the last two (Z in {0, 1}); Y is binary. Returns
    ``(lhs_minus_rhs, cond_mi)``: the first simplifies to 0, the second is a conditional mutual
    information (a weighted KL divergence, so >= 0), hence I(Z;Y) <= I(X_t;Y).
    """
    P, _ = joint_symbols(3, 2)  # rows: x_t in {0,1,2}; columns: y
    Pz = sp.Matrix([[P[0, 0], P[0, 1]], [P[1, 0] + P[2, 0], P[1, 1] + P[2, 1]]])
    # I(X;Y|Z): only z=1 has two x values; weights P(x,y) log P(x,y)P(z) / (P(x)P(z,y))
    px = [sum(P.row(i)) for i in range(3)]
    pz1 = px[1] + px[2]
    cond = sum(P[i, j] * sp.log(P[i, j] * pz1 / (px[i] * Pz[1, j])) for i in (1, 2) for j in range(2))
    diff = mutual_information(P) - (mutual_information(Pz) + cond)
    return sp.simplify(_log_expand(diff)), cond


# ----------------------------------------------------------------------------- step 4: the bound


def step4_bound():
    """The chain: CE gap = H(Y|Z) - H(Y|X_v) = I(X_v;Y) - I(Z;Y) >= I(X_v;Y) - I(X_t;Y) = Delta_p.

    Symbols: ``HY`` = H(Y), ``Iv`` = I(X_v;Y), ``It`` = I(X_t;Y), ``Iz`` = I(Z;Y), and the slack
    ``s = It - Iz >= 0`` (step 3). Returns ``(ce_gap, delta_p, ce_gap - delta_p)``; the last is ``s``.
    """
    HY, Iv, It, s = sp.symbols("H_Y I_v I_t s", nonnegative=True)
    Iz = It - s  # data processing: I(Z;Y) = I(X_t;Y) - s with s >= 0
    ce_gap = (HY - Iz) - (HY - Iv)  # step 1 + step 2 on both sides
    delta_p = Iv - It
    return ce_gap, delta_p, sp.simplify(ce_gap - delta_p)


# ----------------------------------------------------------------------------- worked discrete example


def caption_example(q=sp.Rational(1, 4), k: int = 4, n_shape: int = 2):
    """The shapes world in miniature: Y = (shape, background), uniform over n_shape x k values.

    The image shows both, X_v = Y. The caption names the shape always and the background only with
    probability ``q`` (else a blank): X_t = (Y1, Y2 or '?'). Returns a dict of exact values (sympy):

    * ``I_v`` = I(X_v;Y) = log(n_shape k); ``I_t`` = I(X_t;Y) = log n_shape + q log k;
    * ``delta_p`` = (1 - q) log k, the theorem's lower bound on the CE price;
    * ``H_bg_aligned``: H(Y2 | Z) for an exactly aligned encoder. For 0 < q < 1 the same image is
      paired with both caption forms, so g_v(x_v) = g_t(named) = g_t(blank): Z cannot depend on the
      background and the price is the whole log k (strictly above the bound); for q = 0 it is log k
      (bound tight), for q = 1 it is 0 (no price: Delta_p = 0).
    """
    check_prob(q, "q")
    if k < 2 or n_shape < 1:
        raise ValueError(f"need k >= 2 backgrounds and n_shape >= 1, got k={k}, n_shape={n_shape}")
    q = sp.nsimplify(q)
    I_v = sp.log(n_shape * k)
    I_t = sp.log(n_shape) + q * sp.log(k)  # H(Y) - H(Y|X_t): H(Y2|X_t) = (1-q) log k
    H_bg = sp.log(k) if q != 1 else sp.Integer(0)
    return {"I_v": I_v, "I_t": sp.expand(I_t), "delta_p": sp.expand(I_v - I_t), "H_bg_aligned": H_bg,
            "H_bg_image": sp.Integer(0)}


def enumerate_caption_example(q: float, k: int = 4, n_shape: int = 2) -> dict:
    """The same quantities by brute-force enumeration of the joint table (numpy), for the tests."""
    check_prob(q, "q")
    rows = {}
    for y1, y2 in itertools.product(range(n_shape), range(k)):
        py = 1.0 / (n_shape * k)
        for named in (True, False):
            pn = q if named else 1 - q
            if pn == 0:
                continue
            xt = (y1, y2 if named else -1)
            rows[(xt, (y1, y2))] = rows.get((xt, (y1, y2)), 0.0) + py * pn
    xts = sorted({x for x, _ in rows})
    ys = sorted({y for _, y in rows})
    J = np.zeros((len(xts), len(ys)))
    for (x, y), p in rows.items():
        J[xts.index(x), ys.index(y)] = p
    return {"I_v": math.log(n_shape * k), "I_t": mutual_information_np(J),
            "delta_p": math.log(n_shape * k) - mutual_information_np(J)}


def mutual_information_np(joint) -> float:
    """I(A;B) in nats of a 2-D joint table (numpy), 0 log 0 = 0."""
    J = check_joint(joint)
    pa, pb = J.sum(1, keepdims=True), J.sum(0, keepdims=True)
    nz = J > 0
    return float((J[nz] * np.log(J[nz] / (pa @ pb)[nz])).sum())


def conditional_entropy_np(joint) -> float:
    """H(B|A) in nats of a 2-D joint table P[a, b] (numpy)."""
    J = check_joint(joint)
    pa = J.sum(1, keepdims=True)
    nz = J > 0
    return float(-(J[nz] * np.log((J / np.where(pa > 0, pa, 1))[nz])).sum())


# ----------------------------------------------------------------------------- noisy channel trade-off


def binary_entropy(eta):
    """h(eta) = -eta log eta - (1 - eta) log(1 - eta) (sympy)."""
    check_prob(eta, "eta")
    return -eta * sp.log(eta) - (1 - eta) * sp.log(1 - eta)


def noisy_channel_tradeoff():
    """Z_v = (Y1, Y2 xor M), M ~ Bern(eta): H(Y|Z_v) = h(eta).

    Returns ``(eta, h, dh, h0, h_half)``: h'(eta) = log((1-eta)/eta) > 0 on (0, 1/2), h(0+) = 0 and
    h(1/2) = log 2: the CE price grows monotonically with the alignment pressure that mixes the
    background bit away.
    """
    eta = sp.symbols("eta", positive=True)
    h = binary_entropy(eta)
    dh = sp.simplify(sp.diff(h, eta))
    return eta, h, dh, sp.limit(h, eta, 0, "+"), sp.simplify(h.subs(eta, sp.Rational(1, 2)))


def noisy_channel_enumeration(eta: float) -> float:
    """H(Y2 | Y2 xor M) by enumerating the 2 x 2 joint table (numpy), for the tests."""
    check_prob(eta, "eta")
    J = np.array([[0.5 * (1 - eta), 0.5 * eta], [0.5 * eta, 0.5 * (1 - eta)]])  # rows: z, columns: y2
    return conditional_entropy_np(J)


# ----------------------------------------------------------------------------- Gaussian example


def gaussian_example():
    """Y ~ N(0,1), X_m = Y + N_m with N_m ~ N(0, sigma_m^2); linear encoders Z_v = a X_v, Z_t = b X_t.

    Returns a dict: ``I_m`` = I(X_m;Y) = (1/2) log(1 + 1/sigma^2) derived as h(X) - h(X|Y);
    ``var_diff`` = Var(a X_v - b X_t); its quadratic-form matrix ``Q`` with ``det_Q`` > 0, so
    exact alignment (var_diff = 0) forces a = b = 0 (``solution``) and I(Z;Y) = 0.
    """
    sigma, sv, st = sp.symbols("sigma sigma_v sigma_t", positive=True)
    a, b = sp.symbols("a b", real=True)
    h_x = sp.log(2 * sp.pi * sp.E * (1 + sigma**2)) / 2  # differential entropy of N(0, 1 + sigma^2)
    h_x_given_y = sp.log(2 * sp.pi * sp.E * sigma**2) / 2
    I_m = sp.simplify(sp.expand_log(h_x - h_x_given_y, force=True))
    var_diff = sp.expand((a - b) ** 2 + a**2 * sv**2 + b**2 * st**2)
    Q = sp.Matrix([[1 + sv**2, -1], [-1, 1 + st**2]])
    det_Q = sp.expand(Q.det())
    solution = sp.solve([sp.diff(var_diff, a), sp.diff(var_diff, b)], [a, b], dict=True)
    return {"sigma": sigma, "sigma_v": sv, "sigma_t": st, "a": a, "b": b, "I_m": I_m, "var_diff": var_diff,
            "Q": Q, "det_Q": det_Q, "solution": solution}
