"""Build notebooks/00_clip.ipynb (structure and prose; outputs come from `make reproduce NB=00_clip`).

    .venv/bin/python notebooks/build/clip.py
"""

from pathlib import Path

import nbformat as nbf

from paperlab.core import nb as plnb
from _common import code, md, notebook  # notebooks/build/_common.py: the cell list and its helpers

NAME = "00_clip.ipynb"
RESULTS = """
**What held and what did not.** Five of the seven rows hold. The committed micro-CLIP (2000 steps of
batch 128) reads **colour** and **texture** perfectly (zero-shot 1.000), and it learned **shape** too, though
less well: 0.557 ± 0.010 against a chance of 0.125. Every dataset is at least 3x chance (the smallest ratio,
4.0, is texture's: 1.000 against 0.25). On the 64 colour-shape **combos** zero-shot reaches 0.529 ± 0.011,
inside the 50-85% band the course wanted, and on the eight combos never seen in pretraining it still reaches
0.419 ± 0.045, 27x chance — the words compose. The modality gap is there, as in real CLIP (centroid distance
0.465 against 0.093 between two halves of the images), and zero-shot accuracy averaged over the six datasets
drops under every style (by at least 0.168).
Two rows do **not** hold. The **linear probe** beats zero-shot by 5 points on combos (0.589 vs 0.529) and
size+shape (0.630 vs 0.576) but not on shape+background (+2.3), shape (−1.0) or the two datasets at the
ceiling — about a third of the datasets per draw, not half. The checkpoint card, whose probe is trained on
256 images per class instead of this notebook's 128, measures 3 of 6 for this checkpoint (shape+background
+5.9 there) and 2 and 3 of 6 for two more pretraining seeds: the requirement sits right at its threshold,
and it holds only where the deciding word is one the captions use rarely (size, background) or in
combinations. And zero-shot does not drop under every style **on every dataset**: colour stays at 1.000
when blurred (blur keeps hue), while shape and the pairs fall sharply (sketch leaves shape+background at
0.06 in the card). The verdicts use one pretraining seed; the ± is over fresh test draws.
"""
md(f"""
# CLIP in miniature — contrastive language-image pretraining on a world of shapes

{plnb.colab_badge(NAME)}

**Paper.** Alec Radford, Jong Wook Kim, Chris Hallacy, Aditya Ramesh, Gabriel Goh, Sandhini Agarwal,
Girish Sastry, Amanda Askell, Pamela Mishkin, Jack Clark, Gretchen Krueger, Ilya Sutskever,
*Learning Transferable Visual Models From Natural Language Supervision*, ICML 2021
([arXiv:2103.00020](https://arxiv.org/abs/2103.00020)) · official code: `openai/CLIP`; we use
`mlfoundations/open_clip`'s `CLIP` class, tokenizer and loss.

**What you will learn.** How CLIP learns one embedding space for images and captions from pairs alone
(two encoders, a contrastive InfoNCE loss, a learned temperature); how a sentence per class turns
it into a classifier with no labelled training images ("zero-shot"); and three properties of real
CLIP that the later notebooks (CoOp/CoCoOp, MuDPT, latent modality structures) start from: labels
still help (a linear probe beats zero-shot), accuracy drops under a domain shift, and image and text
embeddings sit in two separate regions (the *modality gap*).

**What the paper claims.** Natural-language supervision alone gives a classifier that transfers
zero-shot ("we match the accuracy of the original ResNet-50 on ImageNet zero-shot", abstract). We
check the same behaviours on a micro-CLIP (under 1 M parameters outside the token table) pretrained
on a synthetic world of coloured shapes.

**Runs in:** smoke ~40 s · cpu ~2 min (1 min 47 s measured for `make reproduce NB=00_clip` on a quiet 2-core machine; 5 min 19 s with one other notebook running beside it, 14.6 min under load ~8; the pretrained checkpoint is loaded from
`data/clip/`, retraining it is `make pretrain`) · gpu ~3 min (plus OpenAI's ViT-B/32 zero-shot on the
same world).
""")

