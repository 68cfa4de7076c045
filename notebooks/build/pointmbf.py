"""Build notebooks/08_pointmbf.ipynb (run: .venv/bin/python notebooks/build/pointmbf.py; then make reproduce NB=08_pointmbf)."""
from pathlib import Path

import nbformat as nbf

from paperlab.core import nb as plnb
from _common import code, md, notebook  # notebooks/build/_common.py: the cell list and its helpers

ROOT = Path(__file__).resolve().parents[2]
# Prose that depends on the cpu run's numbers (written after reading the stored cpu outputs; the run is
# deterministic: fixed test seed, fixed Procrustes subset seed, committed checkpoints).
TEXT = {
    "RUN_SMOKE": "15 s",
    "RUN_CPU": "8 min on the shared 2-core machine",
    "SUP_MIN": "15 min wall for the 12 runs of 200 steps in 1 process (1 thread) on a 2-core machine shared with other work",
    "RETRAIN_MIN": "48 min wall for the 24 runs in 2 processes (`--workers 2`, 1 thread each) on a 2-core machine shared with other work",
    "SUMMARY_LINES": r"""
- PointMBF = a 2-D U-Net and a 3-D point network in parallel, exchanging features in both directions
  at every scale through 3-D nearest neighbours (P2I: nearest point within r; I2P: max over 16 pixels
  within r), then ratio-test matches, a randomised weighted Procrustes (weights enter squared) and
  UR&R's label-free photometric + depth + correspondence loss.
- Built here at small size with named substitutes: a PointNet-style kNN block for KPConv, inverse
  warping with `grid_sample` for the point-splatting renderer, 48 x 64 synthetic rooms for ScanNet;
  the depth term is normalised by coverage and the images are blurred for the photometric term.
- Measured in two stages. Stage 1 asks the descriptor question with the pose given (four variants
  trained with the supervised correspondence loss); stage 2 is the paper's label-free training, whose
  instrument check (trained beats untrained) decides whether its comparisons can be read. The generated
  list after the claims table says which stage carries each verdict.
- The warping loss alone recovers poses when the pose is optimised directly, and the supervised oracle
  learns better descriptors: the difficulty is learning descriptors through matches and an SVD from the
  warping signal.
""",
}


def T(key, default):
    return TEXT.get(key, default)


md(r"""
# PointMBF — bidirectional RGB-D fusion for unsupervised point cloud registration

{BADGE}

**Paper.** Mingzhi Yuan, Kexue Fu, Zhihao Li, Yucong Meng, Manning Wang, *PointMBF: A Multi-scale
Bidirectional Fusion Network for Unsupervised RGB-D Point Cloud Registration*, ICCV 2023
([arXiv 2308.04782](https://arxiv.org/abs/2308.04782)) · official code:
[`phdymz/PointMBF`](https://github.com/phdymz/PointMBF) (trainer, renderer and matching code from
UR&R, [`mbanani/unsupervisedRR`](https://github.com/mbanani/unsupervisedRR)).

**What you will learn.** How two RGB-D frames are registered without any pose label: a descriptor
network, ratio-test weighted matches, a weighted Procrustes solve, and a loss that only asks the
estimated pose to make one view *look like* the other. And how PointMBF's descriptor lets an image
branch and a point branch talk to each other in both directions at every scale.

**What the paper claims.** Bidirectional multi-scale fusion gives more distinctive descriptors than
RGB-only, cascaded or one-way (LLT-style) fusion, hence more accurate unsupervised registration on
ScanNet and 3DMatch. We re-measure the *ranking of the fusion variants* on synthetic RGB-D rooms in two
stages: (1) the descriptor question, with the variants trained by a supervised correspondence loss, and
(2) the paper's label-free training, whose own instrument check says whether its comparisons can be read.

**Runs in:** smoke ~RUN_SMOKE · cpu ~RUN_CPU (evaluates committed checkpoints: stage 2, 8 models x 3 seeds,
retrained with `python -m paperlab.pointmbf train` in RETRAIN_MIN; stage 1, 4 variants x 3 seeds with the
supervised loss, retrained with `python -m paperlab.pointmbf train --supervised` in SUP_MIN) · gpu ~5 min.
""".replace("{BADGE}", plnb.colab_badge("08_pointmbf.ipynb"))
   .replace("RUN_SMOKE", T("RUN_SMOKE", "40 s")).replace("RUN_CPU", T("RUN_CPU", "4 min"))
   .replace("RETRAIN_MIN", T("RETRAIN_MIN", "about 30 CPU-minutes")).replace("SUP_MIN", T("SUP_MIN", "about 20 CPU-minutes")))

md("""
## Setup

On Colab the next cell clones and installs the course; anywhere else it does nothing.
""")
code(plnb.colab_install_source())
code("""
import os
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch

import paperlab
from paperlab import pointmbf as M
from paperlab.core import checks, claims, nb
from paperlab.core.paths import data_dir
from paperlab.worlds import rooms

nb.setup(seed=0)
torch.set_num_threads(1)  # the course machine's cores are shared
T0 = time.time()
""")
md("""
The **parameters** cell is the only cell that reads the profile. Every profile evaluates the
committed checkpoints (`data/pointmbf/variants.pt`, sha256-verified) on freshly generated test pairs;
smoke uses one seed and a handful of pairs. `PAPERLAB_RETRAIN=1` retrains everything. The gpu profile
also runs the model on up to 300 real ScanNet pairs if `SCANNET_ROOT` points at UR&R-preprocessed data
(otherwise on the committed 3-frame sample in the same layout); the committed models were trained on
synthetic rooms only, so that number measures transfer, not the paper's setting.
""")
code("""
P = paperlab.profile()
cfg = P.pick(
    smoke=dict(seeds=[0], n_test=6, live_steps=1, pose_iters=5, n_real=2, scannet_root=str(data_dir() / "samples" / "scannet")),
    cpu=dict(seeds=[0, 1, 2], n_test=256, live_steps=10, pose_iters=150, n_real=2, scannet_root=str(data_dir() / "samples" / "scannet")),
    gpu=dict(seeds=[0, 1, 2], n_test=300, live_steps=100, pose_iters=150, n_real=300,
             scannet_root=os.environ.get("SCANNET_ROOT", str(data_dir() / "samples" / "scannet"))),
)
cfg
""", tags=["parameters"])

md(r"""
## The paper in one page

**The task.** Two RGB-D frames of a scene, $(I_0, D_0)$ and $(I_1, D_1)$, with intrinsics $K$. Find
the rigid motion $(R, t)$ with $x_1 = R x_0 + t$ for every scene point seen in both. Each pixel $u$
with depth $D(u)$ is a 3-D point $x_u = D(u)\,K^{-1}[u, 1]^\top$.

**The pipeline (UR&R, kept by PointMBF).** A network gives every pixel a descriptor $f_u$. For each
pixel of one view take its two most similar pixels in the other view (cosine similarities
$c_1 \ge c_2$) and weight the match by Lowe's ratio, $w = 1 - \frac{1 - c_1}{1 - c_2}$ (a unique
match gets $w \to 1$). Keep the top matches of both directions and solve a weighted Procrustes problem
on their 3-D end points (random subsets, the best one wins).

**The loss has no pose label.** Move view 0's points with the estimated pose into view 1 and ask for
the colours and depths found there to agree with view 0 (and the same the other way), plus a small
term for the weighted residual of the matches:
$$\mathcal L = \sum_{v}\Big(\underbrace{\tfrac{1}{|\Omega_v|}\textstyle\sum_{u\in\Omega_v} \lvert \hat I_v(u) - I_v(u)\rvert}_{\text{photometric}}
 + \underbrace{\operatorname{mean}_u\,\Omega_v(u)\,\lvert \hat D_v(u) - D_v(u)\rvert}_{\text{depth}}\Big)
 + 0.1 \sum_k \bar w_k \lVert R p_k + t - q_k \rVert .$$
Gradients flow through the pose, through the SVD, into the weights $w$, into the descriptors.
""")
md(r"""
**PointMBF's idea: fuse in both directions, at every scale.** A 2-D U-Net on the image and a 3-D
point network on the back-projected depth run side by side. After each encoder stage (and the first
decoder stage) they swap information using 3-D neighbourhoods:

* point $\to$ image (P2I): pixel $u$ takes the feature of its nearest point within radius $r_\ell$,
  $f^I_u \leftarrow f^I_u + \phi_\ell\big([f^I_u;\ \psi_\ell(f^P_{\mathrm{nn}(u)})]\big)$;
* image $\to$ point (I2P): point $p$ max-pools up to 16 pixels within $r_\ell$,
  $f^P_p \leftarrow f^P_p + \phi'_\ell\big([f^P_p;\ \psi'_\ell(\max_{u \in \mathcal N_\ell(p)} f^I_u)]\big)$;
* both updates read the *pre-fusion* features (a simultaneous exchange); the final descriptor is
  $\mathrm{Linear}([f^I_u; f^P_{\mathrm{nn}(u)}])$.

LLT (ECCV 2022), the strongest earlier unsupervised RGB-D method, injects geometry into the image
branch in one direction only; UR&R and BYOC use RGB features lifted by depth.
""")
md(r"""
**What we substitute, and why.** The official model needs PyTorch3D, compiled KPConv wrappers and
128 x 128 ScanNet frames. Here: (1) KPConv is replaced by a *PointNet-style local block* (kNN with
scipy's `cKDTree`, $\max_j \mathrm{MLP}([(x_j - x_i)/r;\ f_j])$); (2) PyTorch3D's point-splatting
renderer is replaced by *inverse warping* with `torch.nn.functional.grid_sample` (sample view 1 where
view 0's points land); (3) images are 48 x 64 synthetic rooms, level-0 points are the back-projected
pixels of the 24 x 32 matching grid, coarser levels are voxel-grid barycentres (0.25 m, 0.5 m);
descriptors are 16-d, 100 matches per direction; (4) training is 800 steps of batch 4, not epochs. Two
changes to the loss, both named again where they are used: the depth term is divided by the covered
share, like the photometric term (the code's plain mean *rewards* a pose that pushes the points out of
view, which our short runs found), and both images are box-blurred (5 px) before the photometric
comparison, a stand-in for the renderer's 2-px splat radius that widens the basin of the loss.
""")

