"""Notebook helpers: the first-cell ``setup()``, ``show_source``, result tables, Colab badge."""

from __future__ import annotations

import inspect
import logging
import os
import sys
import warnings
from functools import lru_cache
from importlib import metadata
from typing import Any

from paperlab.core.profiles import Profile, profile
from paperlab.core.seeding import seed_everything

COLAB_ROOT = "https://colab.research.google.com/github"
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"


@lru_cache(maxsize=1)
def repo_url() -> str:
    """The repository URL, read from pyproject's ``[project.urls] Repository`` (one place)."""
    try:
        urls = metadata.metadata("paperlab").get_all("Project-URL") or []
        for entry in urls:
            label, _, url = entry.partition(",")
            if label.strip().lower() == "repository":
                return url.strip().rstrip("/")
    except metadata.PackageNotFoundError:
        pass
    try:  # fall back to the checkout's pyproject (editable installs built before a URL change)
        from paperlab.core.paths import repo_root

        try:
            import tomllib
        except ModuleNotFoundError:  # pragma: no cover - python 3.10
            import tomli as tomllib
        data = tomllib.loads((repo_root() / "pyproject.toml").read_text())
        return data["project"]["urls"]["Repository"].rstrip("/")
    except Exception as exc:  # pragma: no cover
        raise RuntimeError("cannot find the repository URL in pyproject.toml") from exc


def colab_url(notebook: str, branch: str = "main") -> str:
    """Colab URL of ``notebooks/<notebook>`` on GitHub."""
    if not notebook.endswith(".ipynb"):
        notebook += ".ipynb"
    path = repo_url().removeprefix("https://github.com/")
    return f"{COLAB_ROOT}/{path}/blob/{branch}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the 'Open in Colab' badge of a notebook."""
    return f"[![Open In Colab]({BADGE_IMG})]({colab_url(notebook)})"


def colab_install_source() -> str:
    """The setup cell's source: on Colab, clone and install the repository, checking each step; elsewhere nothing.

    Plain Python (no ``!`` magics) so that each step's failure stops the notebook with a message saying
    what failed and what to do; a failed install is retried on the next run (the guard is "paperlab
    imports", not "the folder exists").
    """
    url = repo_url()
    return (
        "# On Colab: fetch the course and install it, checking each step (does nothing anywhere else).\n"
        "import os, shutil, subprocess, sys\n"
        "if 'google.colab' in sys.modules:\n"
        f"    REPO, DEST = '{url}.git', '/content/paperlab'\n"
        "    def _step(what, cmd, fix):\n"
        "        r = subprocess.run(cmd, capture_output=True, text=True)\n"
        "        if r.returncode != 0:\n"
        "            tail = (r.stderr or r.stdout).strip()[-1500:]\n"
        "            raise SystemExit(f'paperlab setup failed: could not {what}.\\n{tail}\\nWhat to do: {fix}')\n"
        "    if not os.path.exists(os.path.join(DEST, 'pyproject.toml')):\n"
        "        shutil.rmtree(DEST, ignore_errors=True)  # a half-finished clone from an earlier try\n"
        "        _step('download the course (git clone ' + REPO + ')', ['git', 'clone', '--depth', '1', REPO, DEST],\n"
        "              'this cell needs internet: check your connection (Colab: Runtime > Disconnect and delete runtime, '\n"
        "              'then run again), or upload a copy of the repository to ' + DEST + '.')\n"
        "    try:\n"
        "        import paperlab\n"
        "    except ImportError:\n"
        "        _step('install the course (pip install -e .[colab])',\n"
        "              [sys.executable, '-m', 'pip', 'install', '-q', '-e', DEST + '[colab]'],\n"
        "              'read the pip error above; re-run this cell to retry the install.')\n"
        "        sys.path.insert(0, os.path.join(DEST, 'lib'))\n"
        "        import paperlab\n"
        "    os.environ['PAPERLAB_HOME'] = DEST\n"
        "    print('paperlab installed from', DEST)"
    )


def in_colab() -> bool:
    return "google.colab" in sys.modules


