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
from contextlib import contextmanager

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, Sampler

_LOCAL_DEPTH = 0  # > 0 inside local(): this process trains alone although a process group exists


def _group_ready() -> bool:
    return dist.is_available() and dist.is_initialized()


def global_rank() -> int:
    """The torchrun rank (0 without a process group), whatever :func:`local` says."""
    return dist.get_rank() if _group_ready() else 0


def global_world_size() -> int:
    return dist.get_world_size() if _group_ready() else 1


def world_size() -> int:
    """Processes that share one training run (data-parallel group): 1 inside :func:`local`."""
    return 1 if _LOCAL_DEPTH else global_world_size()


def rank() -> int:
    """This process's place in the data-parallel group (0 inside :func:`local`)."""
    return 0 if _LOCAL_DEPTH else global_rank()


def is_distributed() -> bool:
    """True when training here is data-parallel over several processes (DDP, sharded batches)."""
    return world_size() > 1


def is_main_process() -> bool:
    """True on global rank 0 (and in every single-process run): the only process that writes files or logs."""
    return global_rank() == 0


@contextmanager
def local():
    """Inside this block the process trains on its own (no DDP, no sharding, no collective calls),
    although torchrun started several: how :func:`run_many` gives each rank its own independent jobs.
    Writing stays with global rank 0."""
    global _LOCAL_DEPTH
    _LOCAL_DEPTH += 1
    try:
        yield
    finally:
        _LOCAL_DEPTH -= 1


def choose_backend(requested: str | None = None, local_rank: int = 0, n_gpus: int | None = None) -> str:
    """The process-group backend: ``requested`` (or ``$PAPERLAB_DIST_BACKEND``), else nccl when CUDA
    is present, else gloo (the CPU fallback). nccl with a local rank beyond the visible GPUs
    (``--nproc_per_node`` larger than the devices) is an error naming both numbers and the fallback."""
    requested = requested or os.environ.get("PAPERLAB_DIST_BACKEND") or None
    if requested not in (None, "auto", "nccl", "gloo"):
        raise ValueError(f"unknown process-group backend {requested!r}; use nccl (GPUs) or gloo (CPU)")
    n_gpus = torch.cuda.device_count() if n_gpus is None else n_gpus
    if requested in (None, "auto"):
        backend = "nccl" if n_gpus > 0 else "gloo"
    else:
        backend = requested
    if backend == "nccl" and local_rank >= n_gpus:
        raise RuntimeError(
            f"--nproc_per_node asks for local rank {local_rank} but only {n_gpus} GPU(s) are visible; "
            f"use --nproc_per_node {max(n_gpus, 1)}, or run on CPU with gloo (--backend gloo or PAPERLAB_DIST_BACKEND=gloo)"
        )
    return backend


def init_from_env(backend: str | None = None) -> int:
    """Join the process group torchrun describes in the environment; no-op without torchrun.

    Backend: see :func:`choose_backend` (``backend`` argument, then ``$PAPERLAB_DIST_BACKEND``, then
    nccl when CUDA is present, else gloo). With nccl each process takes GPU ``LOCAL_RANK``, and a
    local rank beyond the visible GPUs is an error. Returns the world size.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 1
    if dist.is_initialized():
        return dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    backend = choose_backend(backend, local_rank)
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return dist.get_world_size()


def shutdown() -> None:
    """Leave the process group cleanly: wait for every rank, then destroy it; no-op without one.

    Without the barrier a rank that finishes first (rank 0 also writes the checkpoint, so the others may
    finish first, or last) tears its gloo connections down while another rank still uses them, and that
    rank aborts (SIGABRT) though every result was correct.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def check_global_batch(batch_size: int, world: int | None = None) -> int:
    """The per-rank batch ``batch_size / W``; error when the global batch does not split evenly."""
    W = world_size() if world is None else world
    if batch_size < 1:
        raise ValueError(f"global batch must be >= 1, got {batch_size}")
    if batch_size % W:
        raise ValueError(f"global batch {batch_size} is not divisible by the world size {W}; "
                         f"use a multiple of {W} or a --nproc_per_node that divides {batch_size}")
    return batch_size // W


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
    per_rank = check_global_batch(batch_size)
    sampler = ShardedSampler(len(dataset), shuffle=shuffle, seed=seed)
    return DataLoader(dataset, batch_size=per_rank, sampler=sampler, **kw)


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


