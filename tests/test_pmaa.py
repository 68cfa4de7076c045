import numpy as np
import pytest
import torch
from _helpers import no_torchrun, reversed_order, usage_error
from paperlab import pmaa as M
from paperlab.worlds import clouds as C


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two intra-op threads on a loaded 2-core machine are many times slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def x():
    return torch.rand(2, 3, 4, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_shapes_through_every_module(x):
    cfg = M.PMAAConfig(depth=4)
    fe = M.FeatureExtractor(cfg)
    mask, feat, aux = fe(x[:, 0])
    assert mask.shape == (2, 1, 32, 32) and feat.shape == (2, cfg.dim, 32, 32) and aux.shape == (2, 4, 32, 32)
    assert 0 <= mask.min() and mask.max() <= 1
    ae = M.MAMAutoencoder(3 * cfg.dim, cfg.ae_hidden, cfg.dim, cfg)
    feats, g = ae.encode(torch.cat([feat] * 3, 1))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4] and g.shape == (2, cfg.ae_hidden, 4, 4)
    assert ae(torch.cat([feat] * 3, 1)).shape == (2, cfg.dim, 32, 32)
    y, masks, auxs = M.PMAA(cfg)(x)
    assert y.shape == (2, 4, 32, 32) and len(masks) == 3 and len(auxs) == 3 and y.abs().max() <= 1
    assert M.UNet()(x)[0].shape == (2, 4, 32, 32)
    assert M.Gate(8, 5)(torch.rand(1, 8, 8, 8), torch.rand(1, 8, 4, 4)).shape == (1, 8, 8, 8)


def test_decoder_indexing_switch_changes_only_which_levels_feed_the_decoder():
    torch.manual_seed(0)
    fig = M.MAMAutoencoder(16, 16, 16, M.PMAAConfig(decoder="figure", depth=4))
    code = M.MAMAutoencoder(16, 16, 16, M.PMAAConfig(decoder="code", depth=4))
    code.load_state_dict(fig.state_dict())  # same parameters: the switch adds none
    fused = [torch.rand(1, 16, s, s) for s in (32, 16, 8, 4)]
    # code indexing never reads the coarsest level; the figure's decoder does
    bumped = fused[:3] + [fused[3] + 5.0]
    assert torch.equal(code.decode(fused), code.decode(bumped))
    assert not torch.allclose(fig.decode(fused), fig.decode(bumped))
    # both read the finest level
    bumped0 = [fused[0] + 5.0] + fused[1:]
    assert not torch.allclose(code.decode(fused), code.decode(bumped0))


def test_no_global_path_ignores_G(x):
    m = M.MAMAutoencoder(8, 8, 8, M.PMAAConfig(global_path=False, depth=4))
    feats = [torch.rand(1, 8, s, s) for s in (32, 16, 8, 4)]
    a, b = m.fuse(feats, torch.zeros(1, 8, 4, 4)), m.fuse(feats, torch.ones(1, 8, 4, 4))
    assert all(torch.equal(u, v) for u, v in zip(a, b))


def test_flop_counts_stable_and_ordered():
    pm, un = M.build("PMAA-small"), M.build("U-Net (heavy)")
    one = M.build("1 autoencoder")
    a, b1, b2 = M.macs_per_tile(pm), M.macs_per_tile(one), M.macs_per_tile(one)
    assert b1 == b2 > 0  # stable from call to call
    assert b1 < a < M.macs_per_tile(un)
    # a single conv: MACs = H W Cout Cin k^2
    conv = torch.nn.Conv2d(12, 5, 3, padding=1, bias=False)
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        conv(torch.zeros(1, 12, 8, 8))
    assert fc.get_total_flops() / 2 == 8 * 8 * 5 * 12 * 9
    assert M.count_params(un) > 10 * M.count_params(pm)
    parts = M.macs_breakdown(pm)
    assert list(parts) == ["extractor", "stages.0", "stages.1", "stages.2", "head"]
    assert sum(parts.values()) == pytest.approx(a) and min(parts.values()) > 0


