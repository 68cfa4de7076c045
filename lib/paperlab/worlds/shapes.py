"""The captioned shapes world: small rendered images of coloured shapes, with captions and styles.

It stands in for the web-scale image-text pairs that CLIP (Radford et al., ICML 2021, arXiv
2103.00020) is pretrained on, and for the downstream datasets (ImageNet, fine-grained sets,
ImageNet-Sketch/-R/-A style domain shifts) that CoOp/CoCoOp, MuDPT and the latent-modality paper
evaluate on. Every concept is known exactly, so every number can be interpreted.

Vocabulary (stable constants; other modules index into them)::

    SHAPES   = circle square triangle star cross heart crescent ring   (8)
    COLORS   = red orange yellow green cyan blue purple pink            (8)
    TEXTURES = plain striped checkered dotted                           (4 background textures)
    SIZES    = small large
    STYLES   = photo sketch noisy blurred    (photo is the default; the others are domain shifts)
    HELD_OUT_COMBOS: 8 (color, shape) pairs never shown in pretraining (each color and shape once)

The pieces (all deterministic from a seed: same seed, same pixels):

* ``sample_scenes(n, seed, ...) -> Scenes``: attributes and continuous parameters of n scenes.
* ``render(scenes, image_size=32) -> torch.Tensor`` of shape (N, 3, H, W), float32, **raw [0, 1]
  pixels** (not normalized; ``paperlab.clip.normalize`` applies the model's mean/std).
* ``CaptionPolicy``: which attributes a caption names and with what probability
  (``policy.caption(scenes, i, rng)``, ``policy.captions(scenes, seed)``).
* ``pretrain_batch(n, seed, policy=..., image_size=32) -> (images, captions)``: a fresh
  pretraining batch, mostly photos plus a small share of styled images captioned as such
  ("a sketch of ..."), never showing a held-out combo.
* ``dataset(name, style="photo", image_size=32) -> ShapesDataset`` for ``name`` in ``DATASETS``
  (shape, color, texture, combo, size_shape, shape_texture). A dataset has ``classnames``, a fixed ``base``/``new`` split
  (half/half, CoCoOp protocol), prompt ``templates``, ``train(k_shot=None|1|2|4|8|16, seed,
  subset)`` and ``test(subset)``, each returning a ``Split(images, labels, classnames, scenes)``
  whose labels index ``classnames`` of that subset.

Example::

    from paperlab.worlds import shapes
    ds = shapes.dataset("combo")
    few = ds.train(k_shot=4, seed=0, subset="base")   # 4 images x 32 base combos
    test_new = ds.test(subset="new")                    # new combos of known words
    sketch = shapes.dataset("shape", style="sketch").test()
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np
import torch
from scipy import ndimage

SHAPES = ("circle", "square", "triangle", "star", "cross", "heart", "crescent", "ring")
COLORS = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink")
TEXTURES = ("plain", "striped", "checkered", "dotted")
BACKGROUNDS = TEXTURES  # alias: the background is described by its texture
SIZES = ("small", "large")
STYLES = ("photo", "sketch", "noisy", "blurred")
IMAGE_SIZES = (32, 64)

COLOR_RGB = {
    "red": (0.90, 0.12, 0.10), "orange": (1.00, 0.55, 0.05), "yellow": (0.95, 0.90, 0.10),
    "green": (0.15, 0.72, 0.20), "cyan": (0.10, 0.85, 0.90), "blue": (0.15, 0.25, 0.95),
    "purple": (0.58, 0.15, 0.80), "pink": (1.00, 0.50, 0.75),
}
# Each color and each shape is held out exactly once: (COLORS[i], SHAPES[(3 i + 1) mod 8]).
HELD_OUT_COMBOS = tuple((COLORS[i], SHAPES[(3 * i + 1) % 8]) for i in range(8))
STYLE_PREFIX = {"photo": ("a photo of", "an image of", "a picture of"), "sketch": ("a sketch of", "a drawing of"),
                "noisy": ("a noisy photo of",), "blurred": ("a blurry photo of",)}
PRETRAIN_STYLE_PROBS = {"photo": 0.85, "sketch": 0.05, "noisy": 0.05, "blurred": 0.05}
_SUPERSAMPLE = 2


def _index(name: str, vocab: tuple[str, ...], what: str) -> int:
    if name not in vocab:
        raise ValueError(f"unknown {what} {name!r}; expected one of {list(vocab)}")
    return vocab.index(name)


def _check_size(image_size: int) -> int:
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {image_size!r}")
    return image_size


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


@dataclass
class Scenes:
    """Attributes (indices into the vocabularies) and render parameters of N scenes; arrays of shape (N,)."""

    shape: np.ndarray
    color: np.ndarray
    texture: np.ndarray
    size: np.ndarray
    style: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    angle: np.ndarray
    radius: np.ndarray
    bg_level: np.ndarray
    bg_contrast: np.ndarray
    period: np.ndarray
    tex_angle: np.ndarray
    tex_phase: np.ndarray
    color_jitter: np.ndarray  # (N, 3)
    noise_seed: np.ndarray

    def __len__(self) -> int:
        return len(self.shape)

    def subset(self, idx) -> Scenes:
        return Scenes(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def names(self, i: int) -> dict[str, str]:
        """The attribute names of scene ``i`` (shape, color, texture, size, style)."""
        return {"shape": SHAPES[self.shape[i]], "color": COLORS[self.color[i]], "texture": TEXTURES[self.texture[i]],
                "size": SIZES[self.size[i]], "style": STYLES[self.style[i]]}

    def held_out(self) -> np.ndarray:
        """Boolean (N,): is the scene's (color, shape) pair one of ``HELD_OUT_COMBOS``?"""
        pairs = {(_index(c, COLORS, "color"), _index(s, SHAPES, "shape")) for c, s in HELD_OUT_COMBOS}
        return np.array([(c, s) in pairs for c, s in zip(self.color, self.shape)], dtype=bool)


