RETRAIN_MIN = "5 (2 worker processes, load ~12)"

WHY_1 = ("Mixed. The efficiency side is clear: PMAA-small has 7.9% of the U-Net's parameters (held) but 38.6% of its "
         "MACs (above 30%, not held), because its per-date extractor and ASPP run at full resolution on each of "
         "the three dates while the U-Net halves the resolution after its first block. On quality, PMAA-small is "
         "better on the mean (21.2 vs 19.0 dB) but the paired per-seed gaps are +6.5, -8.8 and +8.8 dB: after "
         "100 training steps both models are undertrained and one seed of each stalls, so seed variance, not "
         "architecture, dominates.")
WHY_2 = ("Held by a wide margin: the trivial baselines copy clouds (10.2-10.7 dB overall, 5.5-6.4 dB on pixels "
         "cloudy on all dates); every trained model and seed is above 12 dB overall and above 13 dB on all-cloudy "
         "pixels. The learned models' outputs are still blurry (SSIM 0.17-0.37).")
WHY_3 = ("Not held at this scale: without the global path PMAA-small reached 24.99 dB vs 24.80 dB with it (seed 0 "
         "only). A plausible reason (not measured): the Conv2Former's layer scales start at 1e-6, so after 100 steps G "
         "is still close to the pooled sum G0. One seed cannot separate a 0.2 dB difference from noise.")
WHY_4 = ("Held on seed 0 only (24.80 dB with 3 autoencoders vs 12.13 dB with 1), but the 1-autoencoder run looks "
         "like the stalled PMAA-small seed 1 (14.09 dB), so with one seed this is weak evidence, not a measured "
         "effect of stacking.")

RESULTS_PARAGRAPH = r"""
**What held and what did not.** Both learned models are far above the trivial baselines, also where
every date is cloudy: the trivial baselines paint cloud there, the learned models paint something
something darker and cloud-free, if blurry (held). The efficiency claim only partly transfers: PMAA-small has **7.9 %** of the heavy
model's parameters (paper: 0.54 % of CTGAN's) but **38.6 %** of its MACs (paper: 14.5 %). The reason is
structural and worth remembering: PMAA's cost sits in the per-date feature extractor (bottlenecks and
ASPP at full resolution, three times), not in the autoencoders; CTGAN is expensive because it is huge
everywhere, while our U-Net stand-in downsamples early, so it is cheap per parameter. On quality the
mean favours PMAA-small (about 21 vs 19 dB), but the paired per-seed differences swing from -8.8 to
+8.8 dB: with 100 steps (the paper trains 100 *epochs* of 256 x 256 tiles) some seeds of both models
stall at a blurry local solution. The honest reading is "not separable at this budget", not "PMAA
wins". The paper's own gap on Sen2_MTC new is +0.06 dB, far below what our seed noise can resolve.
"""

ABLATION_PARAGRAPH = r"""
**Reading the ablation.** Removing MAM's global path did not hurt here (24.99 vs 24.80 dB, seed 0): the
Conv2Former's outputs are multiplied by layer scales initialised at $10^{-6}$, so after 100 steps the
global map $G$ is probably still close to the pooled sum $G_0$ (a hypothesis we did not measure), and the
0.2 dB difference is well inside the seed noise seen above. The 1-autoencoder model is
much worse (12.1 dB), but that number resembles the stalled PMAA-small seed (14.1 dB), so one seed
cannot tell us whether stacking or luck made the difference. Longer training and three seeds per
ablation (`PLAN` in `paperlab.pmaa`) are the obvious next step on a free machine.
"""

SUMMARY_LINES = r"""
- PMAA = a shared per-date extractor with cloud-mask gating + three stacked small autoencoders, each with
  one global context map (MAM: pool all scales, one Conv2Former layer, gate every scale) and a gated
  coarse-to-fine decoder (LIM).
- The official code swaps BatchNorm for InstanceNorm (dropping timm's fused ReLU) and its decoder skips
  the coarsest level; we follow the figure and keep the code's indexing as a switch.
- Measured on a synthetic cloud world: far above trivial baselines (held); 7.9 % of the heavy model's
  parameters but 38.6 % of its MACs, with quality differences dominated by seed variance after 100
  training steps (partly); the global path did not help and stacking's benefit is not separable from
  seed noise at one seed.
"""
