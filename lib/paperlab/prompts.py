"""The prompt-learner base shared by CoOp, CoCoOp (``paperlab.coop``) and MuDPT (``paperlab.mudpt``).

Prompt learning keeps both CLIP towers frozen and learns *vectors in the token-embedding space*
that replace the hand-written words of a prompt. To do that we need the text tower to accept
prompt **embeddings** instead of token ids. This module provides, for open_clip's own ``CLIP`` class:

- :class:`TextEncoder` -- ``g(.)``: open_clip's ``CLIP.encode_text`` split after the token lookup, so
  it takes ``(N, L, D)`` embeddings; optional *deep* prompts overwrite the context slots at the
  start of later layers (VPT-deep / MaPLe / MuDPT convention).
- :class:`ImageEncoder` -- ``f(.)``: open_clip's ``VisionTransformer.forward`` with optional visual
  prompt tokens appended after the patches (shallow) and overwritten at later layers (deep).
- :func:`tokenize_prompts` -- placeholder prompts ``"X X X X {class}."`` with clear errors for
  truncation; gives the prefix/suffix slices and the EOT position.
- :class:`PromptLearner` -- learnable context ``ctx`` (shared or class-specific, word or random
  init), class names as swappable buffers, and the class-token position end/middle/front.
- :class:`PromptedCLIP` -- a frozen CLIP + a prompt learner; subclasses implement ``forward``.

Extension points for MuDPT: ``PromptLearner.deep_text_prompts()`` / ``deep_visual_prompts()`` /
``visual_prompts()`` return ``None`` here; a subclass returns tensors and :class:`PromptedCLIP`'s
``text_features`` / ``image_features`` pass them to the encoders.

The design follows the official CoOp code (Zhou et al., ``KaiyangZhou/CoOp``, ``trainers/coop.py``:
``TextEncoder``, ``PromptLearner``, ``CustomCLIP``) and mirrors open_clip 3.3's ``CLIP.encode_text``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from open_clip.transformer import text_global_pool
from torch import nn

CLASS_TOKEN_POSITIONS = ("end", "middle", "front")
PLACEHOLDER = "X"


def freeze(module: nn.Module) -> nn.Module:
    """Turn off gradients of every parameter of ``module`` (the frozen CLIP towers)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def check_images(images: torch.Tensor, clip_model) -> torch.Tensor:
    """Check an image batch has shape ``(B, 3, H, W)`` with the CLIP's input size."""
    size = tuple(getattr(clip_model.visual, "image_size", ()))
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a (B, 3, H, W) tensor, got {got}")
    if size and tuple(images.shape[-2:]) != size:
        raise ValueError(f"images must be {size[0]}x{size[1]} for this CLIP, got {tuple(images.shape[-2:])}")
    return images


def _replace_slots(x: torch.Tensor, prompts: torch.Tensor, start: int) -> torch.Tensor:
    """Overwrite ``x[:, start:start+n]`` (N, L, D) with ``prompts`` (n, D) or (N, n, D)."""
    n = prompts.shape[-2]
    if prompts.dim() == 2:
        prompts = prompts.unsqueeze(0).expand(x.shape[0], -1, -1)
    return torch.cat([x[:, :start], prompts.to(x.dtype), x[:, start + n:]], dim=1)


