"""Hyper-deep and hyper-batch ensembles, reduced to digits (cpu) and CIFAR-10 (gpu).

Paper: Florian Wenzel, Jasper Snoek, Dustin Tran, Rodolphe Jenatton. *Hyperparameter Ensembles for
Robustness and Uncertainty Quantification.* NeurIPS 2020. arXiv:2006.13570.
Official code: github.com/google/uncertainty-baselines (``baselines/cifar/hyperdeepensemble.py``,
``hyperbatchensemble.py``, ``models/wide_resnet_hyperbatchensemble.py``) and github.com/google/edward2
(``edward2/tensorflow/layers/dense.py``: ``DenseBatchEnsemble``, ``DenseHyperBatchEnsemble``).
This is our own PyTorch re-implementation of the same equations.

Conventions (one for all methods, the official code's): an L2 strength ``lam`` adds
``(lam / N_train) * sum(w**2)`` to the mean cross-entropy, so ``lam`` is "per training set".
Ensembles average *probabilities*; the ensemble NLL is the NLL of that average.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from paperlab.core import metrics

# ----------------------------------------------------------------------------------------- data


def noisy_labels(y: torch.Tensor, rate: float, seed: int) -> torch.Tensor:
    """Symmetric label noise: each label is replaced, with probability ``rate``, by one of the other 9 classes."""
    if not 0.0 <= rate < 0.9:
        raise ValueError(f"label noise rate must lie in [0, 0.9), got {rate}")
    g = np.random.default_rng(seed)
    y = y.clone()
    flip = g.random(len(y)) < rate
    y[torch.from_numpy(flip)] = torch.from_numpy((y.numpy()[flip] + g.integers(1, 10, int(flip.sum()))) % 10)
    return y


def digits_splits(n_train: int = 300, n_val: int = 300, n_test: int = 600, seed: int = 0, label_noise: float = 0.0):
    """sklearn digits as float32 tensors, split stratified into disjoint train / val / test.

    Returns ``{"train": (X, y), "val": (X, y), "test": (X, y)}`` with ``X`` (n, 64) in [0, 1].
    Test is drawn first, then val, so changing ``n_train`` keeps val and test fixed. ``seed`` draws the split.
    ``label_noise`` flips that fraction of the *train and val* labels (val is held out from the same labelled
    data, as the paper's 5% validation split); test labels stay clean.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    if min(n_train, n_val, n_test) < 10 or n_train + n_val + n_test > len(y):
        raise ValueError(f"sizes (n_train={n_train}, n_val={n_val}, n_test={n_test}) must each be >= 10 "
                         f"and sum to at most {len(y)}")
    rX, Xte, ry, yte = train_test_split(X, y, test_size=n_test, random_state=seed, stratify=y)
    rX, Xva, ry, yva = train_test_split(rX, ry, test_size=n_val, random_state=seed + 1, stratify=ry)
    if n_train < len(ry):
        rX, _, ry, _ = train_test_split(rX, ry, train_size=n_train, random_state=seed + 2, stratify=ry)
    t = lambda a, b: (torch.from_numpy(a), torch.from_numpy(b))  # noqa: E731
    out = {"train": t(rX, ry), "val": t(Xva, yva), "test": t(Xte, yte)}
    if label_noise:
        for i, k in enumerate(("train", "val")):
            out[k] = (out[k][0], noisy_labels(out[k][1], label_noise, seed=10_000 * (i + 1) + seed))
    return out


def shift_digits(X: torch.Tensor, rotate_deg: float = 20.0, noise_std: float = 0.1, seed: int = 0) -> torch.Tensor:
    """Covariate shift for flattened 8x8 digits (n, 64): random rotation in +-rotate_deg (scipy), then noise."""
    from scipy import ndimage

    if X.ndim != 2 or X.shape[1] != 64:
        raise ValueError(f"shift_digits expects (n, 64) flattened digits, got {tuple(X.shape)}")
    g = np.random.default_rng(seed)
    imgs = X.numpy().reshape(-1, 8, 8)
    angles = g.uniform(-rotate_deg, rotate_deg, size=len(imgs))
    imgs = np.stack([ndimage.rotate(im, a, reshape=False, order=1) for im, a in zip(imgs, angles)])
    imgs = imgs + g.normal(0.0, noise_std, size=imgs.shape)
    return torch.from_numpy(np.clip(imgs, 0, 1).reshape(len(X), 64).astype(np.float32))


# ------------------------------------------------------------------------------ search space


@dataclass(frozen=True)
class SearchSpace:
    """Named hyperparameter ranges ``{name: (low, high)}``, each sampled log-uniformly (as the paper)."""

    ranges: dict = field(default_factory=lambda: {"l2": (1e-2, 1e2), "label_smoothing": (1e-4, 0.2),
                                                  "dropout": (1e-3, 0.5)})

    def __post_init__(self):
        if not self.ranges:
            raise ValueError("empty search space: give at least one {name: (low, high)} range")
        for name, (lo, hi) in self.ranges.items():
            if not 0 < lo < hi:
                raise ValueError(f"range of {name!r} must satisfy 0 < low < high, got ({lo}, {hi})")

    def sample(self, n: int, seed: int) -> list[dict]:
        """``n`` independent draws; log-uniform: exp(U(log low, log high)) per coordinate."""
        g = np.random.default_rng(seed)
        return [{k: float(np.exp(g.uniform(np.log(lo), np.log(hi)))) for k, (lo, hi) in self.ranges.items()}
                for _ in range(n)]

    def check(self, lam: dict) -> dict:
        """Raise ValueError if ``lam`` lacks a name of the space or lies outside a range."""
        for k, (lo, hi) in self.ranges.items():
            if k not in lam:
                raise ValueError(f"hyperparameters {sorted(lam)} lack {k!r} of the search space")
            if not lo <= lam[k] <= hi:
                raise ValueError(f"hyperparameter {k}={lam[k]:g} is outside its range [{lo:g}, {hi:g}]")
        return lam


# The digits experiment's space: L2 and dropout, as the paper's MLP / LeNet experiments (card). The L2 range is
# the one the hyper-batch ensemble tunes over too (HBConfig.lam_range), so both methods search the same lambdas;
# above ~3 (per training set, / N_train) the digits MLP collapses to chance (see the notebook's lever plot).
DIGITS_SPACE = {"l2": (1e-3, 3.0), "dropout": (1e-3, 0.5)}


# ------------------------------------------------------------------------------------ models


class MLP(nn.Module):
    """64-128-128-10 ReLU MLP with dropout after each hidden layer. Input (B, 64) -> logits (B, 10)."""

    def __init__(self, d_in: int = 64, hidden: int = 128, n_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.net(x.flatten(1))


class LeNet(nn.Module):
    """A small LeNet for 8x8 digits: conv(6)-pool-conv(16)-pool-fc(64)-fc(10). Input (B, 64) or (B, 1, 8, 8)."""

    def __init__(self, n_classes: int = 10, dropout: float = 0.0, side: int = 8, channels: int = 1):
        super().__init__()
        self.side, self.channels = side, channels
        self.features = nn.Sequential(nn.Conv2d(channels, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        flat = 16 * (side // 4) ** 2
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, 64), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(64, n_classes))

    def forward(self, x):
        if x.ndim == 2:
            x = x.view(-1, self.channels, self.side, self.side)
        return self.head(self.features(x))


ARCHS = {"mlp": MLP, "lenet": LeNet}


def make_model(arch: str, dropout: float = 0.0, **kw) -> nn.Module:
    if arch not in ARCHS and arch != "wrn":
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(ARCHS) + ['wrn']}")
    if arch == "wrn":
        return WideResNet(dropout=dropout, **kw)
    return ARCHS[arch](dropout=dropout, **kw)


# -------------------------------------------------------------------------- one member's fit


class Batches:
    """Re-iterable shuffled minibatches of (X, y); reshuffles each epoch from its own generator."""

    def __init__(self, X, y, batch_size: int, seed: int):
        self.X, self.y, self.bs = X, y, batch_size
        self.g = torch.Generator().manual_seed(seed)

    def __iter__(self):
        perm = torch.randperm(len(self.y), generator=self.g)
        for i in range(0, len(perm), self.bs):
            idx = perm[i:i + self.bs]
            yield self.X[idx], self.y[idx]


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """sum of squared weights of every parameter (kernels and biases; the code regularises both)."""
    return sum((p ** 2).sum() for p in model.parameters())


def train_member(arch: str, lam: dict, data: dict, seed: int, *, epochs: int = 60, batch_size: int = 64,
                 lr: float = 3e-3, device: str = "cpu", model_kw: dict | None = None) -> nn.Module:
    """Train one model of ``arch`` with hyperparameters ``lam`` = {l2, label_smoothing, dropout}.

    Loss: CE with label smoothing + (l2 / N_train) * ||w||^2 (the code's convention), Adam, fixed epochs.
    """
    from paperlab.core.train import fit

    torch.manual_seed(seed)
    Xtr, ytr = data["train"]
    n = len(ytr)
    model = make_model(arch, dropout=lam.get("dropout", 0.0), **(model_kw or {})).to(device)

    def loss_fn(m, batch):
        x, y = (t.to(device) for t in batch)
        ce = F.cross_entropy(m(x), y, label_smoothing=lam.get("label_smoothing", 0.0))
        return ce + lam.get("l2", 0.0) / n * l2_penalty(m)

    fit(model, loss_fn, Batches(Xtr, ytr, batch_size, seed), epochs=epochs, lr=lr, progress=False)
    return model


@torch.no_grad()
def predict_probs(model: nn.Module, X: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Softmax probabilities (N, C) in eval mode, on the model's device, returned on cpu."""
    model.eval()
    dev = next(model.parameters()).device
    out = [F.softmax(model(X[i:i + batch_size].to(dev)).double(), -1).cpu() for i in range(0, len(X), batch_size)]
    return torch.cat(out)


# ----------------------------------------------------------------------- ensembles + greedy


def ensemble_probs(member_probs, weights=None) -> torch.Tensor:
    """Eq. (ensemble): p(y|x) = sum_m w_m p_m(y|x) / sum_m w_m; ``member_probs`` (M, N, C) or list of (N, C)."""
    if isinstance(member_probs, (list, tuple)):
        shapes = {tuple(p.shape) for p in member_probs}
        if len(shapes) != 1:
            raise ValueError(f"ensemble members' outputs must share one shape (N, C), got {sorted(shapes)}")
        member_probs = torch.stack([torch.as_tensor(p) for p in member_probs])
    P = torch.as_tensor(member_probs, dtype=torch.float64)
    if P.ndim != 3 or P.shape[0] == 0:
        raise ValueError(f"member_probs must be (M, N, C) with M >= 1, got {tuple(P.shape)}")
    w = torch.ones(P.shape[0], dtype=P.dtype) if weights is None else torch.as_tensor(weights, dtype=P.dtype)
    if w.shape != (P.shape[0],):
        raise ValueError(f"weights must have shape ({P.shape[0]},), got {tuple(w.shape)}")
    p = (w[:, None, None] * P).sum(0) / w.sum()
    return p / p.sum(-1, keepdim=True)  # exact normalisation in float64 (sklearn checks rows sum to 1)


def greedy_selection(val_probs, labels, K: int, objective: str = "nll") -> list[int]:
    """Caruana et al. (2004) greedy ensemble selection *with replacement*, as ``hyperdeepensemble.py``.

    ``val_probs`` (M, N, C). Repeatedly add the pool member that most lowers the validation objective of
    the probability-averaged ensemble; stop at K distinct members or when no addition improves the best
    objective so far. Returns the selected indices in order (repeats allowed: a repeat is a weight).
    """
    P = torch.as_tensor(val_probs, dtype=torch.float64)
    if P.ndim != 3:
        raise ValueError(f"val_probs must be (M, N, C), got {tuple(P.shape)}")
    if not 1 <= K <= P.shape[0]:
        raise ValueError(f"ensemble size K={K} must be between 1 and the pool size {P.shape[0]}")
    if objective not in ("nll", "error"):
        raise ValueError(f"objective must be 'nll' or 'error', got {objective!r}")
    score = metrics.nll if objective == "nll" else (lambda p, y: 1.0 - metrics.accuracy(p, y))
    ens, best = [], math.inf
    while len(set(ens)) < K:
        total = P[ens].sum(0) if ens else torch.zeros_like(P[0])
        best_id = None
        for m in range(P.shape[0]):
            obj = score((total + P[m]) / (len(ens) + 1), labels)
            if obj < best:  # strict improvement over the best objective of all rounds so far
                best, best_id = obj, m
        if best_id is None:
            break
        ens.append(best_id)
    return ens


@dataclass
class Pool:
    """Trained candidates: their hyperparameters, seeds, and predicted probabilities per split."""

    lams: list = field(default_factory=list)
    seeds: list = field(default_factory=list)
    probs: dict = field(default_factory=dict)  # split name -> list of (N, C) tensors

    def add(self, lam, seed, probs_by_split):
        self.lams.append(lam)
        self.seeds.append(seed)
        for k, p in probs_by_split.items():
            self.probs.setdefault(k, []).append(p)

    def stack(self, split: str, idx=None) -> torch.Tensor:
        idx = range(len(self.lams)) if idx is None else idx
        return torch.stack([self.probs[split][i] for i in idx])

    def __len__(self):
        return len(self.lams)


def train_into(pool: Pool, arch: str, lam: dict, seed: int, data: dict, eval_sets: dict, **train_kw) -> int:
    """Train one member and store its probabilities on every evaluation set; returns its pool index."""
    pool.add(lam, seed, member_probs(arch, lam, seed, data, eval_sets, **train_kw))
    return len(pool) - 1


def member_probs(arch: str, lam: dict, seed: int, data: dict, eval_sets: dict, **train_kw) -> dict:
    """One random-search trial: train a member from ``seed`` with ``lam``, return {split: probs (N, C)}.

    Module-level and seeded only from its arguments: the job ``run_many`` spreads over processes."""
    model = train_member(arch, lam, data, seed, **train_kw)
    return {k: predict_probs(model, X) for k, (X, _) in eval_sets.items()}


def hyper_deep_ensemble(arch: str, space: SearchSpace, data: dict, eval_sets: dict, *, K: int = 4,
                        n_pool: int = 30, seed: int = 0, progress: bool = True, workers: int = 1,
                        mapper=None, **train_kw) -> dict:
    """Algorithm 1 (hyper_deep_ens) and its baselines from ONE random search, for a fair paired comparison.

    1. random search: ``n_pool`` models with log-uniform lambda and their own seeds;
    2. single best = lowest validation NLL; deep ensemble = its lambda with K inits (K-1 new models);
    3. hyper-ens = greedy(pool, K); 4. stratify: each selected lambda with K inits (K-1 new each),
       hyper-deep = greedy(stratified pool, K). Returns member indices and models trained per method.

    The trials of each step are independent (every seed is drawn up front, in the sequential order):
    ``workers`` > 1 trains them in local processes, and under torchrun the ranks split them, with the
    same pool as ``workers=1``. ``mapper(fn, jobs, common)`` replaces that spreading (the CLI's ``Run.map``).
    """
    from paperlab.core import distributed as D

    if n_pool < K:
        raise ValueError(f"pool size n_pool={n_pool} must be >= K={K}")
    yv = data["val"][1]
    pool, rs = Pool(), np.random.default_rng(seed)
    new_seed = lambda: int(rs.integers(0, 2**31 - 1))  # noqa: E731
    mapper = mapper or D.mapper_for(workers)
    common = {"arch": arch, "data": data, "eval_sets": eval_sets, **train_kw}
    bar = tqdm(total=n_pool + 2 * K * (K - 1), desc=f"{arch} seed {seed}", disable=not progress or not D.is_main_process(),
               leave=False)

    def train_many(lams: list[dict]) -> list[int]:
        jobs = [{"lam": lam, "seed": new_seed()} for lam in lams]
        for job, probs in zip(jobs, mapper(member_probs, jobs, common)):
            pool.add(job["lam"], job["seed"], probs)
        bar.update(len(jobs))
        return list(range(len(pool) - len(jobs), len(pool)))

    train_many(space.sample(n_pool, seed))
    val_nll = [metrics.nll(p, yv) for p in pool.probs["val"][:n_pool]]
    best = int(np.argmin(val_nll))
    deep = [best] + train_many([pool.lams[best]] * (K - 1))
    hyper = greedy_selection(pool.stack("val", range(n_pool)), yv, K)
    chosen = list(dict.fromkeys(hyper))  # distinct selected lambdas, in selection order
    new = train_many([pool.lams[i] for i in chosen for _ in range(K - 1)])
    strat = []
    for j, i in enumerate(chosen):
        strat += [i, *new[j * (K - 1):(j + 1) * (K - 1)]]
    bar.close()
    sel = greedy_selection(pool.stack("val", strat), yv, K)
    hyper_deep = [strat[j] for j in sel]
    return {"pool": pool, "single": [best], "deep": deep, "hyper": hyper, "hyper_deep": hyper_deep, "strat": strat,
            "n_trained": {"single": n_pool, "deep": n_pool + K - 1, "hyper": n_pool,
                          "hyper_deep": n_pool + (K - 1) * len(set(hyper))}}


def evaluate(member_probs, labels) -> dict:
    """NLL, accuracy, ECE, Brier of the probability-averaged ensemble (core.metrics wrappers)."""
    p = ensemble_probs(member_probs)
    return {"nll": metrics.nll(p, labels), "acc": metrics.accuracy(p, labels), "ece": metrics.ece(p, labels),
            "brier": metrics.brier(p, labels)}


def disagreement(member_probs) -> float:
    """Mean pairwise disagreement of the members' top-1 predictions (1 - sklearn accuracy_score per pair)."""
    from sklearn.metrics import accuracy_score

    preds = [torch.as_tensor(p).argmax(-1).numpy() for p in member_probs]
    pairs = [(i, j) for i in range(len(preds)) for j in range(i + 1, len(preds))]
    if not pairs:
        return 0.0
    return float(np.mean([1.0 - accuracy_score(preds[i], preds[j]) for i, j in pairs]))


# ------------------------------------------------------------------ batch / hyper-batch layer


class HyperBatchLinear(nn.Module):
    """Dense (Hyper-)BatchEnsemble layer (edward2 ``DenseBatchEnsemble`` / ``DenseHyperBatchEnsemble``).

    Rows of the input are member-major: (K * n, d_in), rows [j*n, (j+1)*n) belong to member j.
    ``e`` (K * n, 2 * d_out) are the embeddings e(lambda) = [e1, e2] of each row's hyperparameters.
    With ``hyper=False`` it is a plain BatchEnsemble layer and ``e`` is ignored.
    """

    def __init__(self, d_in: int, d_out: int, K: int, hyper: bool = True, fast_weights_eq: bool = True,
                 sign_init_std: float = 0.75):
        super().__init__()
        self.K, self.d_in, self.d_out, self.hyper, self.eq = K, d_in, d_out, hyper, fast_weights_eq
        self.W = nn.Parameter(nn.init.xavier_uniform_(torch.empty(d_in, d_out)))
        self.r = nn.Parameter(1 + sign_init_std * torch.randn(K, d_in))  # random_sign_init=-0.75: N(1, 0.75)
        self.s = nn.Parameter(1 + sign_init_std * torch.randn(K, d_out))
        self.b = nn.Parameter(torch.zeros(K, d_out))
        if hyper:
            self.W2 = nn.Parameter(nn.init.xavier_uniform_(torch.empty(d_in, d_out)))
            self.b2 = nn.Parameter(torch.zeros(K, d_out))
            if not fast_weights_eq:
                self.u = nn.Parameter(1 + sign_init_std * torch.randn(K, d_in))
                self.v = nn.Parameter(1 + sign_init_std * torch.randn(K, d_out))

    def _per_row(self, t: torch.Tensor, n: int) -> torch.Tensor:
        return t.repeat_interleave(n, dim=0)  # (K, d) -> (K * n, d), member-major

    def forward(self, x: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.d_in or x.shape[0] % self.K:
            raise ValueError(f"input must be (K*n, {self.d_in}) with K={self.K}, got {tuple(x.shape)}")
        n = x.shape[0] // self.K
        r, s, b = (self._per_row(t, n) for t in (self.r, self.s, self.b))
        y = ((x * r) @ self.W) * s + b  # Eq. BatchEnsemble: x^T (W o r_j s_j^T) + b_j
        if self.hyper:
            if e is None or e.shape != (x.shape[0], 2 * self.d_out):
                raise ValueError(f"hyper layer needs e of shape ({x.shape[0]}, {2 * self.d_out}), got "
                                 f"{None if e is None else tuple(e.shape)}")
            e1, e2 = e[:, :self.d_out], e[:, self.d_out:]
            u, v = (r, s) if self.eq else (self._per_row(self.u, n), self._per_row(self.v, n))
            # Eq. hyper-batch: + x^T (e1(lam) o (W' o u_j v_j^T)) + e2(lam) o b'_j
            y = y + e1 * (((x * u) @ self.W2) * v) + e2 * self._per_row(self.b2, n)
        return y

    def l2(self, lam_rows: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        """1/(K n) sum_rows lam_row ||W + W' diag(e1_row)||^2 + lam_row ||b_j + e2_row o b'_j||^2
        (edward2's regularizer with regularize_fast_weights=False); plain BatchEnsemble: lam ||W||^2 + lam ||b_j||^2."""
        n = lam_rows.shape[0] // self.K
        b = self._per_row(self.b, n)
        if not self.hyper:
            return (lam_rows * ((self.W ** 2).sum() + (b ** 2).sum(1))).mean()
        e1, e2 = e[:, :self.d_out], e[:, self.d_out:]
        cw, cww, cw2 = (self.W ** 2).sum(0), (self.W * self.W2).sum(0), (self.W2 ** 2).sum(0)  # per column
        kern = cw.sum() + 2 * e1 @ cww + (e1 ** 2) @ cw2  # ||W + W' diag(e1)||^2 expanded per column
        bias = ((b + e2 * self._per_row(self.b2, n)) ** 2).sum(1)
        return (lam_rows * (kern + bias)).mean()


class HyperBatchMLP(nn.Module):
    """The digits MLP with every dense layer a (hyper-)batch-ensemble layer; K members in one network.

    Hyperparameters per row: one L2 strength per layer (the code tunes one per layer group) and, when
    ``dropout_range`` is given, one dropout rate applied after both hidden layers (the paper's MLP tunes
    L2 and dropout). ``lam`` rows (K*n, L) are embedded as in the code: each column log-scaled into [0, 1]
    over its range, then a linear e-model per layer without bias, initialised with std 1e-4.
    Dropout is sampled only in training mode and only when ``forward(..., dropout=True)``: the tuning step
    runs without it, so a dropout rate reaches the validation loss only through e(lambda) (as in
    self-tuning networks).
    """

    def __init__(self, K: int = 4, d_in: int = 64, hidden: int = 128, n_classes: int = 10, hyper: bool = True,
                 lam_range: tuple = (1e-3, 3.0), dropout_range: tuple | None = None, fast_weights_eq: bool = True):
        super().__init__()
        dims = [d_in, hidden, hidden, n_classes]
        self.K, self.hyper, self.n_l2 = K, hyper, len(dims) - 1
        self.has_dropout = dropout_range is not None
        self.n_lam = self.n_l2 + int(self.has_dropout)
        ranges = [lam_range] * self.n_l2 + ([dropout_range] if self.has_dropout else [])
        self.register_buffer("log_min", torch.tensor([math.log(lo) for lo, _ in ranges]))
        self.register_buffer("log_max", torch.tensor([math.log(hi) for _, hi in ranges]))
        self.layers = nn.ModuleList(HyperBatchLinear(a, b, K, hyper, fast_weights_eq) for a, b in zip(dims, dims[1:]))
        if hyper:
            self.e_models = nn.ModuleList(nn.Linear(self.n_lam, 2 * b, bias=False) for b in dims[1:])
            for em in self.e_models:
                nn.init.normal_(em.weight, std=1e-4)  # init_emodels_stddev = 1e-4

    def embed(self, lam: torch.Tensor) -> list:
        """e(lambda) per layer from rows of lambdas (K*n, L): LogScaler then linear heads."""
        if not self.hyper:
            return [None] * len(self.layers)
        z = (lam.log() - self.log_min) / (self.log_max - self.log_min)
        return [em(z) for em in self.e_models]

    def forward(self, x: torch.Tensor, lam: torch.Tensor, dropout: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """x (K*n, d_in) member-major, lam (K*n, L) -> (logits (K*n, C), L2 term averaged over rows)."""
        if lam.shape != (x.shape[0], self.n_lam):
            raise ValueError(f"lam must be ({x.shape[0]}, {self.n_lam}), got {tuple(lam.shape)}")
        es, reg = self.embed(lam), x.new_zeros(())
        drop = self.has_dropout and dropout and self.training
        for i, (layer, e) in enumerate(zip(self.layers, es)):
            reg = reg + layer.l2(lam[:, i], e)
            x = layer(x, e)
            if i < len(self.layers) - 1:
                x = F.relu(x)
                if drop:  # inverted dropout with each row's own rate p: keep with prob 1 - p, scale by 1 / (1 - p)
                    p = lam[:, self.n_l2:].detach()
                    x = x * (torch.rand_like(x) >= p) / (1 - p)
        return x, reg


# Log-uniform hyperparameter distributions, one per member: lam ~ logU(exp(lo), exp(hi)) per coordinate.

def log_uniform_sample(log_lo: torch.Tensor, log_hi: torch.Tensor, n: int) -> torch.Tensor:
    """(K, L) bounds -> (K*n, L) member-major samples exp(lo + (hi - lo) U), reparameterised."""
    u = torch.rand(log_lo.shape[0], n, log_lo.shape[1], device=log_lo.device)
    return torch.exp(log_lo[:, None] + (log_hi - log_lo)[:, None] * u).reshape(-1, log_lo.shape[1])


def log_uniform_mean(log_lo: torch.Tensor, log_hi: torch.Tensor) -> torch.Tensor:
    """E[lam] = (e^hi - e^lo) / (hi - lo), the prediction-time lambda (num_eval_samples=0)."""
    return (log_hi.exp() - log_lo.exp()) / (log_hi - log_lo)


def log_uniform_entropy(log_lo: torch.Tensor, log_hi: torch.Tensor) -> torch.Tensor:
    """Entropy of logU, averaged over members and coordinates: (hi + lo) / 2 + log(hi - lo)."""
    return (0.5 * (log_hi + log_lo) + torch.log(log_hi - log_lo)).mean()


def ensemble_ce(logits: torch.Tensor, y: torch.Tensor, K: int) -> torch.Tensor:
    """-mean_i log (1/K) sum_j p_j(y_i | x_i): NLL of the averaged members (logits (K*n, C), y (n,))."""
    logp = F.log_softmax(logits, -1).view(K, -1, logits.shape[-1])
    logp = torch.logsumexp(logp, 0) - math.log(K)
    return F.nll_loss(logp, y)


@dataclass
class HBConfig:
    K: int = 4
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    fast_lr_mult: float = 0.5  # fast_weight_lr_multiplier
    tune_every: int = 3  # tuning_every_x_step
    lr_tuning: float = 1e-2  # the code: 1e-3, but over ~100x more tuning steps than we take
    tau: float = 1e-3
    lam_range: tuple = (1e-3, 3.0)  # L2; the code: (0.1, 100) for N = 47,500; ours matches the digits search space
    dropout_range: tuple | None = None  # (low, high) to tune a dropout rate too (the paper's MLP); None: L2 only
    init_rel: float = 0.014  # ens_init_delta_bounds relative to lam0 (the code: 0.2 around lam0 ~ 14.5)
    fixed_l2: float = 1.0  # plain BatchEnsemble's L2 (the single best lambda of the search in the notebook)
    fixed_dropout: float = 0.0  # plain BatchEnsemble's dropout rate (used when dropout_range is given)
    tune: bool = True  # False: keep each member's initial distribution (ablation)

    def ranges(self, n_l2: int = 3) -> list[tuple]:
        """(low, high) per hyperparameter column: ``n_l2`` L2 columns, then dropout if tuned."""
        out = [tuple(self.lam_range)] * n_l2 + ([tuple(self.dropout_range)] if self.dropout_range else [])
        for lo, hi in out:
            if not 0 < lo < hi:
                raise ValueError(f"hyperparameter range must satisfy 0 < low < high, got ({lo}, {hi})")
        return out

    def fixed(self, n_l2: int = 3) -> list[float]:
        """The plain BatchEnsemble's hyperparameter row."""
        return [self.fixed_l2] * n_l2 + ([self.fixed_dropout] if self.dropout_range else [])


def _range_logs(cfg: HBConfig, n_lam: int) -> tuple[torch.Tensor, torch.Tensor]:
    r = cfg.ranges(n_lam - int(cfg.dropout_range is not None))
    return torch.tensor([math.log(lo) for lo, _ in r]), torch.tensor([math.log(hi) for _, hi in r])


def init_bounds(cfg: HBConfig, n_lam: int) -> tuple[torch.Tensor, torch.Tensor]:
    """As the code: lam0 ~ N(mean of logU over the range, 0.1 * delta); bounds lam0 -+ delta, then logs.

    Per column, with delta = ``init_rel`` * lam0 (the code's 0.2 at lam0 ~ 14.5, relative)."""
    lo, hi = _range_logs(cfg, n_lam)
    mean = log_uniform_mean(lo, hi)  # (n_lam,)
    lam0 = mean * (1 + 0.1 * cfg.init_rel * torch.randn(cfg.K, n_lam))
    delta = cfg.init_rel * mean
    return (lam0 - delta).clamp_min(1e-8).log(), (lam0 + delta).log()


@torch.no_grad()
def clip_bounds(log_lo, log_hi, cfg: HBConfig) -> None:
    """Project log_min <= lo <= hi - eps <= log_max per column (clip_lambda_parameters)."""
    a, b = (t.to(log_lo.device) for t in _range_logs(cfg, log_lo.shape[1]))
    eps = 1e-6 * 0.5 * (b - a)
    log_lo.copy_(torch.minimum(torch.maximum(log_lo, a), b - 2 * eps))
    log_hi.copy_(torch.maximum(torch.minimum(log_hi, b), log_lo + eps))


def _batches_forever(X, y, batch_size, seed):
    while True:
        yield from Batches(X, y, batch_size, seed)
        seed += 1


def train_batch_ensemble(data: dict, cfg: HBConfig, seed: int = 0, hyper: bool = True,
                         progress: bool = True, device: str = "cpu") -> dict:
    """Train a BatchEnsemble (``hyper=False``) or a hyper-batch ensemble by alternating optimisation.

    Weight step (train split): lam ~ member's logU per row, loss = Gibbs CE (mean member CE)
    + (1/N) * L2(lam), dropout at each row's sampled rate. Every ``tune_every`` steps a tuning step (val
    split): minimise the ensemble CE - tau * entropy of the lam distributions w.r.t. the log-bounds only,
    then clip them into range. The plain BatchEnsemble uses ``cfg.fixed()`` for every member.
    Returns {"model", "log_lo", "log_hi", "fixed", "trace": mean lam per member over time}.
    """
    torch.manual_seed(seed)
    (Xtr, ytr), (Xva, yva), K = data["train"], data["val"], cfg.K
    Xtr, Xva = Xtr.flatten(1), Xva.flatten(1)  # images -> vectors: the hyper-batch net is an MLP
    model = HyperBatchMLP(K, d_in=Xtr.shape[1], hyper=hyper, lam_range=cfg.lam_range,
                          dropout_range=cfg.dropout_range).to(device)
    fast = [p for n, p in model.named_parameters() if n.split(".")[-1] in ("r", "s", "u", "v")]
    slow = [p for n, p in model.named_parameters() if n.split(".")[-1] not in ("r", "s", "u", "v")]
    opt = torch.optim.Adam([{"params": slow}, {"params": fast, "lr": cfg.lr * cfg.fast_lr_mult}], lr=cfg.lr)
    log_lo, log_hi = (nn.Parameter(t.to(device)) for t in init_bounds(cfg, model.n_lam))
    clip_bounds(log_lo, log_hi, cfg)
    fixed = torch.tensor(cfg.fixed(model.n_l2), device=device)
    tuner = torch.optim.Adam([log_lo, log_hi], lr=cfg.lr_tuning)
    val_it, step, trace = _batches_forever(Xva, yva, cfg.batch_size, seed + 10_000), 0, []
    for _ in tqdm(range(cfg.epochs), desc="hyper-batch" if hyper else "batch ens", disable=not progress, leave=False):
        model.train()
        for x, y in Batches(Xtr, ytr, cfg.batch_size, seed + step):
            x, y, n = x.to(device), y.to(device), len(y)
            lam = log_uniform_sample(log_lo.detach(), log_hi.detach(), n) if hyper else fixed.expand(K * n, -1)
            logits, reg = model(x.repeat(K, 1), lam)
            loss = F.cross_entropy(logits, y.repeat(K)) + reg / len(ytr)  # Gibbs CE + L2 / N_train
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if hyper and cfg.tune and step % cfg.tune_every == 0:
                tuning_step(model, next(val_it), log_lo, log_hi, tuner, cfg)
        trace.append(log_uniform_mean(log_lo, log_hi).detach().clone())
    model.eval()
    return {"model": model, "log_lo": log_lo.detach(), "log_hi": log_hi.detach(), "fixed": fixed.cpu(),
            "trace": torch.stack(trace)}


def tuning_step(model, batch, log_lo, log_hi, tuner, cfg: HBConfig) -> float:
    """One step on the lam distributions: ensemble CE on a val batch - tau * entropy; weights untouched.

    No dropout is sampled here: a dropout rate acts on the validation loss only through e(lambda)."""
    x, y = (t.to(log_lo.device) for t in batch)
    lam = log_uniform_sample(log_lo, log_hi, len(y))  # reparameterised: gradients reach the bounds
    logits, _ = model(x.repeat(cfg.K, 1), lam, dropout=False)
    loss = ensemble_ce(logits, y, cfg.K) - cfg.tau * log_uniform_entropy(log_lo, log_hi)
    g_lo, g_hi = torch.autograd.grad(loss, [log_lo, log_hi])
    log_lo.grad, log_hi.grad = g_lo, g_hi
    tuner.step()
    clip_bounds(log_lo, log_hi, cfg)
    return float(loss.detach())


@torch.no_grad()
def batch_ensemble_probs(run: dict, X: torch.Tensor, fixed_l2: float | None = None) -> torch.Tensor:
    """Member probabilities (K, N, C); each hyper member at the mean of its lam distribution (eval mode: no dropout).

    A plain BatchEnsemble uses its fixed hyperparameters (``run["fixed"]``; ``fixed_l2`` overrides the L2)."""
    model = run["model"]
    K, dev = model.K, run["log_lo"].device
    if model.hyper:
        lam_k = log_uniform_mean(run["log_lo"], run["log_hi"])
    else:
        row = run["fixed"].clone().to(dev) if "fixed" in run else torch.ones(model.n_lam, device=dev)
        if fixed_l2 is not None:
            row[:model.n_l2] = fixed_l2
        lam_k = row.expand(K, -1)
    model.eval()
    out = []
    for i in range(0, len(X), 1024):
        x = X[i:i + 1024].flatten(1).to(dev)
        logits, _ = model(x.repeat(K, 1), lam_k.repeat_interleave(len(x), 0))
        out.append(F.softmax(logits.double(), -1).view(K, len(x), -1).cpu())
    return torch.cat(out, 1)


# ---------------------------------------------------------------------------- the method figure


def method_figure():
    """The paper's three ensembles built from one random search, labelled with this module's names: the deep
    ensemble (the best lambda, K seeds), the hyper-deep ensemble (greedy selection over lambdas, stratify, greedy)
    and the hyper-batch ensemble (one network, K members with tuned lambda distributions)."""
    import matplotlib.pyplot as plt

    from paperlab.core import plots

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    search = (0.5, 0.92, "random search: Pool of kappa models\n(lambda ~ SearchSpace, own seed)", "#e8e8e8")
    plots.block_diagram({
        "s": search,
        "best": (0.5, 0.62, "best lambda\n(lowest val NLL)"),
        "seeds": (0.5, 0.32, "K seeds of that lambda\n(train_member)"),
        "ens": (0.5, 0.06, "ensemble_probs: average", "#fde2b8"),
    }, [("s", "best"), ("best", "seeds"), ("seeds", "ens")], ax=axes[0], title="deep ensemble ('deep')")
    plots.block_diagram({
        "s": search,
        "g1": (0.5, 0.62, "greedy_selection\n(with replacement, val NLL)"),
        "st": (0.5, 0.32, "stratify: K seeds per\nselected lambda"),
        "g2": (0.5, 0.06, "greedy_selection again\n-> hyper_deep", "#fde2b8"),
    }, [("s", "g1"), ("g1", "st"), ("st", "g2")], ax=axes[1], title="hyper-deep ensemble (hyper_deep_ensemble)")
    plots.block_diagram({
        "q": (0.5, 0.92, "member j: lambda ~ q_j = log-uniform[e^l_j, e^u_j]"),
        "net": (0.5, 0.6, "HyperBatchMLP: HyperBatchLinear layers\nW o r_j s_j^T + e(lambda) o (W' o r_j s_j^T)"),
        "w": (0.2, 0.28, "weight step\n(train data, sampled lambda)"),
        "t": (0.8, 0.28, "tuning_step\n(val data: bounds l_j, u_j)"),
        "ens": (0.5, 0.04, "K members in one network", "#fde2b8"),
    }, [("q", "net"), ("net", "ens")], ax=axes[2], title="hyper-batch ensemble (train_batch_ensemble)")
    arrow = {"arrowstyle": "-|>", "lw": 1.0, "color": "#444444"}
    axes[2].annotate("", xy=(0.27, 0.36), xytext=(0.38, 0.53), arrowprops=arrow)  # net -> weight step
    axes[2].annotate("", xy=(0.73, 0.36), xytext=(0.62, 0.53), arrowprops=arrow)  # net -> tuning step
    axes[2].annotate("", xy=(0.9, 0.87), xytext=(0.93, 0.36),  # the tuning step moves the bounds of q_j
                     arrowprops={**arrow, "ls": "--", "connectionstyle": "arc3,rad=0.3"})
    for ax in axes:
        ax.set_ylim(-0.05, 1.02)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- gpu profile: CIFAR-10


class WideResNet(nn.Module):
    """A small pre-activation Wide ResNet (Zagoruyko & Komodakis) for 32x32 images, default WRN-10-2."""

    def __init__(self, depth: int = 10, width: int = 2, n_classes: int = 10, dropout: float = 0.0):
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"WRN depth must be 6n + 4, got {depth}")
        n, ch = (depth - 4) // 6, [16, 16 * width, 32 * width, 64 * width]
        layers, c_in = [nn.Conv2d(3, ch[0], 3, padding=1, bias=False)], ch[0]
        for g, c in enumerate(ch[1:]):
            for b in range(n):
                layers.append(_WideBlock(c_in, c, 2 if (b == 0 and g > 0) else 1, dropout))
                c_in = c
        self.body = nn.Sequential(*layers, nn.BatchNorm2d(c_in), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(c_in, n_classes)

    def forward(self, x):
        return self.fc(self.body(x))


class _WideBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, dropout):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(c_in), nn.BatchNorm2d(c_out)
        self.c1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.c2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(c_in, c_out, 1, stride, bias=False) if (stride != 1 or c_in != c_out) else None

    def forward(self, x):
        o = F.relu(self.bn1(x))
        y = self.c2(self.drop(F.relu(self.bn2(self.c1(o)))))
        return y + (x if self.skip is None else self.skip(o))


def cifar10_splits(root, *, n_train: int, n_val: int, n_test: int, download: bool = False,
                   verify_md5: bool = True, seed: int = 0) -> dict:
    """CIFAR-10 through torchvision's ``CIFAR10`` class -> {"train","val","test": (X (n,3,32,32), y)}.

    Val is carved from the training batches (the paper holds out 5%). ``verify_md5=False`` only checks
    that the files exist: for the tiny sample under data/samples/cifar10 (same format, other bytes).
    """
    from torchvision.datasets import CIFAR10

    cls = CIFAR10
    if not verify_md5:
        cls = type("CIFAR10Files", (CIFAR10,), {
            "train_list": [[f, None] for f, _ in CIFAR10.train_list],
            "test_list": [[f, None] for f, _ in CIFAR10.test_list],
            "meta": {**CIFAR10.meta, "md5": None}})
    try:
        tr, te = cls(str(root), train=True, download=download), cls(str(root), train=False, download=download)
    except OSError as exc:  # URLError, a refused connection, a full disk: say what to do by hand
        if not download:
            raise
        from paperlab.core.profiles import download_error

        raise download_error("CIFAR-10", CIFAR10.url, root,
                             "download cifar-10-python.tar.gz and unpack it (the folder cifar-10-batches-py) into",
                             exc) from exc
    mean, std = torch.tensor([0.491, 0.482, 0.447]), torch.tensor([0.247, 0.243, 0.262])
    to_t = lambda d: ((torch.from_numpy(d.data).float() / 255 - mean) / std).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    Xtr, ytr, Xte, yte = to_t(tr), torch.tensor(tr.targets), to_t(te), torch.tensor(te.targets)
    if n_train + n_val > len(ytr) or n_test > len(yte):
        raise ValueError(f"asked for {n_train}+{n_val} train/val and {n_test} test examples; the files hold "
                         f"{len(ytr)} and {len(yte)}")
    perm = torch.randperm(len(ytr), generator=torch.Generator().manual_seed(seed))
    va, tri = perm[:n_val], perm[n_val:n_val + n_train]
    return {"train": (Xtr[tri], ytr[tri]), "val": (Xtr[va], ytr[va]), "test": (Xte[:n_test], yte[:n_test])}


def greedy_without_replacement(val_probs, labels, K: int) -> list[int]:
    """A common mistake for exercise 5 (kept for its check): like ``greedy_selection`` but each member at most once."""
    P = torch.as_tensor(val_probs, dtype=torch.float64)
    if not 1 <= K <= P.shape[0]:
        raise ValueError(f"ensemble size K={K} must be between 1 and the pool size {P.shape[0]}")
    ens, best = [], math.inf
    while len(ens) < K:
        cands = [(metrics.nll(P[ens + [m]].mean(0), labels), m) for m in range(P.shape[0]) if m not in ens]
        obj, m = min(cands)
        if obj >= best:
            break
        ens.append(m)
        best = obj
    return ens


# the repeat pool of exercise 5 (5 models x 6 validation examples x 3 classes, labels 0, 1, 2, 0, 1, 2): greedy
# selection with replacement picks [2, 3, 2, 2] for K=3 (model 2 again until nothing improves); without replacement
# it is [2, 3]; stopping at K picks instead of K distinct models gives [2, 3, 2]
_REPEAT_POOL = [
    [[0.624, 0.175, 0.201], [0.684, 0.083, 0.233], [0.046, 0.91, 0.044], [0.189, 0.042, 0.769], [0.119, 0.739, 0.142], [0.624, 0.252, 0.124]],
    [[0.052, 0.003, 0.945], [0.031, 0.034, 0.935], [0.014, 0.265, 0.721], [0.401, 0.361, 0.238], [0.57, 0.384, 0.046], [0.355, 0.477, 0.168]],
    [[0.703, 0.081, 0.216], [0.661, 0.13, 0.209], [0.439, 0.072, 0.489], [0.234, 0.645, 0.121], [0.008, 0.935, 0.056], [0.213, 0.176, 0.611]],
    [[0.296, 0.664, 0.041], [0.129, 0.492, 0.379], [0.1, 0.14, 0.759], [0.576, 0.214, 0.209], [0.837, 0.037, 0.126], [0.061, 0.821, 0.118]],
    [[0.704, 0.066, 0.231], [0.142, 0.146, 0.713], [0.159, 0.05, 0.791], [0.643, 0.016, 0.341], [0.31, 0.134, 0.556], [0.82, 0.032, 0.148]],
]


def greedy_exercise_cases() -> list[tuple]:
    """Inputs ``(val_probs, labels, K)`` for exercise 5 (greedy selection *with* replacement, the official one).

    Case 0 tells the answer from two common mistakes: with replacement it is [2, 3, 2, 2]; without replacement
    [2, 3]; stopping after K picks instead of K distinct models [2, 3, 2]. Case 1 is the notebook's hand-worked
    pool ([2, 0, 1]); case 2 a confident, right model 0 and two 50/50 models: every addition raises the NLL, so
    the answer stops at [0].
    """
    repeat = torch.tensor(_REPEAT_POOL, dtype=torch.float64)
    repeat = repeat / repeat.sum(-1, keepdim=True)
    toy = torch.tensor([[[0.95, 0.05], [0.5, 0.5]], [[0.5, 0.5], [0.05, 0.95]], [[0.7, 0.3], [0.3, 0.7]]],
                       dtype=torch.float64)
    stop = torch.tensor([[[0.9, 0.1], [0.1, 0.9]], [[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]],
                        dtype=torch.float64)
    return [(repeat, np.arange(6) % 3, 3), (toy, np.array([0, 1]), 3), (stop, np.array([0, 1]), 3)]


def greedy_k_picks(val_probs, labels, K: int) -> list[int]:
    """A common mistake for exercise 5 (kept for its tests): with replacement, but stops after K *picks*."""
    P = torch.as_tensor(val_probs, dtype=torch.float64)
    ens, best = [], math.inf
    while len(ens) < K:
        total = P[ens].sum(0) if ens else torch.zeros_like(P[0])
        objs = [metrics.nll((total + P[m]) / (len(ens) + 1), labels) for m in range(P.shape[0])]
        m = int(np.argmin(objs))
        if objs[m] >= best:
            break
        ens.append(m)
        best = objs[m]
    return ens


# --------------------------------------------------- `python -m paperlab.hyperens train` (the experiment)

# The experiment per profile. The cpu run (20 seeds) is trained by `python -m paperlab.hyperens train --profile cpu`
# and committed as data/hyperens/results-cpu.pt (per-seed metrics only, no weights); the notebook loads it and
# trains one seed live. Every seed draws its own split, label noise, random search, initialisations and batches.
PROFILE_RUNS = {
    "smoke": dict(data="digits", seeds=(0, 1), K=2, n_pool=4, epochs=3, lr=1e-2, hb_epochs=3, archs=("mlp",),
                  sizes=dict(n_train=300, n_val=300, n_test=600), label_noise=0.2, space=DIGITS_SPACE),
    "cpu": dict(data="digits", seeds=tuple(range(20)), ablation_seeds=6, K=4, n_pool=20, epochs=40, lr=1e-2, hb_epochs=100,
                archs=("mlp",), sizes=dict(n_train=300, n_val=300, n_test=600), label_noise=0.2, space=DIGITS_SPACE),
    "gpu": dict(data="cifar10", seeds=(0, 1, 2), K=4, n_pool=12, epochs=15, lr=3e-3, hb_epochs=30,
                archs=("mlp", "wrn"), sizes=dict(n_train=45000, n_val=2500, n_test=10000), label_noise=0.0, download=True,
                space={"l2": (1e-2, 1e2), "label_smoothing": (1e-4, 0.2), "dropout": (1e-3, 0.5)}),
}
METHODS = ("single", "deep", "hyper", "hyper_deep")


def samples_run(cifar_root) -> dict:
    """The gpu run at dry-run sizes: the same CIFAR-10 code path (MLP and Wide ResNet, every method) on the tiny
    format sample under ``cifar_root`` (40 training and 8 test images, no md5, nothing downloaded)."""
    return dict(PROFILE_RUNS["gpu"], seeds=(0, 1), K=2, n_pool=3, epochs=1, hb_epochs=2, cifar_root=str(cifar_root),
                sizes=dict(n_train=24, n_val=16, n_test=8), download=False, verify_md5=False)


def experiment_data(cfg: dict, seed: int = 0, cifar_root: str = "data/cifar10", download: bool = False) -> tuple[dict, dict]:
    """One seed's splits and evaluation sets: digits (split and label noise drawn from ``seed``) with a rotated +
    noisy shifted test set, or CIFAR-10 (train/val split from ``seed``) with Gaussian noise as the shift."""
    if cfg["data"] == "digits":
        data = digits_splits(**cfg["sizes"], seed=seed, label_noise=cfg.get("label_noise", 0.0))
        x_shift = shift_digits(data["test"][0], rotate_deg=20, noise_std=0.1, seed=seed)
    elif cfg["data"] == "cifar10":
        data = cifar10_splits(cfg.get("cifar_root", cifar_root), **cfg["sizes"], download=cfg.get("download", download),
                              verify_md5=cfg.get("verify_md5", True), seed=seed)
        g = torch.Generator().manual_seed(seed)
        x_shift = data["test"][0] + 0.5 * torch.randn(data["test"][0].shape, generator=g)
    else:
        raise ValueError(f"data must be 'digits' or 'cifar10', got {cfg['data']!r}")
    return data, {"val": data["val"], "test": data["test"], "shift": (x_shift, data["test"][1])}


def _model_kw(arch: str, data: dict) -> dict:
    """The MLP's input width from the data (64 for digits, 3 * 32 * 32 for CIFAR-10); other archs need none."""
    return {"d_in": data["train"][0][0].numel()} if arch == "mlp" else {}


def lever_sweep(cfg: dict, seeds=(0, 1, 2), n_grid: int = 6, arch: str = "mlp", device: str = "cpu",
                progress: bool = False) -> dict:
    """The instrument before any ensemble: validation NLL of single models as ONE hyperparameter moves across its
    searched range (log-spaced ``n_grid`` points) while the others sit at the log-centre of theirs.

    Returns {name: {"values": (n_grid,), "val_nll": (n_grid, n_seeds)}}; each seed has its own split."""
    space = cfg["space"]
    centre = {k: float(np.sqrt(lo * hi)) for k, (lo, hi) in space.items()}
    sets = [experiment_data(cfg, s)[0] for s in seeds]
    out = {}
    bar = tqdm(total=len(space) * n_grid * len(seeds), desc="lever sweep", disable=not progress, leave=False)
    for name, (lo, hi) in space.items():
        values = np.exp(np.linspace(np.log(lo), np.log(hi), n_grid))
        nll = np.zeros((n_grid, len(seeds)))
        for i, v in enumerate(values):
            for j, (s, data) in enumerate(zip(seeds, sets)):
                model = train_member(arch, {**centre, name: float(v)}, data, seed=s, epochs=cfg["epochs"], lr=cfg["lr"],
                                     device=device, model_kw=_model_kw(arch, data))
                nll[i, j] = metrics.nll(predict_probs(model, data["val"][0]), data["val"][1])
                bar.update()
        out[name] = {"values": values, "val_nll": nll}
    bar.close()
    return out


def lever_size(sweep_entry: dict) -> float:
    """How much the hyperparameter matters: max / min - 1 of the seed-mean validation NLL across its range."""
    m = np.asarray(sweep_entry["val_nll"]).mean(1)
    return float(m.max() / m.min() - 1)


def hb_config(cfg: dict, best: dict, hyper: bool, tune: bool = True) -> HBConfig:
    """The (hyper-)batch ensemble of the experiment: L2 (and dropout when searched) over the search space's ranges;
    the plain BatchEnsemble gets the random search's single best lambda for free."""
    space = cfg["space"]
    return HBConfig(K=cfg["K"], epochs=cfg["hb_epochs"], lam_range=space["l2"], dropout_range=space.get("dropout"),
                    fixed_l2=best["l2"], fixed_dropout=best.get("dropout", 0.0), tune=tune)


def batch_ensemble_run(hyper: bool, seed: int, hcfg: HBConfig, data: dict, eval_sets: dict, device: str = "cpu") -> dict:
    """One BatchEnsemble (``hyper=False``) or hyper-batch ensemble: metrics per split, the members' own mean test
    NLL, their disagreement and hyperparameters (the means of their tuned distributions) and the trace."""
    run = train_batch_ensemble(data, hcfg, seed=seed, hyper=hyper, progress=False, device=device)
    probs = {k: batch_ensemble_probs(run, X) for k, (X, _) in eval_sets.items()}
    yt = eval_sets["test"][1]
    lam_k = log_uniform_mean(run["log_lo"], run["log_hi"]) if hyper else run["fixed"].expand(hcfg.K, -1)
    return {"metrics": {k: evaluate(p, eval_sets[k][1]) for k, p in probs.items()},
            "member_test_nll": float(np.mean([metrics.nll(p, yt) for p in probs["test"]])),
            "div": disagreement(probs["test"]), "lam": lam_k.cpu(), "trace": run["trace"].cpu()}


def run_seed(cfg: dict, arch: str, seed: int, mapper=None, device: str = "cpu", progress: bool = False,
             keep_probs: bool = False, ablation: bool = True) -> dict:
    """One seed of the experiment: a random search and the four methods built from it (their members,
    hyperparameters, metrics on val / test / shift, disagreement, NLL against ensemble size), and for the MLP a
    BatchEnsemble, a hyper-batch ensemble and an untuned hyper-batch ensemble (ablation).
    ``keep_probs`` also returns the pool's probabilities (the notebook's live seed, for plots); ``ablation=False``
    skips the untuned hyper-batch ensemble."""
    data, ev = experiment_data(cfg, seed)
    K = cfg["K"]
    model_kw = _model_kw(arch, data)
    r = hyper_deep_ensemble(arch, SearchSpace(cfg["space"]), data, ev, K=K, n_pool=cfg["n_pool"], seed=seed,
                            epochs=cfg["epochs"], lr=cfg["lr"], device=device, model_kw=model_kw, mapper=mapper,
                            progress=progress)
    pool, yv, yt = r["pool"], data["val"][1], data["test"][1]
    n_pool = cfg["n_pool"]
    top = list(np.argsort([metrics.nll(p, yv) for p in pool.probs["val"][:n_pool]])[:K])  # K best lambdas of the search
    ks = list(range(1, K + 1))
    out = {"arch": arch, "seed": seed, "lams": pool.lams, "member_seeds": pool.seeds, "strat": r["strat"],
           "n_trained": r["n_trained"], **{m: r[m] for m in METHODS},
           "metrics": {m: {k: evaluate(pool.stack(k, r[m]), ev[k][1]) for k in ("val", "test", "shift")} for m in METHODS},
           "div": {m: disagreement(pool.stack("test", r[m])) for m in METHODS},
           "div_top_lambdas": disagreement(pool.stack("test", [int(i) for i in top])),
           "member_test_nll": {m: float(np.mean([metrics.nll(pool.probs["test"][i], yt) for i in r[m]])) for m in METHODS},
           "curve": {"k": ks,
                     "deep": [metrics.nll(ensemble_probs(pool.stack("test", r["deep"][:k])), yt) for k in ks],
                     "hyper_deep": [metrics.nll(ensemble_probs(pool.stack("test", [r["strat"][j] for j in
                                    greedy_selection(pool.stack("val", r["strat"]), yv, k)])), yt) for k in ks]}}
    if arch == "mlp":
        best = pool.lams[r["single"][0]]
        out["batch"] = batch_ensemble_run(False, seed, hb_config(cfg, best, False), data, ev, device)
        out["hyper_batch"] = batch_ensemble_run(True, seed, hb_config(cfg, best, True), data, ev, device)
        if ablation:
            out["hyper_batch_untuned"] = batch_ensemble_run(True, seed, hb_config(cfg, best, True, tune=False), data,
                                                            ev, device)
    if keep_probs:
        out["pool"], out["data"], out["eval_sets"] = pool, data, ev
    return out


def run_experiment(profile: str = "cpu", seeds=None, archs=None, workers: int = 1, mapper=None, device: str = "cpu",
                   progress: bool = False, on_seed=None, config: dict | None = None) -> dict:
    """The notebook's experiment for ``profile``: ``run_seed`` for every arch and seed. Trials of a random search are
    spread by ``workers`` / torchrun / ``mapper`` (results identical). Returns {"runs": {"arch/seed": ...}, ...}.
    ``on_seed(out)`` is called after every seed (the train command saves the results so far). ``config`` replaces
    ``PROFILE_RUNS[profile]`` (the notebook's gpu dry run: ``samples_run``)."""
    from paperlab.core import distributed as D

    if config is None and profile not in PROFILE_RUNS:
        raise ValueError(f"profile must be one of {list(PROFILE_RUNS)}, got {profile!r}")
    cfg = PROFILE_RUNS[profile] if config is None else config
    seeds, archs = tuple(cfg["seeds"] if seeds is None else seeds), tuple(cfg["archs"] if archs is None else archs)
    unknown = [a for a in archs if a not in ARCHS and a != "wrn"]
    if unknown:
        raise ValueError(f"unknown archs {unknown}; choose from {sorted(ARCHS) + ['wrn']}")
    mapper = mapper or D.mapper_for(workers)
    out = {"profile": profile, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
           "seeds": list(seeds), "archs": list(archs), "runs": {}, "seed_s": {}}
    t0 = time.time()
    for arch in archs:
        for seed in tqdm(seeds, desc=arch, disable=not progress, leave=False):
            t1 = time.time()
            res = run_seed(cfg, arch, seed, mapper=mapper, device=device,
                           ablation=seed in cfg["seeds"][:cfg.get("ablation_seeds", len(cfg["seeds"]))])
            out["runs"][f"{arch}/{seed}"] = res
            out["seed_s"][f"{arch}/{seed}"] = round(time.time() - t1, 1)
            if D.is_main_process():
                nll = {m: round(res["metrics"][m]["test"]["nll"], 4) for m in METHODS}
                if "batch" in res:
                    nll.update({m: round(res[m]["metrics"]["test"]["nll"], 4) for m in ("batch", "hyper_batch")})
                print(f"{arch} seed {seed}: test NLL {nll} ({time.time() - t0:.0f} s)", flush=True)
            if on_seed is not None:
                out["wall_s"] = time.time() - t0
                on_seed(out)
    out["wall_s"] = time.time() - t0
    return out


BATCH_METHODS = ("batch", "hyper_batch", "hyper_batch_untuned")


def results_rows(res: dict) -> list[dict]:
    """One row per (arch, seed, method) of ``run_experiment``'s results: test metrics, shifted-test metrics
    (``shift_*``), validation NLL, member disagreement, the members' own mean test NLL and models trained."""
    rows = []
    for r in res["runs"].values():
        for m in METHODS:
            mt = r["metrics"][m]
            rows.append(dict(arch=r["arch"], seed=r["seed"], method=m, n_trained=r["n_trained"][m],
                             n_distinct=len(set(r[m])), div=r["div"][m], member_nll=r["member_test_nll"][m],
                             val_nll=mt["val"]["nll"], **mt["test"], **{f"shift_{k}": v for k, v in mt["shift"].items()}))
        for m in BATCH_METHODS:
            if m in r:
                mt = r[m]["metrics"]
                rows.append(dict(arch=r["arch"], seed=r["seed"], method=m, n_trained=1, n_distinct=len(r[m]["lam"]),
                                 div=r[m]["div"], member_nll=r[m]["member_test_nll"], val_nll=mt["val"]["nll"],
                                 **mt["test"], **{f"shift_{k}": v for k, v in mt["shift"].items()}))
    return rows


def relative_gain(a, b) -> np.ndarray:
    """Per-seed relative improvement of A over B for a lower-is-better metric: (B - A) / B (> 0: A better)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal shapes, got {a.shape} and {b.shape}")
    return (b - a) / b


GREEDY_TIME_LIMIT_S = 20  # exercise 5: a selection loop that runs longer is stopped


def _call_with_time_limit(fn, args, seconds: int | None = None):
    """``fn(*args)``, stopped with TimeoutError after ``seconds`` where the platform allows (a selection loop
    that never ends must not hang the notebook)."""
    import signal
    import threading

    seconds = GREEDY_TIME_LIMIT_S if seconds is None else seconds
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        return fn(*args)

    def stop(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return fn(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _check_greedy(fn, extra_cases=()) -> str:
    from paperlab.core import checks

    name, cases = "exercise 5", greedy_exercise_cases()
    hint = ("add the model that most lowers the validation NLL of the averaged ensemble, allowing repeats; stop at K "
            "distinct models or when no addition lowers the best NLL so far")
    if not checks._attempted(fn):
        return checks._say(name, checks.NOT_ATTEMPTED)
    if not callable(fn):
        return checks._say(name, checks.INCORRECT, "expected a function my_greedy(val_probs, labels, K)")
    try:
        got = [int(i) for i in _call_with_time_limit(fn, cases[0])]
    except NotImplementedError:
        return checks._say(name, checks.NOT_ATTEMPTED)
    except TimeoutError:
        return checks._say(name, checks.INCORRECT, "your loop never ends on a pool where nothing improves: keep the "
                                                   "best NLL across rounds and stop when no addition lowers it")
    except Exception as exc:  # a crash is an incorrect answer, with its reason
        return checks._say(name, checks.INCORRECT, f"{type(exc).__name__}: {exc}")
    if got == greedy_without_replacement(*cases[0]):
        return checks._say(name, checks.INCORRECT, f"your selection {got} never picks a model twice: that is greedy "
                                                   "WITHOUT replacement; the official selection may add a model again "
                                                   "(a repeat is a weight)")
    if got == greedy_k_picks(*cases[0]):
        return checks._say(name, checks.INCORRECT, f"your selection {got} stops after K picks; the official one "
                                                   "stops at K DISTINCT models (repeats do not count)")
    if got != greedy_selection(*cases[0]):
        return checks._say(name, checks.INCORRECT, f"on a 5-model pool with K=3 your selection is {got}; {hint}")
    return checks.check_function(name, lambda *a: _call_with_time_limit(fn, a), greedy_selection,
                                 [*cases, *extra_cases], hint=hint)


def check_exercise(n: int, answer, **data) -> str:
    """The notebook's exercise checks (1-5); each prints not attempted / incorrect / close / correct.

    Exercise 5 (a greedy selection function) also runs on ``data["val_probs"], data["labels"], data["K"]`` when
    given (the notebook passes the live seed's pool)."""
    from paperlab.core import checks

    if n == 1:  # the pool, plus K - 1 new initialisations for each of the 3 distinct selected lambdas
        return checks.check_equal("exercise 1", answer, 20 + 3 * (4 - 1),
                                  hint="the pool, plus (K - 1) new models per distinct selected lambda")
    if n == 2:  # the mean of a log-uniform distribution on [0.1, 100]
        a, b = 0.1, 100.0
        return checks.check_close("exercise 2", answer, (b - a) / (math.log(b) - math.log(a)), rtol=1e-3,
                                  close_rtol=0.05, hint="(b - a) / (ln b - ln a) with a = 0.1, b = 100")
    if n == 3:  # entropy of a log-uniform on [e^l, e^u]
        lo, hi = torch.tensor([0.0]), torch.tensor([2.0])
        return checks.check_close("exercise 3", answer, float(log_uniform_entropy(lo, hi)), rtol=1e-4,
                                  close_rtol=0.05, hint="(l + u) / 2 + ln(u - l)")
    if n == 4:
        return checks.check_choice("exercise 4", answer, "stratification",
                                   ["random search", "greedy selection", "stratification"],
                                   hint="which step trains new models for an already chosen lambda?")
    if n == 5:
        extra = [(data["val_probs"], data["labels"], data["K"])] if "val_probs" in data else []
        return _check_greedy(answer, extra)
    raise ValueError(f"exercise number must be 1-5, got {n}")


SOLUTIONS = {
    1: ("The random search trains the pool of 20. Stratification gives each of the 3 selected $\\lambda$ $K = 4$ "
        "initialisations, one of which is its pool model: $3 \\cdot (4 - 1)$ new models.",
        """answer_1 = 20 + 3 * (4 - 1)
verdict = hyperens.check_exercise(1, answer_1)"""),
    2: ("The mean of a log-uniform distribution on $[a, b]$ is $\\frac{b-a}{\\ln b - \\ln a}$. It sits far above the "
        "geometric centre because the density $\\propto 1/\\lambda$ puts equal mass per decade, but the mean weighs "
        "each value by its size, so the top decade dominates.",
        """a, b = 0.1, 100.0
answer_2 = (b - a) / (np.log(b) - np.log(a))
verdict = hyperens.check_exercise(2, answer_2)"""),
    3: ("$\\mathcal H = \\frac{l+u}{2} + \\ln(u - l) = 1 + \\ln 2$ for $l = 0$, $u = 2$ "
        "(`hyperens.log_uniform_entropy`).",
        """answer_3 = 1 + np.log(2)
verdict = hyperens.check_exercise(3, answer_3)"""),
    4: ("Stratification retrains every selected $\\lambda$ from $K$ random initialisations, then the greedy selection "
        "runs again on that pool.",
        """answer_4 = "stratification"
verdict = hyperens.check_exercise(4, answer_4)"""),
    5: ("The official selection (`hyperdeepensemble.py`, Caruana et al. 2004): keep the running sum of the selected "
        "members' probabilities; each round try every pool model (repeats allowed) and keep the one whose addition "
        "gives the lowest validation NLL, but only if it beats the best NLL of *all* rounds so far; stop when none "
        "does or when $K$ distinct models are in. This is `hyperens.greedy_selection`.",
        """import math
from paperlab.core import metrics


def my_greedy(val_probs, labels, K):
    P = torch.as_tensor(val_probs, dtype=torch.float64)
    ens, best = [], math.inf
    while len(set(ens)) < K:
        total = P[ens].sum(0) if ens else torch.zeros_like(P[0])
        best_id = None
        for m in range(P.shape[0]):
            nll = metrics.nll((total + P[m]) / (len(ens) + 1), labels)
            if nll < best:
                best, best_id = nll, m
        if best_id is None:
            break
        ens.append(best_id)
    return ens


verdict = hyperens.check_exercise(5, my_greedy)"""),
}


def main(argv=None) -> None:
    """``python -m paperlab.hyperens train --profile P [--workers N] [--seeds ...] [--archs ...]``."""
    from paperlab.core import assets, cli
    from paperlab.core.paths import data_dir
    from paperlab.core.train import save_checkpoint

    ap = cli.parser("python -m paperlab.hyperens",
                    "Run the hyper-deep / hyper-batch ensemble experiment (all seeds) and save its per-seed results.")
    ap.add_argument("--archs", nargs="+", default=None, help="architectures (default: the profile's)")

    def body(args, run):
        name = f"hyperens/results-{run.profile.name}.pt"
        partial = data_dir() / f"hyperens/results-{run.profile.name}.partial.pt"  # the seeds so far (not registered)
        res = run_experiment(run.profile.name, seeds=run.seeds, archs=args.archs, mapper=run.map, device=run.device,
                             progress=True, on_seed=lambda out: save_checkpoint(out, partial))
        save_checkpoint(res, data_dir() / name)  # rank 0 only
        command = " ".join(["python -m paperlab.hyperens train", f"--profile {run.profile.name}",
                            *([f"--seeds {' '.join(map(str, run.seeds))}"] if run.seeds else []),
                            *([f"--archs {' '.join(args.archs)}"] if args.archs else [])])
        assets.register(name, command=command, seeds=list(res["seeds"]), wall_s=round(res["wall_s"]))
        partial.unlink(missing_ok=True)
        run.log(f"wrote data/{name} ({res['wall_s']:.0f} s)")

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()
