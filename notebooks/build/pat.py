"""Build notebooks/07_pat.ipynb (run: .venv/bin/python notebooks/build/pat.py; then make reproduce NB=07_pat)."""
from pathlib import Path

import nbformat as nbf

from paperlab.core import nb as plnb
import pat_text  # notebooks/build/pat_text.py: the measured run times quoted in the header
from _common import code, md, notebook  # notebooks/build/_common.py: the cell list and its helpers

ROOT = Path(__file__).resolve().parents[2]
md(r"""
# PAT — a position-aware transformer for dense multi-label action detection

{BADGE}

**Paper.** Faegheh Sardari, Armin Mustafa, Philip J. B. Jackson, Adrian Hilton, *PAT: Position-Aware
Transformer for Dense Multi-Label Action Detection*, ICCV 2023 Workshops
([arXiv 2308.05051](https://arxiv.org/abs/2308.05051)) · official code:
[`faeghehsardari/PAT-ICCVW`](https://github.com/faeghehsardari/PAT-ICCVW), built on
[`dairui01/MS-TCT`](https://github.com/dairui01/MS-TCT).

**What you will learn.** Why plain self-attention cannot tell "A then B" from "B then A"; how a
*relative* positional term inside every attention logit fixes that; how PAT builds multi-scale
features *non-hierarchically* (every coarse scale reads the fine features directly); and how dense
detection is scored with per-frame mAP.

**What the paper claims.** Relative positional attention plus non-hierarchical multi-scale features
beat the hierarchical MS-TCT: 26.5 % per-frame mAP on Charades (+1.1) and 44.6 % on MultiTHUMOS (+0.6).
We re-measure the *mechanisms* on synthetic worlds built to need temporal order, and judge each
claim by a rule with an interval over seeds, a stated minimum effect and an instrument check.

**Runs in:** smoke ~RUN_SMOKE · cpu ~RUN_CPU on 2 cores (evaluates committed checkpoints; training them took
RETRAIN_LONG with `python -m paperlab.pat train --world long-range` and ~29 min with
`python -m paperlab.pat train`, on 2 cores shared with other jobs) · gpu: the same, plus a short PAT run on real
Charades features when they are provided.
""".replace("{BADGE}", plnb.colab_badge("07_pat.ipynb")))

md("""
## Setup

On Colab the next cell clones and installs the course; anywhere else it does nothing.
""")
code(plnb.colab_install_source())  # generated from pyproject's Repository URL
code("""
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import paperlab
from paperlab import pat
from paperlab.core import claims, nb
from paperlab.worlds import timelines as tl

nb.setup(seed=0)
T0 = time.time()
""")
md("""
The **parameters** cell is the only cell that reads the profile. The smoke profile evaluates two seeds
of the variants the claims need on 32 test videos; cpu evaluates every committed variant x 3 seeds on
256 fresh test videos per world. Both load the committed checkpoints (`data/pat/long-range.pt`,
`data/pat/long-range-absolute.pt`, `data/pat/variants.pt`); set `PAPERLAB_RETRAIN=1` to retrain them. The gpu
profile also trains PAT on real Charades features if they are in `data/pat/` (its dry run, `PAPERLAB_SAMPLES=1`,
uses the tiny format sample in `data/samples/pat/`).
""")
code("""
P = paperlab.profile()
charades_root, device = P.data_root("pat"), P.device  # real Charades features (gpu); data/samples/pat in the dry run
cfg = P.pick(
    smoke=dict(seeds=[0, 1], n_test=32, live_n=16, live_epochs=1,
               short_variants=["PAT", "hierarchical (MS-TCT wiring)", "fine only"]),
    cpu=dict(seeds=[0, 1, 2], n_test=256, live_n=32, live_epochs=2, short_variants=pat.SHORT_VARIANTS),
    gpu=dict(seeds=[0, 1, 2], n_test=512, live_n=512, live_epochs=10, short_variants=pat.SHORT_VARIANTS,
             charades=dict(annotation="charades.json", features="charades_i3d", n_classes=157, T=256, epochs=10,
                           model=dict(dim=512, heads=8, blocks=3, mlp_ratio=8))),
    samples=dict(seeds=[0, 1], n_test=32, live_n=16, live_epochs=1,
                 short_variants=["PAT", "hierarchical (MS-TCT wiring)", "fine only"],
                 charades=dict(annotation="charades_sample.json", features="features", n_classes=157, T=64, epochs=1,
                               model=dict(dim=32, heads=4, blocks=1, mlp_ratio=4))),
)
cfg
""", tags=["parameters"])

md("""
## The paper in one page

The networks the wiring claims compare, drawn from `paperlab.pat` (`PAT.forward`, `PAT.coarse_features`).
Look for the one difference between the left and middle panels: what each coarse branch reads.
""")
code("""
pat.plot_wiring()
plt.show()
""")
md(r"""
In PAT (left) every coarse branch subsamples the fine features once; in the MS-TCT wiring (middle) branch
$s$ subsamples branch $s/2$, a chain of stride-2 steps with the same modules and parameters. The fine-only
network (right) drops the coarse branches and their head.

**The task.** A video is a sequence of $T$ snippet features $x_1,\dots,x_T\in\mathbb R^{D_0}$ (frozen
I3D features in the paper). For every step $t$ and every class $c$ the model outputs a probability
$\hat y_{t,c}$; several actions can be active at once (*dense multi-label*). The score is
**per-frame mAP**: for each class, the average precision of its scores over all frames of the test
set; then the mean over classes.

**The problem PAT points at.** Self-attention computes, for query $i$ and key $j$,
$$A_{ij}=\mathrm{softmax}_j\Big(\tfrac{1}{\sqrt{d_h}}\,q_i^\top k_j\Big),\qquad q_i=W_q x_i,\; k_j=W_k x_j,$$
with $d_h$ the width of one head. Nothing in $A_{ij}$ depends on *where* $i$ and $j$ are, so shuffling
the input just shuffles the output: the model cannot tell "A then B" from "B then A".
""")
md(r"""
**Idea 1: a relative term inside every logit.** PAT adds a learned vector $e_{r}\in\mathbb R^{d_h}$
for every offset $r=j-i$:
$$A_{ij}=\mathrm{softmax}_j\Big(\tfrac{1}{\sqrt{d_h}}\big(q_i^\top k_j+q_i^\top e_{j-i}\big)\Big).$$
The attention of step $i$ can now prefer keys "15 steps before me", wherever $i$ is.

**Idea 2: non-hierarchical multi-scale.** A *fine* branch keeps full resolution; three *coarse*
branches with strides $s\in\{2,4,8\}$ each read the **fine features directly** (one subsampling
each), instead of MS-TCT's chain where scale $s$ reads scale $s/2$. The authors argue repeated
subsampling blurs position.

**Training and prediction.** Both heads are trained with the asymmetric loss (ASL); with
$p=\sigma(\text{logit})$ and $p_m=\max(p-m,0)$,
$$\mathcal L_{\rm asl}=-\sum_{t,c}\Big[y\,(1-p)^{\gamma_+}\log p+(1-y)\,p_m^{\gamma_-}\log(1-p_m)\Big],\qquad
\mathcal L=\mathcal L_{\rm asl}(Y_{\rm coarse})+\alpha_f\,\mathcal L_{\rm asl}(Y_{\rm fine}),$$
with $\gamma_+=1,\gamma_-=3,m=0.05$, and the prediction mixes **logits**:
$\hat y=\sigma(\alpha_f Y_{\rm fine}+\alpha_c Y_{\rm coarse})$, $\alpha_f=0.1,\alpha_c=0.9$ on Charades.
""")
md("""
A from-scratch check of the problem: one attention layer without positions, then with a relative
bias $b_{ij}=-|j-i-2|/2$ (it prefers the key two steps later). Permuting the input permutes the
output in the first case only.
""")
code("""
torch.manual_seed(0)
D = 8
Wq, Wk, Wv = (torch.randn(D, D) / D**0.5 for _ in range(3))

def attend(x, bias=None):
    s = (x @ Wq) @ (x @ Wk).T / D**0.5
    return (s if bias is None else s + bias).softmax(-1) @ (x @ Wv)

x = torch.randn(6, D)
perm = torch.tensor([3, 0, 5, 1, 4, 2])
offset = torch.arange(6)[None, :] - torch.arange(6)[:, None]  # j - i
bias = -(offset - 2).abs().float() / 2
print("no position : shuffled in -> shuffled out?", torch.allclose(attend(x)[perm], attend(x[perm]), atol=1e-6))
print("relative bias: shuffled in -> shuffled out?", torch.allclose(attend(x, bias)[perm], attend(x[perm], bias), atol=1e-6))  # NBVAL_CHECK_OUTPUT
""")

