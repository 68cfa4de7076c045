"""MuDPT: multi-modal deep-symphysis prompt tuning of a frozen CLIP.

Yongzhu Miao, Shasha Li, Jintao Tang, Ting Wang. *MuDPT: Multi-modal Deep-symphysis Prompt Tuning for
Large Pre-trained Vision-Language Models*. IEEE ICME 2023. arXiv:2306.11400.
Official code: https://github.com/Mechrev0/MuDPT (``trainers/mudpt.py``, ``clip/model.py``
``VisionTransformer_MuDPT`` / ``ResidualAttentionBlock_MuDPT``, ``trainers/uumudpt.py`` ``LightTransformer``).

Both towers of the frozen CLIP get ``n`` prompt tokens at each of the first ``J`` layers (text: after SOS;
vision: appended after the patches). At every prompted layer ``j >= 1`` the prompt slots are **overwritten**
(VPT-deep). The *injection model* couples the two prompt sets in both directions (Eqs. 1-2 below, read from
the official code):

    layer 0:   P~_t^0 = P_t^0,                    P~_v^0 = P_v^0 + W_0 P_t^0
    layer j:   P~_t^j = P_t^j + W_{v->t} P_v^j,   P~_v^j = P_v^j + W_{t->v} P_t^j      (j = 1..J-1)

with one map per direction shared by all deep layers; a map is ``linear`` (``trainers/mudpt.py``) or the
``transformer`` block of UUMuDPT (LayerNorm -> pre-LN transformer block over the n prompt tokens ->
LayerNorm -> Linear; there one t->v map also serves layer 0). Every baseline of the issue is the same
learner with parts switched off (``VARIANTS``): CoOp (shallow text), VPT-deep (vision only), MPT
(independent deep prompts in both towers), one-way couplings t->v (MaPLe-like) and v->t, and a capacity
control (MPT + within-modality MLPs with MuDPT's map parameter count, no coupling).

Run ``python -m paperlab.mudpt train`` to write the notebook's learned prompts under ``data/mudpt/``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from open_clip.transformer import QuickGELU, ResidualAttentionBlock
from torch import nn

from paperlab.prompts import PromptedCLIP, PromptLearner

__all__ = ["InjectionMap", "SelfMap", "Variant", "VARIANTS", "MuDPTPromptLearner", "MuDPT", "variant", "coupling_strength",
           "train_prompts", "predict", "accuracy", "caption_alignment"]

MAP_KINDS = ("linear", "transformer")


# ----------------------------------------------------------------------------- the injection model

class InjectionMap(nn.Module):
    """A cross-width map of prompt tokens, ``(..., n, d_in) -> (..., n, d_out)``.

    ``linear``: ``nn.Linear(d_in, d_out)`` (``deep_projections`` in ``trainers/mudpt.py``).
    ``transformer``: LayerNorm -> one pre-LN transformer block (open_clip's ``ResidualAttentionBlock``:
    attention over the n prompt tokens, MLP 4x, QuickGELU; max(1, d_in // 64) heads) -> LayerNorm -> Linear
    (``LightTransformer`` of ``trainers/uumudpt.py``). ``zero_init`` zeroes the last Linear: the map outputs 0.
    """

    def __init__(self, d_in: int, d_out: int, kind: str = "linear", zero_init: bool = True):
        super().__init__()
        if kind not in MAP_KINDS:
            raise ValueError(f"map kind must be one of {MAP_KINDS}, got {kind!r}")
        self.kind, self.d_in, self.d_out = kind, d_in, d_out
        if kind == "transformer":
            self.ln_pre = nn.LayerNorm(d_in)
            self.block = ResidualAttentionBlock(d_in, max(1, d_in // 64), mlp_ratio=4.0, act_layer=QuickGELU,
                                                batch_first=True)
            self.ln_post = nn.LayerNorm(d_in)
        self.proj = nn.Linear(d_in, d_out)
        if zero_init:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        if p.shape[-1] != self.d_in:
            raise ValueError(f"{self.kind} map expects prompts (..., n, {self.d_in}), got {tuple(p.shape)}")
        if self.kind == "transformer":
            lead = p.shape[:-2]
            x = self.ln_post(self.block(self.ln_pre(p.reshape(-1, *p.shape[-2:]))))  # attention over the n tokens
            p = x.reshape(*lead, *x.shape[-2:])
        return self.proj(p)


class SelfMap(nn.Sequential):
    """The capacity control's map: ``d -> hidden -> d`` MLP (QuickGELU) inside one modality; couples nothing."""

    def __init__(self, d: int, hidden: int, zero_init: bool = True):
        super().__init__(nn.Linear(d, hidden), QuickGELU(), nn.Linear(hidden, d))
        if zero_init:
            nn.init.zeros_(self[2].weight)
            nn.init.zeros_(self[2].bias)


def n_params(module: nn.Module | Sequence[nn.Module | None]) -> int:
    """Number of trainable parameters of a module (or of several; ``None`` entries count 0)."""
    mods = [module] if isinstance(module, nn.Module) else [m for m in module if m is not None]
    return sum(p.numel() for m in mods for p in m.parameters() if p.requires_grad)


def control_widths(d_t: int, d_v: int, target: int) -> tuple[int, int]:
    """Hidden widths (h_t, h_v) of the two self-map MLPs whose parameter count is closest to ``target``
    (MuDPT's linear maps), the vision one as wide as possible: ``h_t (2 d_t + 1) + d_t + h_v (2 d_v + 1) + d_v``."""
    best = None
    for h_v in range(1, target // (2 * d_v + 1) + 1):
        rest = target - (h_v * (2 * d_v + 1) + d_v) - d_t
        h_t = max(1, round(rest / (2 * d_t + 1)))
        err = abs(h_t * (2 * d_t + 1) + d_t + h_v * (2 * d_v + 1) + d_v - target)
        if best is None or (err, -h_v) <= (best[0], -best[2]):
            best = (err, h_t, h_v)
    return best[1], best[2]


# ----------------------------------------------------------------------------- variants

@dataclass(frozen=True)
class Variant:
    """Which parts of the learner are on. ``text``: "fixed" (hand prompt, VPT), "shallow" (CoOp: layer 0
    only) or "deep" (layers 0..J-1); ``vision``: prompts in the image tower; ``t2v`` / ``v2t``: the
    injection maps of each direction; ``control``: within-modality self-maps with the maps' parameter count."""

    text: str = "deep"
    vision: bool = True
    t2v: bool = True
    v2t: bool = True
    control: bool = False

    def __post_init__(self):
        if self.text not in ("fixed", "shallow", "deep"):
            raise ValueError(f"text must be 'fixed', 'shallow' or 'deep', got {self.text!r}")
        if (self.t2v or self.v2t or self.control) and not (self.vision and self.text == "deep"):
            raise ValueError("injection maps and the capacity control need deep prompts in both towers")


VARIANTS = {
    "coop": Variant(text="shallow", vision=False, t2v=False, v2t=False),
    "vpt": Variant(text="fixed", vision=True, t2v=False, v2t=False),
    "mpt": Variant(t2v=False, v2t=False),
    "t2v": Variant(t2v=True, v2t=False),
    "v2t": Variant(t2v=False, v2t=True),
    "mudpt": Variant(),
    "control": Variant(t2v=False, v2t=False, control=True),
}


def variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; expected one of {list(VARIANTS)}")
    return VARIANTS[name]


def _check_map(module: nn.Module, d_in: int, d_out: int, name: str) -> nn.Module:
    """A map must take width d_in and give width d_out (Linear-like ``in_features`` or ``d_in``)."""
    got_in = getattr(module, "d_in", getattr(module, "in_features", None))
    got_out = getattr(module, "d_out", getattr(module, "out_features", None))
    if (got_in, got_out) != (d_in, d_out):
        raise ValueError(f"map {name!r} must map width {d_in} -> {d_out} (the towers' widths), got {got_in} -> {got_out}")
    return module


# ----------------------------------------------------------------------------- the prompt learner

class MuDPTPromptLearner(PromptLearner):
    """Deep prompts in both towers + the injection model. Shapes: ``ctx`` = P_t^0 (n, d_t);
    ``deep_ctx`` = P_t^{1..J-1} (J-1, n, d_t); ``visual_ctx`` = P_v^0 (n, d_v); ``visual_deep_ctx`` =
    P_v^{1..J-1} (J-1, n, d_v); maps ``w0`` (d_t -> d_v), ``t2v`` (d_t -> d_v), ``v2t`` (d_v -> d_t).
    """

    def __init__(self, encoder, vision_width: int, vision_layers: int, tokenizer, classnames, *,
                 spec: Variant, n_ctx: int = 2, depth: int = 3, maps: str = "linear", zero_init: bool = True,
                 ctx_init: str | None = "a photo of a"):
        text_layers = len(encoder.transformer.resblocks)
        if not isinstance(depth, int) or depth < 1:
            raise ValueError(f"prompt depth J must be an int >= 1, got {depth!r}")
        towers = ([("text", text_layers)] if spec.text == "deep" else []) + ([("vision", vision_layers)] if spec.vision else [])
        for tower, layers in towers:
            if depth > layers:
                raise ValueError(f"prompt depth J={depth} exceeds the {tower} tower's {layers} layers")
        free = encoder.context_length - 3 - max(len(tokenizer.encode(c.replace("_", " "))) for c in classnames)
        if not isinstance(n_ctx, int) or n_ctx < 1 or n_ctx > free:
            raise ValueError(f"n_ctx={n_ctx!r} prompt tokens exceed the free text context length {free} "
                             f"(context {encoder.context_length} - SOS, '.', EOT - the longest class name)")
        words = ctx_init.replace("_", " ").split() if ctx_init else None
        if spec.text != "fixed" and words:
            words = words[:n_ctx]  # official: the first n words of "a photo of a"
            if len(tokenizer.encode(" ".join(words))) != n_ctx:
                words = None  # fewer words than n: random init
        # VPT keeps the whole hand-written prompt ("a photo of a {class}."), frozen
        super().__init__(encoder, tokenizer, classnames, n_ctx=n_ctx, ctx_init=" ".join(words) if words else None)
        self.n_vis = n_ctx
        self.spec, self.depth, self.map_kind, self.zero_init = spec, depth, maps, zero_init
        d_t, d_v = encoder.width, vision_width
        self.d_t, self.d_v = d_t, d_v
        if spec.text == "fixed":
            self.ctx.requires_grad_(False)  # VPT: the hand-written "a photo of a" stays
        deep = depth - 1 if spec.text == "deep" else 0
        self.deep_ctx = nn.Parameter(torch.randn(deep, self.n_ctx, d_t) * 0.02) if deep else None
        self.visual_ctx = nn.Parameter(torch.randn(self.n_vis, d_v) * 0.02) if spec.vision else None
        vdeep = depth - 1 if spec.vision else 0
        self.visual_deep_ctx = nn.Parameter(torch.randn(vdeep, self.n_vis, d_v) * 0.02) if vdeep else None
        self.t2v = InjectionMap(d_t, d_v, maps, zero_init) if spec.t2v else None
        # linear MuDPT has its own layer-0 map; UUMuDPT's transformer map serves layer 0 and the deep layers
        self.w0 = InjectionMap(d_t, d_v, maps, zero_init) if spec.t2v and maps == "linear" else None
        self.v2t = InjectionMap(d_v, d_t, maps, zero_init) if spec.v2t else None
        self.self_t = self.self_v = None
        if spec.control:
            target = n_params([InjectionMap(d_t, d_v, maps), InjectionMap(d_v, d_t, maps)]
                              + ([InjectionMap(d_t, d_v)] if maps == "linear" else []))
            h_t, h_v = control_widths(d_t, d_v, target)
            self.self_t, self.self_v = SelfMap(d_t, h_t, zero_init), SelfMap(d_v, h_v, zero_init)

    def replace_map(self, name: str, module: nn.Module) -> None:
        """Swap one injection map (``"w0"``, ``"t2v"`` or ``"v2t"``) for another module of the same widths."""
        dims = {"w0": (self.d_t, self.d_v), "t2v": (self.d_t, self.d_v), "v2t": (self.d_v, self.d_t)}
        if name not in dims or getattr(self, name) is None:
            have = [k for k in dims if getattr(self, k) is not None]
            raise ValueError(f"this learner has no map {name!r}; its maps are {have}")
        setattr(self, name, _check_map(module, *dims[name], name))

    # --- Eq. 1-2: the fused prompts fed into the towers ---
    def deep_text_prompts(self) -> list[torch.Tensor] | None:
        """P~_t^j = P_t^j + W_{v->t} P_v^j for j = 1..J-1, a list of (n, d_t); None if no deep text prompts."""
        if self.deep_ctx is None:
            return None
        p = self.deep_ctx
        if self.v2t is not None:
            p = p + self.v2t(self.visual_deep_ctx)  # Eq. 2, v->t
        if self.self_t is not None:
            p = p + self.self_t(self.deep_ctx)  # control: a map of the text prompts themselves
        return list(p.unbind(0))

    def visual_prompts(self) -> torch.Tensor | None:
        """P~_v^0 = P_v^0 + W_0 P_t^0, (n, d_v): appended after the patch tokens."""
        if self.visual_ctx is None:
            return None
        p = self.visual_ctx
        w0 = self.w0 if self.w0 is not None else self.t2v
        if w0 is not None:
            p = p + w0(self.ctx)  # Eq. 1, layer 0
        if self.self_v is not None:
            p = p + self.self_v(self.visual_ctx)
        return p

    def deep_visual_prompts(self) -> list[torch.Tensor] | None:
        """P~_v^j = P_v^j + W_{t->v} P_t^j for j = 1..J-1, a list of (n, d_v)."""
        if self.visual_deep_ctx is None:
            return None
        p = self.visual_deep_ctx
        if self.t2v is not None:
            p = p + self.t2v(self.deep_ctx)  # Eq. 2, t->v
        if self.self_v is not None:
            p = p + self.self_v(self.visual_deep_ctx)
        return list(p.unbind(0))

    def map_modules(self) -> list[nn.Module]:
        """The injection maps (or the control's self-maps) that exist in this variant."""
        return [m for m in (self.w0, self.t2v, self.v2t, self.self_t, self.self_v) if m is not None]


@torch.no_grad()
def coupling_strength(pl: MuDPTPromptLearner) -> dict[str, float]:
    """How much of a fused deep prompt comes from the other tower: mean token norm of ``W_{t->v} P_t^j`` over
    that of ``P_v^j`` (``"t2v"``), and of ``W_{v->t} P_v^j`` over ``P_t^j`` (``"v2t"``); maps absent are left out."""
    if pl.deep_ctx is None or pl.visual_deep_ctx is None:
        raise ValueError("coupling strength needs deep prompts in both towers (J >= 2)")
    out = {}
    if pl.t2v is not None:
        out["t2v"] = float(pl.t2v(pl.deep_ctx).norm(dim=-1).mean() / pl.visual_deep_ctx.norm(dim=-1).mean())
    if pl.v2t is not None:
        out["v2t"] = float(pl.v2t(pl.visual_deep_ctx).norm(dim=-1).mean() / pl.deep_ctx.norm(dim=-1).mean())
    return out


class MuDPT(PromptedCLIP):
    """A frozen open_clip CLIP with MuDPT prompts: ``forward(images)`` -> logits (B, K).

    ``variant`` names a row of ``VARIANTS`` (or pass a :class:`Variant`); ``n_ctx`` tokens per layer,
    depth ``J``; ``maps`` "linear" | "transformer"; ``zero_init`` makes every map start at 0 (so MuDPT
    starts exactly as MPT). Only the prompts and maps train (``trainable_parameters``), and only they are
    saved (``trainable_state_dict``).
    """

    def __init__(self, clip_model, tokenizer, classnames: Sequence[str], variant: str | Variant = "mudpt",
                 n_ctx: int = 2, depth: int = 3, maps: str = "linear", zero_init: bool = True,
                 ctx_init: str | None = "a photo of a"):
        super().__init__(clip_model, tokenizer)
        spec = globals()["variant"](variant) if isinstance(variant, str) else variant
        self.variant_name = variant if isinstance(variant, str) else "custom"
        self.image_encoder.prompts_before_ln_pre = True  # official: prompts join before ln_pre
        self.prompt_learner = MuDPTPromptLearner(
            self.text_encoder, self.image_encoder.width, len(clip_model.visual.transformer.resblocks), tokenizer,
            classnames, spec=spec, n_ctx=n_ctx, depth=depth, maps=maps, zero_init=zero_init, ctx_init=ctx_init)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.prompt_learner.parameters() if p.requires_grad]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Raw images (B, 3, H, W) -> logits (B, K) = exp(logit_scale) cos(f(x), g(t_i))."""
        z = self.image_features(images)  # vision tower with P~_v
        t = self.text_features(self.prompt_learner())  # text tower with P~_t, (K, E)
        return self.logit_scale * z @ t.t()

    forward = logits

    def trainable_state_dict(self) -> dict:
        """Only the tensors that train (prompts and maps); the VPT hand prompt and CLIP are not stored."""
        return {k: p.detach().clone() for k, p in self.prompt_learner.named_parameters() if p.requires_grad}

    def load_trainable_state_dict(self, state: dict) -> None:
        own = dict(self.prompt_learner.named_parameters())
        own = {k: p for k, p in own.items() if p.requires_grad}
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"prompt state does not fit this {self.variant_name} learner: missing {missing}, "
                             f"unexpected {unexpected}")
        for k, v in state.items():
            if tuple(v.shape) != tuple(own[k].shape):
                raise ValueError(f"prompt state {k!r} has shape {tuple(v.shape)}, this learner expects "
                                 f"{tuple(own[k].shape)} (a map shape that does not match the tower widths?)")
        with torch.no_grad():
            for k, v in state.items():
                own[k].copy_(v.to(own[k].dtype))

    @torch.no_grad()
    def caption_features(self, captions: Sequence[str]) -> torch.Tensor:
        """Normalised text features (N, E) of free captions through the *tuned* text tower:
        [SOS, P~_t^0, caption, '.', EOT] with the deep prompts; the plain caption if the text side is fixed."""
        if self.prompt_learner.spec.text == "fixed":
            tokens = self.tokenizer(list(captions)).to(self.clip.logit_scale.device)
            return F.normalize(self.clip.encode_text(tokens), dim=-1)
        keep = self.prompt_learner.classnames
        self.set_classnames([c.rstrip(".") for c in captions])
        try:
            return self.text_features(self.prompt_learner())
        finally:
            self.set_classnames(keep)


# ----------------------------------------------------------------------------- training and evaluation

def train_prompts(model: MuDPT, split, *, epochs: int, batch_size: int = 8, lr: float = 0.0025,
                  momentum: float = 0.9, weight_decay: float = 5e-4, warmup_epochs: int = 1, seed: int = 0,
                  progress: bool = False, desc: str = "mudpt"):
    """The official recipe on raw images of a ``shapes.Split``: SGD over the trainable tensors only, 1
    constant warm-up epoch at 1e-5, then cosine (``coop.cosine_warmup_lambda``); cross-entropy.
    Returns ``core.train.History``."""
    from paperlab.coop import _batches, cosine_warmup_lambda
    from paperlab.core.train import fit

    if list(split.classnames) != list(model.prompt_learner.classnames):
        model.set_classnames(split.classnames)
    params = model.trainable_parameters()
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(split) / batch_size)
    per_epoch = cosine_warmup_lambda(epochs, warmup_epochs, lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: per_epoch(step // steps_per_epoch))
    x, y = split.images, split.labels

    def loss_fn(m, idx):
        return F.cross_entropy(m.logits(x[idx]), y[idx])

    torch.manual_seed(seed)
    return fit(model, loss_fn, _batches(len(split), batch_size, seed), epochs=epochs, optimizer=opt,
               scheduler=sched, progress=progress, desc=desc)


@torch.no_grad()
def predict(model: MuDPT, split, batch_size: int = 512) -> torch.Tensor:
    """Class probabilities (N, K) over ``split.classnames`` (the learner's class names are swapped to them)."""
    if list(split.classnames) != list(model.prompt_learner.classnames):
        model.set_classnames(split.classnames)
    model.eval()
    t = model.text_features(model.prompt_learner())
    out = [(model.logit_scale * model.image_features(split.images[i:i + batch_size]) @ t.t()).softmax(-1)
           for i in range(0, len(split), batch_size)]
    return torch.cat(out)


def accuracy(model: MuDPT, split) -> float:
    """Top-1 accuracy (fraction) via ``paperlab.core.metrics.accuracy``."""
    from paperlab.core import metrics

    return metrics.accuracy(predict(model, split).cpu().numpy(), split.labels.cpu().numpy())


def held_out_pairs(n: int = 256, seed: int = 777):
    """Image-caption pairs of the world (pretraining distribution, a seed no training run uses): images, captions."""
    from paperlab.worlds import shapes

    return shapes.pretrain_batch(n, seed=10_000_000 + seed)


@torch.no_grad()
def caption_alignment(model_or_clip, images: torch.Tensor, captions: Sequence[str]) -> float:
    """Mean cosine of matched image-caption pairs: mean_i cos(f(x_i), g(c_i)). A :class:`MuDPT` uses its
    tuned towers (``image_features`` with visual prompts, ``caption_features``); a plain CLIP its own."""
    if len(images) != len(captions):
        raise ValueError(f"need one caption per image, got {len(images)} images and {len(captions)} captions")
    if isinstance(model_or_clip, MuDPT):
        model_or_clip.eval()
        z, t = model_or_clip.image_features(images), model_or_clip.caption_features(captions)
    else:
        from paperlab import clip as pclip

        z = pclip.encode_images(model_or_clip, images)
        t = pclip.encode_texts(model_or_clip, list(captions))
    return float((z * t).sum(-1).mean())


# ----------------------------------------------------------------------------- the notebook's experiment

ARMS = ("coop", "vpt", "mpt", "t2v", "v2t", "mudpt", "control", "mudpt-tf")  # base-to-new arms ("-tf": transformer maps)
SHOT_ARMS = ("coop", "mpt", "mudpt")  # the few-shot curve
DEPTH_ARMS = ("mudpt",)  # the depth ablation (J = depths; the main runs give J = cfg["depth"])
CPU_CONFIG = dict(
    seeds=(0, 1, 2), shots=16, few_shots=(1, 2, 4, 8, 16), n_ctx=4, depth=3, depths=(1, 2), zero_init=True,
    # official: SGD lr 0.0025, batch 4, 10 epochs (MuDPT) / 5 epochs (MPT, VPT); here batch 16 at the
    # linearly scaled lr 0.01, 5 epochs for every arm (1 constant warm-up epoch at 1e-5, then cosine)
    train=dict(epochs=5, batch_size=16, lr=0.01),
    styles=("sketch", "noisy", "blurred"),
    test_images=128, test_min=4, test_max=20,  # test images per class: clamp(test_images // K_base, min, max)
    pairs=256,  # held-out image-caption pairs for the alignment measure
)
SMOKE_CONFIG = dict(CPU_CONFIG, seeds=(0,), few_shots=(4, 16), depths=(1,), test_images=32, test_min=2, test_max=4,
                    pairs=32, train=dict(epochs=1, batch_size=16, lr=0.01))
BACKBONE = "mudpt/backbone.pt"  # a pinned copy of the micro-CLIP the prompts were learned on
PARTS = {"base2new": "mudpt/base2new.pt", "shots": "mudpt/shots.pt", "depth": "mudpt/depth.pt", "init": "mudpt/init.pt"}
INIT_ARMS = ("mudpt-rand",)  # the map-init ablation: the official code's PyTorch-default init instead of zeros


def datasets() -> tuple[str, ...]:
    """The downstream datasets: every ``shapes.DATASETS`` entry (photo style; other styles are DG targets)."""
    from paperlab.worlds import shapes

    return tuple(shapes.DATASETS)


def arm_kwargs(arm: str, cfg: dict, depth: int | None = None) -> dict:
    """Constructor keywords of :class:`MuDPT` for an arm name ("mudpt-tf" = transformer maps)."""
    name, _, suffix = arm.partition("-")
    if suffix not in ("", "tf", "rand"):
        raise ValueError(f"unknown arm {arm!r}; expected one of {ARMS} or '<variant>-rand' (PyTorch-default map init)")
    variant(name)
    return dict(variant=name, n_ctx=cfg["n_ctx"], depth=depth or cfg["depth"],
                maps="transformer" if suffix == "tf" else "linear", zero_init=cfg["zero_init"] and suffix != "rand")


def make_model(arm: str, clip_model, tokenizer, classnames, cfg: dict, depth: int | None = None) -> MuDPT:
    return MuDPT(clip_model, tokenizer, classnames, **arm_kwargs(arm, cfg, depth))


def train_run(arm: str, clip_model, tokenizer, split, cfg: dict, seed: int, depth: int | None = None) -> dict:
    """Train one arm on ``split`` with ``seed`` (init and batch order) -> the trainable tensors (fp16) + losses."""
    from paperlab.core.seeding import seed_everything

    seed_everything(seed)
    model = make_model(arm, clip_model, tokenizer, split.classnames, cfg, depth)
    hist = train_prompts(model, split, seed=seed, desc=f"{arm} seed {seed}", **cfg["train"])
    # stored in fp16 (the 20 MB budget of data/mudpt/); evaluation loads them back to fp32
    return {"state": {k: v.half() for k, v in model.trainable_state_dict().items()}, "loss": hist.train_loss}


def load_run(arm: str, clip_model, tokenizer, classnames, run: dict, cfg: dict, depth: int | None = None) -> MuDPT:
    model = make_model(arm, clip_model, tokenizer, classnames, cfg, depth)
    model.load_trainable_state_dict({k: v.float() for k, v in run["state"].items()})
    return model.eval()


def jobs(part: str, cfg: dict) -> list[tuple[str, str, int, int, int]]:
    """(dataset, arm, k_shot, seed, depth) of every run of a checkpoint ``part`` (see ``PARTS``)."""
    ds, J = datasets(), cfg["depth"]
    if part == "base2new":
        return [(d, a, cfg["shots"], s, J) for s in cfg["seeds"] for a in ARMS for d in ds]
    if part == "shots":
        return [(d, a, k, s, J) for s in cfg["seeds"] for a in SHOT_ARMS for k in cfg["few_shots"]
                if k != cfg["shots"] for d in ds]
    if part == "depth":
        return [(d, a, cfg["shots"], s, j) for s in cfg["seeds"] for a in DEPTH_ARMS for j in cfg["depths"] for d in ds]
    if part == "init":
        return [(d, a, cfg["shots"], s, J) for s in cfg["seeds"] for a in INIT_ARMS for d in ds]
    raise ValueError(f"unknown part {part!r}; expected one of {list(PARTS)}")


def run_key(d: str, arm: str, k: int, seed: int, depth: int) -> str:
    return f"{d}/{arm}/k{k}/J{depth}/seed{seed}"


def train_part(part: str, clip_model, tokenizer, cfg: dict = CPU_CONFIG, progress: bool = True, mapper=None) -> dict:
    """Every learned prompt of one part; CoCoOp (``paperlab.coop``, its own recipe on cached features) joins
    the base-to-new part. Returns ``{"runs": {key: run}, "config", "datasets", "wall_s"}``.

    ``mapper(fn, jobs, common)`` (``paperlab.core.cli.Run.map``) spreads the independent runs over processes;
    each job seeds itself, so the result equals the sequential one. Without it the runs go one by one here."""
    import time

    from tqdm.auto import tqdm

    from paperlab import coop
    from paperlab.worlds import shapes

    runs, t0 = {}, time.time()
    todo = jobs(part, cfg)
    if mapper is not None:
        results = mapper(_train_job, [dict(dataset=d, arm=a, k=k, seed=s, depth=j) for d, a, k, s, j in todo],
                         {"cfg": cfg})
        runs.update({run_key(*job): r for job, r in zip(todo, results)})
    for d, a, k, s, j in tqdm(todo if mapper is None else [], desc=f"train {part}", disable=not progress):
        split = shapes.dataset(d).train(k_shot=k, seed=s, subset="base")
        runs[run_key(d, a, k, s, j)] = train_run(a, clip_model, tokenizer, split, cfg, seed=s, depth=j)
    if part == "base2new":  # CoCoOp: the coop notebook's learned prompts if they fit this backbone, else trained here
        reused = _coop_runs()
        for s in cfg["seeds"]:
            for d in datasets():
                if f"{d}/cocoop/k{cfg['shots']}/seed{s}" in reused:
                    runs[run_key(d, "cocoop", cfg["shots"], s, 0)] = {"state": reused[f"{d}/cocoop/k{cfg['shots']}/seed{s}"],
                                                                      "loss": [], "from": "data/coop/prompts.pt"}
                    continue
                feats = coop.encode_split(clip_model, shapes.dataset(d).train(k_shot=cfg["shots"], seed=s, subset="base"))
                state, loss = coop.train_run("cocoop", clip_model, tokenizer, feats, coop.CPU_CONFIG, seed=s, dataset_name=d)
                runs[run_key(d, "cocoop", cfg["shots"], s, 0)] = {"state": state, "loss": loss}
    return {"runs": runs, "config": _plain(cfg), "datasets": list(datasets()), "wall_s": time.time() - t0,
            "backbone_sha256": _sha(BACKBONE)}


def _train_job(dataset: str, arm: str, k: int, seed: int, depth: int, cfg: dict) -> dict:
    """One run in a worker process (module level, so process pools can import it): the pinned backbone."""
    from paperlab import clip as pclip
    from paperlab.worlds import shapes

    split = shapes.dataset(dataset).train(k_shot=k, seed=seed, subset="base")
    return train_run(arm, _worker_backbone(), pclip.tokenizer(), split, cfg, seed=seed, depth=depth)


_BACKBONE_CACHE: list = []


def _worker_backbone():
    if not _BACKBONE_CACHE:
        _BACKBONE_CACHE.append(load_backbone())
    return _BACKBONE_CACHE[0]


def _coop_runs() -> dict:
    """The coop notebook's learned prompts (``data/coop/prompts.pt``) if learned on this pinned backbone, else {}."""
    from paperlab import coop
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    try:
        ck = load_checkpoint(assets.path(coop.CHECKPOINT))
    except Exception:  # absent or not registered: train CoCoOp here
        return {}
    return ck["runs"] if ck.get("clip_sha256") == _sha(BACKBONE) else {}


def _sha(name: str) -> str:
    from paperlab.core import assets

    return assets.load_registry().get(name, {}).get("sha256", "")


def _plain(cfg: dict) -> dict:
    return {k: (_plain(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}


def pin_backbone(source: str = "coop/backbone.pt") -> str:
    """Copy the micro-CLIP the coop notebook uses to ``data/mudpt/backbone.pt`` and register it."""
    import shutil

    from paperlab.core import assets
    from paperlab.core.paths import data_dir

    (data_dir() / BACKBONE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(assets.path(source), data_dir() / BACKBONE)
    assets.register(BACKBONE, command=f"python -m paperlab.mudpt train (copies data/{source})",
                    source_sha256=assets.entry(source)["sha256"])
    return BACKBONE


def load_backbone():
    """The pinned micro-CLIP (``paperlab.clip.load_pretrained`` on ``data/mudpt/backbone.pt``), eval mode."""
    from paperlab import clip as pclip

    return pclip.load_pretrained("micro", checkpoint=BACKBONE)


# ----------------------------------------------------------------------------- evaluation

def test_per_class(d: str, cfg: dict) -> int:
    """Test images per class of dataset ``d``: clamp(test_images // K_base, test_min, test_max)."""
    from paperlab.worlds import shapes

    k = len(shapes.dataset(d).base)
    return max(cfg["test_min"], min(cfg["test_max"], cfg["test_images"] // k))


def test_splits(cfg: dict, dg: bool = True) -> dict:
    """``{(dataset, split): shapes.Split}``: base and new test classes (photo) and, with ``dg``, the base
    classes in every shifted style (the domain-generalisation targets), subsampled per ``test_per_class``."""
    from paperlab.coop import subsample_split
    from paperlab.worlds import shapes

    out = {}
    for d in cfg.get("eval_datasets") or datasets():
        n = test_per_class(d, cfg)
        out[(d, "base")] = subsample_split(shapes.dataset(d).test("base"), n)
        out[(d, "new")] = subsample_split(shapes.dataset(d).test("new"), n)
        for st in cfg["styles"] if dg else ():
            out[(d, st)] = subsample_split(shapes.dataset(d, style=st).test("base"), n)
    return out


def evaluate_base2new(clip_model, tokenizer, trained: dict, tests: dict, cfg: dict, pairs=None,
                      progress: bool = True) -> list[dict]:
    """Rows ``{dataset, seed, method, split, acc}`` (+ ``{method, seed, align}`` rows when ``pairs`` =
    (images, captions)) for zero-shot, CoCoOp and every arm, from the base-to-new checkpoint."""
    from tqdm.auto import tqdm

    from paperlab import coop
    from paperlab.worlds import shapes

    rows, tcfg = [], trained["config"]
    seeds = [s for s in tcfg["seeds"] if s in cfg["seeds"]]
    for d in tqdm(sorted({d for d, _ in tests}, key=list(datasets()).index), desc="evaluate", disable=not progress):
        splits = [s for (dd, s) in tests if dd == d]
        feats = {s: coop.encode_split(clip_model, tests[(d, s)]) for s in splits}
        template = shapes.dataset(d).templates[:1]
        zs = {s: coop.zero_shot_accuracy(clip_model, feats[s], template) for s in splits}
        for seed in seeds:
            rows += [dict(dataset=d, seed=seed, method="zero-shot", split=s, acc=zs[s]) for s in splits]
            state = trained["runs"][run_key(d, "cocoop", tcfg["shots"], seed, 0)]["state"]
            m = coop.load_run("cocoop", clip_model, tokenizer, feats["base"].classnames, state, coop.CPU_CONFIG)
            rows += [dict(dataset=d, seed=seed, method="cocoop", split=s, acc=coop.accuracy(m, feats[s])) for s in splits]
            for arm in ARMS:
                run = trained["runs"][run_key(d, arm, tcfg["shots"], seed, tcfg["depth"])]
                m = load_run(arm, clip_model, tokenizer, tests[(d, "base")].classnames, run, tcfg)
                rows += [dict(dataset=d, seed=seed, method=arm, split=s, acc=accuracy(m, tests[(d, s)])) for s in splits]
                if pairs is not None:
                    rows.append(dict(dataset=d, seed=seed, method=arm, split="align",
                                     acc=caption_alignment(m, *pairs)))
    return rows


def evaluate_runs(clip_model, tokenizer, trained: dict, tests: dict, seeds, splits=("base",),
                  progress: bool = True) -> list[dict]:
    """Rows ``{dataset, seed, method, k, depth, split, acc}`` for every MuDPT-family run of a checkpoint
    whose dataset has test splits in ``tests`` and whose seed is in ``seeds``."""
    from tqdm.auto import tqdm

    rows, cfg = [], trained["config"]
    for key, run in tqdm(trained["runs"].items(), desc="evaluate", disable=not progress):
        d, arm, k, J, seed = key.split("/")
        k, J, seed = int(k[1:]), int(J[1:]), int(seed[4:])
        if arm == "cocoop" or (d, "base") not in tests or seed not in seeds:
            continue
        m = load_run(arm, clip_model, tokenizer, tests[(d, "base")].classnames, run, cfg, depth=J)
        rows += [dict(dataset=d, seed=seed, method=arm, k=k, depth=J, split=s, acc=accuracy(m, tests[(d, s)]))
                 for s in splits]
    return rows


def summarize(rows: list[dict]):
    """Per (method, seed): accuracy (%) averaged over datasets per split, and H of the averaged base and new
    accuracies (CoCoOp's Table 1 convention); ``styles`` = the mean over the shifted styles."""
    import pandas as pd

    from paperlab.core.metrics import harmonic_mean

    df = pd.DataFrame(rows)
    df = df[df.split != "align"]
    wide = df.pivot_table(index=["method", "seed"], columns="split", values="acc", aggfunc="mean") * 100
    wide["H"] = [harmonic_mean(b, n) for b, n in zip(wide["base"], wide["new"])]
    styles = [c for c in wide.columns if c not in ("base", "new", "H")]
    if styles:
        wide["styles"] = wide[styles].mean(axis=1)
    return wide.reset_index()


# ----------------------------------------------------------------------------- gpu profile: real CLIP, real data

REAL_CONFIG = dict(CPU_CONFIG, n_ctx=2, depth=9, train=dict(epochs=5, batch_size=4, lr=0.0025))  # card's Colab path


@dataclass
class ImageSplit:
    """Images (N, 3, H, W) raw in [0, 1], labels (N,), class names: what ``train_prompts``/``accuracy`` need."""

    images: torch.Tensor
    labels: torch.Tensor
    classnames: list

    def __len__(self) -> int:
        return len(self.labels)


def load_split(split, image_size: int, per_class: int | None = None, device: str = "cpu") -> ImageSplit:
    """A ``worlds.realfewshot.FileSplit`` -> :class:`ImageSplit` (the first ``per_class`` files of each class)."""
    from paperlab.worlds.realfewshot import load_images

    idx = torch.arange(len(split.labels))
    if per_class is not None:
        idx = torch.cat([torch.nonzero(split.labels == c).flatten()[:per_class] for c in range(len(split.classnames))])
    if not len(idx):
        raise ValueError("the split is empty: no images to load")
    images = load_images([split.paths[i] for i in idx.tolist()], image_size)
    return ImageSplit(images.to(device), split.labels[idx].to(device), list(split.classnames))


def run_real(name: str, root: str, backbone: str = "ViT-B-32", cfg: dict = REAL_CONFIG, arms=("coop", "mpt", "mudpt"),
             test_per_class: int | None = 100, device: str = "cpu", download: bool = False) -> list[dict]:
    """Base-to-new on a real dataset (``worlds.realfewshot``: EuroSAT or Pets) with the same code as the
    micro-CLIP experiment: zero-shot, then every arm trained on 16-shot base classes per seed. ``backbone``
    ``"ViT-B-32"`` (OpenAI weights, downloaded by open_clip: gpu profile) or ``"micro"`` (tests).
    Returns rows ``{dataset, seed, method, split, acc}`` (``summarize`` adds H)."""
    from paperlab import clip as pclip
    from paperlab.core.seeding import seed_everything
    from paperlab.worlds import realfewshot

    ds = realfewshot.dataset(name, root, download=download)
    clip_model = load_backbone().to(device) if backbone == "micro" else pclip.load_pretrained(backbone, device=device)
    tok = pclip.tokenizer(clip_model.paperlab_name) if backbone != "micro" else pclip.tokenizer()
    size = pclip._image_size(clip_model)
    tests = {s: load_split(ds.test(s), size, test_per_class, device) for s in ("base", "new")}
    rows = []
    for s, sp in tests.items():
        w = pclip.zero_shot_weights(clip_model, sp.classnames, list(ds.templates))
        z = pclip.encode_images(clip_model, sp.images)
        acc = float(((z @ w.t()).argmax(-1) == sp.labels).float().mean())
        rows += [dict(dataset=name, seed=seed, method="zero-shot", split=s, acc=acc) for seed in cfg["seeds"]]
    for seed in cfg["seeds"]:
        train = load_split(ds.train(k_shot=cfg["shots"], seed=seed, subset="base"), size, device=device)
        for arm in arms:
            seed_everything(seed)
            model = make_model(arm, clip_model, tok, train.classnames, cfg).to(device)
            train_prompts(model, train, seed=seed, **cfg["train"])
            rows += [dict(dataset=name, seed=seed, method=arm, split=s, acc=accuracy(model, tests[s])) for s in tests]
    return rows


def main(argv=None) -> None:
    """``python -m paperlab.mudpt train [--part base2new|shots|depth|init|all] [--workers N] [--seeds ..]``.

    cpu profile: the notebook's learned prompts (``data/mudpt/*.pt``, registered); smoke: a seconds-long
    in-memory check of the command (writes nothing); gpu: ``run_real`` on ViT-B-32 and a real dataset (printed).
    """
    from paperlab import clip as pclip
    from paperlab.core import assets, cli
    from paperlab.core.train import load_or_train

    ap = cli.parser("python -m paperlab.mudpt", "Train MuDPT and its baselines (load-or-train).")
    ap.add_argument("--part", choices=[*PARTS, "all"], default="all")
    ap.add_argument("--dataset", default="eurosat", help="gpu profile: eurosat | pets")
    ap.add_argument("--data-root", help="gpu profile: folder holding eurosat/2750 or oxford-iiit-pet")

    def body(args, run):
        if run.profile.name == "gpu":
            if not args.data_root:
                ap.error("--profile gpu needs --data-root (the folder holding eurosat/2750 or oxford-iiit-pet)")
            rcfg = dict(REAL_CONFIG, seeds=run.seeds_or(REAL_CONFIG["seeds"]))
            table = summarize(run_real(args.dataset, args.data_root, cfg=rcfg, device=run.device))
            run.log(table.groupby("method")[["base", "new", "H"]].agg(["mean", "std"]).round(2).to_string())
            return
        if BACKBONE not in assets.load_registry():
            pin_backbone()
        base_cfg = CPU_CONFIG if run.profile.name == "cpu" else SMOKE_CONFIG
        cfg = dict(base_cfg, seeds=run.seeds_or(base_cfg["seeds"]))
        clip_model, tok = load_backbone(), pclip.tokenizer()
        for part in (list(PARTS) if args.part == "all" else [args.part]):
            if run.profile.name != "cpu":  # smoke: check the command, write nothing
                out = train_part(part, clip_model, tok, cfg, progress=False, mapper=run.map)
                run.log(f"{part} (smoke, not saved): {len(out['runs'])} learned prompts in {out['wall_s']:.0f} s")
                continue
            command = f"python -m paperlab.mudpt train --part {part}" + (
                f" --seeds {' '.join(map(str, run.seeds))}" if run.seeds else "")
            out = load_or_train(PARTS[part], lambda p=part: train_part(p, clip_model, tok, cfg, mapper=run.map),
                                retrain=True, command=command, seeds=list(cfg["seeds"]))
            if run.is_main:
                assets.register(PARTS[part], command=command, seeds=list(cfg["seeds"]), wall_s=round(out["wall_s"], 1),
                                threads=run.threads, workers=run.workers)
            run.log(f"{part}: {len(out['runs'])} learned prompts in {out['wall_s']:.0f} s -> data/{PARTS[part]}")

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()
