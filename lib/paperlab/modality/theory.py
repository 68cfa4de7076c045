"""The information-theoretic argument against exact modality alignment, proven in sympy for finite alphabets.

Jiang et al., CVPR 2023 (arXiv 2303.05952), "exact alignment is sub-optimal". The paper's text we
could read (abstract, introduction) states the result in words: when the modality gap is zero
(exact alignment), the representation pays a price on the downstream task, the *information gap*
between the modalities. The statement and proof below are our reconstruction (the paper's theorem
environment was not available to us). What is proven, for random variables on **finite alphabets
of any size** (X_v, X_t, Y, Z discrete; natural logarithms, nats):

    Z = g_v(X_v) = g_t(X_t) almost surely (exact alignment)  =>
    (A)  min_h E[-log h(Y|Z)] - min_h' E[-log h'(Y|X_v)]  >=  I(X_v;Y) - I(X_t;Y)     (one-sided, signed)
    (B)  min_h E[-log h(Y|Z)] - min over m in {v,t} of min_h' E[-log h'(Y|X_m)]  >=  |I(X_v;Y) - I(X_t;Y)|

(A) is informative only when the image knows more about Y than the caption. The absolute value
holds in (B), against the better single modality; it does **not** hold in (A): when I(X_t;Y) >
I(X_v;Y) the left side of (A) can be 0 while |.| > 0 (:func:`abs_counterexample`).

The proof, each step a function here:

* Lemma 1 (:func:`lemma_log_inequality`): f(t) = t - 1 - log t >= 0 on t > 0, equality only at t = 1.
* Lemma 2, Gibbs (:func:`lemma_gibbs`): KL(p||q) = sum_i p_i f(q_i/p_i) + (1 - sum_i q_i) >= 0 for
  distributions on any finite alphabet (sympy checks the summand identity; the sum is over a
  symbolic number n of terms).
* Step 1 (:func:`step1_best_predictor`): E[-log h(Y|Z)] = H(Y|Z) + sum_z p(z) KL(p(.|z)||h(.|z)), so the
  best cross-entropy is H(Y|Z), reached by h = p(y|z).
* Step 2 (:func:`step2_identity`): H(Y|Z) = H(Y) - I(Z;Y) for tables of any size n x m.
* Lemma 3, merging (:func:`lemma_merge`): merging two symbols a, b of X into c changes I(X;Y) by
  exactly p(a) KL(p(y|a)||p(y|c)) + p(b) KL(p(y|b)||p(y|c)) >= 0 (Lemma 2).
* Lemma 4, encoders are merges (:func:`merge_sequence`): any deterministic g on a finite alphabet is
  a sequence of merges followed by a relabelling, so I(g(X);Y) <= I(X;Y) (data processing).
* Theorem (:func:`theorem`): exact alignment makes Z a function of X_t *and* of X_v; Lemma 4 on each,
  with Steps 1-2, gives (A) and (B). The sympy part computes gap - bound from the step identities;
  it is I(X_t;Y) - I(Z;Y) for (A) and min(I_v, I_t) - I(Z;Y) for (B), both >= 0 by Lemma 4.

Zero-probability cells follow the convention 0 log 0 = 0 (the limit, :func:`zero_cell_limit`): a
zero cell contributes 0 to both sides of every summand identity, so the identities are checked on
positive cells. :func:`aligned_world_violations` checks (A) and (B) by brute force on random
exactly-aligned joint tables (the independent computation a ``claims.derivation`` record cites).
Illustrations after the proof: the captions-that-omit-the-background example, a noisy channel and a
Gaussian example.
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


# ----------------------------------------------------------------------------- entropies of tables


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


def residual(expr):
    """``expr`` with logarithms expanded (all symbols positive) and simplified: 0 proves an identity."""
    return sp.simplify(sp.expand(sp.expand_log(expr, force=True)))


def _general_sum(summand_residual, *limits):
    """Sum of a summand identity's residual over symbolic index ranges: 0 when the summand residual is 0.

    An identity between two sums over the same (arbitrary, finite) index set follows from the identity
    of their summands; the symbolic upper limits n, m stand for any alphabet size."""
    return sp.Sum(summand_residual, *limits).doit()


# ----------------------------------------------------------------------------- lemmas 1 and 2: Gibbs' inequality


def lemma_log_inequality() -> dict:
    """Lemma 1: f(t) = t - 1 - log t >= 0 for every t > 0, with equality only at t = 1.

    Proof (sympy): f'(t) = 1 - 1/t vanishes only at t = 1; f''(t) = 1/t^2 > 0, so f is strictly convex
    on (0, oo) and its only critical point is the global minimum, f(1) = 0. sympy's ``minimum`` over
    the open interval (0, oo) returns the same 0 independently.
    """
    t = sp.symbols("t", positive=True)
    f = t - 1 - sp.log(t)
    from sympy.calculus.util import minimum

    return {"t": t, "f": f, "critical": sp.solve(sp.diff(f, t), t), "f2": sp.diff(f, t, 2),
            "convex": bool(sp.diff(f, t, 2).is_positive), "f_at_1": f.subs(t, 1),
            "minimum": minimum(f, t, sp.Interval.open(0, sp.oo))}


def lemma_gibbs() -> dict:
    """Lemma 2 (Gibbs): KL(p||q) = sum_i p_i log(p_i/q_i) >= 0 for distributions on any finite alphabet.

    Summand identity: p log(p/q) = p f(q/p) + (p - q) with f of Lemma 1. Summed over the support S of p
    (n symbols, n symbolic): KL(p||q) = sum_S p_i f(q_i/p_i) + (1 - sum_S q_i). Each p_i f(.) >= 0 by
    Lemma 1 and sum_S q_i <= 1, so KL >= 0; equality iff q = p. Returns the summand residual (0) and
    the residual of the two sums over i = 1..n (0).
    """
    f = lemma_log_inequality()["f"]
    t = next(iter(f.free_symbols))
    p, q = sp.symbols("p q", positive=True)
    summand = p * sp.log(p / q) - (p * f.subs(t, q / p) + (p - q))
    i, n = sp.symbols("i n", integer=True, positive=True)
    P, Q = sp.IndexedBase("p", positive=True), sp.IndexedBase("q", positive=True)
    general = P[i] * sp.log(P[i] / Q[i]) - (P[i] * f.subs(t, Q[i] / P[i]) + (P[i] - Q[i]))
    return {"summand_residual": residual(summand), "n": n,
            "sum_residual": _general_sum(residual(general), (i, 1, n))}


def zero_cell_limit():
    """0 log 0 = 0: the limit of x log x as x -> 0+ (sympy), so zero cells add nothing to any sum."""
    x = sp.symbols("x", positive=True)
    return sp.limit(x * sp.log(x), x, 0, "+")


# ----------------------------------------------------------------------------- steps 1 and 2


def step1_best_predictor() -> dict:
    """Step 1: for any predictor h, E[-log h(Y|Z)] = H(Y|Z) + sum_z p(z) KL(p(.|z) || h(.|z)).

    Per cell (z, y), with u = p(z,y), v = p(z) and w = h(y|z):
        -u log w = -u log(u/v) + v * (u/v) log((u/v)/w).
    Summed over y (m symbols) the last term is p(z) KL(p(.|z)||h(.|z)) >= 0 (Lemma 2), zero iff
    h(.|z) = p(.|z); summed over z (n symbols) the first is H(Y|Z). So min_h E[-log h(Y|Z)] = H(Y|Z).
    Returns the cell residual (0) and its sum over the general n x m table (0).
    """
    u, v, w = sp.symbols("u v w", positive=True)
    cell = -u * sp.log(w) - (-u * sp.log(u / v) + v * (u / v) * sp.log((u / v) / w))
    z, y, n, m = sp.symbols("z y n m", integer=True, positive=True)
    P, Pz, H = (sp.IndexedBase(k, positive=True) for k in ("P", "P_z", "h"))
    general = -P[z, y] * sp.log(H[z, y]) - (-P[z, y] * sp.log(P[z, y] / Pz[z])
                                              + Pz[z] * (P[z, y] / Pz[z]) * sp.log(P[z, y] / Pz[z] / H[z, y]))
    return {"cell_residual": residual(cell), "sum_residual": _general_sum(residual(general), (y, 1, m), (z, 1, n))}


def step2_identity() -> dict:
    """Step 2: H(Y|Z) = H(Y) - I(Z;Y) for a joint table of any size n x m.

    Marginalisation: -p(y) log p(y) = -sum_z p(z,y) log p(y), since p(y) = sum_z p(z,y) (sympy pulls the
    constant log p(y) out of the sum over z). Then per cell, with u = p(z,y), v = p(z), w = p(y):
        -u log(u/v) = -u log w - u log(u/(v w)).
    Returns the marginalisation residual (0), the cell residual (0) and its sum over the table (0).
    """
    z, y, n, m = sp.symbols("z y n m", integer=True, positive=True)
    P, Py = sp.IndexedBase("P", positive=True), sp.IndexedBase("P_y", positive=True)
    marg = sp.factor_terms(sp.Sum(P[z, y] * sp.log(Py[y]), (z, 1, n))) - sp.log(Py[y]) * sp.Sum(P[z, y], (z, 1, n))
    u, v, w = sp.symbols("u v w", positive=True)
    cell = -u * sp.log(u / v) - (-u * sp.log(w) - u * sp.log(u / (v * w)))
    Pz = sp.IndexedBase("P_z", positive=True)
    general = -P[z, y] * sp.log(P[z, y] / Pz[z]) - (-P[z, y] * sp.log(Py[y]) - P[z, y] * sp.log(P[z, y] / (Pz[z] * Py[y])))
    return {"marginalisation_residual": sp.simplify(marg), "cell_residual": residual(cell),
            "sum_residual": _general_sum(residual(general), (y, 1, m), (z, 1, n))}


def step2_table_identity(nz: int = 2, ny: int = 2):
    """The same identity on a concrete symbolic nz x ny table (an illustration of Step 2): 0."""
    P, _ = joint_symbols(nz, ny)
    return residual(conditional_entropy(P) - (marginal_entropy_y(P) - mutual_information(P)))


# ----------------------------------------------------------------------------- lemmas 3 and 4: data processing


def lemma_merge() -> dict:
    """Lemma 3: merging symbols a and b of X into c never increases I(X;Y); the loss is a weighted KL sum.

    I(X;Y) = sum_x R_x with R_x = sum_y p(x,y) log(p(x,y) / (p(x) p(y))). Merging sums rows a and b
    (p(c,y) = p(a,y) + p(b,y), p(c) = p(a) + p(b)); every other row and the column marginal p(y) are
    unchanged, so I(X;Y) - I(X';Y) = R_a + R_b - R_c. Per column y, with alpha = p(a,y), beta = p(b,y),
    A = p(a), B = p(b), w = p(y):
        [alpha log(alpha/(A w)) + beta log(beta/(B w)) - (alpha+beta) log((alpha+beta)/((A+B) w))]
          = A (alpha/A) log((alpha/A) / ((alpha+beta)/(A+B))) + B (beta/B) log((beta/B) / ((alpha+beta)/(A+B))).
    Summed over y (m columns): R_a + R_b - R_c = p(a) KL(p(.|a)||p(.|c)) + p(b) KL(p(.|b)||p(.|c)) >= 0
    by Lemma 2 (p(y|c) > 0 wherever p(y|a) > 0, since p(c,y) >= p(a,y)). Returns the column residual
    (0), its sum over m columns (0) and the weighted-KL expression per column.
    """
    al, be, A, B, w = sp.symbols("alpha beta A B w", positive=True)

    def R(u, v):
        return u * sp.log(u / (v * w))

    lhs = R(al, A) + R(be, B) - R(al + be, A + B)
    pc = (al + be) / (A + B)
    kl_terms = A * (al / A) * sp.log((al / A) / pc) + B * (be / B) * sp.log((be / B) / pc)
    y, m = sp.symbols("y m", integer=True, positive=True)
    a_, b_, w_ = (sp.IndexedBase(k, positive=True) for k in ("p_a", "p_b", "p_y"))
    gen_l = (a_[y] * sp.log(a_[y] / (A * w_[y])) + b_[y] * sp.log(b_[y] / (B * w_[y]))
             - (a_[y] + b_[y]) * sp.log((a_[y] + b_[y]) / ((A + B) * w_[y])))
    gpc = (a_[y] + b_[y]) / (A + B)
    gen_r = A * (a_[y] / A) * sp.log(a_[y] / A / gpc) + B * (b_[y] / B) * sp.log(b_[y] / B / gpc)
    return {"column_residual": residual(lhs - kl_terms), "sum_residual": _general_sum(residual(gen_l - gen_r), (y, 1, m)),
            "kl_terms": kl_terms}


def merge_rows(joint, a: int, b: int) -> np.ndarray:
    """The joint table of X' = X with symbol b merged into a (rows are x): row a += row b, row b removed."""
    J = check_joint(joint)
    if J.ndim != 2:
        raise ValueError(f"merge_rows needs a 2-D joint table P[x, y], got shape {J.shape}")
    if a == b or not (0 <= a < len(J) and 0 <= b < len(J)):
        raise ValueError(f"merge needs two different rows in [0, {len(J)}), got a={a}, b={b}")
    out = J.copy()
    out[a] += out[b]
    return np.delete(out, b, axis=0)


def merge_sequence(g) -> list[tuple[int, int]]:
    """Lemma 4: a deterministic encoder g (g[x] = its code for symbol x) as a sequence of merges.

    Induction on |X| - |g(X)|: while two current symbols share a code, merge them (row indices of the
    current table, the later into the earlier). Each merge leaves a table whose rows have distinct
    codes only when the induction ends; then g is a relabelling, which leaves I unchanged (the MI sum
    does not depend on the order or names of rows). With Lemma 3 at each merge: I(g(X);Y) <= I(X;Y).
    """
    codes = list(np.asarray(g).tolist())
    if not codes:
        raise ValueError("g must give a code to at least one symbol")
    merges = []
    while len(set(codes)) < len(codes):
        for a in range(len(codes)):
            b = next((j for j in range(a + 1, len(codes)) if codes[j] == codes[a]), None)
            if b is not None:
                merges.append((a, b))
                del codes[b]
                break
    return merges


def encode_joint(joint, g) -> np.ndarray:
    """The joint table of (g(X), Y) computed directly (rows in order of first appearance of each code)."""
    J = check_joint(joint)
    g = list(np.asarray(g).tolist())
    if len(g) != len(J):
        raise ValueError(f"g must code each of the {len(J)} rows of the table, got {len(g)} codes")
    order = list(dict.fromkeys(g))
    out = np.zeros((len(order), J.shape[1]))
    for x, c in enumerate(g):
        out[order.index(c)] += J[x]
    return out


# ----------------------------------------------------------------------------- the theorem


def theorem() -> dict:
    """Exact alignment (Z = g_v(X_v) = g_t(X_t) a.s.) => bounds (A) and (B) of the module docstring.

    Symbols: H_Y = H(Y), I_v = I(X_v;Y), I_t = I(X_t;Y), I_z = I(Z;Y). Steps 1-2 turn every best
    cross-entropy into H(Y) - I(.;Y):  CE*(Z) = H_Y - I_z,  CE*(X_m) = H_Y - I_m. sympy then computes
    * ``slack_A`` = [CE*(Z) - CE*(X_v)] - (I_v - I_t) = I_t - I_z, >= 0 by Lemma 4 (Z = g_t(X_t));
    * ``slack_B`` = [CE*(Z) - min_m CE*(X_m)] - |I_v - I_t| = min(I_v, I_t) - I_z, >= 0 by Lemma 4
      applied to both encoders (Z = g_v(X_v) and Z = g_t(X_t)).
    Nothing is assumed about I_z beyond Lemma 4: the slacks are computed, not defined.
    """
    HY, Iv, It, Iz = sp.symbols("H_Y I_v I_t I_z", real=True)
    ce_z, ce_v, ce_t = HY - Iz, HY - Iv, HY - It  # Steps 1 + 2
    slack_A = sp.simplify((ce_z - ce_v) - (Iv - It))
    ce_best = sp.Min(ce_v, ce_t)
    slack_B_raw = (ce_z - ce_best) - sp.Abs(Iv - It)
    check_B = sp.simplify(sp.piecewise_fold((slack_B_raw - (sp.Min(Iv, It) - Iz)).rewrite(sp.Piecewise)))
    return {"symbols": (HY, Iv, It, Iz), "gap_A": ce_z - ce_v, "slack_A": slack_A, "slack_B": sp.Min(Iv, It) - Iz,
            "slack_B_check": check_B}


def abs_counterexample() -> dict:
    """Why (A) has no |.|: when the caption knows more than the image, aligned encoders can lose nothing.

    Y = (Y1, Y2) uniform bits, X_v = Y1 (image sees one bit), X_t = Y (caption sees both); aligned
    encoders g_v(y1) = y1 and g_t(y1, y2) = y1, so Z = Y1. Then CE*(Z) - CE*(X_v) = 0, while
    |I_v - I_t| = log 2. (B), against the better modality X_t, holds: log 2 - 0 >= log 2.
    """
    half = sp.Rational(1, 2)
    I_v, I_t, I_z = sp.log(2), 2 * sp.log(2), sp.log(2)
    H_Y = 2 * sp.log(2)
    return {"gap_A": (H_Y - I_z) - (H_Y - I_v), "abs_delta": sp.Abs(I_v - I_t),
            "gap_B": (H_Y - I_z) - sp.Min(H_Y - I_v, H_Y - I_t), "p": half}


def _entropy_np(p) -> float:
    p = np.asarray(p, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def aligned_world_violations(n_worlds: int = 200, seed: int = 0, max_size: int = 5) -> dict:
    """Brute-force check of (A) and (B) on random exactly-aligned worlds (numpy; independent of the sympy proof).

    Every exactly aligned pair has the form Z = phi(W) for a common part W of X_v = (W, A) and
    X_t = (W, B). Each world draws alphabet sizes in [2, max_size], a Dirichlet joint p(w, a, b, y)
    (some cells zero) and a random phi; it computes every entropy by enumeration. Returns the
    violations max(0, bound - gap) of (A) and (B) (all 0 when the theorem holds) and the gaps.
    """
    if n_worlds < 1 or max_size < 2:
        raise ValueError(f"need n_worlds >= 1 and max_size >= 2, got {n_worlds}, {max_size}")
    rng = np.random.default_rng(seed)
    viol_A, viol_B, gaps = [], [], []
    for _ in range(n_worlds):
        kw, ka, kb, ky = rng.integers(2, max_size + 1, size=4)
        p = rng.dirichlet(np.full(kw * ka * kb * ky, 0.5)).reshape(kw, ka, kb, ky)
        p[rng.random(p.shape) < 0.1] = 0.0
        p /= p.sum()
        phi = rng.integers(0, kw, size=kw)  # the common code Z = phi(W)
        H_Y = _entropy_np(p.sum((0, 1, 2)))

        def cond(tab):  # H(Y | rows) of a (rows, y) table
            return _entropy_np(tab) - _entropy_np(tab.sum(1))

        H_v = cond(p.sum(2).reshape(kw * ka, ky))
        H_t = cond(p.sum(1).reshape(kw * kb, ky))
        H_z = cond(encode_joint(p.sum((1, 2)), phi))
        I_v, I_t = H_Y - H_v, H_Y - H_t
        gap_A, gap_B = H_z - H_v, H_z - min(H_v, H_t)
        viol_A.append(max(0.0, (I_v - I_t) - gap_A))
        viol_B.append(max(0.0, abs(I_v - I_t) - gap_B))
        gaps.append(gap_A)
    return {"violation_A": np.array(viol_A), "violation_B": np.array(viol_B), "gap_A": np.array(gaps)}


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
