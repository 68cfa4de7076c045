"""Build notebooks/05_backdoor.ipynb (structure and prose; outputs come from `make reproduce NB=05_backdoor`).

    .venv/bin/python notebooks/build/backdoor.py
"""

from pathlib import Path

import nbformat as nbf

from paperlab.core import nb as plnb
from _common import code, md, notebook  # notebooks/build/_common.py: the cell list and its helpers

NAME = "05_backdoor.ipynb"
md(f"""
# Backdoor mitigation by margin-limiting activation bounds (MMAC) and test-time detection (MMDF)

{plnb.colab_badge(NAME)}

**Paper.** Hang Wang, Zhen Xiang, David J. Miller, George Kesidis, *Improved Activation Clipping for
Universal Backdoor Mitigation and Test-Time Detection*, IEEE MLSP 2024
([arXiv:2308.04617](https://arxiv.org/abs/2308.04617)) · official code: `wanghangpsu/MMAC`.

**What you will learn.** What a backdoor (Trojan) attack does to a classifier; why the paper expects
a backdoor to show up as abnormally large activations and classification margins; how to put a
learnable upper bound on every ReLU and choose the bounds so that no class can reach a huge margin
(MMAC); and how the *drop* in margin between the original and the bounded network flags triggered
inputs at test time (MMDF).

**What the paper claims** (abstract; the paper's tables could not be read here, so no number is
quoted): bounds chosen to limit margins mitigate backdoors better than peer post-training methods on
CIFAR-10, are robust to adaptive and X2X attacks, and the detect-and-fix extension catches and
corrects triggered inputs. We measure each of these on a small MLP trained on poisoned 8x8 digits.

**Runs in:** smoke ~40 s · cpu ~1.5 min (measured: 1 min 33 s for `make reproduce NB=05_backdoor` on 2 cores at low load; 4.6-5.9 min when shared with other jobs) · gpu ~4 min (the same digits experiment; the
CIFAR-10 / ResNet-18 setting of the paper is not run here, see the Data section).
""")

md("""
## Setup

On Colab the next cell clones and installs the course; anywhere else it does nothing.
""")
code(plnb.colab_install_source())
code("""
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

import paperlab
from paperlab import backdoor as B
from paperlab.core import checks, claims, metrics, nb, plots
from paperlab.worlds import digits as W

warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
nb.setup(seed=0)
torch.set_num_threads(1)  # the models are tiny: one thread beats two (no thread hand-offs), most of all on a busy CPU
T0 = time.time()
""")
md("""
The **parameters** cell is the only cell that reads the profile. `mmac` holds the bound optimiser's
settings; the cpu profile keeps the official code's 300 epochs, learning rate, initial bound and
adaptive coefficient, but uses 20 surrogate inputs per class optimised for 150 steps (the code: 50
for 300 steps) so the whole notebook fits in a few minutes on a laptop.
""")
code("""
P = paperlab.profile()
cfg = P.pick(**B.CONFIG)  # the sizes per profile, shared with `python -m paperlab.backdoor train`
mmac_cfg = B.MMACConfig(**cfg["mmac"])
cfg
""", tags=["parameters"])

md(r"""
## The paper in one page

**Threat model.** An attacker poisons part of the training set: a few images get a *trigger* (a small
patch, or a faint noise pattern blended in) and the attacker's label. The trained network $f$ is
accurate on clean images but sends triggered images to the *target class* $t$. The defender gets $f$
after training and a small clean labelled set $D$ (here 10 images per class); no training data, no
knowledge of the trigger.

**Premise.** Learning a backdoor over-fits: the trigger drives a few internal ReLU activations far
above their clean range, which gives the target class an abnormally large *classification margin*
$$m_k(x; g) = g_k(x) - \max_{j\neq k} g_j(x),$$
where $g_k(x)$ is the logit of class $k$ for the network $g$.

**MMAC.** Replace every post-ReLU activation $h_{l,c}(x)$ (layer $l$, channel/neuron $c$) by
$\min(h_{l,c}(x), z_{l,c})$; call the result $\bar f(\cdot; Z)$ with bounds $Z=\{z_{l,c}\}$. For each
class $k$, find surrogate inputs $X^*_k$ that maximise $m_k(x; f)$ by gradient ascent on the
original network (they stand in for "the inputs that reach the largest margin": trigger-like ones for
the target class). Then choose the bounds by
$$\min_Z\ \frac{1}{|D|K}\sum_{x\in D}\lVert \bar f(x;Z)-f(x)\rVert_2^2 \;+\; c\sum_{k}\sum_{x\in X^*_k} m_k\big(x;\bar f(\cdot;Z)\big),$$
where $K$ is the number of classes: keep clean outputs, shrink every class's largest margin. The
trade-off $c$ starts at 0.002 and, after epoch 30, every 10 epochs is multiplied by 1.2 if $\bar f$ still
classifies $D$ with at least 95% accuracy, divided by 1.2 otherwise.

**MMDF.** For an input $x$ with $\hat y=\arg\max_k f_k(x)$, the score is the margin drop
$$s(x) = m_{\hat y}(x; f) - m_{\hat y}(x; \bar f).$$
With mean $\mu$ and standard deviation $\sigma$ of $s$ on the clean set, flag $x$ when
$s(x) > \mu + 2.576\,\sigma$ (a one-sided p-value of 0.005) and answer $\bar f$'s best class other than $\hat y$.

**Metrics.** ACC: clean test accuracy. ASR (attack success rate): the fraction of triggered test
images *from non-target classes* classified as the attack label. PACC: the fraction of those triggered
images classified as their true class.
""")

