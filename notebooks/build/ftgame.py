"""Build notebooks/11_ftgame.ipynb (unexecuted); then `make reproduce NB=11_ftgame` runs it.

Usage: .venv/bin/python notebooks/build/ftgame.py
"""

from pathlib import Path

import nbformat
from _common import code, md, notebook  # notebooks/build/_common.py: the cell list and its helpers

from paperlab.core import nb as nbh

NAME = "11_ftgame.ipynb"
CHECK = "# NBVAL_CHECK_OUTPUT"
md(f"""
# Fine-tuning games: bargaining between a generalist and domain specialists, solved in sympy

{nbh.colab_badge(NAME)}

**Paper.** Benjamin Laufer, Jon Kleinberg, Hoda Heidari, *Fine-Tuning Games: Bargaining and Adaptation for
General-Purpose Models*, [arXiv:2308.04399](https://arxiv.org/abs/2308.04399) (v1 Aug 2023, v3 Dec 2024; venue not
confirmed) · official code: none (a theory paper; `paperlab.ftgame` is the implementation).

**What you will learn.** Backward induction in sympy that *proves* a stationary point is a maximum; how bargaining
solutions pick a revenue share from a Pareto set; how to test a theory paper's claims apart from checking your algebra.

**What the paper claims** (abstract). Pareto-optimal profit-sharing bargains in which both firms invest exist for a
broad class of costs and revenues, even when one firm's costs are much higher; with several specialists each domain
contributes, free-rides or abstains, and the set of good bargains can become complex.

**Runs in:** smoke ~15 s · cpu ~45 s of CPU time (2.5-3.5 min wall on a loaded 2-core machine) · gpu same as cpu.
""")

md("""
## Setup

On Colab the next cell clones and installs the course; anywhere else it does nothing.
""")
code(nbh.colab_install_source())
code("""
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import paperlab
from paperlab import ftgame
from paperlab.core import claims, nb
from paperlab.ftgame import C0, C1, DELTA
from paperlab.ftgame import experiment as E
from paperlab.ftgame.render import latex, show

nb.setup(seed=0)
""")
md("""
The **parameters** cell is the only one that reads the profile: numbers of random games and grid resolutions. A
seed fixes one batch of random games (`numpy.random.default_rng`).
""")
code("""
P = paperlab.profile()
cfg = P.pick(
    smoke=dict(seeds=[0, 1], sweep_seeds=[0, 1], n_ratios=3, n_draws=3, n_bargain_draws=1, multi_seeds=[0, 1],
               n_multi_draws=2, pareto_seeds=[0, 1], n_pareto_draws=2, delta_grid=201, regime_grid=9,
               nested_grid=0, ratio_points=9, ks=[2, 3], widget_deltas=11),
    cpu=dict(seeds=[0, 1, 2], sweep_seeds=list(range(8)), n_ratios=5, n_draws=20, n_bargain_draws=5,
             multi_seeds=list(range(8)), n_multi_draws=10, pareto_seeds=list(range(5)), n_pareto_draws=10,
             delta_grid=401, regime_grid=31, nested_grid=11, ratio_points=41, ks=["3/2", 2, 3], widget_deltas=21),
    gpu=dict(seeds=[0, 1, 2], sweep_seeds=list(range(8)), n_ratios=5, n_draws=20, n_bargain_draws=5,
             multi_seeds=list(range(8)), n_multi_draws=10, pareto_seeds=list(range(5)), n_pareto_draws=10,
             delta_grid=401, regime_grid=31, nested_grid=11, ratio_points=41, ks=["3/2", 2, 3], widget_deltas=21),
)
deltas = np.linspace(0, 1, cfg["delta_grid"])
cfg
""", tags=["parameters"])

# ----------------------------------------------------------------------------------------------------------
md("""
## The paper in one page

A *Generalist* G (the lab that pretrains a foundation model) brings a technology to performance $\\alpha_0$; a
*Domain specialist* D (a firm that fine-tunes it, say for radiology) raises it to $\\alpha_1 \\ge \\alpha_0$ and sells
it. Both pay for their improvements, and they agree **before** investing how to split revenue: G keeps a share
$\\delta \\in [0,1]$, D keeps $1-\\delta$. The figure shows the order of moves and the code that solves each.
""")
code("""
ftgame.render.method_figure()
plt.show()
""")
md("""
The share is fixed first, so G keeps only $\\delta$ of what its work earns: the source of hold-up. With revenue
$r(\\alpha_1)$ and costs $\\phi_0(\\alpha_0)$, $\\phi_1(\\alpha_1;\\alpha_0)$:

$$U_G = \\delta\\, r(\\alpha_1) - \\phi_0(\\alpha_0), \\qquad U_D = (1-\\delta)\\, r(\\alpha_1) - \\phi_1(\\alpha_1;\\alpha_0).$$

For each $\\delta$, D best-responds to $\\alpha_0$ and G anticipates it (**subgame-perfect equilibrium**, SPE), giving
$(U_G^*(\\delta), U_D^*(\\delta))$. The bargain picks $\\delta$ on the **Pareto set**; disagreement pays (0, 0).
**Bargaining solutions:** utilitarian $\\max(U_G+U_D)$, egalitarian $\\max\\min(U_G,U_D)$, Nash $\\max U_GU_D$,
Kalai-Smorodinsky (KS: equal fractions of each player's best payoff), max-$\\alpha_1^*$ (the best product).
Benchmark: the **vertical monopoly**, one firm paying both costs.

**Sources.** Model, claims and regime names: the abstract ("disconnected" and the named solutions: a third-party
summary). Every cost family, formula and number below is **ours** (the paper's body was not readable here).
""")