md("""
## Data

`paperlab.worlds.rooms` builds a room (floor, four walls, ceiling) with axis-aligned boxes, textures
every face procedurally in *world* coordinates and ray-casts it with a pinhole camera ($f = 50$ px,
48 x 64) into RGB (2 x 2 supersampled, Lambertian shading) and metric depth. The second view moves by
5-20 degrees and 0.1-0.4 m with at least 40 % overlap; depth gets noise (about 5 mm at 2 m) and 2 %
holes, each view its own brightness gain. Two scene families are mixed half and half:

* **textured** — only planes (and at most one low box), strong varied textures: RGB is
  informative, geometry is ambiguous (a plane looks the same everywhere);
* **geometric** — 7-11 boxes, one pale colour with faint repeated stripes: geometry is distinctive,
  RGB nearly uniform.

The test pairs are generated here from seed 2026 (the training pairs came from seed 1000).
""")
code("""
t = time.time()
test_raw = rooms.generate(cfg["n_test"], seed=2026)
test = M.prepare(test_raw)
fam_names = test_raw["families"]
print(f"{cfg['n_test']} test pairs ({', '.join(fam_names)} alternating), prepared in {time.time() - t:.0f} s; "
      f"overlap {test_raw['overlap'].min():.2f}-{test_raw['overlap'].max():.2f}")
""")
md("""
Look for: the textured rooms (left) give the image branch plenty to match but are geometrically just
planes; the geometric rooms (right) are full of box corners in depth but nearly blank in colour.
White dots in the depth maps are holes (no depth).
""")
code("""
show = rooms.generate(2, seed=3)
fig, axes = plt.subplots(2, 4, figsize=(10, 3.8), dpi=80)
for i in range(2):
    for v in range(2):
        axes[v, 2 * i].imshow(show["rgb"][i, v].transpose(1, 2, 0))
        axes[v, 2 * i + 1].imshow(np.where(show["depth"][i, v, 0] > 0, show["depth"][i, v, 0], np.nan), cmap="viridis")
        axes[v, 2 * i].set_title(f"{show['families'][show['family'][i]]}: RGB, view {v}", fontsize=8)
        axes[v, 2 * i + 1].set_title(f"depth (m), view {v}", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([]); ax.set_yticks([])
fig.tight_layout()
plt.show()
""")
md("""
**Real data.** `rooms.load_scannet_pair` reads the ScanNet layout that UR&R and PointMBF use
(`color/*.jpg`, `depth/*.png` in millimetres, `pose/*.txt` camera-to-world, `intrinsic/intrinsic_color.txt`),
centre-crops and resizes to our size, adjusts $K$, and returns $T = P_1^{-1} P_0$. The committed sample
is three rendered frames in that layout (not ScanNet data); the check below is that the true pose makes
the two depth maps agree on much more of the image than the identity does.
""")
code("""
pairs = rooms.scannet_pairs(cfg["scannet_root"], "test")
real = rooms.load_scannet_pair(cfg["scannet_root"], *pairs[0], size=(48, 64))
ov_id = rooms.overlap(real["depth"][0, 0], real["depth"][1, 0], real["K"], np.eye(4))
print(f"{len(pairs)} pairs; first {pairs[0]}: depth-consistent overlap {real['overlap']:.2f} under the true pose, {ov_id:.2f} under the identity")
""")

md("""
## Method

**Back-projection and the point levels.** `view_geometry` lifts a depth map to points, builds the
three point levels and precomputes every neighbourhood the network needs (kNN for the point blocks;
P2I and I2P links for fusion). None of this needs gradients, so it runs once per pair, like the
official data loader's `p2i_list` / `i2p_list`.
""")
code("nb.show_source(M.view_geometry)")
md("""
**One fusion step.** P2I gathers the nearest point's feature for every pixel (zeros where no point is
within $r$), I2P max-pools the pixels near every point; both read the features from *before* the step.
""")
code("nb.show_source(M.Fusion.forward)")
md("""
Look for: one level-0 point (red x) and the up-to-16 full-resolution pixels it max-pools (I2P, cyan,
radius 0.2 m); a few pixels of the 24 x 32 scale (yellow) joined to the level-1 point each reads (P2I,
magenta, projected into the image; radius 0.6 m). Right: the three point levels in 3-D (level 0 = the
24 x 32 matching grid, levels 1 and 2 = voxel barycentres).
""")
code("""
g = {k: v[0, 0].numpy() for k, v in test.items() if k not in ("rgb", "depth", "K", "T", "family")}
H, W = 48, 64
fig = plt.figure(figsize=(10, 3.8), dpi=80)
ax = fig.add_subplot(1, 2, 1)
ax.imshow(test["rgb"][0, 0].numpy().transpose(1, 2, 0))
p = int(np.flatnonzero(g["valid0"])[len(np.flatnonzero(g["valid0"])) // 2 + 5])
pix = g["i2p0"][p][g["i2p0"][p] < H * W]
ax.scatter(pix % W, pix // W, s=14, c="cyan", label="I2P: pixels pooled by the point")
ax.scatter([2 * (p % 32)], [2 * (p // 32)], s=40, c="red", marker="x", label="the point (level 0)")
Kn = test["K"].numpy()
for n_u, u in enumerate((5 * 32 + 6, 5 * 32 + 20, 16 * 32 + 10, 18 * 32 + 26)):  # pixels of the 24 x 32 scale
    j = g["p2i1"][u]
    if j >= len(g["pts1"]):
        continue  # no level-1 point within r_1
    uv = Kn @ g["pts1"][j]
    pu, pv = uv[0] / uv[2], uv[1] / uv[2]
    ax.plot([2 * (u % 32), pu], [2 * (u // 32), pv], c="magenta", lw=1)
    ax.scatter([2 * (u % 32)], [2 * (u // 32)], s=30, c="yellow", label="pixels (scale 1)" if n_u == 0 else None)
    ax.scatter([pu], [pv], s=50, c="magenta", marker="+", label="P2I: nearest level-1 point" if n_u == 0 else None)
ax.legend(fontsize=7, loc="lower left")
ax.set_title("fusion links on the image", fontsize=9)
ax.set_xticks([]); ax.set_yticks([])
ax3 = fig.add_subplot(1, 2, 2, projection="3d")
for lvl, (c, s) in enumerate((("0.6", 2), ("tab:blue", 10), ("tab:red", 30))):
    pts = g[f"pts{lvl}"][g[f"valid{lvl}"]]
    ax3.scatter(pts[:, 0], pts[:, 2], -pts[:, 1], s=s, c=c, label=f"level {lvl}: {len(pts)} points")
ax3.set_xlabel("x (m)"); ax3.set_ylabel("z (m)"); ax3.set_zlabel("-y (m)")
ax3.legend(fontsize=7)
ax3.set_title("point levels of view 0", fontsize=9)
plt.show()
""")
md("""
**Matches.** Ratio-test weights in both directions; pixels without depth get weight 0 before the top-k,
otherwise zero-depth points would become matches.
""")
code("nb.show_source(M.correspondences)")
md(r"""
**Weighted Procrustes, derived.** For weighted pairs $(p_k, q_k)$ we want
$\min_{R \in SO(3), t} \sum_k a_k \lVert R p_k + t - q_k \rVert^2$. Setting the derivative in $t$ to
zero gives $t = \mu_Q - R\mu_P$ with weighted means $\mu$. Substituting, with centred points
$\tilde p_k, \tilde q_k$, the cost is $\text{const} - 2\,\mathrm{tr}\big(R \sum_k a_k \tilde p_k \tilde q_k^\top\big)$,
so we maximise $\mathrm{tr}(R H)$ with $H = \sum_k a_k \tilde p_k \tilde q_k^\top = U \Sigma V^\top$.
The maximiser over rotations is $R = V\,\mathrm{diag}(1, 1, \det(VU^\top))\,U^\top$; the last sign
turns a reflection into the nearest rotation. **In the official code** the centred points are both
multiplied by the normalised weights $\bar w_k$, so $a_k = \bar w_k^2$: the Lowe weights enter
*squared*, which makes the solve even more selective.
""")
code("nb.show_source(M.weighted_procrustes)")
md("""
A from-scratch Kabsch in NumPy on a noiseless example, checked against the library (float64 SVD) and
against scipy's `Rotation.align_vectors` given the squared weights:
""")
code("""
from scipy.spatial.transform import Rotation

rng = np.random.default_rng(0)
R_true = Rotation.from_rotvec([0.1, -0.25, 0.2]).as_matrix()
t_true = np.array([0.3, -0.1, 0.2])
Pk = rng.normal(size=(30, 3))
Qk = Pk @ R_true.T + t_true
wk = rng.uniform(0.1, 1.0, 30)

def kabsch(P, Q, w):
    a = (w / w.sum()) ** 2                       # the official weighting: w enters squared
    mp, mq = (w[:, None] * P).sum(0) / w.sum(), (w[:, None] * Q).sum(0) / w.sum()
    H = ((P - mp) * a[:, None]).T @ (Q - mq)      # sum_k a_k p~_k q~_k^T
    U, S, Vt = np.linalg.svd(H)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T))])
    R = Vt.T @ D @ U.T
    return R, mq - R @ mp

R_np, t_np = kabsch(Pk, Qk, wk)
R_lib, t_lib = M.weighted_procrustes(torch.as_tensor(Pk), torch.as_tensor(Qk), torch.as_tensor(wk))
torch.testing.assert_close(torch.as_tensor(R_np), R_lib, atol=1e-9, rtol=0)
torch.testing.assert_close(torch.as_tensor(R_np), torch.as_tensor(R_true), atol=1e-9, rtol=0)
torch.testing.assert_close(torch.as_tensor(t_np), t_lib, atol=1e-9, rtol=0)
R_sp, _ = Rotation.align_vectors(Qk - Qk.mean(0), Pk - Pk.mean(0))
torch.testing.assert_close(torch.as_tensor(R_sp.as_matrix()), torch.as_tensor(R_true), atol=1e-9, rtol=0)
print("from-scratch Kabsch == library == scipy == true pose on the noiseless example")  # NBVAL_CHECK_OUTPUT
""")
md("""
**The loss without a renderer.** `warp` moves one view's points with the pose, projects them into the
other camera and samples colour and depth there with `grid_sample` (bilinear, so the loss is
differentiable in $R, t$); pixels that leave the image or land on a depth hole are masked.
""")
code("nb.show_source(M.warp)")
md("""
Look for: both terms of the loss are smallest at the true pose (0 on the axis) when we rotate about a
random axis or shift along a random direction, on the textured and on the geometric family. The
photometric term is flat on the geometric family (little texture), which is why depth consistency
matters.
""")
code("""
sub = M.take(test, slice(0, 8))
Rg, tg = sub["T"][:, :3, :3], sub["T"][:, :3, 3]
axis = torch.nn.functional.normalize(torch.tensor([0.3, 1.0, 0.2]), dim=0)
degs = np.linspace(-6, 6, 13)
shifts = np.linspace(-0.15, 0.15, 13)
curves = {"rot": [], "trans": []}
for a in degs:
    dR = torch.as_tensor(Rotation.from_rotvec(axis.numpy() * np.radians(a)).as_matrix()).float()
    curves["rot"].append([x.numpy() for x in M.warp_loss(sub, dR @ Rg, tg)])
for s in shifts:
    curves["trans"].append([x.numpy() for x in M.warp_loss(sub, Rg, tg + s * torch.tensor([0.6, 0.3, 0.74]))])
fam = sub["family"].numpy()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), dpi=80)
for ax, key, xs, lab in ((axes[0], "rot", degs, "rotation offset (deg)"), (axes[1], "trans", shifts * 100, "translation offset (cm)")):
    arr = np.array(curves[key])  # (steps, 2 terms, pairs)
    for f in (0, 1):
        ax.plot(xs, arr[:, 0, fam == f].mean(1), label=f"photometric, {fam_names[f]}")
        ax.plot(xs, arr[:, 1, fam == f].mean(1), "--", label=f"depth, {fam_names[f]}")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(lab)
    ax.set_ylabel("loss term (mean over the family's pairs)")
axes[0].legend(fontsize=7)
fig.suptitle("warping loss around the true pose", fontsize=9)
fig.tight_layout()
plt.show()
""")