md(r"""
## Data

Real Charades needs a 60 GB download and I3D feature extraction, so we use `paperlab.worlds.timelines`:
synthetic videos whose steps carry 32-d features, each step the sum of the prototypes of its active
classes (amplitude 1.5), a per-video "scene" offset and unit Gaussian noise. Ten classes, three kinds
of structure:

* **order** — an event $X$ sits `gap` steps from an anchor $A$. It is labelled **B** when $A$ came
  before and **B'** when $A$ comes after. B and B' have *identical* features: only order separates them.
* **co-occurrence** — a weak class **C** (feature amplitude 0.6) only occurs inside a strong **D**.
* **scales** — background actions last 3-8, 8-20 or 25-60 steps.

**Two worlds.** The first run of this notebook used a *short-range* world ($T=64$, gap 10-20 steps).
Its gap lies inside the reach of the network's convolutions, so a network with no positional term at
all still learned order there (issue 32). The *long-range* world fixes that: gap **40-56 steps**,
videos of **160-176** real steps in a $T=256$ clip, and the order pair placed at least **40 steps inside
the video at both ends**. A small PAT's convolutions see about ±36 steps (the stride-8 coarse branch:
merging ±1 step, two depthwise convolutions ±16, the mixer ±8, the linear up-sampling ±8, plus ±3 from
the fine branch), so from every X frame both the anchor *and the clip's edges* are out of their reach.
The edges matter: our first long-range world had videos of 80-96 steps, barely longer than the 48-76
steps of an order pair, so an X labelled B' sat near the start and one labelled B near the end, and
the network with no positional term read the label from the nearer edge (about 80 % B/B' mAP, its
instrument check failed). The two position claims (relative term vs none, relative vs absolute) are
judged on the long-range world; the two wiring claims (hierarchical, fine-only) on the short-range
models, which is all the training budget allowed (see Experiment).

**A shifted test split.** `tl.align_end` moves every test video's real steps to the *end* of the clip
(padding first): every relative offset is unchanged, but the absolute positions move by 80-96 steps,
to positions no training video reached. A relative term should not care; absolute sinusoidal PE
meets positions it never saw.

A loader for real pre-extracted features in the Charades annotation format (`tl.load_charades`) is
there for the gpu profile; it is tested on a tiny sample under `data/samples/pat/`.
""")
code("""
wl = tl.long_range()
test_l = pat.world_data(cfg["n_test"], 100, "long-range", wl.T, wl.dim)  # fresh videos (training: seed 0), trimmed to 176 steps
test_a = tl.align_end(tl.generate(cfg["n_test"], 100, wl))               # the same videos, real steps at the end of 256
test_s = tl.generate(cfg["n_test"], seed=100)                            # the short-range world (T = 64)
for name, d in [("long-range", test_l), ("long-range, end-aligned", test_a), ("short-range", test_s)]:
    print(f"{name:24s} features {d.features.shape}, labels {d.labels.shape}")  # NBVAL_CHECK_OUTPUT
print("share of real frames where each class is active (long-range):")
for name, f in zip(test_l.class_names, test_l.labels[test_l.mask].mean(0)):
    print(f"  {name:20s} {f:.3f}")
""")
md("""
Look for: in the top video the anchor A (row 0) comes *before* X, which is therefore labelled B
(row 1), 40-56 steps later; in the middle one A comes *after* X, labelled B' (row 2). The bottom panel
is the top video end-aligned: the same events, shifted right, with the padding (grey) first.
""")
code("""
iB = int(np.flatnonzero(test_l.labels[:, :, 1].any(1))[0])
iBp = int(np.flatnonzero(test_l.labels[:, :, 2].any(1))[0])
fig, axes = plt.subplots(3, 1, figsize=(7.5, 6), sharex=True)
for ax, d, i, what in zip(axes, [test_l, test_l, test_a], [iB, iBp, iB],
                          ["A before X: X is B", "A after X: X is B'", "the top video, end-aligned (shifted test split)"]):
    img = np.zeros((d.labels.shape[2], wl.T))
    img[:, :d.labels.shape[1]] = d.labels[i].T
    img[:, np.flatnonzero(~np.pad(d.mask[i], (0, wl.T - d.mask.shape[1])))] = 0.3
    ax.imshow(img, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=1)
    ax.set_yticks(range(len(d.class_names)), d.class_names, fontsize=7)
    ax.set_title(f"long-range test video {i}: {what}", fontsize=9)
axes[-1].set_xlabel("time step")
fig.suptitle("Label timelines (black = action active, grey = padding)", fontsize=10)
plt.tight_layout()
plt.show()
""")
md("""
The figure shows what the claims rest on: B and B' are told apart by which side of X the anchor
sits, 40-56 steps away, and the end-aligned copy keeps every distance while moving every position.

**The edge check.** How many X frames lie within the convolutions' reach (36 steps) of their video's
start or end? In the first long-range world most did, and the nearer edge named their label.
""")
code("""
REACH = 36
near, told = [], []
for d in [test_l]:
    for yv, mv in zip(d.labels, d.mask):
        L = int(mv.sum())
        for lab in (1, 2):
            for t_ in np.flatnonzero(yv[:, lab]):
                near.append(min(t_, L - 1 - t_) < REACH)
                told.append((t_ < L - 1 - t_) == (lab == 2))  # nearer the start <-> B'
nb.say(f"Of {len(near)} X frames in the long-range test videos, {100 * np.mean(near):.0f} % lie within {REACH} steps of an "
       f"edge. Over all of them, the nearer edge matches the label (B' nearer the start, B nearer the end) for "
       f"{100 * np.mean(told):.0f} %: " + ("which half of its video an X frame sits in gives its label away, a shortcut an absolute "
                                          "position code can learn; no convolution can see the edge."
                                          if not np.any(near) else "the edges carry order that convolutions can read."))
""")

