"""torchrun on 2 CPU processes (gloo) gives the single-process weights; only rank 0 writes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from paperlab.core import distributed as D

WORKER = Path(__file__).with_name("_dist_worker.py")


def _run(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=240, **kw)


def _torchrun(out, *extra):
    return _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(WORKER), str(out), *extra])


def test_two_processes_match_single_process_and_rank1_writes_nothing(tmp_path):
    single, multi = tmp_path / "single", tmp_path / "multi"
    single.mkdir(), multi.mkdir()
    r = _run([str(WORKER), str(single)])
    assert r.returncode == 0, r.stderr[-2000:]
    r = _torchrun(multi)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in multi.iterdir()) == ["weights_rank0.pt"], "a non-zero rank wrote a file"
    a = torch.load(single / "weights_rank0.pt", weights_only=True)
    b = torch.load(multi / "weights_rank0.pt", weights_only=True)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_mismatched_initial_weights_are_an_error(tmp_path):
    r = _torchrun(tmp_path, "--bad-init")
    assert r.returncode != 0
    assert "different initial weights" in r.stderr


def test_sharded_sampler_partitions_the_single_process_order():
    full = list(D.ShardedSampler(12, seed=3, world=1, rank_=0))
    parts = [list(D.ShardedSampler(12, seed=3, world=3, rank_=r)) for r in range(3)]
    assert sorted(sum(parts, [])) == list(range(12))
    # the k-th per-rank batch of size B/W covers exactly the k-th global batch of size B
    B, W = 6, 3
    for k in range(2):
        union = sorted(sum((p[k * B // W : (k + 1) * B // W] for p in parts), []))
        assert union == sorted(full[k * B : (k + 1) * B])


def test_bad_world_sizes():
    with pytest.raises(ValueError, match="divisible by the world size"):
        D.ShardedSampler(10, world=3, rank_=0)
    assert D.world_size() == 1 and D.is_main_process() and D.mean_across_ranks(2.5) == 2.5


def test_nccl_with_too_many_ranks_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RuntimeError, match="nproc_per_node"):
        D.init_from_env(backend="nccl")


def test_run_many_pool_equals_sequential():
    sys.path.insert(0, str(WORKER.parent))
    try:
        from _dist_worker import seeded_job
    finally:
        sys.path.pop(0)
    jobs = [{"seed": s} for s in range(4)]
    assert D.run_many(seeded_job, jobs, workers=2) == D.run_many(seeded_job, jobs) == [seeded_job(s) for s in range(4)]
    assert D.run_many(seeded_job, []) == []


FAILING_JOBS = '''
import torch
from paperlab.core import distributed as D
from paperlab.core.train import fit

def job(seed):
    if seed == 3:
        raise ValueError("job 3 is broken")
    torch.manual_seed(seed)
    model = torch.nn.Linear(2, 1)
    x = torch.randn(8, 2)
    # a fit inside a job: under torchrun each rank trains its own jobs alone (D.local), no DDP, no hang
    fit(model, lambda m, b: m(b).pow(2).mean(), [x], epochs=2, progress=False)
    return float(model.weight.sum())

D.init_from_env("gloo")
ok = D.run_many(job, [{"seed": s} for s in range(3)])
with D.local():
    assert ok == [job(s) for s in range(3)], ok
print(f"rank {D.global_rank()} ok", flush=True)  # one string per write: the ranks share the pipe and may interleave
D.run_many(job, [{"seed": s} for s in range(4)])
'''


def test_run_many_under_torchrun_trains_jobs_alone_and_reports_a_failed_job(tmp_path):
    """Ranks split the jobs (a job's own fit does not wait for the other ranks); a job that raises on one rank
    makes every rank fail with its message instead of leaving the others blocked in the gather."""
    script = tmp_path / "jobs.py"
    script.write_text(FAILING_JOBS)
    r = _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)])
    assert r.returncode != 0
    assert "rank 0 ok" in r.stdout and "rank 1 ok" in r.stdout
    assert "run_many: a job failed on rank 1, job 3" in r.stderr and "job 3 is broken" in r.stderr
