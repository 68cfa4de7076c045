"""sklearn digits as a small image world: loading, stratified splits, clean-set draws, and
backdoor poisoning (patch and blended triggers; all-to-one and X2X label maps).

Images are ``(N, 1, 8, 8)`` float32 tensors in [0, 1] (sklearn's grey levels 0..16 divided by 16),
labels ``(N,)`` int64. Everything is deterministic from a seed. A CIFAR-10 loader for the gpu
profile reads CIFAR's python-pickle batches through ``torchvision.datasets.CIFAR10`` (no download
unless asked); ``data/samples/cifar10/`` holds a tiny file in that format for the tests.

Poisoning follows the backdoor literature's data-poisoning threat model (BadNets, Gu et al. 2017;
blended triggers, Chen et al. 2017) as crafted in the MMAC code (``attacks_crafting.py``): a
poisoned copy *replaces* its clean original in the training set and carries the attacker's label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlab.core.seeding import rng

N_CLASSES = 10
IMAGE_SHAPE = (1, 8, 8)
CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
MODES = ("all_to_one", "x2x")


# ----------------------------------------------------------------------------- loading and splits
def load(flatten: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 sklearn digits: images ``(N, 1, 8, 8)`` (or ``(N, 64)``) in [0, 1], labels ``(N,)``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.long)
    return (x.flatten(1) if flatten else x), y


def split(x: torch.Tensor, y: torch.Tensor, seed: int, fractions=(0.6, 0.2, 0.2)) -> dict[str, tuple]:
    """Stratified train/val/test split (sklearn). Returns ``{"train": (x, y), "val": ..., "test": ...}``."""
    from sklearn.model_selection import train_test_split

    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    _check_xy(x, y)
    idx = np.arange(len(y))
    tr, rest = train_test_split(idx, train_size=fractions[0], random_state=seed, stratify=y.numpy())
    val_share = fractions[1] / (fractions[1] + fractions[2])
    va, te = train_test_split(rest, train_size=val_share, random_state=seed, stratify=y.numpy()[rest])
    return {name: (x[i], y[i]) for name, i in (("train", tr), ("val", va), ("test", te))}


def draw_per_class(x: torch.Tensor, y: torch.Tensor, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A clean set of ``per_class`` images of every class present, drawn without replacement."""
    _check_xy(x, y)
    if not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be a positive int, got {per_class!r}")
    g = rng(seed)
    picks = []
    for c in torch.unique(y).tolist():
        idx = np.flatnonzero(y.numpy() == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} images, fewer than per_class={per_class}")
        picks.append(g.choice(idx, per_class, replace=False))
    sel = torch.as_tensor(np.sort(np.concatenate(picks)))
    return x[sel], y[sel]


# ----------------------------------------------------------------------------- triggers
@dataclass(frozen=True)
class Trigger:
    """A backdoor trigger: ``x_triggered = (1 - mask) * x + mask * pattern`` (both ``(C, H, W)``).

    A patch trigger has a 0/1 mask on a few pixels; a blended trigger has a constant mask ``alpha``
    everywhere and a noise pattern (Chen et al. 2017's blending)."""

    pattern: torch.Tensor
    mask: torch.Tensor
    name: str = "trigger"


def patch_trigger(size: int = 2, corner: str = "bottom_right", value: float = 1.0,
                  image_shape=IMAGE_SHAPE) -> Trigger:
    """A ``size x size`` square of grey level ``value`` in one corner (BadNets-style)."""
    c, h, w = image_shape
    if not isinstance(size, int) or size < 1 or size > min(h, w):
        raise ValueError(f"trigger size must be an int in [1, {min(h, w)}] for a {h}x{w} image, got {size!r}")
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {CORNERS}, got {corner!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"trigger value must lie in [0, 1] (the image range), got {value}")
    rows = slice(0, size) if corner.startswith("top") else slice(h - size, h)
    cols = slice(0, size) if corner.endswith("left") else slice(w - size, w)
    mask = torch.zeros(image_shape)
    mask[:, rows, cols] = 1.0
    return Trigger(pattern=mask * value, mask=mask, name=f"patch {size}x{size} {corner.replace('_', '-')}")


def blended_trigger(alpha: float = 0.2, seed: int = 0, image_shape=IMAGE_SHAPE) -> Trigger:
    """A fixed uniform-noise image blended into every pixel with weight ``alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    pattern = torch.as_tensor(rng(seed).random(image_shape), dtype=torch.float32)
    return Trigger(pattern=pattern, mask=torch.full(image_shape, float(alpha)), name=f"blended noise (alpha={alpha:g})")


def apply_trigger(x: torch.Tensor, trigger: Trigger) -> torch.Tensor:
    """Stamp ``trigger`` on images ``x`` of shape ``(N, C, H, W)`` in [0, 1]; returns a new tensor."""
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(x.shape)}")
    if tuple(trigger.pattern.shape) != tuple(x.shape[1:]):
        raise ValueError(f"trigger of shape {tuple(trigger.pattern.shape)} does not fit images of shape "
                         f"{tuple(x.shape[1:])}")
    check_range(x)
    return ((1 - trigger.mask) * x + trigger.mask * trigger.pattern).clamp(0, 1)


# ----------------------------------------------------------------------------- poisoning
def attack_labels(y: torch.Tensor, mode: str, target: int = 0, n_classes: int = N_CLASSES) -> torch.Tensor:
    """The label an attack wants: ``target`` (all-to-one) or ``(y + 1) mod K`` (X2X, all-to-next)."""
    if mode == "all_to_one":
        return torch.full_like(y, target)
    if mode == "x2x":
        return (y + 1) % n_classes
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def attacked_mask(y: torch.Tensor, mode: str, target: int = 0) -> torch.Tensor:
    """Which images an attack can act on: non-target classes (all-to-one) or all (X2X)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return y != target if mode == "all_to_one" else torch.ones_like(y, dtype=torch.bool)