class TextEncoder(nn.Module):
    """``g(.)``: open_clip ``CLIP.encode_text`` from prompt embeddings ``(N, L, D)`` -> features ``(N, E)``.

    Holds *references* to the frozen CLIP's text modules (no copies). ``tokens`` (N, L) are the
    token ids of the placeholder prompts; only their EOT position is used (argmax pooling).
    ``deep_prompts[j-1]`` ((n, D) or (N, n, D)) overwrites slots ``deep_start:deep_start+n`` before
    layer ``j`` = 1, 2, ... (VPT-deep convention); ``None`` gives the plain CLIP text tower.
    ``trim`` (default True) first drops the padding after the last EOT token (exact; see ``_trim``).
    """

    def __init__(self, clip_model):
        super().__init__()
        self.token_embedding = clip_model.token_embedding
        self.positional_embedding = clip_model.positional_embedding
        self.transformer = clip_model.transformer
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        self.register_buffer("attn_mask", clip_model.attn_mask, persistent=False)
        self.pool_type = getattr(clip_model, "text_pool_type", "argmax")
        self.eos_id = getattr(clip_model, "text_eos_id", None)
        self.context_length = self.positional_embedding.shape[0]
        self.width = self.positional_embedding.shape[1]
        self.trim = True

    @property
    def dtype(self) -> torch.dtype:
        return self.transformer.get_cast_dtype()

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids (N, L) -> token embeddings (N, L, D), as ``encode_text`` does first."""
        return self.token_embedding(tokens).to(self.dtype)

    def _trim(self, x: torch.Tensor, tokens: torch.Tensor):
        """Drop the padding after the last EOT. Exact under CLIP's causal mask: no token attends forward,
        so the EOT feature never sees the padding. Saves ~3x on short prompts."""
        if not self.trim or self.attn_mask is None or self.pool_type not in ("argmax", "eos"):
            return x, tokens, self.attn_mask
        eot = tokens.argmax(dim=-1) if self.pool_type == "argmax" else (tokens == self.eos_id).int().argmax(dim=-1)
        L = int(eot.max()) + 1
        return x[:, :L], tokens[:, :L], self.attn_mask[:L, :L]

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, deep_prompts: Sequence[torch.Tensor] | None = None,
                deep_start: int = 1) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1:] != (self.context_length, self.width):
            raise ValueError(f"prompt embeddings must be (N, {self.context_length}, {self.width}), got {tuple(x.shape)}")
        if tokens.shape != x.shape[:2]:
            raise ValueError(f"tokens must be (N, L) = {tuple(x.shape[:2])}, got {tuple(tokens.shape)}")
        x = x + self.positional_embedding.to(self.dtype)
        x, tokens, mask = self._trim(x, tokens)
        if not self.transformer.batch_first:
            x = x.transpose(0, 1)  # NLD -> LND
        for j, block in enumerate(self.transformer.resblocks):
            if deep_prompts is not None and 1 <= j <= len(deep_prompts):
                x = x if self.transformer.batch_first else x.transpose(0, 1)
                x = _replace_slots(x, deep_prompts[j - 1], deep_start)
                x = x if self.transformer.batch_first else x.transpose(0, 1)
            x = block(x, attn_mask=mask)
        if not self.transformer.batch_first:
            x = x.transpose(0, 1)  # LND -> NLD
        x = self.ln_final(x)
        x = text_global_pool(x, tokens, self.pool_type, eos_token_id=self.eos_id)  # feature at EOT
        if isinstance(self.text_projection, nn.Linear):
            return self.text_projection(x)
        return x @ self.text_projection


class ImageEncoder(nn.Module):
    """``f(.)``: open_clip ``VisionTransformer.forward`` with optional visual prompts -> ``(B, E)``.

    ``prompts`` (n, W) or (B, n, W) are appended after the patch tokens (after ``ln_pre`` by
    default; ``prompts_before_ln_pre = True`` appends them before it, as the official MaPLe/MuDPT code
    does); ``deep_prompts[j-1]`` overwrites those last n slots before layer j = 1, 2, ...
    With no prompts this is exactly ``clip_model.encode_image`` (tested).
    """

    def __init__(self, clip_model):
        super().__init__()
        self.visual = clip_model.visual
        if not hasattr(self.visual, "_embeds"):
            raise TypeError(f"ImageEncoder needs an open_clip VisionTransformer, got {type(self.visual).__name__}")
        self.width = self.visual.positional_embedding.shape[-1]
        # False (default): appended after ``ln_pre``. True: appended before it, as the official MuDPT/MaPLe
        # code does (``ln_pre`` is per token, so this equals normalising the prompts with ``ln_pre``).
        self.prompts_before_ln_pre = False

    def forward(self, images: torch.Tensor, prompts: torch.Tensor | None = None,
                deep_prompts: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        x = self.visual._embeds(images)  # (B, 1 + patches, W), after ln_pre
        n = 0
        if prompts is not None:
            n = prompts.shape[-2]
            p = prompts if prompts.dim() == 3 else prompts.unsqueeze(0).expand(x.shape[0], -1, -1)
            if self.prompts_before_ln_pre:
                p = self.visual.ln_pre(p.to(x.dtype))
            x = torch.cat([x, p.to(x.dtype)], dim=1)
        tr = self.visual.transformer
        x = x if tr.batch_first else x.transpose(0, 1)
        for j, block in enumerate(tr.resblocks):
            if deep_prompts is not None and n and 1 <= j <= len(deep_prompts):
                x = x if tr.batch_first else x.transpose(0, 1)
                x = _replace_slots(x, deep_prompts[j - 1], x.shape[1] - n)
                x = x if tr.batch_first else x.transpose(0, 1)
            x = block(x)
        x = x if tr.batch_first else x.transpose(0, 1)
        pooled, _ = self.visual._pool(x)  # CLS token -> ln_post (prompts only act through attention)
        return pooled @ self.visual.proj if self.visual.proj is not None else pooled


def _n_bpe(tokenizer, text: str) -> int:
    """Number of BPE tokens of ``text`` (no SOS/EOT), with open_clip's own text cleaning."""
    return len(tokenizer.encode(text))


