"""paperlab.mudpt: deep prompts in both towers, injection maps, variants, gradients, checkpoints, bad input."""

import logging

import pytest
import torch
from paperlab import clip as pclip
from paperlab import mudpt
from paperlab.core.train import load_checkpoint, save_checkpoint
from paperlab.prompts import ImageEncoder
from torch.testing import assert_close

NAMES = ["red circle", "blue square", "green triangle"]


@pytest.fixture(scope="module")
def micro():
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns that no pretrained weights are loaded
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, _ = pclip.create_model()
    yield model.eval(), pclip.tokenizer()
    torch.set_num_threads(threads)


def _images(n=4, seed=0):
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def _copy_shared(src, dst):
    """Copy every trainable tensor ``src`` has into ``dst`` (same names)."""
    state = src.trainable_state_dict()
    with torch.no_grad():
        for k, p in dst.prompt_learner.named_parameters():
            if k in state:
                p.copy_(state[k])


def test_towers_have_different_widths(micro):
    model, tok = micro
    m = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=3)
    pl = m.prompt_learner
    assert pl.d_t != pl.d_v  # real cross-width maps
    assert (pl.t2v.proj.in_features, pl.t2v.proj.out_features) == (pl.d_t, pl.d_v)
    assert (pl.v2t.proj.in_features, pl.v2t.proj.out_features) == (pl.d_v, pl.d_t)
    assert pl.deep_ctx.shape == (2, 2, pl.d_t) and pl.visual_deep_ctx.shape == (2, 2, pl.d_v)
    assert m(_images()).shape == (4, 3)


@pytest.mark.parametrize("name", ["mudpt", "t2v", "v2t", "control"])
@pytest.mark.parametrize("maps", ["linear", "transformer"])
def test_zero_init_maps_equal_mpt_exactly(micro, name, maps):
    model, tok = micro
    torch.manual_seed(3)
    mpt = mudpt.MuDPT(model, tok, NAMES, "mpt", n_ctx=2, depth=3)
    other = mudpt.MuDPT(model, tok, NAMES, name, n_ctx=2, depth=3, maps=maps, zero_init=True)
    _copy_shared(mpt, other)
    x = _images()
    assert_close(other(x), mpt(x), rtol=0, atol=0)
    rand = mudpt.MuDPT(model, tok, NAMES, name, n_ctx=2, depth=3, maps=maps, zero_init=False)
    _copy_shared(mpt, rand)
    assert not torch.allclose(rand(x), mpt(x))  # a random map does change the prompts


def test_only_prompts_and_maps_get_gradients(micro):
    model, tok = micro
    m = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=3, zero_init=False)
    m(_images()).logsumexp(-1).sum().backward()
    with_grad = {k for k, p in m.named_parameters() if p.grad is not None}
    assert with_grad and all(k.startswith("prompt_learner.") for k in with_grad)
    names = {k.split(".")[1] for k in with_grad}
    assert names == {"ctx", "deep_ctx", "visual_ctx", "visual_deep_ctx", "w0", "t2v", "v2t"}
    assert not any(p.requires_grad for p in m.clip.parameters())
    assert {id(p) for p in m.trainable_parameters()} == {id(p) for p in m.parameters() if p.requires_grad}
    vpt = mudpt.MuDPT(model, tok, NAMES, "vpt", n_ctx=2, depth=3)
    assert not vpt.prompt_learner.ctx.requires_grad  # VPT: the hand prompt "a photo of a" is fixed
    assert vpt.prompt_learner.n_ctx == 4 and vpt.prompt_learner.n_vis == 2


def test_prompt_slot_is_overwritten_not_added(micro):
    """With deep prompts, the output after layer j does not depend on what the slots held before layer j."""
    model, tok = micro
    enc = ImageEncoder(model)
    x = pclip.normalize(_images(2), model)
    p0a, p0b = torch.randn(2, enc.width), torch.randn(2, enc.width)
    deep = [torch.randn(2, enc.width) for _ in range(len(model.visual.transformer.resblocks) - 1)]
    # every layer from 1 on overwrites the slots: the layer-0 prompts only act through layer 0's attention
    # on the CLS/patch tokens, so two different P^0 must give different outputs ...
    assert not torch.allclose(enc(x, p0a, deep), enc(x, p0b, deep))
    # ... and the slot contents seen by layer 1 are exactly the deep prompt: check on the text tower
    m = mudpt.MuDPT(model, tok, NAMES, "mpt", n_ctx=2, depth=2)
    te, pl = m.text_encoder, m.prompt_learner
    seen = {}
    h = te.transformer.resblocks[1].register_forward_pre_hook(lambda mod, args: seen.setdefault("x", args[0]))
    te(pl(), pl.tokens, deep_prompts=pl.deep_text_prompts())
    h.remove()
    xin = seen["x"] if te.transformer.batch_first else seen["x"].transpose(0, 1)
    assert_close(xin[:, 1:3], pl.deep_ctx[0].expand(len(NAMES), -1, -1))  # overwritten, not added


