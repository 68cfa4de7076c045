"""Latent modality structures: forced alignment and the three regularizers, on a nano-CLIP.

Qian Jiang, Changyou Chen, Han Zhao, Liqun Chen, Qing Ping, Son Dinh Tran, Yi Xu, Belinda Zeng,
Trishul Chilimbi, "Understanding and Constructing Latent Modality Structures in Multi-modal
Representation Learning", CVPR 2023 (arXiv 2303.05952). Official code: none found.

What is the paper's and what is reconstructed (see the 03_modality notebook for the details):
the *names and roles* of the three regularizers (deep feature separation = intra-modal, Brownian
bridge = inter-modal, geometric consistency = intra + inter) and the claim that exact alignment is
sub-optimal by an information gap are the paper's (abstract, introduction). The loss *formulas*
below, the choice of the bridge's intermediate point and the non-collapse term are our
reconstructions; the paper's method section was not available to us.

Pieces:

* ``theory``: the sympy derivation (``paperlab.modality.theory``).
* losses on L2-normalised features (B, D): ``alignment_loss``, ``separation_loss``,
  ``non_collapse_loss``, ``brownian_bridge_loss``, ``geometric_consistency_loss``.
* ``Arm``: one training configuration (caption probability q, lambda_a, regularizer weights);
  ``pretrain_arm(arm, seed, ...)`` pretrains a nano-CLIP with ``paperlab.clip.pretrain`` and the
  arm's ``extra_loss``; ``evaluate(model, evalset)`` measures zero-shot, the background probe's
  cross-entropy, retrieval R@1 and the modality gap.
* ``python -m paperlab.modality train`` runs every arm x seed of the constant-weight grid and the
  regularizers and writes ``data/modality/results.json``; ``--plan alignment`` runs the theorem's test
  (forced alignment with a ramped weight across caption probabilities q, ``data/modality/alignment.json``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from paperlab import clip
from paperlab.worlds import shapes

RESULTS = "modality/results.json"  # registry name under data/
COMMAND = "nice -n 10 env OMP_NUM_THREADS=1 python -m paperlab.modality train"


def _check_pair(z_v: torch.Tensor, z_t: torch.Tensor, what: str = "z_v and z_t") -> None:
    if not isinstance(z_v, torch.Tensor) or not isinstance(z_t, torch.Tensor):
        raise TypeError(f"{what} must be torch tensors")
    if z_v.ndim != 2 or z_t.ndim != 2:
        raise ValueError(f"{what} must be (B, D) matrices, got {tuple(z_v.shape)} and {tuple(z_t.shape)}")
    if z_v.shape != z_t.shape:
        raise ValueError(f"embedding shapes of the two towers differ: {tuple(z_v.shape)} vs {tuple(z_t.shape)}"
                         " (both must be (B, D) with the same batch and embedding size)")


# ----------------------------------------------------------------------------- the losses


def alignment_loss(z_v: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
    """Forced alignment: mean_i ||z_v^i - z_t^i||^2 (our arm that reaches the theorem's regime)."""
    _check_pair(z_v, z_t)
    return (z_v - z_t).pow(2).sum(-1).mean()


def separation_loss(z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Deep feature separation (DSN-style difference loss, reconstructed): ||Z^T U||_F^2 / B^2.

    ``z`` (B, D): shared (contrastive) features; ``u`` (B, D'): the same modality's private
    features. Zero when every shared feature column is orthogonal, over the batch, to every
    private one.
    """
    if z.ndim != 2 or u.ndim != 2 or z.shape[0] != u.shape[0]:
        raise ValueError(f"z and u must be (B, D) and (B, D') with the same B, got {tuple(z.shape)}, {tuple(u.shape)}")
    return (z.T @ u).pow(2).sum() / z.shape[0] ** 2  # squared norm of the batch cross-moment E[z u^T]


def non_collapse_loss(u: torch.Tensor, floor: float | None = None) -> torch.Tensor:
    """Variance floor on private features (VICReg-style, our choice): mean_d relu(floor - std_d(u)).

    Unit-norm features spread evenly over D dimensions have std 1/sqrt(D) per dimension, the
    default ``floor``. Stops ``u`` from satisfying the separation loss by collapsing to a constant.
    """
    if u.ndim != 2 or u.shape[0] < 2:
        raise ValueError(f"u must be (B, D) with B >= 2, got {tuple(u.shape)}")
    floor = 1.0 / math.sqrt(u.shape[1]) if floor is None else floor
    return F.relu(floor - u.std(dim=0)).mean()


def bridge_mean_var(z_v: torch.Tensor, z_t: torch.Tensor, s: torch.Tensor | float, sigma: float = 1.0):
    """Brownian bridge from z_v (time 0) to z_t (time 1): mean (1-s) z_v + s z_t, variance s(1-s) sigma^2."""
    _check_pair(z_v, z_t)
    s = torch.as_tensor(s, dtype=z_v.dtype, device=z_v.device)
    if s.ndim == 0:
        s = s.expand(z_v.shape[0])
    if s.shape != (z_v.shape[0],):
        raise ValueError(f"s must be a scalar or shape ({z_v.shape[0]},), got {tuple(s.shape)}")
    if torch.any(s <= 0) or torch.any(s >= 1):
        raise ValueError(f"bridge times s must lie strictly inside (0, 1), got values in [{float(s.min()):.3g}, "
                         f"{float(s.max()):.3g}]; at the end points the bridge variance s(1-s) is zero")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    return (1 - s)[:, None] * z_v + s[:, None] * z_t, s * (1 - s) * sigma**2


def brownian_bridge_loss(z_v: torch.Tensor, z_t: torch.Tensor, z_s: torch.Tensor, s, sigma: float = 1.0,
                         contrastive: bool = True) -> torch.Tensor:
    """Brownian-bridge loss (reconstructed): an intermediate embedding z_s should lie on the bridge.

    Log-density of the bridge: d_ij = -||z_s^j - mu_i||^2 / (2 s_i (1 - s_i) sigma^2), mu_i = (1 - s_i) z_v^i + s_i z_t^i.
    ``contrastive=True``: cross-entropy of picking z_s^i among the batch's intermediates (the
    Brownian-bridge contrastive objective of Wang et al., ICLR 2022, "Language modeling via
    stochastic processes"); ``False``: the plain negative log-likelihood mean_i -d_ii.
    """
    _check_pair(z_v, z_t)
    _check_pair(z_v, z_s, "z_v and z_s")
    mu, var = bridge_mean_var(z_v, z_t, s, sigma)
    d = -torch.cdist(mu, z_s).pow(2) / (2 * var[:, None])  # (B, B): row i = bridge of pair i
    if not contrastive:
        return -d.diagonal().mean()
    return F.cross_entropy(d, torch.arange(len(d), device=d.device))


def geometric_consistency_loss(z_v: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
    """Geometric consistency (reconstructed): intra- and inter-modal similarity structure agree.

    (1/B^2) sum_ij [(z_v^i.z_v^j - z_t^i.z_t^j)^2 + (z_v^i.z_t^j - z_t^i.z_v^j)^2].
    """
    _check_pair(z_v, z_t)
    intra = z_v @ z_v.T - z_t @ z_t.T
    cross = z_v @ z_t.T
    return (intra.pow(2) + (cross - cross.T).pow(2)).mean()


# ----------------------------------------------------------------------------- an arm of the experiment


@dataclass(frozen=True)
class Arm:
    """One pretraining configuration. ``q``: probability that a caption names the background."""

    name: str
    q: float = 0.25
    lambda_a: float = 0.0  # forced alignment weight
    sep: float = 0.0  # deep feature separation weight (+ the non-collapse term at the same weight)
    bb: float = 0.0  # Brownian bridge weight
    gc: float = 0.0  # geometric consistency weight
    ramp: float = 0.0  # lambda_a rises linearly from 0 over this fraction of the steps (0: constant lambda_a)
    bridge_noise: float = 0.1  # pixel-noise std of the bridge's intermediate view
    s_range: tuple[float, float] = (0.1, 0.9)  # bridge times are drawn uniformly here

    def __post_init__(self):
        if not 0.0 <= self.q <= 1.0:
            raise ValueError(f"Arm.q must be a probability in [0, 1], got {self.q!r}")
        for k in ("lambda_a", "sep", "bb", "gc"):
            if getattr(self, k) < 0:
                raise ValueError(f"Arm.{k} must be >= 0, got {getattr(self, k)!r}")
        if not 0.0 <= self.ramp <= 1.0:
            raise ValueError(f"Arm.ramp must be a fraction of the training steps in [0, 1], got {self.ramp!r}")
        lo, hi = self.s_range
        if not 0 < lo <= hi < 1:
            raise ValueError(f"Arm.s_range must lie inside (0, 1), got {self.s_range}")

    def policy(self) -> shapes.CaptionPolicy:
        """Captions always name shape and colour, size with probability 0.5, background with q."""
        return shapes.CaptionPolicy(p_shape=1.0, p_color=1.0, p_size=0.5, p_texture=self.q)


LAMBDAS = (0.0, 0.3, 1.0, 3.0)
QS = (0.25, 1.0)
REG_WEIGHT = 1.0
RAMP_QS = (0.25, 0.5, 1.0)  # the alignment plan's information gaps: Delta_p = (1 - q) log 4
RAMP_LAMBDA, RAMP_FRACTION = 3.0, 0.5
PLANS = ("grid", "alignment")


def ramp_name(q: float) -> str:
    """Name of the alignment plan's ramped forced-alignment arm at caption probability ``q``."""
    return f"ramp q={q:g} lam={RAMP_LAMBDA:g}"


def plan(name: str = "grid") -> list[Arm]:
    """The arms of ``python -m paperlab.modality train --plan NAME``.

    ``grid`` (``data/modality/results.json``): q in QS x a constant lambda_a in LAMBDAS, then the four
    regularizer arms at q = 0.25. ``alignment`` (``data/modality/alignment.json``): the theorem's test,
    forced alignment with lambda_a ramped from 0 to RAMP_LAMBDA over the first half of training at
    every q in RAMP_QS, plus plain InfoNCE at q = 0.5 (the grid has plain at 0.25 and 1).
    """
    if name == "grid":
        arms = [Arm(arm_name(q, lam), q=q, lambda_a=lam) for q in QS for lam in LAMBDAS]
        w = REG_WEIGHT
        return arms + [Arm("+sep", sep=w), Arm("+bridge", bb=w), Arm("+geometric", gc=w),
                       Arm("+all three", sep=w, bb=w, gc=w)]
    if name == "alignment":
        return [Arm(arm_name(0.5, 0.0), q=0.5)] + [Arm(ramp_name(q), q=q, lambda_a=RAMP_LAMBDA, ramp=RAMP_FRACTION)
                                                  for q in RAMP_QS]
    raise ValueError(f"unknown plan {name!r}; plans: {PLANS}")


def results_name(plan_name: str = "grid") -> str:
    """Registry name (under data/) of a plan's committed results."""
    if plan_name not in PLANS:
        raise ValueError(f"unknown plan {plan_name!r}; plans: {PLANS}")
    return RESULTS if plan_name == "grid" else f"modality/{plan_name}.json"


# ----------------------------------------------------------------------------- training


class _Context:
    """What the regularizers need beyond the hook's (z_v, z_t, logit_scale): the model, the batch, features.

    ``paperlab.clip.pretrain`` creates the model itself and gives ``extra_loss`` only the normalised
    features. Its ``model_hook`` (:func:`_attach`) adds the separation heads *before* the optimiser is
    built, so they train, and forward hooks that keep the towers' pre-projection features; its
    ``batch_fn`` (:func:`_cached_pretrain_batch`) keeps the current images for the bridge's
    intermediate view and reuses rendered batches across arms: the images of a (batch, seed) pair do
    not depend on the caption policy, so arms with the same seed see the same pixels.
    """

    def __init__(self, heads: bool):
        self.heads, self.model, self.images = heads, None, None
        self.feats: dict[str, torch.Tensor] = {}


_RENDER_CACHE: dict = {}


def _cached_pretrain_batch(orig, ctx: _Context):
    def fn(n, seed, policy=shapes.DEFAULT_POLICY, image_size=32, style_probs=None, hold_out=shapes.HELD_OUT_COMBOS):
        if style_probs is not None or hold_out != shapes.HELD_OUT_COMBOS:
            images, caps = orig(n, seed, policy=policy, image_size=image_size, style_probs=style_probs,
                                hold_out=hold_out)
        else:
            key = (n, seed, image_size)
            if key not in _RENDER_CACHE:
                rng = np.random.default_rng(seed)  # the same draws as shapes.pretrain_batch
                scenes = shapes.sample_scenes(n, rng, style=shapes.PRETRAIN_STYLE_PROBS, exclude_combos=hold_out)
                _RENDER_CACHE[key] = (scenes, shapes.render(scenes, image_size), rng.bit_generator.state)
            scenes, images, state = _RENDER_CACHE[key]
            rng = np.random.default_rng()
            rng.bit_generator.state = state
            caps = policy.captions(scenes, rng)
        ctx.images = images
        return images, caps
    return fn


def clear_render_cache() -> None:
    _RENDER_CACHE.clear()


def _attach(model, ctx: _Context) -> None:
    """``clip.pretrain``'s ``model_hook``: forward hooks keeping pre-projection features; separation heads as
    submodules (added before the optimiser is built, so pretrain's AdamW trains them)."""
    ctx.model = model
    dim = model.text_projection.shape[1]
    w_v, w_t = model.visual.transformer.width, model.transformer.width

    def keep_vision(_m, _inp, out):
        ctx.feats["h_v"] = out[:, 0]  # class token of the last block (batch-first in open_clip 3.x)

    def keep_ids(_m, inp):
        ctx.feats["ids"] = inp[0]

    def keep_text(_m, _inp, out):
        ctx.feats["h_t"] = out[torch.arange(out.shape[0]), ctx.feats["ids"].argmax(dim=-1)]  # EOT token

    model.visual.transformer.register_forward_hook(keep_vision)
    model.token_embedding.register_forward_pre_hook(keep_ids)
    model.ln_final.register_forward_hook(keep_text)
    if ctx.heads:
        model.sep_heads = nn.ModuleDict({"v": nn.Linear(w_v, dim), "t": nn.Linear(w_t, dim)})


def lambda_schedule(arm: Arm, step: int, steps: int) -> float:
    """lambda_a at ``step`` of ``steps``: linear from 0 to ``arm.lambda_a`` over the first ``arm.ramp`` of training.

    The ramp lets the contrastive structure form before the alignment pull; a constant weight from
    step 0 can collapse a small model onto a few shared directions (the committed constant-lambda runs).
    """
    if steps < 1 or not 0 <= step < steps:
        raise ValueError(f"need 0 <= step < steps, got step={step}, steps={steps}")
    n_ramp = arm.ramp * steps
    return arm.lambda_a if n_ramp < 1 else arm.lambda_a * min(1.0, (step + 1) / n_ramp)


def make_extra_loss(arm: Arm, ctx: _Context, generator: torch.Generator, steps: int = 1):
    """The arm's ``extra_loss(z_v, z_t, logit_scale)`` for ``clip.pretrain`` (called once per step of
    ``steps``); None for plain InfoNCE."""
    if not any((arm.lambda_a, arm.sep, arm.bb, arm.gc)):
        return None
    calls = [0]

    def extra(z_v, z_t, _scale):
        total = z_v.new_zeros(())
        step, calls[0] = min(calls[0], steps - 1), calls[0] + 1
        if arm.lambda_a:
            total = total + lambda_schedule(arm, step, steps) * alignment_loss(z_v, z_t)
        if arm.sep:
            for m, z in (("v", z_v), ("t", z_t)):
                u = F.normalize(ctx.model.sep_heads[m](ctx.feats[f"h_{m}"]), dim=-1)
                total = total + arm.sep * (separation_loss(z, u) + non_collapse_loss(u))
        if arm.bb:
            lo, hi = arm.s_range
            s = lo + (hi - lo) * torch.rand(len(z_v), generator=generator)
            noise = arm.bridge_noise * torch.randn(ctx.images.shape, generator=generator)
            view = (ctx.images + noise).clamp(0, 1)
            z_s = ctx.model.encode_image(clip.normalize(view, ctx.model), normalize=True)
            total = total + arm.bb * brownian_bridge_loss(z_v, z_t, z_s, s)
        if arm.gc:
            total = total + arm.gc * geometric_consistency_loss(z_v, z_t)
        return total

    return extra


def pretrain_arm(arm: Arm, seed: int, steps: int = 300, batch_size: int = 64, lr: float = 2e-3,
                 size: str = "nano", progress: bool = False):
    """Pretrain a CLIP of ``size`` on the shapes world under ``arm`` -> (model in eval mode, history)."""
    ctx = _Context(heads=arm.sep > 0)
    gen = torch.Generator().manual_seed(10_000 + seed)
    extra = make_extra_loss(arm, ctx, gen, steps=steps)
    model, hist = clip.pretrain(arm.policy(), size=size, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                                progress=progress, log_every=max(1, steps // 20), extra_loss=extra,
                                model_hook=lambda m: _attach(m, ctx), batch_fn=_cached_pretrain_batch(shapes.pretrain_batch, ctx))
    model.paperlab_ctx = ctx
    return model, hist


# ----------------------------------------------------------------------------- evaluation


@dataclass
class EvalSet:
    """Fixed evaluation data, built once and shared by every arm (fresh draws, never seen in training)."""

    probe_train: tuple = field(repr=False)  # (images, texture labels, size labels)
    probe_test: tuple = field(repr=False)
    zs_splits: dict = field(repr=False)  # name -> (Split, templates)
    ret_images: torch.Tensor = field(repr=False)
    ret_captions: list = field(repr=False)


def make_evalset(n_probe_train: int = 1024, n_probe_test: int = 1024, n_retrieval: int = 500,
                 q_retrieval: float = 0.25, seed: int = 2026) -> EvalSet:
    """Probe sets (photos, every attribute uniform), zero-shot shape and colour test splits, retrieval pairs."""
    def probe(n, s):
        sc = shapes.sample_scenes(n, s)
        return shapes.render(sc), torch.as_tensor(sc.texture), torch.as_tensor(sc.size)

    zs = {name: (shapes.dataset(name).test(), shapes.dataset(name).templates) for name in ("shape", "color")}
    pol = Arm("eval", q=q_retrieval).policy()
    images, caps = shapes.pretrain_batch(n_retrieval, seed=seed + 7, policy=pol, style_probs={"photo": 1.0})
    return EvalSet(probe(n_probe_train, seed), probe(n_probe_test, seed + 1), zs, images, caps)


def probe_scores(train_x, train_y, test_x, test_y, Cs=(0.01, 0.1, 1.0, 10.0)) -> dict:
    """Logistic-regression probe (standardised features, C chosen by 3-fold CV, same for every arm).

    Returns test accuracy and test cross-entropy (nats, sklearn ``log_loss``; C is chosen by CV log-loss): the latter estimates
    H(Y | Z_v) from above (a linear probe is one family of predictors h).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf = GridSearchCV(pipe, {"logisticregression__C": list(Cs)}, cv=3, scoring="neg_log_loss")
    clf.fit(np.asarray(train_x), np.asarray(train_y))
    p = clf.predict_proba(np.asarray(test_x))
    return {"acc": float((p.argmax(1) == np.asarray(test_y)).mean()),
            "ce": float(log_loss(np.asarray(test_y), p, labels=clf.classes_))}


def retrieval_r1(img: torch.Tensor, txt: torch.Tensor, captions: list[str]) -> float:
    """Mean of image->text and text->image R@1 on paired embeddings; a retrieved caption counts as
    correct when its string equals the true one (captions repeat: "a red star" fits many images)."""
    _check_pair(img, txt, "image and text embeddings")
    sim = img @ txt.T
    caps = np.asarray(captions)
    i2t = (caps[sim.argmax(1).numpy()] == caps).mean()
    t2i = (caps[sim.argmax(0).numpy()] == caps).mean()
    return float((i2t + t2i) / 2)


def gap_stats(img: torch.Tensor, txt: torch.Tensor) -> dict:
    """Modality-gap diagnostics on normalised paired embeddings: centroid distance and mean paired cosine."""
    _check_pair(img, txt, "image and text embeddings")
    return {"gap": float((img.mean(0) - txt.mean(0)).norm()), "paired_cos": float((img * txt).sum(-1).mean())}


def evaluate(model, ev: EvalSet) -> dict:
    """All measures of one trained model (floats)."""
    out = {}
    ftr, fte = clip.encode_images(model, ev.probe_train[0]), clip.encode_images(model, ev.probe_test[0])
    for attr, k in (("background", 1), ("size", 2)):
        sc = probe_scores(ftr, ev.probe_train[k], fte, ev.probe_test[k])
        out[f"probe_{attr}_acc"], out[f"probe_{attr}_ce"] = sc["acc"], sc["ce"]
    for name, (split, templates) in ev.zs_splits.items():
        out[f"zs_{name}"] = clip.evaluate_zero_shot(model, split, templates)
    out["zs_shape_color"] = (out["zs_shape"] + out["zs_color"]) / 2
    img, txt = clip.encode_images(model, ev.ret_images), clip.encode_texts(model, ev.ret_captions)
    out["r1"] = retrieval_r1(img, txt, ev.ret_captions)
    out.update(gap_stats(img, txt))
    return {k: round(v, 5) for k, v in out.items()}


def composite(row: dict) -> float:
    """The issue's 'mean of probe, zero-shot and retrieval': background-probe accuracy, zs shape+colour, R@1."""
    return (row["probe_background_acc"] + row["zs_shape_color"] + row["r1"]) / 3


# ----------------------------------------------------------------------------- the whole experiment


def seed_rows(seed: int, arms: list[Arm], steps: int, batch_size: int, lr: float, ev: EvalSet,
              progress: bool = False) -> dict:
    """One seed's share of :func:`train_all`: the untrained floor and every arm, in plan order.

    The arms of one seed run together in one process because they share its rendered batches (the
    render cache); different seeds are independent jobs (``paperlab.core.cli``'s ``Run.map``)."""
    from tqdm.auto import tqdm

    clear_render_cache()
    torch.manual_seed(seed)
    rand, _ = clip.create_model(None, name=clip.SIZES["nano"])
    floor = {"seed": seed, **evaluate(rand.eval(), ev)}
    rows = []
    for arm in tqdm(arms, desc=f"modality seed {seed}", disable=not progress, mininterval=10):
        t1 = time.time()
        model, hist = pretrain_arm(arm, seed, steps=steps, batch_size=batch_size, lr=lr)
        rows.append({"arm": arm.name, **asdict(arm), "seed": seed, **evaluate(model, ev),
                     "loss_end": hist["loss"][-1], "extra_end": hist["extra"][-1] if hist.get("extra") else 0.0,
                     "train_s": round(hist["wall_s"], 1), "wall_s": round(time.time() - t1, 1)})
    clear_render_cache()
    return {"floor": floor, "rows": rows}


def train_all(arms: list[Arm] | None = None, seeds=(0, 1, 2), steps: int = 300, batch_size: int = 64,
              lr: float = 2e-3, ev: EvalSet | None = None, progress: bool = True, workers: int = 1,
              mapper=None, reference: bool = True, plan_name: str = "grid") -> dict:
    """Every arm x seed -> the results dict (rows seed-major, then plan order).

    Each seed is one job (:func:`seed_rows`); ``workers`` local processes split the seeds, or
    ``mapper(fn, jobs, common)`` spreads them (``python -m paperlab.modality train`` passes the shared
    command line's ``Run.map``: torchrun ranks or ``--workers``). Every job seeds itself, so the
    results equal the sequential run's whatever the spreading (timings aside). ``reference``: add
    :func:`reference_run` (the reduced run the tests retrain) to the results."""
    from paperlab.core import distributed as D

    arms = arms or plan(plan_name)
    ev = ev or make_evalset()
    t0 = time.time()
    mapper = mapper or D.mapper_for(workers)
    parts = mapper(seed_rows, [{"seed": s} for s in seeds],
                   {"arms": arms, "steps": steps, "batch_size": batch_size, "lr": lr, "ev": ev, "progress": progress})
    wall = round(time.time() - t0, 1)
    return {"rows": [r for part in parts for r in part["rows"]], "random_init": [part["floor"] for part in parts],
            "seeds": list(seeds), "steps": steps, "batch_size": batch_size, "lr": lr, "size": "nano", "wall_s": wall,
            "plan": [asdict(a) for a in arms], "plan_name": plan_name,
            "reference": reference_run(lr=lr) if reference else None}


REFERENCE = {"arm": Arm("reference", lambda_a=3.0), "seed": 0, "steps": 40, "batch_size": 16,
             "evalset": {"n_probe_train": 128, "n_probe_test": 128, "n_retrieval": 100}}


def reference_run(lr: float = 2e-3) -> dict:
    """A reduced run stored beside the results; the tests retrain it and compare (reproducibility check)."""
    ref = REFERENCE
    model, _ = pretrain_arm(ref["arm"], ref["seed"], steps=ref["steps"], batch_size=ref["batch_size"], lr=lr)
    clear_render_cache()
    return {**ref, "arm": asdict(ref["arm"]), "metrics": evaluate(model, make_evalset(**ref["evalset"]))}


def read_results(name: str = RESULTS, command: str = COMMAND) -> dict:
    """A committed results file (sha256-verified), or a clear error naming the file and the fix.

    A damaged file (bytes that are not UTF-8, text that is not JSON, JSON that is not a results dict) is never a
    raw ``UnicodeDecodeError`` / ``JSONDecodeError``: the error says which file and how to restore or rebuild it.
    """
    from paperlab.core import assets

    fix = f"restore the committed file with `git checkout -- data/{name}` (one second), or regenerate it with: {command}"
    p = assets.path(name)  # a sha256 mismatch is an AssetError naming the file, the checkout and the command
    try:
        res = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise assets.AssetError(f"data/{name} is corrupt, not a JSON results file ({type(exc).__name__}: {exc}); "
                                f"{fix}") from exc
    if not isinstance(res, dict) or not isinstance(res.get("rows"), list):
        raise assets.AssetError(f"data/{name} holds JSON but not a results file (no list of 'rows'); {fix}")
    return res


def load_results(retrain: bool | None = None, plan_name: str = "grid", **train_kw) -> dict:
    """A plan's committed results (``data/modality/results.json`` for ``grid``, ``alignment.json`` for
    ``alignment``; sha256-verified, ``read_results``), or train the plan and register its results (written
    atomically: a killed run leaves the old file or the new one, never half of one)."""
    from paperlab.core import assets
    from paperlab.core import io as pio
    from paperlab.core.paths import data_dir
    from paperlab.core.train import retrain_requested

    name = results_name(plan_name)
    command = COMMAND + ("" if plan_name == "grid" else f" --plan {plan_name}")
    retrain = retrain_requested() if retrain is None else retrain
    if not retrain and name in assets.load_registry():
        return read_results(name, command)
    res = train_all(plan_name=plan_name, **train_kw)
    pio.atomic_write_text(data_dir() / name, json.dumps(res, indent=1))
    assets.register(name, command=command, seeds=res["seeds"], wall_s=res["wall_s"], steps=res["steps"],
                    batch_size=res["batch_size"], threads=torch.get_num_threads())
    return res


def table(res: dict, arm: str, key: str) -> list[float]:
    """Per-seed values of ``key`` for ``arm`` (seed order of the results)."""
    vals = {r["seed"]: r[key] for r in res["rows"] if r["arm"] == arm}
    if not vals:
        raise KeyError(f"no arm named {arm!r}; arms: {sorted({r['arm'] for r in res['rows']})}")
    return [vals[s] for s in res["seeds"]]


def arm_name(q: float, lam: float) -> str:
    """Name of the grid arm with caption probability ``q`` and forced-alignment weight ``lam``."""
    return f"align q={q:g} lam={lam:g}"


METRICS = ("probe_background_ce", "probe_background_acc", "probe_size_ce", "zs_shape_color", "r1", "gap",
           "paired_cos")


def dose_response(res: dict, q: float, key: str) -> np.ndarray:
    """(n_seeds, len(LAMBDAS)) values of ``key`` along the lambda_a sweep at caption probability ``q``."""
    return np.array([table(res, arm_name(q, lam), key) for lam in LAMBDAS]).T


def summary_rows(res: dict, arms: list[str] | None = None, keys=METRICS) -> list[dict]:
    """One row per arm: 'mean ± std' over seeds of each metric."""
    from paperlab.core.nb import mean_std

    arms = arms or list(dict.fromkeys(r["arm"] for r in res["rows"]))
    return [{"arm": a, **{k: mean_std(table(res, a, k)) for k in keys}} for a in arms]


# ----------------------------------------------------------------------------- the method figure


def method_figure():
    """Two panels: the nano-CLIP with the losses this module adds, and the information-gap argument."""
    import matplotlib.pyplot as plt

    from paperlab.core import plots

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.25, 1]})
    loss = "#f6dbdb"
    plots.block_diagram({
        "img": (0.08, 0.8, "image x_v\n(shapes world)", "#eeeeee"),
        "cap": (0.08, 0.2, "caption x_t\n(names the\nbackground\nwith prob. q)", "#eeeeee"),
        "vt": (0.29, 0.8, "vision tower\n(nano ViT)"),
        "tt": (0.29, 0.2, "text tower"),
        "emb": (0.46, 0.5, "z_v, z_t\n(unit vectors,\nbatch B x D)"),
        "clip": (0.79, 0.93, "ClipLoss (InfoNCE)", loss),
        "ali": (0.79, 0.72, "alignment_loss: λ_a ||z_v - z_t||²  (ours)", loss),
        "sep": (0.79, 0.5, "separation_loss + non_collapse_loss\nprivate heads u_v, u_t  (intra)", loss),
        "bb": (0.79, 0.27, "brownian_bridge_loss: z_s of a noised\nview on the bridge z_v → z_t  (inter)", loss),
        "gc": (0.79, 0.06, "geometric_consistency_loss\nsimilarity structure  (intra + inter)", loss),
    }, [("img", "vt"), ("cap", "tt"), ("vt", "emb"), ("tt", "emb"), ("emb", "clip"), ("emb", "ali"), ("emb", "sep"),
        ("emb", "bb"), ("emb", "gc")], ax=left, title="(a) pretrain_arm: ClipLoss + the arm's extra_loss terms")
    plots.block_diagram({
        "y": (0.12, 0.5, "label Y\n(background)", "#eeeeee"),
        "xv": (0.42, 0.82, "image X_v\nshows Y: I(X_v;Y) = H(Y)"),
        "xt": (0.42, 0.18, "caption X_t\nnames Y with prob. q"),
        "z": (0.8, 0.5, "exact alignment\nZ = g_v(X_v) = g_t(X_t)\n⇒ I(Z;Y) ≤ I(X_t;Y)\n⇒ CE lost ≥ I(X_v;Y) - I(X_t;Y)",
              "#fff2cc"),
    }, [("y", "xv"), ("y", "xt"), ("xv", "z", "g_v"), ("xt", "z", "g_t")], ax=right,
        title="(b) the information gap: an aligned Z knows only what the caption knows")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- exercises


def check_exercise(n: int, answer) -> str:
    """The notebook's exercise checks (1-5): not attempted / incorrect / close / correct."""
    from paperlab.core import checks

    if n == 1:
        return checks.check_close("exercise 1", answer, 0.5 * math.log(4), rtol=1e-3, close_rtol=0.1,
                                  hint="Delta_p = I(X_v;Y) - I(X_t;Y) = (1 - q) log k, in nats")
    if n == 2:
        return checks.check_close("exercise 2", answer, math.log(4), rtol=1e-3, close_rtol=0.05,
                                  hint="the same image is paired with a caption that names the background "
                                       "and with one that does not; both must map to the same point")
    if n == 3:
        return checks.check_close("exercise 3", answer, math.log(9), rtol=1e-3, close_rtol=0.1,
                                  hint="h'(eta) = log((1 - eta) / eta)")
    if n == 4:
        return checks.check_close("exercise 4", answer, 0.5 * math.log(2 / 1.25), rtol=1e-3, close_rtol=0.1,
                                  hint="I(X;Y) = 0.5 log(1 + 1/sigma^2) for each modality; subtract")
    if n == 5:
        g = torch.Generator().manual_seed(5)
        cases = [(F.normalize(torch.randn(b, 6, generator=g), dim=-1), F.normalize(torch.randn(b, 6, generator=g), dim=-1))
                 for b in (3, 8)]
        return checks.check_function("exercise 5", answer, geometric_consistency_loss, cases,
                                     hint="two B x B matrices: intra-modal difference and cross minus its transpose; mean of squares")
    raise ValueError(f"exercise number must be 1-5, got {n}")



# Worked solutions (solutions/03_modality.ipynb is generated from these; tests/test_solutions.py runs each one).
SOLUTIONS = {
    1: ("The image shows the background, so $I(X_v;Y) = \\log 8$ (2 shapes x 4 backgrounds); the caption always names "
        "the shape and names the background with probability $q$, so $I(X_t;Y) = \\log 2 + q\\log 4$. The gap is "
        "$(1-q)\\log 4$, which at $q = 1/2$ is $\\tfrac12\\log 4 = \\log 2$ nats. `theory.caption_example` does the same "
        "in sympy.",
        """import math
import sympy as sp
from paperlab.modality import theory as T
ex = T.caption_example(sp.Rational(1, 2))
print(ex["I_v"], ex["I_t"], ex["delta_p"])
answer_1 = float(ex["delta_p"])   # = 0.5 * math.log(4)
verdict = modality.check_exercise(1, answer_1)"""),
    2: ("For $0<q<1$ the same image is paired with a caption that names its background and with one that does not, so "
        "exact alignment forces $g_v(x_v) = g_t(\\text{named}) = g_t(\\text{blank})$: the aligned embedding cannot depend "
        "on the background at all. The best cross-entropy is then the background's whole entropy, $\\log 4$ nats "
        "(chance), above the bound $\\Delta_p = \\log 2$.",
        """import sympy as sp
from paperlab.modality import theory as T
answer_2 = float(T.caption_example(sp.Rational(1, 2))["H_bg_aligned"])   # log 4
verdict = modality.check_exercise(2, answer_2)"""),
    3: ("$h(\\eta) = -\\eta\\log\\eta - (1-\\eta)\\log(1-\\eta)$, so $h'(\\eta) = \\log\\frac{1-\\eta}{\\eta}$; at "
        "$\\eta = 0.1$ that is $\\log 9$.",
        """from paperlab.modality import theory as T
eta, h, dh, _, _ = T.noisy_channel_tradeoff()
answer_3 = float(dh.subs(eta, 0.1))
print(dh, answer_3)
verdict = modality.check_exercise(3, answer_3)"""),
    4: ("Each modality carries $I(X_m;Y) = \\tfrac12\\log(1 + \\sigma_m^{-2})$ nats: $\\tfrac12\\log 2$ for the image "
        "($\\sigma_v = 1$) and $\\tfrac12\\log 1.25$ for the caption ($\\sigma_t = 2$); the gap is "
        "$\\tfrac12\\log(2/1.25)$.",
        """from paperlab.modality import theory as T
G = T.gaussian_example()
I = lambda s: float(G["I_m"].subs(G["sigma"], s))
answer_4 = I(1) - I(2)
verdict = modality.check_exercise(4, answer_4)"""),
    5: ("Two $B\\times B$ matrices: the intra-modal difference $Z_vZ_v^\\top - Z_tZ_t^\\top$ and the cross-modal "
        "asymmetry $C - C^\\top$ with $C = Z_vZ_t^\\top$; the loss is the mean of their squared entries, summed.",
        """def my_gc(zv, zt):
    intra = zv @ zv.T - zt @ zt.T
    cross = zv @ zt.T
    return (intra.pow(2) + (cross - cross.T).pow(2)).mean()

verdict = modality.check_exercise(5, my_gc)"""),
}

def main(argv: list[str] | None = None) -> int:
    """``python -m paperlab.modality train [--workers N] [--seeds ...] [--steps N]`` -> data/modality/results.json.

    On the shared command line (``paperlab.core.cli``): ``--workers`` processes (or torchrun ranks)
    split the seeds, with the sequential run's results. The runs are nano-CLIPs on the CPU: ``--profile
    gpu`` trains the same plan (noted), ``--profile smoke`` and a CUDA ``--device`` are errors.
    """
    from paperlab.core import cli

    ap = cli.parser("python -m paperlab.modality", __doc__.split("\n")[0])
    ap.add_argument("--steps", type=cli.positive_int, default=300, help="pretraining steps per run (default 300)")
    ap.add_argument("--batch-size", type=cli.positive_int, default=64, help="pretraining batch (default 64)")
    ap.add_argument("--plan", choices=PLANS, default="grid",
                    help="grid: constant lambda_a grid + regularizers (data/modality/results.json); alignment: the "
                         "theorem's test, ramped forced alignment across q (data/modality/alignment.json)")
    ap.add_argument("--out", default=None, help="write the results JSON here instead of data/modality/ (registers nothing)")

    def body(args, run):
        cli.cpu_plan_only(ap, args, run, "modality", f"{len(plan(args.plan))} arms x 3 seeds of nano-CLIPs")
        seeds = run.seeds_or((0, 1, 2))
        kw = dict(seeds=seeds, steps=args.steps, batch_size=args.batch_size, mapper=run.map)
        if run.is_main and not args.out:
            res = load_results(retrain=True, plan_name=args.plan, **kw)
            run.log(f"{len(res['rows'])} runs in {res['wall_s']:.0f} s -> data/{results_name(args.plan)} (registered)")
            return 0
        res = train_all(progress=run.is_main, plan_name=args.plan, **kw)  # the other ranks take their share of the seeds; rank 0 writes
        if run.is_main:
            from paperlab.core.io import atomic_write_text

            atomic_write_text(args.out, json.dumps(res, indent=1))
            run.log(f"{len(res['rows'])} runs in {res['wall_s']:.0f} s -> {args.out}")
        return 0

    return cli.main(ap, body, argv)


__all__ = ["SOLUTIONS", "check_exercise", "method_figure", "Arm", "EvalSet", "PLANS", "alignment_loss", "lambda_schedule", "ramp_name", "results_name", "brownian_bridge_loss", "bridge_mean_var", "composite", "evaluate",
           "gap_stats", "geometric_consistency_loss", "load_results", "make_evalset", "non_collapse_loss",
           "plan", "pretrain_arm", "probe_scores", "read_results", "retrieval_r1", "seed_rows", "separation_loss", "table", "train_all",
           "main"]
