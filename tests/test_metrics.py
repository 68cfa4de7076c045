import numpy as np
import pytest
import torch
from paperlab.core import metrics


def test_accuracy_from_scores_and_predictions():
    y = np.array([0, 1, 2, 1])
    scores = np.eye(3)[[0, 1, 1, 1]]
    assert metrics.accuracy(scores, y) == 0.75
    assert metrics.accuracy(torch.tensor([0, 1, 1, 1]), torch.tensor(y)) == 0.75


def test_nll_known_value():
    p = np.array([[0.5, 0.5], [0.25, 0.75]])
    y = np.array([0, 1])
    assert metrics.nll(p, y) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


def test_ece_perfectly_calibrated_is_zero_and_overconfident_is_not():
    p = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert metrics.ece(p, np.array([0, 1])) == pytest.approx(0.0, abs=1e-9)
    # confidence 0.9 but 50% accuracy -> ECE 0.4
    p = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert metrics.ece(p, np.array([0, 1])) == pytest.approx(0.4, abs=1e-6)


def test_brier_known_value():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert metrics.brier(p, np.array([0, 0])) == pytest.approx((0 + 0.25 + 0.25) / 2)


def test_auroc_and_ap():
    assert metrics.auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    with pytest.raises(ValueError, match="both"):
        metrics.auroc([0.1, 0.2], [1, 1])
    assert metrics.average_precision([0.9, 0.1, 0.8], [1, 0, 1]) == 1.0


def test_map_skips_classes_without_positives():
    s = np.array([[0.9, 0.1, 0.5], [0.1, 0.9, 0.5]])
    t = np.array([[1, 0, 0], [0, 1, 0]])
    assert metrics.mean_average_precision(s, t) == 1.0
    with pytest.raises(ValueError):
        metrics.mean_average_precision(s, t[:, :2])


def test_psnr_ssim_identical_and_noisy():
    rng = np.random.default_rng(0)
    a = rng.random((16, 16))
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    b = np.clip(a + 0.1, 0, 1)
    assert 10 < metrics.psnr(b, a) < 30


def test_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        metrics.nll(np.ones((2, 2)) / 2, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="shape"):
        metrics.accuracy(np.array([0, 1]), np.array([0, 1, 1]))


def test_harmonic_mean():
    assert metrics.harmonic_mean(0.8, 0.6) == pytest.approx(2 * 0.8 * 0.6 / 1.4)
    assert metrics.harmonic_mean(0.0, 0.5) == 0.0