md(r"""
## Method

The whole network lives in `paperlab.pat`. We walk it bottom-up.

**The relative term.** The clean version keeps a table of $2L-1$ vectors (offsets $-(L-1)\dots L-1$)
and gathers $q_i^\top e_{j-i}$ for every pair:
""")
code("nb.show_source(pat.relative_bias)")
md("""
A loop version, written straight from the equation, gives the same numbers:
""")
code("""
torch.manual_seed(0)
q, table = torch.randn(1, 2, 5, 4), torch.randn(2 * 8 - 1, 4)
loops = torch.zeros(1, 2, 5, 5)
for i in range(5):
    for j in range(5):
        loops[..., i, j] = q[..., i, :] @ table[8 - 1 + j - i]
torch.testing.assert_close(pat.relative_bias(q, table), loops)
print("relative_bias matches the loop version")  # NBVAL_CHECK_OUTPUT
""")
md(r"""
**The official code does it differently.** It uses the Music-Transformer "skew" trick: a table
$E$ of $L$ rows, $QE^\top$, pad one zero column on the left, reshape, drop the first row. That is exact
only for keys at or before the query ($j\le i$): with no causal mask, the upper triangle holds
row-shifted leftovers, not $q_i^\top e_{j-i}$ (exercise 2 asks what lands just above the diagonal). The card flagged this; reading `PAT/Fine_Coarse_Modules.py`
confirms it. We keep the skew as the `pos="skew"` variant and compare both below.
""")
code("""
nb.show_source(pat.skew_bias)
S = pat.skew_bias(q[:, :1], table[:8])[0, 0]
exact = torch.stack([torch.stack([q[0, 0, i] @ table[8 - 1 - (i - j)] for j in range(5)]) for i in range(5)])
print("lower triangle exact:", torch.allclose(torch.tril(S), torch.tril(exact)))  # NBVAL_CHECK_OUTPUT
print("upper triangle exact:", torch.allclose(torch.triu(S, 1), torch.triu(exact, 1)))  # NBVAL_CHECK_OUTPUT
""")
md(r"""
**A transformer block** (RPT) is pre-norm: attention with the relative term, then the "local
relational" FFN, whose depthwise convolution over time (kernel 3) mixes neighbouring steps. Padded
steps are masked as keys and kept at zero (the official code does neither; we name that difference).
""")
code("nb.show_source(pat.RelativeAttention.logits)\nnb.show_source(pat.RPTBlock)")
md(r"""
**Non-hierarchical vs hierarchical.** The coarse module has one branch per scale: temporal merging
(a strided Conv1d + LayerNorm), RPT blocks, LayerNorm. PAT feeds every branch the fine features with
stride $s$; the MS-TCT wiring feeds branch $s$ the output of branch $s/2$ with stride 2. The modules,
and so the parameter counts, are identical — only the wiring changes.
""")
code("nb.show_source(pat.PAT.coarse_features)\nnb.show_source(pat.PAT.forward)")
md("""
**The loss** — ASL on each head, padded steps excluded, divided by the number of real steps (the
official code sums over padded steps too, where every label is 0):
""")
code("nb.show_source(pat.asymmetric_loss)")
md("""
Sizes: our model against the official configuration (D0 = 1024, width 512, 8 heads, 3 blocks per
branch, FFN ratio 8, T = 256, 157 classes). The card estimated ~70 M parameters by hand; here is the count.
""")
code("""
def n_params(m):
    return sum(p.numel() for p in m.parameters())

small = {name: n_params(pat.PAT(pat.variant_config(pat.PATConfig(), name))) for name in pat.VARIANTS}
official = pat.PAT(pat.PATConfig(in_dim=1024, n_classes=157, T=256, dim=512, heads=8, blocks=3, mlp_ratio=8))
print(f"official-size PAT: {n_params(official) / 1e6:.1f} M parameters")  # NBVAL_CHECK_OUTPUT
for name, n in small.items():
    print(f"{name:30s} {n:7d}")  # NBVAL_CHECK_OUTPUT
del official
""")

