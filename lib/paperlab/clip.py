"""Micro-CLIP: a tiny CLIP registered as an open_clip model config, loaded with open_clip's own call.

Radford, Kim, Hallacy, Ramesh, Goh, Agarwal, Sastry, Askell, Mishkin, Clark, Krueger, Sutskever,
"Learning Transferable Visual Models From Natural Language Supervision", ICML 2021 (arXiv
2103.00020); official code: openai/CLIP. open_clip (mlfoundations/open_clip) provides the ``CLIP``
class, the tokenizer and the contrastive loss (``open_clip.ClipLoss``) used here.

    import open_clip, paperlab.clip
    paperlab.clip.register()
    model, _, preprocess = open_clip.create_model_and_transforms("paperlab-micro-clip", pretrained=path)

The image tower (ViT, width 96, 8x8 patches) and text tower (width 48) have different widths, as in real CLIP.
``paperlab-nano-clip`` is a smaller config (for smoke runs and the latent-modality notebook).

Stable API (other modules build on these names; new names are added, none renamed):

* ``register()``, ``create_model(pretrained=None, name=MODEL_NAME) -> (model, preprocess)``: the
  same function loads ``name="ViT-B-32", pretrained="openai"`` in the gpu profile.
* ``tokenizer(name)``, ``tokenize(texts, name) -> LongTensor (N, context_length)``.
* ``load_pretrained(which="micro") -> model`` in eval mode: the registered checkpoint
  ``data/clip/microclip.pt`` (sha256-verified); ``which="ViT-B-32"`` loads OpenAI's weights.
* ``checkpoint_metadata() -> dict``: the loss curve, eval numbers, config and command stored in
  the checkpoint.
* **Images**: every function taking ``images`` expects **raw pixels in [0, 1]**, shape
  (N, 3, H, W), as ``paperlab.worlds.shapes`` renders them, and normalizes them itself with
  ``normalize(images, model)`` (the model's mean/std). Only ``normalize`` and the model's own
  ``model.encode_image`` see normalized images.
* ``encode_images(model, images) -> (N, D)`` and ``encode_texts(model, texts) -> (N, D)``:
  L2-normalized embeddings.
* ``zero_shot_weights(model, classnames, templates) -> (K, D)``: normalized class embeddings
  (mean of the normalized template embeddings, renormalized, as in CLIP's zero-shot notebook).
* ``zero_shot_logits(model, images, weights) -> (N, K)`` (scaled by the learned temperature),
  ``evaluate_zero_shot(model, split, templates) -> accuracy``.
* ``linear_probe(model, train_split, test_split) -> accuracy``: sklearn LogisticRegression on
  frozen image features (CLIP section 3.2).
* ``modality_gap(model, images, texts) -> float``: distance between the modality centroids.
* ``pretrain(policy, size="micro", steps, batch_size, seed) -> (model, history)`` and the CLI
  ``python -m paperlab.clip train --seed S --steps N --out data/clip/microclip.pt`` (``pretrain`` is the
  same command; on the shared ``paperlab.core.cli`` command line, so ``--seeds 1 2 --workers 2`` trains
  two extra seeds in two processes).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

from paperlab.worlds import shapes as world

MODEL_NAME = "paperlab-micro-clip"
SIZES = {"micro": "paperlab-micro-clip", "nano": "paperlab-nano-clip"}
CONFIG_DIR = Path(__file__).parent / "clip_configs"
CHECKPOINT = "clip/microclip.pt"  # registry name under data/
PROBE_TRAIN_PER_CLASS = 256  # the linear probe's training set: the world is unbounded, so a fixed, generous draw
CARD = "clip/CARD.md"
REAL_MODEL = ("ViT-B-32", "openai")  # loaded as "ViT-B-32-quickgelu": OpenAI's weights use QuickGELU


def register() -> str:
    """Register the micro-CLIP config(s) with open_clip (idempotent). Returns the model name."""
    if any(n not in open_clip.list_models() for n in SIZES.values()):
        open_clip.add_model_config(CONFIG_DIR)
    return MODEL_NAME


def model_config(name: str = MODEL_NAME) -> dict:
    """The open_clip config dict of ``name`` (embed_dim, vision_cfg, text_cfg)."""
    register()
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise ValueError(f"unknown model config {name!r}; paperlab configs: {sorted(SIZES.values())}")
    return cfg


def create_model(pretrained: str | Path | None = None, name: str = MODEL_NAME, device: str = "cpu"):
    """``open_clip.create_model_and_transforms(name, pretrained=...)`` -> (model, preprocess_val).

    ``pretrained`` is a checkpoint path, an open_clip tag (``"openai"`` with ``name="ViT-B-32"``) or
    None (random init). A checkpoint written for another config raises a ValueError naming both.
    """
    register()
    if name not in open_clip.list_models():
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(SIZES.values())} or an open_clip model")
    pretrained = str(pretrained) if pretrained else None
    if pretrained and Path(pretrained).suffix in (".pt", ".pth", ".bin") and not Path(pretrained).is_file():
        raise FileNotFoundError(f"checkpoint {pretrained} does not exist")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device)
    except RuntimeError as exc:
        if "size mismatch" in str(exc) or "Missing key" in str(exc) or "Unexpected key" in str(exc):
            raise ValueError(f"checkpoint {pretrained} does not fit model config {name!r} "
                             f"(written for another config?): {str(exc)[:300]}") from exc
        raise
    model.paperlab_name = name  # remembered for the tokenizer
    return model, preprocess


def tokenizer(name: str = MODEL_NAME):
    """open_clip's own tokenizer for ``name`` (works offline), with the config's context length."""
    register()
    return open_clip.get_tokenizer(name)


def tokenize(texts: list[str] | str, name: str = MODEL_NAME) -> torch.Tensor:
    """Token ids (N, context_length) of ``texts`` with open_clip's BPE tokenizer."""
    if isinstance(texts, str):
        texts = [texts]
    return tokenizer(name)(list(texts))