md("""
## Data

sklearn's 1797 digits (8x8 grey images scaled to [0, 1]) stand in for CIFAR-10: they train in
seconds on a CPU. Split 60/20/20 (stratified, per seed); the defender's clean set $D$ is drawn from the
validation split, the test split is for evaluation. Three attacks, each poisoning 10% of the attackable
training images (a poisoned copy replaces its original, as in the official attack code):

* **patch**, all-to-one: a 2x2 white square in the bottom-right corner, target class 0;
* **blended**, all-to-one: a fixed uniform-noise image mixed in with weight 0.2, target class 0;
* **X2X** (all-to-next, as the official attack code crafts it): the patch, label $k \\to k+1 \\bmod 10$.

The official code runs ResNet-18 on CIFAR-10; `W.load_cifar10` (torchvision) is the loader for that
setting and is tested on a tiny sample in CIFAR's pickle format under `data/samples/cifar10/`, but this
notebook does not train ResNet-18 in any profile (simplification).
""")
code("""
x_all, y_all = W.load()
TRIGGERS = B.attacks()  # name -> (trigger, mode)
data0 = W.split(x_all, y_all, seed=0)
print({k: tuple(v[0].shape) for k, v in data0.items()})  # NBVAL_CHECK_OUTPUT
""")
md("""
Look for: the white corner square of the patch trigger, and how faint the blended trigger is. The
title of each triggered image is the label the attacker wants.
""")
code("""
xs8, ys8 = x_all[:6], y_all[:6]
rows = [xs8] + [W.apply_trigger(xs8, TRIGGERS[k][0]) for k in ("patch", "blended")]
titles = ([f"clean {int(v)}" for v in ys8] + [f"patch -> 0" for _ in ys8] + [f"blend -> 0" for _ in ys8])
plots.image_grid([im for r in rows for im in r], titles=titles, ncols=6, size=1.0,
                 suptitle="Clean digits (top), patch trigger (middle), blended trigger (bottom)")
plt.show()
""")

md("""
### The premise, measured

Train a clean and a patch-backdoored MLP (64-256-256-10, Adam, same seed) and compare (a) the largest
margin each class can reach on surrogate inputs and (b) the largest hidden activation per test image,
clean vs triggered. If the premise holds, the backdoored model's target class (0) stands out in (a)
and triggered images sit to the right in (b).
""")
code("""
(xtr, ytr), (xva, yva), (xte, yte) = data0["train"], data0["val"], data0["test"]
patch = TRIGGERS["patch"][0]
clean_model = B.train_classifier(xtr, ytr, seed=0, epochs=cfg["train_epochs"])
xp, yp, is_p = W.poison(xtr, ytr, patch, rate=0.1, seed=0)
bd_model = B.train_classifier(xp, yp, seed=0, epochs=cfg["train_epochs"])
print(f"poisoned training images: {int(is_p.sum())} of {len(ytr)}")
mm_clean = B.max_margin_per_class(clean_model, **cfg["premise"])
mm_bd = B.max_margin_per_class(bd_model, **cfg["premise"])
keep = yte != 0
net_view = B.BoundedNet(bd_model, xte)
act_clean = torch.cat(B.channel_max_activations(net_view, xte[keep]), 1).amax(1)
act_trig = torch.cat(B.channel_max_activations(net_view, W.apply_trigger(xte[keep], patch)), 1).amax(1)
""")
md("""
Look for: one tall bar at class 0 on the right (backdoored) panel only, and the orange histogram
shifted right of the blue one.
""")
code("""
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
k = np.arange(10)
axes[0].bar(k - 0.2, mm_clean.numpy(), 0.4, label="clean model")
axes[0].bar(k + 0.2, mm_bd.numpy(), 0.4, label="backdoored (target 0)")
axes[0].set(xlabel="class k", ylabel="max margin m_k (logit units)", title="Largest reachable margin per class")
axes[0].set_xticks(k); axes[0].legend(fontsize=8)
bins = np.linspace(0, float(max(act_clean.max(), act_trig.max())), 30)
axes[1].hist(act_clean.numpy(), bins, alpha=0.6, label="clean test images")
axes[1].hist(act_trig.numpy(), bins, alpha=0.6, label="same images + trigger")
axes[1].set(xlabel="largest hidden activation (a.u.)", ylabel="images", title="Backdoored MLP: max activation")
axes[1].legend(fontsize=8)
fig.tight_layout(); plt.show()
print(f"target-class max margin / largest other: {float(mm_bd[0] / mm_bd[1:].max()):.2f} (backdoored), "
      f"{float(mm_clean[0] / mm_clean[1:].max()):.2f} (clean)")
""")