# ----------------------------------------------------------------------------------------------------------
md("""
## Data

No dataset: the "data" are the game's parameters. The **quadratic family**: $r(\\alpha_1) = \\alpha_1$,
$\\phi_0 = c_0\\alpha_0^2$, $\\phi_1 = c_1(\\alpha_1-\\alpha_0)^2$. The claim tests also use the **power family**
$r = \\alpha_1^p$, $\\phi_0 = c_0\\alpha_0^k$, $\\phi_1 = c_1(\\alpha_1-\\alpha_0)^k$. Algebra checks draw
$c_0, c_1 \\sim U[0.3, 5]$, $\\delta \\sim U[0.02, 0.98]$:
""")
code("""
from paperlab.ftgame.derivations import closed_payoffs, draw_quadratic

print("first draw (c0, c1, delta) of seed 0:", np.round(draw_quadratic(0, 1)[0], 4))  # NBVAL_CHECK_OUTPUT
""")

# ----------------------------------------------------------------------------------------------------------
md("""
## Method

### A certified best response

`best_response` maximises one player's utility over its action $x \\ge$ a bound. It solves $\\partial U/\\partial x = 0$
only after sympy **proves** $\\partial^2 U/\\partial x^2 \\le 0$ above the bound for every $0<\\delta<1$ (via
$\\delta = u/(1+u)$, $u>0$), else raises `NotConcaveError`; it returns the corner when the marginal gain there is not
positive. `solve_spe` chains D's stage and G's.
""")
code("nb.show_source(ftgame.best_response)")
code("nb.show_source(ftgame.solve_spe)")
md("""
### Steps 1-3: D's reply, G's investment, the equilibrium

sympy's results for the quadratic family, rendered as LaTeX:
""")
code("""
spe = ftgame.solve_spe(*ftgame.quadratic_family())
d, g = spe.d_stage, spe.g_stage
show([("U_D", d.objective), (r"\\partial U_D / \\partial \\alpha_1", d.foc),
      (r"\\partial^2 U_D / \\partial \\alpha_1^2", d.second), (r"\\alpha_1^*(\\alpha_0)", d.response),
      (r"U_G(\\alpha_0)", g.objective), (r"\\alpha_0^*", g.response), (r"\\alpha_1^*", spe.alpha1),
      ("U_G^*", sp.expand(spe.U_G)), ("U_D^*", sp.expand(spe.U_D))])
swap = {C0: C1, C1: C0, DELTA: 1 - DELTA}
print("both interior optima certified:", d.interior_certified and g.interior_certified)
print("swapping c0 <-> c1 and delta <-> 1 - delta swaps the payoffs:",
      sp.simplify(spe.U_G.subs(swap, simultaneous=True) - spe.U_D) == 0)  # NBVAL_CHECK_OUTPUT
""")
md("""
D adds $\\frac{1-\\delta}{2c_1}$ to whatever G built (nothing at $\\delta = 1$: it free-rides). G invests $\\delta/(2c_0)$,
ignoring what its work earns D: under-investment.

### Step 4: favourite shares and the Pareto set

$\\partial^2 U_G^*/\\partial\\delta^2 = \\frac{1}{2c_0} - \\frac{1}{c_1}$: G's stationary share is a maximum only when
$c_1 \\le c_0$, else G wants $\\delta = 1$. D mirrors it; between the two favourites one player's gain is the other's
loss, so that interval is the Pareto set:
""")
code("""
delta_G, delta_D = ftgame.ideal_shares()
lo, hi = ftgame.pareto_interval()
show([(r"\\delta_G", delta_G), (r"\\delta_D", delta_D), (r"\\text{Pareto set at } (c_0, c_1) = (1, 10)",
      r"\\left[" + latex(lo.subs({C0: 1, C1: 10})) + ", " + latex(hi.subs({C0: 1, C1: 10})) + r"\\right]")])  # NBVAL_CHECK_OUTPUT
""")
md("""
$\\delta_D < 1/2 < \\delta_G$ for all costs: some profit share is always Pareto optimal (*our algebra*, one family;
P1 tests other shapes by brute force).

### Step 5: the bargaining solutions

Utilitarian, egalitarian (radicals), max-$\\alpha_1^*$ and the hold-up ratio (the best bargain's joint surplus over the
monopoly's) are closed forms in $(c_0, c_1)$. Nash is a root of the cubic $\\partial(U_G^*U_D^*)/\\partial\\delta = 0$, KS of
a quadratic; both are evaluated exactly at rational costs.
""")
code("""
vm, W_best, ratio = ftgame.hold_up()
show([(r"\\delta_W", ftgame.utilitarian_share()), (r"\\delta_E", ftgame.egalitarian_share()),
      (r"\\delta_{\\max \\alpha_1}", ftgame.max_alpha1_share()[1]), (r"W_{\\rm best} / W_{\\rm VM}", ratio)])
rows = []
for costs in [(1, 2), (1, 5), (1, 10)]:
    for name, v in ftgame.bargaining_solutions(*costs).items():
        if name != "max_alpha1":
            rows.append((rf"(c_0, c_1) = {costs}:\\ \\delta_{{\\text{{{name.replace('_', ' ')}}}}}", v))
show(rows)  # NBVAL_CHECK_OUTPUT
""")
md("""
At $(1,2)$ the Nash cubic factors, so every share is a closed form; at $(1,5)$ and $(1,10)$ Nash is an exact algebraic
root of an irreducible cubic (sympy's `CRootOf`, shown with its polynomial). The values match the card's, which called
Nash and KS "numeric". The figure: the frontier $\\delta \\mapsto (U_G^*, U_D^*)$ at $(1,2)$, thick on the Pareto set.
""")
code("""
lo_e, hi_e = (sp.lambdify((C0, C1), e, "sympy") for e in ftgame.pareto_interval())
sol12 = {k: float(v) for k, v in ftgame.bargaining_solutions(1, 2).items()}
UG, UD, _ = closed_payoffs(1.0, 2.0)(deltas)
on = (deltas >= float(lo_e(1, 2)) - 1e-12) & (deltas <= float(hi_e(1, 2)) + 1e-12)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(UG, UD, color="0.6", lw=1, label="all shares δ")
ax.plot(UG[on], UD[on], color="k", lw=2.5, label="Pareto set")
W = 1 / 4 + 1 / 8
ax.plot([0, W], [W, 0], "--", color="tab:red", lw=1, label="vertical monopoly splits")
for (name, dd), m in zip(sol12.items(), "os^Dv"):
    ug, ud, _ = closed_payoffs(1.0, 2.0)(np.array([dd]))
    ax.plot(ug, ud, m, ms=8, label=f"{name} δ={dd:.3f}")
ax.set(xlabel="G's equilibrium payoff U_G* (money)", ylabel="D's payoff U_D* (money)", xlim=(0, 0.4), ylim=(0, 0.4),
       title="Payoff frontier and bargaining solutions, (c0, c1) = (1, 2)")
ax.legend(fontsize=7, loc="upper right")
plt.show()
""")
md("""
What it shows: the frontier lies strictly inside the monopoly's line (hold-up); the four bargains that trade off both
players sit on the Pareto part, max-$\\alpha_1^*$ at its end $\\delta = 1$.

The surplus the best bargain keeps, against the cost ratio (look for the minimum at equal costs):
""")
code("""
grid = np.logspace(-1, 1, cfg["ratio_points"])
x = np.log(grid)
vm_fn = sp.lambdify((C0, C1), [vm["W"], vm["alpha1"]])
W_fn = sp.lambdify((C0, C1), [W_best, spe.alpha1.subs(DELTA, ftgame.utilitarian_share())])
Wr = np.array([W_fn(1, q)[0] / vm_fn(1, q)[0] for q in grid])
Ar = np.array([W_fn(1, q)[1] / vm_fn(1, q)[1] for q in grid])
fig, ax = plt.subplots(figsize=(6, 3.3))
ax.plot(x, Wr, label="joint surplus: best bargain / monopoly")
ax.plot(x, Ar, "--", label="performance α1*: best bargain / monopoly")
ax.set(xlabel="log(c1 / c0)", ylabel="ratio to vertical monopoly", title="Hold-up: what share-first investment loses")
ax.legend(fontsize=8)
plt.show()
""")
code("""
nb.say(f"What it shows: the best bargain keeps between {Wr.min():.3f} and {Wr.max():.3f} of the monopoly's surplus on this range, "
       f"least at $c_1/c_0 = {grid[Wr.argmin()]:.2f}$ (exactly $3/4$ at equal costs by the formula above); its product "
       f"quality $\\\\alpha_1^*$ falls to {Ar.min():.3f} of the monopoly's. At a factor 10 either way it keeps "
       f"{Wr[0]:.3f} and {Wr[-1]:.3f}.")
""")
md("""
### The referees: two solvers that know no algebra

`spe_bruteforce` nests grid search and Brent refinement (D's problem inside each evaluation of G's) to check our
closed forms; `spe_grid` does it with zoomed vectorised grids for any $k$ and $p$, and the claim tests use only it.
""")
code("nb.show_source(ftgame.spe_grid)\nnb.show_source(ftgame.numeric.spe_grid_one)")
md("""
The same idea from scratch with plain nested grids, checked against the closed form and `spe_grid`:
""")
code('''
def spe_from_scratch(delta, c0, c1, n=801):
    a0 = np.linspace(0, 1 / c0, n)[:, None]                      # G's candidate actions (column)
    a1 = a0 + np.linspace(0, 1 / c1, n)[None, :]                  # D's candidates above each α0 (row)
    U_D = (1 - delta) * a1 - c1 * (a1 - a0) ** 2
    best = a1[np.arange(n), U_D.argmax(axis=1)]                   # D's reply to every α0
    U_G = delta * best - c0 * a0[:, 0] ** 2
    k = U_G.argmax()
    return a0[k, 0], best[k]

closed = sp.lambdify((DELTA, C0, C1), [spe.alpha0, spe.alpha1])
grid_sol = ftgame.spe_grid([0.4], 1.0, 2.0)
np.testing.assert_allclose(spe_from_scratch(0.4, 1.0, 2.0), closed(0.4, 1.0, 2.0), atol=2e-3)
np.testing.assert_allclose([grid_sol["alpha0"][0], grid_sol["alpha1"][0]], closed(0.4, 1.0, 2.0), atol=1e-4)
print("from-scratch grid and spe_grid both match the closed form")  # NBVAL_CHECK_OUTPUT
''')
md("""
### $n$ specialists: contribute, free-ride or abstain (our instantiation)

G picks one $\\alpha_0$; domain $i$ keeps $1-\\delta_i$ of its revenue $\\rho_i\\alpha_i$ and pays an entry cost $\\kappa_i$
and linear and quadratic fine-tuning costs $b_i$, $c_i$ (the paper's form was not readable; ours is the simplest with
all three regimes):

$$U_i = (1-\\delta_i)\\rho_i\\alpha_i - \\kappa_i - b_i(\\alpha_i-\\alpha_0) - c_i(\\alpha_i-\\alpha_0)^2 \\ \\text{(if it enters, else 0)},\\qquad U_G = \\sum_{i\\ \\text{enters}} \\delta_i\\rho_i\\alpha_i - c_0\\alpha_0^2.$$

Without $b_i$ nobody free-rides, without $\\kappa_i$ nobody abstains. The conditions, derived from $U_i$:
""")
code("""
cond = ftgame.regime_conditions()
show([(r"\\alpha_i - \\alpha_0", cond["step"]), (r"\\text{contribute}", cond["contribute"]),
      (r"\\text{free-ride}", cond["free-ride"]), (r"\\text{abstain}", r"\\text{otherwise}")])  # NBVAL_CHECK_OUTPUT
""")
md("""
A domain enters exactly when $\\alpha_0 \\ge \\tau_i$ (its utility rises linearly in $\\alpha_0$). Between thresholds the
entry set $S$ is fixed and $\\alpha_0 = \\sum_{i\\in S}\\delta_i\\rho_i/(2c_0)$, clipped; G keeps the best piece.
""")
code("nb.show_source(ftgame.solve_multi)")

