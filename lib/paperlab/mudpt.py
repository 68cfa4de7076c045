"""MuDPT: multi-modal deep-symphysis prompt tuning of a frozen CLIP.

Yongzhu Miao, Shasha Li, Jintao Tang, Ting Wang. *MuDPT: Multi-modal Deep-symphysis Prompt Tuning for
Large Pre-trained Vision-Language Models*. IEEE ICME 2023. arXiv:2306.11400.
Official code: the first author's repository https://github.com/YzM1a0/MuDPT (``trainers/mudpt.py``,
``clip/model.py`` ``VisionTransformer_MuDPT`` / ``ResidualAttentionBlock_MuDPT``, ``trainers/uumudpt.py``
``LightTransformer``; ``Mechrev0/MuDPT`` holds the same history), read at its release commit ``0d83ec5``.

Both towers of the frozen CLIP get ``n`` prompt tokens at each of the first ``J`` layers (text: after SOS;
vision: appended after the patches). At every prompted layer ``j >= 1`` the prompt slots are **overwritten**
(VPT-deep). The *injection model* couples the two prompt sets in both directions (Eqs. 1-2 below, read from
the official code):

    layer 0:   P~_t^0 = P_t^0,                    P~_v^0 = P_v^0 + W_0 P_t^0
    layer j:   P~_t^j = P_t^j + W_{v->t} P_v^j,   P~_v^j = P_v^j + W_{t->v} P_t^j      (j = 1..J-1)

with one map per direction shared by all deep layers, as the released code has it (``deep_projections =
nn.Linear`` in ``trainers/mudpt.py``, ``visual_ctx_deep_projections = nn.Linear`` in ``clip/model.py``, from
commit ``8d7fbb7`` of 2022-11-26 on). The repository's first commits (``5335377``..``f358682``) had one map
per deep layer in each direction (``nn.ModuleList([copy.deepcopy(layer) ...])``): ``per_layer=True``. A map
is ``linear`` or the ``transformer`` block of UUMuDPT (LayerNorm -> pre-LN transformer block over the n
prompt tokens -> LayerNorm -> Linear; there one t->v map also serves layer 0). The released code keeps
PyTorch's default init for the maps (``zero_init=False``, the default here); ``zero_init=True`` makes
MuDPT start exactly as MPT. Every baseline of the issue is the same
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
                 spec: Variant, n_ctx: int = 2, depth: int = 3, maps: str = "linear", zero_init: bool = False,
                 ctx_init: str | None = "a photo of a", per_layer: bool = False):
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
        if per_layer and (maps != "linear" or depth < 2):
            raise ValueError(f"per_layer maps need linear maps and depth J >= 2, got maps={maps!r}, J={depth}")
        self.per_layer = per_layer
        # linear MuDPT has its own layer-0 map; UUMuDPT's transformer map serves layer 0 and the deep layers
        self.w0 = InjectionMap(d_t, d_v, maps, zero_init) if spec.t2v and maps == "linear" else None
        self.t2v = self._deep_map(d_t, d_v, depth) if spec.t2v else None
        self.v2t = self._deep_map(d_v, d_t, depth) if spec.v2t else None
        self.self_t = self.self_v = None
        if spec.control:
            target = n_params([InjectionMap(d_t, d_v, maps), InjectionMap(d_v, d_t, maps)]
                              + ([InjectionMap(d_t, d_v)] if maps == "linear" else []))
            h_t, h_v = control_widths(d_t, d_v, target)
            self.self_t, self.self_v = SelfMap(d_t, h_t, zero_init), SelfMap(d_v, h_v, zero_init)

    def _deep_map(self, d_in: int, d_out: int, depth: int) -> nn.Module:
        """One map shared by the deep layers (released code), or with ``per_layer`` one per deep layer,
        deep copies of a single map as the first commits did (``nn.ModuleList([copy.deepcopy(layer) ...])``)."""
        import copy

        one = InjectionMap(d_in, d_out, self.map_kind, self.zero_init)
        return nn.ModuleList([copy.deepcopy(one) for _ in range(depth - 1)]) if self.per_layer else one

    @staticmethod
    def _map_deep(m: nn.Module, p: torch.Tensor) -> torch.Tensor:
        """Map deep prompts (J-1, n, d): one shared map, or map j on layer j's prompts."""
        if isinstance(m, nn.ModuleList):
            return torch.stack([mj(pj) for mj, pj in zip(m, p.unbind(0))])
        return m(p)

    def replace_map(self, name: str, module: nn.Module) -> None:
        """Swap one injection map (``"w0"``, ``"t2v"`` or ``"v2t"``) for another module of the same widths."""
        dims = {"w0": (self.d_t, self.d_v), "t2v": (self.d_t, self.d_v), "v2t": (self.d_v, self.d_t)}
        if name not in dims or getattr(self, name) is None:
            have = [k for k in dims if getattr(self, k) is not None]
            raise ValueError(f"this learner has no map {name!r}; its maps are {have}")
        if isinstance(getattr(self, name), nn.ModuleList):
            raise ValueError(f"map {name!r} is per-layer (a ModuleList): replace its entries one by one")
        setattr(self, name, _check_map(module, *dims[name], name))

    # --- Eq. 1-2: the fused prompts fed into the towers ---
    def deep_text_prompts(self) -> list[torch.Tensor] | None:
        """P~_t^j = P_t^j + W_{v->t} P_v^j for j = 1..J-1, a list of (n, d_t); None if no deep text prompts."""
        if self.deep_ctx is None:
            return None
        p = self.deep_ctx
        if self.v2t is not None:
            p = p + self._map_deep(self.v2t, self.visual_deep_ctx)  # Eq. 2, v->t
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
            p = p + self._map_deep(self.t2v, self.deep_ctx)  # Eq. 2, t->v
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
        out["t2v"] = float(pl._map_deep(pl.t2v, pl.deep_ctx).norm(dim=-1).mean() / pl.visual_deep_ctx.norm(dim=-1).mean())
    if pl.v2t is not None:
        out["v2t"] = float(pl._map_deep(pl.v2t, pl.visual_deep_ctx).norm(dim=-1).mean() / pl.deep_ctx.norm(dim=-1).mean())
    return out


