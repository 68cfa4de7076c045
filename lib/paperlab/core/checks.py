"""Exercise checkers. Each prints one verdict: not attempted / incorrect / close / correct.

An exercise cell sets a variable to ``...`` (Ellipsis) or ``None``; the student replaces it.
The checker returns the verdict string so tests can assert on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NOT_ATTEMPTED = "not attempted"
INCORRECT = "incorrect"
CLOSE = "close"
CORRECT = "correct"


def _attempted(value: Any) -> bool:
    return value is not Ellipsis and value is not None and value is not NotImplemented


def _say(name: str, verdict: str, hint: str = "") -> str:
    mark = {NOT_ATTEMPTED: "·", INCORRECT: "✗", CLOSE: "~", CORRECT: "✓"}[verdict]
    # hints only after an attempt that was not right: never before the student has tried
    show = hint and verdict in (INCORRECT, CLOSE)
    print(f"{mark} {name}: {verdict}" + (f" — {hint}" if show else ""))
    return verdict


def check_close(name: str, answer: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8,
                close_rtol: float = 0.1, hint: str = "") -> str:
    """Numbers or arrays: correct within (rtol, atol), close within ``close_rtol``, else incorrect."""
    if not _attempted(answer):
        return _say(name, NOT_ATTEMPTED, hint)
    try:
        a = np.asarray(_to_np(answer), dtype=float)
        e = np.asarray(_to_np(expected), dtype=float)
    except (TypeError, ValueError):
        return _say(name, INCORRECT, "expected a number or an array of numbers")
    if a.shape != e.shape:
        return _say(name, INCORRECT, f"expected shape {e.shape}, got {a.shape}")
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return _say(name, CORRECT)
    if np.allclose(a, e, rtol=close_rtol, atol=atol):
        return _say(name, CLOSE, hint or "nearly there")
    return _say(name, INCORRECT, hint)


def check_equal(name: str, answer: Any, expected: Any, hint: str = "") -> str:
    """Exact equality (strings, ints, sets, sympy expressions via simplify)."""
    if not _attempted(answer):
        return _say(name, NOT_ATTEMPTED, hint)
    try:
        import sympy

        if isinstance(answer, sympy.Basic) or isinstance(expected, sympy.Basic):
            ok = sympy.simplify(sympy.sympify(answer) - sympy.sympify(expected)) == 0
            return _say(name, CORRECT if ok else INCORRECT, hint)
    except ImportError:  # pragma: no cover
        pass
    return _say(name, CORRECT if answer == expected else INCORRECT, hint)


def check_true(name: str, answer: Any, predicate, close_predicate=None, hint: str = "") -> str:
    """``predicate(answer)`` decides correct; optional ``close_predicate`` decides close."""
    if not _attempted(answer):
        return _say(name, NOT_ATTEMPTED, hint)
    try:
        if predicate(answer):
            return _say(name, CORRECT)
        if close_predicate is not None and close_predicate(answer):
            return _say(name, CLOSE, hint)
    except Exception as exc:  # a wrong answer type is an incorrect answer, with the reason
        return _say(name, INCORRECT, f"{type(exc).__name__}: {exc}")
    return _say(name, INCORRECT, hint)


def check_choice(name: str, answer: Any, correct: str | set, options: list[str], hint: str = "") -> str:
    """Multiple choice: ``answer`` must be one of ``options``."""
    if not _attempted(answer):
        return _say(name, NOT_ATTEMPTED, hint)
    if answer not in options:
        return _say(name, INCORRECT, f"choose one of {options}")
    ok = answer in correct if isinstance(correct, set) else answer == correct
    return _say(name, CORRECT if ok else INCORRECT, hint)


def check_function(name: str, fn: Any, reference, inputs: list, rtol: float = 1e-5, atol: float = 1e-6,
                   hint: str = "") -> str:
    """A student's function against the reference on several inputs (tensors or arrays)."""
    if not _attempted(fn) or not callable(fn):
        return _say(name, NOT_ATTEMPTED if not _attempted(fn) else INCORRECT, hint)
    n_ok = 0
    for args in inputs:
        args = args if isinstance(args, tuple) else (args,)
        try:
            got = np.asarray(_to_np(fn(*args)), dtype=float)
        except NotImplementedError:
            return _say(name, NOT_ATTEMPTED, hint)
        except Exception as exc:
            return _say(name, INCORRECT, f"{type(exc).__name__}: {exc}")
        want = np.asarray(_to_np(reference(*args)), dtype=float)
        if got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol):
            n_ok += 1
    if n_ok == len(inputs):
        return _say(name, CORRECT)
    if n_ok > 0:
        return _say(name, CLOSE, f"{n_ok}/{len(inputs)} cases match; {hint}")
    return _say(name, INCORRECT, hint)


def _to_np(x):
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    return x
