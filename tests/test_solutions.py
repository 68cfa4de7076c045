"""Every worked solution in ``paperlab.<module>.SOLUTIONS`` passes its own notebook's checker, and the
committed ``solutions/`` notebooks are exactly what ``notebooks/build/solutions.py`` generates."""

import importlib
import sys

import nbformat
import pytest
from paperlab.core.paths import notebooks_dir

sys.path.insert(0, str(notebooks_dir() / "build"))
import solutions as S  # noqa: E402

sys.path.pop(0)

CASES = [(m, n) for m in S.NOTEBOOKS for n in sorted(getattr(importlib.import_module(f"paperlab.{m}"), "SOLUTIONS", {}))]


@pytest.mark.parametrize("module,n", CASES, ids=[f"{m}-{n}" for m, n in CASES])
def test_solution_is_correct(module, n):
    mod = importlib.import_module(f"paperlab.{module}")
    explanation, src = mod.SOLUTIONS[n]
    assert explanation.strip(), f"{module} exercise {n}: a solution needs a sentence of explanation"
    ns: dict = {}
    exec(S.SETUP.format(module=module), ns)
    exec(src, ns)
    assert ns.get("verdict") == "correct", f"{module} exercise {n}: the worked solution is judged {ns.get('verdict')!r}"


@pytest.mark.parametrize("module", [m for m in S.NOTEBOOKS if S.build(m) is not None])
def test_committed_solutions_notebook_matches_builder(module):
    made = S.build(module)
    committed = nbformat.read(S.ROOT / "solutions" / f"{S.NOTEBOOKS[module]}.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in made.cells] == [(c.cell_type, c.source) for c in committed.cells], \
        f"solutions/{S.NOTEBOOKS[module]}.ipynb is stale: run cd notebooks/build && python solutions.py"
