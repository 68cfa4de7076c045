import numpy as np
import sympy
from paperlab.core import checks


def test_not_attempted_close_correct_incorrect(capsys):
    assert checks.check_close("q", ..., 1.0) == checks.NOT_ATTEMPTED
    assert checks.check_close("q", None, 1.0) == checks.NOT_ATTEMPTED
    assert checks.check_close("q", 1.0, 1.0) == checks.CORRECT
    assert checks.check_close("q", 1.05, 1.0) == checks.CLOSE
    assert checks.check_close("q", 2.0, 1.0) == checks.INCORRECT
    assert checks.check_close("q", [1, 2], [1, 2, 3]) == checks.INCORRECT
    assert "correct" in capsys.readouterr().out


def test_equal_with_sympy():
    x = sympy.Symbol("x")
    assert checks.check_equal("s", (x + 1) ** 2, x**2 + 2 * x + 1) == checks.CORRECT
    assert checks.check_equal("s", x, x + 1) == checks.INCORRECT
    assert checks.check_equal("s", "a", "a") == checks.CORRECT


def test_true_and_choice():
    assert checks.check_true("t", 5, lambda v: v > 3) == checks.CORRECT
    assert checks.check_true("t", 2, lambda v: v > 3, lambda v: v > 1) == checks.CLOSE
    assert checks.check_true("t", "x", lambda v: v > 3) == checks.INCORRECT
    assert checks.check_choice("c", "b", "b", ["a", "b"]) == checks.CORRECT
    assert checks.check_choice("c", "z", "b", ["a", "b"]) == checks.INCORRECT


def test_function_checker():
    def ref(x):
        return x * 2

    def stub(x):
        raise NotImplementedError

    assert checks.check_function("f", lambda x: x * 2, ref, [np.arange(3), np.ones(2)]) == checks.CORRECT
    assert checks.check_function("f", stub, ref, [np.arange(3)]) == checks.NOT_ATTEMPTED
    assert checks.check_function("f", lambda x: x * 2 * (x.size == 3), ref, [np.arange(3), np.ones(2)]) == checks.CLOSE
    assert checks.check_function("f", lambda x: x, ref, [np.ones(3)]) == checks.INCORRECT


def test_hint_only_after_a_wrong_attempt(capsys):
    checks.check_close("q", ..., 1.0, hint="think about the sign")
    assert "think about the sign" not in capsys.readouterr().out
    checks.check_close("q", -1.0, 1.0, hint="think about the sign")
    assert "think about the sign" in capsys.readouterr().out
    checks.check_close("q", 1.0, 1.0, hint="think about the sign")
    assert "think about the sign" not in capsys.readouterr().out
