"""paperlab.coop: CoOp / CoCoOp shapes, frozen towers, batched == looped CoCoOp, save/load, bad input."""

import logging

import pytest
import torch
import torch.nn.functional as F
from _helpers import no_torchrun, usage_error
from paperlab import clip as pclip
from paperlab import coop
from paperlab.core.train import load_checkpoint, save_checkpoint
from torch.testing import assert_close

NAMES = ["red circle", "blue square", "green triangle", "pink star"]


@pytest.fixture(scope="module")
def micro():
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns that no pretrained weights are loaded
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and robust on a shared machine
    torch.manual_seed(0)
    model, _ = pclip.create_model()
    yield model.eval(), pclip.tokenizer()
    torch.set_num_threads(threads)


def _feats(n, dim=None, seed=0, k=len(NAMES)):
    dim = dim or pclip.model_config()["embed_dim"]
    g = torch.Generator().manual_seed(seed)
    return coop.Features(F.normalize(torch.randn(n, dim, generator=g), dim=-1),
                         torch.randint(0, k, (n,), generator=g), NAMES[:k])


def test_coop_and_cocoop_shapes(micro):
    model, tok = micro
    images = torch.rand(5, 3, 32, 32)
    assert coop.CoOp(model, tok, NAMES, n_ctx=4)(images).shape == (5, 4)
    cc = coop.CoCoOp(model, tok, NAMES, ctx_init="a photo of a")
    assert cc(images).shape == (5, 4) and cc.forward_looped(images).shape == (5, 4)
    L, D = model.positional_embedding.shape
    assert cc.prompt_learner(cc.image_features(images)).shape == (5, 4, L, D)


def test_meta_net_uses_the_official_ratio(micro):
    model, tok = micro
    cc = coop.CoCoOp(model, tok, NAMES, n_ctx=4)
    vis_dim, ctx_dim = model.visual.output_dim, model.positional_embedding.shape[1]
    assert cc.prompt_learner.meta_net.linear1.out_features == vis_dim // 16
    assert cc.prompt_learner.meta_net.linear2.out_features == ctx_dim  # ctx_dim = text width
    assert coop.MetaNet(64, 96, hidden=8).linear1.out_features == 8
    with pytest.raises(ValueError, match="hidden width"):
        coop.MetaNet(8, 96, ratio=16)


def test_batched_cocoop_equals_the_official_loop(micro):
    model, tok = micro
    torch.manual_seed(1)
    cc = coop.CoCoOp(model, tok, NAMES, n_ctx=4)
    z, y = _feats(6).z, _feats(6).labels
    batched, looped = cc.logits_from_features(z), cc.logits_from_features_looped(z)
    assert_close(batched, looped, rtol=1e-5, atol=1e-5)
    g_b = torch.autograd.grad(F.cross_entropy(batched, y), list(cc.prompt_learner.parameters()))
    g_l = torch.autograd.grad(F.cross_entropy(looped, y), list(cc.prompt_learner.parameters()))
    for a, b in zip(g_b, g_l):
        assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_frozen_towers_get_no_gradient(micro):
    model, tok = micro
    for m in (coop.CoOp(model, tok, NAMES, n_ctx=4), coop.CoCoOp(model, tok, NAMES, n_ctx=4)):
        m.train()
        F.cross_entropy(m(torch.rand(3, 3, 32, 32)), torch.tensor([0, 1, 2])).backward()
        assert all(p.grad is None for p in m.clip.parameters())
        assert m.prompt_learner.ctx.grad is not None and m.prompt_learner.ctx.grad.abs().sum() > 0
        assert not m.clip.training  # the frozen CLIP stays in eval mode
        m.prompt_learner.zero_grad()


