"""One small fit loop (tqdm progress, early stopping) and load-or-train of checkpoints.

``fit`` is deliberately plain: a loss function ``loss_fn(model, batch) -> scalar`` per batch, an
optional ``val_fn(model) -> float`` (lower is better) per epoch for early stopping, and the best
weights restored at the end. Paper modules build their training on it.

The same loop runs data-parallel under ``torchrun`` (see :mod:`paperlab.core.distributed`): when a
process group is present the model is wrapped in DistributedDataParallel (``loss_fn`` must call
``model(...)`` so the forward goes through DDP), a :class:`ShardedSampler` gets its epoch set,
validation values are averaged over ranks, and only rank 0 shows progress or writes files.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from paperlab.core import distributed as D
from paperlab.core.paths import data_dir


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    best_epoch: int = -1
    steps: int = 0
    stopped_early: bool = False


def fit(model: torch.nn.Module, loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor], train_loader: Iterable,
        *, epochs: int = 1, lr: float = 1e-3, optimizer: torch.optim.Optimizer | None = None,
        params: Iterable[torch.nn.Parameter] | None = None, weight_decay: float = 0.0,
        val_fn: Callable[[torch.nn.Module], float] | None = None, patience: int | None = None,
        max_steps: int | None = None, grad_clip: float | None = None, scheduler: Any = None,
        progress: bool = True, desc: str = "train") -> History:
    """Train ``model`` for ``epochs`` over ``train_loader``; returns the loss/validation history.

    Only ``params`` (default: those with ``requires_grad``) are optimised, with AdamW unless an
    ``optimizer`` is given. With ``val_fn`` and ``patience``, training stops after ``patience``
    epochs without improvement and the best weights are restored.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if optimizer is None:
        params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
        if not params:
            raise ValueError("fit() found no trainable parameters")
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    hist = History()
    best, best_state, bad = float("inf"), None, 0
    net = D.wrap(model)  # DDP under torchrun, the model itself otherwise
    bar = tqdm(total=epochs, desc=desc, disable=not progress or not D.is_main_process(), leave=False)
    for epoch in range(epochs):
        model.train()
        if hasattr(getattr(train_loader, "sampler", None), "set_epoch"):
            train_loader.sampler.set_epoch(epoch)
        for batch in train_loader:
            loss = loss_fn(net, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {hist.steps}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], grad_clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            hist.train_loss.append(float(loss.detach()))
            hist.steps += 1
            if max_steps is not None and hist.steps >= max_steps:
                break
        if val_fn is not None:
            model.eval()
            with torch.no_grad():
                v = D.mean_across_ranks(float(val_fn(model)))
            hist.val.append(v)
            if v < best:
                best, bad, hist.best_epoch = v, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.4f}", val=f"{v:.4f}")
            if patience is not None and bad >= patience:
                hist.stopped_early = True
                bar.update(1)
                break
        else:
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.4f}")
        bar.update(1)
        if max_steps is not None and hist.steps >= max_steps:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return hist


def save_checkpoint(obj: dict, path: str | Path) -> Path:
    """``torch.save`` of a dict of tensors/plain values (loadable with ``weights_only=True``).

    Under torchrun only rank 0 writes; the other ranks return the path without touching the disk.
    """
    path = Path(path)
    if not D.is_main_process():
        return path
    import io

    from paperlab.core.io import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())  # a killed save leaves the old file, never a truncated one


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> dict:
    """``torch.load(..., weights_only=True)`` with a clear error for a missing or corrupted file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise RuntimeError(f"checkpoint {path} could not be loaded (corrupted or not a torch file): {exc}") from exc


def retrain_requested() -> bool:
    """``PAPERLAB_RETRAIN`` as a yes/no flag (1/0, true/false, yes/no, on/off, any case); anything else is an error."""
    from paperlab.core.env import env_flag

    return env_flag("PAPERLAB_RETRAIN", False)


def load_or_train(name: str, train_fn: Callable[[], dict], *, retrain: bool | None = None,
                  command: str | None = None, **register_extra: Any) -> dict:
    """Load ``data/<name>`` (verified against the registry) or train it with ``train_fn`` and register it.

    ``train_fn()`` returns a dict to save. Retrains when the file is absent or when
    ``PAPERLAB_RETRAIN=1`` (``make reproduce FULL=1``). A registered file whose hash does not match
    is an error, never silently retrained.
    """
    from paperlab.core import assets

    retrain = retrain_requested() if retrain is None else retrain
    target = data_dir() / name
    registered = name in assets.load_registry()
    how = command or f"PAPERLAB_RETRAIN=1 (via load_or_train {name!r})"
    if not retrain:
        if registered and target.exists():
            return load_checkpoint(assets.path(name))
        if registered:
            raise assets.AssetError(
                f"{target} is registered in {assets.registry_path()} but missing. Restore the committed file with "
                f"`git checkout -- {target.relative_to(data_dir().parent)}`, or retrain it on purpose with: {how}")
        if target.exists():
            raise assets.AssetError(
                f"{target} exists but has no entry in {assets.registry_path()} (was the registry damaged?). Restore it with "
                f"`git checkout -- {assets.registry_path().relative_to(data_dir().parent)}`, or retrain on purpose with: {how}")
        print(f"{name}: nothing committed yet, training it now ({how})", flush=True)
    else:
        print(f"retraining {name} (asked for); it will {'overwrite ' + str(target) if target.exists() else 'create ' + str(target)}",
              flush=True)
    obj = train_fn()
    save_checkpoint(obj, target)
    assets.register(name, command=how, **register_extra)
    return obj