md("""
## Setup

On Colab the next cell clones and installs the course; anywhere else it does nothing.
""")
code(plnb.colab_install_source())
code("""
import time

import matplotlib.pyplot as plt
import numpy as np
import open_clip
import torch
import torch.nn.functional as F

import paperlab
from paperlab import clip
from paperlab.core import checks, claims, nb, plots
from paperlab.core.train import retrain_requested
from paperlab.worlds import shapes

nb.setup(seed=0)
T_START = time.time()
""")
md("""
The **parameters** cell is the only cell that reads the profile. Every profile loads the committed
checkpoint (retraining it took 12.5 minutes on 2 threads of a shared 2-core machine: `make pretrain`); the sizes below
only set how many fresh test images we draw and how long the live demonstration trains.
""")
code("""
P = paperlab.profile()
cfg = P.pick(
    smoke=dict(seeds=[0], n_test=6, n_style=4, n_probe=8, live_steps=5, live_batch=16, real_clip=False),
    cpu=dict(seeds=[0, 1, 2], n_test=30, n_style=10, n_probe=128, live_steps=60, live_batch=64, real_clip=False),
    gpu=dict(seeds=[0, 1, 2], n_test=50, n_style=50, n_probe=256, live_steps=300, live_batch=128, real_clip=True),
)
cfg
""", tags=["parameters"])

md(r"""
## The paper in one page

**The problem.** Classifiers trained on a fixed label set (the 1000 ImageNet classes) cannot name
anything else. The web, though, has hundreds of millions of images with free-text captions.

**The idea.** Train an image encoder $f$ and a text encoder $g$ so that an image and *its* caption
land close together, and mismatched pairs far apart. Both map into the same $D$-dimensional space
and are L2-normalised, so similarity is a cosine.

**The loss (InfoNCE, both ways).** For a batch of $N$ pairs $(x_i, t_i)$, let
$u_i = f(x_i)/\|f(x_i)\|$, $v_j = g(t_j)/\|g(t_j)\|$ and the logits $s_{ij} = e^{\theta}\, u_i^\top v_j$,
where $e^{\theta}$ is a learned inverse temperature (CLIP initialises it at 1/0.07 and caps it at 100).
Each image must pick out its caption among the $N$ captions, and each caption its image:

$$\mathcal{L} = \frac{1}{2N}\sum_{i=1}^{N}\Big[-\log\frac{e^{s_{ii}}}{\sum_{j} e^{s_{ij}}}
\;-\;\log\frac{e^{s_{ii}}}{\sum_{j} e^{s_{ji}}}\Big].$$

This is a cross-entropy over the rows and over the columns of the $N\times N$ similarity matrix, with
the diagonal as the labels.

**Zero-shot classification.** For classes $c_1..c_K$ write prompts such as "a photo of a $c_k$.",
embed them, $w_k = g(\text{prompt}_k)/\|\cdot\|$, and predict $\hat y = \arg\max_k u^\top w_k$. With
several templates per class CLIP averages their embeddings ("prompt ensembling").

**Two towers of different widths.** Our image tower is a ViT (patches of 8x8 pixels, width 96) and
the text tower a causal transformer (width 48); a linear projection takes each to the shared
64-dimensional space — the same structure as CLIP's ViT-B/32 (widths 768 and 512, space 512).
""")

md("""
## Data

The **shapes world** (`paperlab.worlds.shapes`) renders 32x32 images of one coloured shape (8 shapes x 8
colours, 2 sizes, random position and rotation) on one of 4 background textures, each with a caption.
It stands in for CLIP's 400 M web pairs: every concept is known, so we can ask exactly what the model
learned. A *caption policy* decides which attributes a caption names and how often.
""")
code("""
images, captions = shapes.pretrain_batch(16, seed=0)
print(shapes.DEFAULT_POLICY)  # NBVAL_CHECK_OUTPUT
print("held out of pretraining:", shapes.HELD_OUT_COMBOS)  # NBVAL_CHECK_OUTPUT
""")
md("""
Look for: captions that name some attributes and skip others, and a few images in other *styles*
(sketch, noisy, blurred) captioned as such — 15% of pretraining, like the drawings and renderings
on the web.
""")
code("""
fig = plots.image_grid(images, titles=[c.replace(" on a", "\\non a") for c in captions], ncols=8, size=1.6,
                       suptitle="Sixteen pretraining pairs (32x32 pixels, caption above each image)")
for ax in fig.axes:
    ax.title.set_fontsize(6)
plt.show()
""")
md("""
**Domain shifts.** The same scene can be rendered as a photo or in three other styles, in the spirit of
ImageNet-Sketch and ImageNet-R. Look for: the sketch keeps only outlines, noise hides texture, blur
hides small shapes.
""")
code("""
row = [shapes.render_one(s, c, "striped", "large", style, seed=i)
       for i, (s, c) in enumerate([("star", "red"), ("heart", "blue")]) for style in shapes.STYLES]
plots.image_grid(row, titles=[st for _ in range(2) for st in shapes.STYLES], ncols=8, size=1.3,
                 suptitle="One scene per row-half in each style: photo, sketch, noisy, blurred")
plt.show()
""")
md("""
**Downstream datasets.** From the world we derive six classification tasks, each with a fixed half/half
split into *base* and *new* classes (the CoCoOp protocol the next notebooks use): shape, colour and
background texture alone, and three finer-grained pairs — colour+shape *combos*, size+shape and
shape+background. For the pairs the split is a checkerboard over the word grid, so every word appears
on both sides: new classes are new combinations of known words. Eight colour-shape combos never appear
in pretraining at all. The last two pairs hinge on words the captions use rarely (the size is named in
40% of captions, the background in 50%), like real datasets whose class names web captions seldom use.
""")
code("""
for name in shapes.DATASETS:
    ds = shapes.dataset(name)
    print(f"{name:13s} {len(ds.classnames):2d} classes | base e.g. {[ds.classnames[k] for k in ds.base[:3]]} "
          f"| templates {ds.templates}")  # NBVAL_CHECK_OUTPUT
""")