def test_official_layer0_placement_before_ln_pre(micro):
    model, tok = micro
    m = mudpt.MuDPT(model, tok, NAMES, "vpt", n_ctx=2, depth=1)
    assert m.image_encoder.prompts_before_ln_pre
    seen = {}
    h = model.visual.transformer.resblocks[0].register_forward_pre_hook(lambda mod, args: seen.setdefault("x", args[0]))
    m.image_features(_images(2))
    h.remove()
    x = seen["x"] if model.visual.transformer.batch_first else seen["x"].transpose(0, 1)
    assert_close(x[0, -2:], model.visual.ln_pre(m.prompt_learner.visual_prompts()))


def test_checkpoint_holds_only_trainable_tensors(micro, tmp_path):
    model, tok = micro
    for name in ("coop", "vpt", "mudpt", "control"):
        m = mudpt.MuDPT(model, tok, NAMES, name, n_ctx=2, depth=3)
        state = m.trainable_state_dict()
        trainable = {k for k, p in m.prompt_learner.named_parameters() if p.requires_grad}
        assert set(state) == trainable
        save_checkpoint({"state": state}, tmp_path / f"{name}.pt")
        back = mudpt.MuDPT(model, tok, ["x", "y"], name, n_ctx=2, depth=3)  # other class names: prompts still fit
        back.load_trainable_state_dict(load_checkpoint(tmp_path / f"{name}.pt")["state"])
        for k, v in state.items():
            assert_close(dict(back.prompt_learner.named_parameters())[k].detach(), v)
    assert "ctx" not in mudpt.MuDPT(model, tok, NAMES, "vpt", n_ctx=2).trainable_state_dict()


def test_capacity_control_matches_the_map_parameter_count(micro):
    model, tok = micro
    for maps in ("linear", "transformer"):
        maps_n = mudpt.n_params(mudpt.MuDPT(model, tok, NAMES, "mudpt", maps=maps).prompt_learner.map_modules())
        ctrl_n = mudpt.n_params(mudpt.MuDPT(model, tok, NAMES, "control", maps=maps).prompt_learner.map_modules())
        assert abs(ctrl_n - maps_n) / maps_n < 0.01, (maps, ctrl_n, maps_n)


def test_variants_switch_parts(micro):
    model, tok = micro
    pls = {v: mudpt.MuDPT(model, tok, NAMES, v, n_ctx=2, depth=3).prompt_learner for v in mudpt.VARIANTS}
    assert pls["coop"].visual_prompts() is None and pls["coop"].deep_text_prompts() is None
    assert pls["vpt"].deep_text_prompts() is None and len(pls["vpt"].deep_visual_prompts()) == 2
    assert pls["mpt"].map_modules() == []
    assert pls["t2v"].v2t is None and pls["t2v"].t2v is not None
    assert pls["v2t"].t2v is None and pls["v2t"].w0 is None and pls["v2t"].v2t is not None
    tf = mudpt.MuDPT(model, tok, NAMES, "mudpt", maps="transformer").prompt_learner
    assert tf.w0 is None and tf.t2v.kind == "transformer"  # UUMuDPT: one t->v block serves layer 0 too