def _choice(rng: np.random.Generator, vocab: tuple[str, ...], allowed, n: int, what: str) -> np.ndarray:
    allowed = vocab if allowed is None else ([allowed] if isinstance(allowed, str) else list(allowed))
    idx = np.array([_index(a, vocab, what) for a in allowed])
    return idx[rng.integers(0, len(idx), n)]


def sample_scenes(n: int, seed: int | np.random.Generator = 0, *, shapes=None, colors=None, textures=None,
                  sizes=None, style: str | dict[str, float] = "photo", exclude_combos=()) -> Scenes:
    """Sample ``n`` scenes; attributes are uniform over the allowed names (default: all).

    ``style`` is one style name or a dict {style: probability}. ``exclude_combos`` lists
    (color, shape) pairs to resample (used to hold combos out of pretraining).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    shape = _choice(rng, SHAPES, shapes, n, "shape")
    color = _choice(rng, COLORS, colors, n, "color")
    for c, s in exclude_combos:  # resample excluded (color, shape) pairs until none is left
        ci, si = _index(c, COLORS, "color"), _index(s, SHAPES, "shape")
        for _ in range(100):
            bad = (color == ci) & (shape == si)
            if not bad.any():
                break
            shape[bad] = _choice(rng, SHAPES, shapes, int(bad.sum()), "shape")
    probs = {style: 1.0} if isinstance(style, str) else dict(style)
    for s in probs:
        _index(s, STYLES, "style")
    p = np.array(list(probs.values()), dtype=float)
    style_idx = np.array([STYLES.index(s) for s in probs])[rng.choice(len(p), n, p=p / p.sum())]
    size = _choice(rng, SIZES, sizes, n, "size")
    radius = np.where(size == 0, rng.uniform(0.19, 0.23, n), rng.uniform(0.28, 0.34, n))
    return Scenes(
        shape=shape, color=color, texture=_choice(rng, TEXTURES, textures, n, "texture"), size=size,
        style=style_idx, cx=rng.uniform(radius, 1 - radius), cy=rng.uniform(radius, 1 - radius),
        angle=rng.uniform(0, 2 * np.pi, n), radius=radius, bg_level=rng.uniform(0.3, 0.7, n),
        bg_contrast=rng.choice([-1.0, 1.0], n) * rng.uniform(0.18, 0.28, n), period=rng.uniform(0.16, 0.24, n),
        tex_angle=rng.uniform(0, np.pi, n), tex_phase=rng.uniform(0, 1, n),
        color_jitter=rng.uniform(-0.06, 0.06, (n, 3)), noise_seed=rng.integers(0, 2**31 - 1, n),
    )


def _shape_inside(kind: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Implicit shape in local coordinates (unit radius): True inside. x, y: (H, W)."""
    r, th = np.hypot(x, y), np.arctan2(y, x)
    name = SHAPES[kind]
    if name == "circle":
        return r < 0.9
    if name == "square":
        return np.maximum(np.abs(x), np.abs(y)) < 0.72
    if name == "triangle":  # regular polygon: max over edge normals
        return np.max([x * np.cos(a) + y * np.sin(a) for a in np.pi / 2 + 2 * np.pi * np.arange(3) / 3], 0) < 0.48
    if name == "star":  # five points: radius between 0.42 and 1.0 with angle
        t = np.mod(th * 5 / (2 * np.pi), 1.0)
        return r < 0.42 + 0.58 * np.abs(2 * t - 1) ** 1.5
    if name == "cross":
        return ((np.abs(x) < 0.88) & (np.abs(y) < 0.3)) | ((np.abs(x) < 0.3) & (np.abs(y) < 0.88))
    if name == "heart":
        u, v = x / 0.8, -y / 0.8 + 0.2
        return (u**2 + v**2 - 1) ** 3 - u**2 * v**3 < 0
    if name == "crescent":
        return (r < 0.9) & (np.hypot(x - 0.45, y) > 0.72)
    if name == "ring":
        return np.abs(r - 0.62) < 0.26
    raise ValueError(f"unknown shape index {kind}")  # pragma: no cover


