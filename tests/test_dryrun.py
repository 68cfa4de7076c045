"""The gpu dry run: each notebook's gpu code path, end to end on the CPU against the format samples in
``data/samples/`` (``PAPERLAB_PROFILE=gpu PAPERLAB_SAMPLES=1``; no network, tiny sizes), so a Colab user never
meets the first run of a code path. A notebook takes part when its parameters cell gives a ``samples=`` size;
every paper notebook with a gpu data path must (``test_every_gpu_path_has_a_dry_run``)."""

import os
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from paperlab.core.paths import notebooks_dir

NUMBERED = sorted(p for p in notebooks_dir().glob("*.ipynb") if re.match(r"^\d\d_", p.name))
# notebooks whose gpu profile reads no dataset and loads no pretrained weights (the same code path as cpu)
NO_GPU_DATA_PATH = {"11_ftgame.ipynb"}


def _params(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))


def _dry_runnable():
    return [p for p in NUMBERED if "samples=" in _params(nbformat.read(p, as_version=4))]


def test_every_gpu_path_has_a_dry_run():
    missing = [p.name for p in NUMBERED if p.name not in NO_GPU_DATA_PATH and p not in _dry_runnable()]
    assert not missing, f"these notebooks' parameters cells give no samples= size for the gpu dry run: {missing}"


@pytest.mark.dryrun
@pytest.mark.parametrize("path", _dry_runnable(), ids=lambda p: p.stem)
def test_gpu_path_runs_on_the_samples(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLAB_PROFILE", "gpu")
    monkeypatch.setenv("PAPERLAB_SAMPLES", "1")
    monkeypatch.setenv("PAPERLAB_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    work = tmp_path / "notebooks"
    shutil.copytree(notebooks_dir(), work, ignore=shutil.ignore_patterns("build", ".ipynb_checkpoints"))
    nb = nbformat.read(work / path.name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "dry run" in text.lower(), f"{path.name}: the first cell should say it is the gpu dry run on data/samples"
    assert os.environ["PAPERLAB_SAMPLES"] == "1"