def test_metrics_against_skimage():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    d = C.generate(3, 1)
    pred = torch.from_numpy(d["x"][:, 0] * 2 - 1)
    got = M.evaluate(pred, d)
    p = d["x"][:, 0, :3].transpose(0, 2, 3, 1).astype(np.float64)
    y = d["y"][:, :3].transpose(0, 2, 3, 1).astype(np.float64)
    ref = np.mean([peak_signal_noise_ratio(b, a, data_range=1.0) for a, b in zip(p, y)])
    ref_ssim = np.mean([structural_similarity(b, a, data_range=1.0, channel_axis=-1) for a, b in zip(p, y)])
    assert got["psnr"] == pytest.approx(ref, rel=1e-6) and got["ssim"] == pytest.approx(ref_ssim, rel=1e-6)
    perfect = M.evaluate(torch.from_numpy(d["y"] * 2 - 1), d)
    assert perfect["psnr"] == float("inf") or perfect["psnr"] > 80


def test_trivial_baselines():
    x = torch.zeros(2, 3, 4, 8, 8)
    x[:, 1] = 0.5  # date 1 is the darkest after dates 0 and 2 are brightened
    x[:, 0] += 1.0
    x[:, 2] += 0.9
    assert torch.equal(M.least_cloudy_date(x), x[:, 1])
    assert torch.equal(M.median_of_dates(x), x[:, 2])


def test_training_step_lowers_loss():
    d = C.generate(8, 0, C.CloudConfig(size=16))
    _, losses = M.train_one("PMAA-small", 0, M.TrainConfig(n_train=8, batch=4, epochs=3, lr=2e-3), d)
    assert len(losses) == 6 and np.isfinite(losses).all()
    assert np.mean(losses[-2:]) < np.mean(losses[:2])


def test_gan_path_runs():
    d = C.generate(4, 0, C.CloudConfig(size=16))
    _, losses = M.train_one("PMAA-small", 0, M.TrainConfig(n_train=4, batch=4, epochs=1, gan=True), d)
    assert len(losses) == 1 and np.isfinite(losses[0])