def tokenize_prompts(tokenizer, classnames: Sequence[str], n_ctx: int, context_length: int | None = None):
    """Placeholder prompts ``"X ... X {name}."`` -> (tokens (K, L), name_lens list[int]).

    Raises ``ValueError`` when a prompt would be truncated by the tokenizer's context length
    (SOS + n_ctx + name + '.' + EOT must fit), because truncation silently drops the EOT token.
    """
    if isinstance(classnames, str) or not len(classnames):
        raise ValueError(f"classnames must be a non-empty list of strings, got {classnames!r}")
    L = context_length or tokenizer.context_length
    if not isinstance(n_ctx, int) or n_ctx < 1 or n_ctx > L - 4:
        raise ValueError(f"n_ctx must be an int in [1, {L - 4}] for context length {L}, got {n_ctx!r}")
    names = [c.replace("_", " ") for c in classnames]
    name_lens = [_n_bpe(tokenizer, c) for c in names]
    for c, n in zip(names, name_lens):
        if 1 + n_ctx + n + 2 > L:  # SOS, context, name, ".", EOT
            raise ValueError(
                f"class name {c!r} ({n} tokens) with {n_ctx} context tokens needs {1 + n_ctx + n + 2} "
                f"tokens but the text context length is {L}: the tokenizer would truncate it"
            )
    prompts = [" ".join([PLACEHOLDER] * n_ctx) + " " + c + "." for c in names]
    return tokenizer(prompts), name_lens


def _init_context(encoder: TextEncoder, tokenizer, n_ctx: int, ctx_init: str | None, n_cls: int | None):
    """Word init ("a photo of a": n_ctx = number of words, as in the official code) or N(0, 0.02^2)."""
    if ctx_init:
        words = ctx_init.replace("_", " ").split()
        ids = tokenizer([" ".join(words)])
        n_ctx = _n_bpe(tokenizer, " ".join(words))
        with torch.no_grad():
            ctx = encoder.embed(ids)[0, 1:1 + n_ctx].clone()
        if n_cls is not None:
            ctx = ctx.unsqueeze(0).repeat(n_cls, 1, 1)
        return ctx, n_ctx
    shape = (n_cls, n_ctx, encoder.width) if n_cls is not None else (n_ctx, encoder.width)
    ctx = torch.empty(shape, dtype=encoder.dtype)
    nn.init.normal_(ctx, std=0.02)
    return ctx, n_ctx