md("""
## Method

**The bounded network.** `BoundedNet` copies the frozen model and registers a forward hook on every
`nn.ReLU` that returns `torch.minimum(h, z)` with one learnable bound per channel (per neuron in an
MLP). `torch.minimum` (not a clamp with a detached bound) lets gradients reach `z`; the weights have
`requires_grad=False`. The official code writes the bounds into a hand-written ResNet forward; the hook
does the same for any model built from `nn.ReLU` modules, one bound vector per ReLU *call*.
""")
code("nb.show_source(B.BoundedNet)")
md("""
A from-scratch check: for our MLP, the bounded forward pass is three lines of `torch.minimum`. With
random bounds it must equal the library.
""")
code("""
torch.manual_seed(0)
net = B.BoundedNet(bd_model, xte)
net.set_bounds([torch.rand_like(z) * 3 for z in net.bounds])
lin1, lin2, lin3 = bd_model.net[1], bd_model.net[3], bd_model.net[5]
h1 = torch.minimum(torch.relu(lin1(xte.flatten(1))), net.bounds[0])   # min(h_1, z_1)
h2 = torch.minimum(torch.relu(lin2(h1)), net.bounds[1])               # min(h_2, z_2)
torch.testing.assert_close(lin3(h2), net(xte))
print("from-scratch bounded MLP == BoundedNet")  # NBVAL_CHECK_OUTPUT
""")
md("""
**Margins and surrogate inputs.** `margins` masks the own class with $-\\infty$ and takes the best
other logit. `max_margin_inputs` starts from uniform noise and ascends $m_k$ on the *original* model,
the images clamped to [0, 1] (the code's learning rate 1e-2 and 300 steps, 150 in our cpu profile; it rebuilds its SGD
optimiser every step, so its momentum never acts: plain gradient steps here).
""")
code("nb.show_source(B.margins)\nnb.show_source(B.max_margin_inputs)")
md("""
**The objective and its trade-off.** `mmac_loss` is the equation above: the code's `nn.MSELoss` (a
mean over images and logits) plus $c$ times the margin *summed* over a batch of 200 surrogates.
`adapt_c` is the code's automatic rule for $c$.
""")
code("nb.show_source(B.mmac_loss)\nnb.show_source(B.adapt_c)")
md("""
`mmac` runs Adam (lr 0.1) on the bounds only, all starting at 1.0 as in the code (inputs are in [0, 1]
and not normalised), regenerating the surrogates every 100 epochs from new random starts. Like the
code, it keeps only the clean images the model classifies correctly (`correctly_classified`).
""")
code("nb.show_source(B.mmac)")
md("""
**MMDF** compares the two networks on each input; the threshold comes from clean scores only.
""")
code("nb.show_source(B.mmdf_scores)\nnb.show_source(B.fit_threshold)\nnb.show_source(B.mmdf_predict)")
md("""
**Baselines** on the same model and clean set: no defence; *naive clipping*, every bound at the largest
activation that channel shows on $D$; *fine-tuning* all weights on $D$ with cross-entropy (Adam, 50
full-batch steps). The group's earlier mitigation (MM-BM, in `wanghangpsu/MM-BD`) is not described in
the card well enough to re-implement faithfully in this session, so it is left out; the paper's other
peers (NC, NAD, ANP, I-BAU, ... not verified) are out of scope.
""")
code("nb.show_source(B.naive_clip)")
md("""
**Where the card and the official code differ (the code wins here).** (1) The card lists momentum 0.2
for the surrogate search; `mmac.py` creates a fresh `SGD(momentum=0.2)` inside the step loop, so the
momentum never acts: we take plain gradient steps. (2) The objective's margin term is a *sum* over the
surrogate batch and the MSE a *mean* over images and logits, which fixes the scale of $c$. (3) `mmdf.py`
uses the MMAC-repaired network as $\\bar f$ and fits its threshold on the first 50 test images per class
without filtering them for correctness; we reuse MMAC's clean set, already filtered to correctly
classified images. (4) The official attack is a random-colour 3x3 patch at a random location with 500
poisons per class for X2X on 32x32 images; ours is a fixed 2x2 white corner patch at a 10% rate on 8x8
digits.
""")