def test_training_lowers_the_loss(micro):
    model, tok = micro
    feats = _feats(32)
    m = coop.CoOp(model, tok, NAMES, n_ctx=2)
    hist = coop.train_prompts(m, feats, epochs=4, batch_size=16, lr=0.5, warmup_epochs=0, progress=False)
    assert hist.steps == 8 and hist.train_loss[-1] < hist.train_loss[0]


def test_save_load_learned_prompt_and_evaluate_on_new_classes(micro, tmp_path):
    model, tok = micro
    torch.manual_seed(2)
    m = coop.CoCoOp(model, tok, NAMES[:2], n_ctx=4)
    path = save_checkpoint({"prompt": m.trainable_state_dict()}, tmp_path / "p.pt")
    state = load_checkpoint(path)["prompt"]  # weights_only=True
    assert set(state) == {"ctx", "meta_net.linear1.weight", "meta_net.linear1.bias",
                          "meta_net.linear2.weight", "meta_net.linear2.bias"}
    m2 = coop.CoCoOp(model, tok, NAMES[2:], n_ctx=4)  # new classes: only the class buffers differ
    m2.load_trainable_state_dict(state)
    z = _feats(3).z
    m.set_classnames(NAMES[2:])
    assert_close(m.logits_from_features(z), m2.logits_from_features(z))


def test_class_specific_context_cannot_evaluate_new_classes(micro):
    model, tok = micro
    m = coop.CoOp(model, tok, NAMES[:2], n_ctx=4, csc=True)
    with pytest.raises(ValueError, match="class-specific"):
        coop.accuracy(m, _feats(4, k=4))


def test_bad_inputs(micro):
    model, tok = micro
    m = coop.CoOp(model, tok, NAMES, n_ctx=4)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        m(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="32x32"):
        m(torch.rand(2, 3, 64, 64))
    with pytest.raises(ValueError, match="image features"):
        m.logits_from_features(torch.rand(2, 10))
    with pytest.raises(ValueError, match="would truncate"):
        coop.CoOp(model, tok, ["a really quite long name " * 3], n_ctx=16)
    with pytest.raises(ValueError, match="n_ctx"):
        coop.CoCoOp(model, tok, NAMES, n_ctx=31)
    with pytest.raises(ValueError, match="template"):
        coop.hand_prompt_weights(model, tok, NAMES, template="a photo")
    with pytest.raises(ValueError, match="unified context"):
        coop.nearest_words(torch.zeros(2, 3, 8), model, tok)


def test_hand_prompt_and_nearest_words(micro):
    model, tok = micro
    w = coop.hand_prompt_weights(model, tok, NAMES)
    m = coop.CoOp(model, tok, NAMES, ctx_init="a photo of a")
    z = _feats(3).z
    assert_close(m.logits_from_features(z), coop.zero_shot_logits(model, z, w), rtol=1e-4, atol=1e-4)
    words = coop.nearest_words(m.prompt_learner.ctx, model, tok, vocab=["a", "photo", "of", "red"], k=1)
    assert [w[0][0] for w in words] == ["a", "photo", "of", "a"] and words[0][0][1] == pytest.approx(0, abs=1e-5)


def test_schedule_is_constant_warmup_then_cosine():
    f = coop.cosine_warmup_lambda(total_steps=10, warmup_steps=1, base_lr=0.002)
    assert f(0) == pytest.approx(1e-5 / 0.002) and f(1) == pytest.approx(1.0) and f(10) == pytest.approx(0.0)


def test_bench_runs_and_reports_both(micro):
    model, tok = micro
    rows = coop.bench(batch_sizes=(2,), n_classes=(3,), repeats=1, clip_model=model, tokenizer=tok, progress=False)
    assert len(rows) == 1 and rows[0]["looped_s"] > 0 and rows[0]["batched_s"] > 0