def poison(x: torch.Tensor, y: torch.Tensor, trigger: Trigger, rate: float, mode: str = "all_to_one",
           target: int = 0, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Poison a training set: a fraction ``rate`` of the attackable images (per source class) get
    the trigger and the attack label, replacing their clean originals.

    Returns ``(x_poisoned, y_poisoned, is_poisoned)`` with the same shapes as ``(x, y)``."""
    _check_xy(x, y)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"poison rate must lie in [0, 1], got {rate}")
    g = rng(seed)
    can = attacked_mask(y, mode, target).numpy()
    chosen = np.zeros(len(y), dtype=bool)
    for c in np.unique(y.numpy()[can]):  # the same rate in every source class
        idx = np.flatnonzero(can & (y.numpy() == c))
        chosen[g.choice(idx, int(round(rate * len(idx))), replace=False)] = True
    sel = torch.as_tensor(chosen)
    xp, yp = x.clone(), y.clone()
    xp[sel] = apply_trigger(x[sel], trigger)
    yp[sel] = attack_labels(y[sel], mode, target)
    return xp, yp, sel


# ----------------------------------------------------------------------------- checks
def check_range(x: torch.Tensor, low: float = 0.0, high: float = 1.0) -> None:
    """Images must lie in the trained input range [low, high]; error naming the range found."""
    if x.numel() == 0:
        raise ValueError("no images given")
    lo, hi = float(x.min()), float(x.max())
    if lo < low - 1e-6 or hi > high + 1e-6:
        raise ValueError(f"images must lie in [{low}, {high}] (the trained input range), found [{lo:.3g}, {hi:.3g}]")


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"x and y must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"need x of shape (N, ...) and y of shape (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if len(y) == 0:
        raise ValueError("empty data set")


# ----------------------------------------------------------------------------- CIFAR-10 (gpu profile)
def load_cifar10(root: str | Path, train: bool = True, download: bool = False,
                 verify: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 through ``torchvision.datasets.CIFAR10``: images ``(N, 3, 32, 32)`` in [0, 1], labels ``(N,)``.

    No normalisation, as in the MMAC code (its bounds start at 1.0 for [0, 1] inputs). ``verify=False``
    skips torchvision's md5 check so the tiny sample under ``data/samples/cifar10/`` (same pickle
    format, fewer images) loads through the same class."""
    from torchvision.datasets import CIFAR10

    cls = CIFAR10 if verify else _unverified_cifar10()
    try:
        ds = cls(root=str(root), train=train, download=download)
    except RuntimeError as exc:
        raise FileNotFoundError(f"no valid CIFAR-10 python batches under {str(root)!r} (expected "
                                f"{Path(root) / 'cifar-10-batches-py'} with torchvision's md5 sums; a sample "
                                f"needs verify=False); pass download=True on a machine with internet") from exc
    x = torch.tensor(ds.data).permute(0, 3, 1, 2).float() / 255.0
    return x, torch.tensor(ds.targets, dtype=torch.long)


def _unverified_cifar10():
    from torchvision.datasets import CIFAR10

    class UnverifiedCIFAR10(CIFAR10):
        """CIFAR10 with the md5 sums removed (file presence is still checked)."""

        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return UnverifiedCIFAR10


def write_cifar10_sample(root: str | Path, n_per_batch: int = 8, seed: int = 0) -> Path:
    """Write a tiny CIFAR-10 look-alike (random uint8 images, python-pickle batches) under ``root``."""
    import pickle

    from torchvision.datasets import CIFAR10

    g = rng(seed)
    base = Path(root) / CIFAR10.base_folder
    base.mkdir(parents=True, exist_ok=True)
    for name, _ in CIFAR10.train_list + CIFAR10.test_list:
        batch = {"batch_label": name, "labels": [int(v) for v in g.integers(0, 10, n_per_batch)],
                 "data": g.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 "filenames": [f"sample_{i}.png" for i in range(n_per_batch)]}
        (base / name).write_bytes(pickle.dumps(batch, protocol=2))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = {"label_names": names, "num_cases_per_batch": n_per_batch, "num_vis": 3072}
    (base / CIFAR10.meta["filename"]).write_bytes(pickle.dumps(meta, protocol=2))
    return base
