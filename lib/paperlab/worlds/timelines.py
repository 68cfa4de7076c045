"""Timelines: synthetic untrimmed "videos" with dense multi-label annotations, and a Charades loader.

A stand-in for Charades / MultiTHUMOS as used by PAT (Sardari et al., ICCVW 2023, arXiv 2308.05051):
each video is a sequence of per-step feature vectors (the paper uses frozen I3D features, 1024-d; we
use ``dim``-d), and every step carries a multi-hot label over ``K`` action classes.

The world is built so that the right answer needs what PAT claims to model:

* **temporal order** -- an event ``X`` always appears near an anchor ``A`` (``gap`` steps apart). ``X``
  is labelled ``B`` when ``A`` came *before* it and ``B'`` (the decoy) when ``A`` comes *after* it.
  ``B`` and ``B'`` share the same feature prototype, so only relative order separates them.
  :func:`long_range` is the world where that gap (40-56 steps), and the video's edges, lie beyond the
  reach of a small PAT's convolutions, so only attention that knows position can use it.
* **co-occurrence** -- a weak-signal action ``C`` only ever happens inside a strong action ``D``.
* **multiple scales** -- background actions last from 3 to 60 steps.

Two test-time transforms: :func:`align_end` moves every video's real steps to the end of the padded
clip (padding first), so absolute positions never seen in training appear while every relative
offset stays the same; :func:`with_oracle` appends the true order as an extra input channel (the
positive control: with order visible locally, any of the networks should separate B from B').

Everything is deterministic from a seed: the class prototypes from ``proto_seed`` (fixed per world),
the videos from ``seed`` (use different seeds for train and test).

``load_charades`` reads real pre-extracted features in the official Charades / MultiTHUMOS annotation
format (``{video_id: {"subset", "duration", "actions": [[class, start_s, end_s], ...]}}`` plus one
``<video_id>.npy`` feature file per video), as the official PAT / MS-TCT loaders do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CLASS_NAMES = (
    "A (anchor)", "B (X after A)", "B' (X before A)", "D (host)", "C (weak, inside D)",
    "short 1", "short 2", "medium", "long 1", "long 2",
)
ORDER_CLASSES = (1, 2)  # B and B': identical features, separable only by the order relative to A
COOC_CLASSES = (3, 4)  # D (strong) and C (weak, always inside D)
_EVENT = (4, 10)  # length range of A, X and C events
_BACKGROUND = {5: (3, 8), 6: (3, 8), 7: (8, 20), 8: (25, 60), 9: (25, 60)}  # class -> duration range


@dataclass(frozen=True)
class TimelineConfig:
    """Sizes of the world. ``T`` is the padded length; real lengths are drawn from ``[min_len, max_len]``
    (``max_len`` None: ``T``)."""

    T: int = 64
    dim: int = 32
    min_len: int = 48
    max_len: int | None = None
    noise: float = 1.0
    amplitude: float = 1.5
    weak_amplitude: float = 0.6
    scene: float = 0.5
    gap: tuple[int, int] = (10, 20)
    margin: int = 0  # the order pair starts and ends at least this many steps inside the real video
    proto_seed: int = 1234
    class_names: tuple[str, ...] = field(default=CLASS_NAMES)

    def __post_init__(self):
        if not 1 <= self.gap[0] <= self.gap[1]:
            raise ValueError(f"gap must be (low, high) with 1 <= low <= high, got {self.gap}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")
        need = self.gap[1] + 2 * _EVENT[1] + 4 + 2 * self.margin
        if self.min_len < need or self.min_len > self.T:
            raise ValueError(f"min_len must be in [{need}, T={self.T}] (room for the order pair with gap up to "
                             f"{self.gap[1]} and a margin of {self.margin} on both sides), got {self.min_len}")
        if self.max_len is not None and not self.min_len <= self.max_len <= self.T:
            raise ValueError(f"max_len must be in [min_len={self.min_len}, T={self.T}], got {self.max_len}")
        if self.dim < 4:
            raise ValueError(f"dim must be >= 4, got {self.dim}")


@dataclass
class Timelines:
    """A batch of videos. ``features (N, T, dim)`` float32, ``labels (N, T, K)`` float32 0/1,
    ``mask (N, T)`` bool (True on real steps, False on padding at the end)."""

    features: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.features)

    def tensors(self):
        """The three arrays as torch tensors (float, float, bool)."""
        import torch

        return torch.from_numpy(self.features), torch.from_numpy(self.labels), torch.from_numpy(self.mask)


def prototypes(cfg: TimelineConfig) -> np.ndarray:
    """One unit feature direction per class, ``(K, dim)``; B and B' share the prototype of X."""
    g = np.random.default_rng(cfg.proto_seed)
    P = g.standard_normal((len(cfg.class_names), cfg.dim))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    P[2] = P[1]  # the decoy B' looks exactly like B
    return P