def test_bad_input_errors(micro):
    model, tok = micro
    text_layers = len(model.transformer.resblocks)
    with pytest.raises(ValueError, match="exceeds the text tower"):
        mudpt.MuDPT(model, tok, NAMES, "mudpt", depth=text_layers + 1)
    vis_layers = len(model.visual.transformer.resblocks)
    with pytest.raises(ValueError, match="exceeds the vision tower"):
        mudpt.MuDPT(model, tok, NAMES, "vpt", depth=vis_layers + 1)
    with pytest.raises(ValueError, match="free text context length"):
        mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=model.positional_embedding.shape[0])
    with pytest.raises(ValueError, match="depth J must be"):
        mudpt.MuDPT(model, tok, NAMES, "mudpt", depth=0)
    with pytest.raises(ValueError, match="unknown variant"):
        mudpt.MuDPT(model, tok, NAMES, "maple")
    with pytest.raises(ValueError, match="map kind"):
        mudpt.MuDPT(model, tok, NAMES, "mudpt", maps="mlp")
    with pytest.raises(ValueError, match="need deep prompts in both towers"):
        mudpt.Variant(text="shallow", vision=True, t2v=True)
    m = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2)
    pl = m.prompt_learner
    with pytest.raises(ValueError, match=f"must map width {pl.d_t} -> {pl.d_v}"):
        pl.replace_map("t2v", torch.nn.Linear(pl.d_v, pl.d_t))
    pl.replace_map("v2t", torch.nn.Linear(pl.d_v, pl.d_t))  # the right widths are accepted
    with pytest.raises(ValueError, match="has no map"):
        mudpt.MuDPT(model, tok, NAMES, "mpt").prompt_learner.replace_map("t2v", torch.nn.Linear(1, 1))
    state = m.trainable_state_dict()
    state["t2v.proj.weight"] = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="has shape"):
        m.load_trainable_state_dict(state)
    with pytest.raises(ValueError, match="missing"):
        m.load_trainable_state_dict({})
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        m(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="one caption per image"):
        mudpt.caption_alignment(m, _images(2), ["a red circle"])


def test_training_moves_only_trainables_and_lowers_loss(micro):
    from paperlab.worlds import shapes

    model, tok = micro
    split = shapes.dataset("color").train(k_shot=2, seed=0, subset="base")
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(0)  # the maps' random init must not depend on which tests ran before (xdist order)
    m = mudpt.MuDPT(model, tok, split.classnames, "mudpt", n_ctx=2, depth=2, zero_init=False)
    before = {k: v.clone() for k, v in m.trainable_state_dict().items()}
    hist = mudpt.train_prompts(m, split, epochs=6, batch_size=4, lr=0.05, warmup_epochs=0)
    per_epoch = len(hist.train_loss) // 6  # 8 images, batch 4: 2 steps an epoch
    first, last = hist.train_loss[:per_epoch], hist.train_loss[-per_epoch:]
    assert sum(last) / len(last) < sum(first) / len(first)  # epoch-mean loss falls
    after = m.trainable_state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    for k, v in model.state_dict().items():
        assert torch.equal(v, frozen[k]), k  # CLIP untouched
    acc = mudpt.accuracy(m, split)
    assert 0.0 <= acc <= 1.0


def test_caption_alignment_before_tuning_is_clip(micro):
    model, tok = micro
    images = _images(3)
    caps = ["a photo of a red circle.", "a blue square.", "a green triangle."]
    base = mudpt.caption_alignment(model, images, caps)
    assert -1.0 <= base <= 1.0
    m = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2)
    assert m.caption_features(caps).shape == (3, model.visual.output_dim)
    assert m.prompt_learner.classnames == NAMES  # restored after the captions


def test_arms_and_jobs_are_generic():
    cfg = mudpt.SMOKE_CONFIG
    assert mudpt.datasets(cfg) == tuple(cfg["datasets"]) and mudpt.datasets() == mudpt.B2N_DATASETS
    assert len(mudpt.jobs("base2new", cfg)) == len(cfg["datasets"]) * len(mudpt.ARMS) * len(cfg["seeds"])
    assert {j[0] for j in mudpt.jobs("dg", cfg)} == set(cfg["dg_datasets"])
    assert mudpt.arm_kwargs("mudpt-tf", cfg)["maps"] == "transformer"
    assert mudpt.arm_kwargs("mudpt-pl", cfg)["per_layer"] and not mudpt.arm_kwargs("mudpt", cfg)["per_layer"]
    # the official code keeps PyTorch's default map init; "-zero" is the ablation
    assert mudpt.arm_kwargs("mudpt", cfg)["zero_init"] is False and mudpt.arm_kwargs("mudpt-zero", cfg)["zero_init"]
    assert mudpt.arm_kwargs("mudpt-rand", cfg)["zero_init"] is False
    with pytest.raises(ValueError, match="unknown arm"):
        mudpt.arm_kwargs("mudpt-xl", cfg)
    with pytest.raises(ValueError, match="unknown part"):
        mudpt.jobs("everything", cfg)


