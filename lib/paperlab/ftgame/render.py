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


def method_figure(ax=None):
    """The game's order of moves (left to right) and the code that solves each stage (right to left)."""
    from paperlab.core import plots

    boxes = {
        "bargain": (0.1, 0.62, "0. bargain\nshare δ for G, 1-δ for D\n(bargaining_solutions,\nPareto set)", "#fff2cc"),
        "g": (0.36, 0.62, "1. G builds α0,\npays φ0(α0)\n(SPE.g_stage)"),
        "d": (0.62, 0.62, "2. D fine-tunes α1 ≥ α0,\npays φ1(α1; α0)\n(SPE.d_stage: best_response)"),
        "m": (0.88, 0.62, "3. market\nrevenue r(α1),\nsplit δ : (1-δ)", "#eeeeee"),
        "solve": (0.5, 0.14, "solve_spe: backward induction, D's reply first, then G's choice,\n"
                             "then payoffs U_G*(δ), U_D*(δ) for every δ", "#dbf6e0"),
    }
    arrows = [("bargain", "g"), ("g", "d"), ("d", "m"), ("solve", "d", "", "--"), ("solve", "g", "", "--"),
              ("solve", "bargain", "", "--")]
    ax = plots.block_diagram(boxes, arrows, ax=ax, size=(10, 3.4),
                             title="The fine-tuning game: time runs left to right; the solver works right to left")
    return ax


REGIME_COLOURS = ("#4c9a2a", "#f2c14e", "#c8553d")  # contribute, free-ride, abstain


def regime_map_figure(maps, rho1s, kap1s):
    """Three panels, one per domain: its regime over (rho_1, kappa_1) (``experiment.regime_map``)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from paperlab.ftgame.multi import REGIMES

    cmap = ListedColormap(REGIME_COLOURS)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), sharey=True)
    for i, ax in enumerate(axes):
        ax.imshow(maps[i], origin="lower", cmap=cmap, vmin=0, vmax=2, aspect="auto",
                  extent=[rho1s[0], rho1s[-1], kap1s[0], kap1s[-1]])
        ax.set_title(f"domain {i + 1}'s regime", fontsize=9)
        ax.set_xlabel("ρ1: domain 1 revenue per unit")
    axes[0].set_ylabel("κ1: domain 1 entry cost")
    fig.legend(handles=[Patch(color=cmap(j), label=r) for j, r in enumerate(REGIMES)], loc="upper center",
               ncol=3, fontsize=8, bbox_to_anchor=(0.5, 1.08))
    fig.suptitle("Regimes with n = 3 specialists as domain 1's economics change", y=1.15, fontsize=10)
    return fig


def pareto_pieces_figure(U, mask, deltas, n_pieces: int):
    """Equilibrium payoffs of G and three domains against the common share, the Pareto shares shaded."""
    import matplotlib.pyplot as plt

    from paperlab.ftgame.numeric import runs

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for j, lab in enumerate(["G", "domain 1", "domain 2", "domain 3"]):
        ax.plot(deltas, U[:, j], lw=1.5 if j == 0 else 1, label=lab)
    for s, e in runs(mask, min_len=3):
        ax.axvspan(deltas[s], deltas[e], color="0.85", zorder=0)
    ax.set(xlabel="common share δ kept by G", ylabel="equilibrium payoff (money)",
           title=f"Pareto-optimal shares (shaded): {n_pieces} separate pieces")
    ax.legend(fontsize=8)
    return fig


def frontier_explorer(c0=1.0, c1=2.0, p=1.0, k=2.0, n_deltas: int = 21):
    """The explorer's view: the payoff frontier from ``spe_grid`` on a coarse delta grid, the Pareto points and the
    four bargaining solutions picked on the grid (works where sympy finds no closed form, e.g. p < 1)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from paperlab.ftgame.numeric import pareto_mask, spe_grid

    d = np.linspace(0, 1, n_deltas)
    g = spe_grid(d, c0, c1, k=k, p=p)
    ug, ud = g["U_G"], g["U_D"]
    mask = pareto_mask(np.column_stack([ug, ud]))
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(ug, ud, ".-", color="0.6", label="δ grid")
    ax.plot(ug[mask], ud[mask], "k.", ms=9, label="Pareto (on grid)")
    picks = {"utilitarian": ug + ud, "egalitarian": np.minimum(ug, ud), "nash": ug * ud,
             "kalai_smorodinsky": np.minimum(ug / ug.max(), ud / ud.max())}
    for (name, score), m in zip(picks.items(), "os^D"):
        j = int(np.argmax(score))
        ax.plot(ug[j], ud[j], m, ms=8, label=f"{name} δ≈{d[j]:.2f}")
    ax.set(xlabel="G's payoff U_G* (money)", ylabel="D's payoff U_D* (money)",
           title=f"Grid frontier: c0={c0:g}, c1={c1:g}, r=α^{p:g}, cost exponent k={k:g}")
    ax.legend(fontsize=7)
    plt.show()