def _place(g: np.random.Generator, L: int, length: int) -> int:
    return int(g.integers(0, max(1, L - length + 1)))


def _one_video(g: np.random.Generator, cfg: TimelineConfig) -> tuple[np.ndarray, int]:
    """Label timeline ``(T, K)`` of one video and its real length."""
    K, T = len(cfg.class_names), cfg.T
    y = np.zeros((T, K), np.float32)
    L = int(g.integers(cfg.min_len, (cfg.max_len or T) + 1))
    # order pair: A, a gap of `gap` steps, X  (label B) -- or X, gap, A (label B')
    la, lx = (int(g.integers(_EVENT[0], _EVENT[1] + 1)) for _ in range(2))
    gap = int(g.integers(cfg.gap[0], cfg.gap[1] + 1))
    s = cfg.margin + _place(g, L - 2 * cfg.margin, la + gap + lx)
    if g.random() < 0.5:
        y[s:s + la, 0], y[s + la + gap:s + la + gap + lx, 1] = 1, 1
    else:
        y[s:s + lx, 2], y[s + lx + gap:s + lx + gap + la, 0] = 1, 1
    if g.random() < 0.8:  # co-occurrence: C lives inside D
        ld = int(g.integers(15, 41))
        sd = _place(g, L, ld)
        y[sd:sd + ld, 3] = 1
        if g.random() < 0.6:
            lc = int(g.integers(4, 11))
            sc = sd + int(g.integers(0, ld - lc + 1))
            y[sc:sc + lc, 4] = 1
    for c, (lo, hi) in _BACKGROUND.items():
        for _ in range(int(g.poisson(0.8))):
            ln = int(g.integers(lo, hi + 1))
            st = _place(g, L, ln)
            y[st:st + ln, c] = 1
    y[L:] = 0
    return y, L


def generate(n: int, seed: int, cfg: TimelineConfig | None = None) -> Timelines:
    """``n`` videos from ``seed``: features = sum of active prototypes x amplitude + scene + noise.

    x_t = sum_c y_{t,c} a_c p_c + s + sigma * eps_t,  with a_C weak, s a per-video scene offset.
    """
    cfg = cfg or TimelineConfig()
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    g = np.random.default_rng(seed)
    P = prototypes(cfg)
    amp = np.full(len(cfg.class_names), cfg.amplitude)
    amp[4] = cfg.weak_amplitude
    feats = np.zeros((n, cfg.T, cfg.dim), np.float32)
    labels = np.zeros((n, cfg.T, len(cfg.class_names)), np.float32)
    mask = np.zeros((n, cfg.T), bool)
    for i in range(n):
        y, L = _one_video(g, cfg)
        x = (y * amp) @ P + cfg.scene * g.standard_normal(cfg.dim) + cfg.noise * g.standard_normal((cfg.T, cfg.dim))
        x[L:] = 0  # padding is zeros, as in the official collate function
        feats[i], labels[i], mask[i, :L] = x, y, True
    return Timelines(feats, labels, mask, cfg.class_names)


def long_range(T: int = 256, dim: int = 32) -> TimelineConfig:
    """The long-range order world (issue 32): gap 40-56 steps, real lengths 160-176 of ``T`` = 256, and the
    order pair at least 40 steps inside the video at both ends.

    A small PAT's convolutions see about +-36 steps (coarse branch at stride 8: merging, two depthwise
    convolutions, the mixer convolution and the up-sampling, plus the fine branch), so from an X frame the
    anchor is out of their reach, and so is the nearest edge of the video: a network without a positional
    term cannot read the order from where X sits in its clip. Videos end by step 176, which leaves 80-96
    steps of room for :func:`align_end`.
    """
    if T < 256:
        raise ValueError(f"the long-range world needs T >= 256 (videos of 160-176 steps plus room to shift), got {T}")
    return TimelineConfig(T=T, dim=dim, min_len=160, max_len=176, gap=(40, 56), margin=40)