md("""
## Experiment

**Setup.** Every variant sees the same training videos (data seed 0), batch 16, AdamW with a one-cycle
learning rate peaking at 2e-3, and the ASL loss; width 32, 4 heads, 2 blocks per branch, FFN ratio 4.

* **Long-range world** (`data/pat/long-range.pt`, `python -m paperlab.pat train --world long-range`):
  1,024 training videos, 40 epochs = 2,560 optimiser steps per model, with the official initialisation
  (below). PAT and the no-position network
  from 3 seeds each; the **oracle** (the no-position network given one more input channel that holds
  the true order of every X frame: +3 for B, −3 for B') from one seed — it is a positive control, not a
  claim. The absolute-PE arm, when present, is `data/pat/long-range-absolute.pt` (same budget, 3 seeds,
  `--variants 'absolute sinusoidal PE' --tag absolute`).
* **Short-range world** (`data/pat/variants.pt`, the first committed run): 256 videos, 15 epochs =
  240 steps, seven variants x 3 seeds. Only the two wiring claims use it.

**Why 40 epochs.** In pilot runs (seed 0) PAT's B/B' mAP sat at the order-blind level for about ten
epochs and then jumped to about 87 % within five: the relative table is slow to find the anchor's
offsets, then quick. Schedules of 10 or 20 epochs decayed the learning rate before the jump and never
made it (B/B' 42-47 %). Forty epochs leave room for a slower seed; the budget was fixed from PAT's
learning curve alone, before any comparison was run.

**Initialisation.** The long-range models use the official code's `_init_weights` in the fine and
coarse branches (`pat.official_init`: Linear weights $\mathcal N(0, 0.02^2)$, Conv1d weights
$\mathcal N(0, 2/\text{fan-out})$, the relative table $\mathcal N(0, 1)$); the short-range models were
trained with PyTorch's defaults and a table of standard deviation $d_h^{-1/2}$, a difference we name
rather than retrain.

Training these models does not fit the notebook's 5-minute budget, so they were trained once with the
commands above and committed (load-or-train); the hierarchical and fine-only arms were not retrained in
the long-range world: the training budget went to the position arms (issue 32). First, a short live run
in the long-range world so you can see the method learn:
""")
code("""
live_data = pat.world_data(cfg["live_n"], 0, "long-range", wl.T, wl.dim)
t = time.time()
live, hist = pat.train_one(pat.PATConfig(T=wl.T), live_data, seed=0,
                           tcfg=pat.TrainConfig(n_train=cfg["live_n"], epochs=cfg["live_epochs"]), progress=True)
x, y, m = test_l.tensors()
print(f"live run: {len(hist.train_loss)} steps in {time.time() - t:.0f} s, "
      f"test mAP {pat.frame_map(pat.predict(live, x, m), y, m):.1f} %")
""")
md("""
Look for: the training loss falling over the first optimiser steps (each point is one batch of 16
videos). The run is far shorter than the committed ones, so it only shows that the method learns.
""")
code("""
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(hist.train_loss)
ax.set_xlabel("optimiser step")
ax.set_ylabel("ASL loss per real step")
ax.set_title("Live training of PAT (short run, long-range world)")
plt.show()
nb.say(f"The loss went from {hist.train_loss[0]:.2f} on the first batch to {np.mean(hist.train_loss[-5:]):.2f} "
       f"(mean of the last five batches) in {len(hist.train_loss)} steps.")
""")
md("""
Now the committed checkpoints, evaluated on the fresh test videos: per-frame mAP over all classes, on
the order classes B and B' alone, on the eight order-free classes, on the weak co-occurring class C,
and with the official code's averaging. Beside them, the same networks **untrained** (random
initialisation from the same seeds): the floor that training must clear.
""")
code("""
ckpt_l = pat.load_long_range()
names_l = [n for n in [*pat.LONG_VARIANTS, "absolute sinusoidal PE"] if f"{n}|0" in ckpt_l["variants"]]
res_l = pat.evaluate(ckpt_l, names_l, cfg["seeds"], test_l)       # in distribution
res_a = pat.evaluate(ckpt_l, names_l, cfg["seeds"], test_a)       # end-aligned (shifted) test split
raw = [pat.scores(pat.predict(pat.untrained(ckpt_l, "PAT", s), x, m), y, m) for s in cfg["seeds"]]
res_l["PAT, untrained"] = {k: [r[k] for r in raw] for k in raw[0]}

def table(res, keys=("all", "order", "order-free", "weak C", "official")):
    return nb.results_table([{"variant": n, "seeds": len(r["all"]),
                              **{f"mAP {k} (%)": nb.mean_std(r[k], "{:.1f}") for k in keys}} for n, r in res.items()])

print("long-range world, in distribution")
table(res_l)
""")
code("""
print("long-range world, end-aligned test split (every position shifted by 80-96 steps)")
table(res_a, ("all", "order", "order-free"))
""")
code("""
ckpt_s = pat.load_or_train_all()
xs, ys, ms = test_s.tensors()
res_s = pat.evaluate(ckpt_s, cfg["short_variants"], cfg["seeds"], test_s)
raw = [pat.scores(pat.predict(pat.untrained(ckpt_s, "PAT", s), xs, ms), ys, ms) for s in cfg["seeds"]]
res_s["PAT, untrained"] = {k: [r[k] for r in raw] for k in raw[0]}
print("short-range world (T = 64, 240 training steps)")
table(res_s)
""")

