"""Where the repository, its data and its reports live."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The repository root: ``$PAPERLAB_HOME`` if set, else the checkout this package sits in."""
    env = os.environ.get("PAPERLAB_HOME")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / "pyproject.toml").exists():
            raise FileNotFoundError(f"PAPERLAB_HOME={env!r} does not contain pyproject.toml")
        return root
    here = Path(__file__).resolve().parents[3]  # lib/paperlab/core/paths.py -> repo
    if (here / "pyproject.toml").exists() and (here / "lib" / "paperlab").exists():
        return here
    raise FileNotFoundError(
        "paperlab is not installed from a checkout (pip install -e .); clone the repository "
        "or set PAPERLAB_HOME to its path"
    )


def data_dir() -> Path:
    return repo_root() / "data"


def reports_dir() -> Path:
    return repo_root() / "reports"


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"