class MuDPT(PromptedCLIP):
    """A frozen open_clip CLIP with MuDPT prompts: ``forward(images)`` -> logits (B, K).

    ``variant`` names a row of ``VARIANTS`` (or pass a :class:`Variant`); ``n_ctx`` tokens per layer,
    depth ``J``; ``maps`` "linear" | "transformer"; ``per_layer`` one map per deep layer (the first commits)
    instead of one shared map (the released code); ``zero_init`` makes every map start at 0 (so MuDPT
    starts exactly as MPT; the official code keeps PyTorch's default init). Only the prompts and maps train (``trainable_parameters``), and only they are
    saved (``trainable_state_dict``).
    """

    def __init__(self, clip_model, tokenizer, classnames: Sequence[str], variant: str | Variant = "mudpt",
                 n_ctx: int = 2, depth: int = 3, maps: str = "linear", zero_init: bool = False,
                 ctx_init: str | None = "a photo of a", per_layer: bool = False):
        super().__init__(clip_model, tokenizer)
        spec = globals()["variant"](variant) if isinstance(variant, str) else variant
        self.variant_name = variant if isinstance(variant, str) else "custom"
        self.image_encoder.prompts_before_ln_pre = True  # official: prompts join before ln_pre
        self.prompt_learner = MuDPTPromptLearner(
            self.text_encoder, self.image_encoder.width, len(clip_model.visual.transformer.resblocks), tokenizer,
            classnames, spec=spec, n_ctx=n_ctx, depth=depth, maps=maps, zero_init=zero_init, ctx_init=ctx_init,
            per_layer=per_layer)

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