md(r"""
## Results vs the paper

Each claim is judged by a rule of `paperlab.core.claims`, paired by seed: the 95 % t-interval of the mean
per-seed difference must lie above a **minimum effect** fixed before the runs (held), below it (not
held), or it spans it (inconclusive). Every comparison carries **instrument checks**, positive controls
that show the experiment could see the mechanism; if one fails, the verdict is *not testable here*.

* **Relative term vs none** (long-range world). Primary: B/B' mAP, minimum +15 points (the paper card's
  pre-registered rule; the paper's own ablation table was not read). Secondary: all classes, minimum +3 —
  the overall gain that +15 on 2 of 10 classes gives when the other eight tie. Instruments: the
  no-position network stays near the order-blind level on B/B' (≤ 65 %; order-blind is about 50 %,
  exercise 1), so the world really hides order from the convolutions; the oracle reaches ≥ 90 % on
  B/B', so this budget can learn B/B' once order is visible; trained PAT beats the untrained one by
  ≥ 20 points on the order-free classes.
* **Relative vs absolute PE** (long-range, end-aligned split). Primary: B/B' mAP, minimum +5 points
  (no paper number was read; 5 points is a tenth of the way from order-blind to perfect, the
  smallest gap we would call a generalisation advantage). Secondary: in distribution, all classes,
  minimum +1. Instruments: the absolute-PE network learned order in distribution (B/B' ≥ 65 %), and
  PAT keeps its B/B' mAP on the shifted split (loss ≤ 5 points), so the split itself is fair.
* **Non-hierarchical vs hierarchical** and **multi-scale vs fine only** (short-range world): all
  classes, minimum +1 point — the paper's whole-system gain over MS-TCT on Charades is +1.1 (abstract,
  read); a smaller gain from one component could not account for it. Instrument: both trained
  networks beat the untrained PAT by ≥ 20 points on the order-free classes.

**The paper's numbers are not comparable in absolute terms** (157 real classes and I3D features against
10 synthetic classes). From the abstract (read): PAT 26.5 % on Charades, +1.1 over the previous best
(MS-TCT 25.4); 44.6 % on MultiTHUMOS (+0.6). The ablation tables (relative PE on/off, hierarchical vs not,
fine-only) were not readable here: *not verified*.
""")
code("""
seeds = cfg["seeds"]
mean = lambda v: float(np.mean(v))  # noqa: E731
NONE, ORC, ABS = "no positional term", "oracle order channel (no position)", "absolute sinusoidal PE"
HIER, FINE = "hierarchical (MS-TCT wiring)", "fine only"
learned_l = mean(res_l["PAT"]["order-free"]) - mean(res_l["PAT, untrained"]["order-free"])
steps_l = ckpt_l["train"]["epochs"] * -(-ckpt_l["train"]["n_train"] // ckpt_l["train"]["batch_size"])
inst1 = [claims.instrument("no-position network, B/B' mAP (%): the world hides order from the convolutions",
                           mean(res_l[NONE]["order"]), high=65),
         claims.instrument("oracle order channel, B/B' mAP (%): the budget learns B/B' once order is visible",
                           mean(res_l[ORC]["order"]), low=90),
         claims.instrument("trained − untrained PAT, order-free classes (mAP points)", learned_l, low=20)]
why15 = ("the paper card's pre-registered margin on the order classes (the paper's ablation table was not read); "
         "15 points is under a third of the way from order-blind (~50) to perfect")
r1 = claims.compound(
    claims.paired(res_l["PAT"]["order"], res_l[NONE]["order"], min_effect=15, why_min=why15, instrument=inst1,
                  names=("PAT", "no position")),
    claims.paired(res_l["PAT"]["all"], res_l[NONE]["all"], min_effect=3, instrument=inst1, names=("PAT", "no position"),
                  why_min="+15 on 2 of 10 classes with the other 8 tied is +3 on the mean over classes"),
    names=["all classes, minimum +3"])
c1 = claims.record("pat", "PAT beats the same network without positional information in per-frame mAP, by a large margin on the order-dependent classes",
                   paper_value="not verified (ablation table not read); overall PAT 26.5 vs MS-TCT 25.4 on Charades (abstract)",
                   metric="PAT per-frame mAP on B/B' (%), long-range world (gap 40-56)", per_seed=res_l["PAT"]["order"],
                   seeds=seeds, result=r1,
                   why=f"long-range world, {steps_l} steps per model, {len(seeds)} seeds; all classes: PAT {mean(res_l['PAT']['all']):.1f} "
                       f"vs no position {mean(res_l[NONE]['all']):.1f}")
""")
code("""
if ABS in res_l:
    shift_loss = mean(res_l["PAT"]["order"]) - mean(res_a["PAT"]["order"])
    inst2 = [claims.instrument("absolute-PE network, B/B' mAP in distribution (%): it learned order",
                               mean(res_l[ABS]["order"]), low=65),
             claims.instrument("PAT's B/B' mAP lost on the end-aligned split (points): the split is fair to a relative term",
                               shift_loss, high=5)]
    r2 = claims.compound(
        claims.paired(res_a["PAT"]["order"], res_a[ABS]["order"], min_effect=5, instrument=inst2, names=("PAT", "absolute PE"),
                      why_min="no paper number was read; 5 points on B/B' is a tenth of the way from order-blind to perfect"),
        claims.paired(res_l["PAT"]["all"], res_l[ABS]["all"], min_effect=1, instrument=inst2, names=("PAT", "absolute PE"),
                      why_min="the paper's gains are about 1 mAP point (Charades +1.1, abstract)"),
        names=["in distribution, all classes, minimum +1"])
    per2, why2 = res_a["PAT"]["order"], (f"end-aligned split, B/B': PAT {mean(res_a['PAT']['order']):.1f} vs absolute PE "
                                         f"{mean(res_a[ABS]['order']):.1f}; in distribution {mean(res_l['PAT']['order']):.1f} vs "
                                         f"{mean(res_l[ABS]['order']):.1f}")
else:
    r2 = claims.not_run("the absolute-PE arm was not trained in the long-range world within the training budget; "
                        "python -m paperlab.pat train --world long-range --variants 'absolute sinusoidal PE' --tag absolute trains it")
    per2, why2 = [], "not trained in this budget"
c2 = claims.record("pat", "Relative positional attention beats absolute sinusoidal PE added at the input",
                   paper_value="not verified (ablation table not read)",
                   metric="PAT per-frame mAP on B/B' (%), end-aligned long-range split", per_seed=per2,
                   seeds=seeds if per2 else [], result=r2, why=why2)
""")
code("""
floor_s = mean(res_s["PAT, untrained"]["order-free"])
def learned(name):
    return claims.instrument(f"trained {name} − untrained PAT, order-free classes (mAP points)",
                             mean(res_s[name]["order-free"]) - floor_s, low=20)
why1 = "the paper's whole-system gain over MS-TCT on Charades is +1.1 mAP (abstract); one component's gain below 1 point could not account for it"
r3 = claims.paired(res_s["PAT"]["all"], res_s[HIER]["all"], min_effect=1, why_min=why1,
                   instrument=[learned("PAT"), learned(HIER)], names=("PAT", "hierarchical"))
c3 = claims.record("pat", "Non-hierarchical multi-scale beats hierarchical (MS-TCT-style) chaining at equal parameter count",
                   paper_value="Charades PAT 26.5 vs MS-TCT 25.4 (+1.1, whole systems, abstract); wiring-only ablation not verified",
                   metric="PAT per-frame mAP, all classes (%), short-range world", per_seed=res_s["PAT"]["all"], seeds=seeds,
                   result=r3, why=f"short-range world (T = 64, 240 steps); B/B': PAT {mean(res_s['PAT']['order']):.1f} vs "
                                  f"hierarchical {mean(res_s[HIER]['order']):.1f}")
r4 = claims.paired(res_s["PAT"]["all"], res_s[FINE]["all"], min_effect=1, why_min=why1,
                   instrument=[learned("PAT"), learned(FINE)], names=("PAT", "fine only"))
c4 = claims.record("pat", "Multi-scale (fine + coarse) beats fine-only",
                   paper_value="not verified (ablation table not read)",
                   metric="PAT per-frame mAP, all classes (%), short-range world", per_seed=res_s["PAT"]["all"], seeds=seeds,
                   result=r4, why="short-range world (T = 64, 240 steps); the fine-only network also has 4x fewer parameters")
records = [c1, c2, c3, c4]
nb.claims_table(records)
""")
md("""
Look for: on the order classes (right) the networks that can see order separate from the one that
cannot; each dot is one seed, the dashed line the order-blind level of about 50 %.
""")
code("""
names = list(res_l)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, key, title in zip(axes, ["all", "order"], ["all classes", "order classes B, B'"]):
    for k, n in enumerate(names):
        ax.scatter([k] * len(res_l[n][key]), res_l[n][key], s=18)
        ax.bar(k, np.mean(res_l[n][key]), alpha=0.35)
    ax.set_xticks(range(len(names)), [n.replace(" (no position)", "").replace(", ", ",\\n") for n in names],
                  rotation=50, ha="right", fontsize=7)
    ax.set_ylabel("per-frame mAP (%)")
    ax.set_title(f"Long-range world, {title}", fontsize=10)
axes[1].axhline(50, ls="--", c="grey", lw=1)
plt.tight_layout()
plt.show()
nb.say(f"On B/B', PAT scored {mean(res_l['PAT']['order']):.1f} % against {mean(res_l[NONE]['order']):.1f} % without a positional "
       f"term and {mean(res_l[ORC]['order']):.1f} % for the oracle; untrained PAT scored {mean(res_l['PAT, untrained']['order']):.1f} %.")
""")
md(r"""
**Did PAT learn the relative table?** For the X frames of the test videos we compute, in every branch
and block, the relative logit $q_i^\top e_{j-i}/\sqrt{d_h}$ of each head for every offset $j-i$: what the
learned table adds to the attention of "a key $r$ steps away". B and B' frames look alike, so their
queries are alike too; what separates them is *where the attention goes*. A head whose term is higher
at the anchor's offsets **before** the query (−76…−41 steps) than **after** it (41…76) attends to the
anchor only when it came first — it can tell B from B'. We measure that **before/after gap** for every
head and show the head where it is largest, trained and untrained.
""")
code("""
model = pat.load_model(ckpt_l, "PAT", cfg["seeds"][0])
init = pat.untrained(ckpt_l, "PAT", cfg["seeds"][0])
xf = (y[..., 1] > 0) | (y[..., 2] > 0)  # the X frames (labelled B or B')
before, after = (-76, -41), (41, 76)

def before_after(offs, term):  # mean term at the anchor's offsets before the query minus after it
    return term[:, (offs >= before[0]) & (offs <= before[1])].mean(1) - term[:, (offs >= after[0]) & (offs <= after[1])].mean(1)

def branch_name(br):
    return "fine" if br == 0 else f"coarse x{model.cfg.scales[br - 1]}"

terms, gaps = {}, {}  # (model, branch, block) -> (offsets, per-head terms) / per-head before-after gaps
for label, mod in [("trained", model), ("untrained", init)]:
    for br in range(1 + len(mod.cfg.scales)):
        for blk in range(mod.cfg.blocks):
            terms[label, br, blk] = pat.relative_term_by_offset(mod, x, m, xf, block=blk, branch=br, per_head=True)
            gaps[label, br, blk] = before_after(*terms[label, br, blk])
nb.results_table([{"model": label, "branch": branch_name(br), "block": blk + 1,
                   "largest |before - after| (logits)": f"{np.abs(g).max():.2f}", "head": int(np.abs(g).argmax()) + 1}
                  for (label, br, blk), g in gaps.items()])
""")
code("""
def largest(label):  # (branch, block, head, gap) of the largest before/after gap of a model
    (_, br, blk), g = max(((k, g) for k, g in gaps.items() if k[0] == label), key=lambda kg: np.abs(kg[1]).max())
    h = int(np.abs(g).argmax())
    return br, blk, h, float(g[h])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
br, blk, h, gt = largest("trained")
for ax, label in zip(axes, ["trained", "untrained"]):
    offs, heads = terms[label, br, blk]
    for k in range(len(heads)):
        ax.plot(offs, heads[k], lw=2.2 if k == h else 0.8, alpha=1 if k == h else 0.5, label=f"head {k + 1}")
    ax.axvspan(*before, color="C0", alpha=0.12)
    ax.axvspan(*after, color="C1", alpha=0.12)
    ax.set_xlim(-176, 176)
    ax.set_xlabel("key offset j − i (steps)")
    ax.set_title(f"{label} PAT: {branch_name(br)} branch, block {blk + 1}", fontsize=10)
axes[0].set_ylabel("relative logit at X frames")
axes[0].legend(fontsize=7)
plt.tight_layout()
plt.show()
gu = largest("untrained")[3]
nb.say(f"In the trained PAT (seed {cfg['seeds'][0]}) the largest before/after gap is {gt:+.2f} logits (head {h + 1} of block {blk + 1}, "
       f"{branch_name(br)} branch; positive: it looks for the anchor before "
       f"the query); in the untrained one, {abs(gu):.2f} at most. "
       + ("A gap of a logit or more multiplies the attention paid to an anchor on one side by e ≈ 2.7 or more relative "
          "to the other side: that is how the table encodes order." if abs(gt) >= 1 else
          "No head prefers one side by a logit or more: the table did not learn a clear before/after preference."))
""")
md("""
**Explore the relative offset.** Pick a test video and a query step $i$: the top row shows its labels
(anchor A, B, B') with $i$ as a black line, the bottom row the relative logit
$q_i^\\top e_{j-i}/\\sqrt{d_h}$ that block 1 of the fine branch adds to the attention from $i$ towards every
key $j$, for the trained and the untrained PAT. Move $i$ onto an X frame and look for a bump over the
anchor. (The sliders need a live kernel; the static figure below them is the stored example.)
""")
code("""
import ipywidgets as widgets

explore_models = {"trained PAT": model, "untrained PAT": init}


def show_offsets(video=iB, query=60, block=0):
    pat.plot_query_offsets(explore_models, test_l, video, query, block)
    plt.tight_layout()
    plt.show()


widgets.interactive(show_offsets, video=widgets.IntSlider(iB, 0, len(test_l) - 1),
                    query=widgets.IntSlider(60, 0, test_l.features.shape[1] - 1),
                    block=widgets.IntSlider(0, 0, len(model.fine.blocks) - 1))
""")
code("""
x_frame = int(np.flatnonzero(test_l.labels[iB, :, 1])[len(np.flatnonzero(test_l.labels[iB, :, 1])) // 2])
show_offsets(video=iB, query=x_frame)
keys, term = pat.relative_term_for_query(model, x, m, iB, x_frame)
real = keys < int(m[iB].sum())
anchor = np.flatnonzero(test_l.labels[iB, :, 0])
peak = int(keys[real][np.argmax(term[real])])
nb.say(f"For query step {x_frame} (an X frame labelled B; its anchor spans steps {anchor.min()}-{anchor.max()}), the trained "
       f"table's largest term points at key {peak} (offset {peak - x_frame:+d}), "
       + ("inside the anchor." if anchor.min() <= peak <= anchor.max() else "outside the anchor: this block does not single it out "
          "(the explorer shows the fine branch; the table above says which branch and block learned the before/after gap).")
       + f" The trained term spans {np.ptp(term[real]):.2f} logits over the video's keys.")
""")
md("""
**Per-frame mAP: ours vs the official averaging.** We score with `core.metrics.mean_average_precision`
(sklearn's AP per class, mean over classes with at least one positive). The official code uses an
`APMeter`: it ranks scores, averages the precision at each positive, and divides the **sum** of class
APs by the number of **non-zero** APs; its inputs are all $T$ steps of the padded clips (padding
scored 0). A class with positives always has AP > 0, so the denominator equals "classes with a
positive"; the remaining differences are ties (APMeter keeps sort order, sklearn treats tied scores as
one threshold) and padded frames. The column `mAP official` above shows how small that is here. What
*does* change numbers is the denominator when classes are missing — compare with the plain mean over
all classes (as the official *training* mAP does, `apm.value().mean()`) on one short-range test video:
""")
code("""
one = slice(0, 1)  # a single test video: some classes never occur in it
probs = pat.predict(pat.load_model(ckpt_s, "PAT", cfg["seeds"][0]), xs[one], ms[one])
ap = 100 * pat.apmeter_ap(probs.reshape(-1, 10).numpy(), ys[one].reshape(-1, 10).numpy())
print("classes with a positive in this video:", int((ys[one][ms[one]].sum(0) > 0).sum()), "of 10")
print(f"ours (sklearn, mean over classes with a positive): {pat.frame_map(probs, ys[one], ms[one]):.1f}")
print(f"official validation (sum / #non-zero AP)          : {pat.official_map(probs, ys[one]):.1f}")
print(f"official training line (mean over all 10 classes)  : {ap.mean():.1f}")
""")
md("""
**What held and what did not, and why** (every number below is computed from the tables above).
""")
code("""
def verdict(r):
    return r["verdict"] + (f" ({r['secondary_tally']})" if r.get("secondary_tally") else "")

def ci(r):
    return claims.format_interval(r, 2)

def failed(r):
    return "; ".join(f"{i['check']} = {i['value']:.1f} (needs {i['threshold']})" for i in r.get("instruments", []) if not i["passed"])

def judged(r):  # what the verdict means, given the instrument checks
    return f"the experiment could not judge it, because an instrument check failed: {failed(r)}" if failed(r) else \
        "every instrument check passed"

text = [f"**Relative term vs none: {verdict(c1)}**, B/B' gain {ci(c1)} points (minimum 15); {judged(c1)}. "
        f"B/B' mAP: PAT {mean(res_l['PAT']['order']):.1f} %, no position {mean(res_l[NONE]['order']):.1f} % "
        f"(order-blind ≈ 50 %), oracle {mean(res_l[ORC]['order']):.1f} %."]
if not failed(c1):
    text.append("Why: in this world the anchor and the clip's edges are both beyond the convolutions' reach of every X frame, "
                f"so without a positional term B and B' are the same pattern (the no-position network stays at "
                f"{mean(res_l[NONE]['order']):.1f} %, near or below the order-blind level); the oracle shows that the budget "
                "learns B/B' once order is visible locally; what PAT adds is the relative table, which lets an X frame's "
                "attention find the anchor on one side only (the before/after gap above).")
if not c1["instruments"][0]["passed"]:
    text.append(f"The no-position network reached {mean(res_l[NONE]['order']):.1f} % on B/B', above the 65 % bar: something in "
                "this world still carries order that it can read, so the world does not isolate the relative term: "
                "untested, not refuted.")
if ABS in res_l:
    text.append(f"**Relative vs absolute: {verdict(c2)}**, {ci(c2)} points on the end-aligned split (minimum 5); {judged(c2)}. "
                f"The shift moved PAT's B/B' mAP by {mean(res_a['PAT']['order']) - mean(res_l['PAT']['order']):+.1f} points, "
                f"absolute PE's by {mean(res_a[ABS]['order']) - mean(res_l[ABS]['order']):+.1f}. End-aligning keeps every "
                "offset between an X frame and its anchor, which is all a relative term reads, but moves every absolute "
                "position by 80-96 steps, to positions no training video reached" + (
                    f": what sinusoidal PE learned about order was tied to the positions it saw. In this world the half of "
                    f"the video an X frame sits in names its label ({100 * np.mean(told):.0f} % of X frames, the edge check), "
                    "so absolute PE can score well in distribution from where X is, not from where A is; moved to the end "
                    "of the clip, every X looks late, and its B/B' mAP falls below the order-blind level." if c2["verdict"] == "held" else
                    "; here that shift did not cost absolute PE enough to separate the two."))
else:
    text.append("**Relative vs absolute: not run** (the absolute-PE arm was not trained in this budget).")
text.append(f"**Non-hierarchical vs hierarchical: {verdict(c3)}**, {ci(c3)} points; **multi-scale vs fine only: "
            f"{verdict(c4)}**, {ci(c4)} points (minimum 1 each; {judged(c3) if failed(c3) else judged(c4)}); both on the "
            f"short-range models, where on B/B' the chain differs from PAT by "
            f"{mean(res_s[HIER]['order']) - mean(res_s['PAT']['order']):+.1f} points. In that world the whole order pair "
            "lies inside the convolutions' reach, so no wiring needs attention to see order, and chaining the scales "
            "mainly widens the receptive field: the wiring claim is about a mechanism this world cannot isolate. The "
            "fine-only network lacks the coarse branches' wider view and has 4x fewer parameters, so its gap mixes the two.")
nb.say(" ".join(text))
""")
md("""
Caveats:

* A synthetic world with 10 classes and a network of about 0.14 M parameters (the official one has
  70.9 M); the budgets (2,560 steps per model in the long-range world, 240 in the short-range one) are
  far below the paper's (30 epochs of Charades).
* The wiring claims rest on the short-range world only; in it, convolutions reach the anchor, so
  chaining (a wider receptive field) can help B/B' for reasons unrelated to position.
* Three seeds give wide t-intervals (the t quantile is 4.3); the oracle is one seed, used only as a
  positive control.
* The long-range world lets *absolute* position carry order: with the pair kept 40 steps inside the
  video, an X labelled B sits in the later half of its video and one labelled B' in the earlier half
  (the edge check in Data). Convolutions cannot see that, but absolute PE can learn it as a shortcut
  instead of the relation, which helps it in distribution and is what the end-aligned split breaks. A
  world that trains on randomly shifted videos would ask the harder question — can absolute PE learn the
  relation itself? — and was not run here.
""")

