"""Builds ``solutions/NN_<module>.ipynb``: the worked answers to each paper notebook's exercises.

The answers live in the library, next to the checkers, as ``paperlab.<module>.SOLUTIONS``: a dict from the
exercise number to ``(explanation, code)``. The code runs in a fresh kernel after the notebook's first cell,
builds what it needs, and ends with ``verdict = <module>.check_exercise(n, ...)``; ``tests/test_solutions.py``
runs every one and requires ``"correct"``. Run: ``cd notebooks/build && python solutions.py``.
"""

import importlib
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[2]
# the notebook each module's exercises come from, in course order
NOTEBOOKS = {
    "clip": "00_clip", "coop": "01_coop", "mudpt": "02_mudpt", "modality": "03_modality",
    "hyperens": "04_hyperens", "backdoor": "05_backdoor", "pmaa": "06_pmaa", "pat": "07_pat",
    "pointmbf": "08_pointmbf", "prop": "09_prop", "scicot": "10_scicot", "ftgame": "11_ftgame",
}
SETUP = """import numpy as np
import torch
from paperlab import {module}"""


def build(module: str) -> nbf.NotebookNode | None:
    mod = importlib.import_module(f"paperlab.{module}")
    sols = getattr(mod, "SOLUTIONS", None)
    if not sols:
        return None
    name = NOTEBOOKS[module]
    cells = [
        nbf.v4.new_markdown_cell(
            f"# Solutions to the exercises of `{name}.ipynb`\n\n"
            f"Try each exercise in [the notebook](../notebooks/{name}.ipynb) first: the checker there says "
            "*incorrect* or *close* and gives a hint only after an attempt. Each solution below runs on its own "
            "(no trained model needed) and ends with the same checker the notebook calls."),
        nbf.v4.new_code_cell(SETUP.format(module=module)),
    ]
    for n in sorted(sols):
        explanation, src = sols[n]
        cells.append(nbf.v4.new_markdown_cell(f"## Exercise {n}\n\n{explanation.strip()}"))
        cells.append(nbf.v4.new_code_cell(src.strip()))
    for i, c in enumerate(cells):  # stable ids: a rebuild changes nothing unless a solution changed
        c["id"] = f"{module}-{i:02d}"
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}, "paperlab": {"solutions_for": name, "module": module}}
    return nb


def main() -> None:
    out = ROOT / "solutions"
    out.mkdir(exist_ok=True)
    for module, name in NOTEBOOKS.items():
        nb = build(module)
        if nb is not None:
            nbf.write(nb, out / f"{name}.ipynb")


if __name__ == "__main__":
    main()
