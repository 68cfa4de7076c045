"""Micro-CLIP: a tiny CLIP registered as an open_clip model config, loaded with open_clip's own call.

Radford et al., "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021
(arXiv 2103.00020); open_clip (mlfoundations/open_clip) provides the ``CLIP`` class, the tokenizer
and the contrastive loss used here.

    import open_clip, paperlab.clip
    paperlab.clip.register()
    model, _, preprocess = open_clip.create_model_and_transforms("paperlab-micro-clip", pretrained=path)

The image tower (ViT, width 128) and text tower (width 96) have different widths, as in real CLIP.
"""

from __future__ import annotations

from pathlib import Path

import open_clip

MODEL_NAME = "paperlab-micro-clip"
CONFIG_DIR = Path(__file__).parent / "clip_configs"


def register() -> str:
    """Register the micro-CLIP config(s) with open_clip (idempotent). Returns the model name."""
    if MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_DIR)
    return MODEL_NAME


def create_model(pretrained: str | Path | None = None, name: str = MODEL_NAME, device: str = "cpu"):
    """``open_clip.create_model_and_transforms(name, pretrained=...)`` -> (model, preprocess_val)."""
    register()
    model, _, preprocess = open_clip.create_model_and_transforms(
        name, pretrained=str(pretrained) if pretrained else None, device=device
    )
    return model, preprocess


def tokenizer(name: str = MODEL_NAME):
    """open_clip's own tokenizer for ``name`` (works offline), with the config's context length."""
    register()
    return open_clip.get_tokenizer(name)