def test_per_layer_maps(micro):
    """One map per deep layer (the repository's first commits): a ModuleList of deep copies, each applied to
    its own layer's prompts; starts equal to the shared map it was copied from; same shapes as shared maps."""
    model, tok = micro
    torch.manual_seed(0)
    shared = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=3).prompt_learner
    torch.manual_seed(0)
    per = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=3, per_layer=True).prompt_learner
    assert isinstance(per.t2v, torch.nn.ModuleList) and len(per.t2v) == 2 and len(per.v2t) == 2
    assert all(torch.equal(m.proj.weight, per.t2v[0].proj.weight) for m in per.t2v)  # deep copies of one map
    with torch.no_grad():
        per.t2v[1].proj.weight.add_(1.0)  # layer 2's map differs: only layer 2's fused prompt changes
    fused = per.deep_visual_prompts()
    want = [per.visual_deep_ctx[j] + per.t2v[j](per.deep_ctx[j]) for j in range(2)]
    for f, w in zip(fused, want):
        torch.testing.assert_close(f, w)
    assert per.deep_text_prompts()[0].shape == shared.deep_text_prompts()[0].shape
    assert mudpt.n_params(per.map_modules()) > mudpt.n_params(shared.map_modules())
    assert set(mudpt.coupling_strength(per)) == {"t2v", "v2t"}
    with pytest.raises(ValueError, match="per_layer"):
        mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=1, per_layer=True)
    with pytest.raises(ValueError, match="per-layer"):
        per.replace_map("t2v", torch.nn.Linear(per.d_t, per.d_v))


def test_coupling_strength(micro):
    model, tok = micro
    zero = mudpt.MuDPT(model, tok, NAMES, "mudpt", n_ctx=2, depth=3, zero_init=True).prompt_learner
    assert mudpt.coupling_strength(zero) == {"t2v": 0.0, "v2t": 0.0}  # zero init: no coupling yet
    rand = mudpt.MuDPT(model, tok, NAMES, "t2v", n_ctx=2, depth=3, zero_init=False).prompt_learner
    assert set(mudpt.coupling_strength(rand)) == {"t2v"} and mudpt.coupling_strength(rand)["t2v"] > 0
    with pytest.raises(ValueError, match="J >= 2"):
        mudpt.coupling_strength(mudpt.MuDPT(model, tok, NAMES, "mudpt", depth=1).prompt_learner)


def test_unknown_part():
    cfg = mudpt.SMOKE_CONFIG
    with pytest.raises(ValueError, match="unknown part"):
        mudpt.jobs("everything", cfg)


def test_run_real_end_to_end_on_the_eurosat_sample():
    """The gpu profile's path (real files -> MuDPT/MPT/CoOp base-to-new), with the pinned micro-CLIP standing
    in for ViT-B-32 (which cannot be downloaded here) on the tiny EuroSAT-layout sample."""
    from paperlab.core import assets
    from paperlab.core.paths import data_dir

    if mudpt.BACKBONE not in assets.load_registry():
        pytest.skip("the pinned backbone data/mudpt/backbone.pt is not registered")
    cfg = dict(mudpt.REAL_CONFIG, seeds=(0,), n_ctx=2, depth=2, train=dict(epochs=1, batch_size=4, lr=0.0025))
    rows = mudpt.run_real("eurosat", data_dir() / "samples" / "eurosat", backbone="micro", cfg=cfg,
                          arms=("coop", "mudpt"), test_per_class=2)
    table = mudpt.summarize(rows)
    assert set(table.method) == {"zero-shot", "coop", "mudpt"}
    assert all(0.0 <= v <= 100.0 for v in table[["base", "new", "H"]].to_numpy().ravel())


