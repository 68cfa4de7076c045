"""Hygiene of every notebook: the template's sections, badge, stored outputs, no errors, size cap."""

import re
from pathlib import Path

import nbformat
import pytest
from paperlab.core.paths import notebooks_dir

SECTIONS = [
    "## Setup",
    "## The paper in one page",
    "## Data",
    "## Method",
    "## Experiment",
    "## Results vs the paper",
    "## Ablation",
    "## Exercises",
    "## Summary and references",
]
MAX_BYTES = 3 * 1024 * 1024
NUMBERED = sorted(p for p in notebooks_dir().glob("*.ipynb") if re.match(r"^\d\d_", p.name))
TEMPLATE = notebooks_dir() / "_template.ipynb"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _headings(nb) -> list[str]:
    out = []
    for c in nb.cells:
        if c.cell_type == "markdown":
            out += [line.strip() for line in c.source.splitlines() if line.startswith("## ")]
    return out


@pytest.mark.parametrize("path", [TEMPLATE, *NUMBERED], ids=lambda p: p.name)
def test_sections_in_order(path):
    heads = _headings(_read(path))
    pos = []
    for s in SECTIONS:
        hits = [i for i, h in enumerate(heads) if h.startswith(s)]
        assert hits, f"{path.name} lacks the section '{s}'"
        pos.append(hits[0])
    assert pos == sorted(pos), f"{path.name}: template sections out of order"


@pytest.mark.parametrize("path", [TEMPLATE, *NUMBERED], ids=lambda p: p.name)
def test_title_badge_runtime_parameters(path):
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell must be the title"
    assert "colab.research.google.com/assets/colab-badge.svg" in first.source, "Colab badge missing"
    assert f"notebooks/{path.name}" in first.source, "badge must point at this notebook"
    assert "runs in" in first.source.lower(), "state the runtime per profile in the title cell"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters-tagged cell"
    assert "P.pick(" in tagged[0].source
    others = [c for c in nb.cells if c.cell_type == "code" and c is not tagged[0] and ".pick(" in c.source]
    assert not others, "only the parameters cell looks at the profile"


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_metadata_and_claims(path):
    nb = _read(path)
    meta = nb.metadata.get("paperlab", {})
    for key in ("module", "paper", "url", "claim"):
        assert meta.get(key), f"notebook metadata paperlab.{key} missing"
    assert meta["module"] == path.stem.split("_", 1)[1]
    assert any("claims.record(" in c.source for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", [TEMPLATE, *NUMBERED], ids=lambda p: p.name)
def test_outputs_stored_no_errors_size(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is over 3 MB"
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    missing = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not missing, f"{path.name}: code cells without stored execution (run `make reproduce NB={path.stem}`)"
    counts = [c.execution_count for c in code]
    assert counts == sorted(counts), f"{path.name}: cells were not run top to bottom"
    for c in code:
        for o in c.get("outputs", []):
            assert o.output_type != "error", f"{path.name}: stored error output"


def test_template_exists():
    assert TEMPLATE.exists()


def _undisplayed_tables(body: list, cell_last: bool) -> list[int]:
    """Line numbers of bare ``...results_table(...)`` statements that Jupyter never shows: any but a cell's last
    top-level statement (inside a block or mid-cell, a bare expression's value is discarded)."""
    import ast

    out = []
    for i, st in enumerate(body):
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
            f = st.value.func
            if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) == "results_table" and not (
                    cell_last and i == len(body) - 1):
                out.append(st.lineno)
        for field in ("body", "orelse", "finalbody", "handlers"):
            sub = getattr(st, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], (ast.stmt, ast.excepthandler)):
                out += _undisplayed_tables(sub, False)
    return out


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_every_results_table_is_shown(path):
    """A table built mid-cell without display(...) is silently dropped: the reader never sees it."""
    import ast

    bad = []
    for i, c in enumerate(_read(path).cells):
        if c.cell_type == "code":
            try:
                tree = ast.parse(c.source)
            except SyntaxError:  # IPython magics; none of ours build tables
                continue
            bad += [f"cell {i}, line {ln}" for ln in _undisplayed_tables(tree.body, True)]
    assert not bad, f"{path.name}: results_table(...) neither displayed nor last in its cell at {bad}"


def test_undisplayed_table_detector():
    import ast

    src = "t = 1\nnb.results_table(rows)\nif t:\n    nb.results_table(rows)\nnb.results_table(rows)\n"
    assert _undisplayed_tables(ast.parse(src).body, True) == [2, 4]
    assert _undisplayed_tables(ast.parse("display(nb.results_table(rows))\nx = 1").body, True) == []
