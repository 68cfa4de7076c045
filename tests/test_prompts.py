"""paperlab.prompts: the prompt-embedding text/image encoders mirror open_clip exactly; learner errors."""

import logging

import pytest
import torch
from paperlab import clip as pclip
from paperlab import prompts
from torch.testing import assert_close

NAMES = ["red circle", "blue square", "green triangle"]


@pytest.fixture(scope="module")
def micro():
    logging.getLogger().setLevel(logging.ERROR)  # open_clip warns that no pretrained weights are loaded
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and robust on a shared machine
    torch.manual_seed(0)
    model, _ = pclip.create_model()
    yield model.eval(), pclip.tokenizer()
    torch.set_num_threads(threads)


def test_text_encoder_reproduces_encode_text(micro):
    model, tok = micro
    te = prompts.TextEncoder(model)
    ids = tok(["a photo of a red circle.", "hello", "a sketch of a big blue square with stripes."])
    with torch.no_grad():
        te.trim = False  # bit-exact: the same operations in the same order as encode_text
        assert_close(te(te.embed(ids), ids), model.encode_text(ids), rtol=0, atol=0)
        te.trim = True  # padding after EOT dropped: equal up to float summation order
        assert_close(te(te.embed(ids), ids), model.encode_text(ids), rtol=1e-5, atol=1e-5)


def test_image_encoder_reproduces_encode_image(micro):
    model, _ = micro
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert_close(prompts.ImageEncoder(model)(x), model.encode_image(x), rtol=0, atol=0)


def _learner(micro, **kw):
    model, tok = micro
    return prompts.TextEncoder(model), prompts.PromptLearner(prompts.TextEncoder(model), tok, NAMES, **kw)


@pytest.mark.parametrize("position,text", [
    ("end", "a photo of a {}."), ("front", "{} a photo of a."), ("middle", "a photo {} of a."),
])
def test_word_init_prompts_equal_the_written_prompt(micro, position, text):
    model, tok = micro
    te, pl = _learner(micro, ctx_init="a photo of a", class_token_position=position)
    assert pl.n_ctx == 4 and pl.ctx.shape == (4, te.width)  # the phrase overrides n_ctx
    with torch.no_grad():
        ours = te(pl(), pl.tokens)
        ref = model.encode_text(tok([text.format(n) for n in NAMES]))
    assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_random_init_and_class_specific_shapes(micro):
    te, pl = _learner(micro, n_ctx=6)
    assert pl.ctx.shape == (6, te.width) and 0.01 < pl.ctx.std().item() < 0.03
    te, pl = _learner(micro, n_ctx=6, csc=True)
    assert pl.ctx.shape == (3, 6, te.width)
    assert pl().shape == (3, te.context_length, te.width)


def test_swap_classnames_keeps_context(micro):
    _, pl = _learner(micro, n_ctx=4)
    ctx = pl.ctx.detach().clone()
    pl.set_classnames(["yellow star", "purple heart", "red cross", "blue ring"])
    assert pl().shape[0] == 4 and torch.equal(pl.ctx, ctx)


def test_class_specific_context_refuses_new_classes(micro):
    _, pl = _learner(micro, n_ctx=4, csc=True)
    with pytest.raises(ValueError, match="class-specific contexts"):
        pl.set_classnames(["yellow star", "purple heart", "red cross"])


def test_truncated_class_name_is_an_error(micro):
    _, tok = micro
    with pytest.raises(ValueError, match="would truncate"):
        prompts.tokenize_prompts(tok, ["a very long class name " * 4], n_ctx=16)


def test_too_many_context_tokens_is_an_error(micro):
    _, tok = micro
    with pytest.raises(ValueError, match="n_ctx must be"):
        prompts.tokenize_prompts(tok, NAMES, n_ctx=40)
    with pytest.raises(ValueError, match="classnames"):
        prompts.tokenize_prompts(tok, "red circle", n_ctx=4)


def test_bad_inputs(micro):
    model, _ = micro
    with pytest.raises(ValueError, match="class_token_position"):
        _learner(micro, class_token_position="side")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        prompts.check_images(torch.zeros(3, 32, 32), model)
    with pytest.raises(ValueError, match="32x32"):
        prompts.check_images(torch.zeros(2, 3, 28, 28), model)
    te = prompts.TextEncoder(model)
    with pytest.raises(ValueError, match="prompt embeddings"):
        te(torch.zeros(2, 10, te.width), torch.zeros(2, 10, dtype=torch.long))


def test_deep_text_prompts_overwrite_context_slots(micro):
    model, tok = micro
    te, pl = _learner(micro, n_ctx=4)
    x, tokens = pl(), pl.tokens
    deep = [torch.zeros(4, te.width, requires_grad=True) for _ in range(2)]
    with torch.no_grad():
        assert_close(te(x, tokens, deep_prompts=None), te(x, tokens))
    out = te(x, tokens, deep_prompts=deep)
    assert not torch.allclose(out, te(x, tokens))
    out.sum().backward()
    assert all(d.grad is not None and d.grad.abs().sum() > 0 for d in deep)
    y = prompts._replace_slots(torch.ones(2, 8, 3), torch.zeros(4, 3), start=1)
    assert y[:, 1:5].abs().sum() == 0 and y[:, 0].sum() == 6 and y[:, 5:].sum() == 18


def test_visual_prompts_are_appended_and_trainable(micro):
    model, _ = micro
    ie = prompts.ImageEncoder(model)
    x = torch.randn(2, 3, 32, 32)
    vp = torch.zeros(3, ie.width, requires_grad=True)
    deep = [torch.randn(3, ie.width, requires_grad=True)]
    out = ie(x, prompts=vp, deep_prompts=deep)
    assert out.shape == (2, model.visual.output_dim)
    out.sum().backward()
    assert vp.grad is not None and deep[0].grad.abs().sum() > 0


def test_prompted_clip_save_load_drops_class_buffers(micro):
    model, tok = micro
    m = prompts.PromptedCLIP(model, tok)
    m.prompt_learner = prompts.PromptLearner(m.text_encoder, tok, NAMES, n_ctx=4)
    state = m.trainable_state_dict()
    assert set(state) == {"ctx"}
    state_with_buffers = {**state, "token_prefix": torch.zeros(1), "token_suffix": torch.zeros(1)}
    m2 = prompts.PromptedCLIP(model, tok)
    m2.prompt_learner = prompts.PromptLearner(m2.text_encoder, tok, ["yellow star"], n_ctx=4)
    m2.load_trainable_state_dict(state_with_buffers)
    assert torch.equal(m2.prompt_learner.ctx, state["ctx"]) and m2.prompt_learner.n_cls == 1
    with pytest.raises(ValueError, match="shape"):
        m2.load_trainable_state_dict({"ctx": torch.zeros(5, 7)})
    with pytest.raises(ValueError, match="missing"):
        m2.load_trainable_state_dict({})
