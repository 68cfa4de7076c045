import numpy as np
import pytest
import torch
from _helpers import no_torchrun, reversed_order, usage_error
from paperlab import pointmbf as M
from paperlab.worlds import rooms
from scipy.spatial.transform import Rotation

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def batch():
    return M.prepare(rooms.generate(4, seed=11))


def _pose(seed, deg=15.0):
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=3)
    R = Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.radians(deg)).as_matrix()
    return R, rng.normal(size=3) * 0.3


def test_procrustes_recovers_known_pose_exactly():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(2, 50, 3))
    Rs, ts = zip(*[_pose(s) for s in (1, 2)])
    Q = np.einsum("bij,bnj->bni", np.stack(Rs), P) + np.stack(ts)[:, None]
    w = torch.as_tensor(rng.uniform(0.1, 1.0, (2, 50)))
    R, t = M.weighted_procrustes(torch.as_tensor(P), torch.as_tensor(Q), w)
    assert R.dtype == torch.float64
    np.testing.assert_allclose(R.numpy(), np.stack(Rs), atol=1e-10)
    np.testing.assert_allclose(t.numpy(), np.stack(ts), atol=1e-10)
    # planar points: the plain SVD solution can be a reflection; the fix returns a rotation
    Pp = P[0].copy()
    Pp[:, 2] = 0
    Qp = Pp @ Rs[0].T + ts[0]
    R1, _ = M.weighted_procrustes(torch.as_tensor(Pp), torch.as_tensor(Qp))
    assert abs(np.linalg.det(R1.numpy()) - 1) < 1e-10
    np.testing.assert_allclose(R1.numpy(), Rs[0], atol=1e-9)


def test_procrustes_weights_enter_squared_like_the_official_code():
    rng = np.random.default_rng(3)
    P = rng.normal(size=(40, 3))
    R0, t0 = _pose(4)
    Q = P @ R0.T + t0 + rng.normal(scale=0.2, size=(40, 3))  # noisy: weighting matters
    w = rng.uniform(0.0, 1.0, 40)
    R, t = M.weighted_procrustes(torch.as_tensor(P), torch.as_tensor(Q), torch.as_tensor(w))
    # scipy's weighted Kabsch on the same centring, with weights w^2 on the centred pairs
    wn = w / (w.sum() + 1e-5)
    mp, mq = (wn[:, None] * P).sum(0) / wn.sum(), (wn[:, None] * Q).sum(0) / wn.sum()
    ref, _ = Rotation.align_vectors(Q - mq, P - mp, weights=wn ** 2)
    np.testing.assert_allclose(R.numpy(), ref.as_matrix(), atol=1e-8)
    np.testing.assert_allclose(t.numpy(), mq - ref.as_matrix() @ mp, atol=1e-8)
    ref_lin, _ = Rotation.align_vectors(Q - mq, P - mp, weights=wn)
    assert not np.allclose(ref_lin.as_matrix(), R.numpy(), atol=1e-6)  # linear weights would differ


