"""The three run profiles: smoke (CI, seconds), cpu (a laptop, minutes), gpu (Colab).

A notebook reads its sizes from one parameters cell::

    P = paperlab.profile()
    cfg = P.pick(smoke=dict(steps=5), cpu=dict(steps=500), gpu=dict(steps=5000))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

PROFILES = ("smoke", "cpu", "gpu")
ENV_VAR = "PAPERLAB_PROFILE"


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - torch missing is an install error elsewhere
        return False


@dataclass(frozen=True)
class Profile:
    """One of ``smoke``, ``cpu``, ``gpu``; ``pick`` selects the value for the active one."""

    name: str

    def __post_init__(self):
        if self.name not in PROFILES:
            raise ValueError(
                f"unknown profile {self.name!r}; valid profiles are {', '.join(PROFILES)} "
                f"(set {ENV_VAR} to one of them)"
            )

    def pick(self, **options: Any) -> Any:
        """Return ``options[self.name]``; error naming the active profile if it is missing."""
        unknown = sorted(set(options) - set(PROFILES))
        if unknown:
            raise ValueError(f"pick() got unknown profile names {unknown}; valid: {list(PROFILES)}")
        if self.name not in options:
            raise KeyError(
                f"pick() has no value for the active profile {self.name!r} "
                f"(given: {sorted(options)}); add {self.name}=..."
            )
        return options[self.name]

    @property
    def device(self) -> str:
        return "cuda" if self.name == "gpu" and _cuda_available() else "cpu"

    @property
    def claims_are_recorded(self) -> bool:
        """Only the cpu profile's numbers are committed; smoke claims nothing."""
        return self.name == "cpu"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.name


def profile(name: str | None = None) -> Profile:
    """The active profile: ``name``, else ``$PAPERLAB_PROFILE``, else gpu if CUDA else cpu."""
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip() or ("gpu" if _cuda_available() else "cpu")
    return Profile(name)
