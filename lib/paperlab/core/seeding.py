"""Seeds and deterministic settings."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 0, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch; make torch deterministic where it can be. Returns the seed."""
    import torch

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return seed


def rng(seed: int) -> np.random.Generator:
    """A NumPy generator for world-building code (never the global state)."""
    return np.random.default_rng(seed)
