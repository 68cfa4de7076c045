"""Tests for the captioned shapes world (paperlab.worlds.shapes)."""

import numpy as np
import pytest
import torch
from paperlab.worlds import shapes as W


def test_vocabulary_sizes():
    assert len(W.SHAPES) >= 8 and len(W.COLORS) >= 8 and len(W.TEXTURES) >= 4 and len(W.SIZES) == 2
    assert W.STYLES[0] == "photo" and {"sketch", "noisy"} <= set(W.STYLES) and len(W.STYLES) >= 4
    assert W.BACKGROUNDS == W.TEXTURES


def test_render_is_deterministic_and_in_range():
    a = W.render(W.sample_scenes(6, seed=3, style={"photo": 0.5, "noisy": 0.5}))
    b = W.render(W.sample_scenes(6, seed=3, style={"photo": 0.5, "noisy": 0.5}))
    c = W.render(W.sample_scenes(6, seed=4))
    assert a.shape == (6, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b), "same seed must give the same pixels"
    assert not torch.equal(a, c)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0


def test_render_64_and_every_style_and_shape():
    for style in W.STYLES:
        img = W.render_one("star", "red", "striped", "large", style, seed=1, image_size=64)
        assert img.shape == (3, 64, 64)
    for shape in W.SHAPES:  # every shape covers a reasonable share of pixels on a plain background
        img = W.render_one(shape, "red", "plain", "large", seed=0)
        red = (img[0] > 0.7) & (img[1] < 0.3)
        assert 20 < int(red.sum()) < 600, shape


def test_styles_differ_from_photo():
    photo = W.render_one("heart", "blue", "dotted", style="photo", seed=2)
    for style in W.STYLES[1:]:
        other = W.render_one("heart", "blue", "dotted", style=style, seed=2)
        assert (photo - other).abs().mean() > 0.02, style


def test_bad_names_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown shape 'hexagram'"):
        W.render_one("hexagram", "red")
    with pytest.raises(ValueError, match="unknown color 'mauve'"):
        W.render_one("star", "mauve")
    with pytest.raises(ValueError, match="unknown style 'watercolor'"):
        W.dataset("shape", style="watercolor")
    with pytest.raises(ValueError, match="unknown dataset 'birds'"):
        W.dataset("birds")
    with pytest.raises(ValueError, match="image_size"):
        W.render(W.sample_scenes(1), image_size=48)
    with pytest.raises(ValueError, match="probability"):
        W.CaptionPolicy(p_color=1.5)
    with pytest.raises(TypeError, match="CaptionPolicy"):
        W.pretrain_batch(2, 0, policy={"p_color": 1.0})
    with pytest.raises(ValueError, match="positive int"):
        W.sample_scenes(0)


def test_held_out_combos_cover_each_word_once_and_never_appear_in_pretraining():
    colors = [c for c, _ in W.HELD_OUT_COMBOS]
    shapes = [s for _, s in W.HELD_OUT_COMBOS]
    assert sorted(colors) == sorted(W.COLORS) and sorted(shapes) == sorted(W.SHAPES)
    scenes = W.sample_scenes(3000, seed=0, exclude_combos=W.HELD_OUT_COMBOS)
    assert not scenes.held_out().any()
    assert W.sample_scenes(3000, seed=0).held_out().mean() > 0.05  # without exclusion they do occur


def test_caption_policy_controls_attributes():
    scenes = W.sample_scenes(50, seed=1, style="sketch")
    always = W.CaptionPolicy(p_shape=1, p_color=1, p_size=1, p_texture=1, p_style=1).captions(scenes, 0)
    never_bg = W.CaptionPolicy(p_texture=0).captions(scenes, 0)
    assert all("background" in c and c.startswith(("a sketch of", "a drawing of")) for c in always)
    assert not any("background" in c for c in never_bg)
    i = 0
    n = scenes.names(i)
    assert n["shape"] in always[i] and n["color"] in always[i] and n["texture"] in always[i]


def test_pretrain_batch():
    images, captions = W.pretrain_batch(12, seed=5)
    images2, captions2 = W.pretrain_batch(12, seed=5)
    assert images.shape == (12, 3, 32, 32) and len(captions) == 12
    assert torch.equal(images, images2) and captions == captions2


def test_combo_split_uses_every_word_on_both_sides():
    ds = W.dataset("combo")
    assert len(ds.classnames) == 64 and len(ds.base) == len(ds.new) == 32
    for subset in ("base", "new"):
        names = [ds.classnames[k] for k in ds.classes(subset)]
        assert {n.split()[0] for n in names} == set(W.COLORS)
        assert {n.split()[1] for n in names} == set(W.SHAPES)
    for name in W.DATASETS:
        d = W.dataset(name)
        assert sorted(d.base + d.new) == list(range(len(d.classnames))) and len(d.base) == len(d.new)


@pytest.mark.parametrize("name,n,first", [("size_shape", 16, "small circle"),
                                          ("shape_texture", 32, "circle on a plain background")])
def test_fine_grained_combination_datasets(name, n, first):
    ds = W.dataset(name)
    assert len(ds.classnames) == n and ds.classnames[0] == first
    attrs = ds.attrs
    for subset in ("base", "new"):  # every word of both attributes on both sides of the split
        words = [ds._classes[k] for k in ds.classes(subset)]
        for j, a in enumerate(attrs):
            assert {w[j] for w in words} == set(W._VOCAB[a])
    test = ds.sample("all", n_per_class=2, seed=0)
    for i in range(len(test)):  # the rendered scene has the class's attributes
        names = test.scenes.names(i)
        assert tuple(names[a] for a in attrs) == ds._classes[int(test.labels[i])]


def test_k_shot_sampler_draws_from_the_training_pool():
    ds = W.ShapesDataset("color", n_train_per_class=16, n_test_per_class=4)
    pool = ds.train(subset="base")
    few = ds.train(k_shot=4, seed=1, subset="base")
    assert len(few) == 4 * len(ds.base) and few.classnames == ["red", "yellow", "green", "blue"]
    assert torch.equal(torch.bincount(few.labels), torch.full((4,), 4))
    flat = pool.images.flatten(1)
    for img in few.images[:5]:
        assert (flat == img.flatten()).all(1).any()
    assert not torch.equal(few.images, ds.train(k_shot=4, seed=2, subset="base").images)
    assert torch.equal(few.images, ds.train(k_shot=4, seed=1, subset="base").images)
    with pytest.raises(ValueError, match="k_shot"):
        ds.train(k_shot=3)
    with pytest.raises(ValueError, match="subset"):
        ds.test(subset="novel")


def test_labels_match_attributes_and_styles_are_paired():
    ds = W.ShapesDataset("shape", n_test_per_class=3)
    test = ds.test("new")
    names = [test.classnames[int(y)] for y in test.labels]
    assert names == [test.scenes.names(i)["shape"] for i in range(len(test))]
    sketch = W.ShapesDataset("shape", style="sketch", n_test_per_class=3).test("new")
    assert np.array_equal(sketch.scenes.shape, test.scenes.shape) and np.array_equal(sketch.scenes.cx, test.scenes.cx)
    assert (sketch.scenes.style == W.STYLES.index("sketch")).all()


def test_sample_draws_fresh_reproducible_test_sets():
    ds = W.dataset("texture")
    a, b, c = ds.sample("new", 3, seed=1), ds.sample("new", 3, seed=1), ds.sample("new", 3, seed=2)
    assert len(a) == 6 and a.classnames == ["checkered", "dotted"]
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    with pytest.raises(ValueError, match="n_per_class"):
        ds.sample("all", 0)