def load_pretrained(which: str = "micro", device: str = "cpu", checkpoint: str = CHECKPOINT):
    """The pretrained model in eval mode.

    ``which="micro"``: ``data/<checkpoint>`` verified against ``data/REGISTRY.toml`` (sha256), loaded
    with ``create_model``. ``which="ViT-B-32"``: OpenAI's weights through the same function
    (downloads; gpu profile only).
    """
    if which == "micro":
        from paperlab.core import assets

        model, _ = create_model(assets.path(checkpoint), name=checkpoint_metadata(checkpoint)["model_name"],
                                device=device)
    elif which in (REAL_MODEL[0], REAL_MODEL[0] + "-quickgelu"):
        try:
            model, _ = create_model(REAL_MODEL[1], name=REAL_MODEL[0] + "-quickgelu", device=device)
        except (OSError, RuntimeError) as exc:  # no network, a blocked host, a truncated download
            from paperlab.core.profiles import download_error

            raise download_error(
                "OpenAI's CLIP ViT-B/32 weights", "https://openaipublic.azureedge.net/clip/models/ (via open_clip)",
                "~/.cache/clip or the Hugging Face cache (open_clip's default)",
                "run `open_clip.create_model_and_transforms('ViT-B-32-quickgelu', pretrained='openai')` once on a "
                "machine with internet and copy its cache into", exc) from exc
    else:
        raise ValueError(f"which must be 'micro' or {REAL_MODEL[0]!r}, got {which!r}")
    return model.eval()


def checkpoint_metadata(checkpoint: str = CHECKPOINT) -> dict:
    """The ``paperlab`` metadata stored beside the weights (model_name, config, loss curve, eval, command)."""
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    obj = load_checkpoint(assets.path(checkpoint))
    return obj.get("paperlab", {"model_name": MODEL_NAME})


# ----------------------------------------------------------------------------- encoders