md("""
## Method

The micro-CLIP is open_clip's own `CLIP` class built from a registered config, and the checkpoint
loads with the very call that loads OpenAI's ViT-B/32 (`pretrained="openai"`) in the gpu profile.
""")
code("""
clip.register()
print(clip.model_config())  # NBVAL_CHECK_OUTPUT
model = clip.load_pretrained()  # data/clip/microclip.pt, sha256-checked against data/REGISTRY.toml
n_tok = model.token_embedding.weight.numel()
n_all = sum(p.numel() for p in model.parameters())
print(f"parameters: {n_all / 1e6:.2f} M, of which the token table {n_tok / 1e6:.2f} M "
      f"(rows the world never uses are zero)")
""")
md("""
Pretraining draws a fresh batch every step and minimises open_clip's `ClipLoss`. Read the loop:
normalise the raw [0, 1] pixels with the model's mean/std, tokenize captions with the BPE tokenizer,
one forward pass gives both embeddings and $e^{\\theta}$, and the temperature is clamped at 100 as in CLIP.
""")
code("""
nb.show_source(clip.pretrain)
""")
md("""
**From scratch.** The loss is two cross-entropies over the similarity matrix. Here it is in four lines,
checked against open_clip's `ClipLoss` on random embeddings.
""")
code("""
def info_nce(u, v, scale):
    # Eq. (InfoNCE): logits s_ij = e^theta u_i . v_j; labels are the diagonal; average both directions
    logits = scale * u @ v.T
    labels = torch.arange(len(u))
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2

u, v = F.normalize(torch.randn(8, 16), dim=-1), F.normalize(torch.randn(8, 16), dim=-1)
torch.testing.assert_close(info_nce(u, v, torch.tensor(14.3)), open_clip.ClipLoss()(u, v, torch.tensor(14.3)))
print("from-scratch InfoNCE == open_clip.ClipLoss")  # NBVAL_CHECK_OUTPUT
""")
md("""
The zero-shot classifier: one normalised text embedding per class, averaged over templates.
""")
code("""
nb.show_source(clip.zero_shot_weights)
""")
md("""
**A live run.** The committed checkpoint trained for 2000 steps; here a smaller config
(`paperlab-nano-clip`) trains for a few steps so you can watch the loss fall from $\\log N$
(chance: every caption equally likely).
""")
code("""
live_model, live_hist = clip.pretrain(size="nano", steps=cfg["live_steps"], batch_size=cfg["live_batch"],
                                      seed=0, log_every=max(1, cfg["live_steps"] // 30))
print(f"loss {live_hist['loss'][0]:.2f} -> {live_hist['loss'][-1]:.2f} "
      f"(log batch = {np.log(cfg['live_batch']):.2f}); {live_hist['wall_s']:.0f} s")
""")

