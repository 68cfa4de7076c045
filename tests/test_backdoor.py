"""Tests for paperlab.backdoor (MMAC / MMDF): bounds, margins, objective, baselines, detection."""

import pytest
import torch
from _helpers import no_torchrun, reversed_order, usage_error
from paperlab import backdoor as B
from paperlab.core import checks
from paperlab.worlds import digits as W
from torch import nn


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    model = B.MLP(64, (16, 16), 10).eval()
    x = torch.rand(30, 1, 8, 8)
    y = torch.arange(30) % 10
    return model, x, y


def test_bounded_equals_original_with_infinite_bounds(small):
    model, x, _ = small
    net = B.BoundedNet(model, x)
    net.set_bounds([torch.full_like(z, float("inf")) for z in net.bounds])
    torch.testing.assert_close(net(x), model(x))
    with net.unbounded():
        torch.testing.assert_close(net(x), model(x))


def test_bounds_get_gradients_weights_do_not(small):
    model, x, _ = small
    net = B.BoundedNet(model, x, init=0.05)
    assert [tuple(z.shape) for z in net.bounds] == [(16,), (16,)]
    net(x).sum().backward()
    assert all(z.grad is not None and z.grad.abs().sum() > 0 for z in net.bounds)
    assert all(not p.requires_grad for p in net.model.parameters())
    assert all(not p.requires_grad for p in net.original.parameters())


def test_bound_clips_activation(small):
    model, x, _ = small
    net = B.BoundedNet(model, x, init=0.0)  # min(h, 0) = 0: every hidden unit off
    out = net(x)
    torch.testing.assert_close(out, model.net[-1].bias.expand_as(out))


def test_per_channel_bounds_on_conv_and_shared_relu():
    class Twice(nn.Module):  # one ReLU module called twice (like torchvision's BasicBlock)
        def __init__(self):
            super().__init__()
            self.c1, self.c2, self.relu = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 5, 3, padding=1), nn.ReLU()
            self.fc = nn.Linear(5 * 64, 10)

        def forward(self, x):
            return self.fc(self.relu(self.c2(self.relu(self.c1(x)))).flatten(1))

    net = B.BoundedNet(Twice(), torch.rand(3, 1, 8, 8))
    assert [tuple(z.shape) for z in net.bounds] == [(4,), (5,)]
    assert net(torch.rand(2, 1, 8, 8)).shape == (2, 10)


def test_model_without_relu_is_an_error():
    with pytest.raises(ValueError, match="no nn.ReLU"):
        B.BoundedNet(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), torch.rand(2, 1, 8, 8))


def test_margins_by_hand():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    torch.testing.assert_close(B.margins(logits, torch.tensor([0, 2])), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="logits"):
        B.margins(logits, torch.tensor([0]))


def test_max_margin_inputs_raise_margins(small):
    model, _, _ = small
    x0, ks = B.max_margin_inputs(model, 10, 4, (1, 8, 8), steps=0, seed=0)
    x1, _ = B.max_margin_inputs(model, 10, 4, (1, 8, 8), steps=50, lr=0.1, seed=0)
    assert x1.min() >= 0 and x1.max() <= 1
    assert B.margins(model(x1), ks).mean() > B.margins(model(x0), ks).mean()


def test_mmac_loss_terms_and_ablations(small):
    model, x, y = small
    net = B.BoundedNet(model, x, init=1e6)
    xs, ks = B.max_margin_inputs(model, 10, 2, (1, 8, 8), steps=0)
    loss, mse, msum, _ = B.mmac_loss(net, x, xs, ks, c=0.5, cfg=B.MMACConfig())
    assert float(mse.detach()) < 1e-10
    torch.testing.assert_close(loss, mse + 0.5 * B.margins(model(xs), ks).sum())
    loss_m, *_ = B.mmac_loss(net, x, xs, ks, c=0.5, cfg=B.MMACConfig(use_margin=False))
    torch.testing.assert_close(loss_m, mse)


