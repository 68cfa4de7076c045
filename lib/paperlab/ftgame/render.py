"""Render sympy results as LaTeX in the notebook (never as raw ``Piecewise(...)`` / ``CRootOf(...)`` text)."""

from __future__ import annotations

import sympy as sp

from paperlab.ftgame.symbolic import DELTA


def latex(expr) -> str:
    """LaTeX of a sympy result; a ``CRootOf`` becomes "the root ~ value of the cubic <poly> = 0".

    A closed form (rational or radicals) is shown as it is; a root of a polynomial without a radical
    form that sympy returns is described as what it is, a root of that polynomial.
    """
    expr = sp.sympify(expr)
    roots = expr.atoms(sp.CRootOf)
    if not roots:
        return sp.latex(expr)
    if expr not in roots:
        raise ValueError(f"cannot render an expression that mixes a polynomial root with other terms: {expr}")
    poly = sp.Poly(expr.expr, expr.poly.gen).as_expr().subs(expr.poly.gen, DELTA)
    deg = sp.degree(poly, DELTA)
    name = {2: "quadratic", 3: "cubic", 4: "quartic"}.get(deg, f"degree-{deg} polynomial")
    return rf"\text{{the root }} \approx {float(expr):.4f} \text{{ of the {name} }} {sp.latex(poly)} = 0"


def equations(rows) -> str:
    """An aligned LaTeX block from (left side, right side) pairs; right sides may be sympy or LaTeX strings."""
    lines = [rf"{lhs} &= {rhs if isinstance(rhs, str) else latex(rhs)}" for lhs, rhs in rows]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def show(rows) -> None:
    """Display ``equations(rows)`` as math in Jupyter (prints the LaTeX elsewhere)."""
    from paperlab.core.nb import display_or_print

    display_or_print(equations(rows), "Math")
