"""Helpers shared by the tests of the modules' ``train`` commands (the shared ``paperlab.core.cli``)."""

import pytest
import torch

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "PAPERLAB_DIST_BACKEND", "PAPERLAB_PROFILE")


def no_torchrun(monkeypatch) -> None:
    """A plain single-process start: no torchrun variables, no profile from the environment."""
    for k in TORCHRUN_ENV:
        monkeypatch.delenv(k, raising=False)


def reversed_order(fn, jobs, common):
    """A ``Run.map`` stand-in that runs the jobs last-first and returns the results in job order."""
    return [fn(**common, **job) for job in jobs[::-1]][::-1]


def usage_error(main, argv, capsys) -> str:
    """``main(argv)`` must stop with argparse's usage error (exit 2); returns what it printed to stderr.

    ``cli.start`` sets torch's thread count before it checks the options; it is restored here."""
    threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as exc:
            main(argv)
    finally:
        torch.set_num_threads(threads)
    assert exc.value.code == 2, f"{argv}: exit code {exc.value.code}, expected 2 (usage error)"
    return capsys.readouterr().err