def test_adapt_c_follows_the_code():
    cfg = B.MMACConfig()
    assert B.adapt_c(1.0, 30, 1.0, cfg) == 1.0          # not after epoch 30 yet
    assert B.adapt_c(1.0, 35, 1.0, cfg) == 1.0          # not a multiple of 10
    assert B.adapt_c(1.0, 40, 0.95, cfg) == pytest.approx(1.2)
    assert B.adapt_c(1.2, 40, 0.90, cfg) == pytest.approx(1.0)
    assert B.adapt_c(1.0, 40, 0.5, B.MMACConfig(adaptive=False)) == 1.0


def test_mmac_moves_only_bounds(small):
    model, x, y = small
    before = [p.clone() for p in model.parameters()]
    net = B.BoundedNet(model, x)
    z0 = [z.detach().clone() for z in net.bounds]
    cfg = B.MMACConfig(epochs=3, surrogates_per_class=2, surrogate_steps=2)
    hist = B.mmac(net, x, y, cfg, progress=False)
    assert len(hist.c) == 3 and len(hist.mse) == 3
    assert any(not torch.equal(a, b.detach()) for a, b in zip(z0, net.bounds))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_clean_set_errors(small):
    model, x, y = small
    net = B.BoundedNet(model, x)
    with pytest.raises(ValueError, match="empty"):
        B.mmac(net, x[:0], y[:0], progress=False)
    with pytest.raises(ValueError, match="single class"):
        B.mmac(net, x[:3], torch.zeros(3, dtype=torch.long), progress=False)
    with pytest.raises(ValueError, match="input range"):
        B.mmac(net, x * 3 - 1, y, progress=False)


def test_naive_clip_bounds_are_clean_maxima(small):
    model, x, _ = small
    net = B.naive_clip(B.BoundedNet(model, x), x)
    acts = B.channel_max_activations(net, x)
    for z, a in zip(net.bounds, acts):
        torch.testing.assert_close(z.detach(), a.amax(0))
    torch.testing.assert_close(net(x), model(x))  # the clean set itself is untouched


def test_clipped_fraction(small):
    model, x, _ = small
    net = B.BoundedNet(model, x, init=float("inf"))
    assert B.clipped_fraction(net, x) == [0.0, 0.0]
    net.set_bounds([torch.zeros_like(z) for z in net.bounds])
    assert all(abs(f - 1.0) < 1e-6 for f in B.clipped_fraction(net, x))


def test_fine_tune_changes_a_copy(small):
    model, x, y = small
    ft = B.fine_tune(model, x, y, epochs=2)
    assert not torch.equal(ft.net[1].weight, model.net[1].weight)


def test_mmdf_threshold_uses_clean_scores_only_and_fixes():
    assert B.fit_threshold(torch.tensor([0.0, 2.0]), z=1.0) == pytest.approx(1.0 + 2 ** 0.5)
    with pytest.raises(ValueError, match="two clean scores"):
        B.fit_threshold(torch.tensor([1.0]))
    torch.manual_seed(0)
    model = B.MLP(64, (8,), 3).eval()
    x = torch.rand(6, 1, 8, 8)
    net = B.BoundedNet(model, x, init=float("inf"))
    assert torch.allclose(B.mmdf_scores(net, x), torch.zeros(6))   # f_bar == f: no margin drop
    pred, flagged = B.mmdf_predict(net, x, threshold=-1.0)         # flag everything: best other class
    yhat = model(x).argmax(1)
    assert bool(flagged.all()) and bool((pred != yhat).all())
    pred, flagged = B.mmdf_predict(net, x, threshold=1.0)
    assert not bool(flagged.any()) and torch.equal(pred, yhat)


def test_asr_counts_only_non_target_images():
    t = W.patch_trigger(2)
    x = torch.zeros(4, 1, 8, 8)
    y = torch.tensor([0, 0, 1, 2])
    always_zero = lambda z: torch.zeros(len(z), dtype=torch.long)  # noqa: E731
    r = B.evaluate(always_zero, x, y, t, "all_to_one", target=0)
    assert r["asr"] == 1.0 and r["pacc"] == 0.0 and r["acc"] == 0.5
    r = B.evaluate(lambda z: torch.full((len(z),), 2), x, y, t, "all_to_one", target=0)
    assert r["asr"] == 0.0 and r["pacc"] == 0.5  # only the two non-target images count


