"""The real-dataset loaders of the CoOp gpu profile, on tiny samples in the real folder layouts."""

import pytest
import torch
from paperlab.core.paths import data_dir
from paperlab.worlds import realfewshot as R

EUROSAT = data_dir() / "samples" / "eurosat"
PETS = data_dir() / "samples" / "pets"


def test_eurosat_split_names_and_halves():
    ds = R.dataset("eurosat", EUROSAT)
    assert len(ds.classnames) == 10 and ds.classnames[0] == "Annual Crop Land"  # CoOp's NEW_CNAMES
    assert ds.base == list(range(5)) and ds.new == list(range(5, 10))  # CoCoOp: first half is base
    train, test = ds.train(subset="all"), ds.test("all")
    assert len(train) == 20 and len(test) == 10  # 4 per class: 50% / 20% / 30% -> 2 / 1 / 1
    assert not set(train.paths) & set(test.paths)
    new = ds.test("new")
    assert new.classnames == ds.classnames[5:] and set(new.labels.tolist()) == set(range(5))


def test_eurosat_k_shot_is_seeded_and_capped():
    ds = R.dataset("eurosat", EUROSAT)
    a, b = ds.train(k_shot=16, seed=0), ds.train(k_shot=16, seed=0)
    assert a.paths == b.paths and len(a) == 10  # only 2 per class exist: capped, as Dassl does
    assert torch.equal(torch.bincount(a.labels), torch.full((5,), 2))
    one = ds.train(k_shot=1, seed=3)
    assert len(one) == 5


def test_pets_official_lists():
    ds = R.dataset("pets", PETS)
    assert ds.classnames == ["abyssinian", "american bulldog", "american pit bull terrier", "bengal"]
    assert len(ds.train(subset="all")) == 8 and len(ds.test("all")) == 4
    assert ds.templates == ["a photo of a {}, a type of pet."]


def test_load_images_raw_pixels_at_model_size():
    ds = R.dataset("eurosat", EUROSAT)
    x = R.load_images(ds.test("all").paths[:3], 32)
    assert x.shape == (3, 3, 32, 32) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown real dataset"):
        R.dataset("imagenet", EUROSAT)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        R.dataset("eurosat", tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="EuroSAT not found"):
        R.dataset("eurosat", tmp_path)
    with pytest.raises(FileNotFoundError, match="Pets not found"):
        R.dataset("pets", tmp_path)
    ds = R.dataset("eurosat", EUROSAT)
    with pytest.raises(ValueError, match="k_shot"):
        ds.train(k_shot=0)
    with pytest.raises(ValueError, match="subset"):
        ds.test("old")