def _image_size(model) -> int:
    size = model.visual.image_size
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def normalize(images: torch.Tensor, model) -> torch.Tensor:
    """Raw images in [0, 1] (N, 3, H, W) -> normalized with the model's mean/std (model.visual.image_mean)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be a float tensor (N, 3, H, W), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    mean = torch.tensor(model.visual.image_mean, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


def _check_images(images: torch.Tensor, model, resize: bool) -> torch.Tensor:
    images = images if isinstance(images, torch.Tensor) else torch.as_tensor(images)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if images.min() < -1e-3 or images.max() > 1 + 1e-3:
        raise ValueError("images must be raw pixels in [0, 1] (these functions normalize them themselves); "
                         f"got values in [{images.min():.2f}, {images.max():.2f}]")
    size = _image_size(model)
    if images.shape[-1] != size or images.shape[-2] != size:
        if not resize:
            raise ValueError(f"images are {images.shape[-2]}x{images.shape[-1]} but the model expects "
                             f"{size}x{size}; render at image_size={size} or pass resize=True")
        images = F.interpolate(images.float(), size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return images.float()


def encode_images(model, images: torch.Tensor, batch_size: int = 256, resize: bool = False) -> torch.Tensor:
    """Raw images (N, 3, H, W) in [0, 1] -> L2-normalized image embeddings (N, D), no grad."""
    images = _check_images(images, model, resize)
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            x = normalize(images[i:i + batch_size].to(device), model)
            out.append(model.encode_image(x, normalize=True).float().cpu())
    return torch.cat(out)


def encode_texts(model, texts: list[str], name: str | None = None, batch_size: int = 512) -> torch.Tensor:
    """Strings -> L2-normalized text embeddings (N, D), no grad (tokenized with open_clip's tokenizer)."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of strings")
    tok = tokenizer(name) if name else _model_tokenizer(model)
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            out.append(model.encode_text(tok(texts[i:i + batch_size]).to(device), normalize=True).float().cpu())
    return torch.cat(out)


def _model_tokenizer(model):
    """The tokenizer of ``model``: by its config name if known, else open_clip's BPE at its context length."""
    name = getattr(model, "paperlab_name", None)
    if name is not None:
        return tokenizer(name)
    return open_clip.SimpleTokenizer(context_length=int(model.positional_embedding.shape[0]))


# ----------------------------------------------------------------------------- zero-shot and probes


def zero_shot_weights(model, classnames: list[str], templates: list[str]) -> torch.Tensor:
    """Class embeddings (K, D): for each class, the normalized mean of its normalized template embeddings."""
    for arg, what in ((classnames, "classnames"), (templates, "templates")):
        if isinstance(arg, str):  # a string is a sequence of characters: 'circle' would be six one-letter classes
            raise TypeError(f"{what} must be a list of strings, got the single string {arg!r}; "
                            f"wrap it in a list: [{arg!r}]")
    if not classnames or not templates:
        raise ValueError("zero_shot_weights needs at least one class name and one template")
    bad = [t for t in templates if "{}" not in t]
    if bad:
        raise ValueError(f"every template needs a '{{}}' slot for the class name, got {bad}")
    texts = [t.format(c) for c in classnames for t in templates]
    emb = encode_texts(model, texts).view(len(classnames), len(templates), -1)
    return F.normalize(emb.mean(dim=1), dim=-1)  # CLIP's prompt ensembling: average, then renormalize


def zero_shot_logits(model, images: torch.Tensor, weights: torch.Tensor, resize: bool = False) -> torch.Tensor:
    """Logits (N, K) = exp(t) * cos(image, class): the CLIP classifier with the learned temperature t."""
    feats = encode_images(model, images, resize=resize)
    if weights.ndim != 2 or weights.shape[1] != feats.shape[1]:
        raise ValueError(f"weights must be (K, {feats.shape[1]}), got {tuple(weights.shape)}")
    return model.logit_scale.exp().detach().float().cpu() * feats @ weights.T


def zero_shot_correct(model, split, templates: list[str] | None = None, resize: bool = False) -> np.ndarray:
    """Per-example zero-shot correctness (N,) of 0/1 floats on a ``shapes.Split``: the scores a paired
    bootstrap over test examples needs (``paperlab.core.claims.paired_bootstrap``)."""
    templates = templates or ["a photo of a {}."]
    w = zero_shot_weights(model, split.classnames, templates)
    pred = zero_shot_logits(model, split.images, w, resize=resize).argmax(dim=1)
    return (pred == split.labels).float().numpy()


def evaluate_zero_shot(model, split, templates: list[str] | None = None, resize: bool = False) -> float:
    """Zero-shot top-1 accuracy on a ``shapes.Split`` (classes = ``split.classnames``)."""
    return float(zero_shot_correct(model, split, templates, resize).mean())


def linear_probe(model, train_split, test_split, C: float = 1.0, resize: bool = False, per_example: bool = False):
    """Accuracy of a logistic-regression probe on frozen image features (CLIP sec. 3.2).

    Features are standardised (sklearn ``StandardScaler``) before an L2-regularised
    ``LogisticRegression(C)``; CLIP sweeps C on a validation split, we fix it (named simplification).
    ``test_split`` may be a list of splits: the probe is fitted once and a list of accuracies returned.
    ``per_example=True`` returns the per-example 0/1 correctness arrays (N,) instead of accuracies.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tests = list(test_split) if isinstance(test_split, (list, tuple)) else [test_split]
    for t in tests:
        if list(train_split.classnames) != list(t.classnames):
            raise ValueError("train and test splits must have the same classnames (same subset)")
    xtr = encode_images(model, train_split.images, resize=resize).numpy()
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    clf.fit(xtr, train_split.labels.numpy())
    correct = [(clf.predict(encode_images(model, t.images, resize=resize).numpy()) == t.labels.numpy()).astype(float)
               for t in tests]
    accs = correct if per_example else [float(c.mean()) for c in correct]
    return accs if isinstance(test_split, (list, tuple)) else accs[0]


def modality_gap(model, images: torch.Tensor, texts: list[str]) -> float:
    """||mean image embedding - mean text embedding|| over paired samples (Liang et al. 2022's gap)."""
    gi, gt = encode_images(model, images).mean(0), encode_texts(model, texts).mean(0)
    return float((gi - gt).norm())


# ----------------------------------------------------------------------------- pretraining


def pretrain(policy: world.CaptionPolicy = world.DEFAULT_POLICY, size: str = "micro", steps: int = 1500,
             batch_size: int = 128, lr: float = 1e-3, weight_decay: float = 0.1, seed: int = 0,
             image_size: int = 32, progress: bool = True, log_every: int = 10, extra_loss=None, model_hook=None,
             batch_fn=None):
    """Contrastive pretraining on fresh batches of the shapes world -> (model in eval mode, history dict).

    Each step draws ``batch_size`` new (image, caption) pairs (``world.pretrain_batch``) and
    minimises open_clip's symmetric InfoNCE loss ``ClipLoss`` with AdamW and a one-cycle schedule.
    ``extra_loss(image_features, text_features, logit_scale) -> scalar tensor`` (features L2-normalised,
    as open_clip's CLIP returns them) is added to the contrastive loss: the latent-modality regularizers
    plug in here. Its value is logged in ``history["extra"]``. ``model_hook(model)`` is called once on the
    fresh model before the optimiser is built (to add trainable submodules or forward hooks);
    ``batch_fn(n, seed, policy=..., image_size=...) -> (images, captions)`` replaces
    ``world.pretrain_batch`` (for example to cache rendered images across runs).
    """
    from tqdm.auto import tqdm

    from paperlab.core.seeding import seed_everything

    if size not in SIZES:
        raise ValueError(f"size must be one of {list(SIZES)}, got {size!r}")
    if steps < 1 or batch_size < 2:
        raise ValueError(f"need steps >= 1 and batch_size >= 2, got steps={steps}, batch_size={batch_size}")
    seed_everything(seed)
    name = SIZES[size]
    model, _ = create_model(None, name=name)
    if _image_size(model) != image_size:
        raise ValueError(f"config {name!r} expects image_size {_image_size(model)}, got {image_size}")
    for what, fn in (("model_hook", model_hook), ("batch_fn", batch_fn)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{what} must be callable, got {fn!r}")
    if model_hook is not None:
        model_hook(model)
    batch_fn = batch_fn or world.pretrain_batch
    tok, loss_fn = tokenizer(name), open_clip.ClipLoss()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6)
    # one-cycle warm-up over 10% of the steps (at least 2 steps each way: torch divides by the phase lengths)
    pct = min(0.5, max(0.1, 2.0 / steps)) if steps >= 4 else 0.5
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 4), pct_start=pct)
    if extra_loss is not None and not callable(extra_loss):
        raise TypeError(f"extra_loss must be callable(image_features, text_features, logit_scale), got {extra_loss!r}")
    hist = {"step": [], "loss": [], "logit_scale": [], **({"extra": []} if extra_loss is not None else {})}
    model.train()
    t0 = time.time()
    for step in tqdm(range(steps), desc=f"pretrain {name}", disable=not progress, mininterval=5):
        images, captions = batch_fn(batch_size, seed=seed * 1_000_003 + step, policy=policy, image_size=image_size)
        img_f, txt_f, scale = model(normalize(images, model), tok(captions))
        loss = loss_fn(img_f, txt_f, scale)  # Eq. (InfoNCE, both directions), see the 00_clip notebook
        extra = extra_loss(img_f, txt_f, scale) if extra_loss is not None else None
        if extra is not None:
            if extra.ndim != 0:
                raise ValueError(f"extra_loss must return a scalar tensor, got shape {tuple(extra.shape)}")
            loss = loss + extra
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))  # as in CLIP: temperature capped at 100
        if step % log_every == 0 or step == steps - 1:
            hist["step"].append(step)
            hist["loss"].append(float(loss.detach()))
            hist["logit_scale"].append(float(model.logit_scale.exp().detach()))
            if extra is not None:
                hist["extra"].append(float(extra.detach()))
    hist["wall_s"] = time.time() - t0
    model.paperlab_name = name
    return model.eval(), hist