md("""
## Experiment

**The pretraining curve** of the committed checkpoint, stored in its metadata (retrain with
`make pretrain`, or set `PAPERLAB_RETRAIN=1` to see that command). Look for: the loss dropping from
$\\log 128 \\approx 4.85$ and the temperature $e^\\theta$ rising as the model grows confident.
""")
code("""
meta = clip.checkpoint_metadata()
if retrain_requested():
    print("PAPERLAB_RETRAIN=1: retrain with", meta["command"], "(about 12.5 minutes on 2 cores)")
h = meta["history"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(h["step"], h["loss"], label="InfoNCE loss (batch 128)")
ax.axhline(np.log(meta["batch_size"]), ls="--", c="grey", label="chance = log 128")
ax.set_xlabel("pretraining step")
ax.set_ylabel("loss (nats)")
ax2 = ax.twinx()
ax2.plot(h["step"], h["logit_scale"], c="C1", label="temperature e^θ")
ax2.set_ylabel("e^θ (inverse temperature)")
ax.set_title(f"Pretraining the micro-CLIP ({meta['steps']} steps, {meta['wall_s'] / 60:.0f} min on a shared CPU)")
ax.legend(loc="upper center")
ax2.legend(loc="center right")
plt.show()
""")
md("""
**The image-text similarity matrix.** Eight photos against their eight captions: look for a bright
diagonal (each image is most similar to its own caption) and bright off-diagonal cells where captions
share words.
""")
code("""
scn = shapes.sample_scenes(8, seed=7)
imgs8 = shapes.render(scn)
caps8 = shapes.CaptionPolicy(p_shape=1, p_color=1, p_size=0, p_texture=0, p_style=0).captions(scn, 0)
sim = (clip.encode_images(model, imgs8) @ clip.encode_texts(model, caps8).T).numpy()
fig, ax = plt.subplots(figsize=(6, 4.2))
im = ax.imshow(sim, cmap="viridis")
ax.set_xticks(range(8), caps8, rotation=45, ha="right", fontsize=7)
ax.set_yticks(range(8), [f"image {i}" for i in range(8)], fontsize=7)
ax.set_title("Cosine similarity, images (rows) x captions (columns)")
fig.colorbar(im, ax=ax, label="cosine similarity")
plt.show()
print("image->caption top-1 on these 8:", float((sim.argmax(1) == np.arange(8)).mean()))
""")
md("""
**Text-to-image retrieval.** A query sentence against a pool of fresh photos: look for the top five
matching the words of the query (the last query is a held-out combination, never seen in pretraining).
""")
code("""
pool = shapes.pretrain_batch(400, seed=99, style_probs={"photo": 1.0}, hold_out=())[0]
pool_f = clip.encode_images(model, pool)
queries = ["a photo of a yellow star.", "a small blue ring on a dotted background.", "a photo of a red square."]
top = []
for q in queries:
    top += list(pool[(pool_f @ clip.encode_texts(model, [q]).T).squeeze(1).topk(5).indices])
plots.image_grid(top, titles=[q[:28] if i % 5 == 0 else "" for i, q in enumerate(np.repeat(queries, 5))],
                 ncols=5, size=1.3, suptitle="Top-5 retrieved photos per query (rows); 'red square' is held out")
plt.show()
""")
md("""
**Zero-shot accuracy and the linear probe**, per dataset, on fresh test draws (one per seed; the
pretrained model is the same). The probe is sklearn's `LogisticRegression` on frozen image features,
trained on `n_probe` labelled images per class — CLIP's "linear probe" (section 3.2 of the paper). The
world is unbounded, so the probe's training set is one fresh draw (shared by the test draws, to keep the
notebook within minutes); the card's numbers use 256 per class on the fixed test sets.
""")
code("""
tests = {(n, s): shapes.dataset(n).sample("all", cfg["n_test"], seed=s) for n in shapes.DATASETS for s in cfg["seeds"]}
feats = {key: clip.encode_images(model, t.images) for key, t in tests.items()}  # encoded once, reused below
rows, zs, probe, held, styled = [], {}, {}, [], {}
for name in shapes.DATASETS:
    ds = shapes.dataset(name)
    zs[name] = []
    probe[name] = clip.linear_probe(model, ds.sample("all", cfg["n_probe"], seed=1000),
                                    [tests[(name, s)] for s in cfg["seeds"]])  # fitted once, tested per draw
    for s in cfg["seeds"]:
        test = tests[(name, s)]
        zs[name].append(clip.evaluate_zero_shot(model, test, ds.templates))
        if name == "combo":
            w = clip.zero_shot_weights(model, test.classnames, ds.templates)
            pred = clip.zero_shot_logits(model, test.images, w).argmax(1)
            mask = torch.from_numpy(test.scenes.held_out())
            held.append(float((pred[mask] == test.labels[mask]).float().mean()))
    rows.append({"dataset": name, "classes": len(ds.classnames), "chance": 1 / len(ds.classnames),
                 "zero-shot": nb.mean_std(zs[name]), "linear probe": nb.mean_std(probe[name])})
rows.append({"dataset": "combo, held-out pairs", "classes": 64, "chance": 1 / 64, "zero-shot": nb.mean_std(held),
             "linear probe": "—"})
nb.results_table(rows)
""")
md("""
**Domain shift.** The same scenes rendered in each style (paired draws of `n_style` images per class),
classified zero-shot with the photo prompts. Look for: every non-photo bar below the photo bar.
""")
code("""
for name in shapes.DATASETS:
    ds = shapes.dataset(name)
    styled[name] = {st: [clip.evaluate_zero_shot(model, shapes.dataset(name, st).sample("all", cfg["n_style"], seed=s),
                                                 ds.templates) for s in cfg["seeds"]] for st in shapes.STYLES}
fig, ax = plt.subplots(figsize=(8.5, 3.5))
x = np.arange(len(shapes.DATASETS))
for j, st in enumerate(shapes.STYLES):
    ax.bar(x + (j - 1.5) * 0.2, [np.mean(styled[n][st]) for n in shapes.DATASETS], 0.2, label=st,
           yerr=[np.std(styled[n][st]) for n in shapes.DATASETS])
ax.scatter(x, [1 / len(shapes.dataset(n).classnames) for n in shapes.DATASETS], marker="_", s=400, c="k",
           label="chance", zorder=3)
ax.set_xticks(x, shapes.DATASETS)
ax.set_ylabel("zero-shot accuracy (fraction)")
ax.set_title("Zero-shot accuracy per rendering style")
ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.12))
plt.show()
""")
md("""
**The modality gap.** Liang et al. (NeurIPS 2022, arXiv:2203.02053) observed that CLIP's image and
text embeddings occupy two separate cones. We embed 10 x `n_test` photos (400 in the cpu profile) and their captions, measure the distance
between the two centroids, and compare it with the distance between two random halves of the images
(which would be the gap if both modalities shared one region). The 2-D PCA shows the two clouds.
""")
code("""
from sklearn.decomposition import PCA

gap, gap_null = [], []
for s in cfg["seeds"]:
    im_s, cap_s = shapes.pretrain_batch(max(50, 10 * cfg["n_test"]), seed=500 + s, style_probs={"photo": 1.0})
    fi, ft = clip.encode_images(model, im_s), clip.encode_texts(model, cap_s)
    gap.append(float((fi.mean(0) - ft.mean(0)).norm()))
    half = len(fi) // 2
    gap_null.append(float((fi[:half].mean(0) - fi[half:].mean(0)).norm()))
xy = PCA(2).fit_transform(torch.cat([fi, ft]).numpy())
fig, ax = plt.subplots(figsize=(5.5, 4))
ax.scatter(*xy[: len(fi)].T, s=6, alpha=0.6, label="image embeddings")
ax.scatter(*xy[len(fi):].T, s=6, alpha=0.6, label="text embeddings")
ax.set_xlabel("PCA component 1")
ax.set_ylabel("PCA component 2")
ax.set_title(f"The modality gap: centroid distance {np.mean(gap):.2f}")
ax.legend()
plt.show()
print(f"gap {nb.mean_std(gap)} vs image-half vs image-half {nb.mean_std(gap_null)}")
""")

