"""PAT: a position-aware transformer for dense multi-label action detection, at small width.

Paper: Faegheh Sardari, Armin Mustafa, Philip J. B. Jackson, Adrian Hilton,
"PAT: Position-Aware Transformer for Dense Multi-Label Action Detection", ICCV 2023 Workshops
(arXiv 2308.05051). Official code: github.com/faeghehsardari/PAT-ICCVW (built on dairui01/MS-TCT).

The network (official ``PAT/*.py``):

* temporal merging Lambda: Conv1d(k=3, stride s) + LayerNorm;
* relative positional transformer (RPT) blocks: z += MHSA_rel(LN z); z += LRB(LN z), where the
  attention logit carries a learned relative-position term and the "local relational block" LRB is
  Linear -> depthwise Conv1d(k=3) -> GELU -> Linear;
* fine detection module (FDM): Lambda(s=1) + RPT blocks at full resolution;
* coarse detection module (CDM), *non-hierarchical*: for s in (2, 4, 8) a Lambda(stride s) reads the
  fine features directly (MS-TCT instead chains stride-2 stages: ``hierarchical=True``);
* mixer: Conv1d(k=3) per scale, linear up-sampling to T, coarse maps summed;
* heads: fine Conv1x1 -> C; coarse Conv1x1 -> dropout -> Conv1x1 -> C;
* asymmetric loss on both heads; prediction sigma(alpha_f Y_fine + alpha_c Y_coarse) on logits.

Deliberate differences from the official code (each named in the notebook): padded steps are
masked in attention and in the loss (the official code attends to and scores padding); the
default relative term is a clean symmetric table (the official "skew" is ``pos="skew"``);
width, depth, FFN ratio and dropout are reduced for a CPU.

Shapes: features ``(B, T, D0)`` (the official code takes ``(B, D0, T)``), mask ``(B, T)`` bool,
labels and logits ``(B, T, C)``.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from paperlab.core import metrics

POSITIONS = ("relative", "skew", "none", "absolute")
INITS = ("pytorch", "official")


@dataclass(frozen=True)
class PATConfig:
    """Sizes and switches. Official: dim 512, heads 8, blocks 3, mlp_ratio 8, T 256, in_dim 1024."""

    in_dim: int = 32
    n_classes: int = 10
    T: int = 64
    dim: int = 32
    heads: int = 4
    blocks: int = 2
    mlp_ratio: int = 4
    scales: tuple[int, ...] = (2, 4, 8)
    pos: str = "relative"  # relative | skew (official) | none | absolute (sinusoidal at the input)
    hierarchical: bool = False  # MS-TCT wiring: scale s reads scale s/2
    fine_only: bool = False
    local_conv: bool = True  # the depthwise conv inside the local relational FFN
    input_dropout: float = 0.1  # official 0.5 on 1024-d I3D features
    head_dropout: float = 0.1  # official 0.5
    alpha_fine: float = 0.1  # Charades: 0.1 / 0.9 ; MultiTHUMOS: 0.2 / 0.8
    alpha_coarse: float = 0.9
    # "official": the official code's initialisation (see official_init); "pytorch": PyTorch's defaults,
    # what the short-range checkpoints (data/pat/variants.pt) were trained with
    init: str = "pytorch"

    def __post_init__(self):
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.pos not in POSITIONS:
            raise ValueError(f"pos must be one of {POSITIONS}, got {self.pos!r}")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} must be divisible by heads {self.heads}")
        if self.T % max(self.scales):
            raise ValueError(f"T={self.T} must be divisible by the largest scale {max(self.scales)}")
        if self.hierarchical and any(b != 2 * a for a, b in zip((1, *self.scales), self.scales)):
            raise ValueError(f"hierarchical wiring needs scales 2, 4, 8, ... (each twice the last), got {self.scales}")


# --------------------------------------------------------------------------- attention ----

def relative_bias(q: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Clean symmetric relative term S_ij = q_i . e_{j-i}; ``q (B,H,N,d)``, ``table (2L-1, d)``.

    Row ``L-1+r`` of the table is the embedding of offset r = j - i (r in [-(L-1), L-1]).
    """
    N, L = q.shape[-2], (table.shape[0] + 1) // 2
    if N > L:
        raise ValueError(f"sequence of {N} steps is longer than the relative table's max_len {L}")
    qe = q @ table.T  # (B,H,N,2L-1): q_i . e_r for every offset r
    idx = torch.arange(N, device=q.device)
    offset = (idx[None, :] - idx[:, None]) + (L - 1)  # (N,N): index of j - i
    return qe.gather(-1, offset.expand(*q.shape[:-2], N, N))  # Eq. (relative attention): S_ij