md(r"""
**Is the loss enough to find a pose?** Before any network: optimise $(R, t)$ *directly* on the
warping loss of the first test pairs (8 in the cpu profile), starting from the identity, with Adam on an axis-angle vector
($R = \exp([\omega]_\times)$ via `torch.linalg.matrix_exp`). If this recovers the poses, the loss
carries the information; what remains hard is learning descriptors through matches and an SVD.
""")
code("""
n_sub = len(sub["T"])
omega = torch.zeros(n_sub, 3, requires_grad=True)
shift = torch.zeros(n_sub, 3, requires_grad=True)
opt = torch.optim.Adam([omega, shift], lr=0.01)

def skew(w):
    z = torch.zeros_like(w[:, 0])
    return torch.stack([torch.stack([z, -w[:, 2], w[:, 1]], -1), torch.stack([w[:, 2], z, -w[:, 0]], -1),
                        torch.stack([-w[:, 1], w[:, 0], z], -1)], 1)

err0 = M.rotation_error_deg(np.repeat(np.eye(3)[None], n_sub, 0), sub["T"][:, :3, :3].numpy())
for it in range(cfg["pose_iters"]):
    photo, dep = M.warp_loss(sub, torch.linalg.matrix_exp(skew(omega)), shift, depth_norm=True, blur=5)
    opt.zero_grad()
    (photo + dep).sum().backward()
    opt.step()
err = M.rotation_error_deg(torch.linalg.matrix_exp(skew(omega)).detach().numpy(), sub["T"][:, :3, :3].numpy())
terr = (shift.detach() - sub["T"][:, :3, 3]).norm(dim=1).numpy() * 100
print(f"{cfg['pose_iters']} Adam steps on the pose alone: median rotation error {np.median(err0):.1f} -> {np.median(err):.2f} deg, "
      f"median translation error {np.median(sub['T'][:, :3, 3].norm(dim=1).numpy()) * 100:.1f} -> {np.median(terr):.1f} cm")
""")