def test_exercise_checks_accept_the_answer_reject_plausible_wrong_ones_and_flag_blanks(capsys):
    ce = coop.check_exercise
    for n in (1, 2, 4, 5):
        assert ce(n, ..., D=64) == "not attempted"
    assert ce(3, (..., ...)) == "not attempted"
    assert "hint" not in capsys.readouterr().out  # no hint before an attempt
    # 1: M * D with M = 4
    assert ce(1, 4 * 64, D=64) == "correct"
    assert ce(1, 64, D=64) == "incorrect" and ce(1, 16 * 64, D=64) == "incorrect"
    # 2: H of CoOp's base with zero-shot's new (the answer is in no printed table: 75.83 and 71.66 are wrong)
    assert ce(2, 78.22) == "correct"
    assert ce(2, 75.83) != "correct" and ce(2, 71.66) == "incorrect" and ce(2, (82.69 + 74.22) / 2) != "correct"
    assert ce(2, (82.69 + 74.22) / 2) == "close"  # the arithmetic mean is near but not H
    # 3: (B * K, K)
    assert ce(3, (512, 16)) == "correct" and ce(3, [512, 16]) == "correct"
    assert ce(3, (16, 16)) == "incorrect" and ce(3, (512, 512)) == "incorrect" and ce(3, (32, 16)) == "incorrect"
    # 4: broadcasting the shift; transposed output, product and a forgotten pi are wrong
    assert ce(4, lambda c, p: c[None] + p[:, None]) == "correct"
    assert ce(4, lambda c, p: c + p.unsqueeze(1)) == "correct"
    assert ce(4, lambda c, p: c.unsqueeze(1) + p.unsqueeze(0)) == "incorrect"
    assert ce(4, lambda c, p: c.unsqueeze(0) * p.unsqueeze(1)) == "incorrect"
    assert ce(4, lambda c, p: c.unsqueeze(0).expand(len(p), -1, -1)) == "incorrect"

    def blank_fn(ctx, pi):
        raise NotImplementedError

    assert ce(4, blank_fn) == "not attempted"
    # 5: a
    assert ce(5, "a") == "correct" and ce(5, "b") == "incorrect" and ce(5, "c") == "incorrect"
    with pytest.raises(ValueError, match="1-5"):
        ce(6, 1)


def test_check_exercise_1_reads_D_from_the_model(micro):
    model, _ = micro
    D = model.positional_embedding.shape[1]
    assert coop.check_exercise(1, 4 * D, clip_model=model) == "correct"


def test_scaled_shift_is_cocoop_at_one_and_plain_context_at_zero(micro):
    model, tok = micro
    torch.manual_seed(0)
    cc = coop.CoCoOp(model, tok, NAMES, ctx_init="a photo of a").eval()
    f = _feats(5)
    with torch.no_grad():
        assert_close(coop.scaled_shift(cc, f.z, 1.0)["probs"], cc.logits_from_features(f.z).softmax(-1),
                     rtol=1e-5, atol=1e-5)
        co = coop.CoOp(model, tok, NAMES, ctx_init="a photo of a").eval()
        co.prompt_learner.ctx.copy_(cc.prompt_learner.ctx)
        assert_close(coop.scaled_shift(cc, f.z, 0.0)["probs"], co.logits_from_features(f.z).softmax(-1),
                     rtol=1e-5, atol=1e-5)
    out = coop.scaled_shift(cc, f.z, 2.0)
    assert out["pi"].shape == (5, cc.prompt_learner.ctx.shape[1]) and out["probs"].shape == (5, 4)
    origin, basis = coop.shift_plane(cc, f.z)
    assert basis.shape == (origin.shape[0], 2)
    assert_close(basis.T @ basis, torch.eye(2), rtol=1e-4, atol=1e-4)  # orthonormal view
    e = coop.shift_effect(cc, f)
    assert 0 <= e["changed"] <= 1 and e["|mean pi|"] > 0 and e["image part"] >= 0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close(coop.plot_shift(cc, f, index=99, scale=1.5))  # an index past the end is clamped
    plt.close(coop.method_figure())
    with pytest.raises(TypeError, match="CoCoOp"):
        coop.scaled_shift(coop.CoOp(model, tok, NAMES, n_ctx=4), f.z)


