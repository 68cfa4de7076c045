"""Micro-CLIP: a tiny CLIP registered as an open_clip model config, loaded with open_clip's own call.

Radford, Kim, Hallacy, Ramesh, Goh, Agarwal, Sastry, Askell, Mishkin, Clark, Krueger, Sutskever,
"Learning Transferable Visual Models From Natural Language Supervision", ICML 2021 (arXiv
2103.00020); official code: openai/CLIP. open_clip (mlfoundations/open_clip) provides the ``CLIP``
class, the tokenizer and the contrastive loss (``open_clip.ClipLoss``) used here.

    import open_clip, paperlab.clip
    paperlab.clip.register()
    model, _, preprocess = open_clip.create_model_and_transforms("paperlab-micro-clip", pretrained=path)

The image tower (ViT, width 128) and text tower (width 96) have different widths, as in real CLIP.
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
  ``python -m paperlab.clip pretrain --seed S --steps N --out data/clip/microclip.pt``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F

from paperlab.worlds import shapes as world

MODEL_NAME = "paperlab-micro-clip"
SIZES = {"micro": "paperlab-micro-clip", "nano": "paperlab-nano-clip"}
CONFIG_DIR = Path(__file__).parent / "clip_configs"
CHECKPOINT = "clip/microclip.pt"  # registry name under data/
CARD = "clip/CARD.md"
REAL_MODEL = ("ViT-B-32", "openai")


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
    elif which == REAL_MODEL[0]:
        model, _ = create_model(REAL_MODEL[1], name=REAL_MODEL[0], device=device)
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
    tok = tokenizer(name or _model_name(model))
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            out.append(model.encode_text(tok(texts[i:i + batch_size]).to(device), normalize=True).float().cpu())
    return torch.cat(out)


def _model_name(model) -> str:
    return getattr(model, "paperlab_name", None) or (MODEL_NAME if _image_size(model) <= 64 else REAL_MODEL[0])


# ----------------------------------------------------------------------------- zero-shot and probes


def zero_shot_weights(model, classnames: list[str], templates: list[str]) -> torch.Tensor:
    """Class embeddings (K, D): for each class, the normalized mean of its normalized template embeddings."""
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


def evaluate_zero_shot(model, split, templates: list[str] | None = None, resize: bool = False) -> float:
    """Zero-shot top-1 accuracy on a ``shapes.Split`` (classes = ``split.classnames``)."""
    templates = templates or ["a photo of a {}."]
    w = zero_shot_weights(model, split.classnames, templates)
    pred = zero_shot_logits(model, split.images, w, resize=resize).argmax(dim=1)
    return float((pred == split.labels).float().mean())


def linear_probe(model, train_split, test_split, C: float = 1.0, resize: bool = False) -> float:
    """Accuracy of a logistic-regression probe on frozen, normalized image features (CLIP sec. 3.2)."""
    from sklearn.linear_model import LogisticRegression

    if list(train_split.classnames) != list(test_split.classnames):
        raise ValueError("train and test splits must have the same classnames (same subset)")
    xtr = encode_images(model, train_split.images, resize=resize).numpy()
    xte = encode_images(model, test_split.images, resize=resize).numpy()
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(xtr, train_split.labels.numpy())
    return float((clf.predict(xte) == test_split.labels.numpy()).mean())


def modality_gap(model, images: torch.Tensor, texts: list[str]) -> float:
    """||mean image embedding - mean text embedding|| over paired samples (Liang et al. 2022's gap)."""
    gi, gt = encode_images(model, images).mean(0), encode_texts(model, texts).mean(0)
    return float((gi - gt).norm())


# ----------------------------------------------------------------------------- pretraining


def pretrain(policy: world.CaptionPolicy = world.DEFAULT_POLICY, size: str = "micro", steps: int = 1500,
             batch_size: int = 128, lr: float = 1e-3, weight_decay: float = 0.1, seed: int = 0,
             image_size: int = 32, progress: bool = True, log_every: int = 10):
    """Contrastive pretraining on fresh batches of the shapes world -> (model in eval mode, history dict).

    Each step draws ``batch_size`` new (image, caption) pairs (``world.pretrain_batch``) and
    minimises open_clip's symmetric InfoNCE loss ``ClipLoss`` with AdamW and a one-cycle schedule.
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
    tok, loss_fn = tokenizer(name), open_clip.ClipLoss()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    hist = {"step": [], "loss": [], "logit_scale": []}
    model.train()
    t0 = time.time()
    for step in tqdm(range(steps), desc=f"pretrain {name}", disable=not progress, mininterval=5):
        images, captions = world.pretrain_batch(batch_size, seed=seed * 1_000_003 + step, policy=policy,
                                                image_size=image_size)
        img_f, txt_f, scale = model(normalize(images, model), tok(captions))
        loss = loss_fn(img_f, txt_f, scale)  # Eq. (InfoNCE, both directions), see the 00_clip notebook
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
    hist["wall_s"] = time.time() - t0
    model.paperlab_name = name
    return model.eval(), hist