ARMS = ("coop", "vpt", "mpt", "t2v", "v2t", "mudpt", "control", "mudpt-pl")  # base-to-new arms ("-pl": per-layer maps)
ABLATION_ARMS = ("mudpt-zero",)  # zero-initialised maps (MuDPT starts exactly as MPT)
DG_ARMS = ("mudpt",)  # trained on photo datasets for the shifted-style test (CoOp and CoCoOp come from data/coop/)
# the base-to-new datasets: the shifted-style datasets whose frozen features leave headroom (linear probe minus
# zero-shot on base >= 5 points, ``paperlab.coop.headroom``), the four with at most 8 base classes that the
# compute budget allows (2, 4, 4 and 8 base classes)
B2N_DATASETS = ("shape:sketch", "shape:blurred", "texture:noisy", "size_shape:sketch")
DG_DATASETS = ("shape", "color", "texture")  # photo sources of the domain-generalisation test (as notebook 01)
CPU_CONFIG = dict(
    seeds=(0, 1, 2), shots=16, n_ctx=4, depth=3, zero_init=False,
    datasets=B2N_DATASETS, dg_datasets=DG_DATASETS,
    # official configs/trainers/MuDPT/vit_b16_bz4_ep10_nctx2_depth9.yaml: SGD lr 0.0025, batch 4, 10 epochs
    # (1 constant warm-up epoch at 1e-5, then cosine); every arm gets the same recipe (the official MPT/VPT
    # configs use 5 epochs: we do not give MuDPT more steps than its baselines)
    train=dict(epochs=10, batch_size=4, lr=0.0025),
    styles=("sketch", "noisy", "blurred"),
    test_per_class=50,  # the fixed test splits: 50 images per class
    pairs=256,  # held-out image-caption pairs for the alignment measure
)
SMOKE_CONFIG = dict(CPU_CONFIG, seeds=(0, 1), datasets=("texture:noisy",), dg_datasets=("shape",), test_per_class=4,
                    pairs=32, train=dict(epochs=1, batch_size=16, lr=0.01))
BACKBONE = "mudpt/backbone.pt"  # a pinned copy of the micro-CLIP the prompts were learned on
PARTS = {"base2new": "mudpt/base2new.pt", "dg": "mudpt/dg.pt", "ablation": "mudpt/ablation.pt"}


def datasets(cfg: dict | None = None) -> tuple[str, ...]:
    """The base-to-new datasets of a config (default ``CPU_CONFIG``)."""
    return tuple((cfg or CPU_CONFIG)["datasets"])


def arm_kwargs(arm: str, cfg: dict, depth: int | None = None) -> dict:
    """Constructor keywords of :class:`MuDPT` for an arm name: "<variant>" with the config's map init,
    "-tf" transformer maps, "-pl" one map per deep layer, "-zero" / "-rand" zero / PyTorch-default map init."""
    name, _, suffix = arm.partition("-")
    if suffix not in ("", "tf", "pl", "zero", "rand"):
        raise ValueError(f"unknown arm {arm!r}; expected one of {ARMS} or '<variant>-tf|-pl|-zero|-rand'")
    variant(name)
    zero = {"zero": True, "rand": False}.get(suffix, cfg["zero_init"])
    return dict(variant=name, n_ctx=cfg["n_ctx"], depth=depth or cfg["depth"],
                maps="transformer" if suffix == "tf" else "linear", zero_init=zero, per_layer=suffix == "pl")


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
    J, k = cfg["depth"], cfg["shots"]
    arms = {"base2new": ARMS, "ablation": ABLATION_ARMS, "dg": DG_ARMS}
    if part not in arms:
        raise ValueError(f"unknown part {part!r}; expected one of {list(PARTS)}")
    ds = cfg["dg_datasets"] if part == "dg" else cfg["datasets"]
    return [(d, a, k, s, J) for s in cfg["seeds"] for a in arms[part] for d in ds]


def run_key(d: str, arm: str, k: int, seed: int, depth: int) -> str:
    return f"{d}/{arm}/k{k}/J{depth}/seed{seed}"