# ----------------------------------------------------------------------------- checkpoint, evaluation, card


def world_token_ids(name: str = MODEL_NAME) -> torch.Tensor:
    """Sorted token ids the shapes world can produce (captions, templates, class names) plus a few extras.

    Extras: "X" (CoOp's placeholder context word), "." and ",", start/end of text. Every other row of
    the token-embedding table is unused by the course and is zeroed in the saved checkpoint.
    """
    words = (list(world.SHAPES) + list(world.COLORS) + list(world.TEXTURES) + list(world.SIZES) + list(world.STYLES)
             + ["a", "an", "of", "on", "the", "photo", "image", "picture", "sketch", "drawing", "noisy", "blurry",
                "shape", "background", "X", ".", ",", "object", "thing", "something", "this", "is"])
    texts = words + [t.format(c) for n in world.DATASETS for c in world.dataset(n).classnames
                     for t in world.dataset(n).templates]
    ids = tokenize(texts, name).unique()
    return ids[ids != 0]


def save_pretrained(model, path: str | Path, meta: dict) -> Path:
    """Save ``{"state_dict", "paperlab": meta}`` loadable by ``open_clip.create_model_and_transforms``.

    Token-embedding rows the world never uses are zeroed ("pruned") and the zip is rewritten with
    deflate compression, so the file is a few MB; ``torch.load(weights_only=True)`` reads it as is.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    keep = world_token_ids(meta.get("model_name", MODEL_NAME))
    emb = torch.zeros_like(sd["token_embedding.weight"])
    emb[keep] = sd["token_embedding.weight"][keep]
    sd["token_embedding.weight"] = emb
    raw = path.with_suffix(".raw.tmp")
    torch.save({"state_dict": sd, "paperlab": meta}, raw)
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
    raw.unlink()
    return path


def evaluate(model, n_eval: str = "full") -> dict:
    """The card's numbers: zero-shot per dataset and style, held-out combos, linear probe, modality gap."""
    out = {}
    for name in world.DATASETS:
        ds = world.dataset(name)
        test = ds.test("all")
        zs = evaluate_zero_shot(model, test, ds.templates)
        out[f"zero_shot_{name}"] = zs
        out[f"chance_{name}"] = 1.0 / len(ds.classnames)
        out[f"probe_{name}"] = linear_probe(model, ds.sample("all", n_per_class=PROBE_TRAIN_PER_CLASS, seed=7), test)
        if name == "combo":  # combos never seen in pretraining, still classified among all 64
            held = torch.from_numpy(test.scenes.held_out())
            w = zero_shot_weights(model, test.classnames, ds.templates)
            pred = zero_shot_logits(model, test.images, w).argmax(1)
            out["zero_shot_combo_held_out"] = float((pred[held] == test.labels[held]).float().mean())
            out["zero_shot_combo_seen"] = float((pred[~held] == test.labels[~held]).float().mean())
        for style in world.STYLES[1:]:
            out[f"zero_shot_{name}_{style}"] = evaluate_zero_shot(model, world.dataset(name, style).test("all"),
                                                                  ds.templates)
    images, captions = world.pretrain_batch(1000, seed=123_456, style_probs={"photo": 1.0})
    out["modality_gap"] = modality_gap(model, images, captions)
    return {k: round(float(v), 4) for k, v in out.items()}