# ----------------------------------------------------------------------------------------------------------
md("""
## Experiment

**Derivation checks** D1-D4 (`paperlab.ftgame.derivations`) compare our algebra with an independent computation
(*verified derivations*, not verdicts on the paper); **paper claims** P1-P3 measure the abstract's statements, each
with an instrument check. Each seed draws a fresh batch of random games:
- **D1** symbolic $(\\alpha_0^*, \\alpha_1^*, U_G^*, U_D^*)$ vs `spe_bruteforce`, including $\\delta \\in \\{0, 1\\}$;
- **D2** exact bargaining shares vs a search over $\\delta$ (`bargaining_bruteforce`) at rational costs; once, at
  $(1,2)$, on fully nested brute-force payoffs;
- **D3** $[\\delta_D, \\delta_G]$ vs a dominance scan on the $\\delta$ grid, $c_1/c_0 \\in [1/10, 10]$;
- **D4** `solve_multi` vs `multi_bruteforce` and the sympy conditions: $|\\Delta\\alpha_0|$ plus disagreeing regime labels.
""")
code("nb.show_source(ftgame.derivations.check_spe)")
code("""
Dv = ftgame.derivations
n_pareto = max(1, cfg["n_draws"] // 2)
errs = {"D1": [Dv.check_spe(s, cfg["n_draws"]) for s in cfg["seeds"]],
        "D2": [Dv.check_bargains(s, cfg["n_bargain_draws"]) for s in cfg["seeds"]],
        "D3": [Dv.check_pareto(s, n_pareto, deltas) for s in cfg["seeds"]],
        "D4": [Dv.check_multi(s, cfg["n_multi_draws"]) for s in cfg["seeds"]]}
worst = {k: [float(max(e)) for e in v] for k, v in errs.items()}  # per seed
points = {k: [x for e in v for x in e] for k, v in errs.items()}
for k, v in worst.items():
    print(f"{k} largest error per seed:", [f"{e:.1e}" for e in v])
if cfg["nested_grid"]:
    nested = ftgame.bargaining_bruteforce(ftgame.payoffs_bruteforce(1.0, 2.0), n_grid=cfg["nested_grid"], xatol=1e-6)
    display(nb.results_table([{"solution": k, "exact": v, "nested brute force": nested[k], "|diff|": abs(nested[k] - v)}
                              for k, v in sol12.items()], floatfmt="{:.5f}"))
""")
md("""
**P1: profit sharing under strongly asymmetric costs** (*"profit-sharing can arise even when one firm faces
significantly higher costs than another"*). Each seed draws a cost family ($c_0$, $k \\in [1.5, 3]$, $p \\in [0.5, 1]$),
sweeps $c_1/c_0$ over $[1/10, 10]$ and finds the Nash and egalitarian bargains on `spe_grid` payoffs. Primary: the
**smallest revenue share either firm keeps**. Secondary: bargains undominated, both firms invest, G's Nash share
rises with $c_1/c_0$.
""")
code("nb.show_source(E.sharing_point)")
code("""
sweeps = [E.sharing_sweep(s, n_ratios=cfg["n_ratios"]) for s in cfg["sweep_seeds"]]
for s, sw in zip(cfg["sweep_seeds"], sweeps):
    f = sw["family"]
    print(f"seed {s}: c0={f['c0']:.2f} k={f['k']:.2f} p={f['p']:.2f} | Nash shares over the sweep",
          np.round([r["nash"] for r in sw["rows"]], 3), f"| smallest share kept {sw['kept']:.3f}")
kept = [sw["kept"] for sw in sweeps]
""")
md("""
**Instrument**: the pipeline must report *no* sharing at a corner bargain and flag a dominated share. At
$c_1/c_0 = 10$ (quadratic) the max-$\\alpha_1^*$ optimum is $\\delta = 1$, and $\\delta = 0.2$ is outside the Pareto set
$[9/19, 1]$.
""")
code("""
ctrl = E.sharing_point(1.0, 10.0, 2.0, 1.0)
ctrl_corner = min(ctrl["max_alpha1"], 1 - ctrl["max_alpha1"])
g10 = ftgame.shares_grid(1.0, 10.0)["grid"]
p02 = ftgame.spe_grid([0.2], 1.0, 10.0)
ctrl_flag = float(ftgame.dominated_by_grid([p02["U_G"][0], p02["U_D"][0]], np.column_stack([g10["U_G"], g10["U_D"]])))
inst_p1 = [claims.instrument("pipeline reports a corner where one exists: share kept at the max-α1 bargain, c1/c0=10",
                             ctrl_corner, high=0.01),
           claims.instrument("Pareto check flags δ=0.2 at c1/c0=10 as dominated (1 = flagged)", ctrl_flag, low=1)]
print([(i["check"][:40], round(i["value"], 4), i["passed"]) for i in inst_p1])
""")
md("""
Nash bargains of the random families (dots) against the quadratic Pareto band and solutions (lines): does any dot
reach $\\delta = 0$ or $1$?
""")
code("""
curves = {k: [] for k in ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky")}
for q in grid:  # the search over δ on closed-form payoffs (checked against the exact shares in D2)
    s = ftgame.bargaining_bruteforce(closed_payoffs(1.0, q), n_grid=2001)
    for k in curves:
        curves[k].append(s[k])
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.fill_between(x, [float(lo_e(1, q)) for q in grid], [float(hi_e(1, q)) for q in grid], color="0.88",
                label="Pareto set (quadratic)")
for k, ls in zip(curves, ["-", "--", "-.", ":"]):
    ax.plot(x, curves[k], ls, lw=1.5, label=f"{k} (quadratic)")
for sw in sweeps:
    ax.plot(np.log([r["ratio"] for r in sw["rows"]]), [r["nash"] for r in sw["rows"]], "o", ms=4, color="tab:purple",
            alpha=0.6, label="Nash, random families (spe_grid)" if sw is sweeps[0] else None)
ax.set(xlabel="log(c1 / c0)  (D relatively more expensive →)", ylabel="G's share δ", ylim=(-0.02, 1.02),
       title="Bargains against the cost ratio")
ax.legend(fontsize=7, loc="upper left")
plt.show()
""")
code("""
nash_all = np.array([r["nash"] for sw in sweeps for r in sw["rows"]])
rising = sum(sw["direction"] > 0.99 for sw in sweeps)
band = np.array([[float(lo_e(1, q)) - 1e-6 <= curves[k][i] <= float(hi_e(1, q)) + 1e-6 for k in curves]
                 for i, q in enumerate(grid)])
nb.say(f"What it shows: over {len(nash_all)} (family, ratio) points the Nash share stays in [{nash_all.min():.3f}, {nash_all.max():.3f}], "
       f"and it rises monotonically with $c_1/c_0$ in {rising} of {len(sweeps)} families: the firm with the expensive "
       f"partner keeps more. The four quadratic solutions lie inside the Pareto band at {band.all(axis=1).sum()} of "
       f"{len(grid)} ratios.")
""")
md("""
**P2: contribute, free-ride or abstain** (in **our** cost form): regime counts at the SPE of random $n=3$ games.
Instrument: switch off the cost term behind a regime; the count must drop to zero.
""")
code("""
regime_counts, rarest = [], []
for seed in cfg["multi_seeds"]:
    rng = np.random.default_rng(seed)
    counts = E.regime_counts([E.draw_multi(rng) for _ in range(cfg["n_multi_draws"])])
    regime_counts.append(counts)
    rarest.append(min(counts.values()))
    print(f"seed {seed}: {counts}")
rng = np.random.default_rng(0)
games0 = [E.draw_multi(rng) for _ in range(cfg["n_multi_draws"])]
no_kappa, no_b = E.regime_counts(games0, zero="kappa"), E.regime_counts(games0, zero="b")
print("seed 0 with kappa = 0:", no_kappa, "| with b = 0:", no_b)
inst_p2 = [claims.instrument("count registers absence: abstainers with κ=0 (seed 0)", no_kappa["abstain"], high=0),
           claims.instrument("count registers absence: free-riders with b=0 (seed 0)", no_b["free-ride"], high=0)]
""")
md("""
The regime map: domain 1's revenue rate $\\rho_1$ and entry cost $\\kappa_1$ against every domain's regime ($\\delta = 0.5$).
""")
code("""
rho1s, kap1s = np.linspace(0.2, 3, cfg["regime_grid"]), np.linspace(0, 1.2, cfg["regime_grid"])
maps = E.regime_map(rho1s, kap1s)  # (domain, kappa_1, rho_1) -> index into ftgame.REGIMES
ftgame.render.regime_map_figure(maps, rho1s, kap1s)
plt.show()
code_of = {r: i for i, r in enumerate(ftgame.REGIMES)}
share = {r: float(np.mean(maps[0] == code_of[r])) for r in ftgame.REGIMES}
d1c, d1a = maps[0] == 0, maps[0] == 2
ride = float(np.mean(maps[2][d1c] == 1)) if d1c.any() else float("nan")
leave = float(np.mean(maps[2][d1a] == 2)) if d1a.any() else float("nan")
d2 = {r: float(np.mean(maps[1] == code_of[r])) for r in ftgame.REGIMES}
nb.say(f"What it shows: domain 1 contributes in {share['contribute']:.0%} of the map (high ρ1), free-rides in "
       f"{share['free-ride']:.0%}, abstains in {share['abstain']:.0%} (high κ1). Where it contributes, domain 3 free-rides "
       f"in {ride:.0%} of the cells (on the better base model domain 1's revenue pays for); where it abstains, domain 3 "
       f"abstains in {leave:.0%}. Domain 2 contributes in {d2['contribute']:.0%}.")
""")
md("""
**P3: a disconnected Pareto set.** Count the connected pieces (runs of $\\ge 3$ grid points) of the non-dominated
common shares of random $n=3$ games. Secondary: a 2x finer grid; *strict* dominance (better for **every** player).
Instrument: one-specialist games (an interval) must give one piece.
""")
code("""
fine = np.linspace(0, 1, 2 * len(deltas) - 1)
n_disc, n_disc_fine, n_disc_strict, examples = [], [], [], []
for seed in cfg["pareto_seeds"]:
    rng = np.random.default_rng(1000 + seed)
    found = found_fine = found_strict = 0
    for _ in range(cfg["n_pareto_draws"]):
        game = E.draw_multi(rng, with_delta=False)
        pieces = E.pareto_pieces(game, deltas)
        found_strict += len(E.pareto_pieces(game, deltas, strict=True)) >= 2
        if len(pieces) >= 2:
            found += 1
            examples.append((game, pieces))
            found_fine += len(E.pareto_pieces(game, fine, min_len=6)) >= 2
    n_disc.append(found), n_disc_fine.append(found_fine), n_disc_strict.append(found_strict)
    print(f"seed {seed}: disconnected in {found}/{cfg['n_pareto_draws']} games "
          f"(finer grid {found_fine}, strict dominance {found_strict})")
one_pieces = [len(ftgame.runs(ftgame.pareto_mask(np.column_stack(closed_payoffs(c0, c1)(deltas)[:2])), min_len=3))
              for c0, c1, _ in draw_quadratic(99, 10)]
inst_p3 = claims.instrument("one-specialist games (Pareto set an interval): most pieces found", max(one_pieces),
                            low=1, high=1)
print("one-specialist games, pieces found:", one_pieces)
""")
md("""
The first disconnected example: where is the gap, and whose payoff is zero across it?
""")
code("""
if examples:
    game, pieces = examples[0]
    U = ftgame.pareto_common_delta(*game, deltas)
    mask = ftgame.pareto_mask(U)
    ftgame.render.pareto_pieces_figure(U, mask, deltas, len(pieces))
    plt.show()
    gap = (deltas[pieces[0][1]] + deltas[pieces[1][0]]) / 2
    u_gap = ftgame.pareto_common_delta(*game, [gap])[0]
    better = np.flatnonzero(mask & np.all(U >= u_gap - 1e-12, axis=1) & np.any(U > u_gap + 1e-12, axis=1))[0]
    ties = [lab for j, lab in enumerate(["G", "domain 1", "domain 2", "domain 3"]) if abs(U[better, j] - u_gap[j]) < 1e-12]
    r4 = lambda u: (np.round(u, 4) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    nb.say(f"What it shows: inside the gap, δ = {gap:.3f} (payoffs of G, domains 1-3: {r4(u_gap)}) is dominated by "
           f"δ = {deltas[better]:.3f} ({r4(U[better])}), tied for {', '.join(ties) or 'none'}. The gap rests on that "
           "tie, usually at payoff 0: under strict dominance it can close.")
""")
# ----------------------------------------------------------------------------------------------------------
md("""
## Results vs the paper

**Derivation checks** first: they say our algebra is right, nothing about the paper.
""")
code("""
seeds = cfg["seeds"]
DERIV = {  # claim, the paper's side, metric, independent check, tolerance, what each seed drew
    "D1": ("the symbolic SPE of the quadratic game equals a nested numeric brute force",
           "closed-form SPE for polynomial costs (paper's formulas not read; ours derived)",
           "largest |symbolic - brute force| over (alpha0, alpha1, U_G, U_D) per seed",
           "spe_bruteforce (grid + Brent, nested)",
           1e-6, f"{cfg['n_draws']} random (c0, c1, delta) + the corner shares 0 and 1 per seed"),
    "D2": ("exact bargaining shares equal a search over delta",
           "closed-form and numerical bargaining solutions (abstract); values not read",
           "largest |exact share - searched share| per seed", "bargaining_bruteforce (grid + Brent/brentq)", 1e-6,
           f"{cfg['n_bargain_draws']} random rational cost pairs per seed; utilitarian, egalitarian, Nash, KS, max-alpha1"),
    "D3": ("the quadratic game's Pareto set is the interval between the ideal shares",
           "Pareto-optimal set of bargains (abstract); the interval form is ours",
           "largest endpoint difference, formula vs dominance scan, per seed",
           "pareto_mask on a delta grid (2 grid steps)",
           2 * deltas[1], f"{n_pareto} random cost pairs per seed, c1/c0 log-uniform in [1/10, 10]"),
    "D4": ("the n-specialist solver equals a brute force and the sympy regime conditions",
           "conditions for contribute / free-ride / abstain (abstract); our cost form",
           "largest |alpha0 difference| + regime-label disagreements per game, per seed",
           "multi_bruteforce + regime_conditions",
           1e-4, f"{cfg['n_multi_draws']} random n=3 games per seed"),
}
deriv = [claims.record("ftgame", f"Derivation: {claim}", paper_value=paper, metric=metric,
                       per_seed=worst[k], seeds=seeds, why=why,
                       result=claims.derivation(points[k], tolerance=tol, check=check))
         for k, (claim, paper, metric, check, tol, why) in DERIV.items()]
nb.claims_table(deriv)
""")
md("""
**The paper's claims** (thresholds fixed before the runs, stated in each record; one instrument check each):
""")
code("""
thr = claims.threshold
p1 = claims.compound(
    thr(kept, low=0.05, instrument=inst_p1,
        why_min="a genuine profit share: each firm keeps at least 5% of revenue (our practical threshold, fixed before the sweep)"),
    thr([sw["pareto"] for sw in sweeps], low=1.0, why_min="every Nash and egalitarian bargain undominated on the share grid"),
    thr([sw["invest"] for sw in sweeps], low=0.01, why_min="both firms invest: each adds at least 1% of the final performance"),
    thr([sw["direction"] for sw in sweeps], low=0.9,
        why_min="G's Nash share rises with c1/c0 (Spearman >= 0.9); our model's direction, the paper's statement not read"),
    names=["Pareto optimal", "both invest", "share rises with c1/c0"])
p2 = thr(rarest, low=1, instrument=inst_p2, why_min="each regime occurs at least once in every batch of random games")
p3 = claims.compound(
    thr(n_disc, low=1, instrument=inst_p3, why_min="at least one disconnected Pareto set per batch of random games"),
    thr(n_disc_fine, low=1, why_min="the gaps survive a 2x finer share grid"),
    thr(n_disc_strict, low=1, why_min="still disconnected when only strict dominance (better for every player) counts"),
    names=["finer grid", "strict dominance"])
paper = [
    claims.record("ftgame", "Profit sharing stays Pareto optimal under strongly asymmetric costs (c1/c0 from 1/10 to 10)",
                  paper_value="profit-sharing can arise even when one firm faces significantly higher costs (abstract); "
                              "the factor 10 is ours", metric="smallest revenue share either firm keeps (Nash, egalitarian) over the sweep",
                  per_seed=kept, seeds=cfg["sweep_seeds"], result=p1,
                  why=f"each seed: a random cost family (scale, k in [1.5, 3], p in [0.5, 1]) at {cfg['n_ratios']} ratios; spe_grid payoffs, no closed form"),
    claims.record("ftgame", "Each domain contributes, free-rides or abstains, and all three occur (our cost form: kappa and b create them)",
                  paper_value="any domain will either contribute, free-ride, or abstain (abstract)",
                  metric="count of the rarest regime per batch", per_seed=rarest, seeds=cfg["multi_seeds"], result=p2,
                  why=f"{cfg['n_multi_draws']} random n=3 games per seed; regimes exist by construction of kappa (abstain) and b (free-ride)"),
    claims.record("ftgame", "With several specialists the Pareto set of bargains can be disconnected",
                  paper_value="the Pareto set can become complex, potentially disconnected (third-party summary)",
                  metric="random n=3 games (common delta) with >= 2 Pareto pieces per batch", per_seed=n_disc,
                  seeds=cfg["pareto_seeds"], result=p3,
                  why=f"{cfg['n_pareto_draws']} games per seed; pieces are runs of >= 3 grid shares; dominance ties abstainers at 0"),
]
nb.claims_table(paper)
""")
code("""
zero = [s for s, n in zip(cfg["pareto_seeds"], n_disc) if n == 0]
p3_why = (f" The rule asks every batch of {cfg['n_pareto_draws']} games for one; seed(s) {zero} had none, so the verdict "
          "is not 'held' although the examples exist: larger batches would decide." if zero else "")
nb.say(f"**P1 ({paper[0]['verdict']}).** Across {len(kept)} random cost families, even at a factor 10 between the costs, "
       f"the smallest share either firm keeps under the Nash or egalitarian bargain is {min(kept):.3f}-{max(kept):.3f} "
       f"(interval {paper[0]['interval'][0]:.3f}-{paper[0]['interval'][1]:.3f}); {paper[0]['secondary_tally']}. "
       f"**P2 ({paper[1]['verdict']}).** The rarest regime occurs {min(rarest)}-{max(rarest)} times per batch, only "
       f"because our cost form has an entry cost and a linear cost (the instrument removes each). "
       f"**P3 ({paper[2]['verdict']}).** {sum(n_disc)} of {len(n_disc) * cfg['n_pareto_draws']} random games have a "
       f"disconnected Pareto set ({sum(n_disc_fine)} on the finer grid, {sum(n_disc_strict)} under strict dominance; "
       f"{paper[2]['secondary_tally']}).{p3_why}")
""")
md("""
Caveats:
- Every model is our instantiation; P1 covers power costs and revenues only, with our 5% threshold and factor 10.
- P2's regimes exist by construction of our cost terms.
- P3's gaps rest on dominance that ties domains at payoff 0; strict dominance is the secondary.
- Grid solvers resolve shares to ~$10^{-4}$, Pareto sets to one grid step.
""")

