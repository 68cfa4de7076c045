"""Clouds: synthetic multi-temporal cloud removal tiles, and a Sen2_MTC loader.

A stand-in for Sen2_MTC (Huang & Wu, ICIP 2022) as used by PMAA (Zou et al., ECAI 2023, arXiv
2303.16565): every sample is three cloudy acquisitions of one place plus one clear target, 4 bands
(blue, green, red, near-infrared), reflectance in [0, 1].

* **terrain** -- fractal (fBm) height and moisture fields give land-cover classes (water, bare soil,
  grass, forest, urban blocks) with plausible per-band reflectances (NIR high for vegetation, low for
  water), plus fine texture.
* **dates** -- each date has a small gain/offset and a seasonal change of vegetation NIR.
* **clouds** -- thresholded fBm with soft edges (thick cores, opacity ~1) plus thin haze (0.2-0.5),
  brightening towards a grey-white cloud colour, with a displaced dark shadow. A *shared* cloud
  component is added to all three dates so that ~5-10 % of pixels are cloudy on every date: there
  the model must inpaint, not just pick the clear date.

Everything is deterministic from ``seed``; the exact opacities are returned as ``masks``.

``load_sen2mtc`` reads the real layout (``<root>/{train,val,test}.txt`` listing tiles,
``<root>/Sen2_MTC/<tile>/cloud/<name>_{0,1,2}.tif``, ``<root>/Sen2_MTC/<tile>/cloudless/<name>.tif``,
H x W x 4 uint16, reflectance x 10000), as the official ``dataset_new.py`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BANDS = ("blue", "green", "red", "nir")
CLASSES = ("water", "bare soil", "grass", "forest", "urban")
# per-class reflectance (B, G, R, NIR); vegetation has a high NIR plateau, water absorbs NIR
REFLECTANCE = np.array([
    [0.06, 0.05, 0.03, 0.02],
    [0.10, 0.13, 0.18, 0.26],
    [0.04, 0.09, 0.05, 0.34],
    [0.03, 0.05, 0.03, 0.44],
    [0.16, 0.16, 0.17, 0.21],
], dtype=np.float32)
CLOUD_COLOUR = np.array([0.62, 0.62, 0.64, 0.66], dtype=np.float32)


@dataclass(frozen=True)
class CloudConfig:
    """Sizes and cloud statistics of the world."""

    size: int = 32
    dates: int = 3
    coverage: tuple[float, float] = (0.2, 0.6)  # own clouds per date
    shared: tuple[float, float] = (0.02, 0.06)  # cloud fraction present on all dates
    haze: float = 0.35  # mean opacity of thin haze
    shadow: float = 0.45  # darkening inside a cloud shadow

    def __post_init__(self):
        if self.size < 8 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 8, got {self.size}")
        if self.dates != 3:
            raise ValueError(f"dates must be 3 (PMAA's multi-temporal input), got {self.dates}")


def fbm(rng: np.random.Generator, n: int, size: int, beta: float) -> np.ndarray:
    """n fractal fields (n, size, size) in [0, 1] by spectral synthesis: amplitude ~ 1 / f^beta."""
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    radius[0, 0] = 1.0
    spec = (rng.standard_normal((n, size, size)) + 1j * rng.standard_normal((n, size, size))) / radius ** beta
    spec[:, 0, 0] = 0.0
    field = np.fft.ifft2(spec).real
    lo, hi = field.min(axis=(1, 2), keepdims=True), field.max(axis=(1, 2), keepdims=True)
    return ((field - lo) / (hi - lo + 1e-12)).astype(np.float32)


def terrain(rng: np.random.Generator, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Clean tiles (n, 4, size, size) and their land-cover map (n, size, size) of class ids."""
    height, moist = fbm(rng, n, size, 2.2), fbm(rng, n, size, 2.0)
    cls = np.full((n, size, size), 2, dtype=np.int64)  # grass
    cls[moist > 0.62] = 3  # forest
    cls[moist < 0.35] = 1  # bare soil
    yy, xx = np.mgrid[:size, :size]
    blocks = ((yy // 3) % 3 != 0) & ((xx // 3) % 3 != 0)  # a street grid
    cls[(height > 0.72) & blocks[None]] = 4  # urban
    cls[height < 0.25] = 0  # water
    img = REFLECTANCE[cls].transpose(0, 3, 1, 2).copy()  # (n, 4, S, S)
    texture = fbm(rng, n, size, 1.0)[:, None] - 0.5
    img *= 1.0 + 0.25 * texture  # fine multiplicative texture
    return np.clip(img, 0.0, 1.0), cls


def cloud_opacity(rng: np.random.Generator, n: int, size: int, cover: np.ndarray, haze: float) -> np.ndarray:
    """Soft cloud opacity (n, size, size) in [0, 1]: a core covering ``cover`` of the tile plus thin haze."""
    field = fbm(rng, n, size, 2.4)
    flat = np.sort(field.reshape(n, -1), axis=1)
    idx = np.clip(((1.0 - cover) * (size * size - 1)).astype(np.int64), 0, size * size - 1)
    thr = flat[np.arange(n), idx][:, None, None]  # the (1 - cover) quantile of each field
    core = np.clip((field - thr) / 0.08 + 0.5, 0.0, 1.0)  # soft edge ~0.08 wide in field units
    hz = fbm(rng, n, size, 2.0)
    thin = haze * np.clip((hz - 0.55) / 0.15, 0.0, 1.0) * rng.uniform(0.5, 1.4, (n, 1, 1))
    return np.clip(np.maximum(core, thin), 0.0, 1.0).astype(np.float32)


def add_clouds(clean: np.ndarray, alpha: np.ndarray, shift: tuple[int, int], shadow: float,
               brightness: float) -> np.ndarray:
    """One cloudy date: x = (1 - a) * clean * shadow + a * brightness * cloud colour.

    ``clean`` (n, 4, S, S), ``alpha`` (n, S, S); the shadow is the opacity rolled by ``shift``.
    """
    a = alpha[:, None]
    shade = 1.0 - shadow * np.roll(a, shift, axis=(2, 3)) * (1.0 - a)
    return np.clip((1.0 - a) * clean * shade + a * brightness * CLOUD_COLOUR[None, :, None, None], 0.0, 1.0)


def generate(n: int, seed: int, cfg: CloudConfig | None = None) -> dict[str, np.ndarray]:
    """``n`` samples: ``x`` (n, 3, 4, S, S) cloudy dates, ``y`` (n, 4, S, S) clear target,
    ``masks`` (n, 3, 1, S, S) cloud opacities, ``landcover`` (n, S, S); all float32 in [0, 1]."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    cfg = cfg or CloudConfig()
    rng = np.random.default_rng(seed)
    S, T = cfg.size, cfg.dates
    y, cls = terrain(rng, n, S)
    shared = cloud_opacity(rng, n, S, rng.uniform(*cfg.shared, n), haze=0.0)
    veg = np.isin(cls, (2, 3))[:, None]
    xs, masks = [], []
    for _ in range(T):
        gain = rng.normal(1.0, 0.04, (n, 1, 1, 1)).astype(np.float32)
        offset = rng.normal(0.0, 0.008, (n, 1, 1, 1)).astype(np.float32)
        season = np.ones((n, 4, 1, 1), np.float32)
        season[:, 3] += rng.uniform(-0.12, 0.12, (n, 1, 1))  # vegetation NIR changes with the season
        clean_t = np.clip(y * np.where(veg, season, 1.0) * gain + offset, 0.0, 1.0)
        alpha = np.maximum(cloud_opacity(rng, n, S, rng.uniform(*cfg.coverage, n), cfg.haze), shared)
        shift = tuple(int(v) for v in rng.integers(-S // 8, S // 8 + 1, 2))
        xs.append(add_clouds(clean_t, alpha, shift, cfg.shadow, float(rng.uniform(0.85, 1.15))))
        masks.append(alpha[:, None])
    return {"x": np.stack(xs, 1).astype(np.float32), "y": y.astype(np.float32),
            "masks": np.stack(masks, 1).astype(np.float32), "landcover": cls}


def all_cloudy(masks: np.ndarray, thr: float = 0.5) -> np.ndarray:
    """Boolean (n, S, S): pixels with opacity > ``thr`` on every date (inpainting, not selection)."""
    return (masks[:, :, 0] > thr).all(axis=1)


def to_model_range(a: np.ndarray) -> np.ndarray:
    """Reflectance [0, 1] -> the model's [-1, 1] (the official loader's (r/10000 - 0.5) / 0.5)."""
    return a * 2.0 - 1.0


# ------------------------------------------------------------------------ real Sen2_MTC ----

def _read_tif(path: Path) -> np.ndarray:
    import tifffile

    img = tifffile.imread(path)
    if img.ndim != 3 or img.shape[-1] != 4:
        raise ValueError(f"{path}: expected an H x W x 4 image (B, G, R, NIR), got shape {img.shape}")
    return (img.astype(np.float32) / 10000.0).transpose(2, 0, 1)


def load_sen2mtc(root: str | Path, split: str = "test", limit: int | None = None) -> dict[str, np.ndarray]:
    """Read Sen2_MTC (new) into ``x`` (n, 3, 4, H, W) and ``y`` (n, 4, H, W), reflectance clipped to [0, 1].

    No augmentation here: the official loader's flip/rotation codes are indexed by a read counter,
    not by the sample; apply augmentation jointly to one sample's four images instead.
    """
    root = Path(root)
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    listing = root / f"{split}.txt"
    if not listing.exists():
        raise FileNotFoundError(f"{listing} not found; expected the Sen2_MTC layout <root>/{split}.txt")
    xs, ys = [], []
    for tile in np.loadtxt(listing, dtype=str, ndmin=1):
        base = root / "Sen2_MTC" / str(tile)
        for target in sorted((base / "cloudless").glob("*.tif")):
            dates = [_read_tif(base / "cloud" / f"{target.stem}_{t}.tif") for t in range(3)]
            xs.append(np.stack(dates))
            ys.append(_read_tif(target))
            if limit is not None and len(xs) >= limit:
                break
        if limit is not None and len(xs) >= limit:
            break
    if not xs:
        raise FileNotFoundError(f"no samples found under {root} for split {split!r}")
    return {"x": np.clip(np.stack(xs), 0, 1), "y": np.clip(np.stack(ys), 0, 1)}


def write_sample(root: str | Path, n: int = 2, size: int = 32, seed: int = 0) -> Path:
    """Write a tiny synthetic sample in the Sen2_MTC layout (for testing ``load_sen2mtc``)."""
    import tifffile

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data = generate(n, seed, CloudConfig(size=size))
    tile = "T00AAA_R000"
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text(tile + "\n")
    for i in range(n):
        name = f"{tile}_{i}"
        for sub in ("cloud", "cloudless"):
            (root / "Sen2_MTC" / tile / sub).mkdir(parents=True, exist_ok=True)
        u16 = lambda a: (a.transpose(1, 2, 0) * 10000).round().astype(np.uint16)  # noqa: E731
        for t in range(3):
            tifffile.imwrite(root / "Sen2_MTC" / tile / "cloud" / f"{name}_{t}.tif", u16(data["x"][i, t]))
        tifffile.imwrite(root / "Sen2_MTC" / tile / "cloudless" / f"{name}.tif", u16(data["y"][i]))
    return root
