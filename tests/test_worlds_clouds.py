import numpy as np
import pytest
from paperlab.core.paths import repo_root
from paperlab.worlds import clouds as C


def test_shapes_ranges_and_determinism():
    a, b = C.generate(6, 3), C.generate(6, 3)
    assert a["x"].shape == (6, 3, 4, 32, 32) and a["y"].shape == (6, 4, 32, 32)
    assert a["masks"].shape == (6, 3, 1, 32, 32)
    for k in ("x", "y", "masks"):
        np.testing.assert_array_equal(a[k], b[k])
        assert a[k].min() >= 0 and a[k].max() <= 1
    assert not np.array_equal(a["x"], C.generate(6, 4)["x"])


def test_clouds_overlap_sometimes_and_nir_is_high_on_vegetation():
    d = C.generate(64, 0)
    share = C.all_cloudy(d["masks"]).mean()
    assert 0.02 < share < 0.25, share  # some inpainting, but mostly selection
    veg, water = np.isin(d["landcover"], (2, 3)), d["landcover"] == 0
    nir = d["y"][:, 3]
    assert nir[veg].mean() > 3 * nir[water].mean()
    # clouds brighten: cloudy pixels are brighter in the visible bands than the clear target
    m = d["masks"][:, 0, 0] > 0.9
    assert d["x"][:, 0, :3].mean(1)[m].mean() > d["y"][:, :3].mean(1)[m].mean() + 0.2


def test_bad_config_and_n():
    with pytest.raises(ValueError, match="power of two"):
        C.CloudConfig(size=30)
    with pytest.raises(ValueError, match="dates must be 3"):
        C.CloudConfig(dates=2)
    with pytest.raises(ValueError, match="positive int"):
        C.generate(0, 0)


def test_sen2mtc_sample_loads():
    root = repo_root() / "data" / "samples" / "sen2mtc"
    d = C.load_sen2mtc(root, "test")
    assert d["x"].shape == (2, 3, 4, 32, 32) and d["y"].shape == (2, 4, 32, 32)
    ref = C.generate(2, 7)  # the sample was written from seed 7 at 1e-4 precision
    np.testing.assert_allclose(d["y"], ref["y"], atol=1e-4)
    assert C.load_sen2mtc(root, "train", limit=1)["x"].shape[0] == 1


def test_sen2mtc_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        C.load_sen2mtc(tmp_path, "dev")
    with pytest.raises(FileNotFoundError, match="test.txt"):
        C.load_sen2mtc(tmp_path, "test")
