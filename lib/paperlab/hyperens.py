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


def digits_splits(n_train: int = 300, n_val: int = 300, n_test: int = 600, seed: int = 0):
    """sklearn digits as float32 tensors, split stratified into disjoint train / val / test.

    Returns ``{"train": (X, y), "val": (X, y), "test": (X, y)}`` with ``X`` (n, 64) in [0, 1].
    Test is drawn first, then val, so changing ``n_train`` keeps val and test fixed.
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
    return {"train": t(rX, ry), "val": t(Xva, yva), "test": t(Xte, yte)}


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

    One L2 hyperparameter per layer (the code tunes one per layer group); ``lam`` rows (K*n, L) are
    embedded as in the code: log-scaled into [0, 1] over ``lam_range``, then a linear e-model per
    layer without bias, initialised with std 1e-4.
    """

    def __init__(self, K: int = 4, d_in: int = 64, hidden: int = 128, n_classes: int = 10, hyper: bool = True,
                 lam_range: tuple = (1e-3, 1.0), fast_weights_eq: bool = True):
        super().__init__()
        dims = [d_in, hidden, hidden, n_classes]
        self.K, self.hyper, self.n_lam = K, hyper, len(dims) - 1
        self.log_min, self.log_max = math.log(lam_range[0]), math.log(lam_range[1])
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

    def forward(self, x: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (K*n, d_in) member-major, lam (K*n, L) -> (logits (K*n, C), L2 term averaged over rows)."""
        if lam.shape != (x.shape[0], self.n_lam):
            raise ValueError(f"lam must be ({x.shape[0]}, {self.n_lam}), got {tuple(lam.shape)}")
        es, reg = self.embed(lam), x.new_zeros(())
        for i, (layer, e) in enumerate(zip(self.layers, es)):
            reg = reg + layer.l2(lam[:, i], e)
            x = layer(x, e)
            if i < len(self.layers) - 1:
                x = F.relu(x)
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
    lam_range: tuple = (1e-3, 1.0)  # the code: (0.1, 100) for N = 47,500; rescaled to where digits' L2 works
    init_delta: float = 0.02  # ens_init_delta_bounds (the code: 0.2 around lam0 ~ 14; same relative scale)
    fixed_l2: float = 1.0  # plain BatchEnsemble's L2 (the single best lambda of the search in the notebook)
    tune: bool = True  # False: keep each member's initial distribution (ablation)


def init_bounds(cfg: HBConfig, n_lam: int) -> tuple[torch.Tensor, torch.Tensor]:
    """As the code: lam0 ~ N(mean of logU over the range, 0.1 * delta); bounds lam0 -+ delta, then logs."""
    lo, hi = torch.tensor(math.log(cfg.lam_range[0])), torch.tensor(math.log(cfg.lam_range[1]))
    lam0 = torch.normal(float(log_uniform_mean(lo, hi)), 0.1 * cfg.init_delta, size=(cfg.K, n_lam))
    return (lam0 - cfg.init_delta).clamp_min(1e-8).log(), (lam0 + cfg.init_delta).log()


@torch.no_grad()
def clip_bounds(log_lo, log_hi, cfg: HBConfig) -> None:
    """Project log_min <= lo <= hi - eps <= log_max (clip_lambda_parameters)."""
    a, b = math.log(cfg.lam_range[0]), math.log(cfg.lam_range[1])
    eps = 1e-6 * 0.5 * (b - a)
    log_lo.clamp_(a, b - 2 * eps)
    log_hi.copy_(torch.maximum(torch.minimum(log_hi, torch.tensor(b)), log_lo + eps))


def _batches_forever(X, y, batch_size, seed):
    while True:
        yield from Batches(X, y, batch_size, seed)
        seed += 1


def train_batch_ensemble(data: dict, cfg: HBConfig, seed: int = 0, hyper: bool = True,
                         progress: bool = True, device: str = "cpu") -> dict:
    """Train a BatchEnsemble (``hyper=False``) or a hyper-batch ensemble by alternating optimisation.

    Weight step (train split): lam ~ member's logU per row, loss = Gibbs CE (mean member CE)
    + (1/N) * L2(lam). Every ``tune_every`` steps a tuning step (val split): minimise the ensemble CE
    - tau * entropy of the lam distributions w.r.t. the log-bounds only, then clip them into range.
    Returns {"model", "log_lo", "log_hi", "trace": mean lam per member over time}.
    """
    torch.manual_seed(seed)
    (Xtr, ytr), (Xva, yva), K = data["train"], data["val"], cfg.K
    Xtr, Xva = Xtr.flatten(1), Xva.flatten(1)  # images -> vectors: the hyper-batch net is an MLP
    model = HyperBatchMLP(K, d_in=Xtr.shape[1], hyper=hyper, lam_range=cfg.lam_range).to(device)
    fast = [p for n, p in model.named_parameters() if n.split(".")[-1] in ("r", "s", "u", "v")]
    slow = [p for n, p in model.named_parameters() if n.split(".")[-1] not in ("r", "s", "u", "v")]
    opt = torch.optim.Adam([{"params": slow}, {"params": fast, "lr": cfg.lr * cfg.fast_lr_mult}], lr=cfg.lr)
    log_lo, log_hi = (nn.Parameter(t.to(device)) for t in init_bounds(cfg, model.n_lam))
    clip_bounds(log_lo, log_hi, cfg)
    tuner = torch.optim.Adam([log_lo, log_hi], lr=cfg.lr_tuning)
    val_it, step, trace = _batches_forever(Xva, yva, cfg.batch_size, seed + 10_000), 0, []
    for _ in tqdm(range(cfg.epochs), desc="hyper-batch" if hyper else "batch ens", disable=not progress, leave=False):
        for x, y in Batches(Xtr, ytr, cfg.batch_size, seed + step):
            x, y, n = x.to(device), y.to(device), len(y)
            if hyper:
                lam = log_uniform_sample(log_lo.detach(), log_hi.detach(), n)
            else:
                lam = torch.full((K * n, model.n_lam), cfg.fixed_l2, device=device)
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
    return {"model": model, "log_lo": log_lo.detach(), "log_hi": log_hi.detach(), "trace": torch.stack(trace)}


def tuning_step(model, batch, log_lo, log_hi, tuner, cfg: HBConfig) -> float:
    """One step on the lam distributions: ensemble CE on a val batch - tau * entropy; weights untouched."""
    x, y = (t.to(log_lo.device) for t in batch)
    lam = log_uniform_sample(log_lo, log_hi, len(y))  # reparameterised: gradients reach the bounds
    logits, _ = model(x.repeat(cfg.K, 1), lam)
    loss = ensemble_ce(logits, y, cfg.K) - cfg.tau * log_uniform_entropy(log_lo, log_hi)
    g_lo, g_hi = torch.autograd.grad(loss, [log_lo, log_hi])
    log_lo.grad, log_hi.grad = g_lo, g_hi
    tuner.step()
    clip_bounds(log_lo, log_hi, cfg)
    return float(loss.detach())


@torch.no_grad()
def batch_ensemble_probs(run: dict, X: torch.Tensor, fixed_l2: float | None = None) -> torch.Tensor:
    """Member probabilities (K, N, C); each hyper member at the mean of its lam distribution."""
    model = run["model"]
    K, dev = model.K, run["log_lo"].device
    lam_k = (torch.full((K, model.n_lam), fixed_l2, device=dev) if not model.hyper and fixed_l2 is not None
             else log_uniform_mean(run["log_lo"], run["log_hi"]))
    out = []
    for i in range(0, len(X), 1024):
        x = X[i:i + 1024].flatten(1).to(dev)
        logits, _ = model(x.repeat(K, 1), lam_k.repeat_interleave(len(x), 0))
        out.append(F.softmax(logits.double(), -1).view(K, len(x), -1).cpu())
    return torch.cat(out, 1)


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
    tr, te = cls(str(root), train=True, download=download), cls(str(root), train=False, download=download)
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
    """Reference for the notebook's exercise: like ``greedy_selection`` but each member at most once."""
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


def greedy_exercise_cases() -> list[tuple]:
    """Extra inputs for the notebook's exercise 5 that tell a correct answer from two common mistakes.

    Case 1: greedy *with* replacement picks model 2 twice ([2, 1, 2]); without replacement it is [2, 1, 0].
    Case 2: model 0 is confident and right, the others say 50/50; every addition raises the NLL, so a correct
    answer stops at [0], while one that ignores the stop rule returns K=3 models.
    (Pools are (M, N, 2) class probabilities; the labels alternate 0, 1.)
    """
    p_class0 = torch.tensor([[0.4, 0.4, 0.5, 0.9], [0.2, 0.5, 0.1, 0.4],
                             [0.9, 0.6, 0.4, 0.9], [0.6, 0.9, 0.1, 0.5]], dtype=torch.float64)
    repeat_pool = torch.stack([p_class0, 1 - p_class0], -1)
    stop_pool = torch.tensor([[[0.9, 0.1], [0.1, 0.9]], [[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]],
                             dtype=torch.float64)
    return [(repeat_pool, np.array([0, 1, 0, 1]), 3), (stop_pool, np.array([0, 1]), 3)]


# --------------------------------------------------- `python -m paperlab.hyperens train` (the experiment, spread)

# The notebook's parameters per profile (notebooks/04_hyperens.ipynb; the notebook keeps its own copy in its
# parameters cell and trains live, so this command is for running the experiment outside it, e.g. at paper scale).
PROFILE_RUNS = {
    "smoke": dict(data="digits", seeds=(0,), K=2, n_pool=4, epochs=3, lr=1e-2, hb_epochs=3, archs=("mlp",),
                  sizes=dict(n_train=300, n_val=300, n_test=600)),
    "cpu": dict(data="digits", seeds=(0, 1, 2), K=4, n_pool=20, epochs=40, lr=1e-2, hb_epochs=100,
                archs=("mlp", "lenet"), sizes=dict(n_train=300, n_val=300, n_test=600)),
    "gpu": dict(data="cifar10", seeds=(0, 1, 2), K=4, n_pool=12, epochs=15, lr=3e-3, hb_epochs=30,
                archs=("mlp", "wrn"), sizes=dict(n_train=45000, n_val=2500, n_test=10000)),
}
METHODS = ("single", "deep", "hyper", "hyper_deep")


def experiment_data(cfg: dict, cifar_root: str = "data/cifar10", download: bool = False) -> tuple[dict, dict]:
    """The notebook's splits and evaluation sets: digits with a rotated+noisy shift, or CIFAR-10 with noise."""
    if cfg["data"] == "digits":
        data = digits_splits(**cfg["sizes"], seed=0)
        x_shift = shift_digits(data["test"][0], rotate_deg=20, noise_std=0.1, seed=0)
    elif cfg["data"] == "cifar10":
        data = cifar10_splits(cifar_root, **cfg["sizes"], download=download)
        x_shift = data["test"][0] + 0.5 * torch.randn(data["test"][0].shape, generator=torch.Generator().manual_seed(0))
    else:
        raise ValueError(f"data must be 'digits' or 'cifar10', got {cfg['data']!r}")
    return data, {"val": data["val"], "test": data["test"], "shift": (x_shift, data["test"][1])}


def batch_ensemble_run(hyper: bool, seed: int, fixed_l2: float, data: dict, eval_sets: dict, K: int, epochs: int,
                       device: str = "cpu") -> dict:
    """One BatchEnsemble (``hyper=False``) or hyper-batch ensemble job: metrics per split and the learned bounds."""
    run = train_batch_ensemble(data, HBConfig(K=K, epochs=epochs, fixed_l2=fixed_l2), seed=seed, hyper=hyper,
                               progress=False, device=device)
    probs = {k: batch_ensemble_probs(run, X, fixed_l2=fixed_l2) for k, (X, _) in eval_sets.items()}
    return {"metrics": {k: evaluate(p, eval_sets[k][1]) for k, p in probs.items()},
            "log_lo": run["log_lo"].cpu(), "log_hi": run["log_hi"].cpu(), "trace": run["trace"].cpu()}


def run_experiment(profile: str = "cpu", seeds=None, archs=None, workers: int = 1, mapper=None, device: str = "cpu",
                   cifar_root: str = "data/cifar10", download: bool = False, progress: bool = False) -> dict:
    """The notebook's experiment for ``profile``: per arch and seed one random search and the four methods
    (their member indices, hyperparameters and test/shift metrics), then for the MLP a BatchEnsemble and a
    hyper-batch ensemble per seed. Trials are spread by ``workers`` / torchrun / ``mapper`` (results identical)."""
    from paperlab.core import distributed as D

    if profile not in PROFILE_RUNS:
        raise ValueError(f"profile must be one of {list(PROFILE_RUNS)}, got {profile!r}")
    cfg = PROFILE_RUNS[profile]
    seeds, archs = tuple(cfg["seeds"] if seeds is None else seeds), tuple(cfg["archs"] if archs is None else archs)
    unknown = [a for a in archs if a not in ARCHS and a != "wrn"]
    if unknown:
        raise ValueError(f"unknown archs {unknown}; choose from {sorted(ARCHS) + ['wrn']}")
    mapper = mapper or D.mapper_for(workers)
    data, eval_sets = experiment_data(cfg, cifar_root, download)
    out = {"profile": profile, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
           "seeds": list(seeds), "archs": list(archs), "runs": {}, "batch": {}}
    t0 = time.time()
    for arch in archs:
        for seed in seeds:
            model_kw = {"d_in": data["train"][0][0].numel()} if arch == "mlp" else {}
            r = hyper_deep_ensemble(arch, SearchSpace(), data, eval_sets, K=cfg["K"], n_pool=cfg["n_pool"], seed=seed,
                                    epochs=cfg["epochs"], lr=cfg["lr"], device=device, model_kw=model_kw,
                                    mapper=mapper, progress=progress)
            pool = r["pool"]
            out["runs"][f"{arch}/{seed}"] = {
                "lams": pool.lams, "member_seeds": pool.seeds, "strat": r["strat"], "n_trained": r["n_trained"],
                **{m: r[m] for m in METHODS},
                "metrics": {m: {k: evaluate(pool.stack(k, r[m]), eval_sets[k][1]) for k in ("test", "shift")}
                            for m in METHODS}}
            if D.is_main_process():
                nll = {m: round(out["runs"][f"{arch}/{seed}"]["metrics"][m]["test"]["nll"], 4) for m in METHODS}
                print(f"{arch} seed {seed}: {len(pool)} models trained, test NLL {nll} ({time.time() - t0:.0f} s)",
                      flush=True)
    if "mlp" in archs:
        jobs = []
        for seed in seeds:
            r = out["runs"][f"mlp/{seed}"]
            best_l2 = r["lams"][r["single"][0]]["l2"]
            jobs += [{"hyper": hyper, "seed": seed, "fixed_l2": best_l2} for hyper in (False, True)]
        common = {"data": data, "eval_sets": eval_sets, "K": cfg["K"], "epochs": cfg["hb_epochs"], "device": device}
        for job, res in zip(jobs, mapper(batch_ensemble_run, jobs, common)):
            out["batch"][f"{'hyper_batch' if job['hyper'] else 'batch'}/{job['seed']}"] = res
    out["wall_s"] = time.time() - t0
    return out


def main(argv=None) -> None:
    """``python -m paperlab.hyperens train --profile P [--workers N] [--seeds ...] [--archs ...]``."""
    from paperlab.core import assets, cli
    from paperlab.core.paths import data_dir
    from paperlab.core.train import save_checkpoint

    ap = cli.parser("python -m paperlab.hyperens",
                    "Run the hyper-deep / hyper-batch ensemble experiment; random-search trials run in parallel.")
    ap.add_argument("--archs", nargs="+", default=None, help="architectures (default: the profile's)")
    ap.add_argument("--cifar-root", default="data/cifar10", help="CIFAR-10 folder (gpu profile)")
    ap.add_argument("--download", action="store_true", help="let torchvision download CIFAR-10 (gpu profile)")

    def body(args, run):
        res = run_experiment(run.profile.name, seeds=run.seeds, archs=args.archs, mapper=run.map, device=run.device,
                             cifar_root=args.cifar_root, download=args.download)
        name = f"hyperens/search-{run.profile.name}.pt"
        save_checkpoint(res, data_dir() / name)  # rank 0 only
        command = " ".join(["python -m paperlab.hyperens train", f"--profile {run.profile.name}",
                            *([f"--seeds {' '.join(map(str, run.seeds))}"] if run.seeds else []),
                            *([f"--archs {' '.join(args.archs)}"] if args.archs else [])])
        assets.register(name, command=command, seeds=list(res["seeds"]), wall_s=round(res["wall_s"]))
        run.log(f"wrote data/{name} ({res['wall_s']:.0f} s)")

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()