def _texture_mask(s: Scenes, i: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Second-tone mask of the background texture of scene i on grid (u, v) in [0, 1]."""
    name, p = TEXTURES[s.texture[i]], s.period[i]
    ca, sa = np.cos(s.tex_angle[i]), np.sin(s.tex_angle[i])
    a, b = (u * ca + v * sa) / p + s.tex_phase[i], (-u * sa + v * ca) / p + s.tex_phase[i]
    if name == "plain":
        return np.zeros_like(u, dtype=bool)
    if name == "striped":
        return np.mod(a, 1.0) < 0.45
    if name == "checkered":
        return (np.floor(a) + np.floor(b)) % 2 == 0
    return np.hypot(np.mod(a, 1.0) - 0.5, np.mod(b, 1.0) - 0.5) < 0.22  # dotted


def _edges(mask: np.ndarray, width: int) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, iterations=width, border_value=1)


def _render_one(s: Scenes, i: int, image_size: int) -> np.ndarray:
    """(H, W, 3) float image of scene i, in [0, 1]."""
    g = image_size * _SUPERSAMPLE
    u, v = np.meshgrid((np.arange(g) + 0.5) / g, (np.arange(g) + 0.5) / g)
    ca, sa = np.cos(s.angle[i]), np.sin(s.angle[i])
    dx, dy = (u - s.cx[i]) / s.radius[i], (v - s.cy[i]) / s.radius[i]
    inside = _shape_inside(int(s.shape[i]), ca * dx + sa * dy, -sa * dx + ca * dy)
    tex = _texture_mask(s, i, u, v)
    rgb = np.clip(np.array(COLOR_RGB[COLORS[s.color[i]]]) + s.color_jitter[i], 0, 1)
    style = STYLES[s.style[i]]
    if style == "sketch":  # outlines only: texture edges in grey, shape outline in its colour, on white
        img = np.full((g, g, 3), 0.95)
        img[_edges(tex, 1)] = 0.6
        img[ndimage.binary_dilation(inside, iterations=1) & ~inside] = 0.95
        img[_edges(inside, 3)] = rgb
    else:
        level = s.bg_level[i] + s.bg_contrast[i] * tex
        img = np.repeat(level[..., None], 3, axis=2)
        img[inside] = rgb
    img = img.reshape(image_size, _SUPERSAMPLE, image_size, _SUPERSAMPLE, 3).mean(axis=(1, 3))
    noise_rng = np.random.default_rng(int(s.noise_seed[i]))
    if style == "blurred":
        img = ndimage.gaussian_filter(img, sigma=(1.2 * image_size / 32, 1.2 * image_size / 32, 0))
    sigma = 0.22 if style == "noisy" else 0.02
    return np.clip(img + sigma * noise_rng.standard_normal(img.shape), 0, 1)


def render(scenes: Scenes, image_size: int = 32) -> torch.Tensor:
    """Render scenes -> float32 tensor (N, 3, H, W) of raw pixels in [0, 1] (H = W = image_size)."""
    _check_size(image_size)
    imgs = np.stack([_render_one(scenes, i, image_size) for i in range(len(scenes))])
    return torch.from_numpy(imgs.astype(np.float32)).permute(0, 3, 1, 2).contiguous()


def render_one(shape: str, color: str, texture: str = "plain", size: str = "large", style: str = "photo",
               seed: int = 0, image_size: int = 32) -> torch.Tensor:
    """One named scene (random position/rotation from ``seed``) -> (3, H, W) in [0, 1]."""
    s = sample_scenes(1, seed, shapes=shape, colors=color, textures=texture, sizes=size, style=style)
    return render(s, image_size)[0]


@dataclass(frozen=True)
class CaptionPolicy:
    """Which attributes a caption names, each with a probability (the latent-modality notebook varies these).

    A caption is ``[prefix] article [size] [color] shape|"shape" [on a <texture> background]``, e.g.
    "a photo of a small red star on a striped background", "a red star", "a sketch of a ring".
    ``p_style`` is the probability that a photo is introduced by "a photo of"/"an image of"; styled
    images (sketch, noisy, blurred) always name their style with ``p_style_other``.
    """

    p_shape: float = 0.9
    p_color: float = 0.9
    p_size: float = 0.4
    p_texture: float = 0.5
    p_style: float = 0.5
    p_style_other: float = 1.0

    def __post_init__(self):
        for f in fields(self):
            val = getattr(self, f.name)
            if not 0.0 <= float(val) <= 1.0:
                raise ValueError(f"CaptionPolicy.{f.name} must be a probability in [0, 1], got {val!r}")

    def caption(self, scenes: Scenes, i: int, rng: np.random.Generator) -> str:
        """The caption of scene ``i``, drawn with ``rng``."""
        a = scenes.names(i)
        words = []
        if rng.random() < self.p_size:
            words.append(a["size"])
        if rng.random() < self.p_color:
            words.append(a["color"])
        words.append(a["shape"] if rng.random() < self.p_shape else "shape")
        text = f"{_article(words[0])} {' '.join(words)}"
        if rng.random() < self.p_texture:
            text += f" on {_article(a['texture'])} {a['texture']} background"
        p = self.p_style if a["style"] == "photo" else self.p_style_other
        if rng.random() < p:
            options = STYLE_PREFIX[a["style"]]
            text = f"{options[rng.integers(len(options))]} {text}"
        return text

    def captions(self, scenes: Scenes, seed: int | np.random.Generator = 0) -> list[str]:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return [self.caption(scenes, i, rng) for i in range(len(scenes))]


DEFAULT_POLICY = CaptionPolicy()


def pretrain_batch(n: int, seed: int, policy: CaptionPolicy = DEFAULT_POLICY, image_size: int = 32,
                   style_probs: dict[str, float] | None = None,
                   hold_out=HELD_OUT_COMBOS) -> tuple[torch.Tensor, list[str]]:
    """A fresh pretraining batch: images (n, 3, H, W) raw in [0, 1] and n captions.

    Styles follow ``style_probs`` (default ``PRETRAIN_STYLE_PROBS``: 85% photos); the (color, shape)
    pairs in ``hold_out`` never appear.
    """
    if not isinstance(policy, CaptionPolicy):
        raise TypeError(f"policy must be a CaptionPolicy, got {type(policy).__name__}")
    rng = np.random.default_rng(seed)
    scenes = sample_scenes(n, rng, style=style_probs or PRETRAIN_STYLE_PROBS, exclude_combos=hold_out)
    return render(scenes, image_size), policy.captions(scenes, rng)


# ----------------------------------------------------------------------------- downstream datasets

@dataclass
class Split:
    """Images (N, 3, H, W) raw in [0, 1], labels (N,) indexing ``classnames``, and the scenes."""

    images: torch.Tensor
    labels: torch.Tensor
    classnames: list[str]
    scenes: Scenes = field(repr=False)

    def __len__(self) -> int:
        return len(self.labels)


_DATASET_SPECS = {
    # name: (attribute(s), templates, base class names; None = checkerboard over the attribute grid)
    "shape": (("shape",), ("a photo of a {}.", "a {}."), ("circle", "triangle", "star", "heart")),
    "color": (("color",), ("a photo of a {} shape.", "a {} shape."), ("red", "yellow", "green", "blue")),
    "texture": (("texture",), ("a photo of a shape on a {} background.",), ("plain", "striped")),
    "combo": (("color", "shape"), ("a photo of a {}.", "a {}."), None),
    # finer-grained combinations whose deciding word pretraining captions name rarely (size: 40% of
    # captions, background: 50%), like real datasets whose class names web captions seldom use
    "size_shape": (("size", "shape"), ("a photo of a {}.", "a {}."), None),
    "shape_texture": (("shape", "texture"), ("a photo of a {}.", "a {}."), None),
}
DATASETS = tuple(_DATASET_SPECS)
SUBSETS = ("all", "base", "new")
K_SHOTS = (1, 2, 4, 8, 16)
_VOCAB = {"shape": SHAPES, "color": COLORS, "texture": TEXTURES, "size": SIZES}


def _classes(name: str) -> list[tuple[str, ...]]:
    """Every combination of the dataset's attribute words, first attribute slowest."""
    return list(itertools.product(*[_VOCAB[a] for a in _DATASET_SPECS[name][0]]))


def _classname(attrs: tuple[str, ...], words: tuple[str, ...]) -> str:
    """'red star', 'small star', 'star on a striped background' (the captions' own word order)."""
    if attrs == ("shape", "texture"):
        return f"{words[0]} on {_article(words[1])} {words[1]} background"
    return " ".join(words)


class ShapesDataset:
    """A downstream classification dataset derived from the world (see ``dataset``)."""

    def __init__(self, name: str, style: str = "photo", image_size: int = 32, n_train_per_class: int = 64,
                 n_test_per_class: int = 50):
        if name not in _DATASET_SPECS:
            raise ValueError(f"unknown dataset {name!r}; expected one of {list(DATASETS)}")
        _index(style, STYLES, "style")
        self.name, self.style, self.image_size = name, style, _check_size(image_size)
        self.attrs, self.templates, base_names = _DATASET_SPECS[name]
        self.templates = list(self.templates)
        self._classes = _classes(name)
        self.classnames = [_classname(self.attrs, c) for c in self._classes]
        if base_names is None:  # combos: checkerboard over the word grid, so every word is on both sides
            self.base = [k for k, c in enumerate(self._classes)
                         if sum(_VOCAB[a].index(w) for a, w in zip(self.attrs, c)) % 2 == 0]
        else:
            self.base = [self.classnames.index(b) for b in base_names]
        self.new = [k for k in range(len(self.classnames)) if k not in self.base]
        self.n_train_per_class, self.n_test_per_class = n_train_per_class, n_test_per_class

    def __repr__(self) -> str:
        return (f"ShapesDataset({self.name!r}, style={self.style!r}, {len(self.classnames)} classes, "
                f"{len(self.base)} base / {len(self.new)} new)")

    def classes(self, subset: str = "all") -> list[int]:
        """Class indices (into ``classnames``) of ``subset`` in ``SUBSETS``."""
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
        return {"all": list(range(len(self.classnames))), "base": self.base, "new": self.new}[subset]

    def _make(self, class_ids: list[int], n_per_class: int, seed: int) -> Split:
        rng = np.random.default_rng(seed)
        parts = []
        for k in class_ids:
            kw = {a + "s": w for a, w in zip(self.attrs, self._classes[k])}  # e.g. shapes="star"
            parts.append(sample_scenes(n_per_class, rng, style=self.style, **kw))
        scenes = Scenes(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Scenes)})
        labels = torch.arange(len(class_ids)).repeat_interleave(n_per_class)
        return Split(render(scenes, self.image_size), labels, [self.classnames[k] for k in class_ids], scenes)

    def _pool(self, which: str, subset: str) -> Split:
        return _cached_pool(self.name, self.style, self.image_size, which, subset,
                            self.n_train_per_class if which == "train" else self.n_test_per_class)

    def train(self, k_shot: int | None = None, seed: int = 0, subset: str = "base") -> Split:
        """The training split of ``subset`` (default base classes, as in CoCoOp), or ``k_shot`` images
        per class drawn from it with ``seed`` (k in ``K_SHOTS``)."""
        pool = self._pool("train", subset)
        if k_shot is None:
            return pool
        if k_shot not in K_SHOTS:
            raise ValueError(f"k_shot must be one of {K_SHOTS} or None, got {k_shot!r}")
        rng = np.random.default_rng(seed)
        n = self.n_train_per_class
        idx = np.concatenate([c * n + rng.choice(n, k_shot, replace=False) for c in range(len(pool.classnames))])
        return Split(pool.images[idx], pool.labels[idx], pool.classnames, pool.scenes.subset(idx))

    def sample(self, subset: str = "all", n_per_class: int = 50, seed: int = 0) -> Split:
        """A fresh labelled sample of ``subset`` (``n_per_class`` per class) drawn with ``seed``: for
        repeating an evaluation over several test draws (seeds are offset by 100_000, away from the fixed splits)."""
        if not isinstance(n_per_class, int) or n_per_class < 1:
            raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}")
        return self._make(self.classes(subset), n_per_class, seed=100_000 + seed)

    def test(self, subset: str = "all") -> Split:
        """The fixed test split of ``subset`` (``n_test_per_class`` images per class)."""
        return self._pool("test", subset)


@lru_cache(maxsize=64)
def _cached_pool(name: str, style: str, image_size: int, which: str, subset: str, n: int) -> Split:
    ds = ShapesDataset(name, style, image_size)
    # the seed does not depend on the style: every style renders the same scenes (paired domain shift)
    base_seed = {"train": 1_000, "test": 2_000}[which] + 10 * DATASETS.index(name)
    return ds._make(ds.classes(subset), n, seed=base_seed * 7 + SUBSETS.index(subset))


def dataset(name: str, style: str = "photo", image_size: int = 32) -> ShapesDataset:
    """The downstream dataset ``name`` (one of ``DATASETS``) rendered in ``style``."""
    return ShapesDataset(name, style, image_size)