md("""
## Ablation

Two knobs that cost no training, on the committed PAT checkpoints, and one that did.

**Fusion weights** (long-range PAT). The prediction mixes fine and coarse **logits** with
$\\alpha_f=0.1, \\alpha_c=0.9$. What if we mix 0.5/0.5, use one head alone, or mix *probabilities*?
""")
code("""
fus = {k: [] for k in ["logits 0.1/0.9 (official)", "logits 0.5/0.5", "coarse head only", "fine head only", "probabilities 0.1/0.9"]}
for s in cfg["seeds"]:
    mod = pat.load_model(ckpt_l, "PAT", s)
    with torch.no_grad():
        yf, yc = mod(x, m)
    mk = m[..., None]
    for k, pr in [("logits 0.1/0.9 (official)", torch.sigmoid(0.1 * yf + 0.9 * yc)),
                  ("logits 0.5/0.5", torch.sigmoid(0.5 * yf + 0.5 * yc)),
                  ("coarse head only", torch.sigmoid(yc)), ("fine head only", torch.sigmoid(yf)),
                  ("probabilities 0.1/0.9", 0.1 * torch.sigmoid(yf) + 0.9 * torch.sigmoid(yc))]:
        fus[k].append(pat.frame_map(pr * mk, y, m))
nb.results_table([{"fusion": k, "mAP all (%)": nb.mean_std(v, "{:.1f}")} for k, v in fus.items()])
""")
code("""
nb.say(f"The coarse head alone scores {mean(fus['coarse head only']):.1f} against {mean(fus['fine head only']):.1f} for the fine "
       f"head; the official logit mix {mean(fus['logits 0.1/0.9 (official)']):.1f}, 0.5/0.5 {mean(fus['logits 0.5/0.5']):.1f}, "
       f"and mixing probabilities {mean(fus['probabilities 0.1/0.9']):.1f}.")
""")
md("""
**Clean relative table vs the official skew, and the local convolution** (short-range models). The skew
variant garbles the future half of the relative term; the no-conv variant removes the depthwise
convolution in the FFN, the only other place (besides the strided merging convolutions) where order
can leak in.
""")
code("""
abl = [n for n in ["PAT", "PAT, official skew", "no positional term", "no position, no local conv"] if n in res_s]
nb.results_table([{"variant": n, "mAP all (%)": nb.mean_std(res_s[n]["all"], "{:.1f}"),
                   "mAP B/B' (%)": nb.mean_std(res_s[n]["order"], "{:.1f}")} for n in abl])
""")
code("""
if len(abl) == 4:
    nb.say(f"In the short-range world the official skew scores {mean(res_s['PAT, official skew']['order']):.1f} on B/B' against "
           f"{mean(res_s['PAT']['order']):.1f} for the clean table, and the position-free network "
           f"{mean(res_s['no positional term']['order']):.1f} with its local convolution, "
           f"{mean(res_s['no position, no local conv']['order']):.1f} without: there the convolutions, not the attention, "
           "carry most of the order information — the reason for the long-range world.")
""")

