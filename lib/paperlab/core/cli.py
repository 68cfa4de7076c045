"""The shared command line of every paper module's ``train`` command.

One parser and one start-up for ``python -m paperlab.<module> train``, ``make train NB=..`` and a
torchrun job, so the notebook (through the module's ``train_all`` / ``load_or_train``), the Makefile
and a cluster call the same function::

    python -m paperlab.pat train --profile cpu --workers 2          # 2 local processes split the runs
    torchrun --standalone --nproc_per_node 8 -m paperlab.pat train --profile gpu        # 8 ranks split the runs
    torchrun --standalone --nproc_per_node 8 -m paperlab.pat train --profile gpu --parallel data   # DDP per run

A module builds its parser with :func:`parser` (adding its own options), then calls :func:`start`,
which sets the torch threads, joins the torchrun process group when ``WORLD_SIZE > 1`` and checks
the options against it, and returns a :class:`Run`. ``Run.map(fn, jobs)`` spreads independent runs
(seeds, variants, random-search trials): over torchrun ranks, over ``--workers`` local processes, or
sequentially, always with the sequential run's results (each job seeds itself). With
``--parallel data`` the jobs run one after another and each one is data-parallel over all ranks
(DDP + :func:`paperlab.core.distributed.loader`), for models too big to train one per GPU.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from paperlab.core import distributed as D
from paperlab.core.profiles import PROFILES, Profile, profile

PARALLEL = ("jobs", "data")


def int_at_least(low: int, expected: str) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``low``, else a usage error "<expected>, got <text>"."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"{expected}, got {v}")
        return v
    return parse


positive_int = int_at_least(1, "expected a positive integer")  # --workers, --threads, modules' --steps ...
seed_int = int_at_least(0, "a seed must be a non-negative integer")  # --seeds, clip's --seed


def parser(prog: str, description: str, *, commands: Sequence[str] = ("train",),
           parallel: Sequence[str] = ("jobs",)) -> argparse.ArgumentParser:
    """The shared options; the module adds its own with ``add_argument`` before :func:`start`.

    ``parallel``: the spreading modes the module supports (``jobs`` always; ``data`` where its
    training draws minibatches from :func:`paperlab.core.distributed.loader`).
    """
    unknown = sorted(set(parallel) - set(PARALLEL))
    if unknown or "jobs" not in parallel:
        raise ValueError(f"parallel modes must include 'jobs' and be among {PARALLEL}, got {list(parallel)}")
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("command", choices=list(commands))
    ap.add_argument("--profile", choices=PROFILES, default=None,
                    help="sizes: smoke (seconds), cpu (the committed run), gpu (paper scale); "
                         "default $PAPERLAB_PROFILE, else gpu if CUDA else cpu")
    ap.add_argument("--workers", type=positive_int, default=1,
                    help="local processes that split the independent runs (default 1: sequential); "
                         "under torchrun the ranks split them instead")
    ap.add_argument("--seeds", type=seed_int, nargs="+", default=None,
                    help="seeds to run (default: the profile's seeds)")
    ap.add_argument("--threads", type=positive_int, default=1,
                    help="torch threads per process (1 is fastest on a shared machine)")
    ap.add_argument("--device", default="auto",
                    help="auto (cuda for the gpu profile when present), cpu, or cuda; under torchrun with "
                         "nccl each rank takes GPU LOCAL_RANK")
    ap.add_argument("--backend", choices=["auto", "nccl", "gloo"], default=None,
                    help="torchrun process-group backend (default $PAPERLAB_DIST_BACKEND, else nccl with "
                         "CUDA, else gloo)")
    ap.add_argument("--parallel", choices=list(parallel), default="jobs",
                    help="jobs: spread independent runs over processes (results identical to sequential); "
                         "data: every run data-parallel over all torchrun ranks (DDP)"
                    if "data" in parallel else "jobs: spread independent runs over processes")
    return ap


@dataclass(frozen=True)
class Run:
    """What a ``train`` command runs with: the profile, the parallel layout, the device, the seeds."""

    profile: Profile
    workers: int
    seeds: tuple[int, ...] | None
    threads: int
    device: str
    world: int
    rank: int
    backend: str | None
    parallel: str = "jobs"
    joined: bool = False  # True when start() created the process group (finish() destroys it)

    @property
    def is_main(self) -> bool:
        """Global rank 0: the only process that writes checkpoints, the registry and logs."""
        return self.rank == 0

    def pick(self, **options: Any) -> Any:
        return self.profile.pick(**options)

    def seeds_or(self, default: Sequence[int]) -> tuple[int, ...]:
        """``--seeds`` if given, else the module's default seeds."""
        return tuple(default) if self.seeds is None else self.seeds

    def map(self, fn: Callable, jobs: list[dict], common: dict | None = None) -> list:
        """``[fn(**common, **job) for job in jobs]``, spread as ``--parallel`` / ``--workers`` / torchrun say."""
        if self.parallel == "data":
            # every rank runs every job; each job's fit is data-parallel over all ranks
            return [fn(**(common or {}), **job) for job in jobs]
        return D.run_many(fn, jobs, workers=self.workers, common=common)

    def log(self, *args: Any) -> None:
        """``print`` on rank 0 only."""
        if self.is_main:
            print(*args, flush=True)

    def finish(self) -> None:
        """Leave the process group (if :func:`start` joined it)."""
        if self.joined:
            D.shutdown()