def _card_text(meta: dict) -> str:
    ev, cfg = meta["eval"], meta["config"]
    rows = ["| dataset | chance | zero-shot | linear probe | probe - zs | sketch | noisy | blurred |",
            "|---|---|---|---|---|---|---|---|"]
    for n in world.DATASETS:
        rows.append(f"| {n} | {ev[f'chance_{n}']:.3f} | {ev[f'zero_shot_{n}']:.3f} | {ev[f'probe_{n}']:.3f} | "
                    f"{ev[f'probe_{n}'] - ev[f'zero_shot_{n}']:+.3f} | "
                    + " | ".join(f"{ev[f'zero_shot_{n}_{s}']:.3f}" for s in world.STYLES[1:]) + " |")
    extra = meta.get("extra_seeds") or "not run (time on the shared machine did not allow them)"
    return "\n".join([
        "# Card: micro-CLIP checkpoint `data/clip/microclip.pt`", "",
        f"Made by `{meta['command']}` (seed {meta['seed']}, {meta['steps']} steps of batch {meta['batch_size']}, "
        f"wall time {meta['wall_s'] / 60:.1f} min on {meta['threads']} CPU thread(s) of a shared 2-core machine).",
        f"Model config `{meta['model_name']}`: `{json.dumps(cfg)}`.",
        f"Caption policy: `{meta['policy']}`. Held-out combos (never in pretraining): {list(world.HELD_OUT_COMBOS)}.",
        "Load it with `open_clip.create_model_and_transforms('paperlab-micro-clip', pretrained='data/clip/microclip.pt')`"
        " after `paperlab.clip.register()`, or `paperlab.clip.load_pretrained()` (sha256-verified).",
        "Token-embedding rows the world never uses are zeroed, and the file is deflate-compressed.", "",
        f"## Evaluation (fixed test sets of the shapes world, 50 images per class; probe trained on "
        f"{PROBE_TRAIN_PER_CLASS} fresh images per class)", "",
        *rows, "",
        "Dataset x style cells where zero-shot does not drop below photo: "
        + (", ".join(f"{n} {s} ({ev[f'zero_shot_{n}_{s}']:.3f} vs {ev[f'zero_shot_{n}']:.3f})"
                     for n in world.DATASETS for s in world.STYLES[1:]
                     if ev[f"zero_shot_{n}_{s}"] >= ev[f"zero_shot_{n}"]) or "none") + ".",
        f"Zero-shot on the 8 combos held out of pretraining (64-way): {ev['zero_shot_combo_held_out']:.3f} "
        f"(seen combos: {ev['zero_shot_combo_seen']:.3f}).",
        f"Modality gap (distance between the image and text centroids, 1000 photo pairs): {ev['modality_gap']:.3f}.",
        f"Evaluation numbers computed by `{meta.get('eval_command', meta['command'])}`.",
        f"Final pretraining loss: {meta['history']['loss'][-1]:.3f}; learned temperature exp(t) = "
        f"{meta['history']['logit_scale'][-1]:.1f}.", "",
        "## Behaviour requirements (issue 4)", "",
        *[f"- {k}: **{'yes' if v else 'no'}**" for k, v in requirements(ev).items()], "",
        "## Other pretraining seeds", "", str(extra), "",
        "## Changes made to meet the requirements", "", meta.get("changes", "none"), "",
    ])


def requirements(ev: dict) -> dict[str, bool]:
    """The issue's behaviour requirements, evaluated on an ``evaluate()`` dict."""
    ds = world.DATASETS
    return {
        "zero-shot >= 3x chance on every dataset": all(ev[f"zero_shot_{n}"] >= 3 * ev[f"chance_{n}"] for n in ds),
        "zero-shot >= 3x chance on held-out combos": ev["zero_shot_combo_held_out"] >= 3 * ev["chance_combo"],
        "combo zero-shot in [0.50, 0.85]": 0.50 <= ev["zero_shot_combo"] <= 0.85,
        "probe beats zero-shot by >= 5 points on at least half the datasets":
            sum(ev[f"probe_{n}"] - ev[f"zero_shot_{n}"] >= 0.05 for n in ds) >= len(ds) / 2,
        "zero-shot (mean over datasets) drops under each non-photo style":
            all(sum(ev[f"zero_shot_{n}_{s}"] - ev[f"zero_shot_{n}"] for n in ds) < 0 for s in world.STYLES[1:]),
        "zero-shot drops under each non-photo style on every dataset (stricter reading)":
            all(ev[f"zero_shot_{n}_{s}"] < ev[f"zero_shot_{n}"] for n in ds for s in world.STYLES[1:]),
    }


CHANGES = ("Relative to the issue's prototype (ViT 4 layers x width 128 with patch 4, text 4 x 96, 2000 steps "
           "of batch 128 in ~14 min alone): a ViT of 4 layers x width 96 with 8x8 patches (cheaper than 4x4), "
           "a smaller text tower (3 layers x width 48; embedding 64), shapes drawn larger (radius 0.19-0.23 / "
           "0.28-0.34 of the image instead of 0.15-0.19 / 0.27-0.33), peak learning rate 2e-3. Three earlier "
           "runs of 450-800 steps, made while the 2 cores ran ~10 other jobs, learned colour and texture but left "
           "shape near chance; the committed checkpoint is the same recipe trained for 2000 steps (12.5 min on "
           "2 threads). With the first four datasets (shape, colour, texture, combo) and a probe trained on 64 "
           "images per class, 'probe beats zero-shot by >= 5 points on half the datasets' did not hold (colour "
           "and texture at the ceiling for both, combo +4.5, shape -2). Following the issue (change the datasets, "
           "not the test), two finer-grained downstream datasets were added whose deciding word the captions name "
           "rarely -- size+shape (size in 40% of captions) and shape+background (background in 50%) -- and the "
           "probe is trained on 256 fresh images per class (the world is unbounded; CLIP's probe uses each "
           "dataset's full training set). The checkpoint itself is unchanged; its numbers were re-measured. "
           "The style requirement is read as the issue words it (zero-shot accuracy drops under each style: "
           "mean over datasets); the stricter per-dataset reading is reported too and does not hold, because "
           "colour stays at the ceiling under blur (blur keeps hue).")