class PromptLearner(nn.Module):
    """Learnable context ``ctx`` and the class-name buffers; builds prompt embeddings ``(..., K, L, D)``.

    ``ctx`` is (M, D) (unified) or (K, M, D) (class-specific, ``csc=True``). ``ctx_init`` (e.g.
    "a photo of a") overrides ``n_ctx`` with the number of words, as in the official code.
    ``set_classnames`` swaps the class names (base -> new) without touching ``ctx``.
    """

    def __init__(self, encoder: TextEncoder, tokenizer, classnames: Sequence[str], n_ctx: int = 16,
                 ctx_init: str | None = None, csc: bool = False, class_token_position: str = "end"):
        super().__init__()
        if class_token_position not in CLASS_TOKEN_POSITIONS:
            raise ValueError(f"class_token_position must be one of {CLASS_TOKEN_POSITIONS}, got {class_token_position!r}")
        self._encoder = [encoder]  # a reference, not a submodule: the frozen tower is not ours to save
        self.tokenizer = tokenizer
        self.csc = csc
        self.class_token_position = class_token_position
        ctx, self.n_ctx = _init_context(encoder, tokenizer, n_ctx, ctx_init, len(classnames) if csc else None)
        self.ctx = nn.Parameter(ctx)
        self.ctx_init = ctx_init or ""
        self.trained_classnames = list(classnames) if csc else None
        self.set_classnames(classnames)

    def set_classnames(self, classnames: Sequence[str]) -> None:
        """Rebuild the SOS prefix (K, 1, D), the name/EOT suffix (K, L-1-M, D) and the tokens (K, L)."""
        if self.csc and list(classnames) != self.trained_classnames:
            raise ValueError(
                "class-specific contexts (csc=True) were learned for the classes "
                f"{self.trained_classnames[:4]}...; they cannot be applied to other classes {list(classnames)[:4]}... "
                "(use a unified context to evaluate on new classes)"
            )
        tokens, self.name_lens = tokenize_prompts(self.tokenizer, classnames, self.n_ctx,
                                                  self._encoder[0].context_length)
        tokens = tokens.to(self.ctx.device)
        with torch.no_grad():
            emb = self._encoder[0].embed(tokens)
        self.classnames = list(classnames)
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("token_prefix", emb[:, :1], persistent=False)  # SOS
        self.register_buffer("token_suffix", emb[:, 1 + self.n_ctx:], persistent=False)  # name, ".", EOT, pad
        self.register_buffer("order", self._position_order(), persistent=False)

    @property
    def n_cls(self) -> int:
        return len(self.classnames)

    def _position_order(self) -> torch.Tensor:
        """Per class, the order (K, L) that moves [SOS, ctx, name, rest] to the class-token position."""
        M, L = self.n_ctx, self.tokens.shape[1]
        rows = []
        for n in self.name_lens:
            sos, ctx, name, rest = [0], list(range(1, 1 + M)), list(range(1 + M, 1 + M + n)), list(range(1 + M + n, L))
            if self.class_token_position == "end":
                rows.append(sos + ctx + name + rest)
            elif self.class_token_position == "front":
                rows.append(sos + name + ctx + rest)
            else:  # middle: half of the context, the name, the other half
                h = M // 2
                rows.append(sos + ctx[:h] + name + ctx[h:] + rest)
        return torch.tensor(rows, dtype=torch.long)

    def assemble(self, ctx: torch.Tensor) -> torch.Tensor:
        """Context (..., K, M, D) -> prompt embeddings (..., K, L, D): t_i = [SOS, v_1..v_M, c_i, ., EOT]."""
        K = self.n_cls
        if ctx.shape[-3:] != (K, self.n_ctx, self.ctx.shape[-1]):
            raise ValueError(f"context must end in (K, M, D) = {(K, self.n_ctx, self.ctx.shape[-1])}, got {tuple(ctx.shape)}")
        lead = ctx.shape[:-3]
        prefix = self.token_prefix.expand(*lead, *self.token_prefix.shape)
        suffix = self.token_suffix.expand(*lead, *self.token_suffix.shape)
        x = torch.cat([prefix, ctx.to(prefix.dtype), suffix], dim=-2)
        if self.class_token_position == "end":
            return x
        idx = self.order.view(*([1] * len(lead)), K, -1, 1).expand(*lead, K, -1, x.shape[-1])
        return torch.gather(x, -2, idx)

    def context(self) -> torch.Tensor:
        """The context for every class, (K, M, D) (a view for the unified context)."""
        return self.ctx if self.ctx.dim() == 3 else self.ctx.unsqueeze(0).expand(self.n_cls, -1, -1)

    def forward(self) -> torch.Tensor:
        """CoOp prompts (K, L, D)."""
        return self.assemble(self.context())

    # --- extension points (MuDPT): None means "no prompts of this kind" ---
    def deep_text_prompts(self) -> Sequence[torch.Tensor] | None:
        return None

    def visual_prompts(self) -> torch.Tensor | None:
        return None

    def deep_visual_prompts(self) -> Sequence[torch.Tensor] | None:
        return None