def train_part(part: str, clip_model, tokenizer, cfg: dict = CPU_CONFIG, progress: bool = True, mapper=None) -> dict:
    """Every learned prompt of one part; notebook 01's CoCoOp (and, for ``dg``, its CoOp: ``paperlab.coop``,
    their own official recipes on cached features) join the ``base2new`` and ``dg`` parts. Returns
    ``{"runs": {key: run}, "config", "datasets", "wall_s"}``.

    ``mapper(fn, jobs, common)`` (``paperlab.core.cli.Run.map``) spreads the independent runs over processes;
    each job seeds itself, so the result equals the sequential one. Without it the runs go one by one here."""
    import time

    from tqdm.auto import tqdm

    from paperlab import coop

    runs, t0 = {}, time.time()
    todo = jobs(part, cfg)
    if mapper is not None:
        results = mapper(_train_job, [dict(dataset=d, arm=a, k=k, seed=s, depth=j) for d, a, k, s, j in todo],
                         {"cfg": cfg})
        runs.update({run_key(*job): r for job, r in zip(todo, results)})
    for d, a, k, s, j in tqdm(todo if mapper is None else [], desc=f"train {part}", disable=not progress):
        split = coop.dataset(d).train(k_shot=k, seed=s, subset="base")
        runs[run_key(d, a, k, s, j)] = train_run(a, clip_model, tokenizer, split, cfg, seed=s, depth=j)
    if part in ("base2new", "dg"):  # notebook 01's prompts if they fit this backbone, else trained here
        reused = _coop_runs()
        ds = cfg["dg_datasets"] if part == "dg" else cfg["datasets"]
        for method in ("cocoop", "coop") if part == "dg" else ("cocoop",):
            for s in cfg["seeds"]:
                for d in ds:
                    src = f"{d}/{method}/k{cfg['shots']}/seed{s}"
                    key = run_key(d, f"{method}@01", cfg["shots"], s, 0)
                    if src in reused:
                        runs[key] = {"state": reused[src], "loss": [], "from": "data/coop/prompts.pt"}
                        continue
                    feats = coop.encode_split(clip_model, coop.dataset(d).train(k_shot=cfg["shots"], seed=s, subset="base"))
                    state, loss = coop.train_run(method, clip_model, tokenizer, feats, coop.CPU_CONFIG, seed=s, dataset_name=d)
                    runs[key] = {"state": state, "loss": loss}
    return {"runs": runs, "config": _plain(cfg), "datasets": list(cfg["dg_datasets"] if part == "dg" else cfg["datasets"]),
            "wall_s": time.time() - t0, "backbone_sha256": _sha(BACKBONE)}


def _train_job(dataset: str, arm: str, k: int, seed: int, depth: int, cfg: dict) -> dict:
    """One run in a worker process (module level, so process pools can import it): the pinned backbone."""
    from paperlab import clip as pclip
    from paperlab import coop

    split = coop.dataset(dataset).train(k_shot=k, seed=seed, subset="base")
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

def test_splits(cfg: dict, part: str = "base2new") -> dict:
    """``{(dataset, split): shapes.Split}``, ``test_per_class`` images per class of the fixed test splits:
    ``base2new``: base and new classes of every base-to-new dataset (in its own style); ``dg``: the base
    classes of every photo source in the photo style (``"base"``) and in each shifted style."""
    from paperlab.coop import dataset, subsample_split

    out, n = {}, cfg["test_per_class"]
    if part == "base2new":
        for d in cfg["datasets"]:
            out[(d, "base")] = subsample_split(dataset(d).test("base"), n)
            out[(d, "new")] = subsample_split(dataset(d).test("new"), n)
    elif part == "dg":
        for d in cfg["dg_datasets"]:
            out[(d, "base")] = subsample_split(dataset(d).test("base"), n)
            for st in cfg["styles"]:
                out[(d, st)] = subsample_split(dataset(d, style=st).test("base"), n)
    else:
        raise ValueError(f"part must be 'base2new' or 'dg', got {part!r}")
    return out


def correct(model: MuDPT, split):
    """Per-example 0/1 correctness (N,) as a float numpy array."""
    return (predict(model, split).argmax(1).cpu() == split.labels.cpu()).float().numpy()