def skew_bias(q: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """The official code's Music-Transformer "skew": ``table (L, d)``, exact only for keys j <= i.

    S_ij = q_i . E[L-1-(i-j)] for j <= i; for j = i+1 it is 0 and for j >= i+2 a row-shifted leftover.
    """
    N, L = q.shape[-2], table.shape[0]
    if N > L:
        raise ValueError(f"sequence of {N} steps is longer than the relative table's max_len {L}")
    qe = q @ table[L - N:].T  # (B,H,N,N), column c <-> E[L-N+c]
    padded = F.pad(qe, (1, 0))  # (B,H,N,N+1)
    return padded.reshape(*q.shape[:-2], N + 1, N)[..., 1:, :]  # the skew: drop the first row


class RelativeAttention(nn.Module):
    """Multi-head self-attention with a relative-position term in every logit (the "GPRB").

    Eq.: A = softmax_j((q_i . k_j + S_ij) / sqrt(d_h)), masked over padded keys. ``x (B,N,D)``.
    """

    def __init__(self, dim: int, heads: int, max_len: int, pos: str = "relative"):
        super().__init__()
        self.heads, self.d_h, self.pos = heads, dim // heads, pos
        self.q, self.kv, self.proj = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)
        rows = {"relative": 2 * max_len - 1, "skew": max_len}.get(pos, 0)
        self.table = nn.Parameter(torch.randn(rows, self.d_h) * self.d_h ** -0.5) if rows else None
        self.keep_attn, self.last_attn = False, None

    def logits(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-softmax attention logits ``(B,H,N,N)``; padded keys get -inf."""
        B, N, D = x.shape
        q = self.q(x).reshape(B, N, self.heads, self.d_h).transpose(1, 2)
        k = self.kv(x)[..., :D].reshape(B, N, self.heads, self.d_h).transpose(1, 2)
        s = q @ k.transpose(-2, -1)  # content term q_i . k_j
        if self.pos == "relative":
            s = s + relative_bias(q, self.table)
        elif self.pos == "skew":
            s = s + skew_bias(q, self.table)
        s = s * self.d_h ** -0.5  # official: (q k^T + S_rel) * scale
        if key_mask is not None:
            s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        return s

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N, D = x.shape
        attn = self.logits(x, key_mask).softmax(-1)
        if self.keep_attn:
            self.last_attn = attn.detach()
        v = self.kv(x)[..., D:].reshape(B, N, self.heads, self.d_h).transpose(1, 2)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, D))


# ------------------------------------------------------------------------------ blocks ----

class LocalRelationalFFN(nn.Module):
    """LRB: Linear(D -> rD) -> depthwise Conv1d(k=3) over time -> GELU -> Linear(rD -> D)."""

    def __init__(self, dim: int, ratio: int, local_conv: bool = True):
        super().__init__()
        h = dim * ratio
        self.linear1, self.linear2 = nn.Linear(dim, h), nn.Linear(h, dim)
        self.tc = nn.Conv1d(h, h, 3, padding=1, groups=h) if local_conv else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.tc(self.linear1(x).transpose(1, 2)).transpose(1, 2)
        return self.linear2(F.gelu(x))


class RPTBlock(nn.Module):
    """Relative positional transformer block (pre-norm): z += MHSA_rel(LN z); z += LRB(LN z)."""

    def __init__(self, dim: int, heads: int, max_len: int, ratio: int, pos: str, local_conv: bool):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = RelativeAttention(dim, heads, max_len, pos)
        self.ffn = LocalRelationalFFN(dim, ratio, local_conv)

    def forward(self, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[..., None].to(z.dtype)  # padded steps are kept at zero so they cannot leak
        z = (z + self.attn(self.norm1(z), mask)) * m
        return (z + self.ffn(self.norm2(z))) * m


class TemporalMerging(nn.Module):
    """Lambda: Conv1d(k=3, stride s, padding 1) + LayerNorm. ``(B,T,Din) -> (B,T/s,D)``."""

    def __init__(self, d_in: int, dim: int, stride: int):
        super().__init__()
        self.proj, self.norm = nn.Conv1d(d_in, dim, 3, stride=stride, padding=1), nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x.transpose(1, 2)).transpose(1, 2))


class Branch(nn.Module):
    """One detection branch: Lambda(stride) -> RPT blocks -> LayerNorm (FDM, or one CDM scale)."""

    def __init__(self, d_in: int, cfg: PATConfig, stride: int, max_len: int):
        super().__init__()
        self.stride = stride
        self.merge = TemporalMerging(d_in, cfg.dim, stride)
        self.blocks = nn.ModuleList(
            RPTBlock(cfg.dim, cfg.heads, max_len, cfg.mlp_ratio, cfg.pos, cfg.local_conv) for _ in range(cfg.blocks))
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, pe: torch.Tensor | None = None) -> torch.Tensor:
        z = self.merge(x) * mask[..., None]
        if pe is not None:  # the absolute-PE ablation: sinusoids added to the input tokens
            z = z + pe[: z.shape[1]]
        for blk in self.blocks:
            z = blk(z, mask)
        return self.norm(z) * mask[..., None]


def sinusoidal(T: int, dim: int) -> torch.Tensor:
    """Absolute PE of Vaswani et al.: PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(...)."""
    t = torch.arange(T)[:, None].float()
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2).float() / dim)
    pe = torch.zeros(T, dim)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(t * freq), torch.cos(t * freq)
    return pe


# ------------------------------------------------------------------------------- model ----

def official_init(branch: nn.Module) -> None:
    """The official ``_init_weights`` of PAT's fine and coarse modules, applied to one :class:`Branch`:
    Linear weights trunc_normal(std 0.02) (timm's default bounds, +-2, are 100 std away: in effect N(0, 0.02^2))
    and zero bias; LayerNorm weight 1, bias 0; Conv1d weights
    N(0, 2 / fan_out) with fan_out = k * out_channels / groups, zero bias; the relative table N(0, 1)
    (``torch.randn`` in the official code). The mixer and the heads keep PyTorch's defaults there too."""
    for m in branch.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight), nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv1d):
            fan_out = m.kernel_size[0] * m.out_channels // m.groups
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, RelativeAttention) and m.table is not None:
            nn.init.normal_(m.table, 0.0, 1.0)