md("""
## Experiment

Two stages, so that each question is asked where it can be answered.

* **Stage 1, the descriptor question.** Does fusing the two branches in both directions make pixels
  easier to match? Fusion acts on the descriptors, so this can be asked with the pose *given*: four
  variants trained with the **supervised** correspondence loss (the weighted residual of the matches
  under the ground-truth pose). It carries the verdicts on the *ranking of the fusion variants*.
* **Stage 2, the paper's training.** The same network trained with the label-free warping loss, as in
  the paper. Its instrument check (trained beats untrained) decides whether any comparison of
  unsupervised variants can be read.

Stage 2's checkpoints come first (the untrained network and the solver check serve both stages).

**Stage 2 models.** Eight models, three seeds each (data/pointmbf/variants.pt, float16 weights): the seven fusion
variants trained with the *unsupervised* loss only, and the bidirectional model trained with the
ground-truth pose (a supervised oracle: the weighted match residual under the true pose). Every run:
Adam (lr 1e-3, weight decay 1e-6, gradient-norm clip 1), batch 4, **800 steps** on 512 training pairs
(seed 1000); loss weights 1 / 1 / 0.1 (photometric / depth / correspondence); 10 Procrustes subsets of
20 % of the 200 matches. The paper trains for epochs on tens of thousands of pairs; here the 24 runs
took 48 minutes of wall time in two processes on a 2-core machine, so read every learned number below
as "after 3,200 pair draws, each training pair seen about 6 times". An earlier committed run of 80
steps per model (in the git history) is quoted where it tells something.
""")
code("""
ckpt = M.load_or_train_all()
tc = ckpt["train_cfg"]
print(f"{len(ckpt['models'])} checkpoints; {tc['steps']} steps of batch {tc['batch']}, lr {tc['lr']}, "
      f"{tc['n_train']} training pairs; training took {ckpt['wall_s'] / 60:.0f} min wall")
models = {key: M.load_model(ckpt, *key.rsplit("|", 1)[:1], int(key.rsplit("|", 1)[1])) for key in ckpt["models"]
          if int(key.rsplit("|", 1)[1]) in cfg["seeds"]}
""")
md("""
Evaluation follows the official `test.py`: rotation error (scipy `Rotation`, degrees), translation
error (cm), the chamfer distance x 1000 between the joint clouds under the estimated and the true pose
(scipy `cKDTree`), accuracies at thresholds and medians, plus the inlier ratio of the 200 matches
(true residual < 5 cm). Our thresholds are 2/5/10 degrees, 2/5/10 cm and 1/5/10, tighter than the
paper's 5/10/45 degrees and 5/10/25 cm because the motions are smaller. Also shown: the identity pose
(no registration), the bidirectional network at its random initialisation (what training must beat),
and Procrustes on *ground-truth* matches (a sanity check of the solver).
""")
code("""
t = time.time()
NAMES = list(M.VARIANTS) + [M.ORACLE]
raw = {name: [M.evaluate(models[f"{name}|{s}"], test) for s in cfg["seeds"]] for name in NAMES}
print(f"evaluated {len(models)} models on {cfg['n_test']} pairs in {time.time() - t:.0f} s")

def identity_result(batch):
    Tn = batch["T"].double().numpy()
    rot = M.rotation_error_deg(np.repeat(np.eye(3)[None], len(Tn), 0), Tn[:, :3, :3])
    cham = []
    for i in range(len(Tn)):  # joint cloud with view 1 left where it was captured vs moved by the true pose
        p0 = batch["pix"][i, 0][batch["pix_valid"][i, 0]].double().numpy()
        p1 = batch["pix"][i, 1][batch["pix_valid"][i, 1]].double().numpy()
        gt = np.concatenate([p0, (p1 - Tn[i, :3, 3]) @ Tn[i, :3, :3]])
        cham.append(M.chamfer(np.concatenate([p0, p1])[::3], gt[::3]) * 1000)
    return {"rot": rot, "trans": np.linalg.norm(Tn[:, :3, 3], axis=1) * 100, "chamfer": np.array(cham),
            "inlier": np.full(len(Tn), np.nan), "family": batch["family"].numpy()}

def gt_match_result(batch):
    # Procrustes on true matches: level-0 points of view 0 moved by the true pose (the solver's floor)
    Pm = batch["pts0"][:, 0].double()
    Tn = batch["T"].double()
    Qm = Pm @ Tn[:, :3, :3].transpose(1, 2) + Tn[:, None, :3, 3]
    R, tt = M.weighted_procrustes(Pm, Qm, batch["valid0"][:, 0].double())
    rot = M.rotation_error_deg(R.numpy(), Tn[:, :3, :3].numpy())
    return {"rot": rot, "trans": (tt - Tn[:, :3, 3]).norm(dim=1).numpy() * 100, "chamfer": np.zeros(len(rot)),
            "inlier": np.ones(len(rot)), "family": batch["family"].numpy()}

torch.manual_seed(0)
untrained = M.evaluate(M.build("bidirectional (PointMBF)").eval(), test)
baselines = {"identity (no registration)": identity_result(test), "untrained bidirectional (random init)": untrained,
             "Procrustes on true matches": gt_match_result(test)}
""")
md("""
### Stage 1: the descriptor question, with the pose given

Four variants, the most informative for the paper's claims: **rgb-only**, **geometry-only**, **one-way
P2I** (geometry into the image branch only, LLT-like) and **bidirectional** (PointMBF). Each is trained
with `M.supervised_loss` (the oracle's loss: the weighted residual of its matches under the true pose)
from the same initialisation seeds, on the same 512 training pairs, with the same optimiser, batch and
matching as stage 2, three seeds each (`python -m paperlab.pointmbf train --supervised`, committed as
`data/pointmbf/supervised.pt`). They train for fewer steps than stage 2, because the supervised signal is
direct; the 800-step oracle of stage 2 (the bidirectional network with the same loss, trained 4x longer)
shows how far from converged the shorter runs are. The primary metric is the paper's: rotation accuracy
at 5 degrees (rot@5) on the same test pairs; the inlier ratio of the matches (true residual < 5 cm) is
the direct measure of descriptor quality and is reported beside it as a secondary metric.
""")
code("""
sup = M.load_or_train_supervised()
stc = sup["train_cfg"]
print(f"stage 1: {len(sup['models'])} checkpoints ({', '.join(M.STAGE1)} x seeds {sup['seeds']}), {stc['steps']} steps "
      f"of batch {stc['batch']} with the supervised loss; training took {sup['wall_s'] / 60:.0f} min wall")
t = time.time()
raw1 = {name: [M.evaluate(M.load_model(sup, name, s), test) for s in cfg["seeds"]] for name in M.STAGE1}
print(f"evaluated {len(M.STAGE1) * len(cfg['seeds'])} stage-1 models on {cfg['n_test']} pairs in {time.time() - t:.0f} s")
""")
md("""
Look for: which variant's matches are right most often on each family (inlier ratio, %), and whether the
pose accuracy follows. Mean ± std over seeds; the untrained network and the 800-step oracle are the
references below and above.
""")
code("""
def stage1_row(label, runs):
    row = {"stage 1 variant (supervised)": label}
    fam_of = runs[0]["family"]
    for f, fname in [(None, "all")] + list(enumerate(fam_names)):
        m = None if f is None else fam_of == f
        row[f"inlier % {fname}"] = nb.mean_std([100 * M.summarize(r, m)["inlier"] for r in runs], "{:.1f}")
    for f, fname in [(None, "all")] + list(enumerate(fam_names)):
        m = None if f is None else fam_of == f
        row[f"rot@5 {fname}"] = nb.mean_std([M.summarize(r, m)["rot@5"] for r in runs], "{:.1f}")
    row["trans@5"] = nb.mean_std([M.summarize(r)["trans@5"] for r in runs], "{:.1f}")
    row["rot med"] = nb.mean_std([M.summarize(r)["rot med"] for r in runs], "{:.1f}")
    return row

stage1_rows = [stage1_row(n, raw1[n]) for n in M.STAGE1]
stage1_rows.append(stage1_row(f"reference: oracle = bidirectional, supervised, {tc['steps']} steps", raw[M.ORACLE]))
stage1_rows.append(stage1_row("reference: untrained bidirectional (random init)", [untrained]))
nb.results_table(stage1_rows)
""")
code("""
inl1 = {n: np.mean([100 * r["inlier"].mean() for r in raw1[n]]) for n in M.STAGE1}
r51 = {n: np.mean([M.summarize(r)["rot@5"] for r in raw1[n]]) for n in M.STAGE1}
def fam_inl(n, fname):
    return np.mean([100 * r["inlier"][r["family"] == fam_names.index(fname)].mean() for r in raw1[n]])
nb.say("**Stage 1 ranking** (supervised descriptors, mean over seeds). By inlier ratio: "
       + ", ".join(f"{n} {inl1[n]:.1f} %" for n in sorted(M.STAGE1, key=inl1.get, reverse=True))
       + ". By rot@5: " + ", ".join(f"{n} {r51[n]:.1f} %" for n in sorted(M.STAGE1, key=r51.get, reverse=True))
       + f". On the geometric rooms rgb-only's inlier ratio is {fam_inl('rgb-only', 'geometric'):.1f} % against "
       f"geometry-only's {fam_inl('geometry-only', 'geometric'):.1f} %; on the textured rooms geometry-only's is "
       f"{fam_inl('geometry-only', 'textured'):.1f} % against rgb-only's {fam_inl('rgb-only', 'textured'):.1f} %. "
       f"The 800-step oracle reaches {100 * np.mean([r['inlier'].mean() for r in raw[M.ORACLE]]):.1f} % inliers against "
       f"{inl1['bidirectional (PointMBF)']:.1f} % for the same network and loss after {stc['steps']} steps.")
""")
md("""
Look for: the bars of each variant on the two families (inlier ratio left, rot@5 right); a
single-modality variant should collapse on the family that starves its modality.
""")
code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), dpi=80)
x = np.arange(len(M.STAGE1))
for ax, ylab, fn in ((axes[0], "inlier ratio of matches (%)", lambda r, m: 100 * r["inlier"][m].mean()),
                     (axes[1], "rot@5 (%)", lambda r, m: 100 * (r["rot"][m] <= 5).mean())):
    for f, fname in enumerate(fam_names):
        vals = np.array([[fn(r, r["family"] == f) for r in raw1[n]] for n in M.STAGE1])
        ax.bar(x + (f - 0.5) * 0.38, vals.mean(1), 0.38, yerr=vals.std(1, ddof=1) if vals.shape[1] > 1 else None,
               capsize=3, label=fname)
    ax.set_xticks(x)
    ax.set_xticklabels(M.STAGE1, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylab)
axes[0].legend(fontsize=8)
fig.suptitle("stage 1: descriptors trained with the supervised loss (mean ± std over seeds)", fontsize=9)
fig.tight_layout()
plt.show()
""")
code("""
best_geo = max(M.STAGE1, key=lambda n: fam_inl(n, "geometric"))
best_tex = max(M.STAGE1, key=lambda n: fam_inl(n, "textured"))
nb.say(f"In the plot, the highest inlier ratio on the geometric rooms is {best_geo}'s ({fam_inl(best_geo, 'geometric'):.1f} %) "
       f"and on the textured rooms {best_tex}'s ({fam_inl(best_tex, 'textured'):.1f} %). Whether these gaps are larger "
       "than the seed and test-pair noise is decided by the stage-1 claims in the results section.")
""")
md("""
**Real-layout pairs.** The same model runs unchanged on pairs read by the ScanNet loader (each pair
prepared with its own intrinsics). In the smoke and cpu profiles these are the two pairs of the
committed rendered sample, a pipeline check and not a result; in the gpu profile, with `SCANNET_ROOT`
set, they are real ScanNet test pairs 20 frames apart.
""")
code("""
real_res = []
for sc, f0, f1 in pairs[: cfg["n_real"]]:
    d = rooms.load_scannet_pair(cfg["scannet_root"], sc, f0, f1, size=(48, 64))
    b = M.prepare({"rgb": d["rgb"][None], "depth": d["depth"][None], "K": d["K"], "T": d["T"][None]})
    real_res.append(M.evaluate(models[f"bidirectional (PointMBF)|{cfg['seeds'][0]}"], b))
