"""Tests for paperlab.worlds.digits: splits, clean draws, triggers, poisoning, CIFAR-10 sample loader."""

from pathlib import Path

import pytest
import torch
from paperlab.worlds import digits as W

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "cifar10"


@pytest.fixture(scope="module")
def xy():
    return W.load()


def test_load_shapes_and_range(xy):
    x, y = xy
    assert x.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert W.load(flatten=True)[0].shape == (1797, 64)


def test_split_is_stratified_and_disjoint(xy):
    sp = W.split(*xy, seed=0)
    sizes = [len(sp[k][1]) for k in ("train", "val", "test")]
    assert sum(sizes) == 1797 and abs(sizes[0] - 0.6 * 1797) < 2
    assert torch.bincount(sp["test"][1]).min() >= 30
    with pytest.raises(ValueError, match="fractions"):
        W.split(*xy, seed=0, fractions=(0.5, 0.5, 0.5))


def test_draw_per_class(xy):
    xc, yc = W.draw_per_class(*xy, per_class=3, seed=1)
    assert torch.equal(torch.bincount(yc), torch.full((10,), 3))
    with pytest.raises(ValueError, match="per_class"):
        W.draw_per_class(*xy, per_class=0, seed=0)
    with pytest.raises(ValueError, match="fewer than"):
        W.draw_per_class(*xy, per_class=1000, seed=0)


def test_patch_trigger_stamps_corner(xy):
    x, _ = xy
    t = W.patch_trigger(2, "bottom_right")
    xt = W.apply_trigger(x[:5], t)
    assert torch.all(xt[:, :, -2:, -2:] == 1.0)
    assert torch.equal(xt[:, :, :6, :], x[:5, :, :6, :])


def test_blended_trigger_mixes_everywhere(xy):
    x, _ = xy
    t = W.blended_trigger(0.2, seed=0)
    xt = W.apply_trigger(x[:3], t)
    torch.testing.assert_close(xt, 0.8 * x[:3] + 0.2 * t.pattern)


def test_trigger_errors(xy):
    x, _ = xy
    with pytest.raises(ValueError, match="trigger size"):
        W.patch_trigger(9)
    with pytest.raises(ValueError, match="corner"):
        W.patch_trigger(2, "middle")
    with pytest.raises(ValueError, match="does not fit"):
        W.apply_trigger(x[:2], W.patch_trigger(2, image_shape=(1, 4, 4)))
    with pytest.raises(ValueError, match="trained input range"):
        W.apply_trigger(x[:2] * 16, W.patch_trigger(2))
    with pytest.raises(ValueError, match="alpha"):
        W.blended_trigger(1.5)


def test_poison_all_to_one_and_x2x(xy):
    x, y = xy
    t = W.patch_trigger(2)
    xp, yp, sel = W.poison(x, y, t, rate=0.1, mode="all_to_one", target=0, seed=0)
    assert not bool(sel[y == 0].any()), "target-class images are never poisoned in all-to-one"
    assert torch.all(yp[sel] == 0) and torch.equal(yp[~sel], y[~sel])
    assert abs(float(sel[y != 0].float().mean()) - 0.1) < 0.01
    _, yx, selx = W.poison(x, y, t, rate=0.1, mode="x2x", seed=0)
    assert torch.equal(yx[selx], (y[selx] + 1) % 10)
    with pytest.raises(ValueError, match="mode"):
        W.poison(x, y, t, rate=0.1, mode="all_to_all")
    with pytest.raises(ValueError, match="poison rate"):
        W.poison(x, y, t, rate=1.5)


def test_attacked_mask_and_labels():
    y = torch.tensor([0, 1, 9])
    assert W.attacked_mask(y, "all_to_one", 0).tolist() == [False, True, True]
    assert W.attack_labels(y, "x2x").tolist() == [1, 2, 0]


def test_empty_inputs_are_errors():
    with pytest.raises(ValueError, match="empty"):
        W.draw_per_class(torch.zeros(0, 1, 8, 8), torch.zeros(0, dtype=torch.long), 1, 0)
    with pytest.raises(TypeError):
        W.split([1, 2], [1, 2], seed=0)


def test_cifar10_sample_loads_through_torchvision():
    x, y = W.load_cifar10(SAMPLE, train=True, verify=False)
    assert x.shape == (40, 3, 32, 32) and y.shape == (40,)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    xt, _ = W.load_cifar10(SAMPLE, train=False, verify=False)
    assert xt.shape == (8, 3, 32, 32)
    with pytest.raises(FileNotFoundError, match="md5"):
        W.load_cifar10(SAMPLE, train=True, verify=True)


def test_cifar10_sample_writer_roundtrip(tmp_path):
    W.write_cifar10_sample(tmp_path, n_per_batch=3)
    x, y = W.load_cifar10(tmp_path, train=False, verify=False)
    assert x.shape == (3, 3, 32, 32) and y.dtype == torch.long
