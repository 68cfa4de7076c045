"""Backdoor mitigation by margin-limiting activation bounds (MMAC) and test-time detection (MMDF).

Paper: Hang Wang, Zhen Xiang, David J. Miller, George Kesidis, *Improved Activation Clipping for
Universal Backdoor Mitigation and Test-Time Detection*, IEEE MLSP 2024, arXiv:2308.04617.
Official code: https://github.com/wanghangpsu/MMAC (``mmac.py``, ``mmdf.py``); every default below
is read from that code (read, not copied).

The defender holds a trained, possibly backdoored classifier ``f`` and a small clean set ``D``.
MMAC puts a learnable upper bound ``z`` on every ReLU channel, ``h -> min(h, z)``, and chooses the
bounds to keep ``f``'s clean outputs (MSE) while shrinking the largest margin every class can reach
(measured on surrogate inputs found by gradient ascent on the original model). MMDF flags an input
whose margin drops a lot between ``f`` and the bounded ``f_bar`` and answers with ``f_bar``'s best
other class. Images are ``(N, C, H, W)`` in [0, 1]; logits ``(N, K)``.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from paperlab.core import metrics
from paperlab.worlds.digits import (
    Trigger,
    apply_trigger,
    attack_labels,
    attacked_mask,
    check_range,
    draw_per_class,
    poison,
)

Z_INIT = 1.0          # mmac.py: Z_m = 1.0, every bound starts at 1 (inputs in [0, 1], no normalisation)
Z_DETECT = 2.576      # mmdf.py: threshold mean + 2.576 std (one-sided p = 0.005); 1.645 gives p = 0.05


# ----------------------------------------------------------------------------- models
class MLP(nn.Module):
    """``(N, 1, 8, 8)`` or ``(N, 64)`` -> logits ``(N, K)``; ReLU modules so bounds can hook them."""

    def __init__(self, d_in: int = 64, hidden=(256, 256), n_classes: int = 10):
        super().__init__()
        layers, d = [nn.Flatten()], d_in
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        layers.append(nn.Linear(d, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class SmallCNN(nn.Module):
    """``(N, 1, 8, 8)`` -> logits ``(N, K)``: two 3x3 conv layers and one hidden dense layer, all with
    ReLU modules (per-channel bounds on the conv maps, per-neuron on the dense layer)."""

    def __init__(self, channels=(16, 32), hidden: int = 64, n_classes: int = 10):
        super().__init__()
        c1, c2 = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * 16, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
            raise ValueError(f"SmallCNN expects images of shape (N, 1, 8, 8), got {tuple(x.shape)}")
        return self.net(x)


def relu_modules(model: nn.Module) -> list[nn.ReLU]:
    """The ``nn.ReLU`` modules of ``model`` (a functional ``F.relu`` cannot be bounded)."""
    found = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no nn.ReLU module to bound (functional F.relu calls "
                         "cannot be hooked; use nn.ReLU modules)")
    return found


# ----------------------------------------------------------------------------- the bounded network
class BoundedNet(nn.Module):
    """``f_bar(x; Z)``: a frozen copy of ``model`` with ``h -> min(h, z)`` after every ReLU call.

    One bound per channel (dim 1: a neuron of an MLP, a feature map of a CNN), created by running
    ``example`` once; a ReLU module called twice per forward (torchvision's BasicBlock) gets one
    bound vector per call. ``self.original`` is the untouched model ``f``. Only ``self.bounds``
    has ``requires_grad``."""

    def __init__(self, model: nn.Module, example: torch.Tensor, init: float = Z_INIT):
        super().__init__()
        self.original = model.eval().requires_grad_(False)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.bounds = nn.ParameterList()
        self.active, self._calls, self._sites = True, {}, {}
        for m in relu_modules(self.model):
            m.register_forward_hook(self._hook)
        self._creating = float(init)
        with torch.no_grad():
            self(example[:2])
        self._creating = None

    def _hook(self, module, inputs, out):
        k = (id(module), self._calls.get(id(module), 0))  # which ReLU call this is, in forward order
        self._calls[id(module)] = k[1] + 1
        if not self.active:
            return out
        if self._creating is not None:  # first pass: one bound per channel of this call site
            self._sites[k] = len(self.bounds)
            self.bounds.append(nn.Parameter(torch.full((out.shape[1],), self._creating, device=out.device)))
        z = self.bounds[self._sites[k]]
        return torch.minimum(out, z.view(1, -1, *([1] * (out.ndim - 2))))  # Eq. (bounded ReLU): min(h, z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._calls = {}
        return self.model(x)

    @contextmanager
    def unbounded(self):
        """Run the hooked copy without bounds (equals ``self.original``)."""
        self.active = False
        try:
            yield self
        finally:
            self.active = True

    def set_bounds(self, values: list[torch.Tensor]) -> None:
        if len(values) != len(self.bounds):
            raise ValueError(f"need {len(self.bounds)} bound vectors, got {len(values)}")
        with torch.no_grad():
            for z, v in zip(self.bounds, values):
                z.copy_(torch.as_tensor(v, dtype=z.dtype).expand_as(z))


@torch.no_grad()
def channel_max_activations(net: BoundedNet, x: torch.Tensor) -> list[torch.Tensor]:
    """Per input, the largest post-ReLU activation of every channel at every bound site, unbounded.

    Returns one ``(N, C_l)`` tensor per site (spatial dims reduced by max)."""
    acts = {}

    def grab(module, inputs, out):
        acts.setdefault(id(module), []).append(out.flatten(2).amax(2) if out.ndim > 2 else out.clone())

    hooks = [m.register_forward_hook(grab) for m in relu_modules(net.model)]
    try:
        with net.unbounded():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    order = sorted(net._sites, key=net._sites.get)  # site keys in bound order
    return [acts[mid][call] for mid, call in order]


@torch.no_grad()
def clipped_fraction(net: BoundedNet, x: torch.Tensor) -> list[float]:
    """Per bound site, the mean over inputs of ``sum_c (h_c - min(h_c, z_c)) / sum_c h_c``: how much of
    an input's (channel-max) activation mass the bounds remove. One float per site."""
    out = []
    for a, z in zip(channel_max_activations(net, x), net.bounds):
        removed = (a - torch.minimum(a, z.detach())).sum(1)
        out.append(float((removed / a.sum(1).clamp_min(1e-12)).mean()))
    return out


# ----------------------------------------------------------------------------- margins
def margins(logits: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Eq. (margin): ``m_k(x) = g_k(x) - max_{j != k} g_j(x)``; logits ``(N, K)``, k ``(N,)`` -> ``(N,)``."""
    if logits.ndim != 2 or k.shape != (logits.shape[0],):
        raise ValueError(f"need logits (N, K) and classes (N,), got {tuple(logits.shape)} and {tuple(k.shape)}")
    own = logits.gather(1, k[:, None]).squeeze(1)
    others = logits.masked_fill(F.one_hot(k, logits.shape[1]).bool(), float("-inf"))
    return own - others.amax(1)


def max_margin_inputs(model: nn.Module, n_classes: int, per_class: int, input_shape, steps: int = 300,
                      lr: float = 1e-2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Surrogate inputs ``X*_k``: per class, ``per_class`` uniform-random images in [0, 1] pushed by
    gradient ascent on ``m_k(clamp(x); f)`` of the original model.

    As in ``mmac.py``: lr 1e-2, 300 steps, the loss summed over images, the model sees clamp(x, 0, 1).
    (The code builds a new SGD(momentum=0.2) every step, so no momentum carries over: plain SGD here.)
    Returns images ``(K * per_class, *input_shape)`` and their classes."""
    g = torch.Generator().manual_seed(seed)
    ks = torch.arange(n_classes).repeat_interleave(per_class)
    x = torch.rand((len(ks), *input_shape), generator=g).requires_grad_(True)
    model = model.eval()
    for _ in range(steps):
        loss = -margins(model(x.clamp(0, 1)), ks).sum()  # maximise the margin of class k
        (grad,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            x -= lr * grad
    return x.detach().clamp(0, 1), ks


# ----------------------------------------------------------------------------- MMAC
@dataclass
class MMACConfig:
    """Defaults from ``mmac.py``; ``use_mse`` / ``use_margin`` / ``adaptive`` exist for ablations."""

    epochs: int = 300
    lr: float = 0.1                 # Adam on the bounds only
    c0: float = 0.002               # initial trade-off coefficient
    c_factor: float = 1.2           # multiply / divide c by this
    c_after: int = 30               # adapt c only after this epoch ...
    c_every: int = 10               # ... every this many epochs
    acc_target: float = 0.95        # ... up if the bounded net's clean-set accuracy >= this, else down
    surrogates_per_class: int = 50
    surrogate_steps: int = 300
    regen_every: int = 100          # new random starts for the surrogates every this many epochs
    batch: int = 200
    use_mse: bool = True
    use_margin: bool = True
    adaptive: bool = True


@dataclass
class MMACHistory:
    mse: list = field(default_factory=list)
    margin: list = field(default_factory=list)
    c: list = field(default_factory=list)
    acc: list = field(default_factory=list)


def mmac_loss(net: BoundedNet, x_clean: torch.Tensor, x_star: torch.Tensor, k_star: torch.Tensor, c: float,
              cfg: MMACConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. (MMAC objective): ``mean ||f_bar(x) - f(x)||^2 over D  +  c * sum_k sum_{x in X*_k} m_k(x; f_bar)``.

    Returns ``(loss, mse, margin_sum, f_bar(x_clean))``."""
    with torch.no_grad():
        ref = net.original(x_clean)
    out = net(x_clean)
    mse = F.mse_loss(out, ref)                         # nn.MSELoss: mean over N x K entries, as the code
    margin_sum = margins(net(x_star), k_star).sum()    # summed over the surrogate batch, as the code
    loss = (mse if cfg.use_mse else 0 * mse) + (c * margin_sum if cfg.use_margin else 0 * margin_sum)
    return loss, mse, margin_sum, out


def adapt_c(c: float, epoch: int, acc: float, cfg: MMACConfig) -> float:
    """The code's automatic trade-off: after epoch ``c_after``, every ``c_every`` epochs, grow c by
    ``c_factor`` while the bounded net keeps ``acc_target`` accuracy on the clean set, else shrink it."""
    if not cfg.adaptive or epoch <= cfg.c_after or epoch % cfg.c_every != 0:
        return c
    return c * cfg.c_factor if acc >= cfg.acc_target else c / cfg.c_factor


def mmac(net: BoundedNet, x_clean: torch.Tensor, y_clean: torch.Tensor, cfg: MMACConfig | None = None,
         seed: int = 0, progress: bool = True) -> MMACHistory:
    """Optimise ``net.bounds`` in place (Adam); the weights stay frozen. Returns the per-epoch history."""
    cfg = cfg or MMACConfig()
    check_clean_set(x_clean, y_clean)
    n_classes = net.original(x_clean[:1]).shape[1]
    opt = torch.optim.Adam(net.bounds, lr=cfg.lr)
    g, c, hist = torch.Generator().manual_seed(seed), cfg.c0, MMACHistory()
    for epoch in tqdm(range(cfg.epochs), desc="MMAC", disable=not progress, leave=False):
        if epoch % cfg.regen_every == 0:  # surrogates come from the original model, new random starts
            xs, ks = max_margin_inputs(net.original, n_classes, cfg.surrogates_per_class, x_clean.shape[1:],
                                       cfg.surrogate_steps, seed=seed * 1000 + epoch)
        sperm, correct = torch.randperm(len(ks), generator=g), 0  # the code reshuffles X* every epoch
        for i, b in enumerate(torch.randperm(len(y_clean), generator=g).split(cfg.batch)):
            s = sperm[(torch.arange(cfg.batch) + i * cfg.batch) % len(sperm)]
            loss, mse, msum, out = mmac_loss(net, x_clean[b], xs[s], ks[s], c, cfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == y_clean[b]).sum())
        acc = correct / len(y_clean)
        hist.mse.append(float(mse.detach())); hist.margin.append(float(msum.detach())); hist.c.append(c); hist.acc.append(acc)  # noqa: E702
        c = adapt_c(c, epoch, acc, cfg)
    return hist


def check_clean_set(x: torch.Tensor, y: torch.Tensor) -> None:
    """A defender's clean set must be non-empty, hold at least two classes, and lie in [0, 1]."""
    if len(y) == 0:
        raise ValueError("the clean set is empty; MMAC needs a few labelled clean images")
    if len(torch.unique(y)) < 2:
        raise ValueError(f"the clean set holds a single class ({int(y[0])}); it needs several classes "
                         "so the bounds keep every class's outputs")
    check_range(x)


def correctly_classified(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``mmac.py`` keeps only the clean images the original model gets right."""
    with torch.no_grad():
        keep = model(x).argmax(1) == y
    return x[keep], y[keep]


# ----------------------------------------------------------------------------- baselines
def naive_clip(net: BoundedNet, x_clean: torch.Tensor, scale: float = 1.0) -> BoundedNet:
    """Bound every channel at ``scale`` x its largest activation on the clean set (no optimisation)."""
    check_range(x_clean)
    net.set_bounds([scale * a.amax(0) for a in channel_max_activations(net, x_clean)])
    return net


def fine_tune(model: nn.Module, x_clean: torch.Tensor, y_clean: torch.Tensor, epochs: int = 50,
              lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Fine-tune a copy of all weights with cross-entropy on the clean set (full batch)."""
    check_clean_set(x_clean, y_clean)
    torch.manual_seed(seed)
    m = copy.deepcopy(model).requires_grad_(True).train()
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    for _ in range(epochs):
        loss = F.cross_entropy(m(x_clean), y_clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m.eval().requires_grad_(False)


# ----------------------------------------------------------------------------- MMDF
@torch.no_grad()
def mmdf_scores(net: BoundedNet, x: torch.Tensor) -> torch.Tensor:
    """Eq. (MMDF score): ``s(x) = m_yhat(x; f) - m_yhat(x; f_bar)`` with ``yhat = argmax f(x)``; ``(N,)``."""
    o_f, o_bar = net.original(x), net(x)
    yhat = o_f.argmax(1)
    return margins(o_f, yhat) - margins(o_bar, yhat)


def fit_threshold(clean_scores: torch.Tensor, z: float = Z_DETECT) -> float:
    """Threshold from clean scores only: ``mean + z * std`` (unbiased std, as torch.std in mmdf.py)."""
    s = torch.as_tensor(clean_scores, dtype=torch.float32)
    if s.ndim != 1 or len(s) < 2:
        raise ValueError(f"need at least two clean scores in a 1-D tensor, got shape {tuple(s.shape)}")
    return float(s.mean() + z * s.std())


@torch.no_grad()
def mmdf_predict(net: BoundedNet, x: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Detect and fix: keep ``f``'s class unless ``s(x) > threshold``; then answer ``f_bar``'s best
    class other than ``f``'s (``mmdf.py`` suppresses ``yhat`` by -1000). Returns ``(pred, flagged)``."""
    o_f, o_bar = net.original(x), net(x)
    yhat = o_f.argmax(1)
    flagged = (margins(o_f, yhat) - margins(o_bar, yhat)) > threshold
    fixed = o_bar.masked_fill(F.one_hot(yhat, o_bar.shape[1]).bool(), float("-inf")).argmax(1)
    return torch.where(flagged, fixed, yhat), flagged


# ----------------------------------------------------------------------------- attacks and evaluation
def train_classifier(x: torch.Tensor, y: torch.Tensor, seed: int, epochs: int = 40, hidden=(256, 256),
                     lr: float = 1e-3, batch: int = 64, act_penalty: float = 0.0, arch: str = "mlp") -> nn.Module:
    """Train an MLP on (possibly poisoned) data with Adam. ``act_penalty`` > 0 is the adaptive attack:
    ``+ lambda * sum_l mean(h_l^2)`` keeps every hidden activation small, so a backdoor cannot rely on
    abnormally large activations."""
    check_range(x)
    torch.manual_seed(seed)
    if arch not in ("cnn", "mlp"):
        raise ValueError(f"arch must be 'cnn' or 'mlp', got {arch!r}")
    n_classes = int(y.max()) + 1
    model = SmallCNN(n_classes=n_classes) if arch == "cnn" else MLP(int(np.prod(x.shape[1:])), hidden, n_classes)
    acts = []
    hooks = [m.register_forward_hook(lambda mod, i, o: acts.append(o)) for m in relu_modules(model)]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for b in torch.randperm(len(y), generator=g).split(batch):
            acts.clear()
            loss = F.cross_entropy(model(x[b]), y[b])
            if act_penalty > 0:
                loss = loss + act_penalty * sum((a ** 2).mean() for a in acts)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for h in hooks:
        h.remove()
    return model.eval().requires_grad_(False)


@torch.no_grad()
def evaluate(predict, x: torch.Tensor, y: torch.Tensor, trigger: Trigger, mode: str = "all_to_one",
             target: int = 0) -> dict[str, float]:
    """ACC on clean ``x``; on triggered attackable images (non-target classes for all-to-one), ASR
    (prediction = attack label) and PACC (prediction = true label). ``predict(x) -> (N,)`` classes."""
    keep = attacked_mask(y, mode, target)
    xt, yt = apply_trigger(x[keep], trigger), y[keep]
    pred_t = predict(xt)
    return {"acc": metrics.accuracy(predict(x), y),
            "asr": metrics.accuracy(pred_t, attack_labels(yt, mode, target)),
            "pacc": metrics.accuracy(pred_t, yt)}


def argmax_of(model: nn.Module):
    """``x -> model(x).argmax(1)``, for :func:`evaluate`."""
    return lambda x: model(x).argmax(1)


# ----------------------------------------------------------------------------- one experiment
@dataclass
class Setting:
    """One attacked-model setting of the comparison (sizes come from the notebook's parameters cell)."""

    trigger: Trigger
    mode: str = "all_to_one"
    target: int = 0
    rate: float = 0.1
    clean_per_class: int = 10
    train_epochs: int = 40
    act_penalty: float = 0.0
    arch: str = "mlp"


def max_margin_per_class(model: nn.Module, n_classes: int = 10, per_class: int = 20, steps: int = 300,
                         input_shape=(1, 8, 8), seed: int = 0) -> torch.Tensor:
    """The largest margin each class reaches on surrogate inputs (MM-BD's statistic); ``(K,)``."""
    xs, ks = max_margin_inputs(model, n_classes, per_class, input_shape, steps, seed=seed)
    with torch.no_grad():
        return margins(model(xs), ks).view(n_classes, per_class).amax(1)


def run_setting(s: Setting, data: dict, seed: int, mmac_cfg: MMACConfig, ft_epochs: int = 50,
                z: float = Z_DETECT) -> dict:
    """Attack (seed), train (seed), draw the clean set (seed), then every defence on the same model.

    ``data`` is ``worlds.digits.split(...)``. Returns metrics per defence plus the MMDF scores."""
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    xp, yp, _ = poison(xtr, ytr, s.trigger, s.rate, s.mode, s.target, seed=seed)
    model = train_classifier(xp, yp, seed=seed, epochs=s.train_epochs, act_penalty=s.act_penalty, arch=s.arch)
    xc, yc = draw_per_class(xva, yva, s.clean_per_class, seed=seed)
    xc, yc = correctly_classified(model, xc, yc)
    ev = lambda predict: evaluate(predict, xte, yte, s.trigger, s.mode, s.target)  # noqa: E731
    out = {"model": model, "none": ev(argmax_of(model))}
    out["naive clip"] = ev(argmax_of(naive_clip(BoundedNet(model, xc), xc)))
    out["fine-tune"] = ev(argmax_of(fine_tune(model, xc, yc, epochs=ft_epochs, seed=seed)))
    net = BoundedNet(model, xc)
    out["history"] = mmac(net, xc, yc, mmac_cfg, seed=seed, progress=False)
    out["MMAC"], out["net"] = ev(argmax_of(net)), net
    threshold = fit_threshold(mmdf_scores(net, xc), z)        # clean data only
    keep = attacked_mask(yte, s.mode, s.target)
    xt = apply_trigger(xte[keep], s.trigger)
    pred_t, flag_t = mmdf_predict(net, xt, threshold)
    pred_c, flag_c = mmdf_predict(net, xte, threshold)
    s_clean, s_trig = mmdf_scores(net, xte), mmdf_scores(net, xt)
    out["MMDF"] = {"acc": metrics.accuracy(pred_c, yte), "asr": metrics.accuracy(pred_t, attack_labels(yte[keep], s.mode, s.target)),
                   "pacc": metrics.accuracy(pred_t, yte[keep]), "tpr": float(flag_t.float().mean()),
                   "fpr": float(flag_c.float().mean()),
                   "auroc": metrics.auroc(torch.cat([s_clean, s_trig]), torch.cat([torch.zeros(len(s_clean)), torch.ones(len(s_trig))]))}
    out["scores"] = (s_clean, s_trig, threshold)
    return out


# ----------------------------------------------------------------------------- the whole experiment
# The sizes per profile (the notebook's parameters cell picks one; `python -m paperlab.backdoor train` too).
CONFIG = dict(
    smoke=dict(seeds=[0], settings=["patch"], train_epochs=3, ft_epochs=5, clean_per_class=10,
               mmac=dict(epochs=5, surrogates_per_class=2, surrogate_steps=5, regen_every=100),
               premise=dict(per_class=3, steps=10), sizes=[5], rates=[0.2], adaptive_seeds=[0], penalty=0.05),
    cpu=dict(seeds=[0, 1, 2], settings=["patch", "blended", "x2x"], train_epochs=40, ft_epochs=50, clean_per_class=10,
             mmac=dict(epochs=300, surrogates_per_class=20, surrogate_steps=150, regen_every=100),
             premise=dict(per_class=20, steps=150), sizes=[2, 5, 20], rates=[0.02, 0.2], adaptive_seeds=[0, 1, 2],
             penalty=0.05),
    gpu=dict(seeds=[0, 1, 2], settings=["patch", "blended", "x2x"], train_epochs=40, ft_epochs=50, clean_per_class=10,
             mmac=dict(epochs=300, surrogates_per_class=50, surrogate_steps=300, regen_every=100),
             premise=dict(per_class=50, steps=300), sizes=[2, 5, 20], rates=[0.02, 0.2], adaptive_seeds=[0, 1, 2],
             penalty=0.05),
)
DEFENCES = ("none", "naive clip", "fine-tune", "MMAC", "MMDF")


def attacks() -> dict[str, tuple[Trigger, str]]:
    """The three attacks: patch (all-to-one), blended (all-to-one), X2X (the patch, label k -> k+1)."""
    from paperlab.worlds import digits as W

    return {"patch": (W.patch_trigger(2, "bottom_right"), "all_to_one"),
            "blended": (W.blended_trigger(0.2, seed=0), "all_to_one"),
            "x2x": (W.patch_trigger(2, "bottom_right"), "x2x")}


def experiment_job(name: str, seed: int, cfg: dict) -> dict:
    """One (attack, seed) of the main experiment: :func:`run_setting` on the seed's split; for the patch
    attack also the premise (target-class max margin over the best other class, backdoored and clean model).

    Self-seeded (split, poison, training, clean set all from ``seed``), so any spreading gives the same result."""
    from paperlab.worlds import digits as W

    known = attacks()
    if name not in known:
        raise KeyError(f"unknown attack {name!r}; choose from {list(known)}")
    x_all, y_all = W.load()
    data = W.split(x_all, y_all, seed=seed)
    trig, mode = known[name]
    s = Setting(trig, mode, rate=0.1, clean_per_class=cfg["clean_per_class"], train_epochs=cfg["train_epochs"])
    r = run_setting(s, data, seed, MMACConfig(**cfg["mmac"]), ft_epochs=cfg["ft_epochs"])
    if name == "patch":
        mm = max_margin_per_class(r["model"], seed=seed, **cfg["premise"])
        clean = train_classifier(*data["train"], seed=seed, epochs=cfg["train_epochs"])
        cm = max_margin_per_class(clean, seed=seed, **cfg["premise"])
        r["premise"] = {"backdoored": float(mm[0] / mm[1:].max()), "clean": float(cm[0] / cm[1:].max())}
    return r


def run_experiment(cfg: dict, workers: int = 1, mapper=None) -> dict:
    """Every (attack, seed) of ``cfg`` -> ``{(attack, seed): run_setting result}`` (seed-major order).

    ``workers`` local processes split the jobs, or ``mapper(fn, jobs, common)`` spreads them
    (``python -m paperlab.backdoor train`` passes the shared command line's ``Run.map``)."""
    from paperlab.core import distributed as D

    jobs = [{"name": n, "seed": s} for s in cfg["seeds"] for n in cfg["settings"]]
    mapper = mapper or D.mapper_for(workers)
    out = mapper(experiment_job, jobs, {"cfg": cfg})
    return {(j["name"], j["seed"]): r for j, r in zip(jobs, out)}


def summary(results: dict) -> dict:
    """The JSON-able part of :func:`run_experiment`'s results: each defence's metrics and the premise ratios."""
    return {f"{name}|{seed}": {**{d: r[d] for d in DEFENCES}, **({"premise": r["premise"]} if "premise" in r else {})}
            for (name, seed), r in results.items()}


def main(argv=None) -> int:
    """``python -m paperlab.backdoor train [--profile P] [--workers N] [--seeds ...]`` -> a JSON summary.

    The notebook's main experiment (every attack x seed, every defence) on the shared command line
    (``paperlab.core.cli``): ``--workers`` processes or torchrun ranks split the (attack, seed) runs,
    with the sequential results. Nothing is committed or registered: the notebook runs the same
    :func:`run_experiment` live; this writes ``data/backdoor/experiment-<profile>.json`` (or ``--out``).
    All profiles use the digits MLP; the paper's ResNet-18 on CIFAR-10 is not implemented (loader only).
    """
    import json
    import time
    from pathlib import Path

    from paperlab.core import cli
    from paperlab.core.paths import data_dir

    ap = cli.parser("python -m paperlab.backdoor", "Run the MMAC / MMDF experiment (every attack x seed).")
    ap.add_argument("--out", default=None, help="JSON path (default data/backdoor/experiment-<profile>.json)")

    def body(args, run):
        cli.cpu_plan_only(ap, args, run, "backdoor", smoke_ok=True,
                          gpu_note="note: the gpu profile trains the same digits MLPs (larger surrogate sets), on the CPU")
        cfg = {**run.pick(**CONFIG)}
        cfg["seeds"] = list(run.seeds_or(cfg["seeds"]))
        t0 = time.time()
        results = run_experiment(cfg, mapper=run.map)
        if not run.is_main:
            return 0
        out = Path(args.out) if args.out else data_dir() / "backdoor" / f"experiment-{run.profile.name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"profile": run.profile.name, "config": cfg, "wall_s": round(time.time() - t0, 1),
                                   "results": summary(results)}, indent=1))
        for (name, seed), r in results.items():
            run.log(f"seed {seed} {name:8s} ASR none {r['none']['asr']:.2f} MMAC {r['MMAC']['asr']:.2f} "
                    f"MMDF {r['MMDF']['asr']:.2f} | ACC none {r['none']['acc']:.3f} MMAC {r['MMAC']['acc']:.3f}")
        run.log(f"wrote {out}")
        return 0

    return cli.main(ap, body, argv)


if __name__ == "__main__":
    main()