md("""
**Real Charades features (gpu profile).** With pre-extracted I3D features `data/pat/charades_i3d/<id>.npy` and
the official annotation file `data/pat/charades.json` (the format of PAT-ICCVW / MS-TCT, read by
`tl.load_charades`), the gpu profile trains one PAT at the official width on the training videos and prints its
per-frame mAP on the test videos: a short run, printed and not claimed.
""")
code("""
ch = cfg.get("charades")
if ch is None:
    print("Charades: not in this profile (the cpu and smoke profiles use the synthetic worlds only)")  # NBVAL_CHECK_OUTPUT
elif not (charades_root / ch["annotation"]).exists():
    print(f"Charades features not found: put the annotation file at {charades_root / ch['annotation']} and the I3D "
          f"features at {charades_root / ch['features']}/<video id>.npy (see the MS-TCT repository, dairui01/MS-TCT, "
          "for the features); skipped")
else:
    load = dict(n_classes=ch["n_classes"], num_clips=ch["T"])
    train_c, _ = tl.load_charades(charades_root / ch["annotation"], charades_root / ch["features"], subset="training", **load)
    test_c, ids_c = tl.load_charades(charades_root / ch["annotation"], charades_root / ch["features"], subset="testing", **load)
    ccfg = pat.PATConfig(in_dim=train_c.features.shape[-1], n_classes=ch["n_classes"], T=ch["T"], **ch["model"])
    t = time.time()
    model_c, hist_c = pat.train_one(ccfg, train_c, seed=0, tcfg=pat.TrainConfig(n_train=len(train_c), epochs=ch["epochs"]),
                                    progress=True, device=device)
    xc, yc, mc = test_c.tensors()
    probs_c = pat.predict(model_c.cpu(), xc, mc)
    print(f"Charades from {charades_root}: {len(train_c)} training / {len(test_c)} test videos, {len(hist_c.train_loss)} "
          f"steps in {time.time() - t:.0f} s; per-frame mAP {pat.frame_map(probs_c, yc, mc):.1f} % "
          f"(official averaging {pat.official_map(probs_c, yc):.1f} %)")
""")
md(r"""
## Exercises

Easiest first; each check cell says *not attempted / incorrect / close / correct*. Worked solutions:
[`../solutions/07_pat.ipynb`](../solutions/07_pat.ipynb) (try first).

**Exercise 1.** A model that cannot see order gives every X frame the same score for class B, and
every other frame a lower score. What AP does class B get on the short-range test split `test_s`? (Hint:
sklearn treats tied scores as one threshold, so AP = precision at that threshold. Compute it from
`test_s.labels`, shape (videos, steps, classes); B is class 1, B' class 2.)
""")
code("""
answer_1 = ...  # a number between 0 and 1
pat.check_exercise(1, answer_1, labels=test_s.labels)
""")
md(r"""
**Exercise 2.** In the official skew trick with no causal mask, what is the relative term
$S_{i,i+1}$ (the key just after the query)? Work it out on paper, then confirm with `pat.skew_bias`.
""")
code("""
answer_2 = ...  # a number
pat.check_exercise(2, answer_2)
""")
md("""
**Exercise 3.** With $T=64$, how many rows does the clean relative table of the scale-8 coarse branch
have? (Each branch has its own table, sized by its own sequence length.)
""")
code("""
answer_3 = ...  # an integer
pat.check_exercise(3, answer_3, T=64)
""")
md("""
**Exercise 4.** Four classes have APs `[0.8, 0.0, 0.5, 0.0]`; the two zeros are classes with no
positive frame. Give `(official averaging, plain mean over all classes)`.
""")
code("""
answer_4 = ...  # a tuple of two numbers
pat.check_exercise(4, answer_4)
""")
md(r"""
**Exercise 5.** Implement the clean relative bias $S_{ij}=q_i^\top e_{j-i}$ yourself for `q` of shape
`(B, H, N, d)` and `table` of shape `(2L-1, d)` (row `L-1+r` is offset `r`). Loops are fine.
""")
code("""
def my_relative_bias(q, table):
    raise NotImplementedError  # replace with your code

pat.check_exercise(5, my_relative_bias)
""")