def evaluate(clip_model, tokenizer, trained: dict, tests: dict, cfg: dict, per_example: dict, pairs=None,
             progress: bool = True) -> list[dict]:
    """Evaluate every run of a checkpoint part (and zero-shot) on ``tests`` -> rows ``{dataset, seed, method,
    split, acc}``; fills ``per_example[(dataset, method, split, seed)]`` with 0/1 correctness per test image
    (zero-shot repeated per seed). Runs from notebook 01 (``"cocoop@01"``, ``"coop@01"``) are evaluated with
    ``paperlab.coop`` on cached features. With ``pairs`` = (images, captions), adds ``split="align"`` rows."""
    from tqdm.auto import tqdm

    from paperlab import coop

    rows, tcfg = [], trained["config"]
    seeds = [s for s in tcfg["seeds"] if s in cfg["seeds"]]
    by_ds: dict = {}
    for key, run in trained["runs"].items():
        d, arm, k, J, seed = key.split("/")
        if int(seed[4:]) in seeds and (d, "base") in tests:
            by_ds.setdefault(d, []).append((arm, int(J[1:]), int(seed[4:]), run))
    for d in tqdm(list(by_ds), desc="evaluate", disable=not progress):
        splits = [s for (dd, s) in tests if dd == d]
        feats = {s: coop.encode_split(clip_model, tests[(d, s)]) for s in splits}
        template = coop.dataset(d).templates[:1]
        for s in splits:
            zs = coop.zero_shot_correct(clip_model, feats[s], template)
            for seed in seeds:
                per_example[(d, "zero-shot", s, seed)] = zs
                rows.append(dict(dataset=d, seed=seed, method="zero-shot", split=s, acc=float(zs.mean())))
        for arm, J, seed, run in by_ds[d]:
            from_coop = arm.endswith("@01")  # a 01_coop prompt, scored on the cached features
            if from_coop:
                m = coop.load_run(arm[:-3], clip_model, tokenizer, feats["base"].classnames, run["state"], coop.CPU_CONFIG)
            else:
                m = load_run(arm, clip_model, tokenizer, tests[(d, "base")].classnames, run, tcfg, depth=J)
            for s in splits:
                per_example[(d, arm, s, seed)] = coop.correct(m, feats[s]) if from_coop else correct(m, tests[(d, s)])
                rows.append(dict(dataset=d, seed=seed, method=arm, split=s, acc=float(per_example[(d, arm, s, seed)].mean())))
            if pairs is not None and not arm.endswith("@01"):
                rows.append(dict(dataset=d, seed=seed, method=arm, split="align", acc=caption_alignment(m, *pairs)))
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
    """``python -m paperlab.mudpt train [--part base2new|dg|ablation|all] [--workers N] [--seeds ..]``.

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



# ----------------------------------------------------------------------------- exercises of notebook 02

VIT_B16_WIDTHS = dict(d_t=512, d_v=768)  # CLIP ViT-B/16: text width 512, vision width 768 (exercise 1)


def _is_affine(m: nn.Module, d_in: int) -> bool:
    """True if ``m`` behaves affinely on random prompts: m(a + b) == m(a) + m(b) - m(0)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 4, d_in, generator=g)
    with torch.no_grad():
        zero = m(torch.zeros(4, d_in))
        return bool(torch.allclose(m(a + b), m(a) + m(b) - zero, atol=1e-4, rtol=1e-3))