rot_r = np.concatenate([r["rot"] for r in real_res])
tr_r = np.concatenate([r["trans"] for r in real_res])
print(f"{len(real_res)} real-layout pairs: median rotation error {np.median(rot_r):.1f} deg, "
      f"median translation error {np.median(tr_r):.1f} cm (bidirectional, seed {cfg['seeds'][0]})")
""")
md("""
**A short live run.** So that you see the training loop at work, we train a fresh bidirectional model
for a few steps on fresh pairs with the unsupervised loss, and draw its loss beside the committed
seed-0 run. Look for: the committed loss is noisy; its moving mean rises to about 0.70 around steps
100-220 and then falls to about 0.55 by step 800. A falling loss does not by itself mean better
descriptors (compare the untrained row in the next table).
""")
code("""
live_train = M.prepare(rooms.generate(8 * cfg["live_steps"], seed=4242))
t = time.time()
live_cfg = replace(M.TrainConfig(**tc), steps=cfg["live_steps"])
_, live_hist = M.train_variant("bidirectional (PointMBF)", 0, live_train, live_cfg)
print(f"live run: {len(live_hist)} steps in {time.time() - t:.0f} s")
committed = np.array(ckpt["loss"]["bidirectional (PointMBF)|0"])
fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
k = 20
ax.plot(np.convolve(committed, np.ones(k) / k, mode="valid"), label=f"committed run (moving mean of {k} steps)")
ax.plot([h["loss"] for h in live_hist], "o-", ms=3, label="live run")
ax.set_xlabel("training step")
ax.set_ylabel("unsupervised loss")
ax.legend(fontsize=8)
ax.set_title("bidirectional model, no pose labels", fontsize=9)
plt.show()
""")

md("""
## Results vs the paper

Mean ± std over seeds of each summary number (our thresholds; errors are medians over the test pairs).
""")
code("""
def summ(name, mask_fn=None):
    return [M.summarize(r, None if mask_fn is None else mask_fn(r)) for r in raw[name]]

KEYS = ["rot@2", "rot@5", "rot@10", "rot med", "trans@2", "trans@5", "trans@10", "trans med", "chamfer@1", "chamfer med", "inlier"]
S = {name: summ(name) for name in NAMES}
rows = []
for name in NAMES:
    row = {"method": name}
    for k in KEYS:
        vals = [s[k] for s in S[name]]
        row[k] = nb.mean_std(vals, "{:.1f}" if k != "inlier" else "{:.2f}")
    rows.append(row)
for name, r in baselines.items():
    s = M.summarize(r)
    rows.append({"method": name, **{k: ("" if np.isnan(s[k]) else (f"{s[k]:.1f}" if k != "inlier" else f"{s[k]:.2f}")) for k in KEYS}})
nb.results_table(rows)
""")
md("""
Per scene family: median rotation error (degrees) and accuracy at 5 degrees, mean over seeds. This is
where the single-modality variants should break.
""")
code("""
fam_rows = []
for name in NAMES:
    row = {"method": name}
    for f, fname in enumerate(fam_names):
        ss = summ(name, lambda r, f=f: r["family"] == f)
        row[f"{fname}: rot med"] = np.mean([s["rot med"] for s in ss])
        row[f"{fname}: rot@5"] = np.mean([s["rot@5"] for s in ss])
        row[f"{fname}: trans med"] = np.mean([s["trans med"] for s in ss])
    fam_rows.append(row)
nb.results_table(fam_rows, floatfmt="{:.1f}")
""")
md("""
**The paper's numbers.** The rows below are LLT's ScanNet results from LLT's own README (verified
by the card); the paper's own PointMBF, UR&R and BYOC rows are *not quoted* because we could not read
the paper's tables (card: "not verified"). Thresholds there are 5/10/45 degrees, 5/10/25 cm and
chamfer 1/5/10; real 128 x 128 ScanNet frames 20 frames apart, after 1-14 epochs of training.
Nothing in our synthetic 48 x 64 setting is numerically comparable; only the *ranking* of the
variants is.
""")
code("""
nb.results_table([
    {"method": "LLT, trained on 3DMatch (LLT README)", "Rot 5° / 10° / 45°": "93.4 / 96.5 / 98.8", "Rot mean / med": "3.0 / 0.9",
     "Trans 5 / 10 / 25 cm": "76.9 / 90.2 / 96.7", "Trans mean / med": "6.4 / 2.4", "Chamfer 1 / 5 / 10": "86.4 / 95.1 / 96.8"},
    {"method": "LLT, trained on ScanNet (LLT README)", "Rot 5° / 10° / 45°": "95.5 / 97.6 / 99.1", "Rot mean / med": "2.5 / 0.8",
     "Trans 5 / 10 / 25 cm": "80.4 / 92.2 / 97.6", "Trans mean / med": "5.5 / 2.2", "Chamfer 1 / 5 / 10": "88.9 / 96.4 / 97.6"},
    {"method": "PointMBF (paper, Table 1)", "Rot 5° / 10° / 45°": "not verified", "Rot mean / med": "not verified",
     "Trans 5 / 10 / 25 cm": "not verified", "Trans mean / med": "not verified", "Chamfer 1 / 5 / 10": "not verified"},
])
""")
md("""
Look for: how far each variant moves the error distribution left of the identity pose (the dashed
line is "do nothing"), pooled over seeds and test pairs.
""")
code("""
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), dpi=80)
for ax, key, xmax, lab in ((axes[0], "rot", 20, "rotation error (deg)"), (axes[1], "trans", 50, "translation error (cm)")):
    xs = np.linspace(0, xmax, 200)
    for name in NAMES:
        v = np.concatenate([r[key] for r in raw[name]])
        ax.plot(xs, [(v <= x).mean() for x in xs], label=name, lw=2 if "PointMBF" in name else 1)
    v = baselines["identity (no registration)"][key]
    ax.plot(xs, [(v <= x).mean() for x in xs], "k--", lw=1, label="identity")
    ax.set_xlabel(lab)
    ax.set_ylabel("share of pairs with error <= x")
axes[1].legend(fontsize=6, loc="lower right")
fig.tight_layout()
plt.show()
""")

md(r"""
**Claims.** Each claim has one primary metric, the paper's own: accuracy at 5 degrees (rot@5, the share
of test pairs whose rotation error is at most 5 degrees). Verdicts come from `claims.paired_bootstrap`
over seeds *and* test pairs (per-pair indicators, paired by pair), so both training noise and the test
set's size widen the interval; the other metrics are reported as secondary checks that never change a
verdict.

**The instrument checks come first, one per stage.** The paper's claims are about *trained* networks. If
training does not make the bidirectional network clearly better than its own random initialisation,
the experiment cannot say anything about what fusion contributes: every comparison of that stage is
then *not testable here*. The criterion, fixed before looking and the same for both stages: trained
rot@5 at least 5 points above the untrained network's, on the same test pairs. Both stages also need
the solver to work: Procrustes on true matches must reach rot@5 of at least 95 %.
""")
code("""
seeds = cfg["seeds"]
FULL = "bidirectional (PointMBF)"
others = [n for n in M.VARIANTS if n != FULL]
per = lambda name, k: [s[k] for s in S[name]]  # noqa: E731

def hit(name, key="rot", thr=5.0, mask=None):
    # (seeds, pairs) 0/1 indicators of error <= thr; mask selects a family
    out = np.stack([(r[key] <= thr).astype(float) for r in raw[name]])
    return out if mask is None else out[:, mask]

untrained_hit = (untrained["rot"] <= 5.0).astype(float)
gain_over_init = 100 * (hit(FULL).mean() - untrained_hit.mean())
inst_trained = claims.instrument("unsupervised training beats the untrained network (bidirectional rot@5, trained - untrained, points)",
                                 gain_over_init, low=5.0)
oracle_gain = 100 * (hit(M.ORACLE).mean() - untrained_hit.mean())
inst_oracle = claims.instrument("the supervised oracle (same network, ground-truth pose) beats the untrained network (rot@5, points)",
                                oracle_gain, low=5.0)
solver = claims.instrument("Procrustes on true matches recovers the pose (rot@5, %)",
                           100 * (baselines["Procrustes on true matches"]["rot"] <= 5).mean(), low=95)

def hit1(name, key="rot", thr=5.0, mask=None):
    # stage 1: (seeds, pairs) 0/1 indicators of error <= thr
    out = np.stack([(r[key] <= thr).astype(float) for r in raw1[name]])
    return out if mask is None else out[:, mask]

def inl1_scores(name, mask=None):
    # stage 1: (seeds, pairs) inlier ratio of each pair's matches, in %
    out = np.stack([100 * r["inlier"] for r in raw1[name]])
    return out if mask is None else out[:, mask]

sup_gain = 100 * (hit1(FULL).mean() - untrained_hit.mean())
inst_sup = claims.instrument(f"stage 1: supervised training ({stc['steps']} steps) beats the untrained network "
                             "(bidirectional rot@5, trained - untrained, points)", sup_gain, low=5.0)
