"""Shared by the notebook builders (``python notebooks/build/<module>.py``): the cell list and its helpers.

A builder does ``from _common import cells, code, md`` (the builders run as scripts, so this folder is on
``sys.path``), appends its cells in order with ``md(...)`` and ``code(..., tags=[...])``, and writes
``cells`` into its notebook. Each builder runs in its own process, so ``cells`` starts empty every time.
"""

import nbformat as nbf

cells: list = []


def md(text: str) -> None:
    """Append a markdown cell (surrounding blank lines and spaces removed)."""
    cells.append(nbf.v4.new_markdown_cell(text.strip()))


def code(text: str, tags: list[str] | None = None) -> None:
    """Append a code cell; ``tags`` e.g. ``["parameters"]`` for the one cell that reads the profile."""
    c = nbf.v4.new_code_cell(text.strip())
    if tags:
        c.metadata["tags"] = tags
    cells.append(c)


def notebook(module: str, paper: str, url: str, claim: str):
    """The notebook holding ``cells``, with the kernel and the ``paperlab`` metadata the hygiene tests require."""
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "paperlab": {"module": module, "paper": paper, "url": url, "claim": claim},
    }
    return nb