md("""
## Experiment

For every seed (which fixes the split, the poisoned images, the model initialisation and the clean-set
draw) and every attack: train the attacked MLP, then apply every defence to that same model.
`run_setting` returns the metrics of each defence and the MMDF scores; `experiment_job` is one
(attack, seed) job, which for the patch attack also measures the premise. Every job seeds itself, so
`run_experiment` gives the same results run one after another here or spread over processes by
`python -m paperlab.backdoor train --workers 2` (the shared train command line).
""")
code("nb.show_source(B.run_setting)")
code("nb.show_source(B.experiment_job)")
code("""
t = time.time()
results = B.run_experiment(cfg)  # {(attack, seed): result}; `python -m paperlab.backdoor train --workers 2` runs the same
for (name, seed), r in results.items():
    print(f"seed {seed} {name:8s} ASR none {r['none']['asr']:.2f} naive {r['naive clip']['asr']:.2f} "
          f"fine-tune {r['fine-tune']['asr']:.2f} MMAC {r['MMAC']['asr']:.2f} MMDF {r['MMDF']['asr']:.2f} "
          f"| ACC none {r['none']['acc']:.3f} MMAC {r['MMAC']['acc']:.3f}")
premise_ratio = [results[("patch", s)]["premise"]["backdoored"] for s in cfg["seeds"]]
premise_clean = [results[("patch", s)]["premise"]["clean"] for s in cfg["seeds"]]
print(f"experiment: {time.time() - t:.0f} s")
""")