print(f"stage 2 instrument: unsupervised bidirectional - untrained rot@5 = {gain_over_init:+.1f} points (needs >= 5)")
print(f"stage 1 instrument: supervised bidirectional ({stc['steps']} steps) - untrained rot@5 = {sup_gain:+.1f} points (needs >= 5)")
print(f"solver: Procrustes on true matches rot@5 = {solver['value']:.1f} % (needs >= 95); "
      f"800-step oracle - untrained = {oracle_gain:+.1f} points")
recs = []
""")
md(r"""
#### Stage 1 claims: the descriptor question (supervised loss)

The same three comparisons as the paper's, asked of the descriptors trained with the pose given. Minimum
effects are those of stage 2 below (fixed before either stage was looked at); the inlier ratio's is 2
points (percentage points of the inlier ratio, a practical threshold: a tenth of the ratios of 10-20 %
measured in the pilot runs of the issue). Instruments: the stage-1 check above and the solver check.

*Claim S1-a.* Bidirectional descriptors give the best rot@5 of the four. Primary: against the strongest
other stage-1 variant (highest mean rot@5 here, which favours the competitor), minimum 2 points.
Secondary: inlier ratio and trans@5 against the same variant, rot@5 against the other two.
""")
code("""
others1 = [n for n in M.STAGE1 if n != FULL]
best1 = max(others1, key=lambda n: hit1(n).mean())
kw1 = dict(instrument=[inst_sup, solver], n_boot=2000)
why_inl = "2 points of inlier ratio: a practical threshold, a tenth of the 10-20 % ratios of the issue's pilot runs"
prim = claims.paired_bootstrap(100 * hit1(FULL), 100 * hit1(best1), min_effect=2.0, names=(FULL, best1),
                               why_min="2 points of rot@5, as stage 2's claim 1 (a practical threshold; the paper's margins were not verified)", **kw1)
sec = [claims.paired_bootstrap(inl1_scores(FULL), inl1_scores(best1), min_effect=2.0, names=(FULL, best1), why_min=why_inl, **kw1),
       claims.paired_bootstrap(100 * hit1(FULL, "trans"), 100 * hit1(best1, "trans"), min_effect=2.0, names=(FULL, best1),
                               why_min="same 2-point threshold for trans@5", **kw1)]
sec += [claims.paired_bootstrap(100 * hit1(FULL), 100 * hit1(n), min_effect=2.0, names=(FULL, n), why_min="same threshold", **kw1)
        for n in others1 if n != best1]
recs.append(claims.record(
    "pointmbf", "Stage 1 (supervised descriptors): bidirectional fusion gives the best rotation accuracy at 5 degrees of rgb-only, geometry-only, one-way P2I and bidirectional",
    paper_value="PointMBF beats UR&R, BYOC and LLT on ScanNet and 3DMatch (paper Tables 1-2, numbers not verified here); the claim is about the descriptor",
    metric=f"rot@5 (%) of the bidirectional model trained {stc['steps']} steps with the supervised loss, per seed",
    per_seed=[100 * h.mean() for h in hit1(FULL)], seeds=seeds,
    result=claims.compound(prim, *sec, names=[f"inlier ratio vs {best1}", f"trans@5 vs {best1}"] + [f"rot@5 vs {n}" for n in others1 if n != best1]),
    why=f"Stage 1 carries this verdict. Strongest other stage-1 variant on rot@5: {best1}. {cfg['n_test']} test pairs x {len(seeds)} seeds."))
