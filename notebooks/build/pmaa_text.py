"""Prose of notebooks/06_pmaa.ipynb that quotes no measured number (imported by notebooks/build/pmaa.py).

Sentences with measured values are rendered in the notebook by ``nb.say`` from the run's own numbers.
"""

SUMMARY_LINES = r"""
- PMAA = a shared per-date extractor with cloud-mask gating + three stacked small autoencoders, each with
  one global context map (MAM: pool all scales, one Conv2Former layer, gate every scale) and a gated
  coarse-to-fine decoder (LIM).
- Faithful to the official code where it differs from the paper card: BatchNorm swapped for
  InstanceNorm (dropping timm's fused ReLU), a 1x1 + tanh head (the repository's HEAD; its first
  commit had 7x7), and the decoder indexing kept as a switch; every other difference is in the table
  of deviations.
- Claims are judged by paired intervals over converged seed pairs with minimum effects fixed in
  advance; stalled runs are named by a stated rule and left out, never averaged in. The verdicts and
  their intervals are in the Results table; the quality claim and its cost secondaries (parameters,
  MACs, CPU latency) are read together there.
- MAM cannot be tested at this scale: the local path's receptive field covers the whole tile, and it
  would still cover a 64 x 64 tile at depth 4; the notebook measures the tile size and the training
  cost a real test would need.
"""