def check_exercise(n: int, answer, **data) -> str:
    """Notebook 02's exercise checks (1-5); each prints not attempted / incorrect / close / correct.

    Exercise 5 takes ``images`` (B, 3, H, W) for its forward pass (a few rendered shapes if absent). The
    expected values are computed here from the library's own modules, never written in the notebook.
    """
    from paperlab import clip as pclip
    from paperlab.core import checks

    if n == 1:  # MuDPT's three linear maps (W_0, W_t->v, W_v->t with biases) on ViT-B/16's widths
        d_t, d_v = VIT_B16_WIDTHS["d_t"], VIT_B16_WIDTHS["d_v"]
        want = n_params([InjectionMap(d_t, d_v), InjectionMap(d_t, d_v), InjectionMap(d_v, d_t)])
        return checks.check_close("exercise 1", answer, want, rtol=0, atol=0.5, close_rtol=0.005,
                                  hint="three maps: W_0 and W_{t->v} take d_t to d_v, W_{v->t} takes d_v to d_t; "
                                       "each has a weight matrix and a bias (of the output width)")
    if n == 2:  # CLS + patches + n prompts in the image tower of the micro-CLIP
        vis = pclip.model_config()["vision_cfg"]
        patches = (vis["image_size"] // vis["patch_size"]) ** 2
        return checks.check_equal("exercise 2", answer, 1 + patches + CPU_CONFIG["n_ctx"],
                                  hint="1 CLS token, one token per 8x8 patch of a 32x32 image, then n prompts")
    if n == 3:
        from paperlab.prompts import _replace_slots

        g = torch.Generator().manual_seed(3)
        cases = [(torch.randn(3, 10, 8, generator=g), torch.randn(2, 8, generator=g), 1),
                 (torch.randn(2, 21, 6, generator=g), torch.randn(4, 6, generator=g), 17),
                 (torch.randn(1, 7, 5, generator=g), torch.randn(3, 5, generator=g), 0)]
        return checks.check_function("exercise 3", answer, _replace_slots, cases,
                                     hint="keep x[:, :start] and x[:, start + n:], put p (expanded over N) between; "
                                          "replace, do not add, and keep the length L")
    if n == 4:
        return checks.check_choice("exercise 4", answer, "b", ["a", "b", "c"],
                                   hint="set W = 0 and choose P_v freely; and look at dL/dW = (dL/dP~_v) P_t^T")
    if n == 5:  # answer: the MuDPT whose v2t map the student replaced by a d_v -> 32 -> d_t MLP
        if not isinstance(answer, MuDPT):
            if answer is Ellipsis or answer is None:
                return checks.check_true("exercise 5", answer, lambda m: False)
            return checks.check_true("exercise 5", answer, lambda m: False,
                                     hint="pass the MuDPT model (ex5) whose map you replaced")
        pl = answer.prompt_learner
        m = pl.v2t
        if isinstance(m, InjectionMap):  # still the library's map: not attempted
            return checks.check_true("exercise 5", ..., lambda m: False)
        images = data.get("images")
        if images is None:
            from paperlab.worlds import shapes

            images = shapes.render(shapes.sample_scenes(2, seed=5))

        def runs(m):  # a hidden layer of 32 and a working forward pass
            hidden = any(isinstance(s, nn.Linear) and s.out_features == 32 for s in m.modules())
            return hidden and answer(images).shape == (len(images), pl.n_cls)

        return checks.check_true("exercise 5", m, lambda m: runs(m) and not _is_affine(m, pl.d_v),
                                 close_predicate=runs,  # two Linears with nothing between: still affine
                                 hint="two Linear layers (d_v -> 32 -> d_t) with a nonlinearity between them; "
                                      "set d_in = d_v and d_out = d_t as attributes")
    raise ValueError(f"exercise number must be 1-5, got {n!r}")


SOLUTIONS = {
    1: ("Each linear map $W: \\mathbb{R}^{a}\\to\\mathbb{R}^{b}$ holds $a b$ weights and $b$ biases. MuDPT has "
        "two maps from text to vision width ($W_0$ and $W_{t\\to v}$) and one back ($W_{v\\to t}$): "
        "$2(d_t d_v + d_v) + (d_v d_t + d_t)$, on ViT-B/16 over a million numbers, far more than the prompts.",
        """d_t, d_v = 512, 768
answer_1 = 2 * (d_t * d_v + d_v) + (d_v * d_t + d_t)
print(answer_1)
verdict = mudpt.check_exercise(1, answer_1)"""),
    2: ("The micro-CLIP cuts a 32x32 image into 8x8 patches: 4 x 4 = 16 patch tokens, plus one CLS token in "
        "front and the $n = 4$ visual prompts appended after the patches.",
        """answer_2 = 1 + (32 // 8) ** 2 + 4
verdict = mudpt.check_exercise(2, answer_2)"""),
    3: ("Deep prompting *overwrites* the slots: keep what comes before and after them and put the prompts "
        "(the same for every sequence in the batch) in between; the sequence length does not change.",
        """def overwrite(x, p, start):
    n = p.shape[0]
    return torch.cat([x[:, :start], p.unsqueeze(0).expand(x.shape[0], -1, -1), x[:, start + n:]], dim=1)

verdict = mudpt.check_exercise(3, overwrite)"""),
    4: ("(b). For any fused prompt $\\tilde P_v = P_v + W P_t$ that MuDPT reaches, MPT reaches the same value "
        "by choosing its free $P_v$ equal to it, so the linear maps add no reachable values. (c) is false: with "
        "$W = 0$ the gradient $\\partial L/\\partial W = (\\partial L/\\partial \\tilde P_v) P_t^\\top$ is not "
        "zero, so zero-initialised maps do learn.",
        """verdict = mudpt.check_exercise(4, "b")"""),
    5: ("`replace_map` checks the widths through `d_in`/`d_out` attributes, so a small `nn.Sequential` subclass "
        "that sets them is enough: $d_v \\to 32 \\to d_t$ with a GELU between the two Linear layers.",
        """from torch import nn
from paperlab import clip as pclip
from paperlab.worlds import shapes

class MLPMap(nn.Sequential):
    def __init__(self, d_in, d_out, hidden=32):
        super().__init__(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))
        self.d_in, self.d_out = d_in, d_out

torch.manual_seed(0)
clip_model, _ = pclip.create_model(None, name=pclip.MODEL_NAME)  # random weights are enough to check wiring
ex5 = mudpt.MuDPT(clip_model, pclip.tokenizer(), ["red star", "blue ring"], "mudpt", n_ctx=4, depth=3)
pl = ex5.prompt_learner
pl.replace_map("v2t", MLPMap(pl.d_v, pl.d_t))
verdict = mudpt.check_exercise(5, ex5)"""),
}


if __name__ == "__main__":
    main()