def test_train_classifier_and_adaptive_penalty():
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    m = B.train_classifier(x, y, seed=0, epochs=1, hidden=(8, 8))
    m2 = B.train_classifier(x, y, seed=0, epochs=1, hidden=(8, 8), act_penalty=1.0)
    assert m(x).shape == (40, 10) and not torch.equal(m.net[1].weight, m2.net[1].weight)
    with pytest.raises(ValueError, match="arch"):
        B.train_classifier(x, y, seed=0, arch="vit")
    with pytest.raises(ValueError, match="input range"):
        B.train_classifier(x + 2, y, seed=0)
    with pytest.raises(ValueError, match="SmallCNN"):
        B.SmallCNN()(torch.rand(2, 64))


def test_exercise_reference_answers_are_correct():
    # exercise 1: m_1 of logits [2, 7, 4.5]
    m1 = float(B.margins(torch.tensor([[2.0, 7.0, 4.5]]), torch.tensor([1]))[0])
    assert checks.check_close("exercise 1", m1, 2.5) == "correct"
    assert checks.check_close("exercise 1", ..., 2.5) == "not attempted"
    # exercise 2: ASR ignores the 36 target-class images; all 324 others go to 0
    y = torch.tensor([0] * 36 + [1] * 324)
    asr = B.evaluate(lambda z: torch.zeros(len(z), dtype=torch.long), torch.zeros(360, 1, 8, 8), y, W.patch_trigger(2))["asr"]
    assert checks.check_close("exercise 2", asr, 1.0, close_rtol=0.01) == "correct"
    # the tempting wrong answer 324/360 = 0.9 (counting target-class images too) must not pass as "close"
    assert checks.check_close("exercise 2", 324 / 360, 1.0, close_rtol=0.01) == "incorrect"
    assert checks.check_close("exercise 2", ..., 1.0, close_rtol=0.01) == "not attempted"
    # exercise 3: infinite bounds -> zero score
    torch.manual_seed(0)
    model = B.MLP(64, (8,), 3).eval()
    x = torch.rand(4, 1, 8, 8)
    s = B.mmdf_scores(B.BoundedNet(model, x, init=float("inf")), x)
    assert checks.check_close("exercise 3", float(s.abs().max()), 0.0, atol=1e-6) == "correct"
    # exercise 4: the reference score equals the library's, and the unanswered stub is "not attempted"
    net = B.BoundedNet(model, x, init=0.3)

    def reference(o_f, o_bar):
        yhat = o_f.argmax(1)
        return B.margins(o_f, yhat) - B.margins(o_bar, yhat)

    with torch.no_grad():
        torch.testing.assert_close(reference(net.original(x), net(x)), B.mmdf_scores(net, x))

    def stub(o_f, o_bar):
        raise NotImplementedError

    cases = [(torch.randn(5, 4), torch.randn(5, 4))]
    assert checks.check_function("exercise 4", stub, reference, cases) == "not attempted"
    assert checks.check_function("exercise 4", reference, reference, cases) == "correct"
    # exercise 5
    assert checks.check_choice("exercise 5", "a", "a", ["a", "b", "c"]) == "correct"


# ----------------------------------------------------------------------------- oracle, target variant, premise

def test_oracle_surrogates_are_the_clean_set_with_the_real_trigger():
    t = W.patch_trigger(3)
    x, y = torch.rand(6, 1, 8, 8) * 0.5, torch.tensor([0, 1, 2, 0, 3, 9])
    xs, ks = B.oracle_surrogates(x, y, t, "all_to_one", target=0)
    assert ks.tolist() == [0, 0, 0, 0] and torch.equal(xs, W.apply_trigger(x[y != 0], t))
    xs, ks = B.oracle_surrogates(x, y, t, "x2x")
    assert ks.tolist() == [1, 2, 3, 1, 4, 0] and len(xs) == 6
    with pytest.raises(ValueError, match="no image the attack acts on"):
        B.oracle_surrogates(x[:1], y[:1], t)


