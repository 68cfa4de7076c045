"""Run notebooks in place (cpu profile by default), then write reports/CLAIMS.md and the README course map.

    python -m paperlab.reproduce                 # every numbered notebook
    python -m paperlab.reproduce --nb 04_hyperens
    python -m paperlab.reproduce --report-only   # only regenerate CLAIMS.md and the README table

A notebook that fails does not stop the others; the command exits non-zero and names the notebook
and the cell that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from paperlab.core.paths import notebooks_dir, repo_root, reports_dir
from paperlab.core.profiles import PROFILES

MAP_START = "<!-- course-map:start -->"
MAP_END = "<!-- course-map:end -->"
NB_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def list_notebooks() -> list[Path]:
    return sorted(p for p in notebooks_dir().glob("*.ipynb") if NB_PATTERN.match(p.name))


def resolve(names: list[str] | None) -> list[Path]:
    """Notebook paths for names like '04_hyperens' (or all). Unknown names: an error listing the valid ones."""
    all_nbs = list_notebooks()
    if not names:
        return all_nbs
    by_name = {p.stem: p for p in all_nbs}
    by_name.update({"_template": notebooks_dir() / "_template.ipynb"})
    out = []
    for n in names:
        stem = Path(n).stem
        if stem not in by_name or not by_name[stem].exists():
            valid = ", ".join(sorted(by_name))
            raise SystemExit(f"error: no notebook named {n!r}. Valid notebooks: {valid}")
        out.append(by_name[stem])
    return out


def module_of(nb_path: Path) -> str:
    return nb_path.stem.split("_", 1)[1] if nb_path.stem[:2].isdigit() else nb_path.stem.lstrip("_")


class CellError(RuntimeError):
    def __init__(self, nb: str, cell: int, message: str):
        super().__init__(f"{nb}: cell {cell} failed: {message}")
        self.nb, self.cell = nb, cell


def run_notebook(path: Path, profile: str = "cpu", timeout: int = 1800, progress: bool = True) -> float:
    """Execute ``path`` (a copy in memory) and write it back only if every cell ran; returns the wall time.

    A cell error, a cell timeout or a dead kernel raises :class:`CellError`; the committed notebook is
    left untouched and the failed run is saved to a temporary file named in the message.
    """
    import tempfile

    import nbformat
    from nbclient import NotebookClient
    from tqdm.auto import tqdm

    from paperlab.core.io import atomic_write_text

    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    os.environ["PAPERLAB_PROFILE"] = profile
    bar = tqdm(total=n_code, desc=f"{path.stem} cells", leave=False, disable=not progress)
    state = {"index": -1}

    def on_start(cell, cell_index):
        state["index"] = cell_index

    def on_done(cell, cell_index, execute_reply):
        bar.update(1)

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            on_cell_start=on_start, on_cell_executed=on_done)
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        fd, failed = tempfile.mkstemp(prefix=f"{path.stem}-failed-", suffix=".ipynb")
        os.close(fd)
        nbformat.write(nb, failed)
        text = str(exc).strip()
        msg = f"{type(exc).__name__}: {text.splitlines()[-1] if text else ''}".strip()
        raise CellError(path.name, state["index"], f"{msg} (notebook left unchanged; the failed run is in {failed})") from exc
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    nb.metadata.setdefault("paperlab", {})[f"runtime_{profile}_s"] = round(wall, 1)
    atomic_write_text(path, nbformat.writes(nb) + "\n")
    return wall


def _runtimes_path() -> Path:
    return reports_dir() / "runtimes.json"


def save_runtime(nb: str, profile: str, wall: float) -> None:
    from paperlab.core.io import atomic_write_text, locked

    p = _runtimes_path()
    with locked(p):
        data = json.loads(p.read_text()) if p.exists() else {}
        data.setdefault(nb, {})[profile] = round(wall, 1)
        atomic_write_text(p, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _nb_meta(path: Path) -> dict:
    import nbformat

    return nbformat.read(path, as_version=4).metadata.get("paperlab", {})


def _claims(module: str) -> list[dict]:
    p = reports_dir() / "claims" / f"{module}.json"
    return json.loads(p.read_text()) if p.exists() else []


ORDER = ("held", "not held", "inconclusive", "not testable here", "not run")


def _verdict_counts(claims: list[dict]) -> str:
    if not claims:
        return "not yet measured"
    paper = [c for c in claims if c.get("kind") != "derivation"]
    counts = {v: sum(c["verdict"] == v for c in paper) for v in ORDER}
    out = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    der = [c for c in claims if c.get("kind") == "derivation"]
    if der:
        ok = sum(c["verdict"] == "verified" for c in der)
        out += ("; " if out else "") + f"{ok}/{len(der)} derivations verified"
    return out


def course_summary() -> str:
    """One line counting the verdicts of every paper claim in the course."""
    allc = [c for f in sorted((reports_dir() / "claims").glob("*.json")) if f.stem != "template"
            for c in json.loads(f.read_text())]
    paper = [c for c in allc if c.get("kind") != "derivation"]
    counts = {v: sum(c["verdict"] == v for c in paper) for v in ORDER}
    der = [c for c in allc if c.get("kind") == "derivation"]
    line = f"**{len(paper)} claims:** " + ", ".join(f"{n} {v}" for v, n in counts.items())
    if der:
        line += f"; plus {sum(c['verdict'] == 'verified' for c in der)}/{len(der)} verified derivations"
    return line + "."


def course_map() -> str:
    from paperlab.core.nb import BADGE_IMG, colab_url

    runtimes = json.loads(_runtimes_path().read_text()) if _runtimes_path().exists() else {}
    rows = [course_summary(), "",
            "| notebook | paper | the claim | verdicts (cpu profile) | cpu runtime | Colab |",
            "|---|---|---|---|---|---|"]
    for p in list_notebooks():
        meta = _nb_meta(p)
        rt = runtimes.get(p.stem, {}).get("cpu")
        rt_s = f"{rt / 60:.1f} min" if rt else "—"
        paper = meta.get("paper", "?")
        if meta.get("url"):
            paper = f"[{paper}]({meta['url']})"
        rows.append(
            f"| [{p.stem}](notebooks/{p.name}) | {paper} | {meta.get('claim', '?')} | "
            f"{_verdict_counts(_claims(module_of(p)))} | {rt_s} | [![Colab]({BADGE_IMG})]({colab_url(p.name)}) |"
        )
    return "\n".join(rows)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ours(c: dict) -> str:
    o = c.get("ours", {})
    if o.get("mean") is None:
        return "—"
    sd = f" ± {o['std']:.2g}" if o.get("std") else ""
    return f"{o['metric']}: {o['mean']:.4g}{sd} ({c.get('n_seeds', len(c['seeds']))} seeds)"


def _effect(c: dict) -> str:
    from paperlab.core.claims import format_interval

    if c.get("interval") is None:
        return "—"
    lvl = c.get("level")
    lvl_s = f"{lvl:.0%} " if lvl and c.get("kind") != "derivation" else ""
    rng = c.get("range")
    if c.get("kind") == "threshold" and rng:
        target = f"claimed in [{'-inf' if rng[0] is None else f'{rng[0]:g}'}, {'inf' if rng[1] is None else f'{rng[1]:g}'}]"
    elif c.get("kind") == "derivation":
        target = f"tolerance {c['min_effect']:g}"
    else:
        target = f"min effect {c['min_effect']:g}; detectable ±{c.get('detectable', float('nan')):.2g}"
    return f"{format_interval(c)} ({lvl_s}{c.get('interval_method', '')}); {target}"


def _instrument(c: dict) -> str:
    i = c.get("instrument")
    if not i:
        return "—"
    return f"{'passed' if i['passed'] else '**failed**'}: {i['check']} = {i['value']:.4g} (needs {i['threshold']})"


def claims_markdown() -> str:
    lines = ["# Claims, as measured", "",
             "Generated by `make reproduce` from `reports/claims/*.json` (cpu profile). Each verdict is computed",
             "in its notebook by a rule of `paperlab.core.claims` from the interval, the minimum meaningful effect",
             "and the instrument check shown; nothing here is typed by hand. See the README, *How claims are judged*.",
             "", course_summary(), ""]
    files = sorted((reports_dir() / "claims").glob("*.json"))
    if not files:
        lines.append("No claims recorded yet.")
    for f in files:
        claims = json.loads(f.read_text())
        lines += [f"## {f.stem}", "",
                  "| claim | paper | ours | effect [interval] vs the claim | instrument check | verdict | secondary |",
                  "|---|---|---|---|---|---|---|"]
        for c in claims:
            verdict = c["verdict"] + (" (derivation)" if c.get("kind") == "derivation" else "")
            lines.append(f"| {_cell(c['claim'])} | {_cell(c['paper_value'])} | {_cell(_ours(c))} | {_cell(_effect(c))} | "
                         f"{_cell(_instrument(c))} | **{verdict}** | {_cell(c.get('secondary_tally', '—'))} |")
        lines.append("")
        for c in claims:
            why_min = f" Minimum effect: {c['min_effect_why']}" if c.get("min_effect_why") else ""
            lines.append(f"- *{c['claim']}*: {c['why']}{why_min} Rule: {c['rule']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_reports() -> None:
    from paperlab.core.io import atomic_write_text

    (reports_dir()).mkdir(exist_ok=True)
    atomic_write_text(reports_dir() / "CLAIMS.md", claims_markdown())
    readme = repo_root() / "README.md"
    text = readme.read_text()
    if MAP_START not in text or MAP_END not in text:
        raise RuntimeError(f"README.md lacks the course-map markers {MAP_START} ... {MAP_END}")
    head, rest = text.split(MAP_START, 1)
    _, tail = rest.split(MAP_END, 1)
    atomic_write_text(readme, f"{head}{MAP_START}\n{course_map()}\n{MAP_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nb", action="append", help="notebook name, e.g. 04_hyperens (repeatable; default all)")
    ap.add_argument("--profile", default="cpu", help=f"one of {PROFILES} (default cpu)")
    ap.add_argument("--full", action="store_true", help="retrain checkpoints (PAPERLAB_RETRAIN=1)")
    ap.add_argument("--report-only", action="store_true", help="only regenerate CLAIMS.md and the README map")
    ap.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
    ap.add_argument("--check-nb", help="only check that a notebook name exists (used by make train)")
    args = ap.parse_args(argv)
    if args.check_nb:
        (path,) = resolve([args.check_nb])
        from paperlab.core.cli import uses_shared_cli

        trainable = [p.stem for p in list_notebooks() if uses_shared_cli(module_of(p))]
        if path.stem not in trainable:
            what = "the notebook skeleton" if path.stem == "_template" else "a notebook whose module has no train command"
            raise SystemExit(f"error: {path.stem} is {what}: nothing to train. "
                             f"make train NB=... takes one of: {', '.join(trainable)}")
        return 0
    if args.profile not in PROFILES:
        raise SystemExit(f"error: unknown profile {args.profile!r}; valid profiles are {', '.join(PROFILES)}")
    names = [n for item in (args.nb or []) for n in re.split(r"[ ,]+", item) if n]
    nbs = resolve(names)
    if args.full:
        os.environ["PAPERLAB_RETRAIN"] = "1"
    failures: list[str] = []
    if not args.report_only:
        from tqdm.auto import tqdm

        for path in tqdm(nbs, desc="notebooks"):
            # every claim is re-measured, none carried over; but a failed run restores the committed ones
            stale = reports_dir() / "claims" / f"{module_of(path)}.json"
            backup = stale.read_bytes() if args.profile == "cpu" and stale.exists() else None
            if backup is not None:
                stale.unlink()
            try:
                wall = run_notebook(path, profile=args.profile, timeout=args.timeout)
                save_runtime(path.stem, args.profile, wall)
                print(f"  {path.name}: {wall:.1f} s", flush=True)
            except CellError as exc:
                if backup is not None:
                    from paperlab.core.io import atomic_write_bytes

                    atomic_write_bytes(stale, backup)
                failures.append(str(exc))
                print(f"  FAILED {exc}", file=sys.stderr, flush=True)
    if args.profile == "cpu":
        write_reports()
        print(f"wrote {reports_dir() / 'CLAIMS.md'} and the README course map")
    if failures:
        print("\nfailed notebooks:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