md("""
## Results vs the paper

One row per attack and defence, mean ± std over seeds. The paper's numbers could not be read in this
session (only its abstract), so the paper column states its qualitative claim.
""")
code("""
DEFENCES = list(B.DEFENCES)
PAPER = {"none": "ASR high (attack works)", "naive clip": "—", "fine-tune": "—",
         "MMAC": "ASR low, small ACC loss (qualitative)", "MMDF": "detects and corrects (qualitative)"}

def per_seed(name, defence, key):
    return [results[(name, s)][defence][key] for s in cfg["seeds"]]

rows = []
for name in cfg["settings"]:
    for d in DEFENCES:
        rows.append({"attack": name, "defence": d, "paper": PAPER[d], "ACC": nb.mean_std(per_seed(name, d, "acc")),
                     "ASR": nb.mean_std(per_seed(name, d, "asr")), "PACC": nb.mean_std(per_seed(name, d, "pacc"))})
nb.results_table(rows)
""")
md("""
Look for: how far each defence brings the ASR bar down (left) and what it costs in clean accuracy
(right); error bars are the std over seeds.
""")
code("""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
w = 0.8 / len(DEFENCES)
for i, d in enumerate(DEFENCES):
    for ax, key in zip(axes, ("asr", "acc")):
        vals = [per_seed(n, d, key) for n in cfg["settings"]]
        ax.bar(np.arange(len(vals)) + i * w, [np.mean(v) for v in vals], w, yerr=[np.std(v) for v in vals], label=d)
for ax, lab in zip(axes, ("attack success rate (fraction)", "clean test accuracy (fraction)")):
    ax.set_xticks(np.arange(len(cfg["settings"])) + 0.4 - w / 2, cfg["settings"])
    ax.set(xlabel="attack", ylabel=lab)
axes[0].set_title("ASR after each defence"); axes[1].set_title("Clean accuracy after each defence")
axes[1].set_ylim(0.5, 1.0); axes[1].legend(fontsize=7, ncol=2, loc="lower left")
fig.tight_layout(); plt.show()
""")
md("""
**MMDF detection.** Look for: the ROC curves far above the diagonal if the margin drop separates
triggered from clean test images; the dot is the operating point of the $\\mu + 2.576\\sigma$ threshold.
""")
code("""
from sklearn.metrics import roc_curve

fig, ax = plt.subplots(figsize=(5, 3.8))
for name in cfg["settings"]:
    s_clean, s_trig, th = results[(name, cfg["seeds"][0])]["scores"]
    lab = np.r_[np.zeros(len(s_clean)), np.ones(len(s_trig))]
    fpr, tpr, _ = roc_curve(lab, np.r_[s_clean.numpy(), s_trig.numpy()])
    auc = metrics.auroc(np.r_[s_clean.numpy(), s_trig.numpy()], lab)
    line, = ax.plot(fpr, tpr, label=f"{name} (AUROC {auc:.2f})")
    ax.plot(float((s_clean > th).float().mean()), float((s_trig > th).float().mean()), "o", color=line.get_color())
ax.plot([0, 1], [0, 1], "k:", lw=1)
ax.set(xlabel="false positive rate (clean test images flagged)", ylabel="true positive rate (triggered flagged)",
       title=f"MMDF ROC, seed {cfg['seeds'][0]}")
ax.legend(fontsize=8); plt.show()
for name in cfg["settings"]:
    print(f"{name:8s} AUROC {nb.mean_std(per_seed(name, 'MMDF', 'auroc'))}  TPR {nb.mean_std(per_seed(name, 'MMDF', 'tpr'))}"
          f"  FPR {nb.mean_std(per_seed(name, 'MMDF', 'fpr'))}  PACC after correction {nb.mean_std(per_seed(name, 'MMDF', 'pacc'))}")
""")
md("""
**Claims and verdicts.** Each rule is written next to its claim. One rule was changed after the first run, and the change only made
verdicts stricter: the attack's own success (ASR ≥ 0.9 before any defence) was a sub-rule, so a claim with ASR
1.00 after MMAC came out *partly*; it is now only reported beside the verdict. The rules:
the premise holds if the target class reaches the largest margin of all classes on every seed (ratio
> 1) and the ratio is higher than on a clean model trained with the same seed; mitigation holds if MMAC brings the ASR to ≤ 0.05 and costs at
most 3 points of clean accuracy (the attack's own ASR before any defence is reported beside it: the
issue asks for > 0.9, which X2X only nearly reaches); "beats naive clipping" needs a lower ASR by more than 0.05 on every seed
with clean accuracy no more than 2 points below naive clipping's; detection needs AUROC ≥ 0.95 and
PACC after correction ≥ 0.5 on every seed; the adaptive-attack claim needs ASR ≤ 0.05 after MMAC. Sub-rules are combined by `claims.rule_all`: held if all
held, not held if none held even partly, otherwise partly. So X2X's *partly* below comes from its accuracy
sub-rule alone (mean drop 0.024 ≤ 0.03, though not on every seed); its ASR sub-rule (0.20 vs ≤ 0.05) did not hold.
""")
code("""
seeds = cfg["seeds"]
def drop(name):
    return [a - b for a, b in zip(per_seed(name, "none", "acc"), per_seed(name, "MMAC", "acc"))]

print("premise ratio, backdoored:", [round(v, 2) for v in premise_ratio], "clean:", [round(v, 2) for v in premise_clean])
v, r = claims.rule_all(claims.rule_threshold(premise_ratio, low=1.0),
                       claims.rule_better(premise_ratio, premise_clean, higher_is_better=True))
claims.record("backdoor", "Poisoning gives the target class the largest reachable margin (premise)",
              paper_value="backdoor over-fitting: abnormally large activations and margins (qualitative)",
              metric="target max margin / largest other class's (patch attack)", per_seed=premise_ratio, seeds=seeds,
              verdict=v, rule=r, why=f"Surrogate max-margin inputs, patch-backdoored MLP; the same ratio on a clean MLP: {nb.mean_std(premise_clean)}.")
for name, claim in [("patch", "MMAC drops ASR from > 0.9 to near zero, ACC within 3 points (patch)"),
                    ("x2x", "MMAC also mitigates the X2X attack")] + ([("blended", "MMAC mitigates the blended attack")]
                                                                     if "blended" in cfg["settings"] else []):
    if name not in cfg["settings"]:
        continue
    works = sum(a >= 0.9 for a in per_seed(name, "none", "asr"))  # the attack's own success, reported beside the verdict
    v, r = claims.rule_all(claims.rule_threshold(per_seed(name, "MMAC", "asr"), high=0.05),
                           claims.rule_threshold(drop(name), high=0.03))
    claims.record("backdoor", claim, paper_value="ASR reduced to low values with small ACC loss (qualitative; table not read)",
                  metric=f"ASR after MMAC ({name})", per_seed=per_seed(name, "MMAC", "asr"), seeds=seeds, verdict=v, rule=r,
                  why=f"ASR before {nb.mean_std(per_seed(name, 'none', 'asr'))} (>= 0.9 on {works}/{len(seeds)} seeds), "
                      f"ACC drop {nb.mean_std(drop(name))}.")
acc_gap = [a - b for a, b in zip(per_seed("patch", "MMAC", "acc"), per_seed("patch", "naive clip", "acc"))]
v, r = claims.rule_all(claims.rule_better(per_seed("patch", "MMAC", "asr"), per_seed("patch", "naive clip", "asr"),
                                          higher_is_better=False, min_gap=0.05),
                       claims.rule_threshold(acc_gap, low=-0.02))
claims.record("backdoor", "MMAC beats naive clipping on ASR at similar clean accuracy (patch)",
              paper_value="superior to peer methods (qualitative)", metric="ASR after MMAC (patch)",
              per_seed=per_seed("patch", "MMAC", "asr"), seeds=seeds, verdict=v, rule=r,
              why=f"naive clipping ASR {nb.mean_std(per_seed('patch', 'naive clip', 'asr'))}; ACC MMAC - naive {nb.mean_std(acc_gap)}.")
for name in [n for n in ("patch", "x2x") if n in cfg["settings"]]:
    v, r = claims.rule_all(claims.rule_threshold(per_seed(name, "MMDF", "auroc"), low=0.95),
                           claims.rule_threshold(per_seed(name, "MMDF", "pacc"), low=0.5))
    claims.record("backdoor", f"MMDF detects triggered inputs and its correction restores the true class ({name})",
                  paper_value="detects and corrects triggered inputs (qualitative)", metric=f"MMDF AUROC ({name})",
                  per_seed=per_seed(name, "MMDF", "auroc"), seeds=seeds, verdict=v, rule=r,
                  why=f"TPR {nb.mean_std(per_seed(name, 'MMDF', 'tpr'))}, FPR {nb.mean_std(per_seed(name, 'MMDF', 'fpr'))}, "
                      f"PACC after correction {nb.mean_std(per_seed(name, 'MMDF', 'pacc'))}.")
""")
md("""
**Where do the bounds act?** For seed 0, the share of each hidden layer's activation mass that the
learned MMAC bounds remove, on clean vs triggered test images (attackable classes only). If the bounds
had found the trigger's path, the triggered row would lose far more than the clean row.
""")
code("""
clip_rows = []
for name in cfg["settings"]:
    r = results[(name, cfg["seeds"][0])]
    trig, mode = TRIGGERS[name]
    keep = W.attacked_mask(data0["test"][1], mode)
    xk = data0["test"][0][keep]
    for kind, xx in (("clean", xk), ("triggered", W.apply_trigger(xk, trig))):
        f1, f2 = B.clipped_fraction(r["net"], xx)
        clip_rows.append({"attack": name, "images": kind, "removed, layer 1": f1, "removed, layer 2": f2})
nb.results_table(clip_rows)
""")
md("""
**What held and what did not.** The *premise* held: on every seed the backdoored MLP's target class
reaches a margin about 1.5 times the best other class (about 50 vs 33 logit units), while on a clean
MLP class 0 is not special (ratio 0.7-0.9), and triggered images have larger peak activations than
clean ones (histogram above). But the *mitigation* did not follow at this scale. Against the patch and
blended all-to-one attacks MMAC left the ASR at 1.00 on every seed and cost 1-9 points of clean
accuracy (mean 6.6 points for patch, 3.1 for blended); naive clipping and fine-tuning were no
better (ASR 0.92-1.00). Against X2X, MMAC did most
of what the paper reports qualitatively: ASR fell from about 0.90 to about 0.20 (0.11-0.26) with about
2 points of accuracy lost, clearly ahead of naive clipping (0.87) and fine-tuning (0.60), but not to
"near zero" (verdict *partly*: its accuracy sub-rule held on the mean, its ASR sub-rule did not). MMDF inherits this: its score only moves when the bounds cut the trigger's path, so it
is blind to the patch and blended triggers (AUROC well below 0.5: the bounds shrink clean margins
*more* than triggered ones) and detects some X2X inputs (AUROC about 0.76, TPR 0.15 at 2% FPR).

**Why, as far as we can tell.** MMAC assumes the trigger is carried by a few activations far above
their clean range, so a bound that clean inputs never hit cuts it. In a 64-256-256 MLP on 8x8 digits,
a 2x2 corner patch lights pixels that are always dark in clean digits; the first layer reads them
through weights that only the poisoned images ever trained, and the resulting shift is spread over
many neurons, each still inside its clean range (naive clipping at the clean maxima changes the ASR by
under 0.01), and the MMAC bounds remove about as much of a triggered image's activation mass as of a
clean image's (table above; for X2X the triggered images lose clearly more). Bounding every neuron then lowers every class's margin roughly in proportion: MMAC brings
the surrogate margins down, but class 0 still wins on triggered inputs. The X2X attack has to encode ten
source-to-target maps with the same patch, which seems to need larger, more specialised activations,
and there the bounds bite. The paper's setting (ResNet-18, 32x32 images, batch norm, per-channel
bounds on 17 layers, 50 clean images per class) gives the clipping many more places to act; we did
not test it here, so this is a statement about our reduced setting, not a refutation of the paper.
""")