def _collective_device() -> torch.device:
    """Where a tensor for all_reduce must live: the rank's GPU under nccl (which has no CPU tensors), else cpu."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_across_ranks(value: float) -> float:
    """Average a scalar metric over ranks (identity in a single process)."""
    if not is_distributed():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(t)
    return float(t.item() / world_size())


def share_of_global(count) -> float:
    """``W * count / sum_ranks(count)``: multiply a per-rank mean over ``count`` items by this, and
    DDP's average of the ranks' gradients becomes the gradient of the mean over all ranks' items
    (ranks can hold different numbers of items: masked time steps, padded tokens). 1.0 in one process."""
    c = float(count)
    if not is_distributed():
        return 1.0
    t = torch.tensor([c], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(t)
    total = float(t.item())
    if total <= 0:
        raise ValueError("share_of_global: no rank holds any item (total count 0)")
    return world_size() * c / total


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel when a process group is present, else the model itself."""
    if not is_distributed():
        return model
    check_same_weights(model)
    device_ids = [torch.cuda.current_device()] if next(model.parameters()).is_cuda else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


_COMMON: dict = {}  # arguments shared by every job, set once per pool worker


def _pool_init(common: dict, threads: int) -> None:
    global _COMMON
    _COMMON = common
    torch.set_num_threads(threads)  # the parent's thread count: the same float results as sequential


def _pool_call(fn, job: dict):
    return fn(**_COMMON, **job)


def mapper_for(workers: int | None = None):
    """``mapper(fn, jobs, common)`` = :func:`run_many` over ``workers`` local processes: the default
    spreading of every module's ``train_all`` (the shared command line passes ``Run.map`` instead)."""
    def mapper(fn, jobs: list[dict], common: dict | None = None) -> list:
        return run_many(fn, jobs, workers=workers, common=common)
    return mapper


def run_many(fn, jobs: list[dict], workers: int | None = None, common: dict | None = None) -> list:
    """Run independent jobs ``fn(**common, **job)`` (seeds, random-search trials) and return results in job order.

    Under torchrun, rank ``r`` runs jobs ``r, r+W, ...`` on its own (inside :func:`local`, so a job's
    ``fit`` does not try to synchronise with ranks busy with other jobs) and the results are gathered
    on every rank. Otherwise, with ``workers > 1``, a process pool (spawn) runs them, each worker with
    the caller's torch thread count and ``common`` sent once per worker (not once per job); with
    ``workers`` 1/None, sequentially. Each job must seed itself from its own arguments, so the results
    are identical to the sequential run whatever the parallelism. ``fn`` must be importable (a
    module-level function) and its results picklable.
    """
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    common = dict(common or {})
    clash = sorted(set(common) & {k for job in jobs for k in job})
    if clash:
        raise ValueError(f"arguments {clash} are given both in common and in a job")
    if not jobs:
        return []
    if global_world_size() > 1 and not _LOCAL_DEPTH:
        W, r = global_world_size(), global_rank()
        mine: dict = {}
        try:
            with local():
                for i in range(r, len(jobs), W):
                    mine[i] = fn(**common, **jobs[i])
        except Exception as exc:  # tell the other ranks instead of leaving them waiting in the gather
            import traceback

            mine = {"failed": f"rank {r}, job {i} {jobs[i]}: {exc!r}\n{traceback.format_exc()}"}
        gathered: list[dict | None] = [None] * W
        dist.all_gather_object(gathered, mine)
        failed = [part["failed"] for part in gathered if "failed" in part]
        if failed:
            raise RuntimeError("run_many: a job failed on " + failed[0])
        merged = {k: v for part in gathered for k, v in part.items()}
        return [merged[i] for i in range(len(jobs))]
    if workers and workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("spawn")
        n = min(workers, len(jobs))
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_pool_init,
                                 initargs=(common, torch.get_num_threads())) as pool:
            futures = [pool.submit(_pool_call, fn, job) for job in jobs]
            return [f.result() for f in futures]
    return [fn(**common, **job) for job in jobs]
