"""The three run profiles: smoke (CI, seconds), cpu (a laptop, minutes), gpu (Colab).

A notebook reads its sizes from one parameters cell::

    P = paperlab.profile()
    cfg = P.pick(smoke=dict(steps=5), cpu=dict(steps=500), gpu=dict(steps=5000))

**gpu dry run.** ``PAPERLAB_PROFILE=gpu PAPERLAB_SAMPLES=1`` runs a notebook's gpu code path end to end on the
CPU against the tiny format samples in ``data/samples/`` (no network): ``P.samples`` is true, ``P.data_root(name)``
points at ``data/samples/<name>``, and ``pick`` returns the ``samples=`` option (tiny sizes, same code path as
``gpu``). A notebook with a gpu path gives ``samples=``; one without (pure sympy) gives none and the dry run
uses its ``gpu`` value. CI runs the dry run for every notebook (``make dryrun``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

PROFILES = ("smoke", "cpu", "gpu")
ENV_VAR = "PAPERLAB_PROFILE"
SAMPLES_VAR = "PAPERLAB_SAMPLES"


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
    samples: bool = False

    def __post_init__(self):
        if self.name not in PROFILES:
            raise ValueError(
                f"unknown profile {self.name!r}; valid profiles are {', '.join(PROFILES)} "
                f"(set {ENV_VAR} to one of them)"
            )
        if self.samples and self.name != "gpu":
            raise ValueError(f"{SAMPLES_VAR}=1 is the gpu profile's dry run; use it with {ENV_VAR}=gpu "
                             f"(got {ENV_VAR}={self.name})")

    def pick(self, **options: Any) -> Any:
        """Return ``options[self.name]`` (``options["samples"]`` in the gpu dry run, if given); error naming
        the active profile if it is missing."""
        unknown = sorted(set(options) - set(PROFILES) - {"samples"})
        if unknown:
            raise ValueError(f"pick() got unknown profile names {unknown}; valid: {list(PROFILES)} and 'samples'")
        if self.samples and "samples" in options:
            return options["samples"]
        if self.name not in options:
            raise KeyError(
                f"pick() has no value for the active profile {self.name!r} "
                f"(given: {sorted(options)}); add {self.name}=..."
            )
        return options[self.name]

    def data_root(self, name: str):
        """Where a real dataset lives: ``data/samples/<name>`` in the dry run, else ``data/<name>``."""
        from paperlab.core.paths import data_dir

        root = data_dir() / "samples" / name if self.samples else data_dir() / name
        if self.samples and not root.exists():
            raise FileNotFoundError(f"the gpu dry run has no format sample for {name!r}: {root} is missing")
        return root

    @property
    def device(self) -> str:
        return "cuda" if self.name == "gpu" and _cuda_available() else "cpu"

    @property
    def claims_are_recorded(self) -> bool:
        """Only the cpu profile's numbers are committed; smoke claims nothing."""
        return self.name == "cpu"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.name + (" (dry run on data/samples)" if self.samples else "")


def profile(name: str | None = None) -> Profile:
    """The active profile: ``name``, else ``$PAPERLAB_PROFILE``, else gpu if CUDA else cpu."""
    from paperlab.core.env import env_flag

    if name is None:
        name = os.environ.get(ENV_VAR, "").strip() or ("gpu" if _cuda_available() else "cpu")
    return Profile(name, samples=env_flag(SAMPLES_VAR))


def download_error(dataset: str, url: str, dest, how: str, err: BaseException) -> RuntimeError:
    """The error for a failed dataset download: which dataset, from where, and how to provide it by hand.

    Use as ``except (OSError, URLError) as e: raise download_error("CIFAR-10", URL, root, "unpack ... into", e) from e``.
    """
    return RuntimeError(
        f"could not download {dataset} from {url} ({type(err).__name__}: {err}). "
        f"To provide it by hand: {how} {dest}. On Colab, check that the runtime has internet "
        f"(Runtime > Change runtime type, then re-run). For a dry run without data: {ENV_VAR}=gpu {SAMPLES_VAR}=1."
    )
