"""The shared train command line (paperlab.core.cli): options, bad input, the torchrun layout checks."""

import pytest
import torch
from _helpers import no_torchrun
from paperlab.core import cli
from paperlab.core import distributed as D


def _ap(parallel=("jobs",)):
    return cli.parser("python -m paperlab.demo", "demo", parallel=parallel)


def test_defaults_and_options(monkeypatch):
    no_torchrun(monkeypatch)
    monkeypatch.setenv("PAPERLAB_PROFILE", "smoke")
    threads = torch.get_num_threads()
    try:
        args, run = cli.start(_ap(), ["train"])
        assert (run.profile.name, run.workers, run.seeds, run.threads, run.device, run.world, run.rank) == \
            ("smoke", 1, None, 1, "cpu", 1, 0)
        assert run.is_main and run.parallel == "jobs" and run.seeds_or((0, 1, 2)) == (0, 1, 2)
        assert torch.get_num_threads() == 1
        args, run = cli.start(_ap(), ["train", "--profile", "cpu", "--workers", "3", "--seeds", "4", "2"])
        assert (run.profile.name, run.workers, run.seeds, run.seeds_or((0,))) == ("cpu", 3, (4, 2), (4, 2))
        assert run.pick(smoke=1, cpu=2, gpu=3) == 2
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("argv, message", [
    (["train", "--workers", "0"], "positive integer"),
    (["train", "--workers", "two"], "positive integer"),
    (["train", "--seeds", "-1"], "non-negative"),
    (["train", "--seeds", "0", "0"], "duplicates"),
    (["train", "--profile", "tpu"], "invalid choice"),
    (["train", "--parallel", "data"], "invalid choice"),  # this module has no data-parallel path
    (["train", "--device", "mps"], "--device must be"),
    (["evaluate"], "invalid choice"),
])
def test_bad_options_are_clear_errors(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    with pytest.raises(SystemExit) as exc:
        cli.start(_ap(), argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cuda_device_without_a_gpu_is_an_error(monkeypatch, capsys):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(SystemExit):
        cli.start(_ap(), ["train", "--device", "cuda"])
    assert "no CUDA device is visible" in capsys.readouterr().err
    # auto never asks for a GPU that is not there, even in the gpu profile
    assert cli.resolve_device("auto", cli.profile("gpu"), None, 0) == "cpu"


def test_workers_under_torchrun_is_an_error_before_joining(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.raises(SystemExit):
        cli.start(_ap(), ["train", "--workers", "2"])
    assert "torchrun ranks already split the runs" in capsys.readouterr().err
    assert not torch.distributed.is_initialized()
    with pytest.raises(SystemExit):
        cli.start(_ap(("jobs", "data")), ["train", "--parallel", "data", "--workers", "2"])


def test_more_ranks_than_gpus_with_nccl_is_an_error_and_gloo_the_stated_fallback(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.delenv("PAPERLAB_DIST_BACKEND", raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(SystemExit):
        cli.start(_ap(), ["train", "--backend", "nccl"])
    err = capsys.readouterr().err
    assert "only 1 GPU(s) are visible" in err and "--nproc_per_node 1" in err and "gloo" in err
    assert not torch.distributed.is_initialized()
    # the backend decision itself: nccl when GPUs exist, gloo without, gloo when asked (the CPU fallback)
    assert D.choose_backend(None, 0, n_gpus=2) == "nccl"
    assert D.choose_backend(None, 5, n_gpus=0) == "gloo"
    assert D.choose_backend("gloo", 7, n_gpus=1) == "gloo"
    monkeypatch.setenv("PAPERLAB_DIST_BACKEND", "gloo")
    assert D.choose_backend(None, 3, n_gpus=1) == "gloo"
    with pytest.raises(ValueError, match="unknown process-group backend"):
        D.choose_backend("mpi", 0, n_gpus=0)


def test_global_batch_must_split_over_the_ranks():
    assert D.check_global_batch(32, 4) == 8
    with pytest.raises(ValueError, match="not divisible by the world size 3"):
        D.check_global_batch(32, 3)
    with pytest.raises(ValueError, match=">= 1"):
        D.check_global_batch(0, 1)


def _square(x, offset=0):
    return x * x + offset


def test_run_map_and_run_many_arguments():
    run = cli.Run(profile=cli.profile("smoke"), workers=1, seeds=None, threads=1, device="cpu", world=1, rank=0,
                  backend=None)
    jobs = [{"x": i} for i in range(5)]
    assert run.map(_square, jobs, {"offset": 1}) == [1, 2, 5, 10, 17]
    data_run = cli.Run(**{**run.__dict__, "parallel": "data"})
    assert data_run.map(_square, jobs) == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="both in common and in a job"):
        D.run_many(_square, jobs, common={"x": 1})
    with pytest.raises(ValueError, match="workers must be a positive int"):
        D.run_many(_square, jobs, workers=0)


def test_local_block_hides_the_group_but_keeps_the_writer():
    with D.local():
        assert D.world_size() == 1 and D.rank() == 0 and not D.is_distributed()
        assert D.is_main_process() and D.share_of_global(7) == 1.0
    assert D.global_world_size() == 1


def test_dispatch_finds_the_module_and_says_what_is_missing():
    trainable = ["clip", "coop", "mudpt", "modality", "hyperens", "backdoor", "pmaa", "pat", "pointmbf", "prop", "scicot"]
    assert [m for m in trainable if not cli.uses_shared_cli(m)] == []  # every paper module that trains
    assert not cli.uses_shared_cli("ftgame")  # theory: nothing to train
    with pytest.raises(SystemExit, match="no module paperlab.nosuch"):
        cli.dispatch(["nosuch", "train"])
    with pytest.raises(SystemExit, match="has no command line"):
        cli.dispatch(["ftgame", "train"])
    with pytest.raises(SystemExit, match="usage"):
        cli.dispatch([])


def test_unknown_profile_from_the_environment_is_a_usage_error(monkeypatch, capsys):
    no_torchrun(monkeypatch)
    monkeypatch.setenv("PAPERLAB_PROFILE", "bogus")
    ap = cli.parser("demo", "a demo module")
    with pytest.raises(SystemExit) as e:
        cli.start(ap, ["train"])
    assert e.value.code == 2
    assert "unknown profile 'bogus'" in capsys.readouterr().err
