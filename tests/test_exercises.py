"""Exercise hygiene (#23): answers live in the library, never in a notebook.

Every paper notebook checks its exercises with its module's ``check_exercise(n, ...)``; no notebook cell calls the
generic ``checks.check_*`` with an expected value, and every exercise a notebook checks has a worked solution in
``paperlab.<module>.SOLUTIONS`` (rendered into ``solutions/``; run by ``tests/test_solutions.py``)."""

import importlib
import re

import nbformat
import pytest
from paperlab.core.paths import notebooks_dir

NUMBERED = sorted(p for p in notebooks_dir().glob("*.ipynb") if re.match(r"^\d\d_", p.name))


def _code(path):
    nb = nbformat.read(path, as_version=4)
    return nb, [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_exercises_use_the_module_checker_and_have_solutions(path):
    nb, cells = _code(path)
    module = nb.metadata["paperlab"]["module"]
    generic = [s.splitlines()[0] for s in cells if re.search(r"\bchecks\.check_\w+\(", s)]
    assert not generic, f"{path.name}: exercise cells call checks.check_* with the answer in the notebook: {generic}"
    numbers = sorted({int(n) for s in cells for n in re.findall(r"check_exercise\(\s*(\d+)", s)})
    assert numbers, f"{path.name}: no {module}.check_exercise(n, ...) call"
    mod = importlib.import_module(f"paperlab.{module}")
    assert callable(getattr(mod, "check_exercise", None)), f"paperlab.{module} has no check_exercise"
    missing = sorted(set(numbers) - set(getattr(mod, "SOLUTIONS", {})))
    assert not missing, f"paperlab.{module}.SOLUTIONS has no worked solution for exercises {missing}"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"solutions/{path.stem}.ipynb" in text, f"{path.name}: the Exercises section should point to solutions/{path.stem}.ipynb"
