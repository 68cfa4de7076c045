"""The builders (notebooks/build/*.py) and the committed notebooks agree.

Each builder is run in a temporary copy of the notebooks folder; the cells it generates (type, source,
tags) and the notebook's ``paperlab`` metadata must equal the committed notebook's. An edit made only in
Jupyter, or only in a builder, fails here: edit the builder, run it, then re-execute the notebook.
"""

import shutil
import subprocess
import sys

import nbformat
import pytest
from paperlab.core.paths import notebooks_dir

BUILD = notebooks_dir() / "build"
BUILDERS = sorted(p for p in BUILD.glob("*.py")
                  if not p.name.startswith("_") and not p.stem.endswith("_text") and p.stem != "solutions")


def _cells(nb):
    return [(c.cell_type, c.source.strip(), tuple(c.get("metadata", {}).get("tags", []))) for c in nb.cells]


def _meta(nb):
    meta = dict(nb.metadata.get("paperlab", {}))
    return {k: v for k, v in meta.items() if not k.startswith("runtime_")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(BUILD, root / "notebooks" / "build")
    out = {}
    for b in BUILDERS:
        r = subprocess.run([sys.executable, str(root / "notebooks" / "build" / b.name)], cwd=root / "notebooks" / "build",
                           capture_output=True, text=True, timeout=300)
        out[b.stem] = r
    return root, out


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda p: p.stem)
def test_builder_matches_committed_notebook(built, builder):
    root, runs = built
    r = runs[builder.stem]
    assert r.returncode == 0, f"{builder.name} failed:\n{r.stderr[-2000:]}"
    made = [p for p in (root / "notebooks").glob("*.ipynb")]
    mine = [p for p in made if nbformat.read(p, as_version=4).metadata.get("paperlab", {}).get("module") in
            (builder.stem, builder.stem.replace("_", ""))]
    assert mine, f"{builder.name} wrote no notebook with paperlab.module={builder.stem!r} (wrote {[p.name for p in made]})"
    for p in mine:
        new = nbformat.read(p, as_version=4)
        committed = nbformat.read(notebooks_dir() / p.name, as_version=4)
        assert _meta(new) == _meta(committed), f"{p.name}: paperlab metadata differs from {builder.name}"
        a, b = _cells(new), _cells(committed)
        for i, (x, y) in enumerate(zip(a, b)):
            assert x == y, f"{p.name}: cell {i} differs from what {builder.name} generates:\n--- builder\n{x[1][:400]}\n--- committed\n{y[1][:400]}"
        assert len(a) == len(b), f"{p.name}: {len(b)} cells committed, {builder.name} generates {len(a)}"