class PAT(nn.Module):
    """FDM + CDM + mixer + two heads. ``forward(x (B,T,D0), mask (B,T)) -> (Y_fine, Y_coarse)``."""

    def __init__(self, cfg: PATConfig):
        super().__init__()
        self.cfg = cfg
        self.dropout = nn.Dropout(cfg.input_dropout)
        self.fine = Branch(cfg.in_dim, cfg, 1, cfg.T)  # FDM
        self.register_buffer("pe", sinusoidal(cfg.T, cfg.dim) if cfg.pos == "absolute" else None)
        self.mix_fine = nn.Conv1d(cfg.dim, cfg.dim, 3, padding=1)
        self.head_fine = nn.Conv1d(cfg.dim, cfg.n_classes, 1)
        if not cfg.fine_only:  # CDM: same modules either way; only the stride and the input differ
            self.coarse = nn.ModuleList(
                Branch(cfg.dim, cfg, 2 if cfg.hierarchical else s, cfg.T // s) for s in cfg.scales)
            self.mix_coarse = nn.ModuleList(nn.Conv1d(cfg.dim, cfg.dim, 3, padding=1) for _ in cfg.scales)
            self.head_coarse = nn.Sequential(nn.Conv1d(cfg.dim, cfg.dim, 1), nn.Dropout(cfg.head_dropout),
                                             nn.Conv1d(cfg.dim, cfg.n_classes, 1))
        if cfg.init == "official":
            for branch in [self.fine, *getattr(self, "coarse", [])]:
                official_init(branch)

    def check_inputs(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        if x.ndim != 3 or x.shape[-1] != self.cfg.in_dim:
            raise ValueError(f"features must be (B, T, {self.cfg.in_dim}), got {tuple(x.shape)}")
        if x.shape[1] % max(self.cfg.scales) or x.shape[1] > self.cfg.T:
            raise ValueError(f"T={x.shape[1]} must be <= {self.cfg.T} and divisible by {max(self.cfg.scales)}")
        if mask.shape != x.shape[:2] or mask.dtype != torch.bool:
            raise ValueError(f"mask must be bool (B, T) = {tuple(x.shape[:2])}, got {mask.dtype} {tuple(mask.shape)}")
        empty = (~mask.any(1)).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"sequences {empty} are all padding (mask all False); drop them from the batch")

    def coarse_features(self, fine: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """CDM: every scale reads I_fine (PAT), or the previous scale (hierarchical MS-TCT wiring)."""
        feats, src = [], fine
        for s, branch in zip(self.cfg.scales, self.coarse):
            m = mask[:, ::s]  # a coarse step is real when the first fine step it covers is
            out = branch(src, m)
            feats.append(out)
            if self.cfg.hierarchical:
                src = out
        return feats

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        self.check_inputs(x, mask)
        x = self.dropout(x) * mask[..., None]
        fine = self.fine(x, mask, self.pe)  # I_fine (B,T,D)
        y_fine = self.head_fine(self.mix_fine(fine.transpose(1, 2))).transpose(1, 2)
        if self.cfg.fine_only:
            return y_fine, None
        T = x.shape[1]
        # Mixer: I_coarse = sum_s Up(Conv(I^{g_s}))
        coarse = sum(F.interpolate(conv(f.transpose(1, 2)), size=T, mode="linear", align_corners=False)
                     for conv, f in zip(self.mix_coarse, self.coarse_features(fine, mask)))
        return y_fine, self.head_coarse(coarse).transpose(1, 2)

    def fuse(self, y_fine: torch.Tensor, y_coarse: torch.Tensor | None) -> torch.Tensor:
        """Final logits alpha_f Y_fine + alpha_c Y_coarse (weights on logits, before the sigmoid)."""
        if y_coarse is None:
            return y_fine
        return self.cfg.alpha_fine * y_fine + self.cfg.alpha_coarse * y_coarse


# -------------------------------------------------------------------------------- loss ----

def asymmetric_loss(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, gamma_neg: float = 3.0,
                    gamma_pos: float = 1.0, clip: float = 0.05, eps: float = 1e-8) -> torch.Tensor:
    """ASL (Ridnik et al. 2021) summed over real steps and classes, divided by the number of real steps.

    L = -sum [ y (1-p)^g+ log p + (1-y) p_m^g- log(1-p_m) ],  p_m = max(p - m, 0); weights without grad.
    """
    if logits.shape != y.shape:
        raise ValueError(f"labels {tuple(y.shape)} must match logits {tuple(logits.shape)} (B, T, C)")
    p = torch.sigmoid(logits)
    p_m = (p - clip).clamp(min=0) if clip > 0 else p  # asymmetric probability shifting
    loss = y * torch.log(p.clamp(min=eps)) + (1 - y) * torch.log((1 - p_m).clamp(min=eps))
    with torch.no_grad():  # focusing weights: (1-p)^g+ on positives, p_m^g- on negatives
        w = torch.where(y > 0, (1 - p) ** gamma_pos, p_m ** gamma_neg)
    m = mask[..., None].to(loss.dtype)
    return -(loss * w * m).sum() / m.sum().clamp(min=1)


def pat_loss(model: PAT, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, bce: bool = False) -> torch.Tensor:
    """L = L(Y_coarse, y) + alpha_f L(Y_fine, y) (fine-only: L(Y_fine, y)). ``bce``: plain BCE instead of ASL."""
    cfg = getattr(model, "module", model).cfg  # the PAT itself, also when wrapped in DistributedDataParallel
    if y.ndim != 3 or y.shape[-1] != cfg.n_classes:
        raise ValueError(f"labels must be (B, T, {cfg.n_classes}), got {tuple(y.shape)}")
    kw = dict(gamma_neg=0.0, gamma_pos=0.0, clip=0.0) if bce else {}
    y_fine, y_coarse = model(x, mask)
    if y_coarse is None:
        return asymmetric_loss(y_fine, y, mask, **kw)
    return asymmetric_loss(y_coarse, y, mask, **kw) + cfg.alpha_fine * asymmetric_loss(y_fine, y, mask, **kw)


# ----------------------------------------------------------------------------- metrics ----

@torch.no_grad()
def predict(model: PAT, x: torch.Tensor, mask: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Per-step class probabilities sigma(fused logits), ``(N, T, C)``, padded steps set to 0."""
    model.eval()
    out = [torch.sigmoid(model.fuse(*model(x[i:i + batch_size], mask[i:i + batch_size])))
           for i in range(0, len(x), batch_size)]
    return torch.cat(out) * mask[..., None]


def frame_map(probs, labels, mask, classes=None) -> float:
    """Per-frame mAP (%) over real steps: sklearn AP per class, mean over classes with a positive."""
    p, y, m = (torch.as_tensor(a) for a in (probs, labels, mask))
    if p.shape != y.shape or m.shape != p.shape[:2]:
        raise ValueError(f"probs {tuple(p.shape)}, labels {tuple(y.shape)}, mask {tuple(m.shape)} do not line up")
    p, y = p[m.bool()], y[m.bool()]
    if classes is not None:
        p, y = p[:, list(classes)], y[:, list(classes)]
    return 100 * metrics.mean_average_precision(p, y)


def apmeter_ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The official code's APMeter AP per class (for comparison only): sort by score, average the
    precision at each positive's rank, divide by max(#positives, 1). Ties keep sort order."""
    ap = np.zeros(scores.shape[1])
    for k in range(scores.shape[1]):
        order = np.argsort(-scores[:, k], kind="stable")
        truth = targets[order, k]
        prec = np.cumsum(truth) / np.arange(1, len(truth) + 1)
        ap[k] = prec[truth > 0].sum() / max(truth.sum(), 1)
    return ap


def official_map(probs, labels) -> float:
    """The official validation mAP (%): all T steps of every padded clip (padding scored 0),
    APMeter AP per class, sum divided by the number of *non-zero* APs (not by C)."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1, np.shape(probs)[-1])
    y = np.asarray(labels).reshape(-1, np.shape(labels)[-1])
    ap = 100 * apmeter_ap(p, y)
    return float(ap.sum() / max(np.count_nonzero(ap), 1))


def order_free_classes(n_classes: int = 10) -> list[int]:
    """The classes whose labels need no order (all but B and B'): a network that learned anything scores them."""
    from paperlab.worlds import timelines

    return [c for c in range(n_classes) if c not in timelines.ORDER_CLASSES]


def scores(probs, labels, mask) -> dict:
    """Per-frame mAP (%) on all classes, on B/B' ("order"), on the order-free classes, on the weak class C,
    and with the official averaging. ``probs`` from :func:`predict`."""
    from paperlab.worlds import timelines

    return {"all": frame_map(probs, labels, mask), "order": frame_map(probs, labels, mask, timelines.ORDER_CLASSES),
            "order-free": frame_map(probs, labels, mask, order_free_classes(labels.shape[-1])),
            "weak C": frame_map(probs, labels, mask, [4]), "official": official_map(probs, labels)}


def evaluate(ckpt: dict, names, seeds, data) -> dict:
    """``{variant: {metric: [one value per seed]}}`` on ``data`` (a ``Timelines``) for every trained
    variant x seed in ``ckpt`` (a variant with fewer seeds, such as the oracle, gets the ones it has)."""
    out = {}
    for name in names:
        have = [s for s in seeds if f"{name}|{s}" in ckpt["variants"]]
        if not have:
            raise KeyError(f"no checkpoint of variant {name!r} for seeds {list(seeds)}")
        x, y, m = variant_data(name, data).tensors()
        rows = [scores(predict(load_model(ckpt, name, s), x, m), y, m) for s in have]
        out[name] = {k: [r[k] for r in rows] for k in rows[0]} | {"seeds": have}
    return out


def untrained(ckpt: dict, name: str, seed: int) -> PAT:
    """Variant ``name`` of ``ckpt``'s configuration, freshly initialised from ``seed`` (never trained)."""
    from paperlab.core.seeding import seed_everything

    base = ckpt["base"]
    seed_everything(seed)
    return PAT(variant_config(PATConfig(**{**base, "scales": tuple(base["scales"])}), name)).eval()


@torch.no_grad()
def relative_term_by_offset(model: PAT, x: torch.Tensor, mask: torch.Tensor, frames: torch.Tensor,
                            block: int = 0, branch: int = 0, per_head: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The learned relative logit q_i . e_r / sqrt(d_h) of one attention block, for every offset r = j - i,
    averaged over the query frames where ``frames (N, T)`` is True (and over heads unless ``per_head``).

    ``branch`` 0 is the fine branch, ``k`` the k-th coarse branch (scale ``cfg.scales[k-1]``): there a token
    stands for ``s`` fine steps, so the query tokens are those of the selected frames (``frames[:, ::s]``)
    and the returned offsets are in fine steps (``s * r``).
    Returns ``(offsets (2L-1,), mean term (2L-1,)`` or ``(H, 2L-1)`` with ``per_head``). Needs ``pos="relative"``."""
    if frames.shape != mask.shape or not frames.any():
        raise ValueError(f"frames must be a non-empty bool (N, T) = {tuple(mask.shape)}, got {tuple(frames.shape)}")
    n_coarse = 0 if model.cfg.fine_only else len(model.cfg.scales)
    if not 0 <= branch <= n_coarse:
        raise ValueError(f"branch must be 0 (fine) .. {n_coarse} (coarse scales {model.cfg.scales}), got {branch}")
    br = model.fine if branch == 0 else model.coarse[branch - 1]
    stride = 1 if branch == 0 else model.cfg.scales[branch - 1]  # hierarchical wiring also ends at scale s
    if not 0 <= block < len(br.blocks):
        raise ValueError(f"block must be in [0, {len(br.blocks)}), got {block}")
    attn = br.blocks[block].attn
    if attn.pos != "relative":
        raise ValueError(f"this branch has pos={attn.pos!r}; a relative table is needed")
    seen = {}
    hook = attn.register_forward_pre_hook(lambda mod, args: seen.setdefault("z", args[0]))
    model.eval()(x, mask)
    hook.remove()
    z = seen["z"]
    B, N, D = z.shape
    q = attn.q(z).reshape(B, N, attn.heads, attn.d_h)  # (B,N,H,d)
    term = (q @ attn.table.T) * attn.d_h ** -0.5  # (B,N,H,2L-1)
    sel = frames[:, ::stride][:, :N].bool()
    if not sel.any():
        raise ValueError("none of the selected frames falls on a token of this branch")
    term = term[sel].mean(0)  # (H, 2L-1)
    L = (attn.table.shape[0] + 1) // 2
    offsets = stride * np.arange(-(L - 1), L)
    return offsets, (term if per_head else term.mean(0)).numpy()


# ------------------------------------------------------------------------- experiment ----

VARIANTS = {  # name -> PATConfig overrides; every variant gets the same data, steps and optimiser
    "PAT": {},
    "PAT, official skew": {"pos": "skew"},
    "no positional term": {"pos": "none"},
    "no position, no local conv": {"pos": "none", "local_conv": False},
    "absolute sinusoidal PE": {"pos": "absolute"},
    "hierarchical (MS-TCT wiring)": {"hierarchical": True},
    "fine only": {"fine_only": True},
    # the positive control of the long-range world: no position at all, but the true order of every X
    # frame as one more input channel (worlds.timelines.with_oracle)
    "oracle order channel (no position)": {"pos": "none"},
}
ORACLE = ("oracle order channel (no position)",)
SHORT_VARIANTS = [v for v in VARIANTS if v not in ORACLE]  # the committed short-range run (data/pat/variants.pt)
WORLDS = ("short-range", "long-range")


def variant_config(base: PATConfig, name: str) -> PATConfig:
    """The network of variant ``name``: ``base`` with its overrides (one more input channel for the oracle)."""
    if name not in VARIANTS:
        raise KeyError(f"unknown PAT variant {name!r}; choose from {list(VARIANTS)}")
    return replace(base, **VARIANTS[name], **({"in_dim": base.in_dim + 1} if name in ORACLE else {}))


def variant_data(name: str, data):
    """The inputs variant ``name`` sees: ``data`` itself, or with the true-order channel for the oracle."""
    from paperlab.worlds import timelines

    return timelines.with_oracle(data) if name in ORACLE else data


def world_data(n: int, seed: int, world: str, T: int, dim: int):
    """``n`` videos of a world, trimmed of all-padding trailing steps (the long-range videos end by step 176).

    ``short-range``: the original world (gap 10-20, T = 64); ``long-range``: gap 40-56, lengths 160-176 (T = 256)."""
    from paperlab.worlds import timelines

    if world not in WORLDS:
        raise ValueError(f"world must be one of {WORLDS}, got {world!r}")
    wcfg = timelines.TimelineConfig(T=T, dim=dim) if world == "short-range" else timelines.long_range(T, dim)
    data = timelines.generate(n, seed, wcfg)
    return data if world == "short-range" else timelines.trim(data)


@dataclass(frozen=True)
class TrainConfig:
    """The shared budget: every variant sees the same videos, epochs, batch size and learning rate."""

    n_train: int = 256
    epochs: int = 15
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-2
    data_seed: int = 0
    bce: bool = False
    world: str = "short-range"  # or "long-range" (issue 32): see world_data


def train_one(model_cfg: PATConfig, data, seed: int, tcfg: TrainConfig, progress: bool = False,
              sharded: bool = False, device: str = "cpu"):
    """Train one model from ``seed`` (init and shuffling) on ``data`` (a ``Timelines``); returns (model, History).

    ``sharded=False`` (the committed run) shuffles with a plain DataLoader. ``sharded=True`` draws the
    minibatches from :func:`paperlab.core.distributed.loader` (``batch_size`` is the global batch): under
    torchrun every rank gets its share of each batch and DDP averages the gradients, so any number of
    processes dividing the batch gives the one-process weights up to float summation order (dropout
    masks aside: each rank draws its own). The two samplers order the data differently.
    """
    from paperlab.core import distributed as D
    from paperlab.core.seeding import seed_everything
    from paperlab.core.train import fit

    seed_everything(seed)
    model = PAT(model_cfg).to(device)
    x, y, m = data.tensors()
    ds = torch.utils.data.TensorDataset(x, y, m)
    if sharded:
        loader = D.loader(ds, tcfg.batch_size, shuffle=True, seed=seed)
    else:
        loader = torch.utils.data.DataLoader(ds, batch_size=tcfg.batch_size, shuffle=True,
                                             generator=torch.Generator().manual_seed(seed))
    steps = tcfg.epochs * len(loader)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tcfg.lr, total_steps=steps, pct_start=0.15)
    if not sharded:
        loss_fn = lambda mod, b: pat_loss(mod, *(t.to(device) for t in b), bce=tcfg.bce)  # noqa: E731
    else:
        def loss_fn(mod, b):
            xb, yb, mb = (t.to(device) for t in b)
            # the loss is a mean over the batch's real steps; ranks hold different numbers of them, so
            # rescale each rank's mean so that DDP's gradient average is the gradient of the global mean
            return pat_loss(mod, xb, yb, mb, bce=tcfg.bce) * D.share_of_global(mb.sum())
    hist = fit(model, loss_fn, loader, epochs=tcfg.epochs, optimizer=opt, scheduler=sched, progress=progress,
               desc=f"seed {seed}")
    return model, hist


def train_variant(name: str, seed: int, data, tcfg: TrainConfig, base: PATConfig, sharded: bool = False,
                  device: str = "cpu") -> dict:
    """One job of :func:`train_all`: variant ``name`` from ``seed``; float16 state dict on the cpu.

    Module-level (importable), seeded only from its arguments: what ``run_many`` spreads over processes."""
    from paperlab.core import distributed as D

    t1 = time.time()
    model, hist = train_one(variant_config(base, name), variant_data(name, data), seed, tcfg, sharded=sharded,
                            device=device)
    if D.rank() == 0:  # data-parallel: rank 0 speaks for the run (its share of the last batch's loss)
        print(f"{name} seed {seed}: final loss {hist.train_loss[-1]:.4f} ({time.time() - t1:.0f} s)", flush=True)
    return {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
            for k, v in model.state_dict().items()}


def train_all(variants=None, seeds=(0, 1, 2), tcfg: TrainConfig | None = None, base: PATConfig | None = None,
              progress: bool = True, workers: int = 1, sharded: bool = False, device: str = "cpu",
              mapper=None, variant_seeds: dict | None = None) -> dict:
    """Train every variant x seed; returns a checkpoint dict (state dicts, configs, wall time).

    The variant x seed runs are independent: ``workers`` > 1 spreads them over local processes (and
    under torchrun the ranks split them), with the same weights as ``workers=1``. ``mapper(fn, jobs,
    common)`` replaces that spreading (the CLI passes :meth:`paperlab.core.cli.Run.map`).
    ``variant_seeds``: variant -> its own seeds (e.g. one seed for a positive control), else ``seeds``.
    """
    from paperlab.core import distributed as D

    tcfg, base = tcfg or TrainConfig(), base or PATConfig()
    variants = list(variants or VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise KeyError(f"unknown PAT variants {unknown}; choose from {list(VARIANTS)}")
    data = world_data(tcfg.n_train, tcfg.data_seed, tcfg.world, base.T, base.in_dim)
    out = {"train": asdict(tcfg), "base": asdict(base), "variants": {}, "seeds": list(seeds)}
    variant_seeds = variant_seeds or {}
    jobs = [{"name": name, "seed": seed} for name in variants for seed in variant_seeds.get(name, seeds)]
    common = {"data": data, "tcfg": tcfg, "base": base, "sharded": sharded, "device": device}
    mapper = mapper or D.mapper_for(workers)
    t0 = time.time()
    states = mapper(train_variant, jobs, common)
    for job, state in zip(jobs, states):
        out["variants"][f"{job['name']}|{job['seed']}"] = state
    out["wall_s"] = time.time() - t0
    return out


def load_model(ckpt: dict, name: str, seed: int) -> PAT:
    """Rebuild one trained variant from a checkpoint dict made by ``train_all``."""
    key = f"{name}|{seed}"
    if key not in ckpt["variants"]:
        raise KeyError(f"no checkpoint for variant {name!r} seed {seed}; have {sorted(ckpt['variants'])}")
    base = ckpt["base"]
    base = PATConfig(**{**base, "scales": tuple(base["scales"])})
    model = PAT(variant_config(base, name))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["variants"][key].items()})
    return model.eval()


CHECKPOINT = "pat/variants.pt"
COMMAND = "python -m paperlab.pat train"

# What `python -m paperlab.pat train --profile P` trains. cpu is the committed run (data/pat/variants.pt,
# which the notebook loads in every profile); smoke is a seconds-long check of the command; gpu is the
# paper's width (card: T 256, D 512, 8 heads, 3 blocks, mlp ratio 8, 1024-d inputs, Adam lr 1e-4) on a
# larger synthetic world. Its n_train, epochs, batch 32 and OneCycle schedule are our choices, not the paper's.
PROFILE_RUNS = {
    "smoke": dict(tcfg=TrainConfig(n_train=32, epochs=1, batch_size=16), base=PATConfig(),
                  variants=["PAT", "fine only"], seeds=(0, 1)),
    "cpu": dict(tcfg=TrainConfig(), base=PATConfig(), variants=list(SHORT_VARIANTS), seeds=(0, 1, 2)),
    "gpu": dict(tcfg=TrainConfig(n_train=2048, epochs=30, batch_size=32, lr=1e-4),
                base=PATConfig(in_dim=1024, T=256, dim=512, heads=8, blocks=3, mlp_ratio=8, input_dropout=0.5,
                               head_dropout=0.5),
                variants=list(VARIANTS), seeds=(0, 1, 2)),
}


# The long-range world (issue 32): the order pair's gap (40-56 steps) and the video's edges lie beyond the
# convolutions' reach (videos of 160-176 steps, trimmed from T = 256). cpu: PAT and the no-position network x 3
# seeds and the oracle control x 1 seed; 1,024 videos, 40 epochs = 2,560 optimiser steps per model, with the
# official initialisation. In pilot runs (seed 0, 50-epoch schedule) PAT's B/B' mAP stayed near the order-blind
# level for 10 epochs and then jumped within 5 (to ~87 %); 20-epoch schedules decayed the learning rate before
# that and never got there. The absolute-PE arm is the second file (--tag absolute).
LONG_VARIANTS = ["PAT", "no positional term", "oracle order channel (no position)"]
LONG_BASE = PATConfig(T=256, init="official")
LONG_RUNS = {
    "smoke": dict(tcfg=TrainConfig(n_train=32, epochs=1, batch_size=16, world="long-range"),
                  base=LONG_BASE, variants=["PAT", "oracle order channel (no position)"], seeds=(0, 1)),
    "cpu": dict(tcfg=TrainConfig(n_train=1024, epochs=40, world="long-range"), base=LONG_BASE,
                variants=LONG_VARIANTS, seeds=(0, 1, 2), variant_seeds={"oracle order channel (no position)": (0,)}),
    "gpu": dict(tcfg=TrainConfig(n_train=4096, epochs=30, batch_size=32, lr=1e-4, world="long-range"),
                base=PATConfig(in_dim=1024, T=256, dim=512, heads=8, blocks=3, mlp_ratio=8, input_dropout=0.5,
                               head_dropout=0.5, init="official"),
                variants=list(VARIANTS), seeds=(0, 1, 2)),
}
RUNS = {"short-range": PROFILE_RUNS, "long-range": LONG_RUNS}
LONG_CHECKPOINT = "pat/long-range.pt"


def checkpoint_name(profile: str = "cpu", sharded: bool = False, world: str = "short-range", tag: str = "") -> str:
    """``pat/variants.pt`` (short-range) or ``pat/long-range.pt`` for the committed cpu runs; other runs
    (another profile, data-parallel, or a ``tag`` for extra variants) get their own file and registry entry."""
    if tag and not tag.replace("-", "").isalnum():
        raise ValueError(f"tag must be letters, digits and '-', got {tag!r}")
    if world not in RUNS:
        raise ValueError(f"world must be one of {list(RUNS)}, got {world!r}")
    if profile not in PROFILE_RUNS:
        raise ValueError(f"profile must be one of {list(PROFILE_RUNS)}, got {profile!r}")
    tag = ("" if profile == "cpu" else f"-{profile}") + ("-sharded" if sharded else "") + (f"-{tag}" if tag else "")
    return (CHECKPOINT if world == "short-range" else LONG_CHECKPOINT).replace(".pt", f"{tag}.pt")


def load_or_train_all(retrain: bool | None = None, profile: str = "cpu", seeds=None, workers: int = 1,
                      sharded: bool = False, device: str = "cpu", mapper=None, command: str | None = None,
                      world: str = "short-range", variants=None, tag: str = "") -> dict:
    """The committed checkpoints (verified by sha256), or train and register them.

    The notebook calls this with the defaults (the cpu run, ``pat/variants.pt``); ``python -m paperlab.pat
    train`` calls it with ``retrain=True`` and the command line's profile, seeds and parallel layout."""
    from paperlab.core import distributed as D
    from paperlab.core.train import load_or_train

    name = checkpoint_name(profile, sharded, world, tag)  # also rejects an unknown profile or world
    spec = RUNS[world][profile]
    variant_seeds = spec.get("variant_seeds") if seeds is None else None  # --seeds applies to every variant
    seeds = tuple(spec["seeds"] if seeds is None else seeds)
    variants = list(spec["variants"] if variants is None else variants)
    variant_seeds = {k: v for k, v in (variant_seeds or {}).items() if k in variants}
    command = command or COMMAND + ("" if world == "short-range" else f" --world {world}")

    def _train():
        ckpt = train_all(variants, seeds, spec["tcfg"], spec["base"], workers=workers, sharded=sharded,
                         device=device, mapper=mapper, variant_seeds=variant_seeds)
        if D.is_main_process():
            print(f"trained {len(ckpt['variants'])} models in {ckpt['wall_s']:.0f} s")
        return ckpt

    return load_or_train(name, _train, retrain=retrain, command=command,
                         seeds=list(seeds), variants=variants, world=world,
                         variant_seeds={k: list(v) for k, v in (variant_seeds or {}).items()} or None)


def load_long_range(retrain: bool | None = None) -> dict:
    """The committed long-range checkpoints (``pat/long-range.pt``), merged with the absolute-PE arm
    (``pat/long-range-absolute.pt``) when that optional file is registered."""
    from paperlab.core import assets

    ckpt = load_or_train_all(retrain, world="long-range")
    extra = checkpoint_name(world="long-range", tag="absolute")
    if extra in assets.load_registry():
        other = load_or_train_all(False, world="long-range", tag="absolute")
        if other["base"] != ckpt["base"] or other["train"] != ckpt["train"]:
            raise ValueError(f"{extra} was trained with another configuration than {LONG_CHECKPOINT}")
        ckpt = {**ckpt, "variants": {**ckpt["variants"], **other["variants"]}}
    return ckpt


def main(argv=None) -> None:
    from paperlab.core import cli

    ap = cli.parser("python -m paperlab.pat", "Train PAT variants x seeds (load-or-train).",
                    parallel=("jobs", "data"))
    ap.add_argument("--world", choices=WORLDS, default="short-range",
                    help="short-range: the T=64 world of data/pat/variants.pt; long-range: the 40-56 step "
                         "order gap of data/pat/long-range.pt (issue 32)")
    ap.add_argument("--tag", default="", help="suffix of the checkpoint file (extra variants in their own file)")
    ap.add_argument("--variants", nargs="+", default=None, metavar="NAME",
                    help=f"variants to train (default: the world's and profile's list); from {list(VARIANTS)}")

    def body(args, run):
        sharded = run.parallel == "data"
        unknown = [v for v in args.variants or [] if v not in VARIANTS]
        if unknown:
            ap.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
        if sharded:  # fail before any training when the batch does not split over the ranks
            from paperlab.core.distributed import check_global_batch

            check_global_batch(RUNS[args.world][run.profile.name]["tcfg"].batch_size, run.world)
        command = " ".join([COMMAND, *([f"--world {args.world}"] if args.world != "short-range" else []),
                            *([f"--profile {run.profile.name}"] if run.profile.name != "cpu" else []),
                            *([f"--seeds {' '.join(map(str, run.seeds))}"] if run.seeds else []),
                            *([f"--variants {' '.join(repr(v) for v in args.variants)}"] if args.variants else []),
                            *([f"--tag {args.tag}"] if args.tag else []),
                            *(["--parallel data"] if sharded else [])])
        load_or_train_all(retrain=True, profile=run.profile.name, seeds=run.seeds, sharded=sharded,
                          device=run.device, mapper=run.map, command=command, world=args.world,
                          variants=args.variants, tag=args.tag)

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()


# -------------------------------------------------------------------------- exercises ----

def order_blind_share(labels) -> float:
    """Exercise 1's expected value: the share of X frames labelled B (class 1) among all X frames (B or B')
    in ``labels (N, T, K)``. An order-blind model gives every X frame one score, so B's AP is this share."""
    y = np.asarray(labels)
    if y.ndim != 3 or y.shape[-1] < 3:
        raise ValueError(f"labels must be (N, T, K) with K >= 3 (classes B = 1 and B' = 2), got shape {y.shape}")
    b, bp = float(y[..., 1].sum()), float(y[..., 2].sum())
    if b + bp == 0:
        raise ValueError("labels hold no X frame (no B or B' label): pass the test split's labels")
    return b / (b + bp)


def check_exercise(n: int, answer, **ctx) -> str:
    """The notebook's exercise checks (1-5); each prints not attempted / incorrect / close / correct.

    Exercise 1 needs ``labels=`` (the test split's ``(N, T, K)`` labels); exercise 3 takes ``T=`` (default 64).
    """
    from paperlab.core import checks

    if n == 1:  # order-blind AP of B = share of B among the X frames (ties are one threshold)
        if not checks._attempted(answer):
            return checks.check_close("exercise 1", answer, 0.0)
        if "labels" not in ctx:
            raise ValueError("exercise 1 needs the test split's labels: pat.check_exercise(1, answer_1, labels=test_s.labels)")
        # tight: the answer is exactly the share (~0.55 on the test set), and 0.5 / 1 - share must not pass
        return checks.check_close("exercise 1", answer, order_blind_share(ctx["labels"]), rtol=0.01, close_rtol=0.05,
                                  hint="all X frames get the same score; what fraction of them are B?")
    if n == 2:
        return checks.check_equal("exercise 2", answer, 0, hint="pad one zero column on the left, then reshape")
    if n == 3:
        return checks.check_equal("exercise 3", answer, 2 * (ctx.get("T", 64) // 8) - 1,
                                  hint="offsets run from -(L-1) to L-1 with L = T/8")
    if n == 4:
        return checks.check_close("exercise 4", answer, (0.65, 0.325), rtol=1e-3, close_rtol=0.2,
                                  hint="(sum / number of non-zero APs, sum / number of classes)")
    if n == 5:
        g = torch.Generator().manual_seed(5)
        cases = [(torch.randn(1, 2, n_, 4, generator=g), torch.randn(2 * 6 - 1, 4, generator=g)) for n_ in (3, 6)]
        return checks.check_function("exercise 5", answer, relative_bias, cases,
                                     hint="S[..., i, j] = q[..., i, :] @ table[L - 1 + j - i]")
    raise ValueError(f"exercise number must be 1-5, got {n}")


SOLUTIONS = {
    1: ("""An order-blind model gives every X frame the same score for B and every other frame a lower one. sklearn
treats tied scores as one threshold, so B's average precision is the precision at that threshold: the share of
X frames that are B. We compute it from the test labels and confirm it with sklearn on the same scores.""",
        """from sklearn.metrics import average_precision_score
from paperlab.worlds import timelines as tl

test_s = tl.generate(256, seed=100)  # the notebook's short-range test split
y = test_s.labels[test_s.mask]  # (real frames, classes)
x_frames = (y[:, 1] + y[:, 2]) > 0  # frames labelled B or B'
order_blind = x_frames.astype(float)  # one score for every X frame, lower elsewhere
answer_1 = float(y[:, 1].sum() / (y[:, 1].sum() + y[:, 2].sum()))
print(f"share of B among X frames {answer_1:.4f}; sklearn AP {average_precision_score(y[:, 1], order_blind):.4f}")
verdict = pat.check_exercise(1, answer_1, labels=test_s.labels)"""),
    2: ("""The skew trick computes Q E^T, pads one zero column on the left and reshapes. With no causal mask, the
entry just above the diagonal lands on that padded zero: S[i, i+1] = 0 for every i, whatever q and E are.""",
        """torch.manual_seed(0)
q, table = torch.randn(1, 1, 5, 4), torch.randn(8, 4)
S = pat.skew_bias(q, table)[0, 0]
print("S[i, i+1] =", S.diagonal(1).tolist())
answer_2 = 0
verdict = pat.check_exercise(2, answer_2)"""),
    3: ("""The scale-8 branch sees T/8 = 8 steps, so its offsets run from -(8-1) to 8-1: 2 * 8 - 1 = 15 rows.""",
        """T = 64
L = T // 8
answer_3 = 2 * L - 1
verdict = pat.check_exercise(3, answer_3, T=T)"""),
    4: ("""The official averaging divides the sum of APs by the number of non-zero APs (here 2, the classes with a
positive); the plain mean divides by all 4 classes.""",
        """ap = np.array([0.8, 0.0, 0.5, 0.0])
answer_4 = (ap.sum() / (ap > 0).sum(), ap.mean())
print(answer_4)
verdict = pat.check_exercise(4, answer_4)"""),
    5: ("""Row L-1+r of the table holds offset r = j - i, so S[..., i, j] = q[..., i, :] . table[L-1+j-i]; with
L = (rows + 1) / 2. A double loop over i and j is enough (`pat.relative_bias` does the same with one gather).""",
        """def my_relative_bias(q, table):
    N = q.shape[-2]
    L = (table.shape[0] + 1) // 2
    out = torch.zeros(*q.shape[:-1], N)
    for i in range(N):
        for j in range(N):
            out[..., i, j] = q[..., i, :] @ table[L - 1 + j - i]
    return out

verdict = pat.check_exercise(5, my_relative_bias)"""),
}


# ----------------------------------------------------------------------- figures, explorer ----

def plot_wiring(axes=None):
    """The method figure: PAT's non-hierarchical multi-scale wiring, the hierarchical MS-TCT wiring and the
    fine-only network, side by side (the three networks the wiring claims compare), labelled with this
    module's names (``PAT.fine``, ``PAT.coarse[k]``, ``mix_coarse``, ``head_fine`` / ``head_coarse``, ``fuse``)."""
    import matplotlib.pyplot as plt

    from paperlab.core.plots import block_diagram

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 4.8), dpi=80)
    grey, coarse_c, out_c = "#eeeeee", "#fdebd0", "#d5f5e3"
    common = {"x": (0.5, 0.96, "x (B, T, D0)", grey),
              "fine": (0.5, 0.8, "fine = Branch(stride 1)\nRPT blocks with e_{j-i}"),
              "hf": (0.1, 0.58, "mix_fine,\nhead_fine\n-> Y_fine")}
    out = {"out": (0.5, 0.03, "fuse: sigmoid(0.1 Y_fine\n+ 0.9 Y_coarse)", out_c)}
    mix = {"mix": (0.6, 0.18, "mix_coarse + Up,\nsum, head_coarse\n-> Y_coarse")}
    flat = {f"c{s}": (x, 0.5, f"coarse[{k}]\nstride {s}\nof fine", coarse_c)
            for k, (s, x) in enumerate(zip((2, 4, 8), (0.4, 0.65, 0.9)))}
    chain = {"c2": (0.39, 0.62, "coarse[0]\nstride 2\nof fine", coarse_c),
             "c4": (0.65, 0.47, "coarse[1]\nstride 2 of\ncoarse[0]", coarse_c),
             "c8": (0.9, 0.37, "coarse[2]\nstride 2 of\ncoarse[1]", coarse_c)}
    base = [("x", "fine"), ("fine", "hf"), ("hf", "out")]
    block_diagram({**common, **flat, **mix, **out},
                  base + [("fine", f"c{s}") for s in (2, 4, 8)] + [(f"c{s}", "mix") for s in (2, 4, 8)] + [("mix", "out")],
                  ax=axes[0], title="PAT: non-hierarchical (every scale reads fine)")
    block_diagram({**common, **chain, **mix, **out},
                  base + [("fine", "c2"), ("c2", "c4"), ("c4", "c8")] + [(f"c{s}", "mix") for s in (2, 4, 8)]
                  + [("mix", "out")],
                  ax=axes[1], title="hierarchical (MS-TCT wiring): a chain")
    block_diagram({**common, "out": (0.5, 0.03, "sigmoid(Y_fine)", out_c)}, base, ax=axes[2],
                  title="fine only: no coarse branches")
    return axes


@torch.no_grad()
def relative_term_for_query(model: PAT, x: torch.Tensor, mask: torch.Tensor, video: int, query: int,
                            block: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The relative logit q_i . e_{j-i} / sqrt(d_h) that the fine branch's ``block`` adds to the attention of
    step ``query`` (= i) of one video towards every key j, averaged over heads. Returns ``(keys j, term)``,
    each ``(T,)``. Needs ``pos="relative"``."""
    attn = model.fine.blocks[block].attn
    if attn.pos != "relative":
        raise ValueError(f"the fine branch has pos={attn.pos!r}; a relative table is needed")
    T = x.shape[1]
    if not 0 <= video < len(x) or not 0 <= query < T:
        raise ValueError(f"video must be in [0, {len(x)}) and query in [0, {T}), got {video}, {query}")
    seen = {}
    hook = attn.register_forward_pre_hook(lambda mod, args: seen.setdefault("z", args[0]))
    model.eval()(x[video:video + 1], mask[video:video + 1])
    hook.remove()
    q = attn.q(seen["z"][0, query]).reshape(attn.heads, attn.d_h)  # (H, d)
    L = (attn.table.shape[0] + 1) // 2
    keys = np.arange(T)
    rows = attn.table[torch.as_tensor(L - 1 + keys - query)]  # e_{j-i} for every key j: (T, d)
    return keys, ((q @ rows.T).mean(0) * attn.d_h ** -0.5).numpy()


def plot_query_offsets(models: dict, data, video: int, query: int, block: int = 0, axes=None):
    """Explorer view: the label timeline of one video (anchor A, B, B') with the query step marked, and
    below it each model's relative logit towards every key j for that query (``relative_term_for_query``)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8, 4.2), dpi=80, sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    x, y, m = data.tensors()
    L = int(m[video].sum())
    query = min(query, L - 1)
    for c in range(3):
        on = np.flatnonzero(data.labels[video, :, c])
        axes[0].scatter(on, np.full(len(on), c), marker="|", s=60, color=f"C{c}")
    axes[0].axvline(query, color="k", lw=1)
    axes[0].set_yticks(range(3), data.class_names[:3], fontsize=7)
    axes[0].set_ylim(-0.6, 2.6)
    axes[0].set_title(f"video {video} ({L} real steps): labels, query step i = {query} (black line)", fontsize=9)
    anchor = np.flatnonzero(data.labels[video, :, 0])
    for name, model in models.items():
        keys, term = relative_term_for_query(model, x, m, video, query, block)
        axes[1].plot(keys[:L], term[:L], label=name)
    if len(anchor):
        axes[1].axvspan(anchor.min(), anchor.max(), color="C0", alpha=0.15, label="anchor A")
    axes[1].axvline(query, color="k", lw=1)
    axes[1].set_xlabel("key step j (the offset is j − i)")
    axes[1].set_ylabel("relative logit\nq_i·e_{j−i}/√d_h")
    axes[1].legend(fontsize=7, loc="upper right")
    return axes


