import numpy as np
import pytest
import torch
from paperlab.core.seeding import rng, seed_everything


def test_same_seed_same_numbers():
    seed_everything(3)
    a = (torch.rand(4), np.random.rand(4))
    seed_everything(3)
    b = (torch.rand(4), np.random.rand(4))
    torch.testing.assert_close(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_rng_is_independent_of_global_state():
    x = rng(5).random(3)
    np.random.seed(0)
    np.testing.assert_array_equal(x, rng(5).random(3))


def test_bad_seed():
    with pytest.raises(ValueError, match="non-negative"):
        seed_everything(-1)