def test_a_failed_dataset_download_names_the_dataset_and_how_to_provide_it(tmp_path, monkeypatch):
    from urllib.error import URLError

    import torchvision.datasets.eurosat as tv_eurosat

    def offline(*a, **kw):
        raise URLError("no network")

    monkeypatch.setattr(tv_eurosat, "download_and_extract_archive", offline)
    monkeypatch.setattr(tv_eurosat, "download_url", offline, raising=False)
    with pytest.raises(RuntimeError, match="could not download eurosat") as info:
        coop.run_real("eurosat", tmp_path / "eurosat_root", backbone="micro", download=True, progress=False)
    assert "eurosat/2750" in str(info.value) and isinstance(info.value.__cause__, URLError)
    with pytest.raises(FileNotFoundError):  # without download: the loader's own missing-files error
        coop.run_real("eurosat", tmp_path, backbone="micro", download=False, progress=False)


def test_dataset_specs_and_summary():
    assert coop.dataset("texture:noisy").style == "noisy" and coop.dataset("texture").style == "photo"
    with pytest.raises(ValueError, match="style"):
        coop.dataset("texture:watercolor")
    rows = [dict(dataset=d, seed=0, method="coop", split=s, acc=a)
            for d, s, a in [("texture", "base", 0.8), ("texture", "new", 0.4), ("texture", "sketch", 0.5),
                            ("texture:noisy", "base", 0.6), ("texture:noisy", "new", 0.6)]]
    row = coop.summarize(rows).iloc[0]
    assert row["base"] == pytest.approx(70) and row["new"] == pytest.approx(50)
    assert row["H"] == pytest.approx(2 * 70 * 50 / 120) and row["photo base"] == pytest.approx(80)
    assert row["sketch"] == pytest.approx(50)


def test_run_real_end_to_end_on_the_eurosat_sample():
    """The gpu profile's path (real files -> CLIP features -> CoOp/CoCoOp base-to-new), with the micro-CLIP
    standing in for ViT-B-32 (which cannot be downloaded here) on the tiny EuroSAT-layout sample."""
    from paperlab.core.paths import data_dir

    cfg = dict(coop.REAL_CONFIG, seeds=(0,), coop=dict(epochs=2, batch_size=4, lr=0.002),
               cocoop=dict(epochs=1, batch_size=2, lr=0.002))
    rows = coop.run_real("eurosat", data_dir() / "samples" / "eurosat", backbone="micro", cfg=cfg, progress=False)
    table = coop.summarize(rows)
    assert set(table.method) == {"zero-shot", "coop", "cocoop"}
    assert all(0.0 <= v <= 100.0 for v in table[["base", "new", "H"]].to_numpy().ravel())
    assert len(rows) == 2 * 1 + 2 * 2  # zero-shot base/new + (coop, cocoop) x (base, new)


# ----------------------------------------------------------------- the command line (shared CLI) and train_all's mapper

TINY = dict(coop.CPU_CONFIG, datasets=("shape", "color:sketch"), b2n_datasets=("color:sketch",), dg_datasets=("shape",),
            seeds=(0, 1), few_shots=(1, 2), shots=2, coop=dict(epochs=2, batch_size=4, lr=0.002),
            coop16=dict(epochs=2, batch_size=4, lr=0.002), cocoop=dict(epochs=1, batch_size=2, lr=0.002),
            few_shot_epochs={1: 1, 2: 2}, overrides={})


def _same_prompts(a: dict, b: dict) -> bool:
    return (list(a["runs"]) == list(b["runs"]) and a["loss"] == b["loss"]
            and all(torch.equal(a["runs"][k][n], b["runs"][k][n]) for k in a["runs"] for n in a["runs"][k]))