md("""
## Ablation

All on seed 0's patch-backdoored model and clean set, unless stated. First the two terms of the
objective and the adaptive coefficient: without the margin term the bounds only chase the clean
outputs; without the MSE term nothing holds the clean accuracy.
""")
code("""
r0 = results[("patch", cfg["seeds"][0])]
model0, data0 = r0["model"], W.split(x_all, y_all, seed=cfg["seeds"][0])
(_, _), (xva, yva), (xte, yte) = data0["train"], data0["val"], data0["test"]

def mmac_on(model, per_class, variant=None, seed=0):
    xc, yc = B.correctly_classified(model, *W.draw_per_class(xva, yva, per_class, seed=seed))
    net = B.BoundedNet(model, xc)
    B.mmac(net, xc, yc, B.MMACConfig(**{**cfg["mmac"], **(variant or {})}), seed=seed, progress=False)
    return B.evaluate(B.argmax_of(net), xte, yte, patch)

abl = [{"variant": "MMAC (full)", **r0["MMAC"]}]
for label, variant in [("margin term off (MSE only)", dict(use_margin=False)),
                       ("MSE term off (margin only)", dict(use_mse=False)),
                       ("fixed c = 0.002", dict(adaptive=False))]:
    abl.append({"variant": label, **mmac_on(model0, cfg["clean_per_class"], variant)})
for n in cfg["sizes"]:
    abl.append({"variant": f"clean set {n} per class", **mmac_on(model0, n)})
nb.results_table(abl)
""")
md("""
Next the poison rate (a new attacked model per rate, seed 0; 10% is the main experiment's value).
""")
code("""
rate_rows = [{"poison rate": 0.1, "ASR none": r0["none"]["asr"], "ASR MMAC": r0["MMAC"]["asr"], "ACC MMAC": r0["MMAC"]["acc"]}]
for rate in cfg["rates"]:
    s = B.Setting(patch, "all_to_one", rate=rate, clean_per_class=cfg["clean_per_class"], train_epochs=cfg["train_epochs"])
    rr = B.run_setting(s, data0, cfg["seeds"][0], mmac_cfg, ft_epochs=cfg["ft_epochs"])
    rate_rows.append({"poison rate": rate, "ASR none": rr["none"]["asr"], "ASR MMAC": rr["MMAC"]["asr"], "ACC MMAC": rr["MMAC"]["acc"]})
nb.results_table(sorted(rate_rows, key=lambda d: d["poison rate"]))
""")
md(r"""
### An adaptive attack

An attacker who knows the defence clips large activations can train the backdoor to live in the
normal range: add $\lambda \sum_l \mathrm{mean}(h_l^2)$ to the training loss (here $\lambda$ = 0.05, chosen
once, not tuned), which keeps every hidden activation small, including the trigger's. Does the
backdoor still install, and does MMAC still remove it? (3 seeds in the cpu profile.)
""")
code("""
adaptive = []
for seed in cfg["adaptive_seeds"]:
    s = B.Setting(patch, "all_to_one", rate=0.1, clean_per_class=cfg["clean_per_class"], train_epochs=cfg["train_epochs"],
                  act_penalty=cfg["penalty"])
    ra = B.run_setting(s, W.split(x_all, y_all, seed=seed), seed, mmac_cfg, ft_epochs=cfg["ft_epochs"])
    acts = B.channel_max_activations(ra["net"], xte)
    adaptive.append({"seed": seed, "ACC none": ra["none"]["acc"], "ASR none": ra["none"]["asr"],
                     "ASR MMAC": ra["MMAC"]["asr"], "ACC MMAC": ra["MMAC"]["acc"], "MMDF AUROC": ra["MMDF"]["auroc"],
                     "mean max activation": float(torch.cat(acts, 1).amax(1).mean())})
nb.results_table(adaptive)
""")
code("""
print("the adaptive attack installs its backdoor (ASR >= 0.9 on every seed):", min(a["ASR none"] for a in adaptive) >= 0.9)
v, r = claims.rule_threshold([a["ASR MMAC"] for a in adaptive], high=0.05)
claims.record("backdoor", "MMAC resists an adaptive attack that keeps activations small",
              paper_value="strong robustness against adaptive attacks (qualitative; attack details not read)",
              metric="ASR after MMAC (activation-penalty attack)", per_seed=[a["ASR MMAC"] for a in adaptive],
              seeds=cfg["adaptive_seeds"], verdict=v, rule=r,
              why=f"ASR before {nb.mean_std([a['ASR none'] for a in adaptive])}; our attack is an activation-energy "
                  "penalty, not necessarily the paper's adaptive attack.")
""")
md("""
**Reading the ablation.** The two terms behave as the method predicts: without the margin term the
bounds only chase the clean outputs (ACC 0.96, ASR unchanged); without the MSE term nothing holds the
outputs and clean accuracy collapses to chance (0.10). The adaptive $c$ trades accuracy for margin
(fixed $c$ = 0.002 keeps ACC 0.95 vs 0.89), and a smaller clean set costs accuracy (0.72 with 2 per
class), but no variant moves the patch ASR off 1.00, nor does the poison rate (2%, 10%, 20%). The
adaptive attack installs its backdoor just as well (ASR ≥ 0.99) with its activations kept small; MMAC
then brings the ASR to 0.66-0.99 (mean 0.86), i.e. it does slightly *better* than on the plain patch
attack, which again says that in this small MLP the activation magnitude is not what carries the
trigger. The paper reports robustness to its adaptive attack (qualitative; the attack's details were
not read); our activation-energy penalty may not be that attack.
""")