def pretrain_job(seed: int, size: str, steps: int, batch_size: int, lr: float, progress: bool = True) -> dict:
    """One pretraining seed of ``python -m paperlab.clip train``: weights, history and the card's evaluation.

    Returns plain data (a picklable result for ``Run.map``); the caller (rank 0) saves and registers."""
    model, hist = pretrain(world.DEFAULT_POLICY, size=size, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                           progress=progress)
    t0 = time.time()
    ev = evaluate(model)
    return {"seed": seed, "state_dict": model.state_dict(), "history": hist, "eval": ev, "eval_wall_s": time.time() - t0}


def _train_main(argv: list[str]) -> int:
    """``python -m paperlab.clip train|pretrain`` on the shared command line (``paperlab.core.cli``)."""
    from paperlab.core import cli

    ap = cli.parser("python -m paperlab.clip", "Pretrain the micro-CLIP on the shapes world, evaluate it, "
                    "save it, register it and write its card.", commands=("pretrain", "train"))
    ap.set_defaults(threads=2)  # the committed checkpoint was trained with 2 threads (CPU results depend on it)
    ap.add_argument("--seed", type=cli.seed_int, default=None, help="one seed (the same as --seeds S)")
    ap.add_argument("--steps", type=cli.positive_int, default=2000)
    ap.add_argument("--batch-size", type=cli.positive_int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--size", choices=list(SIZES), default="micro")
    ap.add_argument("--out", default=f"data/{CHECKPOINT}",
                    help="checkpoint path; with several seeds each seed S goes to <stem>-seedS<suffix>")
    ap.add_argument("--no-register", action="store_true",
                    help="extra seeds: save and evaluate only (implied by several seeds)")

    def body(args, run):
        cli.cpu_plan_only(ap, args, run, "clip", "the micro-CLIP, 2000 steps; a quick run: --size nano --steps 20",
                          gpu_note="note: the gpu profile uses OpenAI's pre-trained CLIP (nothing to train); "
                                   "pretraining the micro-CLIP on the CPU")
        if args.seed is not None and run.seeds is not None:
            ap.error("give --seed S or --seeds S1 S2 ..., not both")
        seeds = (args.seed,) if args.seed is not None else run.seeds_or((0,))
        several = len(seeds) > 1
        parts = run.map(pretrain_job, [{"seed": s} for s in seeds],
                        {"size": args.size, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                         "progress": run.workers == 1 and run.world == 1})
        if not run.is_main:
            return 0
        base = Path(args.out)
        command = "python -m paperlab.clip " + " ".join(argv)
        for part in parts:
            out = base.with_name(f"{base.stem}-seed{part['seed']}{base.suffix}") if several else base
            model, _ = create_model(None, name=SIZES[args.size])
            model.load_state_dict(part["state_dict"])
            hist = part["history"]
            meta = {"model_name": SIZES[args.size], "config": model_config(SIZES[args.size]), "seed": part["seed"],
                    "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "threads": run.threads,
                    "policy": repr(world.DEFAULT_POLICY), "history": hist, "wall_s": hist["wall_s"],
                    "command": command, "changes": CHANGES, "eval": part["eval"], "eval_wall_s": part["eval_wall_s"]}
            save_pretrained(model.eval(), out, meta)
            print(out, json.dumps(part["eval"]))
            print(requirements(part["eval"]))
            if not (args.no_register or several):
                from paperlab.core import assets
                from paperlab.core.paths import data_dir

                name = str(out.resolve().relative_to(data_dir().resolve()))
                assets.register(name, command=command, seeds=[part["seed"]], wall_s=round(hist["wall_s"], 1),
                                model_name=meta["model_name"], eval=meta["eval"])
                (data_dir() / CARD).write_text(_card_text(meta))
            else:
                out.with_suffix(".eval.json").write_text(json.dumps({**part["eval"], "seed": part["seed"]}, indent=1))
        return 0

    return cli.main(ap, body, argv)


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m paperlab.clip train|pretrain [--seeds S ...] [--steps N] [--workers N]``, ``card``, ``evaluate``.

    ``train`` (= ``pretrain``, what ``make train NB=00_clip`` runs) is on the shared command line
    (``paperlab.core.cli``): several ``--seeds`` are independent jobs split over ``--workers`` processes
    or torchrun ranks; rank 0 saves every checkpoint. ``card`` and ``evaluate`` keep their own options.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("pretrain", "train"):
        return _train_main(argv)
    p = argparse.ArgumentParser(prog="python -m paperlab.clip", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("pretrain", aliases=["train"], add_help=False,
                   help="pretrain the micro-CLIP, save, evaluate, register, write the card (see `pretrain -h`)")
    pc = sub.add_parser("card", help="rewrite data/clip/CARD.md (and the checkpoint's notes) from its metadata")
    pc.add_argument("--extra", nargs="*", default=[], help="eval JSON files of extra pretraining seeds")
    pc.add_argument("--reevaluate", action="store_true", help="recompute the eval numbers with this library")
    pc.add_argument("--eval-from", help="take the eval numbers from an `evaluate` JSON of a byte-identical copy "
                                        "of the registered checkpoint (its sha256 is checked)")
    pe = sub.add_parser("evaluate", help="evaluate extra-seed checkpoints (made with --no-register) with this library")
    pe.add_argument("checkpoints", nargs="+", help="paths; each writes <path>.eval.json for `card --extra`")
    pe.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.cmd == "evaluate":
        torch.set_num_threads(args.threads)
        from paperlab.core.assets import sha256_of
        from paperlab.core.train import load_checkpoint

        for path in map(Path, args.checkpoints):
            meta = load_checkpoint(path)["paperlab"]
            model, _ = create_model(path, name=meta["model_name"])
            ev = {**evaluate(model.eval()), "seed": meta["seed"], "sha256": sha256_of(path)}
            path.with_suffix(".eval.json").write_text(json.dumps(ev, indent=1))
            print(path, json.dumps(ev))
        return 0
    return _rewrite_card(args.extra, args.reevaluate, args.eval_from)


def _rewrite_card(extra: list[str], reevaluate: bool = False, eval_from: str | None = None) -> int:
    """Refresh the notes (changes, extra seeds) in the registered checkpoint and rewrite the card."""
    from paperlab.core import assets
    from paperlab.core.paths import data_dir
    from paperlab.core.train import load_checkpoint

    meta = load_checkpoint(assets.path(CHECKPOINT))["paperlab"]
    meta["changes"] = CHANGES
    if extra:
        rows = ["| seed | " + " | ".join(f"zs {n}" for n in world.DATASETS) + " | zs held-out | probe-zs >= 5 pts "
                "| gap | requirements not met |", "|---" * (len(world.DATASETS) + 5) + "|"]
        for f in extra:
            ev = json.loads(Path(f).read_text())
            wins = sum(ev[f"probe_{n}"] - ev[f"zero_shot_{n}"] >= 0.05 for n in world.DATASETS)
            rows.append(f"| {ev.get('seed', Path(f).stem)} | " + " | ".join(f"{ev[f'zero_shot_{n}']:.3f}"
                        for n in world.DATASETS) + f" | {ev['zero_shot_combo_held_out']:.3f} | {wins}/{len(world.DATASETS)} "
                        f"| {ev['modality_gap']:.3f} | "
                        + ("; ".join(k for k, ok in requirements(ev).items() if not ok) or "none") + " |")
        rows.append("")
        rows.append("Extra seeds: `python -m paperlab.clip pretrain --seed S --steps 2000 --threads 1 --no-register "
                    "--out /tmp/clipseeds/seedS.pt` (stopped once the checkpoint was saved), then "
                    "`python -m paperlab.clip evaluate /tmp/clipseeds/seedS.pt` with this library's datasets; "
                    "the committed checkpoint (seed 0) is in the tables above.")
        meta["extra_seeds"] = "\n".join(rows)
    model, _ = create_model(assets.path(CHECKPOINT), name=meta["model_name"])
    entry = assets.entry(CHECKPOINT)
    if reevaluate:  # same weights, numbers recomputed with the current evaluation code
        meta["eval"] = entry["eval"] = evaluate(model.eval())
        meta["eval_command"] = entry["eval_command"] = "python -m paperlab.clip card --reevaluate"
    elif eval_from:  # numbers computed by `evaluate` on a copy of these very bytes
        ev = json.loads(Path(eval_from).read_text())
        if ev.get("sha256") != entry["sha256"]:
            raise ValueError(f"{eval_from} was computed on a file with sha256 {ev.get('sha256')!r}, "
                             f"not the registered checkpoint ({entry['sha256']})")
        meta["eval"] = entry["eval"] = {k: v for k, v in ev.items() if k not in ("seed", "sha256")}
        meta["eval_command"] = entry["eval_command"] = ("python -m paperlab.clip evaluate <copy of the checkpoint> "
                                                        "(then card --eval-from)")
    save_pretrained(model, data_dir() / CHECKPOINT, meta)
    assets.register(CHECKPOINT, command=entry["command"], **{k: v for k, v in entry.items()
                                                            if k not in ("sha256", "size", "command")})
    (data_dir() / CARD).write_text(_card_text(meta))
    return 0



# ----------------------------------------------------------------------------- exercises of notebook 00


def _info_nce_rows(u: torch.Tensor, v: torch.Tensor, scale) -> torch.Tensor:
    """One direction of CLIP's loss: images (rows of ``scale * u @ v.T``) choose among the captions."""
    return F.cross_entropy(scale * u @ v.T, torch.arange(len(u)))


def _gap(fi: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    return (fi.mean(0) - ft.mean(0)).norm()


EXERCISE_5_TEST = dict(dataset="shape", per_class=50, seed=0)  # the fixed test draw exercise 5 is judged on


def check_exercise(n: int, answer, **data) -> str:
    """Notebook 00's exercise checks (1-5); each prints not attempted / incorrect / close / correct.

    Data the checks need: exercise 3 takes the notebook's embeddings ``fi`` (N, D) and ``ft`` (N, D) (random
    ones if absent); exercise 5 takes ``model`` (the pretrained micro-CLIP if absent). The expected values
    are computed here, never written in the notebook.
    """
    from paperlab.core import checks

    if n == 1:  # uniform guessing among combo's new classes (the base-to-new half)
        k_new = len(world.dataset("combo").new)
        return checks.check_close("exercise 1", answer, 1 / k_new, rtol=0.01, close_rtol=0.05,
                                  hint="the new half of combo only: how many classes are in it?")
    if n == 2:
        return checks.check_choice("exercise 2", answer, "unchanged", ["goes up", "goes down", "unchanged"],
                                   hint="does multiplying all logits by the same positive number change the argmax?")
    if n == 3:
        g = torch.Generator().manual_seed(3)
        fi = data.get("fi", F.normalize(torch.randn(40, 16, generator=g) + 1.0, dim=-1))
        ft = data.get("ft", F.normalize(torch.randn(40, 16, generator=g) - 1.0, dim=-1))
        return checks.check_function("exercise 3", answer, _gap, [(fi, ft), (ft, fi), (fi[:7], ft[5:30])],
                                     hint="average each modality first, then take one distance")
    if n == 4:  # asymmetric inputs: u != v, so the two directions (and their mean, ClipLoss) differ
        g = torch.Generator().manual_seed(4)
        cases = [(F.normalize(torch.randn(6, 8, generator=g), dim=-1),
                  F.normalize(torch.randn(6, 8, generator=g), dim=-1), torch.tensor(s)) for s in (10.0, 3.0)]
        return checks.check_function("exercise 4", answer, _info_nce_rows, cases,
                                     hint="rows of scale * u @ v.T are images; the label of row i is i "
                                          "(only this direction, no average with the columns)")
    if n == 5:
        model = data["model"] if data.get("model") is not None else load_pretrained()
        t = EXERCISE_5_TEST
        test = world.dataset(t["dataset"]).sample("all", t["per_class"], seed=t["seed"])
        bare = evaluate_zero_shot(model, test, ["{}"])

        def score(tpl):
            if not isinstance(tpl, str) or "{}" not in tpl:
                raise ValueError(f"a template is a string with a '{{}}' slot, got {tpl!r}")
            return evaluate_zero_shot(model, test, [tpl])

        return checks.check_true("exercise 5", answer, lambda tpl: score(tpl) >= bare + 0.02,
                                 close_predicate=lambda tpl: score(tpl) > bare,
                                 hint="better than bare, but not by 2 points: how are the pretraining captions "
                                      "phrased?")
    raise ValueError(f"exercise number must be 1-5, got {n!r}")


SOLUTIONS = {
    1: ("Combo has 8 x 8 = 64 classes; the base-to-new protocol splits them half/half, so the new half has 32. "
        "A uniform guess among them is right with probability 1/32.",
        """from paperlab.worlds import shapes

k_new = len(shapes.dataset("combo").new)
print(k_new, "new classes")
verdict = clip.check_exercise(1, 1 / k_new)"""),
    2: ("Multiplying every logit of an image by the same positive number $e^\\theta$ keeps their order, so the "
        "argmax, and with it the accuracy, is unchanged. (The *loss* and the confidence change.)",
        """logits = torch.randn(5, 10)
assert torch.equal(logits.argmax(1), (2 * logits).argmax(1))
verdict = clip.check_exercise(2, "unchanged")"""),
    3: ("The gap is the distance between the two centroids: average the image embeddings, average the text "
        "embeddings, then take the norm of the difference (not the mean of per-pair distances).",
        """def my_gap(fi, ft):
    return (fi.mean(0) - ft.mean(0)).norm()

verdict = clip.check_exercise(3, my_gap)"""),
    4: ("The image-to-text direction is a cross-entropy over the **rows** of the similarity matrix: row $i$ is "
        "image $i$, its label is caption $i$. CLIP's loss (open_clip's `ClipLoss`) averages this with the "
        "columns' cross-entropy; on asymmetric inputs ($u \\ne v$) the two directions differ, so neither "
        "`ClipLoss` nor the column version passes.",
        """import torch.nn.functional as F

def image_to_text_loss(u, v, scale):
    logits = scale * u @ v.T
    return F.cross_entropy(logits, torch.arange(len(u)))

verdict = clip.check_exercise(4, image_to_text_loss)"""),
    5: ("Pretraining captions describe the object with more words than its class name (\"a large red star on a "
        "striped background\"), so a template that reads like a caption moves the text embedding towards the "
        "image embeddings. On the fixed draw the checker uses, \"a big {}.\" beats the bare name by several "
        "points (\"a photo of a {}.\" helps less than 2 points there); the solution scores a few candidates and "
        "submits the best.",
        """from paperlab.worlds import shapes

model = clip.load_pretrained()
t = clip.EXERCISE_5_TEST
test = shapes.dataset(t["dataset"]).sample("all", t["per_class"], seed=t["seed"])
cands = ["{}", "a photo of a {}.", "a {} shape.", "a big {}."]
acc = {c: clip.evaluate_zero_shot(model, test, [c]) for c in cands}
print(acc)
verdict = clip.check_exercise(5, max(cands, key=acc.get), model=model)"""),
}


if __name__ == "__main__":
    sys.exit(main())
