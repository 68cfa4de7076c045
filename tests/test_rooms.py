import numpy as np
import pytest
from paperlab.core.paths import repo_root
from paperlab.worlds import rooms as W

SAMPLE = repo_root() / "data" / "samples" / "scannet"


def test_pairs_deterministic_shapes_motion_and_overlap():
    a, b = W.generate(4, seed=3), W.generate(4, seed=3)
    assert a["rgb"].shape == (4, 2, 3, 48, 64) and a["depth"].shape == (4, 2, 1, 48, 64)
    for k in ("rgb", "depth", "T"):
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["rgb"], W.generate(4, seed=4)["rgb"])
    assert a["rgb"].min() >= 0 and a["rgb"].max() <= 1
    from scipy.spatial.transform import Rotation

    ang = np.degrees(Rotation.from_matrix(a["T"][:, :3, :3].astype(np.float64)).magnitude())
    trans = np.linalg.norm(a["T"][:, :3, 3], axis=1)
    assert np.all((ang >= 4.99) & (ang <= 20.01)) and np.all((trans >= 0.099) & (trans <= 0.401))
    assert np.all(a["overlap"] >= 0.4)
    holes = (a["depth"] == 0).mean()
    assert 0.005 < holes < 0.05  # about 2 % holes
    assert list(a["family"]) == [0, 1, 0, 1]


def test_families_differ_as_designed():
    d = W.generate(8, seed=0)
    tex = d["rgb"][d["family"] == 0].std(axis=(3, 4)).mean()
    geo = d["rgb"][d["family"] == 1].std(axis=(3, 4)).mean()
    assert tex > 3 * geo  # the geometric family is nearly uniform in colour
    # ... but has more depth discontinuities (box edges)
    edges = np.abs(np.diff(d["depth"], axis=-1)) > 0.1
    valid = (d["depth"][..., 1:] > 0) & (d["depth"][..., :-1] > 0)
    e = (edges & valid).mean(axis=(1, 2, 3, 4))
    assert e[d["family"] == 1].mean() > 2 * e[d["family"] == 0].mean()


def test_backproject_project_round_trip_and_true_pose_consistency():
    d = W.generate(2, seed=5)
    K = d["K"]
    dep = d["depth"][0, 0, 0]
    X = W.backproject(dep, K)
    uv, z = W.project(X[dep > 0], K)
    v, u = np.nonzero(dep > 0)
    np.testing.assert_allclose(uv, np.stack([u, v], 1), atol=1e-6)
    np.testing.assert_allclose(z, dep[dep > 0], rtol=1e-6)
    assert np.all(X[dep == 0] == 0)
    # the true pose explains view 1: most overlapping points agree in depth; identity does not
    ov_true = W.overlap(d["depth"][0, 0, 0], d["depth"][0, 1, 0], K, d["T"][0])
    ov_id = W.overlap(d["depth"][0, 0, 0], d["depth"][0, 1, 0], K, np.eye(4))
    assert ov_true > 0.4 and ov_true > ov_id + 0.1


def test_bad_input_errors():
    K = W.intrinsics()
    with pytest.raises(ValueError, match="no valid pixel"):
        W.check_rgbd(np.zeros((3, 48, 64)), np.zeros((48, 64)))
    with pytest.raises(ValueError, match="different image sizes"):
        W.check_rgbd(np.zeros((3, 48, 64)), np.ones((40, 64)))
    with pytest.raises(ValueError, match="3x3"):
        W.backproject(np.ones((4, 4)), np.eye(4))
    bad = K.copy()
    bad[0, 0] = -5
    with pytest.raises(ValueError, match="positive focal"):
        W.backproject(np.ones((4, 4)), bad)
    bad = K.copy()
    bad[2] = [0, 1, 1]
    with pytest.raises(ValueError, match="upper triangular"):
        W.check_intrinsics(bad)
    with pytest.raises(ValueError, match="non-finite"):
        W.check_intrinsics(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="unknown scene family"):
        W.generate(2, 0, families=("kitchen",))
    with pytest.raises(ValueError, match="n must be"):
        W.generate(0, 0)


def test_scannet_layout_loader_on_sample():
    pairs = W.scannet_pairs(SAMPLE, "test")
    assert pairs == [("scene0000_00", 0, 20), ("scene0000_00", 20, 40)]
    d = W.load_scannet_pair(SAMPLE, *pairs[0], size=(48, 64))
    assert d["rgb"].shape == (2, 3, 48, 64) and d["depth"].shape == (2, 1, 48, 64)
    assert d["rgb"].max() <= 1 and d["depth"].max() < 10
    # T = inv(P1) @ P0 from the pose files, and K adjusted for crop/resize: the frames are consistent
    base = SAMPLE / "test" / "scans" / "scene0000_00" / "pose"
    T = np.linalg.inv(np.loadtxt(base / "20.txt")) @ np.loadtxt(base / "0.txt")
    np.testing.assert_allclose(d["T"], T, atol=1e-5)
    assert d["overlap"] > 0.5
    assert W.overlap(d["depth"][0, 0], d["depth"][1, 0], d["K"], np.eye(4)) < d["overlap"]


def test_scannet_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="scans"):
        W.scannet_pairs(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        W.load_scannet_pair(tmp_path, "scene9999_00", 0, 20)