def test_worker_processes_give_the_sequential_runs():
    """``train --workers 2`` spreads runs over processes (``core.distributed.run_many``); each run seeds itself."""
    from paperlab.core import assets
    from paperlab.core import distributed as D

    if mudpt.BACKBONE not in assets.load_registry():
        pytest.skip("the pinned backbone data/mudpt/backbone.pt is not registered")
    cfg = dict(mudpt.SMOKE_CONFIG, n_ctx=2, depth=2, train=dict(epochs=1, batch_size=8, lr=0.01))
    jobs = [dict(dataset="texture", arm="mudpt", k=1, seed=0, depth=2), dict(dataset="texture", arm="mpt", k=2, seed=1, depth=2)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        par = D.run_many(mudpt._train_job, jobs, workers=2, common={"cfg": cfg})
        seq = [mudpt._train_job(cfg=cfg, **job) for job in jobs]
    finally:
        torch.set_num_threads(threads)
    for p, s in zip(par, seq):
        assert p["loss"] == s["loss"]
        for k in s["state"]:
            assert torch.equal(p["state"][k], s["state"][k]), k


def test_exercise_checkers_accept_the_answer_and_reject_plausible_wrong_ones():
    from paperlab.prompts import _replace_slots

    for n in range(1, 6):
        assert mudpt.check_exercise(n, ...) == "not attempted"
    d_t, d_v = mudpt.VIT_B16_WIDTHS["d_t"], mudpt.VIT_B16_WIDTHS["d_v"]
    assert mudpt.check_exercise(1, 2 * (d_t * d_v + d_v) + (d_v * d_t + d_t)) == "correct"
    assert mudpt.check_exercise(1, 3 * d_t * d_v) != "correct"  # biases forgotten
    assert mudpt.check_exercise(1, 2 * (d_t * d_v + d_v)) == "incorrect"  # one direction only
    assert mudpt.check_exercise(1, 14064) == "incorrect"  # the micro-CLIP's count, printed in the budget table
    vis = pclip.model_config()["vision_cfg"]
    tokens = 1 + (vis["image_size"] // vis["patch_size"]) ** 2 + mudpt.CPU_CONFIG["n_ctx"]
    assert mudpt.check_exercise(2, tokens) == "correct"
    assert mudpt.check_exercise(2, tokens - 1) == "incorrect"  # CLS forgotten
    assert mudpt.check_exercise(2, tokens - mudpt.CPU_CONFIG["n_ctx"]) == "incorrect"  # prompts forgotten

    def add(x, p, start):  # adds instead of overwriting
        y = x.clone()
        y[:, start:start + p.shape[0]] += p
        return y

    def insert(x, p, start):  # inserts (the sequence grows) instead of overwriting
        return torch.cat([x[:, :start], p.expand(x.shape[0], -1, -1), x[:, start:]], 1)

    assert mudpt.check_exercise(3, _replace_slots) == "correct"
    assert mudpt.check_exercise(3, add) == "incorrect"
    assert mudpt.check_exercise(3, insert) == "incorrect"
    assert mudpt.check_exercise(4, "b") == "correct"
    assert mudpt.check_exercise(4, "a") == "incorrect" and mudpt.check_exercise(4, "c") == "incorrect"
    with pytest.raises(ValueError, match="1-5"):
        mudpt.check_exercise(6, 1)


def test_exercise_5_wants_a_nonlinear_mlp_map(micro):
    from torch import nn

    class MLP(nn.Sequential):
        def __init__(self, d_in, d_out, act):
            super().__init__(nn.Linear(d_in, 32), *([nn.GELU()] if act else []), nn.Linear(32, d_out))
            self.d_in, self.d_out = d_in, d_out

    def model(new_map=None):
        m = mudpt.MuDPT(*micro, ["red star", "blue ring"], "mudpt", n_ctx=2, depth=2)
        if new_map is not None:
            pl = m.prompt_learner
            pl.replace_map("v2t", new_map(pl.d_v, pl.d_t))
        return m

    assert mudpt.check_exercise(5, model()) == "not attempted"  # the library's map is still there
    assert mudpt.check_exercise(5, model(lambda a, b: MLP(a, b, True))) == "correct"
    assert mudpt.check_exercise(5, model(lambda a, b: MLP(a, b, False))) == "close"  # no nonlinearity: affine
    assert mudpt.check_exercise(5, model(nn.Linear)) == "incorrect"  # no hidden layer of 32


def test_run_real_download_failure_names_dataset_and_fix(tmp_path, monkeypatch):
    from urllib.error import URLError

    import torchvision.datasets.eurosat as tv_eurosat

    def offline(*a, **kw):
        raise URLError("no network")

    monkeypatch.setattr(tv_eurosat, "download_and_extract_archive", offline)
    monkeypatch.setattr(tv_eurosat, "download_url", offline, raising=False)
    with pytest.raises(RuntimeError, match="could not download eurosat") as info:
        mudpt.run_real("eurosat", tmp_path / "eurosat_root", backbone="micro", download=True)
    assert "eurosat/2750" in str(info.value) and isinstance(info.value.__cause__, URLError)