class PromptedCLIP(nn.Module):
    """A frozen open_clip ``CLIP`` plus a trainable prompt learner (``CustomCLIP`` in the official code).

    Subclasses build ``self.prompt_learner`` and implement ``forward``. Only the prompt learner is
    trainable; ``trainable_state_dict`` / ``load_trainable_state_dict`` save and load just that,
    never the class-specific prefix/suffix buffers (the official loaders delete them).
    """

    def __init__(self, clip_model, tokenizer):
        super().__init__()
        self.clip = freeze(clip_model)
        self.tokenizer = tokenizer
        self.text_encoder = TextEncoder(clip_model)
        self.image_encoder = ImageEncoder(clip_model)
        self.prompt_learner: PromptLearner | None = None

    def train(self, mode: bool = True):
        """Only the prompt learner ever switches to train mode; the frozen CLIP stays in eval."""
        super().train(mode)
        self.clip.eval()
        return self

    @property
    def logit_scale(self) -> torch.Tensor:
        return self.clip.logit_scale.exp()

    def set_classnames(self, classnames: Sequence[str]) -> None:
        self.prompt_learner.set_classnames(classnames)

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        """Raw images in [0, 1] (B, 3, H, W) -> z = f(x) / ||f(x)||, (B, E); uses the learner's visual prompts if any."""
        from paperlab.clip import normalize

        x = normalize(check_images(images, self.clip), self.clip)  # the model's own mean/std
        pl = self.prompt_learner
        vp, deep = (pl.visual_prompts(), pl.deep_visual_prompts()) if pl is not None else (None, None)
        with torch.set_grad_enabled(torch.is_grad_enabled() and vp is not None):
            z = self.image_encoder(x, prompts=vp, deep_prompts=deep)
        return F.normalize(z, dim=-1)

    def text_features(self, prompts: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings (..., K, L, D) -> normalised text features (..., K, E), one encoder pass."""
        pl = self.prompt_learner
        lead = prompts.shape[:-2]
        tokens = pl.tokens.expand(*lead[:-1], *pl.tokens.shape).reshape(-1, pl.tokens.shape[-1])
        t = self.text_encoder(prompts.reshape(-1, *prompts.shape[-2:]), tokens, deep_prompts=pl.deep_text_prompts())
        return F.normalize(t, dim=-1).reshape(*lead, -1)

    def trainable_state_dict(self) -> dict:
        """The learned tensors only (ctx, meta_net, ...): tiny, loadable with ``weights_only=True``."""
        return {k: v.detach().clone() for k, v in self.prompt_learner.state_dict().items()}

    def load_trainable_state_dict(self, state: dict) -> None:
        state = {k: v for k, v in state.items() if k not in ("token_prefix", "token_suffix", "tokens", "order")}
        own = self.prompt_learner.state_dict()
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"prompt state does not fit this learner: missing {missing}, unexpected {unexpected}")
        for k, v in state.items():
            if v.shape != own[k].shape:
                raise ValueError(f"prompt state {k!r} has shape {tuple(v.shape)}, this learner expects {tuple(own[k].shape)}")
        self.prompt_learner.load_state_dict(state)