def test_mmac_takes_given_surrogates_and_restricted_classes(small):
    model, x, y = small
    calls = []

    def sur(epoch):
        calls.append(epoch)
        return x[:4], torch.zeros(4, dtype=torch.long)

    cfg = B.MMACConfig(epochs=5, surrogates_per_class=2, surrogate_steps=2, regen_every=2)
    B.mmac(B.BoundedNet(model, x), x, y, cfg, progress=False, surrogates=sur)
    assert calls == [0, 2, 4]  # regenerated every regen_every epochs
    xs, ks = B.max_margin_inputs(model, 10, 3, (1, 8, 8), steps=1, classes=[4])
    assert ks.tolist() == [4, 4, 4] and xs.shape == (3, 1, 8, 8)
    B.mmac(B.BoundedNet(model, x), x, y, B.MMACConfig(epochs=2, surrogates_per_class=2, surrogate_steps=2, classes=(0,)),
           progress=False)
    with pytest.raises(ValueError, match="cfg.classes"):
        B.mmac(B.BoundedNet(model, x), x, y, B.MMACConfig(epochs=1, classes=(12,)), progress=False)


def test_default_mmac_unchanged_by_the_classes_option(small):
    model, x, y = small
    cfg = dict(epochs=3, surrogates_per_class=2, surrogate_steps=2)
    a, b = B.BoundedNet(model, x), B.BoundedNet(model, x)
    B.mmac(a, x, y, B.MMACConfig(**cfg), progress=False)
    B.mmac(b, x, y, B.MMACConfig(**cfg, classes=tuple(range(10))), progress=False)
    assert all(torch.equal(u, v) for u, v in zip(a.bounds, b.bounds))


def test_premise_margins_and_margins_under(small):
    model, x, y = small
    t = W.patch_trigger(2)
    p = B.premise_margins(model, x, y, t, per_class=3, steps=2)
    assert p["surrogate"].shape == (10, 3) and len(p["clean"]) == 30 and len(p["triggered"]) == 27
    assert p["ratio"] == pytest.approx(float(p["triggered"].median() / p["surrogate"][0].median()))
    net = B.BoundedNet(model, x, init=float("inf"))
    after = B.margins_under(net, p, x, y, t)
    for k in ("clean", "triggered", "surrogate"):
        torch.testing.assert_close(after[k], p[k])


def test_official_lr_schedule():
    assert [B.official_lr(e, 100) for e in (0, 60, 61, 81, 91)] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-6])
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    m1 = B.train_classifier(x, y, seed=0, epochs=2, hidden=(8, 8), schedule=True, batch=32)
    assert m1(x).shape == (40, 10)


def test_setting_for_and_attacks():
    cfg = B.CONFIG["cpu"]
    s = B.setting_for("adaptive", cfg)
    assert s.act_penalty == cfg["penalty"] and s.mode == "all_to_one" and s.trigger.mask.sum() == 9
    s = B.setting_for("patch", cfg, size=2, train_epochs=40, schedule=False, batch=64)
    assert s.trigger.mask.sum() == 4 and (s.train_epochs, s.schedule, s.batch) == (40, False, 64)
    assert B.setting_for("x2x", cfg).mode == "x2x" and B.sweep_key({"rate": 0.3}) == "rate=0.3"
    with pytest.raises(KeyError, match="unknown attack"):
        B.setting_for("sticker", cfg)


# ----------------------------------------------------------------------------- the train command (shared CLI)

def _tiny_cfg(**over):
    return {**B.CONFIG["smoke"], "seeds": [0, 1], "train_epochs": 2, "ft_epochs": 2, "sweep": [], "sweep_seeds": [0],
            "mmac": dict(epochs=2, surrogates_per_class=2, surrogate_steps=3, regen_every=100),
            "premise": dict(per_class=2, steps=3), **over}


def test_two_worker_processes_give_the_sequential_results():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = _tiny_cfg(train_epochs=1, sweep=[{"size": 2}])
        seq = B.run_experiment(cfg)
        assert list(seq) == [("patch", "", 0), ("patch", "", 1), ("patch", "size=2", 0)]
        assert set(seq[("patch", "", 0)]["mmbd"]) == {"backdoored", "clean"} and "mmbd" not in seq[("patch", "size=2", 0)]
        summ = B.summary(seq)
        assert summ["patch||0"] != summ["patch||1"]  # the seeds differ
        assert set(summ["patch||0"]) >= set(B.DEFENCES) | {"premise", "after", "mmbd", "detected target"}
        assert B.summary(B.run_experiment(cfg, workers=2)) == summ  # spawned processes, same numbers
        assert B.summary(B.run_experiment(cfg, mapper=reversed_order)) == summ
        with pytest.raises(KeyError, match="unknown attack"):
            B.run_experiment(_tiny_cfg(settings=["sticker"]))
    finally:
        torch.set_num_threads(threads)


