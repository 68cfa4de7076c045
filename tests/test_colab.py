"""The Colab setup cell under a simulated Colab: each failing step stops with a message saying what to do."""

import sys
import types

import nbformat
import pytest
from paperlab.core import nb
from paperlab.core.paths import notebooks_dir


def _run_cell(src, monkeypatch):
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(src, "<setup cell>", "exec"), {})


def test_setup_cell_is_plain_python_and_does_nothing_outside_colab():
    src = nb.colab_install_source()
    compile(src, "<setup cell>", "exec")  # no ! or % magics: every step is checked in Python
    assert "google.colab" in src and "[colab]" in src
    exec(src, {})  # not on Colab: nothing happens


def test_no_network_says_what_to_do(tmp_path, monkeypatch):
    src = nb.colab_install_source()
    src = src.replace(f"'{nb.repo_url()}.git'", f"'{tmp_path / 'no-such-repo'}'").replace("'/content/paperlab'", repr(str(tmp_path / "dest")))
    with pytest.raises(SystemExit, match="(?s)could not download the course.*needs internet"):
        _run_cell(src, monkeypatch)


def test_failed_install_is_reported_and_retried(tmp_path, monkeypatch):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "pyproject.toml").write_text("this is not toml [")
    src = nb.colab_install_source().replace("'/content/paperlab'", repr(str(dest)))
    monkeypatch.setitem(sys.modules, "paperlab", None)  # as on a fresh Colab: not importable yet
    for _ in range(2):  # the guard is "paperlab imports", so a second run retries the install
        with pytest.raises(SystemExit, match="(?s)could not install the course.*retry"):
            _run_cell(src, monkeypatch)


def test_gpu_profile_without_cuda_says_so(monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAB_PROFILE", "gpu")
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    from IPython.core.interactiveshell import InteractiveShell

    had_shell = InteractiveShell.initialized()
    try:
        nb.setup(seed=0)
    finally:
        if not had_shell:  # setup() starts an IPython shell; do not leak it into later tests of this worker
            InteractiveShell.clear_instance()
    assert "no CUDA GPU is visible" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(notebooks_dir().glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_notebook_runs_the_checked_setup_cell_under_a_simulated_colab(path, tmp_path, monkeypatch):
    """Each notebook's Colab cell is the checked one, and run as on a fresh Colab with no network it stops with
    the message saying what to do (instead of a later 'No module named paperlab')."""
    cells = [c.source.strip() for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    src = nb.colab_install_source().strip()
    assert src in cells, f"{path.name}: no code cell is the checked Colab setup cell (nb.colab_install_source())"
    src = src.replace(f"'{nb.repo_url()}.git'", f"'{tmp_path / 'no-such-repo'}'").replace(
        "'/content/paperlab'", repr(str(tmp_path / "dest")))
    monkeypatch.setitem(sys.modules, "paperlab", None)
    with pytest.raises(SystemExit, match="(?s)could not download the course.*needs internet"):
        _run_cell(src, monkeypatch)