def test_train_all_mapper_gives_the_sequential_prompts():
    """The CLI's --workers path (train_job through a mapper) == the committed sequential loop, bit for bit,
    in any job order and on a pickled copy of the backbone (what a spawned worker gets)."""
    import pickle

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model, _ = pclip.create_model()  # its own copy: train_all freezes the towers it is given
        model, tok = model.eval(), pclip.tokenizer()

        def fresh():  # the state a loaded backbone starts in (nothing frozen yet)
            for p in model.parameters():
                p.requires_grad_(True)

        seq = coop.train_all(model, tok, TINY, progress=False)
        # datasets x seeds x (coop, coop16, cocoop at k2) + the b2n dataset x seeds x the curve's k1
        assert len(seq["runs"]) == 2 * 2 * 3 + 1 * 2 * 1 == len(coop.train_jobs(TINY))
        fresh()
        rev = coop.train_all(model, tok, TINY, progress=False,
                             mapper=lambda fn, jobs, common: [fn(**common, **j) for j in jobs[::-1]][::-1])
        assert _same_prompts(seq, rev)
        fresh()
        copy_model, copy_tok = pickle.loads(pickle.dumps((model, tok)))
        pickled = coop.train_all(copy_model, copy_tok, TINY, progress=False,
                                 mapper=lambda fn, jobs, common: [fn(**common, **j) for j in jobs])
        assert _same_prompts(seq, pickled)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture()