md("""
## Results vs the paper

The CLIP paper's own numbers are for 400 M web pairs and ImageNet-scale models; we quote only the abstract's
statement that we read. Our rows are the *behaviours* the issue asked the micro-CLIP to show, each with the
rule that decides its verdict (computed below, over the seeds above; the seeds are fresh test draws of one
pretrained model — the card `data/clip/CARD.md` says whether other pretraining seeds were run).
""")
code("""
chance = {n: 1 / len(shapes.dataset(n).classnames) for n in shapes.DATASETS}
ratio = [min(zs[n][i] / chance[n] for n in shapes.DATASETS) for i in range(len(cfg["seeds"]))]
held_ratio = [h / chance["combo"] for h in held]
wins = [np.mean([probe[n][i] - zs[n][i] >= 0.05 for n in shapes.DATASETS]) for i in range(len(cfg["seeds"]))]
drop = [max(np.mean([styled[n][st][i] - styled[n]["photo"][i] for n in shapes.DATASETS]) for st in shapes.STYLES[1:])
        for i in range(len(cfg["seeds"]))]
drop_cells = [max(styled[n][st][i] - styled[n]["photo"][i] for n in shapes.DATASETS for st in shapes.STYLES[1:])
              for i in range(len(cfg["seeds"]))]
results = [
    ("Zero-shot accuracy is at least 3x chance on every shapes dataset", "transfers zero-shot (abstract)",
     "min over datasets of zero-shot / chance", ratio, claims.rule_threshold(ratio, low=3.0)),
    ("Zero-shot accuracy on colour-shape pairs never seen in pretraining is at least 3x chance",
     "not verified", "held-out-combo zero-shot / chance", held_ratio, claims.rule_threshold(held_ratio, low=3.0)),
    ("Combo zero-shot is useful but not saturated (50-85%)", "not verified", "combo zero-shot accuracy",
     zs["combo"], claims.rule_threshold(zs["combo"], low=0.50, high=0.85)),
    ("A linear probe on frozen features beats zero-shot by >= 5 points on at least half the datasets",
     "not verified", "fraction of datasets with probe - zero-shot >= 0.05", wins,
     claims.rule_threshold(wins, low=0.5)),
    ("Zero-shot accuracy (mean over datasets) drops under every non-photo style", "not verified",
     "largest over styles of mean (style - photo) accuracy", drop, claims.rule_threshold(drop, high=-1e-9)),
    ("Zero-shot accuracy drops under every non-photo style on every dataset (stricter reading)", "not verified",
     "largest (style - photo) accuracy difference over datasets and styles", drop_cells,
     claims.rule_threshold(drop_cells, high=-1e-9)),
    ("Image and text embeddings are separated by a modality gap", "not verified (Liang et al. 2022)",
     "distance between modality centroids", gap, claims.rule_better(gap, gap_null, min_gap=0.1)),
]
nb.results_table([{"claim": c, "paper": p, "ours": nb.mean_std(v), "verdict": vr[0]} for c, p, _, v, vr in results])
""")
code("""
for claim, paper_value, metric, values, (verdict, rule) in results:
    claims.record("clip", claim, paper_value=paper_value, metric=metric, per_seed=values, seeds=cfg["seeds"],
                  verdict=verdict, rule=rule,
                  why="Measured on the committed micro-CLIP (one pretraining seed) over fresh test draws; "
                      "see the paragraph below the table in notebooks/00_clip.ipynb.")
""")
md("""
RESULTS_PARAGRAPH
""")