md("""
## Exercises

Easiest first; each check cell says *not attempted / close / correct*.

**Exercise 1.** A network's logits for one input are `[2.0, 7.0, 4.5]`. What is the margin
$m_1$ of class 1? Replace `...` with a number.
""")
code("answer_1 = ...  # m_1 = g_1 - max_{j != 1} g_j")
code("checks.check_close('exercise 1', answer_1, 2.5, hint='the best *other* logit is 4.5')")
md("""
**Exercise 2.** In an all-to-one attack with target 0, a test set holds 36 images of class 0 and 324
of other classes. All 360 are stamped with the trigger and the network sends *every* one of them to
class 0. What ASR do we report?
""")
code("answer_2 = ...  # a fraction in [0, 1]")
code("checks.check_close('exercise 2', answer_2, 1.0, close_rtol=0.01, hint='ASR counts only the non-target images')")
md("""
**Exercise 3.** If every bound is $+\\infty$, what is the MMDF score $s(x)$ of any input? And if you
then set the threshold from clean scores, what fraction of triggered images is flagged? Give the score.
""")
code("answer_3 = ...  # s(x) when f_bar == f")
code("checks.check_close('exercise 3', answer_3, 0.0, atol=1e-6, hint='the bounded and original networks agree')")
md("""
**Exercise 4.** Implement the MMDF score yourself from two logit tensors `o_f` (original) and
`o_bar` (bounded), both `(N, K)`: $s = m_{\\hat y}(o_f) - m_{\\hat y}(o_{bar})$ with $\\hat y = \\arg\\max o_f$.
""")
code('''
def my_score(o_f, o_bar):
    ...  # your code: return a (N,) tensor
    raise NotImplementedError
''')
code('''
def reference_score(o_f, o_bar):
    yhat = o_f.argmax(1)
    return B.margins(o_f, yhat) - B.margins(o_bar, yhat)

g = torch.Generator().manual_seed(0)
cases = [(torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)) for _ in range(3)]
checks.check_function('exercise 4', my_score, reference_score, cases)
''')
md("""
**Exercise 5.** Naive clipping puts every bound at the clean-set maximum. Which statement explains
why it barely changes the clean test accuracy? Choose `"a"`, `"b"` or `"c"`.
(a) clean test images rarely exceed the clean-set maxima, so almost nothing is clipped;
(b) clipping only acts on the target class; (c) the bounds are learned by gradient descent.
""")
code("answer_5 = ...  # 'a', 'b' or 'c'")
code("checks.check_choice('exercise 5', answer_5, 'a', ['a', 'b', 'c'])")

