"""Real few-shot image datasets for the gpu profile of the CoOp notebook: EuroSAT and Oxford-IIIT Pets.

The files are indexed by torchvision's own dataset classes (``torchvision.datasets.EuroSAT`` and
``OxfordIIITPet``, ``download=False``: nothing is fetched here; on Colab pass ``download=True`` once),
and split the way the official CoOp code (KaiyangZhou/CoOp, ``datasets/``) splits them:

* **EuroSAT** (``<root>/eurosat/2750/<Class>/*.jpg``): CoOp draws a random 50% / 20% / 30% train / val /
  test split per class and stores it in ``split_zhou_EuroSAT.json``; we draw the same proportions per class
  with a fixed seed (the official json is not reachable offline — named difference). Class names are
  CoOp's ``NEW_CNAMES`` ("Annual Crop Land", ...), the prompt is CoOp's "a centered satellite photo of {}."
* **Oxford-IIIT Pets** (``<root>/oxford-iiit-pet/{images,annotations}``): the official ``trainval`` /
  ``test`` lists; class names lower-cased breeds ("american bulldog"); prompt "a photo of a {}, a type of pet."

Base / new classes follow CoCoOp (``subsample_classes``): the first ceil(K/2) labels are base, the rest new.
Images stay on disk: a split is a list of files, loaded in batches as raw [0, 1] tensors of the model's
input size (bicubic resize of the short side + centre crop, CLIP's preprocessing) by ``load_images``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

EUROSAT_NAMES = {  # CoOp datasets/eurosat.py NEW_CNAMES
    "AnnualCrop": "Annual Crop Land", "Forest": "Forest", "HerbaceousVegetation": "Herbaceous Vegetation Land",
    "Highway": "Highway or Road", "Industrial": "Industrial Buildings", "Pasture": "Pasture Land",
    "PermanentCrop": "Permanent Crop Land", "Residential": "Residential Buildings", "River": "River",
    "SeaLake": "Sea or Lake",
}
TEMPLATES = {"eurosat": ("a centered satellite photo of {}.",), "pets": ("a photo of a {}, a type of pet.",)}
DATASETS = tuple(TEMPLATES)
SUBSETS = ("all", "base", "new")


@dataclass
class FileSplit:
    """Image ``paths``, ``labels`` (N,) indexing ``classnames`` of this subset."""

    paths: list[Path]
    labels: torch.Tensor
    classnames: list[str]

    def __len__(self) -> int:
        return len(self.paths)


class RealFewShot:
    """One real dataset with CoOp's splits, CoCoOp's base/new halves and a k-shot sampler."""

    def __init__(self, name: str, root: str | Path, split_seed: int = 1, download: bool = False):
        if name not in TEMPLATES:
            raise ValueError(f"unknown real dataset {name!r}; expected one of {list(DATASETS)}")
        root = Path(root)
        if download:
            root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise FileNotFoundError(f"data root {root} does not exist (download the dataset there first)")
        self.name, self.root, self.templates = name, root, list(TEMPLATES[name])
        if name == "eurosat":
            from torchvision.datasets import EuroSAT

            try:
                ds = EuroSAT(str(root), download=download)
            except RuntimeError as exc:
                raise FileNotFoundError(f"EuroSAT not found under {root}/eurosat/2750 ({exc})") from exc
            self.classnames = [EUROSAT_NAMES.get(c, c) for c in ds.classes]
            paths = np.array([Path(p) for p, _ in ds.samples], dtype=object)
            labels = np.array([y for _, y in ds.samples])
            rng = np.random.default_rng(split_seed)
            parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
            for k in range(len(self.classnames)):
                idx = rng.permutation(np.flatnonzero(labels == k))
                n_tr, n_val = round(0.5 * len(idx)), round(0.2 * len(idx))
                if len(idx) - n_tr - n_val < 1 or n_tr < 1:
                    raise ValueError(f"EuroSAT class {self.classnames[k]!r} has only {len(idx)} images")
                parts["train"] += idx[:n_tr].tolist()
                parts["val"] += idx[n_tr:n_tr + n_val].tolist()
                parts["test"] += idx[n_tr + n_val:].tolist()
            self._files = {s: (list(paths[i]), labels[i]) for s, i in parts.items()}
        else:
            from torchvision.datasets import OxfordIIITPet

            self._files = {}
            for split in ("trainval", "test"):
                try:
                    ds = OxfordIIITPet(str(root), split=split, download=download)
                except RuntimeError as exc:
                    raise FileNotFoundError(f"Oxford-IIIT Pets not found under {root}/oxford-iiit-pet ({exc})") from exc
                self._files["train" if split == "trainval" else "test"] = (list(ds._images), np.array(ds._labels))
            self.classnames = [c.lower() for c in ds.classes]
        n = len(self.classnames)
        self.base, self.new = list(range(math.ceil(n / 2))), list(range(math.ceil(n / 2), n))

    def __repr__(self) -> str:
        return f"RealFewShot({self.name!r}, {len(self.classnames)} classes, {len(self.base)} base / {len(self.new)} new)"

    def classes(self, subset: str = "all") -> list[int]:
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
        return {"all": list(range(len(self.classnames))), "base": self.base, "new": self.new}[subset]

    def _subset(self, which: str, subset: str) -> FileSplit:
        paths, labels = self._files[which]
        keep = self.classes(subset)
        relabel = {k: j for j, k in enumerate(keep)}
        sel = [i for i, y in enumerate(labels) if int(y) in relabel]
        return FileSplit([paths[i] for i in sel], torch.tensor([relabel[int(labels[i])] for i in sel]),
                         [self.classnames[k] for k in keep])

    def train(self, k_shot: int | None = None, seed: int = 0, subset: str = "base") -> FileSplit:
        """The training split of ``subset``, or ``k_shot`` images per class drawn with ``seed``
        (fewer where a class has fewer, as Dassl's ``generate_fewshot_dataset`` does)."""
        pool = self._subset("train", subset)
        if k_shot is None:
            return pool
        if not isinstance(k_shot, int) or k_shot < 1:
            raise ValueError(f"k_shot must be a positive int or None, got {k_shot!r}")
        rng = np.random.default_rng(seed)
        idx = []
        for c in range(len(pool.classnames)):
            members = np.flatnonzero(pool.labels.numpy() == c)
            idx += rng.choice(members, min(k_shot, len(members)), replace=False).tolist()
        return FileSplit([pool.paths[i] for i in idx], pool.labels[idx], pool.classnames)

    def test(self, subset: str = "all") -> FileSplit:
        return self._subset("test", subset)


# where torchvision downloads each real dataset from, and how to provide it by hand (for download_error)
SOURCES = {
    "eurosat": ("torchvision.datasets.EuroSAT's mirror (EuroSAT RGB, EuroSAT.zip)",
                "unzip EuroSAT.zip so that the class folders sit in <root>/eurosat/2750/, with <root> ="),
    "pets": ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/{images,annotations}.tar.gz",
             "unpack images.tar.gz and annotations.tar.gz into <root>/oxford-iiit-pet/, with <root> ="),
}


def dataset(name: str, root: str | Path, download: bool = False) -> RealFewShot:
    """``RealFewShot(name, root)`` for ``name`` in ``DATASETS`` (``download=True``: torchvision fetches it; Colab).

    A failed download is ``profiles.download_error``: the dataset, where from, how to provide it by hand. Without
    ``download`` a missing folder is the loader's own missing-files error."""
    try:
        return RealFewShot(name, root, download=download)
    except OSError as exc:  # URLError is an OSError
        if not download:
            raise
        from paperlab.core.profiles import download_error

        url, how = SOURCES.get(name, ("torchvision's mirror", "unpack the dataset into"))
        raise download_error(name, url, root, how, exc) from exc


def load_images(paths: list[Path], image_size: int) -> torch.Tensor:
    """Files -> (N, 3, S, S) raw [0, 1] pixels: bicubic resize of the short side to S, centre crop (CLIP's)."""
    from PIL import Image
    from torchvision import transforms as T

    if not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an int >= 8, got {image_size!r}")
    tf = T.Compose([T.Resize(image_size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(image_size),
                    T.ToTensor()])
    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append(tf(im.convert("RGB")))
    return torch.stack(out)