md("""
## Ablation

**Prompt templates.** The knob CoOp (next notebook) learns: the words around the class name. We compare
the bare class name, one template, and the ensemble of the dataset's templates, on the same test draws.
Look for: how much accuracy moves when only the wording changes.
""")
code("""
variants = {"bare '{}'": ["{}"], "first template": None, "ensemble": None}
abl = []
for name in shapes.DATASETS:
    ds = shapes.dataset(name)
    variants["first template"], variants["ensemble"] = ds.templates[:1], ds.templates
    row = {"dataset": name}
    for label, tmpl in variants.items():
        w = clip.zero_shot_weights(model, ds.classnames, tmpl)
        row[label] = nb.mean_std([float(((feats[(name, s)] @ w.T).argmax(1) == tests[(name, s)].labels).float().mean())
                                  for s in cfg["seeds"]])
    abl.append(row)
nb.results_table(abl)
""")

md("""
## Exercises

Easiest first; each has a check cell that says *not attempted / close / correct*.

**Exercise 1.** What zero-shot accuracy does a classifier reach on the combo dataset by guessing
uniformly at random? Replace `...` with a fraction.
""")
code("""
answer_1 = ...  # a fraction between 0 and 1
""")
code("""
checks.check_close("exercise 1", answer_1, 1 / 64, rtol=0.01, close_rtol=0.5, hint="8 colours x 8 shapes")
""")
md("""
**Exercise 2.** The learned temperature multiplies every logit by $e^\\theta$. If you doubled it after
training, what would happen to zero-shot *accuracy*? Choose one of `"goes up"`, `"goes down"`,
`"unchanged"`.
""")
code("""
answer_2 = ...
""")
code("""
checks.check_choice("exercise 2", answer_2, "unchanged", ["goes up", "goes down", "unchanged"],
                    hint="does multiplying all logits by the same positive number change the argmax?")
""")
md("""
**Exercise 3.** Write the modality gap yourself: a function of image embeddings `fi` (N, D) and text
embeddings `ft` (N, D) returning the distance between their means. It is checked against the library's
definition on the embeddings from the Experiment section.
""")
code("""
def my_gap(fi, ft):
    raise NotImplementedError  # your code: one line
""")
code("""
checks.check_function("exercise 3", my_gap, lambda a, b: (a.mean(0) - b.mean(0)).norm(), [(fi, ft), (ft, fi)])
""")
md("""
**Exercise 4.** Write the loss of *one direction* only — images choosing among captions. When the
similarity matrix is symmetric (here: `u` and `v` are the same embeddings) both directions give the same
number, so your function must equal open_clip's symmetric `ClipLoss` on those inputs.
""")
code("""
def image_to_text_loss(u, v, scale):
    raise NotImplementedError  # your code: cross-entropy of the rows of scale * u @ v.T
""")
code("""
sym = F.normalize(torch.randn(6, 8), dim=-1)
checks.check_function("exercise 4", image_to_text_loss, lambda u, v, s: open_clip.ClipLoss()(u, v, s),
                      [(sym, sym, torch.tensor(10.0)), (sym, sym, torch.tensor(3.0))])
""")
md("""
**Exercise 5.** Find a single template for the shape dataset that beats the bare class name `"{}"`
by at least 2 points on test draw 0 (hint: how are the pretraining captions phrased?). Set `answer_5` to your template (it must contain `{}`).
""")
code("""
answer_5 = ...  # e.g. "a ... {} ..."
""")
code("""
shape_test = tests[("shape", cfg["seeds"][0])]
bare = clip.evaluate_zero_shot(model, shape_test, ["{}"])
checks.check_true("exercise 5", answer_5,
                  lambda t: "{}" in t and clip.evaluate_zero_shot(model, shape_test, [t]) >= bare + 0.02,
                  close_predicate=lambda t: "{}" in t and clip.evaluate_zero_shot(model, shape_test, [t]) > bare,
                  hint="start from the templates the captions use, e.g. 'a photo of a ...'")
""")