""")
md(r"""
*Claim S1-b.* Bidirectional beats one-way P2I (LLT-like) descriptors. Primary: rot@5, minimum 5 points (as
stage 2's claim 2). Secondary: inlier ratio (minimum 2 points).
""")
code("""
P2I = "one-way P2I (LLT-like)"
prim = claims.paired_bootstrap(100 * hit1(FULL), 100 * hit1(P2I), min_effect=5.0, names=(FULL, P2I),
                               why_min="5 points of rot@5, the card's threshold for a fusion-direction effect", **kw1)
sec = claims.paired_bootstrap(inl1_scores(FULL), inl1_scores(P2I), min_effect=2.0, names=(FULL, P2I), why_min=why_inl, **kw1)
recs.append(claims.record(
    "pointmbf", "Stage 1 (supervised descriptors): bidirectional fusion beats one-way P2I (LLT-style) fusion",
    paper_value="PointMBF > LLT (unidirectional) on ScanNet/3DMatch; the paper's ablation of fusion direction not verified here",
    metric=f"rot@5 (%) of the stage-1 bidirectional model, per seed", per_seed=[100 * h.mean() for h in hit1(FULL)], seeds=seeds,
    result=claims.compound(prim, sec, names=[f"inlier ratio vs {P2I}"]), why="Stage 1 carries this verdict."))
""")
md(r"""
*Claim S1-c.* Each single-modality descriptor fails on the rooms that starve it. Primary: on the geometric
rooms, bidirectional rot@5 at least 10 points above rgb-only's. Secondary: on the textured rooms at least
10 points above geometry-only's; the inlier ratios on both families (minimum 2 points).
""")
code("""
fam1 = raw1[FULL][0]["family"]
geo1, tex1 = fam1 == fam_names.index("geometric"), fam1 == fam_names.index("textured")
prim = claims.paired_bootstrap(100 * hit1(FULL, mask=geo1), 100 * hit1("rgb-only", mask=geo1), min_effect=10.0,
                               names=(FULL, "rgb-only"), why_min="10 points: a failure, not a nuance (stage 2's claim 3)", **kw1)
sec = [claims.paired_bootstrap(100 * hit1(FULL, mask=tex1), 100 * hit1("geometry-only", mask=tex1), min_effect=10.0,
                               names=(FULL, "geometry-only"), why_min="same threshold", **kw1),
       claims.paired_bootstrap(inl1_scores(FULL, geo1), inl1_scores("rgb-only", geo1), min_effect=2.0,
                               names=(FULL, "rgb-only"), why_min=why_inl, **kw1),
       claims.paired_bootstrap(inl1_scores(FULL, tex1), inl1_scores("geometry-only", tex1), min_effect=2.0,
                               names=(FULL, "geometry-only"), why_min=why_inl, **kw1)]
recs.append(claims.record(
    "pointmbf", "Stage 1 (supervised descriptors): RGB-only fails on texture-poor geometric rooms and geometry-only on geometrically plain textured rooms",
    paper_value="the paper motivates fusion by the complementarity of RGB and geometry (no per-scene-type numbers read)",
    metric="rot@5 (%) of the stage-1 bidirectional model on the geometric rooms, per seed",
    per_seed=[100 * h.mean() for h in hit1(FULL, mask=geo1)], seeds=seeds,
    result=claims.compound(prim, *sec, names=["rot@5 vs geometry-only on textured rooms", "inlier ratio vs rgb-only on geometric rooms",
                                              "inlier ratio vs geometry-only on textured rooms"]),
    why="Stage 1 carries this verdict. Per-family rot@5 over the test pairs of that family."))
""")
md(r"""
#### Stage 2 claims: the paper's unsupervised training

The same comparisons among the variants trained without pose labels, gated by the stage-2 instrument.
""")
md(r"""
*Claim S2-a.* Bidirectional fusion has the best rot@5 among the unsupervised variants. Primary: against the
strongest other variant (highest mean rot@5 on this test set, which favours the competitor); minimum
effect 2 points, a practical threshold (the paper's margins over its baselines were not verified).
Secondary: translation accuracy at 5 cm against the same variant, and rot@5 against each other variant.
""")
code("""
best_other = max(others, key=lambda n: hit(n).mean())
kw = dict(instrument=inst_trained, n_boot=2000)
prim = claims.paired_bootstrap(100 * hit(FULL), 100 * hit(best_other), min_effect=2.0, names=(FULL, best_other),
                               why_min="2 points of rot@5: a practical threshold; the paper's margins were not verified", **kw)
sec = [claims.paired_bootstrap(100 * hit(FULL, "trans"), 100 * hit(best_other, "trans"), min_effect=2.0, names=(FULL, best_other),
                               why_min="same 2-point threshold for trans@5", **kw)]
sec += [claims.paired_bootstrap(100 * hit(FULL), 100 * hit(n), min_effect=2.0, names=(FULL, n), why_min="same threshold", **kw)
        for n in others if n != best_other]
r1 = claims.compound(prim, *sec, names=[f"trans@5 vs {best_other}"] + [f"rot@5 vs {n}" for n in others if n != best_other])
recs.append(claims.record(
    "pointmbf", "Stage 2 (unsupervised training): bidirectional multi-scale fusion, trained without pose labels, has the best rotation accuracy at 5 degrees among the fusion variants",
    paper_value="PointMBF beats UR&R, BYOC and LLT on ScanNet and 3DMatch (paper Tables 1-2, numbers not verified here; LLT ScanNet rot@5 95.5 from LLT's README)",
    metric="rot@5 (%) of the bidirectional model, per seed", per_seed=per(FULL, "rot@5"), seeds=seeds, result=r1,
    why=f"Stage 2 carries this verdict. Strongest other variant on rot@5: {best_other}. {cfg['n_test']} test pairs x {len(seeds)} seeds."))
""")
md(r"""
*Claim S2-b.* Bidirectional fusion beats the better one-way variant (P2I is LLT-like). Primary: rot@5 against
the better one-way variant, minimum effect 5 points (the card's rule, fixed in the previous version of
this notebook). Secondary: trans@5.
""")
code("""
oneway = max(["one-way P2I (LLT-like)", "one-way I2P"], key=lambda n: hit(n).mean())
prim = claims.paired_bootstrap(100 * hit(FULL), 100 * hit(oneway), min_effect=5.0, names=(FULL, oneway),
                               why_min="5 points of rot@5, the card's threshold for a fusion-direction effect", **kw)
sec = claims.paired_bootstrap(100 * hit(FULL, "trans"), 100 * hit(oneway, "trans"), min_effect=5.0, names=(FULL, oneway),
                              why_min="same threshold for trans@5", **kw)
recs.append(claims.record(
    "pointmbf", "Stage 2 (unsupervised training): bidirectional fusion beats the best one-way (LLT-style) variant",
    paper_value="PointMBF > LLT (unidirectional) on ScanNet/3DMatch; the paper's ablation of fusion direction not verified here",
    metric=f"rot@5 (%) of bidirectional, per seed", per_seed=per(FULL, "rot@5"), seeds=seeds,
    result=claims.compound(prim, sec, names=[f"trans@5 vs {oneway}"]), why=f"Stage 2 carries this verdict. Better one-way variant here: {oneway}."))
""")
md(r"""
*Claim S2-c.* Each single-modality variant fails on the rooms that defeat it. Primary: on the texture-poor
geometric rooms, bidirectional rot@5 is at least 10 points above RGB-only's. Secondary: on the plain
textured rooms, at least 10 points above geometry-only's.
""")
code("""
fam = raw[FULL][0]["family"]
geo_m, tex_m = fam == fam_names.index("geometric"), fam == fam_names.index("textured")
prim = claims.paired_bootstrap(100 * hit(FULL, mask=geo_m), 100 * hit("rgb-only", mask=geo_m), min_effect=10.0,
                               names=(FULL, "rgb-only"), why_min="10 points: a failure, not a nuance (the previous rule)", **kw)
sec = claims.paired_bootstrap(100 * hit(FULL, mask=tex_m), 100 * hit("geometry-only", mask=tex_m), min_effect=10.0,
                              names=(FULL, "geometry-only"), why_min="same threshold", **kw)
recs.append(claims.record(
    "pointmbf", "Stage 2 (unsupervised training): RGB-only fails on texture-poor geometric rooms and geometry-only fails on geometrically plain textured rooms",
    paper_value="the paper motivates fusion by the complementarity of RGB and geometry (no per-scene-type numbers read)",
    metric="rot@5 (%) of bidirectional on the geometric rooms, per seed",
    per_seed=[100 * h.mean() for h in hit(FULL, mask=geo_m)], seeds=seeds,
    result=claims.compound(prim, sec, names=["geometry-only on textured rooms"]),
    why="Stage 2 carries this verdict. Per-family rot@5 over the test pairs of that family."))
""")
md(r"""
*A positive control (not the paper's claim).* The supervised oracle, trained on the same rooms with the
ground-truth pose, beats the unsupervised bidirectional model: this checks that the network and the
evaluation can show a better descriptor when there is one. Its own instrument: Procrustes on true matches
(the solver's floor) reaches rot@5 of at least 95 %.
""")
code("""
r4 = claims.paired_bootstrap(100 * hit(M.ORACLE), 100 * hit(FULL), min_effect=2.0, names=(M.ORACLE, FULL), instrument=solver,
                             why_min="2 points of rot@5, as in claim S2-a", n_boot=2000)
recs.append(claims.record(
    "pointmbf", "The supervised oracle (ground-truth pose) beats the unsupervised bidirectional model (positive control)",
    paper_value="not a paper claim (positive control)", metric="rot@5 (%) of the oracle, per seed",
    per_seed=per(M.ORACLE, "rot@5"), seeds=seeds, result=r4, why="Shows the evaluation can see a better descriptor."))
nb.claims_table(recs)
""")
md("""
**Registration pictured.** One test pair of each family: view 0 (grey) and view 1 (blue) in view 0's
frame: as captured, moved by the pose the bidirectional model (seed 0) estimated, and moved by the
true pose. Look for: with the true pose (right) the walls and boxes of the two views fall onto each
other; compare how much of that the estimate achieves (its rotation error is in the title).
""")
code("""
model0 = models[f"{FULL}|{cfg['seeds'][0]}"]
idx = [int(np.flatnonzero(test["family"].numpy() == f)[0]) for f in (0, 1)]
one = M.take(test, idx)
with torch.no_grad():
    reg = M.register(model0, one, M.TrainConfig(**tc), torch.Generator().manual_seed(0))
fig = plt.figure(figsize=(12, 6), dpi=80)
for row in range(2):
    p0 = one["pix"][row, 0][one["pix_valid"][row, 0]].numpy()[::3]
    p1 = one["pix"][row, 1][one["pix_valid"][row, 1]].numpy()[::3]
    R, t = reg["R"][row].numpy(), reg["t"][row].numpy()
    Rt_, tt_ = one["T"][row, :3, :3].numpy(), one["T"][row, :3, 3].numpy()
    err = M.rotation_error_deg(R[None], Rt_[None])[0]
    for col, (title, q) in enumerate((("as captured", p1), (f"estimate (rot err {err:.1f} deg)", (p1 - t) @ R),
                                      ("true pose", (p1 - tt_) @ Rt_))):
        ax = fig.add_subplot(2, 3, 3 * row + col + 1, projection="3d")
        ax.scatter(p0[:, 0], p0[:, 2], -p0[:, 1], s=1, c="0.5", alpha=0.5)
        ax.scatter(q[:, 0], q[:, 2], -q[:, 1], s=1, c="tab:blue", alpha=0.5)
        ax.view_init(elev=25, azim=-70)
        ax.set_title(f"{fam_names[one['family'][row]]}: {title}", fontsize=8)
        ax.set_xticks([]); ax.set_yticks([]); ax.set_zticks([])
plt.show()
""")
md("""
**Match quality.** The pose is only as good as the weighted matches. Left: the inlier ratio (true
residual < 5 cm) of the 200 matches per variant and family, mean over seeds. Right: per test pair,
inlier ratio against rotation error for the bidirectional model (seed 0).
""")
code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), dpi=80)
x = np.arange(len(NAMES))
for f, fname in enumerate(fam_names):
    vals = [np.mean([r["inlier"][r["family"] == f].mean() for r in raw[n]]) for n in NAMES]
    axes[0].bar(x + (f - 0.5) * 0.38, vals, 0.38, label=fname)
axes[0].set_xticks(x)
axes[0].set_xticklabels(NAMES, rotation=35, ha="right", fontsize=7)
axes[0].set_ylabel("inlier ratio of matches (< 5 cm)")
axes[0].legend(fontsize=8)
r0 = raw[FULL][0]
for f, fname in enumerate(fam_names):
    m = r0["family"] == f
    axes[1].scatter(r0["inlier"][m], r0["rot"][m], s=12, label=fname)
axes[1].set_yscale("log")
axes[1].set_xlabel("inlier ratio")
axes[1].set_ylabel("rotation error (deg, log)")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
""")
md("""
**What held and what did not.** The paragraph below is written by the notebook from the numbers above.
""")
code("""
rm = lambda n: np.mean(per(n, "rot med"))  # noqa: E731
r5 = lambda n: np.mean(per(n, "rot@5"))  # noqa: E731
ranking = sorted(M.VARIANTS, key=r5, reverse=True)
nb.say(
    f"**Instrument.** Unsupervised training moves the bidirectional network's rot@5 from "
    f"{100 * untrained_hit.mean():.1f} % (random initialisation) to {r5(FULL):.1f} % "
    f"({gain_over_init:+.1f} points; the check needs +5). The supervised oracle reaches {r5(M.ORACLE):.1f} % "
    f"({oracle_gain:+.1f} points), so the network *can* learn better descriptors when the pose signal is clean. "
    + ("The unsupervised signal is too weak at this budget: the comparisons of fusion variants are **not testable here**. "
       "The issue's diagnosis stands: the unsupervised gradient is nearly orthogonal to the supervised one, and a "
       "test would need roughly 10x the training steps (several CPU hours) or the supervised descriptor stage."
       if not inst_trained["passed"] else "The comparisons can therefore be read.")
    + f"\\n\\n**Stage 2 ranking on rot@5** (unsupervised, mean over {len(seeds)} seeds, {cfg['n_test']} pairs): "
    + ", ".join(f"{n} {r5(n):.1f} %" for n in ranking)
    + f". Median rotation errors: bidirectional {rm(FULL):.1f} deg, untrained {M.summarize(untrained)['rot med']:.1f}, "
    f"no registration {M.summarize(baselines['identity (no registration)'])['rot med']:.1f}, oracle {rm(M.ORACLE):.1f}."
    + f"\\n\\n**Stage 1** (supervised descriptors, {stc['steps']} steps): its instrument "
    + ("passed" if inst_sup["passed"] else "failed")
    + f" (bidirectional {sup_gain:+.1f} points of rot@5 over the untrained network), so its comparisons "
    + ("can be read; the ranking of the fusion variants rests on stage 1." if inst_sup["passed"] and solver["passed"]
       else "are not testable here either.")
)
""")
md("""
**Which stage carries each verdict** (generated from the records above):
""")
code("""
nb.say("\\n".join(f"- {'stage 1' if r['claim'].startswith('Stage 1') else 'stage 2' if r['claim'].startswith('Stage 2') else 'control'}: "
                   f"{r['claim'].split(': ', 1)[-1]} — **{r['verdict']}** (effect {claims.format_interval(r)}, minimum {r['min_effect']:g}"
                   + (f"; {r['secondary_tally']}" if r.get('secondary_tally') else "") + ")" for r in recs))
""")
md("""
Caveats:
- Our rooms are 48 x 64 synthetic scenes and each run trains for 800 (stage 2) or 200 (stage 1) steps of batch 4;
  the paper trains for epochs on tens of thousands of real ScanNet pairs. Numbers are not comparable to the
  paper's, only rankings.
- Stage 1 answers the descriptor question with the pose given; the paper's claim is about descriptors learned
  *without* it. A stage-1 verdict says what fusion does to the descriptor, not that label-free training reaches it.
- The 2-point inlier-ratio threshold of the stage-1 secondaries is a practical one, set from the issue's pilot
  runs' scale, not from the paper.
- The strongest competitor is chosen on the same test pairs (this favours the competitor, not PointMBF).
""")

md("""
## Ablation

The fusion ablations (direction, number of fused scales) are rows of the table above. Here we turn
the knob that matters at *test* time and costs no training: the randomised Procrustes. With one
"subset" of 100 % of the matches the solve is plain weighted Procrustes over all 200 matches; the
official setting draws 10 subsets of 20 % and keeps the one with the smallest weighted residual (a
cheap, deterministic cousin of RANSAC). Same bidirectional checkpoints, same test pairs.
""")
code("""
abl = {}
for label, kw in (("1 subset x 100 % (plain weighted Procrustes)", dict(n_subsets=1, subset_ratio=1.0)),
                  ("10 subsets x 20 % (official)", dict(n_subsets=10, subset_ratio=0.2))):
    c = replace(M.TrainConfig(**tc), **kw)
    abl[label] = [M.summarize(M.evaluate(models[f"{FULL}|{s}"], test, c)) for s in cfg["seeds"]]
nb.results_table([{"Procrustes": k, **{m: nb.mean_std([s[m] for s in v], "{:.1f}") for m in ("rot@5", "rot med", "trans@5", "trans med")}}
                  for k, v in abl.items()])
""")
code("""
o, p = abl["10 subsets x 20 % (official)"], abl["1 subset x 100 % (plain weighted Procrustes)"]
nb.say(f"**Reading the ablation.** The official 10 random subsets give a median rotation error of "
       f"{np.mean([s['rot med'] for s in o]):.1f} deg against {np.mean([s['rot med'] for s in p]):.1f} deg for one plain "
       f"weighted Procrustes over all matches (seed spread ± {np.std([s['rot med'] for s in o], ddof=1):.1f}). The subset "
       "trick is a cheap RANSAC without a consensus threshold: it can only help when a good share of matches is right.")
""")

md("""
## Exercises

Replace each `...` and run the check cell below it.

**Exercise 1 (warm-up).** The rotation error is the angle of $R_{est} R_{gt}^\\top$. For a rotation
matrix, $\\cos\\theta = (\\mathrm{tr} R - 1)/2$. Compute the angle (degrees) of `R_ex` from its trace.
""")
code("""
R_ex = Rotation.from_rotvec([0.05, 0.12, -0.08]).as_matrix()
answer_1 = ...  # angle in degrees from np.trace(R_ex)
""")
code("""_ = checks.check_close("exercise 1", answer_1, np.degrees(Rotation.from_matrix(R_ex).magnitude()), rtol=1e-6,
                   hint="theta = arccos((trace - 1) / 2), then np.degrees")""")
md("""
**Exercise 2.** A pixel's two most similar pixels in the other view have cosine similarities 0.9 and
0.8. What Lowe-ratio weight does it get? And with 0.9 and 0.2?
""")
code("""
answer_2 = ...  # a list [weight for (0.9, 0.8), weight for (0.9, 0.2)]
""")
code("""_ = checks.check_close("exercise 2", answer_2, [1 - 0.1 / 0.2, 1 - 0.1 / 0.8], rtol=1e-6,
                   hint="w = 1 - (1 - c1) / (1 - c2)")""")
md("""
**Exercise 3.** The official Procrustes multiplies both centred point sets by the normalised weights.
Which per-match weights `a` must you give scipy's `Rotation.align_vectors` (on the weighted-centred
points) to get the same rotation? Write a function of the raw weights `w`.
""")
code("""
def answer_3(w):
    ...  # return the weights for align_vectors
""")
code("""
def _ref3(w):
    return (w / w.sum()) ** 2

def _rot_with(fn):
    def solve(w):
        mp, mq = (w[:, None] * Pk).sum(0) / w.sum(), (w[:, None] * Qn).sum(0) / w.sum()
        return Rotation.align_vectors(Qn - mq, Pk - mp, weights=fn(w))[0].as_matrix()
    return solve

Qn = Qk + np.random.default_rng(1).normal(scale=0.3, size=Qk.shape)  # noisy, so the weighting matters
if answer_3(np.ones(3)) is None:
    _ = checks.check_close("exercise 3", None, 0)
else:
    _ = checks.check_function("exercise 3", _rot_with(answer_3), lambda w: M.weighted_procrustes(
        torch.as_tensor(Pk), torch.as_tensor(Qn), torch.as_tensor(w))[0].numpy(),
        [wk, wk ** 3, np.linspace(0.1, 1, 30)], rtol=1e-6, atol=1e-8, hint="the weights enter squared")
""")
md("""
**Exercise 4.** Which single-modality variant would you expect to fail on the *geometric* rooms, and
why? Choose from the list. (Then look at the per-family table: did it?)
""")
code("""
answer_4 = ...  # "rgb-only" or "geometry-only"
""")
code("""_ = checks.check_choice("exercise 4", answer_4, "rgb-only", ["rgb-only", "geometry-only"],
                    hint="which branch sees almost uniform colour there?")""")
md("""
**Exercise 5.** The P2I link: for the pixel `u = 500` of test pair 0, view 0 (full resolution), find
the index of the nearest *valid* level-0 point within $r_0 = 0.2$ m by brute force (use `g["pix"]`,
`g["pts0"]`, `g["valid0"]`), or `768` (the dummy index) if none. It must equal `g["p2i0"][500]`.
""")
code("""
answer_5 = ...  # an int
""")
code("""_ = checks.check_equal("exercise 5", answer_5, int(g["p2i0"][500]),
                   hint="distances np.linalg.norm(pts0 - pix[500], axis=1), invalid points at +inf, argmin, radius test")""")

md("""
## Summary and references

SUMMARY_LINES

**References.** M. Yuan, K. Fu, Z. Li, Y. Meng, M. Wang, *PointMBF*, ICCV 2023, arXiv 2308.04782;
code `phdymz/PointMBF` (read: `models/model.py`, `models/backbones.py`, `models/correspondence.py`,
`models/alignment.py`, `nnutils/fusion_trainer.py`, `utils/losses.py`, `utils/metrics.py`, `test.py`,
`datasets/video_dataset.py`, `make_dataset/create_scannet_dict.py`). M. El Banani, L. Gao,
J. Johnson, *UnsupervisedR&R*, CVPR 2021. M. El Banani, J. Johnson, *Bootstrap Your Own
Correspondences (BYOC)*, ICCV 2021. Z. Wang et al., *LLT*, ECCV 2022 (`514DNA/LLT`). X. Bai et al.,
*D3Feat* (KPFCN), CVPR 2020. H. Thomas et al., *KPConv*, ICCV 2019. C. Qi et al., *PointNet*, CVPR
2017. W. Kabsch, 1976. Libraries: PyTorch (`grid_sample`, `linalg.svd`), SciPy (`cKDTree`,
`Rotation`), NumPy, matplotlib, Pillow.
""".replace("SUMMARY_LINES", T("SUMMARY_LINES", "(to be written after the cpu run)")))
code('print(f"notebook ran in {time.time() - T0:.0f} s")')

NB = notebook(
    module="pointmbf",
    paper="Yuan et al., PointMBF: A Multi-scale Bidirectional Fusion Network for Unsupervised RGB-D Point Cloud Registration (ICCV 2023)",
    url="https://arxiv.org/abs/2308.04782",
    claim="Fusing RGB and geometry in both directions at every scale gives more distinctive descriptors and more accurate unsupervised RGB-D registration than single-modality or one-way fusion.",
)
nbf.write(NB, ROOT / "notebooks" / "08_pointmbf.ipynb")
print("wrote notebooks/08_pointmbf.ipynb with", len(NB.cells), "cells")