md("""
## Summary and references

MMAC puts a learnable bound on every ReLU and chooses the bounds to keep the clean outputs while
limiting every class's reachable margin; MMDF flags inputs whose margin collapses under the bounds.
On poisoned 8x8 digits with a small MLP we confirmed the premise (the target class reaches an abnormal
margin) and saw MMAC cut an X2X backdoor's success from 0.90 to 0.20 at a 2-point accuracy cost, beating
naive clipping and fine-tuning. It did not remove all-to-one patch or blended backdoors (ASR stayed
1.00), and MMDF did not detect them: in this tiny network the trigger does not travel through
out-of-range activations, which is the condition the method relies on.

- Paper: H. Wang, Z. Xiang, D. J. Miller, G. Kesidis, *Improved Activation Clipping for Universal
  Backdoor Mitigation and Test-Time Detection*, IEEE MLSP 2024, arXiv:2308.04617.
- Official code: <https://github.com/wanghangpsu/MMAC> (`mmac.py`, `mmdf.py`; read for every default here).
- Related: the same group's MM-BD (<https://github.com/wanghangpsu/MM-BD>), the max-margin detection statistic.
- Attacks: T. Gu et al., *BadNets* (2017); X. Chen et al., *Targeted backdoor attacks ... using data poisoning* (blended, 2017).
- Libraries: PyTorch, scikit-learn (digits, splits, ROC/AUROC), torchvision (CIFAR-10 loader), matplotlib.
""")
code("""
print(f"notebook wall time: {time.time() - T0:.0f} s (profile {P.name})")
""")

nbk = notebook("backdoor", "Wang, Xiang, Miller, Kesidis — Improved Activation Clipping for Universal Backdoor Mitigation "
               "and Test-Time Detection (MLSP 2024)", "https://arxiv.org/abs/2308.04617",
               "Bounding ReLU activations to limit every class's margin removes backdoors; the margin drop flags triggered inputs.")
out = Path(__file__).resolve().parents[1] / NAME
nbf.write(nbk, out)
print("wrote", out)