def test_procrustes_bad_input():
    line = torch.linspace(0, 1, 10, dtype=torch.float64)[:, None] * torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="collinear"):
        M.weighted_procrustes(line, line + 1)
    with pytest.raises(ValueError, match="collinear"):
        M.weighted_procrustes(torch.ones(5, 3), torch.ones(5, 3))
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        M.weighted_procrustes(torch.ones(5, 2), torch.ones(5, 2))
    with pytest.raises(ValueError, match="at least 3"):
        M.weighted_procrustes(torch.randn(2, 3), torch.randn(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        M.weighted_procrustes(torch.randn(6, 3), torch.randn(6, 3), -torch.ones(6))


def test_randomized_procrustes_keeps_the_best_subset():
    rng = np.random.default_rng(5)
    R0, t0 = _pose(6)
    P = rng.normal(size=(1, 200, 3))
    Q = P @ R0.T + t0
    Q[0, :60] += rng.normal(scale=1.0, size=(60, 3))  # 30 % gross outliers
    w = torch.ones(1, 200)
    w[0, :60] = 0.05
    g = torch.Generator().manual_seed(0)
    R, t, loss = M.randomized_procrustes(torch.as_tensor(P).float(), torch.as_tensor(Q).float(), w, 10, 0.2, g)
    assert M.rotation_error_deg(R.numpy(), R0[None])[0] < 2.0
    assert loss.shape == (1,) and torch.isfinite(loss).all()


def test_fusion_neighbourhoods_match_brute_force(batch):
    g = M.GeomConfig()
    geo = {k: v[0, 0].numpy() for k, v in batch.items() if k not in ("rgb", "depth", "K", "T", "family")}
    depth = batch["depth"][0, 0, 0].numpy().astype(np.float64)
    X = rooms.backproject(depth, batch["K"].numpy())
    for lvl in range(3):
        st = 2 ** lvl
        px = X[::st, ::st].reshape(-1, 3)
        pxv = depth[::st, ::st].reshape(-1) > 0
        pts, valid = geo[f"pts{lvl}"].astype(np.float64), geo[f"valid{lvl}"]
        r = g.radius[lvl]
        D = np.linalg.norm(px[:, None] - pts[None], axis=-1)
        D[:, ~valid] = np.inf
        D[~pxv] = np.inf
        # P2I: nearest valid point within r, else the dummy index
        best = D.argmin(1)
        want = np.where(D.min(1) <= r, best, len(pts))
        got = geo[f"p2i{lvl}"]
        tie = np.isclose(D[np.arange(len(px)), np.minimum(got, len(pts) - 1)], D.min(1))
        assert np.all((got == want) | ((got < len(pts)) & tie))
        # I2P: the (up to) 16 nearest valid pixels within r of each valid point
        for i in np.flatnonzero(valid)[::7]:
            d = D[:, i]
            inside = np.flatnonzero(d <= r)
            got_i = geo[f"i2p{lvl}"][i]
            got_i = got_i[got_i < len(px)]
            assert len(got_i) == min(16, len(inside))
            assert set(got_i) <= set(inside)
            if len(inside) > 16:  # the kept ones are the nearest
                assert d[got_i].max() <= np.sort(d[inside])[15] + 1e-9


def test_fusion_is_simultaneous_and_zero_for_missing():
    torch.manual_seed(0)
    fu = M.Fusion(4, 6, p2i=True, i2p=True).eval()
    fi, fp = torch.randn(1, 4, 2, 3), torch.randn(1, 5, 6)
    p2i = torch.tensor([[0, 1, 5, 5, 2, 3]])  # 5 = no point within r
    i2p = torch.tensor([[[0, 1], [6, 6], [2, 3], [4, 5], [6, 6]]])  # 6 = no pixel
    ni, np_ = fu(fi, fp, p2i, i2p)
    only_i2p = M.Fusion(4, 6, p2i=False, i2p=True).eval()
    only_i2p.load_state_dict({k: v for k, v in fu.state_dict().items() if not k.startswith(("psi.", "phi."))})
    _, np2 = only_i2p(fi, fp, p2i, i2p)
    torch.testing.assert_close(np_, np2)  # I2P read the pre-fusion image features
    # point 1 saw no pixel: its pooled feature is the zero vector
    pooled = torch.zeros(1, 4)
    want = fp[0, 1] + fu.phi_p(torch.cat([fp[0, 1:2], fu.psi_p(pooled)], -1))[0]
    torch.testing.assert_close(np_[0, 1], want)


def test_correspondences_recover_a_permutation_and_mask_invalid():
    torch.manual_seed(0)
    F0 = torch.nn.functional.normalize(torch.randn(1, 30, 8), dim=-1)
    perm = torch.randperm(30)
    F1 = F0[:, perm]
    valid = torch.ones(1, 30, dtype=torch.bool)
    i0, i1, w = M.correspondences(F0, F1, valid, valid, 10)
    assert torch.equal(perm[i1[0]], i0[0]) and torch.all(w > 0.99)
    v0 = valid.clone()
    v0[0, :15] = False
    i0, i1, w = M.correspondences(F0, F1, v0, valid, 20)
    assert torch.all(w[i0 < 15] == 0)
    with pytest.raises(ValueError, match="only 30 pixels"):
        M.correspondences(F0, F1, valid, valid, 31)


def test_warp_loss_is_minimal_at_the_true_pose(batch):
    T = batch["T"]
    R, t = T[:, :3, :3], T[:, :3, 3]
    ph, dp = M.warp_loss(batch, R, t)
    base = ph + dp
    for s in range(6):
        dR = torch.as_tensor(Rotation.from_rotvec(np.random.default_rng(s).normal(size=3) * 0.035).as_matrix()).float()
        dt = torch.as_tensor(np.random.default_rng(10 + s).normal(size=3) * 0.05).float()
        ph2, dp2 = M.warp_loss(batch, dR @ R, t + dt)
        assert torch.all(ph2 + dp2 > base)
    # gradients reach the pose through grid_sample
    Rg, tg = R.clone().requires_grad_(), (t + 0.03).requires_grad_()
    sum(M.warp_loss(batch, Rg, tg)).sum().backward()
    assert tg.grad.abs().sum() > 0


def test_all_variants_forward_and_unsupervised_loss_backprops(batch):
    b = M.take(batch, slice(0, 2))
    for name in M.ALL_NAMES:
        model = M.build(name)
        out = M.register(model, b)
        assert out["R"].shape == (2, 3, 3) and out["w"].shape == (2, 200)
        loss, parts = (M.supervised_loss if name == M.ORACLE else M.unsupervised_loss)(model, b)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        if name == "bidirectional (PointMBF)":  # both branches learn from the pose-only loss
            assert model.inconv[0].weight.grad.abs().sum() > 0
            assert model.p_pre[0].mlp[0].weight.grad.abs().sum() > 0
    with pytest.raises(KeyError, match="unknown variant"):
        M.build("RANSAC")
    with pytest.raises(ValueError, match="stages"):
        M.PointMBFNet(M.ModelConfig(stages=("enc9",)))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        M.build("rgb-only")(torch.zeros(1, 4, 48, 64), {})


def test_bad_rgbd_inputs():
    d = rooms.generate(1, seed=2)
    with pytest.raises(ValueError, match="no valid pixel"):
        M.view_geometry(np.zeros((48, 64)), d["K"])
    bad = dict(d)
    bad["depth"] = d["depth"][..., :40, :]
    with pytest.raises(ValueError, match="does not match rgb"):
        M.prepare(bad)
    bad = dict(d)
    bad["K"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="positive focal"):
        M.prepare(bad)


def test_metrics_use_library_routines():
    R0, _ = _pose(1, deg=7.0)
    assert M.rotation_error_deg(R0[None], np.eye(3)[None])[0] == pytest.approx(7.0, abs=1e-6)
    a = np.random.default_rng(0).normal(size=(50, 3))
    assert M.chamfer(a, a) == 0.0
    assert M.chamfer(a, a + [0.1, 0, 0]) == pytest.approx(0.02, abs=0.02)
    res = {"rot": np.array([1.0, 3.0, 20.0]), "trans": np.array([1.0, 6.0, 30.0]),
           "chamfer": np.array([0.5, 2.0, 50.0]), "inlier": np.array([0.5, 0.2, 0.0])}
    s = M.summarize(res)
    assert s["rot@2"] == pytest.approx(100 / 3) and s["rot@5"] == pytest.approx(200 / 3)
    assert s["trans med"] == 6.0 and s["chamfer@1"] == pytest.approx(100 / 3)


def test_committed_checkpoint_loads_and_matches_a_fresh_model():
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    if M.CKPT not in assets.load_registry():
        pytest.skip("data/pointmbf/variants.pt is not registered in this checkout")
    ckpt = load_checkpoint(assets.path(M.CKPT))  # sha256-verified
    assert set(ckpt["models"]) == {f"{n}|{s}" for n in M.ALL_NAMES for s in (0, 1, 2)}
    n_logged = len(ckpt["loss"][f"{M.ORACLE}|0"])  # steps with a non-finite gradient are skipped, not logged
    assert 0 < n_logged <= ckpt["train_cfg"]["steps"]
    # a reduced retrain (2 steps) produces exactly the committed architecture and finite metrics
    data = M.prepare(rooms.generate(4, seed=99))
    from dataclasses import replace

    fresh, hist = M.train_variant("bidirectional (PointMBF)", 0, data, replace(M.TrainConfig(), steps=2, batch=2))
    committed = M.load_model(ckpt, "bidirectional (PointMBF)", 0)
    assert {k: v.shape for k, v in fresh.state_dict().items()} == {k: v.shape for k, v in committed.state_dict().items()}
    s = M.summarize(M.evaluate(committed, data))
    assert all(np.isfinite(v) for v in s.values())
    with pytest.raises(KeyError, match="no model"):
        M.load_model(ckpt, "bidirectional (PointMBF)", 7)


def test_corrupted_checkpoint_is_a_clear_error(tmp_path):
    from paperlab.core.train import load_checkpoint

    bad = tmp_path / "variants.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(RuntimeError, match="corrupted"):
        load_checkpoint(bad)


# ----------------------------------------------------------------------------- the train command (shared CLI)

TINY = M.TrainConfig(steps=2, batch=2, n_train=6)


def _same(a: dict, b: dict) -> bool:
    return (list(a["models"]) == list(b["models"]) and a["loss"] == b["loss"]
            and all(torch.equal(a["models"][k][n], b["models"][k][n]) for k in a["models"] for n in a["models"][k]))


def test_two_worker_processes_give_the_sequential_weights(tmp_path):
    names = ["geometry-only", M.ORACLE]
    cache = str(tmp_path / "pairs.pt")
    seq = M.train_all(names, (0, 1), TINY, log_every=0, cache=cache)
    assert list(seq["models"]) == ["geometry-only|0", "geometry-only|1", f"{M.ORACLE}|0", f"{M.ORACLE}|1"]
    assert seq["loss"]["geometry-only|0"] != seq["loss"]["geometry-only|1"]  # the seeds differ
    # spawned workers (the pairs sent once per worker, read back from the cache here) change nothing
    assert _same(seq, M.train_all(names, (0, 1), TINY, log_every=0, cache=cache, workers=2))

    assert _same(seq, M.train_all(names, (0, 1), TINY, log_every=0, cache=cache, mapper=reversed_order))
    with pytest.raises(ValueError, match="holds 6 pairs"):
        M.train_all(names, (0,), M.TrainConfig(steps=1, n_train=7), cache=cache)


def test_train_command_passes_the_shared_cli_layout(monkeypatch, tmp_path, capsys):
    from paperlab.core import cli

    no_torchrun(monkeypatch)
    calls = []

    def fake(names, seeds, cfg, cache=None, mapper=None):  # records the call; trains nothing
        calls.append(dict(names=names, seeds=seeds, cfg=cfg, mapper=mapper))
        return {"models": {}, "loss": {}, "wall_s": 1.0, "job_s": 2.0}

    monkeypatch.setattr(M, "train_all", fake)
    out = tmp_path / "part.pt"
    M.main(["train", "--profile", "cpu", "--workers", "2", "--seeds", "2", "--steps", "5",
            "--variants", "rgb-only", M.ORACLE, "--out", str(out)])
    (call,) = calls
    assert call["names"] == ["rgb-only", M.ORACLE] and call["seeds"] == (2,) and call["cfg"].steps == 5
    run = call["mapper"].__self__  # the shared CLI's Run.map spreads the (variant, seed) runs
    assert isinstance(run, cli.Run) and (run.workers, run.profile.name, run.device) == (2, "cpu", "cpu")
    assert out.exists() and f"wrote {out}" in capsys.readouterr().out
    assert cli.uses_shared_cli("pointmbf")


@pytest.mark.parametrize("argv, message", [
    (["train", "--workers", "0"], "positive integer"),
    (["train", "--profile", "smoke"], "one size"),
    (["train", "--profile", "cpu", "--steps", "0"], "positive integer"),
    (["train", "--profile", "cpu", "--variants", "rgb only"], "invalid choice"),
    (["train", "--profile", "cpu", "--device", "cuda:0"], "CUDA"),
    (["train", "--profile", "cpu", "--parallel", "data"], "invalid choice"),
    (["merge"], "invalid choice"),
])
def test_train_command_bad_options_are_clear_errors(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(M, "train_all", lambda *a, **kw: pytest.fail("must not train"))
    assert message in usage_error(M.main, argv, capsys)


def test_rotation_error_rejects_mismatched_batches():
    import numpy as np
    from paperlab import pointmbf as M

    with pytest.raises(ValueError, match="no broadcasting"):
        M.rotation_error_deg(np.eye(3), np.repeat(np.eye(3)[None], 2, 0))
    with pytest.raises(ValueError, match="shape"):
        M.rotation_error_deg(np.eye(4), np.eye(4))
    assert M.rotation_error_deg(np.eye(3), np.eye(3)).shape == (1,)


def test_stage1_trains_any_variant_with_the_supervised_loss(batch):
    cfg = M.TrainConfig(steps=2, batch=2)
    _, h_sup = M.train_variant("rgb-only", 0, batch, cfg, supervised=True)
    _, h_uns = M.train_variant("rgb-only", 0, batch, cfg)
    assert h_sup and all("gt_corr" in r for r in h_sup)  # the weighted residual under the true pose
    assert h_uns and all("photo" in r and "gt_corr" not in r for r in h_uns)
    assert set(M.STAGE1) <= set(M.VARIANTS)


def test_train_command_supervised_stage(monkeypatch, tmp_path):
    no_torchrun(monkeypatch)
    calls = []

    def fake(names, seeds, cfg, cache=None, mapper=None, supervised=False):
        calls.append(dict(names=names, cfg=cfg, supervised=supervised))
        return {"models": {}, "loss": {}, "wall_s": 1.0, "job_s": 2.0}

    monkeypatch.setattr(M, "train_all", fake)
    M.main(["train", "--profile", "cpu", "--supervised", "--seeds", "0", "--out", str(tmp_path / "s.pt")])
    M.main(["train", "--profile", "cpu", "--seeds", "0", "--out", str(tmp_path / "u.pt")])
    assert calls[0]["supervised"] and calls[0]["names"] is None and calls[0]["cfg"].steps == M.SUP_STEPS
    assert not calls[1]["supervised"] and calls[1]["cfg"].steps == M.TrainConfig.steps


# ----------------------------------------------------------------------------- exercises (issue 23)
def test_check_exercise_1_and_2_values():
    from scipy.spatial.transform import Rotation

    R = Rotation.from_rotvec([0.05, 0.12, -0.08]).as_matrix()
    right = float(np.degrees(np.arccos((np.trace(R) - 1) / 2)))
    assert M.check_exercise(1, right, R=R) == "correct"
    for wrong in (np.radians(right), float(np.degrees(np.arccos(np.trace(R) / 3))), right * 2):
        assert M.check_exercise(1, wrong, R=R) != "correct"
    assert M.check_exercise(1, ..., R=R) == "not attempted"
    sims = [(0.9, 0.8), (0.9, 0.2)]
    assert M.check_exercise(2, [1 - 0.1 / 0.2, 1 - 0.1 / 0.8], sims=sims) == "correct"
    for wrong in ([1 - 0.1 / 0.8, 1 - 0.1 / 0.2], [0.8 / 0.9, 0.2 / 0.9], [0.1 / 0.2, 0.1 / 0.8]):
        assert M.check_exercise(2, wrong, sims=sims) != "correct"
    assert M.check_exercise(2, ..., sims=sims) == "not attempted"


def test_check_exercise_3_function():
    assert M.check_exercise(3, lambda w: (w / w.sum()) ** 2) == "correct"
    assert M.check_exercise(3, lambda w: w ** 2) == "correct"  # a positive multiple gives the same rotation
    for wrong in (lambda w: w, lambda w: w / w.sum(), lambda w: np.sqrt(w)):
        assert M.check_exercise(3, wrong) != "correct"

    def stub(w):
        ...

    assert M.check_exercise(3, stub) == "not attempted"
    assert M.check_exercise(3, ...) == "not attempted"
    assert M.check_exercise(3, 2.0) == "incorrect"


def test_check_exercise_4_and_5():
    from paperlab.worlds import rooms

    assert M.check_exercise(4, "rgb-only") == "correct"
    assert M.check_exercise(4, "geometry-only") == "incorrect"
    assert M.check_exercise(4, "both") == "incorrect"
    assert M.check_exercise(4, ...) == "not attempted"
    pair = rooms.generate(1, seed=2026)
    g = M.view_geometry(pair["depth"][0, 0], pair["K"])
    right = int(g["p2i0"][500])
    assert M.check_exercise(5, right, geometry=g, u=500) == "correct"
    d = np.linalg.norm(g["pts0"] - g["pix"][500], axis=1)
    wrong_any = int(np.argmin(d)) if not g["valid0"][int(np.argmin(d))] else int(np.argsort(d)[1])  # a different point
    for wrong in {wrong_any, len(g["pts0"]) if right != len(g["pts0"]) else 0, 500} - {right}:
        assert M.check_exercise(5, wrong, geometry=g, u=500) == "incorrect"
    assert M.check_exercise(5, ..., geometry=g, u=500) == "not attempted"
    with pytest.raises(ValueError, match="1-5"):
        M.check_exercise(0, 1)


def test_committed_eval_is_keyed_on_its_test_set():
    assert M.load_eval(255, [0, 1, 2]) is None  # other test pairs: the notebook evaluates instead
    assert M.load_eval(256, [0]) is None
    ev = M.load_eval(256, [0, 1, 2])
    assert ev is not None and len(ev) == 3 * (len(M.ALL_NAMES) + len(M.STAGE1))
    assert all(v["rot"].shape == (256,) for v in ev.values())
