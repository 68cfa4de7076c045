"""Thin wrappers over sklearn / skimage / torchmetrics. No hand-written metric lives here.

Every function takes NumPy arrays or torch tensors and returns a Python float.
"""

from __future__ import annotations

import numpy as np


def _np(x) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(x)


def _check_probs(probs: np.ndarray, labels: np.ndarray) -> None:
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape (N, C), got {probs.shape}")
    if labels.shape != (probs.shape[0],):
        raise ValueError(f"labels must have shape ({probs.shape[0]},), got {labels.shape}")
    if len(labels) == 0:
        raise ValueError("no examples")


def accuracy(pred_or_probs, labels) -> float:
    """Top-1 accuracy (sklearn). Accepts class predictions (N,) or scores (N, C)."""
    from sklearn.metrics import accuracy_score

    p, y = _np(pred_or_probs), _np(labels)
    if p.ndim == 2:
        p = p.argmax(1)
    if p.shape != y.shape:
        raise ValueError(f"predictions {p.shape} and labels {y.shape} differ in shape")
    return float(accuracy_score(y, p))


def nll(probs, labels) -> float:
    """Mean negative log-likelihood of the true class (sklearn ``log_loss``)."""
    from sklearn.metrics import log_loss

    p, y = _np(probs).astype(np.float64), _np(labels)
    _check_probs(p, y)
    return float(log_loss(y, p, labels=np.arange(p.shape[1])))


def ece(probs, labels, n_bins: int = 15) -> float:
    """Expected calibration error, top-label, L1, equal-width bins (torchmetrics)."""
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    p, y = _np(probs), _np(labels)
    _check_probs(p, y)
    return float(
        multiclass_calibration_error(
            torch.as_tensor(p, dtype=torch.float64), torch.as_tensor(y, dtype=torch.long),
            num_classes=p.shape[1], n_bins=n_bins, norm="l1",
        )
    )


def brier(probs, labels) -> float:
    """Multi-class Brier score: mean over examples of sum_c (p_c - 1[y=c])^2 (sklearn MSE x C)."""
    from sklearn.metrics import mean_squared_error

    p, y = _np(probs).astype(np.float64), _np(labels)
    _check_probs(p, y)
    onehot = np.eye(p.shape[1])[y]
    return float(mean_squared_error(onehot, p) * p.shape[1])


def auroc(scores, is_positive) -> float:
    """Area under the ROC curve (sklearn)."""
    from sklearn.metrics import roc_auc_score

    s, y = _np(scores), _np(is_positive).astype(int)
    if len(np.unique(y)) < 2:
        raise ValueError("AUROC needs both positive and negative examples")
    return float(roc_auc_score(y, s))


def average_precision(scores, targets) -> float:
    """Average precision of one class (sklearn)."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(_np(targets).astype(int), _np(scores)))


def mean_average_precision(scores, targets) -> float:
    """Mean over classes that have at least one positive of per-class AP. ``(N, C)`` inputs."""
    s, t = _np(scores), _np(targets).astype(int)
    if s.shape != t.shape or s.ndim != 2:
        raise ValueError(f"scores {s.shape} and targets {t.shape} must both be (N, C)")
    keep = t.sum(0) > 0
    if not keep.any():
        raise ValueError("no class has a positive example")
    return float(np.mean([average_precision(s[:, c], t[:, c]) for c in np.flatnonzero(keep)]))


def psnr(pred, target, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio on a fixed range (skimage)."""
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(_np(target).astype(np.float64), _np(pred).astype(np.float64), data_range=data_range))


def ssim(pred, target, data_range: float = 1.0, channel_axis: int | None = None) -> float:
    """Structural similarity on a fixed range (skimage)."""
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(
            _np(target).astype(np.float64), _np(pred).astype(np.float64), data_range=data_range, channel_axis=channel_axis
        )
    )


def harmonic_mean(a: float, b: float) -> float:
    """H = 2ab / (a + b), the base-to-new summary of CoCoOp (scipy.stats.hmean)."""
    from scipy.stats import hmean

    if a < 0 or b < 0:
        raise ValueError(f"harmonic mean needs non-negative values, got {a}, {b}")
    if a == 0 or b == 0:
        return 0.0
    return float(hmean([a, b]))