md("""
## Summary and references

- CLIP trains two encoders with a symmetric InfoNCE loss so that images and their captions meet in one
  space; a sentence per class then classifies with no labelled images.
- Our micro-CLIP (open_clip's `CLIP`, registered config `paperlab-micro-clip`, ViT width 96, text
  width 48, shared space 64) was meant to show the same behaviours on the shapes world; five of seven rows hold (the
  probe requirement and the strict per-dataset style drop do not); the verdicts are in the table above and in
  `reports/claims/clip.json`, and the checkpoint card is `data/clip/CARD.md`.
- Simplifications: a synthetic world instead of web pairs; under 1 M parameters (outside the token table)
  instead of 150 M; 2000 steps of batch 128 (12.5 min on a shared 2-core CPU) instead of 32 epochs of batch 32768; a fixed `C=1` probe on
  standardised features instead of CLIP's sweep of the regularisation strength; token-table rows the
  world never uses are zeroed in the checkpoint.

References: Radford et al., *Learning Transferable Visual Models From Natural Language Supervision*,
ICML 2021, arXiv:2103.00020, code `openai/CLIP`; Ilharco et al., open_clip, `mlfoundations/open_clip`;
Liang et al., *Mind the Gap: Understanding the Modality Gap in Multi-modal Contrastive Representation
Learning*, NeurIPS 2022, arXiv:2203.02053; scikit-learn's `LogisticRegression` and `PCA`.
""")
code("""
print(f"notebook wall time: {time.time() - T_START:.0f} s")
""")

nbk = notebook("clip", "CLIP (ICML 2021), Radford et al.", "https://arxiv.org/abs/2103.00020",
               "Contrastive image-caption pretraining gives a zero-shot classifier; labels, domain "
               "shift and a modality gap behave as in real CLIP.")
for c in nbk.cells:
    if c.cell_type == "markdown" and "RESULTS_PARAGRAPH" in c.source:
        c.source = c.source.replace("RESULTS_PARAGRAPH", RESULTS.strip())
out = Path(__file__).resolve().parents[1] / NAME
nbf.write(nbk, out)
print("wrote", out)
