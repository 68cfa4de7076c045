"""``data/REGISTRY.toml``: every committed data file with its sha256, size and the command that made it.

A registry entry looks like::

    [assets."clip/microclip.pt"]
    sha256 = "..."
    size = 1234567
    command = "make pretrain"
    seeds = [0]
    [assets."clip/microclip.pt".eval]
    zero_shot_combo = 0.71

``path(name)`` returns the verified absolute path; a hash mismatch is an error naming the file,
both hashes and the command that regenerates it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from paperlab.core.paths import data_dir

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - python 3.10
    import tomli as tomllib


class AssetError(RuntimeError):
    """A registered file is missing, unregistered or corrupted."""


def registry_path() -> Path:
    return data_dir() / "REGISTRY.toml"


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_registry(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or registry_path()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text()).get("assets", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssetError(f"{path} is not a valid registry ({exc}); restore the committed one with "
                         f"`git checkout -- data/REGISTRY.toml`") from exc


def entry(name: str) -> dict[str, Any]:
    reg = load_registry()
    if name not in reg:
        raise AssetError(f"{name!r} is not in {registry_path()}; registered: {sorted(reg) or 'none'}")
    return reg[name]


def path(name: str, verify: bool = True) -> Path:
    """Absolute path of a registered file under ``data/``, checked against its sha256."""
    meta = entry(name)
    p = data_dir() / name
    if not p.exists():
        raise AssetError(f"registered file {p} is missing; regenerate it with: {meta.get('command', '?')}")
    if verify:
        actual = sha256_of(p)
        if actual != meta["sha256"]:
            raise AssetError(
                f"sha256 mismatch for {p}: expected {meta['sha256']}, got {actual}. "
                f"The file is corrupted or was changed without re-registering. Restore the committed file with "
                f"`git checkout -- data/{name}` (one second); only if you changed it on purpose, regenerate it with: "
                f"{meta.get('command', '?')}"
            )
    return p


def register(name: str, command: str, **extra: Any) -> dict[str, Any]:
    """Add or update the entry for ``data/<name>`` (hash and size computed here) and save the registry."""
    from paperlab.core.distributed import is_main_process

    p = data_dir() / name
    if not is_main_process():  # under torchrun only rank 0 writes the registry
        return {}
    if not p.exists():
        raise AssetError(f"cannot register {p}: no such file")
    from paperlab.core.io import locked

    meta = {"sha256": sha256_of(p), "size": p.stat().st_size, "command": command}
    meta.update({k: v for k, v in extra.items() if v is not None})
    with locked(registry_path()):  # read-modify-write under a lock; the write itself is atomic
        reg = load_registry()
        reg[name] = meta
        _write_registry(reg)
    return meta


_HEADER = "# Every committed data file: sha256, size, the command that made it. Written by paperlab.core.assets.register.\n"


def _write_registry(reg: dict) -> None:
    import tomli_w

    from paperlab.core.io import atomic_write_text

    atomic_write_text(registry_path(), _HEADER + tomli_w.dumps({"assets": dict(sorted(reg.items()))}))


def unregister(name: str, delete_file: bool = False) -> dict[str, Any]:
    """Remove the entry for ``data/<name>`` (a file no code loads any more); with ``delete_file`` also the file.

    An unknown name is an error listing the registered ones. Returns the removed entry."""
    from paperlab.core.io import locked

    with locked(registry_path()):
        reg = load_registry()
        if name not in reg:
            raise AssetError(f"{name!r} is not registered in {registry_path()}; registered: {', '.join(sorted(reg))}")
        meta = reg.pop(name)
        _write_registry(reg)
    if delete_file:
        (data_dir() / name).unlink(missing_ok=True)
    return meta