def align_end(data: Timelines) -> Timelines:
    """Move each video's real steps to the end of the clip (padding first): absolute positions shift by
    ``T - L`` while every relative offset is unchanged. ``mask`` marks the moved steps."""
    T = data.mask.shape[1]
    feats, labels, mask = np.zeros_like(data.features), np.zeros_like(data.labels), np.zeros_like(data.mask)
    for i, L in enumerate(data.mask.sum(1)):
        if not data.mask[i, :L].all():
            raise ValueError(f"video {i}: align_end expects padding at the end (real steps first)")
        feats[i, T - L:], labels[i, T - L:], mask[i, T - L:] = data.features[i, :L], data.labels[i, :L], True
    return Timelines(feats, labels, mask, data.class_names)


def trim(data: Timelines, multiple: int = 8) -> Timelines:
    """Drop trailing steps that are padding in every video (keeping a multiple of ``multiple`` steps)."""
    last = int(np.flatnonzero(data.mask.any(0)).max()) + 1
    n = min(data.mask.shape[1], -(-last // multiple) * multiple)
    return Timelines(data.features[:, :n], data.labels[:, :n], data.mask[:, :n], data.class_names)


def order_oracle(data: Timelines) -> np.ndarray:
    """``(N, T)`` float32: +1 on X frames whose anchor came before (B), -1 where it comes after (B'), else 0."""
    return (data.labels[..., ORDER_CLASSES[0]] - data.labels[..., ORDER_CLASSES[1]]).astype(np.float32)


def with_oracle(data: Timelines, scale: float = 3.0) -> Timelines:
    """Append the true order (:func:`order_oracle`, times ``scale``) as one more feature channel."""
    extra = scale * order_oracle(data)[..., None]
    return Timelines(np.concatenate([data.features, extra], -1), data.labels, data.mask, data.class_names)


# ---------------------------------------------------------------- real data (gpu profile) ----

def frame_labels(actions, duration: float, n_feat: int, n_classes: int) -> np.ndarray:
    """Rasterise ``[[class, start_s, end_s], ...]`` to ``(n_feat, n_classes)`` at the feature rate.

    As the official loader: fps = n_feat / duration; step t is positive when start < t / fps < end.
    """
    if duration <= 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration}")
    y = np.zeros((n_feat, n_classes), np.float32)
    fps = n_feat / duration
    t = np.arange(n_feat) / fps
    for cls, start, end in actions:
        if not 0 <= int(cls) < n_classes:
            raise ValueError(f"action class {cls} outside [0, {n_classes}); wrong n_classes?")
        if end < start:
            continue  # the official loader skips these too
        y[(t > start) & (t < end), int(cls)] = 1
    return y


def load_charades(annotation_file: str | Path, feature_dir: str | Path, *, subset: str = "testing",
                  n_classes: int = 157, num_clips: int = 256) -> tuple[Timelines, list[str]]:
    """Pre-extracted features + Charades-format annotations -> padded ``Timelines`` and video ids.

    Features ``<feature_dir>/<id>.npy`` of shape ``(n, D)`` (or the official ``(n, 1, 1, D)``).
    Videos longer than ``num_clips`` are cropped to their first ``num_clips`` steps (the official
    test-time behaviour); shorter ones are zero-padded, with ``mask`` marking the real steps.
    Videos with no feature file or no actions are skipped, as in the official loader.
    """
    ann = json.loads(Path(annotation_file).read_text())
    feats, labels, masks, ids = [], [], [], []
    for vid, meta in ann.items():
        f = Path(feature_dir) / f"{vid}.npy"
        if meta.get("subset") != subset or not f.exists() or not meta.get("actions"):
            continue
        x = np.load(f).astype(np.float32)
        x = x.reshape(x.shape[0], x.shape[-1])
        y = frame_labels(meta["actions"], float(meta["duration"]), len(x), n_classes)
        n = min(len(x), num_clips)
        xp = np.zeros((num_clips, x.shape[1]), np.float32)
        yp = np.zeros((num_clips, n_classes), np.float32)
        m = np.zeros(num_clips, bool)
        xp[:n], yp[:n], m[:n] = x[:n], y[:n], True
        feats.append(xp), labels.append(yp), masks.append(m), ids.append(vid)
    if not ids:
        raise ValueError(f"no video of subset {subset!r} with features found in {feature_dir}")
    dims = {a.shape[1] for a in feats}
    if len(dims) != 1:
        raise ValueError(f"feature files disagree on the feature dimension: {sorted(dims)}")
    names = tuple(f"class {c}" for c in range(n_classes))
    return Timelines(np.stack(feats), np.stack(labels), np.stack(masks), names), ids