# ----------------------------------------------------------------------------------------------------------
md("""
## Ablation

**The cost exponent $k$** ($c(\\cdot)^k$ for both costs; each SPE in closed form): how do the frontier and the
solutions move at $c_1/c_0 = 2$?
""")
code("""
rows, frontiers = E.cost_exponent_ablation(cfg["ks"], deltas, c0=1.0, c1=2.0)
fig, ax = plt.subplots(figsize=(6, 3.8))
for k, (UGk, UDk) in frontiers.items():
    ax.plot(UGk, UDk, label=f"k = {k}")
ax.set(xlabel="G's payoff U_G* (money)", ylabel="D's payoff U_D* (money)",
       title="Payoff frontiers for cost exponent k, (c0, c1) = (1, 2)")
ax.legend()
plt.show()
display(nb.results_table(rows, floatfmt="{:.3f}"))
first, last = rows[0], rows[-1]
names = ["utilitarian", "egalitarian", "nash", "kalai_smorodinsky"]
closer = sum(abs(last[n] - 0.5) < abs(first[n] - 0.5) for n in names)
nb.say(f"What it shows: at k = {first['k']} the utilitarian share is {first['utilitarian']:.3f} and the Pareto set "
       f"[{first['Pareto lo']:.3f}, {first['Pareto hi']:.3f}]; at k = {last['k']}, {last['utilitarian']:.3f} and "
       f"[{last['Pareto lo']:.3f}, {last['Pareto hi']:.3f}]. From the first to the last k, {closer} of the 4 solutions move "
       f"towards an equal split (Nash {first['nash']:.3f} → {last['nash']:.3f}), and the corner δ = 1 is "
       f"{'no longer' if last['Pareto hi'] < 0.999 else 'still'} Pareto optimal at k = {last['k']}.")
""")
md("""
### Explorer

Sliders for $c_0$, $c_1$, revenue exponent $p$ and cost exponent $k$; `spe_grid` on a coarse $\\delta$ grid, so it works
where sympy finds no closed form ($p<1$).
""")
code("""
import functools

import ipywidgets as widgets

explore = functools.partial(ftgame.render.frontier_explorer, n_deltas=cfg["widget_deltas"])
controls = dict(c0=widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, description="c0"),
                c1=widgets.FloatLogSlider(value=2.0, base=10, min=-1, max=1, description="c1"),
                p=widgets.FloatSlider(value=1.0, min=0.3, max=1.0, step=0.1, description="revenue p"),
                k=widgets.FloatSlider(value=2.0, min=1.5, max=4.0, step=0.5, description="cost k"))
ui = widgets.VBox([widgets.HBox([controls["c0"], controls["c1"]]), widgets.HBox([controls["p"], controls["k"]])])
display(ui, widgets.interactive_output(explore, controls))
""")
code("""
explore()  # the static figure for readers without a live kernel
""")
md("""
What it shows (the static figure, at the defaults): the $(1,2)$ frontier of Step 5 again, each solution on its
nearest grid share.

## Exercises

Easiest first; each check cell (`ftgame.check_exercise(n, answer)`) says *not attempted / incorrect / close /
correct*, with a hint after a wrong attempt. Replace `...` with your answer. Worked solutions:
[`../solutions/11_ftgame.ipynb`](../solutions/11_ftgame.ipynb).

**Exercise 1.** Predict before computing: when both firms have the same cost coefficient ($c_0 = c_1$), which share
maximises the joint surplus $U_G^* + U_D^*$?
""")
code("answer_1 = ...  # a number in [0, 1]")
code("ftgame.check_exercise(1, answer_1)")
md("""
**Exercise 2.** When D's cost coefficient is three times G's ($c_1 = 3c_0$), what fraction of the vertical
monopoly's surplus does the best bargain keep? Use the hold-up ratio from Step 5.
""")
code("answer_2 = ...  # a fraction")
code("ftgame.check_exercise(2, answer_2)")
md("""
**Exercise 3.** Derive D's best response when its cost is cubic, $\\phi_1 = c_1(\\alpha_1-\\alpha_0)^3$. Use `sp.diff`
and `sp.solve` (or `ftgame.best_response`) and give a sympy expression in `A0`, `C1`, `DELTA` (import them from
`paperlab.ftgame`). `sp.solve` returns two roots: keep the one with $\\alpha_1 \\ge \\alpha_0$.
""")
code("""
from paperlab.ftgame import A0, A1
answer_3 = ...  # e.g. sp.solve(sp.diff((1 - DELTA) * A1 - C1 * (A1 - A0)**3, A1), A1)[...]
""")
code("ftgame.check_exercise(3, answer_3)")
md("""
**Exercise 4.** Push P1 further in the quadratic family: at $c_1/c_0 = 20$, what is the *smaller* revenue share
either firm keeps under the Nash bargain? Is it still a genuine profit share?
""")
code("answer_4 = ...  # a share in [0, 1/2]")
code("ftgame.check_exercise(4, answer_4)")
md("""
**Exercise 5.** In the $n$-specialist model, a domain has $\\rho = 1$, $b = 0.6$, $\\kappa = 0.1$, keeps $1-\\delta = 0.5$ of
its revenue, and G has built $\\alpha_0 = 0.5$. Which regime does it choose: `"contribute"`, `"free-ride"` or `"abstain"`?
""")
code("answer_5 = ...")
code("ftgame.check_exercise(5, answer_5)")

