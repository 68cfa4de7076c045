"""Tests for paperlab.clip: the open_clip config, the checkpoint format and loader, zero-shot and probes."""

import json
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from _helpers import no_torchrun, usage_error
from paperlab import clip
from paperlab.core import assets
from paperlab.core.train import load_checkpoint
from paperlab.worlds import shapes as W

NANO = clip.SIZES["nano"]


@pytest.fixture(scope="module")
def nano():
    torch.manual_seed(0)
    model, _ = clip.create_model(None, name=NANO)
    return model.eval()


@pytest.fixture()
def tmp_home(tmp_path, monkeypatch):
    """A throwaway repository root (pyproject + data/) so registry tests never touch the real one."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "data" / "clip").mkdir(parents=True)
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    return tmp_path


def test_configs_are_registered_with_towers_of_different_widths():
    clip.register()
    for name in clip.SIZES.values():
        assert name in open_clip.list_models()
        cfg = clip.model_config(name)
        assert cfg["vision_cfg"]["width"] != cfg["text_cfg"]["width"]
    with pytest.raises(ValueError, match="unknown model config"):
        clip.model_config("paperlab-giga-clip")


def test_checkpoint_loads_through_open_clip_exact_call(nano, tmp_path):
    path = clip.save_pretrained(nano, tmp_path / "nano.pt", {"model_name": NANO})
    model, _, preprocess = open_clip.create_model_and_transforms(NANO, pretrained=str(path))
    keep = clip.world_token_ids(NANO)
    sd0, sd1 = nano.state_dict(), model.state_dict()
    for k in sd0:
        if k != "token_embedding.weight":
            torch.testing.assert_close(sd0[k], sd1[k])
    torch.testing.assert_close(sd1["token_embedding.weight"][keep], sd0["token_embedding.weight"][keep])
    assert float(sd1["token_embedding.weight"].abs().sum(1).gt(0).sum()) == len(keep)  # other rows pruned
    images = W.pretrain_batch(4, seed=0)[0]
    torch.testing.assert_close(clip.encode_images(model, images), clip.encode_images(nano, images))


def test_openai_format_state_dict_loads_through_the_same_function(nano, tmp_path):
    """The gpu path loads OpenAI's ViT-B-32 weights with create_model; here a tiny checkpoint in the same
    layout (a bare state dict with OpenAI's key names, no wrapper) goes through the same code path."""
    path = tmp_path / "openai_format.pt"
    torch.save(nano.state_dict(), path)
    model, _ = clip.create_model(path, name=NANO)
    torch.testing.assert_close(model.state_dict()["visual.conv1.weight"], nano.state_dict()["visual.conv1.weight"])
    assert model.paperlab_name == NANO


def test_load_pretrained_real_model_calls_create_model_with_openai_weights(monkeypatch):
    calls = []

    def fake_create(pretrained=None, name=clip.MODEL_NAME, device="cpu"):
        calls.append((pretrained, name))
        return torch.nn.Linear(1, 1), None

    monkeypatch.setattr(clip, "create_model", fake_create)
    clip.load_pretrained("ViT-B-32")
    assert calls == [("openai", "ViT-B-32-quickgelu")]
    assert "openai" in open_clip.list_pretrained_tags_by_model("ViT-B-32-quickgelu")
    with pytest.raises(ValueError, match="which must be"):
        clip.load_pretrained("ViT-H-14")


def test_checkpoint_of_another_config_is_a_clear_error(nano, tmp_path):
    path = clip.save_pretrained(nano, tmp_path / "nano.pt", {"model_name": NANO})
    with pytest.raises(ValueError, match="does not fit model config 'paperlab-micro-clip'"):
        clip.create_model(path, name=clip.MODEL_NAME)
    with pytest.raises(FileNotFoundError):
        clip.create_model(tmp_path / "missing.pt", name=NANO)


def test_registry_verifies_and_rejects_a_corrupted_checkpoint(nano, tmp_home):
    target = tmp_home / "data" / clip.CHECKPOINT
    clip.save_pretrained(nano, target, {"model_name": NANO, "eval": {"x": 1.0}})
    assets.register(clip.CHECKPOINT, command="test")
    model = clip.load_pretrained()
    assert not model.training and model.paperlab_name == NANO
    assert clip.checkpoint_metadata()["eval"] == {"x": 1.0}
    with open(target, "r+b") as f:  # flip some bytes
        f.seek(200)
        f.write(b"corrupted!")
    with pytest.raises(assets.AssetError, match="sha256 mismatch"):
        clip.load_pretrained()


def test_normalize_and_encoders(nano):
    images = W.pretrain_batch(6, seed=1)[0]
    x = clip.normalize(images, nano)
    mean = torch.tensor(nano.visual.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(nano.visual.image_std).view(1, 3, 1, 1)
    torch.testing.assert_close(x * std + mean, images)
    feats = clip.encode_images(nano, images)
    with torch.no_grad():
        ref = torch.nn.functional.normalize(nano.encode_image(x), dim=-1)
    torch.testing.assert_close(feats, ref)
    assert feats.shape == (6, clip.model_config(NANO)["embed_dim"])
    t = clip.encode_texts(nano, ["a red star", "a blue ring"])
    torch.testing.assert_close(t.norm(dim=1), torch.ones(2))


def test_bad_images_raise(nano):
    images = W.pretrain_batch(2, seed=1, image_size=64)[0]
    with pytest.raises(ValueError, match="expects 32x32"):
        clip.encode_images(nano, images)
    assert clip.encode_images(nano, images, resize=True).shape[0] == 2
    with pytest.raises(ValueError, match=r"raw pixels in \[0, 1\]"):
        clip.encode_images(nano, clip.normalize(images[:, :, :32, :32], nano))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        clip.encode_images(nano, torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        clip.normalize(torch.rand(3, 32, 32), nano)
    with pytest.raises(TypeError, match="list of strings"):
        clip.encode_texts(nano, "a red star")


def test_zero_shot_weights_and_logits(nano):
    w = clip.zero_shot_weights(nano, ["red star", "blue ring", "green cross"], ["a photo of a {}.", "a {}."])
    assert w.shape == (3, clip.model_config(NANO)["embed_dim"])
    torch.testing.assert_close(w.norm(dim=1), torch.ones(3))
    with pytest.raises(ValueError, match="slot"):
        clip.zero_shot_weights(nano, ["red star"], ["a photo"])
    # issue 22: a string is not a list of class names (it would be six one-letter classes)
    with pytest.raises(TypeError, match=r"wrap it in a list: \['circle'\]"):
        clip.zero_shot_weights(nano, "circle", ["a photo of a {}."])
    with pytest.raises(TypeError, match="templates must be a list"):
        clip.zero_shot_weights(nano, ["circle"], "a photo of a {}.")
    images = W.pretrain_batch(5, seed=2)[0]
    protos = clip.encode_images(nano, images)  # each image is closest to its own embedding
    logits = clip.zero_shot_logits(nano, images, protos)
    assert logits.shape == (5, 5) and torch.equal(logits.argmax(1), torch.arange(5))
    with pytest.raises(ValueError, match="weights must be"):
        clip.zero_shot_logits(nano, images, protos[:, :3])


def test_evaluate_zero_shot_and_linear_probe(nano):
    ds = W.ShapesDataset("color", n_train_per_class=8, n_test_per_class=6)
    test = ds.test("base")
    acc = clip.evaluate_zero_shot(nano, test, ds.templates)
    assert 0.0 <= acc <= 1.0
    probe = clip.linear_probe(nano, ds.train(subset="base"), test)
    assert probe > 0.4  # colours are linearly readable even from a random ViT (chance is 0.25)
    with pytest.raises(ValueError, match="same classnames"):
        clip.linear_probe(nano, ds.train(subset="new"), test)
    other = ds.sample("base", n_per_class=5, seed=3)  # one fit, several test draws: same as fitting per draw
    assert clip.linear_probe(nano, ds.train(subset="base"), [test, other]) == [
        probe, clip.linear_probe(nano, ds.train(subset="base"), other)]
    # per-example 0/1 scores (the paired bootstrap's input) average to the accuracies
    zs_c = clip.zero_shot_correct(nano, test, ds.templates)
    assert zs_c.shape == (len(test),) and set(np.unique(zs_c)) <= {0.0, 1.0} and zs_c.mean() == pytest.approx(acc)
    pr_c = clip.linear_probe(nano, ds.train(subset="base"), [test, other], per_example=True)
    assert [c.shape for c in pr_c] == [(len(test),), (len(other),)] and pr_c[0].mean() == pytest.approx(probe)


def test_pretrain_smoke_run():
    model, hist = clip.pretrain(size="nano", steps=3, batch_size=8, seed=0, progress=False, log_every=1)
    assert not model.training and len(hist["loss"]) == 3 and all(torch.isfinite(torch.tensor(hist["loss"])))
    for steps in (1, 2, 7, 15):  # short runs: the one-cycle schedule still has a warm-up and a decay phase
        _, short = clip.pretrain(size="nano", steps=steps, batch_size=4, seed=0, progress=False, log_every=1)
        assert len(short["loss"]) == steps
    with pytest.raises(ValueError, match="size must be"):
        clip.pretrain(size="huge", steps=1)
    with pytest.raises(ValueError, match="steps"):
        clip.pretrain(size="nano", steps=0)


def test_pretrain_extra_loss_hook():
    seen = []

    def pull_together(img_f, txt_f, scale):
        assert img_f.shape == txt_f.shape and img_f.shape[0] == 8
        seen.append(float(scale.detach()))
        return 0.5 * (img_f - txt_f).pow(2).sum(1).mean()

    _, hist = clip.pretrain(size="nano", steps=2, batch_size=8, seed=0, progress=False, log_every=1,
                            extra_loss=pull_together)
    assert len(seen) == 2 and len(hist["extra"]) == 2 and all(v > 0 for v in hist["extra"])
    _, plain = clip.pretrain(size="nano", steps=2, batch_size=8, seed=0, progress=False, log_every=1)
    assert "extra" not in plain and plain["loss"][0] < hist["loss"][0]  # same first batch, extra term added
    with pytest.raises(TypeError, match="callable"):
        clip.pretrain(size="nano", steps=1, batch_size=8, extra_loss=3.0)
    with pytest.raises(ValueError, match="scalar"):
        clip.pretrain(size="nano", steps=1, batch_size=8, progress=False, extra_loss=lambda a, b, s: a.sum(1))


def test_pretrain_model_hook_and_batch_fn():
    calls, init = [], []

    def hook(model):  # a submodule added before the optimiser is built must train
        model.extra_head = torch.nn.Linear(2, 2)
        init.append(model.extra_head.weight.detach().clone())
        calls.append("hook")

    def batch_fn(n, seed, policy, image_size):
        calls.append(seed)
        images, caps = W.pretrain_batch(n, seed=seed, policy=policy, image_size=image_size)
        return images, caps

    head_loss = lambda img_f, txt_f, scale: model_ref[0].extra_head(torch.ones(2)).sum() ** 2  # noqa: E731
    model_ref = []
    hook_and_keep = lambda m: (hook(m), model_ref.append(m))  # noqa: E731
    model, hist = clip.pretrain(size="nano", steps=2, batch_size=8, seed=5, progress=False, log_every=1,
                                model_hook=hook_and_keep, batch_fn=batch_fn, extra_loss=head_loss)
    assert calls == ["hook", 5 * 1_000_003, 5 * 1_000_003 + 1]  # the hook once, then one batch per step
    assert not torch.equal(model.extra_head.weight, init[0])  # in the optimiser: trained by the extra loss
    _, plain = clip.pretrain(size="nano", steps=2, batch_size=8, seed=5, progress=False, log_every=1)
    _, same = clip.pretrain(size="nano", steps=2, batch_size=8, seed=5, progress=False, log_every=1,
                            batch_fn=W.pretrain_batch)
    assert plain["loss"] == same["loss"]  # batch_fn defaults to the world's batches
    for bad in ({"model_hook": 1}, {"batch_fn": "x"}):
        with pytest.raises(TypeError, match="must be callable"):
            clip.pretrain(size="nano", steps=1, batch_size=8, progress=False, **bad)


def test_requirements_rule():
    ev = {}
    for n in W.DATASETS:
        ev.update({f"chance_{n}": 1 / len(W.dataset(n).classnames), f"zero_shot_{n}": 0.8, f"probe_{n}": 0.9})
        ev.update({f"zero_shot_{n}_{s}": 0.5 for s in W.STYLES[1:]})
    ev["zero_shot_combo_held_out"] = 0.5
    assert all(clip.requirements(ev).values())
    ev["zero_shot_color_blurred"] = 0.9  # one cell above photo: the mean over datasets still drops
    req = clip.requirements(ev)
    assert req["zero-shot (mean over datasets) drops under each non-photo style"]
    assert not req["zero-shot drops under each non-photo style on every dataset (stricter reading)"]
    for n in W.DATASETS:
        ev[f"zero_shot_{n}_noisy"] = 0.85
    assert not clip.requirements(ev)["zero-shot (mean over datasets) drops under each non-photo style"]
    ev["zero_shot_texture"] = 0.6  # below 3 x 1/4
    assert not clip.requirements(ev)["zero-shot >= 3x chance on every dataset"]


@pytest.mark.parametrize("argv, message", [
    (["pretrain", "--size", "giga"], "invalid choice"),
    (["finetune"], "invalid choice"),
    (["train", "--profile", "smoke"], "one size"),
    (["train", "--profile", "cpu", "--seed", "1", "--seeds", "2"], "not both"),
    (["train", "--profile", "cpu", "--seeds", "1", "1"], "duplicates"),
    (["train", "--profile", "cpu", "--steps", "0"], "positive integer"),
    (["train", "--profile", "cpu", "--device", "cuda:0"], "CUDA"),
])
def test_cli_rejects_bad_arguments(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(clip, "pretrain", lambda *a, **kw: pytest.fail("must not train"))
    assert message in usage_error(clip.main, argv, capsys)


def test_train_command_on_the_shared_cli(monkeypatch, tmp_path, capsys):
    """`make train NB=00_clip` runs `python -m paperlab.core.cli clip train ...`: the shared options reach pretrain;
    several seeds are separate jobs, each saved (rank 0) beside --out and evaluated, none registered."""
    from paperlab.core import assets, cli

    no_torchrun(monkeypatch)
    calls = []

    def fake_pretrain(policy, **kw):  # a real (untrained) nano model: the save path runs for real
        calls.append(kw)
        model, _ = clip.create_model(None, name=clip.SIZES["nano"])
        return model.eval(), {"loss": [1.0], "wall_s": 0.1}

    monkeypatch.setattr(clip, "pretrain", fake_pretrain)
    monkeypatch.setattr(clip, "evaluate", lambda model: {"zero_shot_shape": 0.5})
    monkeypatch.setattr(clip, "requirements", lambda ev: {})
    monkeypatch.setattr(assets, "register", lambda *a, **kw: pytest.fail("several seeds must not register"))
    assert cli.uses_shared_cli("clip")
    threads = torch.get_num_threads()
    try:
        out = tmp_path / "m.pt"
        cli.dispatch(["clip", "train", "--profile", "cpu", "--seeds", "1", "2", "--size", "nano", "--steps", "3",
                      "--threads", "1", "--out", str(out)])
        assert [c["seed"] for c in calls] == [1, 2] and all(c["steps"] == 3 and c["size"] == "nano" for c in calls)
        for s in (1, 2):
            meta = load_checkpoint(tmp_path / f"m-seed{s}.pt")["paperlab"]
            assert meta["seed"] == s and meta["threads"] == 1 and meta["eval"] == {"zero_shot_shape": 0.5}
            assert json.loads((tmp_path / f"m-seed{s}.eval.json").read_text())["seed"] == s
        assert not out.exists()
        calls.clear()
        clip.main(["pretrain", "--profile", "cpu", "--seed", "4", "--size", "nano", "--no-register", "--out", str(out)])
        assert [c["seed"] for c in calls] == [4] and calls[0]["steps"] == 2000 and out.exists()
        assert load_checkpoint(out)["paperlab"]["threads"] == 2  # clip's own default (the committed run's)
    finally:
        torch.set_num_threads(threads)


def test_committed_checkpoint_if_registered():
    reg = assets.load_registry()
    if clip.CHECKPOINT not in reg:
        pytest.skip("no committed micro-CLIP checkpoint yet")
    model = clip.load_pretrained()
    ev = reg[clip.CHECKPOINT]["eval"]
    ds = W.ShapesDataset("color", n_test_per_class=20)
    acc = clip.evaluate_zero_shot(model, ds.test("all"), ds.templates)
    assert acc >= 3 / 8 and abs(acc - ev["zero_shot_color"]) < 0.15
    card = Path(assets.registry_path()).parent / clip.CARD
    assert card.exists() and "zero-shot" in card.read_text()
    json.dumps(clip.checkpoint_metadata()["history"])  # the loss curve is plain data


def test_real_clip_download_failure_names_dataset_and_fix(monkeypatch):
    def offline(*a, **k):
        raise RuntimeError("Failed to download: no network")

    monkeypatch.setattr(clip, "create_model", offline)
    with pytest.raises(RuntimeError, match="ViT-B/32 weights.*by hand"):
        clip.load_pretrained("ViT-B-32")


def test_exercise_checkers_accept_the_answer_and_reject_plausible_wrong_ones():
    import torch.nn.functional as F

    for n in range(1, 6):
        assert clip.check_exercise(n, ...) == "not attempted"
    assert clip.check_exercise(1, 1 / len(W.dataset("combo").new)) == "correct"
    assert clip.check_exercise(1, 1 / 64) == "incorrect"  # all 64 classes, not the new half
    assert clip.check_exercise(1, 1 / 8) == "incorrect"
    assert clip.check_exercise(2, "unchanged") == "correct"
    assert clip.check_exercise(2, "goes up") == "incorrect"
    assert clip.check_exercise(2, "goes down") == "incorrect"
    assert clip.check_exercise(3, lambda a, b: (a.mean(0) - b.mean(0)).norm()) == "correct"
    assert clip.check_exercise(3, lambda a, b: (a - b).norm(dim=1).mean()) == "incorrect"  # mean of pair distances
    assert clip.check_exercise(3, lambda a, b: a.mean(0).norm() - b.mean(0).norm()) == "incorrect"

    def rows(u, v, s):
        return F.cross_entropy(s * u @ v.T, torch.arange(len(u)))

    def cols(u, v, s):  # the wrong direction: captions choosing among images
        return F.cross_entropy((s * u @ v.T).T, torch.arange(len(u)))

    assert clip.check_exercise(4, rows) == "correct"
    assert clip.check_exercise(4, cols) == "incorrect"
    assert clip.check_exercise(4, lambda u, v, s: open_clip.ClipLoss()(u, v, s)) == "incorrect"  # both directions
    with pytest.raises(ValueError, match="1-5"):
        clip.check_exercise(6, 1)


def test_exercise_5_judges_templates_on_the_fixed_draw(nano):
    # the checker's logic on any model: the bare name is never 2 points better than itself; no slot is wrong
    assert clip.check_exercise(5, "{}", model=nano) in ("incorrect", "close")
    assert clip.check_exercise(5, "{}", model=nano) != "correct"
    assert clip.check_exercise(5, "a photo of a", model=nano) == "incorrect"
    reg = assets.load_registry()
    if clip.CHECKPOINT in reg:  # on the committed micro-CLIP: "a big {}." wins, "{}." does not
        model = clip.load_pretrained()
        assert clip.check_exercise(5, "a big {}.", model=model) == "correct"
        assert clip.check_exercise(5, "{}.", model=model) == "incorrect"