def cli_home(tmp_path, monkeypatch):
    """A throwaway repository root (so the registry is never the real one), no torchrun, threads restored."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    no_torchrun(monkeypatch)
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


def test_bench_command_writes_rows_only_on_the_cpu(cli_home, monkeypatch):
    import json

    from paperlab.core import assets, cli

    assert cli.uses_shared_cli("coop")
    calls = []
    monkeypatch.setattr(coop, "bench", lambda **kw: calls.append(kw) or [{"device": kw["device"], "speedup": 2.0}])
    assert coop.main(["bench", "--profile", "cpu", "--repeats", "2"]) == 0
    assert calls[-1] == {"device": "cpu", "repeats": 2}
    assert json.loads((cli_home / "data" / coop.BENCH_FILE).read_text()) == [{"device": "cpu", "speedup": 2.0}]
    assert coop.BENCH_FILE in assets.load_registry()
    (cli_home / "data" / coop.BENCH_FILE).unlink()
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # a GPU run is printed, not written
    assert coop.main(["bench", "--profile", "cpu", "--device", "cuda"]) == 0
    assert calls[-1]["device"] == "cuda:0" and not (cli_home / "data" / coop.BENCH_FILE).exists()


def test_train_command_gpu_profile_runs_run_real(cli_home, monkeypatch, capsys):
    calls = []

    def fake_run_real(name, root, backbone="ViT-B-32", device="cpu", **kw):
        calls.append((name, root, backbone, device))
        return [dict(dataset=name, seed=0, method=m, split=s, acc=0.5) for m in ("zero-shot", "coop", "cocoop")
                for s in ("base", "new")]

    monkeypatch.setattr(coop, "run_real", fake_run_real)
    assert coop.main(["train", "--profile", "gpu", "--dataset", "pets", "--data-root", "/x", "--backbone", "micro",
                      "--device", "cpu"]) == 0
    assert calls == [("pets", "/x", "micro", "cpu")]
    assert "cocoop" in capsys.readouterr().out


def test_train_command_cpu_profile_sequential_by_default_and_mapped_with_workers(cli_home, monkeypatch, capsys):
    from paperlab.core import assets, cli

    calls = []

    def fake_train_all(clip_model, tok, cfg, progress=True, mapper=None):
        calls.append((cfg, mapper))
        return {"runs": {"a": {}}, "loss": {}, "wall_s": 1.0}

    monkeypatch.setattr(coop, "train_all", fake_train_all)
    monkeypatch.setattr(coop, "pin_backbone", lambda: "clip/microclip.pt")
    monkeypatch.setattr(coop, "load_backbone", lambda name: None)
    assert coop.main(["train", "--profile", "cpu"]) == 0
    assert calls[-1] == (coop.CPU_CONFIG, None)  # workers 1: train_all's own loop (the committed run)
    assert assets.load_registry()[coop.CHECKPOINT]["command"] == "python -m paperlab.coop train"
    assert coop.main(["train", "--profile", "cpu", "--workers", "2"]) == 0
    run = calls[-1][1].__self__
    assert isinstance(run, cli.Run) and run.workers == 2
    assert assets.load_registry()[coop.CHECKPOINT]["command"] == "python -m paperlab.coop train --workers 2"
    assert "trained 1 learned prompts" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--profile", "gpu"], "needs --data-root"),
    (["train", "--profile", "smoke"], "no smoke size"),
    (["train", "--profile", "cpu", "--seeds", "0"], "fixed by its configs"),
    (["bench", "--profile", "cpu", "--repeats", "0"], "--repeats must be >= 1"),
    (["bench", "--profile", "cpu", "--repeats", "x"], "invalid int"),
    (["bench", "--profile", "cpu", "--device", "tpu"], "--device must be"),
    (["finetune"], "invalid choice"),
])
def test_command_line_bad_options_are_clear_errors(cli_home, monkeypatch, capsys, argv, message):
    for fn in ("bench", "train_all", "run_real"):
        monkeypatch.setattr(coop, fn, lambda *a, **kw: pytest.fail("must not run"))
    assert message in usage_error(coop.main, argv, capsys)


def test_cpu_training_on_a_cuda_device_is_an_error(cli_home, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(coop, "train_all", lambda *a, **kw: pytest.fail("must not run"))
    with pytest.raises(SystemExit):
        coop.main(["train", "--profile", "cpu", "--device", "cuda"])
    assert "runs on the CPU" in capsys.readouterr().err


def test_official_schedules_jobs_and_per_example_scores(micro):
    """The committed config follows the official schedules; the few-shot curve gets the per-shot epochs;
    evaluate_all's per-example scores average to its accuracies; headroom = probe - zero-shot on base."""
    model, tok = micro
    cfg = coop.CPU_CONFIG
    assert cfg["coop"] == dict(epochs=200, batch_size=32, lr=0.002) == cfg["coop16"]
    assert cfg["cocoop"] == dict(epochs=10, batch_size=1, lr=0.002) and not cfg["overrides"]
    assert [coop._epochs(cfg, "coop16", k) for k in (1, 2, 4, 8, 16)] == [50, 100, 100, 200, None]
    assert coop.make_model("coop16", model, tok, NAMES, cfg).prompt_learner.n_ctx == 16
    assert set(coop.B2N_DATASETS) <= set(cfg["datasets"]) and set(coop.DG_DATASETS) <= set(cfg["datasets"])
    tiny = dict(TINY, datasets=("color:sketch",), b2n_datasets=("color:sketch",), seeds=(0,), test_per_class=3,
                probe_per_class=4)
    trained = coop.train_all(model, tok, tiny, progress=False)
    tests = coop.eval_features(model, tiny)
    scores = {}
    rows = coop.evaluate_all(model, tok, trained, tests, tiny, progress=False, per_example=scores)
    for r in rows:
        got = scores[(r["dataset"], r["method"], r["split"], r["seed"])]
        assert got.shape == (len(tests[(r["dataset"], r["split"])]),) and got.mean() == pytest.approx(r["acc"])
    assert {r["method"] for r in rows} == {"zero-shot", "coop", "coop16", "cocoop"}
    (room,) = coop.headroom(model, tests, tiny)
    assert room["headroom"] == pytest.approx(room["probe"] - room["zero_shot"])
    assert room["passed"] == (room["headroom"] >= coop.HEADROOM_MIN)