def resolve_device(requested: str, prof: Profile, backend: str | None, local_rank: int) -> str:
    """``--device`` -> a torch device string, with clear errors for devices that are not there."""
    if requested not in ("auto", "cpu", "cuda") and not requested.startswith("cuda:"):
        raise ValueError(f"--device must be auto, cpu, cuda or cuda:N, got {requested!r}")
    n = torch.cuda.device_count()
    if requested == "auto":
        requested = "cuda" if prof.name == "gpu" and n > 0 and backend != "gloo" else "cpu"
    if requested == "cpu":
        return "cpu"
    if n == 0:
        raise ValueError(f"--device {requested} but no CUDA device is visible; use --device cpu")
    index = int(requested.split(":", 1)[1]) if ":" in requested else (local_rank if backend else 0)
    if index >= n:
        raise ValueError(f"--device {requested} (local rank {local_rank}) needs GPU {index} but only {n} are visible")
    return f"cuda:{index}"


def start(ap: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, Run]:
    """Parse ``argv``, set threads, join torchrun's process group when ``WORLD_SIZE > 1``, check the layout.

    Errors (argparse's usage message, exit 2): ``--workers`` > 1 under torchrun (the ranks already
    split the runs) or with ``--parallel data``; duplicate seeds; a device that is not there
    (:func:`resolve_device`); nccl with ``--nproc_per_node`` larger than the visible GPUs
    (:func:`paperlab.core.distributed.choose_backend`; ``--backend gloo`` is the stated CPU fallback).
    ``--parallel data`` in one process is allowed: the runs then use the sharded sampler alone.
    """
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        prof = profile(args.profile)
    except ValueError as exc:  # unknown PAPERLAB_PROFILE / --profile, or a bad PAPERLAB_SAMPLES: a usage error
        ap.error(str(exc))
    world_env = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_env > 1 and args.workers > 1:
        ap.error(f"--workers {args.workers} under torchrun (WORLD_SIZE={world_env}): the torchrun ranks already "
                 "split the runs; drop --workers (or run without torchrun)")
    if args.seeds and len(set(args.seeds)) != len(args.seeds):
        ap.error(f"--seeds has duplicates: {args.seeds}")
    parallel = getattr(args, "parallel", "jobs")
    if parallel == "data" and args.workers > 1:
        ap.error("--parallel data runs each job over all torchrun ranks; it does not combine with --workers")
    backend = None
    joined = False
    if world_env > 1:
        try:
            backend = D.choose_backend(args.backend, local_rank)
        except (RuntimeError, ValueError) as exc:
            ap.error(str(exc))
    try:
        device = resolve_device(args.device, prof, backend, local_rank)
    except ValueError as exc:
        ap.error(str(exc))
    if world_env > 1 and not torch.distributed.is_initialized():
        D.init_from_env(backend)
        joined = True
    run = Run(profile=prof, workers=args.workers, seeds=tuple(args.seeds) if args.seeds else None,
              threads=args.threads, device=device, world=D.global_world_size(), rank=D.global_rank(),
              backend=backend, parallel=parallel, joined=joined)
    run.log(f"{ap.prog} {args.command}: profile {prof.name}, {run.world} process(es)"
            f"{' (' + backend + ')' if backend else ''}, --parallel {parallel}, workers {run.workers}, "
            f"device {device}, threads {run.threads}")
    return args, run


def main(ap: argparse.ArgumentParser, body: Callable[[argparse.Namespace, Run], Any],
         argv: Sequence[str] | None = None) -> Any:
    """``start`` then ``body(args, run)``, leaving the process group at the end (also on error)."""
    args, run = start(ap, argv)
    try:
        return body(args, run)
    finally:
        run.finish()


def cpu_plan_only(ap: argparse.ArgumentParser, args: argparse.Namespace, run: Run, name: str, plan: str = "",
                  *, smoke_ok: bool = False, gpu_note: str | None = None) -> None:
    """The checks of a ``train`` command with one size, trained on the CPU (clip, modality, backdoor, pmaa,
    pointmbf, scicot): ``--profile smoke`` is a usage error naming the committed ``plan`` (unless
    ``smoke_ok``), so is a CUDA ``--device``; ``--profile gpu`` trains the same plan on the CPU with a
    note (``gpu_note`` replaces the default one)."""
    if run.profile.name == "smoke" and not smoke_ok:
        ap.error(f"--profile smoke: {name} train has one size, the committed cpu run ({plan}); use --profile cpu "
                 "(the smoke notebook loads the committed results)")
    if args.device not in ("auto", "cpu"):
        ap.error(f"--device {args.device}: {name} trains on the CPU only (one thread per run)")
    if run.profile.name == "gpu":
        run.log(gpu_note or f"note: {name} has no gpu size; training the cpu plan on the CPU")


def uses_shared_cli(module: str) -> bool:
    """Whether ``paperlab.<module>`` builds its command line with this file's :func:`parser`."""
    import importlib
    import inspect

    mod = importlib.import_module(f"paperlab.{module}")
    return "cli.parser(" in inspect.getsource(mod)


def dispatch(argv: Sequence[str] | None = None) -> None:
    """``python -m paperlab.core.cli MODULE train [shared options]`` (what ``make train`` runs).

    Every paper module that trains builds its ``train`` command with :func:`parser` (tested); a module
    without one (the theory notebook's ``ftgame``) stops with a message saying there is nothing to train."""
    import importlib
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        raise SystemExit("usage: python -m paperlab.core.cli MODULE train [--profile P] [--workers N] ...")
    module, rest = argv[0], argv[1:]
    try:
        mod = importlib.import_module(f"paperlab.{module}")
    except ModuleNotFoundError as exc:
        raise SystemExit(f"no module paperlab.{module} ({exc})") from None
    entry = getattr(mod, "main", None)
    if entry is None or not uses_shared_cli(module):
        raise SystemExit(f"paperlab.{module} has no command line (no train command on paperlab.core.cli): "
                         "nothing to train")
    entry(rest)


if __name__ == "__main__":
    dispatch()