def test_bad_input(x):
    m = M.PMAA()
    with pytest.raises(ValueError, match="3 dates"):
        m(x[:, :2])
    with pytest.raises(ValueError, match="4 bands"):
        m(x[:, :, :3])
    with pytest.raises(ValueError, match="divisible"):
        m(x[..., :30, :30])  # depth 3 needs multiples of 4
    bad = x.clone()
    bad[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        m(bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        m(np.zeros((1, 3, 4, 32, 32)))
    with pytest.raises(ValueError, match=r"masks must lie in \[0, 1\]"):
        M.generator_loss(x[:, 0], x[:, 0], [], torch.full((2, 3, 1, 32, 32), 1.5))
    with pytest.raises(ValueError, match="decoder must be"):
        M.PMAAConfig(decoder="unet")
    with pytest.raises(ValueError, match="depth must be"):
        M.PMAAConfig(depth=2)
    with pytest.raises(KeyError, match="unknown variant"):
        M.build("CTGAN")


def test_exercise_checks():
    assert M.check_exercise(1, ...) == "not attempted"
    assert M.check_exercise(1, 32 * 9 * 64) == "correct"
    assert M.check_exercise(2, 16) == "correct"
    assert M.check_exercise(3, "H/16") == "correct" and M.check_exercise(3, "H/8") == "incorrect"
    assert M.check_exercise(4, M.gate_reference) == "correct"
    # plausible wrong answers
    assert M.check_exercise(1, 32 * 9 * 64 * 2) != "correct"  # FLOPs, not MACs
    assert M.check_exercise(1, 32 * 32 * 9 * 64) == "incorrect"  # a dense conv
    assert M.check_exercise(2, 8) == "incorrect" and M.check_exercise(2, 32) == "incorrect"
    assert M.check_exercise(3, "H") == "incorrect"
    up = torch.nn.functional.interpolate
    assert M.check_exercise(4, lambda lo, a, g: lo * up(a, size=lo.shape[-2:]) + up(g, size=lo.shape[-2:])) == "incorrect"
    assert M.check_exercise(4, lambda lo, a, g: lo * torch.sigmoid(up(a, size=lo.shape[-2:]))) == "incorrect"
    with pytest.raises(ValueError, match="1-4"):
        M.check_exercise(9, 0)


def test_method_figure_and_sen2mtc_rows_on_the_format_sample():
    import matplotlib

    matplotlib.use("Agg")
    from paperlab.core.paths import data_dir
    from paperlab.worlds import clouds

    assert len(M.plot_method()) == 2
    matplotlib.pyplot.close("all")
    real = clouds.load_sen2mtc(data_dir() / "samples" / "sen2mtc", "test")
    rows = M.sen2mtc_rows({"median": M.median_of_dates, "PMAA": M.PMAA(M.PMAAConfig()).eval()}, real)
    assert [r["method"] for r in rows] == ["median", "PMAA"] and all(r["tiles"] == len(real["x"]) for r in rows)
    assert all(np.isfinite(r["PSNR (dB)"]) for r in rows)


def test_rgb_and_gate_maps():
    d = C.generate(2, 0, C.CloudConfig(size=16))
    assert M.rgb(d["y"][0]).shape == (16, 16, 3)
    with pytest.raises(ValueError, match="tile"):
        M.rgb(np.zeros((16, 16)))
    maps = M.gate_maps(M.PMAA().eval(), torch.from_numpy(d["x"] * 2 - 1))
    assert [m.shape for m in maps] == [(2, 4, 4)] * 3


def test_head_kernel_switch():
    assert M.PMAA().head.kernel_size == (1, 1)  # the official HEAD (pull request #2 changed 7x7 -> 1x1)
    m7 = M.PMAA(M.PMAAConfig(head_kernel=7))
    assert m7.head.kernel_size == (7, 7) and m7.head.padding == (3, 3)
    y, _, _ = m7(torch.rand(1, 3, 4, 16, 16) * 2 - 1)
    assert y.shape == (1, 4, 16, 16) and y.abs().max() <= 1  # tanh output
    with pytest.raises(ValueError, match="head_kernel"):
        M.PMAAConfig(head_kernel=4)


def test_oracle_selection_copies_the_clearest_date():
    x = torch.stack([torch.full((1, 4, 4, 4), v) for v in (0.1, 0.2, 0.3)], dim=1)  # (1, 3, 4, 4, 4)
    masks = torch.ones(1, 3, 1, 4, 4)
    masks[0, 1, 0, :2] = 0.0  # date 2 is clear in the top half
    masks[0, 2, 0, 2:] = 0.3  # date 3 is the thinnest cloud in the bottom half
    out = M.oracle_selection(x, masks)
    assert torch.allclose(out[0, :, :2], torch.full((4, 2, 4), 0.2))
    assert torch.allclose(out[0, :, 2:], torch.full((4, 2, 4), 0.3))
    with pytest.raises(ValueError, match="masks must be"):
        M.oracle_selection(x, masks[:, :2])


def test_stall_rule_and_per_tile_psnr():
    assert M.stalled(14.3) and not M.stalled(26.5) and not M.stalled(M.STALL_PSNR)
    with pytest.raises(ValueError, match="finite"):
        M.stalled(float("nan"))
    d = C.generate(4, 0, C.CloudConfig(size=16))
    ev = M.evaluate(torch.from_numpy(d["y"] * 2 - 1), d)
    assert ev["psnr_tiles"].shape == (4,) and ev["psnr"] == pytest.approx(ev["psnr_tiles"].mean())
    assert len(M.latency_samples(M.PMAA(), repeats=2)) == 2


def test_local_receptive_field_grows_with_depth_and_stacking():
    # one autoencoder of depth 3, no bottleneck dilation beyond the defaults: the field is finite and
    # smaller than a large input; stacking autoencoders widens it
    one = M.local_receptive_field(M.PMAAConfig(n_ae=1), 128)
    three = M.local_receptive_field(M.PMAAConfig(n_ae=3), 128)
    assert 16 < one < three <= 128
    assert M.local_receptive_field(M.PMAAConfig(), 16) == 16  # the committed model sees the whole 16 px tile


def test_load_model_on_a_wrong_checkpoint_is_a_clear_error():
    good = M.train_all({"PMAA-small": (0,)}, TINY)
    assert isinstance(M.load_model(good, "PMAA-small", 0), M.PMAA)
    with pytest.raises(ValueError, match="not a pmaa checkpoint"):
        M.load_model({"state_dict": {}}, "PMAA-small", 0)
    with pytest.raises(ValueError, match="not a pmaa checkpoint"):
        M.load_model(good["models"]["PMAA-small|0"], "PMAA-small", 0)  # a bare state dict
    with pytest.raises(KeyError, match="no checkpoint for 'U-Net"):
        M.load_model(good, "U-Net (heavy)", 0)
    wrong = {**good, "models": {"U-Net (heavy)|0": good["models"]["PMAA-small|0"]}}
    with pytest.raises(ValueError, match="does not fit the 'U-Net \\(heavy\\)' architecture"):
        M.load_model(wrong, "U-Net (heavy)", 0)
    with pytest.raises(ValueError, match="does not fit PMAAConfig"):
        M.load_model({**good, "base": {**good["base"], "width": 3}}, "PMAA-small", 0)


def test_committed_checkpoint_loads_and_restores():
    ckpt = M.load_or_train_all(retrain=False)  # sha256-verified; never trains here
    assert set(ckpt["models"]) == {f"{n}|{s}" for n, seeds in M.PLAN.items() for s in seeds}
    d = C.generate(16, 2026, C.CloudConfig(size=16))
    x = torch.from_numpy(d["x"] * 2 - 1)
    got = M.evaluate(M.predict(M.load_model(ckpt, "PMAA-small", 0), x), d)
    trivial = M.evaluate(M.predict(M.median_of_dates, x), d)
    # committed eval (notebook, 256 tiles): 28.1 dB vs 10.2 dB for the median of dates
    assert got["psnr"] > trivial["psnr"] + 8 and got["psnr_all_cloudy"] > trivial["psnr_all_cloudy"] + 8
    with pytest.raises(KeyError, match="no checkpoint"):
        M.load_model(ckpt, "PMAA-small", 7)


# ----------------------------------------------------------------- the train command (shared CLI)

TINY = M.TrainConfig(n_train=16, batch=8, epochs=1)


def _same(a: dict, b: dict) -> bool:
    return (list(a["models"]) == list(b["models"])
            and all(torch.equal(a["models"][k][n], b["models"][k][n]) for k in a["models"] for n in a["models"][k])
            and all(torch.equal(a["losses"][k], b["losses"][k]) for k in a["losses"]))


def test_two_worker_processes_give_the_sequential_weights():
    plan = {"PMAA-small": (0, 1)}
    seq = M.train_all(plan, TINY, workers=1)
    assert list(seq["models"]) == ["PMAA-small|0", "PMAA-small|1"]
    assert not torch.equal(seq["losses"]["PMAA-small|0"], seq["losses"]["PMAA-small|1"])  # seeds differ
    # each job regenerates its data and seeds itself: spawned workers and a reversed job order change nothing
    assert _same(seq, M.train_all(plan, TINY, workers=2))

    assert _same(seq, M.train_all(plan, TINY, mapper=reversed_order))
    # the job is the old tuple job with keyword arguments
    key, state, losses, _ = M._train_job(("PMAA-small", 1, TINY))
    assert key == "PMAA-small|1" and torch.equal(losses, seq["losses"][key])
    assert all(torch.equal(state[n], seq["models"][key][n]) for n in state)


def test_train_command_passes_the_shared_cli_layout(monkeypatch, capsys):
    from paperlab.core import cli

    no_torchrun(monkeypatch)
    calls = []

    def fake(retrain=None, workers=2, mapper=None):  # records the call; trains nothing
        calls.append(dict(retrain=retrain, workers=workers, mapper=mapper))
        return {"models": {"a|0": {}}, "wall_s": 1.0}

    monkeypatch.setattr(M, "load_or_train_all", fake)
    M.main(["train", "--profile", "cpu", "--workers", "2", "--threads", "1"])
    (call,) = calls
    assert call["retrain"] is True and call["workers"] == 2
    run = call["mapper"].__self__  # the shared CLI's Run.map spreads the jobs
    assert isinstance(run, cli.Run) and (run.workers, run.profile.name, run.device) == (2, "cpu", "cpu")
    assert "trained 1 models" in capsys.readouterr().out
    assert cli.uses_shared_cli("pmaa")
    M.main(["train", "--profile", "gpu", "--device", "cpu"])  # one size: gpu trains the cpu plan, with a note
    assert len(calls) == 2 and "no gpu size" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--workers", "0"], "positive integer"),
    (["train", "--profile", "smoke"], "one size"),
    (["train", "--profile", "cpu", "--seeds", "3"], "committed plan"),
    (["train", "--profile", "cpu", "--device", "cuda:0"], "CUDA"),  # no GPU here, or: pmaa trains on the CPU
    (["train", "--profile", "cpu", "--parallel", "data"], "invalid choice"),
    (["evaluate"], "invalid choice"),
])
def test_train_command_bad_options_are_clear_errors(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(M, "load_or_train_all", lambda **kw: pytest.fail("must not train"))
    assert message in usage_error(M.main, argv, capsys)


def test_explicit_cuda_device_is_rejected_even_with_a_gpu(monkeypatch, capsys):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(M, "load_or_train_all", lambda **kw: pytest.fail("must not train"))
    with pytest.raises(SystemExit):
        M.main(["train", "--profile", "gpu", "--device", "cuda"])
    assert "CPU only" in capsys.readouterr().err