def test_train_command_passes_the_shared_cli_layout(monkeypatch, tmp_path, capsys):
    import json

    from paperlab.core import cli

    no_torchrun(monkeypatch)
    calls = []
    m = {"acc": 0.9, "asr": 0.1, "pacc": 0.8}
    margins = {"clean": torch.ones(3), "triggered": torch.ones(2), "surrogate": torch.ones(10, 2)}

    def fake(cfg, mapper=None):  # records the call; trains nothing
        calls.append(dict(cfg=cfg, mapper=mapper))
        return {("patch", "", s): {**{d: m for d in B.DEFENCES}, "detected": 0, "premise": {**margins, "ratio": 0.5},
                                   "after": {"MMAC": margins}} for s in cfg["seeds"]}

    monkeypatch.setattr(B, "run_experiment", fake)
    out = tmp_path / "e.json"
    threads = torch.get_num_threads()
    try:
        assert B.main(["train", "--profile", "cpu", "--workers", "2", "--seeds", "4", "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    (call,) = calls
    assert call["cfg"]["seeds"] == [4] and call["cfg"]["mmac"] == B.CONFIG["cpu"]["mmac"]
    run = call["mapper"].__self__
    assert isinstance(run, cli.Run) and (run.workers, run.profile.name) == (2, "cpu")
    saved = json.loads(out.read_text())
    assert saved["profile"] == "cpu" and saved["results"]["patch||4"]["MMAC"] == m
    assert saved["results"]["patch||4"]["premise"]["ratio"] == 0.5
    assert "wrote" in capsys.readouterr().out and cli.uses_shared_cli("backdoor")


@pytest.mark.parametrize("argv, message", [
    (["train", "--workers", "0"], "positive integer"),
    (["train", "--profile", "huge"], "invalid choice"),
    (["train", "--profile", "cpu", "--device", "cuda:0"], "CUDA"),
    (["mitigate"], "invalid choice"),
])
def test_train_command_bad_options_are_clear_errors(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(B, "run_experiment", lambda *a, **kw: pytest.fail("must not train"))
    assert message in usage_error(B.main, argv, capsys)


def test_committed_results_load_only_for_their_config():
    saved = B.load_results(B.CONFIG["cpu"])
    assert saved is not None, "data/backdoor/results.json (registered) should hold the cpu run"
    cfg = B.CONFIG["cpu"]
    keys = {f"{a}||{s}" for a in cfg["settings"] for s in cfg["seeds"]}
    keys |= {f"patch|{B.sweep_key(sw)}|{s}" for sw in cfg["sweep"] for s in cfg["sweep_seeds"]}
    assert set(saved["results"]) == keys
    assert all(set(B.DEFENCES) <= set(v) and 0 <= v["MMAC"]["asr"] <= 1 for v in saved["results"].values())
    assert B.load_results({**cfg, "seeds": [0]}) is None  # another config: the notebook reruns instead


# ----------------------------------------------------------------------------- issue 22: clear errors up front
@pytest.mark.parametrize("kw,match", [
    (dict(input_shape=(3, 32, 32)), "does not accept inputs of input_shape=\\(3, 32, 32\\)"),
    (dict(input_shape=(1, 8)), "does not accept inputs"),
    (dict(input_shape=5), "input_shape must be one image's shape"),
    (dict(input_shape=(0, 8, 8)), "input_shape must be one image's shape"),
    (dict(n_classes=0), "n_classes must be a positive integer, got 0"),
    (dict(n_classes=5), "not \\(1, n_classes=5\\)"),
    (dict(per_class=0), "per_class must be a positive integer"),
])
def test_max_margin_per_class_rejects_bad_arguments(kw, match):
    model = B.MLP()
    with pytest.raises(ValueError, match=match):
        B.max_margin_per_class(model, steps=1, **{"per_class": 2, **kw})


def test_max_margin_per_class_accepts_a_good_call():
    out = B.max_margin_per_class(B.MLP(), n_classes=10, per_class=2, steps=2)
    assert out.shape == (10,) and torch.isfinite(out).all()


# ----------------------------------------------------------------------------- the bound-strength explorer
def test_bound_strength_restores_bounds_and_infinity_is_the_original():
    from paperlab.worlds import digits as W

    torch.manual_seed(0)
    model = B.MLP()
    x, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 10
    net = B.BoundedNet(model, x)
    net.set_bounds([torch.rand_like(z) - 0.1 for z in net.bounds])  # a few negative bounds, as MMAC learns
    before = [z.detach().clone() for z in net.bounds]
    trig = W.patch_trigger(3, "bottom_right")
    cur = B.bound_strength(net, [0.5, 1.0, float("inf")], x, y, trig)
    for a, b in zip(before, net.bounds):
        torch.testing.assert_close(a, b.detach())
    ref = B.evaluate(B.argmax_of(model), x, y, trig)
    assert cur["acc"][-1] == ref["acc"] and cur["asr"][-1] == ref["asr"]
    assert B.evaluate(B.argmax_of(net), x, y, trig)["acc"] == cur["acc"][1]
    big = B.bound_strength(net, [1e6], x, y, trig)  # a huge scale loosens every bound, negative ones too
    assert big["acc"][0] == ref["acc"] and big["asr"][0] == ref["asr"]
    with pytest.raises(ValueError, match="bound scales must be > 0"):
        B.bound_strength(net, [0.0], x, y, trig)


# ----------------------------------------------------------------------------- exercises (issue 23)
def _verdict(n, answer, **data):
    return B.check_exercise(n, answer, **data)


@pytest.mark.parametrize("n,right,wrongs,data", [
    (1, 2.5, [5.0, -2.5, 7.0], dict(logits=[2.0, 7.0, 4.5], k=1)),
    (2, 1.0, [0.9, 0.1, 324], dict(n_target=36, n_other=324)),
    (3, 0.0, [1.0, 2.576], {}),
    (5, "a", ["b", "c"], {}),
])
def test_check_exercise_values(n, right, wrongs, data):
    assert _verdict(n, right, **data) == "correct"
    for w in wrongs:
        assert _verdict(n, w, **data) in ("incorrect", "close"), (n, w)
        assert _verdict(n, w, **data) != "correct"
    assert _verdict(n, ..., **data) == "not attempted"


def test_check_exercise_4_function():
    def right(o_f, o_bar):
        yhat = o_f.argmax(1)
        return B.margins(o_f, yhat) - B.margins(o_bar, yhat)

    def own_argmax(o_f, o_bar):  # each network's own predicted class
        return B.margins(o_f, o_f.argmax(1)) - B.margins(o_bar, o_bar.argmax(1))

    def flipped(o_f, o_bar):
        return -right(o_f, o_bar)

    def not_done(o_f, o_bar):
        raise NotImplementedError

    assert B.check_exercise(4, right) == "correct"
    assert B.check_exercise(4, own_argmax) != "correct"
    assert B.check_exercise(4, flipped) == "incorrect"
    assert B.check_exercise(4, not_done) == "not attempted"
    assert B.check_exercise(4, ...) == "not attempted"
    with pytest.raises(ValueError, match="1-5"):
        B.check_exercise(6, 1)


# ----------------------------------------------------------------------------- the gpu path's CIFAR-10 premise (#22 dry run)
def test_cifar_premise_job_runs_on_the_format_sample():
    from paperlab.core.paths import data_dir

    out = B.cifar_premise_job(data_dir() / "samples" / "cifar10", B.CONFIG["samples"], 0, download=False, verify=False)
    assert out["n_train"] == 40 and out["n_test"] == 8
    assert 0 <= out["acc"] <= 1 and 0 <= out["asr"] <= 1


def test_cifar_missing_says_where_to_put_it(tmp_path):
    with pytest.raises(RuntimeError, match="could not download CIFAR-10 from https://www.cs.toronto.edu.*cifar-10-batches-py"):
        B.load_cifar10_split(tmp_path, download=False)


def test_cpu_config_has_no_cifar_key():  # the committed results.json is keyed on the cpu config
    assert "cifar" not in B.CONFIG["cpu"] and "cifar" in B.CONFIG["gpu"] and "cifar" in B.CONFIG["samples"]