md("""
## Summary and references

* **Tested.** Four derivation checks (our algebra against independent solvers) and three paper claims in our
  instantiation, each with an instrument check; verdicts in the tables above.
* **Simplifications.** Power-law costs and revenues and the $n$-specialist cost form are ours; disagreement point
  (0, 0); ties at entry go to entering; one common share for $n$ specialists.
* **Differences from the card.** Nash and KS are exact algebraic roots (KS of a quadratic, Nash of a cubic), not
  "numeric"; all card values hold.
* **References.** B. Laufer, J. Kleinberg, H. Heidari, *Fine-Tuning Games: Bargaining and Adaptation for
  General-Purpose Models*, arXiv:2308.04399. J. Nash, *The Bargaining Problem*, Econometrica 1950.
  E. Kalai, M. Smorodinsky, *Other Solutions to Nash's Bargaining Problem*, Econometrica 1975.
  Libraries: sympy, scipy.optimize, numpy, matplotlib, ipywidgets.
""")

nbk = notebook("ftgame", "Laufer, Kleinberg, Heidari — Fine-Tuning Games (arXiv 2308.04399)", "https://arxiv.org/abs/2308.04399",
               "Profit-sharing bargains stay Pareto optimal under strongly asymmetric costs")
out = Path(__file__).resolve().parents[1] / NAME
nbformat.write(nbk, out)
print("wrote", out)