md("""
## Summary and references
""")
code("""
nb.say("\\n".join([
    "- PAT = a relative positional term inside every attention logit + non-hierarchical multi-scale branches "
    "(each coarse scale reads the fine features) + logit fusion of a fine and a coarse head, trained with the "
    "asymmetric loss. The official relative term is a skew trick that is exact only for keys at or before the query.",
    *[f"- {r['claim']}: **{verdict(r)}**" + (f", effect {ci(r)} (minimum {r['min_effect']:g})" if r.get('interval') else "")
      for r in records],
    "- Per-frame mAP: the official averaging (sum / number of non-zero APs) equals the mean over classes with a "
    "positive; it differs from the mean over all classes.",
]))
""")
md("""
**References.** F. Sardari, A. Mustafa, P. J. B. Jackson, A. Hilton, *PAT: Position-Aware Transformer
for Dense Multi-Label Action Detection*, ICCVW 2023, arXiv 2308.05051; code `faeghehsardari/PAT-ICCVW`.
R. Dai et al., *MS-TCT: Multi-Scale Temporal ConvTransformer for Action Detection*, CVPR 2022; code
`dairui01/MS-TCT`. C.-Z. A. Huang et al., *Music Transformer*, ICLR 2019 (the skew trick). P. Shaw
et al., *Self-Attention with Relative Position Representations*, NAACL 2018. T. Ridnik et al.,
*Asymmetric Loss for Multi-Label Classification*, ICCV 2021. Libraries: PyTorch, scikit-learn
(average precision), NumPy, matplotlib.
""")
code('print(f"notebook ran in {time.time() - T0:.0f} s")')

NB = notebook(
    module="pat",
    paper="Sardari et al., PAT: Position-Aware Transformer for Dense Multi-Label Action Detection (ICCVW 2023)",
    url="https://arxiv.org/abs/2308.05051",
    claim="A relative positional term in attention plus non-hierarchical multi-scale features improve dense action detection.",
)
for c in NB.cells:  # the measured run times, filled in from pat_text.py after `make reproduce NB=07_pat`
    for key, value in pat_text.RUNTIMES.items():
        c.source = c.source.replace(key, value)
nbf.write(NB, ROOT / "notebooks" / "07_pat.ipynb")
print("wrote notebooks/07_pat.ipynb with", len(NB.cells), "cells")
