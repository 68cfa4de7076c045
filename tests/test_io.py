"""core.io and core.env: atomic writes survive a killed writer; env variables parse strictly."""

import signal
import subprocess
import sys
import time

import pytest
from paperlab.core import env, io

KILLED_WRITER = r"""
import sys, time
from paperlab.core import io
path = sys.argv[1]
big = b"x" * (64 << 20)
print("ready", flush=True)
while True:
    io.atomic_write_bytes(path, big)
"""


def test_killed_writer_leaves_old_or_new_file(tmp_path):
    target = tmp_path / "ckpt.pt"
    target.write_bytes(b"old")
    for _ in range(3):
        p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.wait()
        size = target.stat().st_size
        assert size in (3, 64 << 20), size  # never truncated
    # leftover temporary files are hidden dot-files ending .tmp (ignored by git)
    assert all(f.name.startswith(".") and f.name.endswith(".tmp") for f in tmp_path.iterdir() if f != target)


def test_killed_checkpoint_save_keeps_committed_file(tmp_path):
    target = tmp_path / "variants.pt"
    code = r"""
import sys, torch
from paperlab.core.train import save_checkpoint
save_checkpoint({"w": torch.zeros(1)}, sys.argv[1])
print("ready", flush=True)
while True:
    save_checkpoint({"w": torch.randn(8_000_000)}, sys.argv[1])
"""
    p = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"ready"
    time.sleep(1.0)
    p.send_signal(signal.SIGKILL)
    p.wait()
    from paperlab.core.train import load_checkpoint

    assert "w" in load_checkpoint(target)


def test_locked_serialises(tmp_path):
    with io.locked(tmp_path / "f.json"):
        pass
    assert (tmp_path / "f.json.lock").exists()


@pytest.mark.parametrize("raw,value", [("1", True), ("TRUE", True), ("yes", True), ("On", True), ("0", False),
                                       ("False", False), ("NO", False), ("off", False), ("", False)])
def test_env_flag_accepts(monkeypatch, raw, value):
    monkeypatch.setenv("PAPERLAB_RETRAIN", raw)
    assert env.env_flag("PAPERLAB_RETRAIN") is value


@pytest.mark.parametrize("raw", ["2", "maybe", "retrain"])
def test_env_flag_rejects(monkeypatch, raw):
    monkeypatch.setenv("PAPERLAB_RETRAIN", raw)
    with pytest.raises(env.EnvError, match="PAPERLAB_RETRAIN"):
        env.env_flag("PAPERLAB_RETRAIN")


@pytest.mark.parametrize("raw", ["abc", "2.5", "0", "-3"])
def test_env_int_rejects(monkeypatch, raw):
    monkeypatch.setenv("PAPERLAB_THREADS", raw)
    with pytest.raises(env.EnvError, match="PAPERLAB_THREADS"):
        env.env_int("PAPERLAB_THREADS", 2, minimum=1)


def test_env_int_accepts(monkeypatch):
    monkeypatch.setenv("PAPERLAB_THREADS", " 3 ")
    assert env.env_int("PAPERLAB_THREADS", 2, minimum=1) == 3
    monkeypatch.delenv("PAPERLAB_THREADS")
    assert env.env_int("PAPERLAB_THREADS", 2, minimum=1) == 2
