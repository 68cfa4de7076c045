"""Data-parallel training with PyTorch's own engine (``torchrun`` + DistributedDataParallel).

Nothing here is needed for a single-process run: every helper degrades to world size 1.

    torchrun --nproc_per_node 8 -m paperlab.<module> train --profile gpu     # one node, 8 GPUs
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 -m paperlab.<module> train

Determinism across world sizes: :class:`ShardedSampler` draws one permutation per epoch from the seed
and gives rank ``r`` the positions ``r, r+W, r+2W, ...``; with a per-rank batch of ``B/W`` the union of
the ranks' k-th batches is exactly the single-process k-th batch of size ``B``, and DDP averages the
per-rank gradients of per-rank mean losses, which is the gradient of the global mean loss. So the same
seed gives the same weights for any ``W`` dividing ``B``, up to floating-point summation order.
"""

from __future__ import annotations

import hashlib
import os

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, Sampler


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main_process() -> bool:
    """True on rank 0 (and in every single-process run): the only process that writes files or logs."""
    return rank() == 0


def init_from_env(backend: str | None = None) -> int:
    """Join the process group torchrun describes in the environment; no-op without torchrun.

    Backend: nccl when CUDA is present, else gloo (the CPU fallback). With nccl, a local rank beyond
    the visible GPUs is an error (``--nproc_per_node`` larger than the devices). Returns the world size.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 1
    if dist.is_initialized():
        return dist.get_world_size()
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        n = torch.cuda.device_count()
        if local_rank >= n:
            raise RuntimeError(
                f"--nproc_per_node asks for local rank {local_rank} but only {n} GPU(s) are visible; "
                f"use --nproc_per_node {n}, or run on CPU with gloo (PAPERLAB_DIST_BACKEND=gloo)"
            )
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=os.environ.get("PAPERLAB_DIST_BACKEND", backend))
    return dist.get_world_size()


class ShardedSampler(Sampler[int]):
    """Seeded per-epoch permutation, sharded round-robin over ranks (world size 1: the permutation itself)."""

    def __init__(self, n: int, shuffle: bool = True, seed: int = 0, world: int | None = None, rank_: int | None = None):
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.world = world_size() if world is None else world
        self.rank = rank() if rank_ is None else rank_
        if n % self.world:
            raise ValueError(f"dataset size {n} is not divisible by the world size {self.world}; "
                             "drop or pad examples so every rank sees the same number")
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        return iter(order[self.rank :: self.world])

    def __len__(self) -> int:
        return self.n // self.world


def loader(dataset: Dataset, batch_size: int, shuffle: bool = True, seed: int = 0, **kw) -> DataLoader:
    """A DataLoader whose ``batch_size`` is the GLOBAL batch: each of W ranks gets ``batch_size / W``."""
    W = world_size()
    if batch_size % W:
        raise ValueError(f"global batch {batch_size} is not divisible by the world size {W}")
    sampler = ShardedSampler(len(dataset), shuffle=shuffle, seed=seed)
    return DataLoader(dataset, batch_size=batch_size // W, sampler=sampler, **kw)


def state_fingerprint(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def check_same_weights(module: torch.nn.Module) -> None:
    """Error if the ranks start from different weights (e.g. each loaded a different checkpoint)."""
    if not is_distributed():
        return
    mine = state_fingerprint(module)
    all_fps: list[str | None] = [None] * world_size()
    dist.all_gather_object(all_fps, mine)
    if len(set(all_fps)) > 1:
        bad = [r for r, fp in enumerate(all_fps) if fp != all_fps[0]]
        raise RuntimeError(f"ranks {bad} hold different initial weights from rank 0 (mismatched checkpoints?)")


def mean_across_ranks(value: float) -> float:
    """Average a scalar metric over ranks (identity in a single process)."""
    if not is_distributed():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item() / world_size())


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel when a process group is present, else the model itself."""
    if not is_distributed():
        return model
    check_same_weights(model)
    device_ids = [torch.cuda.current_device()] if next(model.parameters()).is_cuda else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def run_many(fn, jobs: list[dict], workers: int | None = None) -> list:
    """Run independent jobs ``fn(**job)`` (seeds, random-search trials) and return results in job order.

    Under torchrun, rank ``r`` runs jobs ``r, r+W, ...`` and the results are gathered on every rank.
    Otherwise, with ``workers > 1``, a process pool (spawn) runs them; with ``workers`` 1/None,
    sequentially. Each job must seed itself from its own arguments, so the results are identical to
    the sequential run whatever the parallelism. ``fn`` must be importable (a module-level function).
    """
    if not jobs:
        return []
    if is_distributed():
        W, r = world_size(), rank()
        mine = {i: fn(**jobs[i]) for i in range(r, len(jobs), W)}
        gathered: list[dict | None] = [None] * W
        dist.all_gather_object(gathered, mine)
        merged = {k: v for part in gathered for k, v in part.items()}
        return [merged[i] for i in range(len(jobs))]
    if workers and workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(fn, **job) for job in jobs]
            return [f.result() for f in futures]
    return [fn(**job) for job in jobs]