def setup(seed: int = 0, quiet: bool = True) -> Profile:
    """First cell of every notebook: seeds, plot style, quiet loggers. Returns the profile."""
    P = profile()
    seed_everything(seed)
    if P.samples:
        print("gpu dry run: the gpu profile's code path on the CPU against the tiny format samples in data/samples/ "
              "(no network, no pretrained downloads, tiny sizes); its numbers mean nothing, it only shows every "
              "step runs. Unset PAPERLAB_SAMPLES for the real gpu run.")
    elif P.name == "gpu" and P.device != "cuda":
        print("note: the gpu profile was asked for but no CUDA GPU is visible: the paper-scale sizes will run on "
              "the CPU (slowly). On Colab choose Runtime > Change runtime type > GPU; elsewhere use "
              "PAPERLAB_PROFILE=cpu for the reduced experiment.")
    try:
        import torch

        if P.name != "gpu" or P.samples:
            from paperlab.core.env import env_int

            torch.set_num_threads(min(os.cpu_count() or 1, env_int("PAPERLAB_THREADS", 2, minimum=1)))
    except ImportError:  # pragma: no cover
        pass
    from paperlab.core import plots

    plots.style()
    if quiet:
        for name in ("transformers", "open_clip", "urllib3", "matplotlib", "PIL", "timm", "root"):
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=UserWarning, module="torch")
        warnings.filterwarnings("ignore", category=FutureWarning)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_OFFLINE", "1" if P.name != "gpu" else os.environ.get("HF_HUB_OFFLINE", "1" if P.samples else "0"))
    print(f"paperlab profile: {P} | seed {seed}")
    return P


def source_of(obj: Any) -> str:
    """The real source of a library object (function, class, method or module)."""
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show_source() needs a function, class or module defined in Python, got {obj!r}") from exc


def show_source(obj: Any) -> None:
    """Display the source of ``obj`` with syntax highlighting (plain text outside Jupyter)."""
    code = source_of(obj)
    where = f"{getattr(obj, '__module__', '') or ''}.{getattr(obj, '__qualname__', getattr(obj, '__name__', ''))}"
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is None:
            raise ImportError
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        fmt = HtmlFormatter(noclasses=True, style="default")
        html = f"<div style='font-size:85%'><b>{where.strip('.')}</b>{highlight(code, PythonLexer(), fmt)}</div>"
        display(HTML(html))
    except ImportError:
        print(f"# {where.strip('.')}\n{code}")


def results_table(rows: list[dict], floatfmt: str = "{:.3f}"):
    """A pandas DataFrame of result rows, floats formatted; displays nicely in Jupyter."""
    import pandas as pd

    if not rows:
        raise ValueError("results_table() got no rows")
    df = pd.DataFrame(rows)
    for col in df.columns:
        if df[col].dtype.kind == "f":
            df[col] = df[col].map(lambda v: floatfmt.format(v) if v == v else "")
    return df


def mean_std(values, fmt: str = "{:.3f}") -> str:
    """'m ± s' over seeds (sample std, ddof=1 when there is more than one value)."""
    import numpy as np

    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        raise ValueError("mean_std() of no values")
    s = arr.std(ddof=1) if arr.size > 1 else 0.0
    return f"{fmt.format(arr.mean())} ± {fmt.format(s)}"


def say(text: str) -> None:
    """Render a markdown paragraph whose numbers come from the run (so a re-run cannot make it false).

    Build ``text`` with an f-string of measured values in the notebook, e.g.
    ``nb.say(f"MMAC cuts ASR to {asr:.2f} (interval {lo:.2f}-{hi:.2f}).")``. Prints the text outside Jupyter.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("say() needs a non-empty markdown string")
    display_or_print(text, "Markdown")


def display_or_print(text: str, kind: str = "Markdown") -> None:
    """Show ``text`` as an ``IPython.display`` object of ``kind`` ("Markdown", "Math", "HTML") in Jupyter; print it elsewhere."""
    try:
        from IPython import display as ipd
        from IPython import get_ipython

        if get_ipython() is not None:
            ipd.display(getattr(ipd, kind)(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)


def claims_table(records: list[dict]):
    """The recorded claims as a compact table: claim, effect [interval], minimum effect, instrument, verdict.

    ``records`` are the objects ``claims.record(...)`` returned.
    """
    import pandas as pd

    from paperlab.core.claims import format_interval

    if not records:
        raise ValueError("claims_table() got no records")
    rows = []
    for r in records:
        inst = r.get("instrument")
        rows.append({
            "claim": r["claim"],
            "effect [95% interval]": format_interval(r),
            "min effect": "—" if r.get("min_effect") is None else f"{r['min_effect']:g}",
            "instrument": "—" if not inst else f"{'✓' if inst['passed'] else '✗'} {inst['check']} = {inst['value']:.3g} ({inst['threshold']})",
            "verdict": r["verdict"] + (f" ({r['secondary_tally']})" if r.get("secondary_tally") else ""),
        })
    return pd.DataFrame(rows)
