"""CoOp and CoCoOp: learned (and image-conditioned) prompt context for a frozen CLIP.

- Kaiyang Zhou, Jingkang Yang, Chen Change Loy, Ziwei Liu. *Learning to Prompt for Vision-Language
  Models* (CoOp). IJCV 2022. arXiv:2109.01134.
- Kaiyang Zhou, Jingkang Yang, Chen Change Loy, Ziwei Liu. *Conditional Prompt Learning for
  Vision-Language Models* (CoCoOp). CVPR 2022. arXiv:2203.05557.
- Official code: https://github.com/KaiyangZhou/CoOp (``trainers/coop.py``, ``trainers/cocoop.py``).

Both keep CLIP's image encoder f and text encoder g frozen and learn M context vectors v_1..v_M
in the token-embedding space (:mod:`paperlab.prompts`). CoCoOp adds a Meta-Net h that maps the
image feature to a token pi(x) added to every context vector. The official CoCoOp forward loops over
the images of a batch (``CoCoOp.forward_looped`` here, kept as the reference); ``CoCoOp.forward``
runs all B x K prompts through the text encoder at once and is tested equal to the loop.

Run ``python -m paperlab.coop bench`` (looped vs batched CoCoOp step time) and
``python -m paperlab.coop train`` (the notebook's learned prompts, written under ``data/coop/``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from paperlab.prompts import PromptedCLIP, PromptLearner

__all__ = ["CoOp", "CoCoOp", "MetaNet", "CoCoOpPromptLearner", "hand_prompt_weights", "zero_shot_logits"]


def _check_features(z: torch.Tensor, dim: int) -> torch.Tensor:
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != dim:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"image features must be (B, {dim}), got {got}")
    return z


class CoOp(PromptedCLIP):
    """CoOp: ``p(y=i|x) = softmax_i(cos(g(t_i), f(x)) / tau)`` with ``t_i = [v_1..v_M, c_i]``.

    ``n_ctx`` context vectors (``ctx_init`` words override it), unified or class-specific (``csc``),
    class token at the ``end`` / ``middle`` / ``front``. ``forward(images)`` -> logits (B, K).
    """

    def __init__(self, clip_model, tokenizer, classnames: Sequence[str], n_ctx: int = 16,
                 ctx_init: str | None = None, csc: bool = False, class_token_position: str = "end"):
        super().__init__(clip_model, tokenizer)
        self.prompt_learner = PromptLearner(self.text_encoder, tokenizer, classnames, n_ctx=n_ctx,
                                            ctx_init=ctx_init, csc=csc, class_token_position=class_token_position)

    def logits_from_features(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised image features z (B, E) -> logits (B, K); the K prompts go through g once."""
        _check_features(z, self.clip.visual.output_dim)
        t = self.text_features(self.prompt_learner())  # (K, E), g(t_i) / ||g(t_i)||
        return self.logit_scale * z @ t.t()  # Eq. (CoOp 2): cos(g(t_i), f(x)) / tau

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_from_features(self.image_features(images))


class MetaNet(nn.Sequential):
    """h_theta: Linear(vis_dim -> vis_dim // ratio) -> ReLU -> Linear(-> ctx_dim), as ``trainers/cocoop.py``.

    ``hidden`` overrides the bottleneck width (the official code always uses ``vis_dim // 16``).
    """

    def __init__(self, vis_dim: int, ctx_dim: int, ratio: int = 16, hidden: int | None = None):
        hidden = hidden if hidden is not None else vis_dim // ratio
        if hidden < 1:
            raise ValueError(f"Meta-Net hidden width must be >= 1, got {hidden} (vis_dim {vis_dim} // ratio {ratio})")
        super().__init__(OrderedDict([
            ("linear1", nn.Linear(vis_dim, hidden)),
            ("relu", nn.ReLU(inplace=True)),
            ("linear2", nn.Linear(hidden, ctx_dim)),
        ]))


class CoCoOpPromptLearner(PromptLearner):
    """Unified context + Meta-Net: ``v_m(x) = v_m + pi(x)``, ``pi(x) = h_theta(z)``; prompts (B, K, L, D)."""

    def __init__(self, encoder, tokenizer, classnames, vis_dim: int, n_ctx: int = 16, ctx_init: str | None = None,
                 meta_ratio: int = 16, meta_hidden: int | None = None):
        super().__init__(encoder, tokenizer, classnames, n_ctx=n_ctx, ctx_init=ctx_init, csc=False)
        self.meta_net = MetaNet(vis_dim, encoder.width, ratio=meta_ratio, hidden=meta_hidden)

    def shifted_context(self, z: torch.Tensor) -> torch.Tensor:
        """Image features z (B, E) -> instance-conditioned context (B, M, D)."""
        pi = self.meta_net(z).unsqueeze(1)  # Eq. (CoCoOp): pi = h_theta(x), (B, 1, D)
        return self.ctx.unsqueeze(0) + pi  # v_m(x) = v_m + pi, the same pi for every m

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Prompts for every image and class, (B, K, L, D): t_i(x) = [v_1(x)..v_M(x), c_i]."""
        ctx = self.shifted_context(z)  # (B, M, D)
        ctx = ctx.unsqueeze(1).expand(-1, self.n_cls, -1, -1)  # (B, K, M, D)
        return self.assemble(ctx)


class CoCoOp(PromptedCLIP):
    """CoCoOp: every image gets its own K prompts; ``forward`` is batched, ``forward_looped`` is official.

    The Meta-Net bottleneck is ``vis_dim // meta_ratio`` (16 in the official code) unless ``meta_hidden``.
    """

    def __init__(self, clip_model, tokenizer, classnames: Sequence[str], n_ctx: int = 16,
                 ctx_init: str | None = None, meta_ratio: int = 16, meta_hidden: int | None = None):
        super().__init__(clip_model, tokenizer)
        self.prompt_learner = CoCoOpPromptLearner(self.text_encoder, tokenizer, classnames,
                                                  vis_dim=clip_model.visual.output_dim, n_ctx=n_ctx,
                                                  ctx_init=ctx_init, meta_ratio=meta_ratio, meta_hidden=meta_hidden)

    def logits_from_features(self, z: torch.Tensor) -> torch.Tensor:
        """Batched: all B x K prompts through g in one pass. z (B, E) -> logits (B, K)."""
        _check_features(z, self.clip.visual.output_dim)
        t = self.text_features(self.prompt_learner(z))  # (B, K, E)
        return self.logit_scale * torch.einsum("be,bke->bk", z, t)

    def logits_from_features_looped(self, z: torch.Tensor) -> torch.Tensor:
        """The official loop (``CustomCLIP.forward`` in ``trainers/cocoop.py``): g runs once per image."""
        _check_features(z, self.clip.visual.output_dim)
        prompts = self.prompt_learner(z)  # (B, K, L, D)
        logits = []
        for pts_i, z_i in zip(prompts, z):
            t = self.text_features(pts_i)  # (K, E)
            logits.append(self.logit_scale * z_i @ t.t())
        return torch.stack(logits)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_from_features(self.image_features(images))

    def forward_looped(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_from_features_looped(self.image_features(images))


@torch.no_grad()
def hand_prompt_weights(clip_model, tokenizer, classnames: Sequence[str], template: str = "a photo of a {}.") -> torch.Tensor:
    """Zero-shot CLIP classifier: normalised ``encode_text(template.format(c))`` for every class, (K, E)."""
    if "{}" not in template:
        raise ValueError(f"template must contain '{{}}' for the class name, got {template!r}")
    tokens = tokenizer([template.format(c.replace("_", " ")) for c in classnames])
    device = next(clip_model.parameters()).device
    return F.normalize(clip_model.encode_text(tokens.to(device)), dim=-1)


def zero_shot_logits(clip_model, z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Logits of zero-shot CLIP, ``exp(logit_scale) * z @ W^T``; z (B, E), W (K, E) -> (B, K)."""
    _check_features(z, weights.shape[1])
    return clip_model.logit_scale.exp() * z @ weights.t()


def cosine_warmup_lambda(total_steps: int, warmup_steps: int, base_lr: float, warmup_lr: float = 1e-5):
    """The official schedule per step: constant ``warmup_lr`` for the warm-up, then cosine from ``base_lr`` to 0."""
    def f(step: int) -> float:
        if step < warmup_steps:
            return warmup_lr / base_lr
        t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))
    return f



# ----------------------------------------------------------------------------- training and evaluation


@dataclass
class Features:
    """Cached, normalised image features of one split: z (N, E), labels (N,), the split's class names."""

    z: torch.Tensor
    labels: torch.Tensor
    classnames: list[str]

    def __len__(self) -> int:
        return len(self.labels)


def encode_split(clip_model, split) -> Features:
    """``paperlab.clip.encode_images`` of a ``shapes.Split`` (raw [0, 1] images) -> :class:`Features`."""
    from paperlab.clip import encode_images

    return Features(encode_images(clip_model, split.images), split.labels.clone(), list(split.classnames))


def _batches(n: int, batch_size: int, seed: int):
    """Shuffled index batches, a new order per epoch from one seeded generator (an iterable per epoch)."""
    g = torch.Generator().manual_seed(seed)

    class _Epochs:
        def __iter__(self):
            return iter(torch.randperm(n, generator=g).split(batch_size))
    return _Epochs()


def train_prompts(model: PromptedCLIP, feats: Features, *, epochs: int, batch_size: int = 32, lr: float = 0.002,
                  momentum: float = 0.9, weight_decay: float = 5e-4, warmup_epochs: int = 1, seed: int = 0,
                  progress: bool = True, desc: str = "prompts"):
    """Train the prompt learner with the official recipe: SGD (momentum 0.9, wd 5e-4), 1 constant warm-up
    epoch at 1e-5, then cosine; cross-entropy on cached image features. Returns ``core.train.History``."""
    from paperlab.core.train import fit

    if list(feats.classnames) != list(model.prompt_learner.classnames):
        model.set_classnames(feats.classnames)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(feats) / batch_size)
    per_epoch = cosine_warmup_lambda(epochs, warmup_epochs, lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: per_epoch(step // steps_per_epoch))
    z, y = feats.z.to(_device(model)), feats.labels.to(_device(model))

    def loss_fn(m, idx):
        return F.cross_entropy(m.logits_from_features(z[idx]), y[idx])

    torch.manual_seed(seed)
    return fit(model, loss_fn, _batches(len(feats), batch_size, seed), epochs=epochs, optimizer=opt,
               scheduler=sched, progress=progress, desc=desc)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(model: PromptedCLIP, feats: Features, batch_size: int = 256) -> torch.Tensor:
    """Class probabilities (N, K) over ``feats.classnames`` (the learner's class names are swapped to them)."""
    if list(feats.classnames) != list(model.prompt_learner.classnames):
        model.set_classnames(feats.classnames)
    model.eval()
    z = feats.z.to(_device(model))
    return torch.cat([model.logits_from_features(z[i:i + batch_size]).softmax(-1).cpu()
                      for i in range(0, len(z), batch_size)])


def accuracy(model: PromptedCLIP, feats: Features) -> float:
    """Top-1 accuracy (fraction) on cached features, via ``paperlab.core.metrics.accuracy``."""
    from paperlab.core import metrics

    return metrics.accuracy(predict(model, feats).numpy(), feats.labels.numpy())


def zero_shot_accuracy(clip_model, feats: Features, templates: Sequence[str]) -> float:
    """Zero-shot CLIP with the hand-written prompt(s) (``paperlab.clip.zero_shot_weights``) on cached features."""
    from paperlab.clip import zero_shot_weights
    from paperlab.core import metrics

    w = zero_shot_weights(clip_model, list(feats.classnames), list(templates))
    return metrics.accuracy(zero_shot_logits(clip_model, feats.z, w).detach().numpy(), feats.labels.numpy())


def linear_probe_accuracy(train: Features, test: Features, C: float = 1.0) -> float:
    """Linear-probe CLIP (CoOp's baseline): sklearn ``LogisticRegression`` on frozen normalised features."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    if list(train.classnames) != list(test.classnames):
        raise ValueError("linear probe: train and test features must have the same classes")
    with warnings.catch_warnings():  # 1-shot sets have one sample per class: sklearn warns, the fit is fine
        warnings.simplefilter("ignore", UserWarning)
        clf = LogisticRegression(C=C, max_iter=2000).fit(train.z.numpy(), train.labels.numpy())
    return float((clf.predict(test.z.numpy()) == test.labels.numpy()).mean())


def nearest_words(ctx: torch.Tensor, clip_model, tokenizer, vocab: Sequence[str] | None = None,
                  k: int = 3) -> list[list[tuple[str, float]]]:
    """For each context vector (M, D), the k nearest token embeddings by Euclidean distance
    (``interpret_prompt.py`` in the official code). ``vocab`` restricts the search to these words."""
    if ctx.dim() != 2:
        raise ValueError(f"nearest_words needs a unified context (M, D), got shape {tuple(ctx.shape)}")
    table = clip_model.token_embedding.weight.detach()
    if vocab is None:
        ids = torch.arange(table.shape[0])
    else:
        ids = torch.tensor(sorted({i for w in vocab for i in tokenizer.encode(w)}))
    dist = torch.cdist(ctx.detach().float(), table[ids].float())  # (M, V)
    order = dist.argsort(dim=1)[:, :k]
    word = lambda i: tokenizer.decoder[int(ids[i])].replace("</w>", "")  # noqa: E731
    return [[(word(i), float(dist[m, i])) for i in row] for m, row in enumerate(order)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_step(model: CoCoOp, z: torch.Tensor, y: torch.Tensor, batched: bool, repeats: int = 3) -> float:
    """Median seconds of one CoCoOp training step (forward, cross-entropy, backward, SGD) on features z."""
    import time

    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    fwd = model.logits_from_features if batched else model.logits_from_features_looped
    times = []
    for r in range(repeats + 1):  # the first step warms up kernels and allocators
        _sync(str(z.device))
        t0 = time.perf_counter()
        loss = F.cross_entropy(fwd(z), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(str(z.device))
        if r:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def bench(batch_sizes: Sequence[int] = (8, 32, 128), n_classes: Sequence[int] = (8, 32), n_ctx: int = 4,
          device: str = "cpu", repeats: int = 3, clip_model=None, tokenizer=None, progress: bool = True) -> list[dict]:
    """Looped (official) vs batched CoCoOp: seconds per training step for each (B, K). Returns rows.

    Runs on cached image features (the image tower is frozen, so both versions share it); the
    difference is entirely on the text side: B calls of g over K prompts vs one call over B*K.
    """
    from tqdm.auto import tqdm

    from paperlab import clip as pclip

    if clip_model is None:
        clip_model, _ = pclip.create_model(device=device)
    tokenizer = tokenizer or pclip.tokenizer()
    rows = []
    grid = [(K, B) for K in n_classes for B in batch_sizes]
    for K, B in tqdm(grid, desc="bench", disable=not progress):
        names = [f"class {i}" for i in range(K)]
        model = CoCoOp(clip_model, tokenizer, names, n_ctx=n_ctx).to(device)
        g = torch.Generator().manual_seed(0)
        z = F.normalize(torch.randn(B, clip_model.visual.output_dim, generator=g), dim=-1).to(device)
        y = torch.randint(0, K, (B,), generator=g).to(device)
        t_loop = time_step(model, z, y, batched=False, repeats=repeats)
        t_batch = time_step(model, z, y, batched=True, repeats=repeats)
        rows.append({"device": device, "K": K, "B": B, "looped_s": t_loop, "batched_s": t_batch,
                     "speedup": t_loop / t_batch})
        if progress:
            tqdm.write(f"K={K:3d} B={B:4d}  looped {t_loop * 1e3:9.1f} ms  batched {t_batch * 1e3:9.1f} ms  "
                       f"ratio {t_loop / t_batch:.2f}")
    return rows


# ----------------------------------------------------------------------------- the notebook's experiment

METHODS = ("coop", "coop16", "cocoop")  # CoOp M=4 from "a photo of a"; CoOp M=16 random; CoCoOp M=4
STYLED = tuple(f"{d}:{st}" for d in ("shape", "color", "texture") for st in ("sketch", "noisy", "blurred"))
HEADROOM_MIN = 0.05  # instrument: linear probe minus zero-shot on base classes, at least 5 points
# the datasets judged for base-to-new: shifted-style datasets whose frozen features leave headroom (probe -
# zero-shot on base >= 5 points; ``headroom`` with a 256-per-class probe, re-measured by the notebook). Six
# passed (also size_shape:noisy and size_shape:blurred); the compute budget on a shared 2-core machine keeps
# the four with at most 8 base classes and one 8-class set (the same four as notebook 02)
B2N_DATASETS = ("shape:sketch", "shape:blurred", "texture:noisy", "size_shape:sketch")
DG_DATASETS = ("shape", "color", "texture")  # photo-trained sources of the domain-generalisation test
CPU_CONFIG = dict(
    datasets=B2N_DATASETS + DG_DATASETS,
    b2n_datasets=B2N_DATASETS, dg_datasets=DG_DATASETS,
    styles=("sketch", "noisy", "blurred"),
    seeds=(0, 1, 2), shots=16, few_shots=(1, 2, 4, 8, 16), n_ctx=4, ctx_init="a photo of a", n_ctx_random=16,
    test_per_class=None,  # the fixed test splits: 50 images per class
    # official (KaiyangZhou/CoOp): CoOp configs/trainers/CoOp/rn50.yaml & vit_b16.yaml: SGD lr 0.002, batch 32,
    # 200 epochs; CoCoOp configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml: lr 0.002, batch 1, 10 epochs
    coop=dict(epochs=200, batch_size=32, lr=0.002), coop16=dict(epochs=200, batch_size=32, lr=0.002),
    cocoop=dict(epochs=10, batch_size=1, lr=0.002),
    # the few-shot curve (CoOp M=16 random, COOP.md): 1 shot rn50_ep50, 2-4 shots rn50_ep100, 8-16 shots rn50 (200)
    few_shot_method="coop16", few_shot_epochs={1: 50, 2: 100, 4: 100, 8: 200, 16: 200},
    probe_per_class=256,  # the headroom probe's training images per class (fresh draws of the world)
    overrides={},
)


def load_backbone(checkpoint: str = "clip/microclip.pt"):
    """The registered micro-CLIP (``paperlab.clip.load_pretrained``), in eval mode.

    If the open_clip config on disk no longer fits the checkpoint (the config was edited after the
    checkpoint was made), the model is rebuilt from the config stored inside the checkpoint, under a
    name tagged with its sha256, and loaded with open_clip's own ``create_model``.
    """
    import json
    import tempfile
    from pathlib import Path

    import open_clip

    from paperlab import clip as pclip
    from paperlab.core import assets

    try:
        return pclip.load_pretrained("micro", checkpoint=checkpoint)
    except ValueError:
        meta = pclip.checkpoint_metadata(checkpoint)
        name = f"{meta['model_name']}-{assets.entry(checkpoint)['sha256'][:8]}"
        cfg_file = Path(tempfile.mkdtemp()) / f"{name}.json"
        cfg_file.write_text(json.dumps(meta["config"]))
        open_clip.add_model_config(cfg_file)
        model = open_clip.create_model(name, pretrained=str(assets.path(checkpoint)))
        model.paperlab_name = meta["model_name"]
        return model.eval()


def dataset(spec: str, style: str | None = None):
    """``"texture"`` -> the photo dataset; ``"texture:noisy"`` -> the same classes rendered noisy (a harder
    downstream dataset, like EuroSAT or DTD for real CLIP). ``style`` overrides the spec's style."""
    from paperlab.worlds import shapes

    name, _, own = spec.partition(":")
    return shapes.dataset(name, style=style or own or "photo")


def make_model(method: str, clip_model, tokenizer, classnames, cfg: dict) -> PromptedCLIP:
    """A fresh CoOp or CoCoOp (``method`` in ``METHODS``) with the config's context settings."""
    if method == "coop":
        return CoOp(clip_model, tokenizer, classnames, n_ctx=cfg["n_ctx"], ctx_init=cfg["ctx_init"])
    if method == "coop16":  # CoOp's few-shot default: 16 randomly initialised context vectors
        return CoOp(clip_model, tokenizer, classnames, n_ctx=cfg.get("n_ctx_random", 16), ctx_init=None)
    if method == "cocoop":
        return CoCoOp(clip_model, tokenizer, classnames, n_ctx=cfg["n_ctx"], ctx_init=cfg["ctx_init"],
                      meta_hidden=cfg.get("meta_hidden"))
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def train_run(method: str, clip_model, tokenizer, train: Features, cfg: dict, seed: int,
              progress: bool = False, dataset_name: str = "", epochs: int | None = None) -> tuple[dict, list[float]]:
    """Train one learner on ``train`` -> (learned tensors, per-step losses). The seed drives init and order;
    ``cfg["overrides"][dataset_name][method]`` may change that method's recipe for one dataset; ``epochs``
    overrides the epochs (the few-shot curve's official per-shot schedule)."""
    from paperlab.core.seeding import seed_everything

    seed_everything(seed)
    model = make_model(method, clip_model, tokenizer, train.classnames, cfg)
    hp = {**cfg[method], **cfg.get("overrides", {}).get(dataset_name, {}).get(method, {})}
    if epochs is not None:
        hp["epochs"] = epochs
    hist = train_prompts(model, train, seed=seed, progress=progress, desc=f"{method} seed {seed}", **hp)
    return model.trainable_state_dict(), hist.train_loss


def train_job(dataset_name: str, method: str, k: int, seed: int, clip_model, tokenizer, cfg: dict,
              tower_grad: tuple | None = None):
    """One learned prompt of ``train_all`` (the body of its loop) -> (learned tensors, losses): a module-level,
    self-seeded job for ``core.distributed.run_many`` / the CLI's ``Run.map``.

    ``tower_grad``: the CLIP parameters' ``requires_grad`` flags to encode the images with (None: all
    frozen). The features differ in the last float bits with them (torch takes another attention
    kernel), and ``train_all``'s loop encodes its first job with the caller's flags and every later
    one frozen (``make_model`` freezes the towers), so each job states which to use."""
    flags = [False] * len(list(clip_model.parameters())) if tower_grad is None else tower_grad
    for param, flag in zip(clip_model.parameters(), flags, strict=True):
        param.requires_grad_(flag)
    train = encode_split(clip_model, dataset(dataset_name).train(k_shot=k, seed=seed, subset="base"))
    return train_run(method, clip_model, tokenizer, train, cfg, seed=seed, dataset_name=dataset_name,
                     epochs=_epochs(cfg, method, k))


def _epochs(cfg: dict, method: str, k: int) -> int | None:
    """The official per-shot epochs for the few-shot curve's runs below ``cfg["shots"]``; None: the method's own."""
    if k == cfg["shots"] or "few_shot_epochs" not in cfg:
        return None
    table = {int(kk): v for kk, v in cfg["few_shot_epochs"].items()}
    return table[k]


def train_jobs(cfg: dict) -> list[tuple[str, str, int, int]]:
    """(dataset, method, k, seed) of every learned prompt: all methods at ``shots`` on every dataset, and the
    few-shot curve's method at the other shot counts on the base-to-new datasets."""
    out = [(d, m, cfg["shots"], s) for d in cfg["datasets"] for s in cfg["seeds"] for m in METHODS]
    curve = cfg.get("few_shot_method", "coop")
    return out + [(d, curve, k, s) for d in cfg.get("b2n_datasets", cfg["datasets"]) for s in cfg["seeds"]
                  for k in cfg["few_shots"] if k != cfg["shots"]]


def train_all(clip_model, tokenizer, cfg: dict = CPU_CONFIG, progress: bool = True, mapper=None) -> dict:
    """Every learned prompt the notebook evaluates (``train_jobs``): base-to-new (all methods) and CoOp's shots curve.

    Returns ``{"runs": {key: state}, "loss": {key: losses}, "config": cfg}``, keys like
    ``"combo/coop/k16/seed0"``; trained on base classes of the photo style. ``mapper(fn, jobs, common)``
    (the CLI's ``Run.map`` with ``--workers`` > 1) spreads the :func:`train_job` runs over processes;
    without it (the default, the committed run) they run one after another in this process.
    """
    import time

    from tqdm.auto import tqdm


    jobs = train_jobs(cfg)
    runs, losses, t0 = {}, {}, time.time()
    if mapper is None:  # the committed run: one after another in this process
        for d, m, k, s in tqdm(jobs, desc="train prompts", disable=not progress):
            train = encode_split(clip_model, dataset(d).train(k_shot=k, seed=s, subset="base"))
            key = f"{d}/{m}/k{k}/seed{s}"
            runs[key], losses[key] = train_run(m, clip_model, tokenizer, train, cfg, seed=s, dataset_name=d,
                                               epochs=_epochs(cfg, m, k))
    else:
        first = tuple(p.requires_grad for p in clip_model.parameters())  # as the loop's first encoding
        results = mapper(train_job, [dict(dataset_name=d, method=m, k=k, seed=s, tower_grad=first if i == 0 else None)
                                     for i, (d, m, k, s) in enumerate(jobs)],
                         dict(clip_model=clip_model, tokenizer=tokenizer, cfg=cfg))
        for (d, m, k, s), (state, loss) in zip(jobs, results):
            runs[f"{d}/{m}/k{k}/seed{s}"], losses[f"{d}/{m}/k{k}/seed{s}"] = state, loss
    return {"runs": runs, "loss": losses, "config": _plain(cfg), "wall_s": time.time() - t0,
            "clip_sha256": clip_sha()}


def clip_sha() -> str:
    """sha256 of the micro-CLIP the prompts were learned on: the pinned copy if there is one ('' if none)."""
    from paperlab.core import assets

    reg = assets.load_registry()
    return reg.get(BACKBONE, reg.get("clip/microclip.pt", {})).get("sha256", "")


def _plain(cfg: dict) -> dict:
    """Config with tuples as lists (storable with ``weights_only=True``)."""
    return {k: (_plain(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}


def load_run(method: str, clip_model, tokenizer, classnames, state: dict, cfg: dict) -> PromptedCLIP:
    """Rebuild a learner for ``classnames`` (base or new) and load its learned tensors."""
    model = make_model(method, clip_model, tokenizer, classnames, cfg)
    model.load_trainable_state_dict(state)
    return model.eval()


def eval_features(clip_model, cfg: dict) -> dict:
    """Cached test features: ``{(dataset, split): Features}`` for splits base and new (in the dataset's
    style) and, for photo datasets, base in every shifted style (the domain-generalisation targets);
    ``test_per_class`` images per class (an int, None for all, or a dict per dataset name)."""
    out = {}
    for d in cfg["datasets"]:
        own = dataset(d).style
        dg = own == "photo" and d in cfg.get("dg_datasets", cfg["datasets"])
        shifts = [(st, st, "base") for st in cfg["styles"]] if dg else []  # DG: photo-trained sources only
        for split, style, subset in [("base", own, "base"), ("new", own, "new")] + shifts:
            per_class = cfg["test_per_class"]
            per_class = per_class.get(d.partition(":")[0]) if isinstance(per_class, dict) else per_class
            out[(d, split)] = encode_split(clip_model, subsample_split(dataset(d, style=style).test(subset), per_class))
    return out


def subsample_split(split, per_class: int | None):
    """The first ``per_class`` images of every class of a ``shapes.Split`` (before encoding: saves time)."""
    if per_class is None:
        return split
    keep = torch.cat([torch.nonzero(split.labels == c).flatten()[:per_class] for c in range(len(split.classnames))])
    return type(split)(split.images[keep], split.labels[keep], split.classnames, split.scenes.subset(keep.numpy()))


def evaluate_all(clip_model, tokenizer, trained: dict, tests: dict, cfg: dict, progress: bool = True,
                 per_example: dict | None = None) -> list[dict]:
    """Accuracy rows ``{dataset, seed, method, split, acc}`` for zero-shot and every method (``shots`` shots)
    on every cached test split; learners trained on base classes are re-pointed to new class names.
    ``per_example``: a dict filled with ``{(dataset, method, split, seed): 0/1 correctness (N,)}`` (zero-shot
    repeated per seed), the scores ``paperlab.core.claims.paired_bootstrap`` needs."""
    from tqdm.auto import tqdm

    rows = []
    store = per_example if per_example is not None else {}
    methods = [m for m in METHODS if f"{cfg['datasets'][0]}/{m}/k{cfg['shots']}/seed{cfg['seeds'][0]}" in trained["runs"]]
    for d in tqdm(cfg["datasets"], desc="evaluate", disable=not progress):
        template = dataset(d).templates[:1]  # the hand-written prompt, "a photo of a {}."
        splits = [s for (dd, s) in tests if dd == d]
        zs = {s: zero_shot_correct(clip_model, tests[(d, s)], template) for s in splits}
        for seed in cfg["seeds"]:
            for s in splits:
                store[(d, "zero-shot", s, seed)] = zs[s]
                rows.append(dict(dataset=d, seed=seed, method="zero-shot", split=s, acc=float(zs[s].mean())))
            for m in methods:
                state = trained["runs"][f"{d}/{m}/k{cfg['shots']}/seed{seed}"]
                model = load_run(m, clip_model, tokenizer, tests[(d, "base")].classnames, state, cfg)
                for s in splits:
                    store[(d, m, s, seed)] = correct(model, tests[(d, s)])
                    rows.append(dict(dataset=d, seed=seed, method=m, split=s, acc=float(store[(d, m, s, seed)].mean())))
    return rows


def correct(model: PromptedCLIP, feats: Features):
    """Per-example 0/1 correctness (N,) as a float numpy array."""
    return (predict(model, feats).argmax(1) == feats.labels).float().numpy()


def zero_shot_correct(clip_model, feats: Features, templates: Sequence[str]):
    """Per-example 0/1 correctness (N,) of zero-shot CLIP with the hand-written prompt(s)."""
    from paperlab.clip import zero_shot_weights

    w = zero_shot_weights(clip_model, list(feats.classnames), list(templates))
    return (zero_shot_logits(clip_model, feats.z, w).argmax(1) == feats.labels).float().numpy()


def headroom(clip_model, tests: dict, cfg: dict) -> list[dict]:
    """The instrument of the base-to-new claims, per dataset: zero-shot vs a linear probe on the frozen
    features (``probe_per_class`` fresh labelled images per base class, a fixed draw), both on the base
    test split. ``headroom = probe - zero-shot``; a dataset passes when it is >= ``HEADROOM_MIN``."""
    rows = []
    for d in cfg["datasets"]:
        test = tests[(d, "base")]
        train = encode_split(clip_model, dataset(d).sample("base", cfg.get("probe_per_class", 256), seed=5))
        zs = zero_shot_accuracy(clip_model, test, dataset(d).templates[:1])
        pr = linear_probe_accuracy(train, test)
        rows.append(dict(dataset=d, zero_shot=zs, probe=pr, headroom=pr - zs, passed=pr - zs >= HEADROOM_MIN))
    return rows


def few_shot_rows(clip_model, tokenizer, trained: dict, tests: dict, cfg: dict) -> list[dict]:
    """CoOp (``few_shot_method``) vs linear probe vs zero-shot on the base classes of every base-to-new
    dataset at every k in ``few_shots``."""
    method = cfg.get("few_shot_method", "coop")
    rows = []
    for d in cfg.get("b2n_datasets", cfg["datasets"]):
        test = tests[(d, "base")]
        zs = zero_shot_accuracy(clip_model, test, dataset(d).templates[:1])
        for seed in cfg["seeds"]:
            for k in cfg["few_shots"]:
                train = encode_split(clip_model, dataset(d).train(k_shot=k, seed=seed, subset="base"))
                coop_m = load_run(method, clip_model, tokenizer, test.classnames, trained["runs"][f"{d}/{method}/k{k}/seed{seed}"], cfg)
                rows += [dict(dataset=d, seed=seed, k=k, method="zero-shot", acc=zs),
                         dict(dataset=d, seed=seed, k=k, method="linear probe", acc=linear_probe_accuracy(train, test)),
                         dict(dataset=d, seed=seed, k=k, method=f"CoOp ({method})", acc=accuracy(coop_m, test))]
    return rows


SMOKE_CONFIG = dict(CPU_CONFIG, datasets=("texture:noisy", "texture"), b2n_datasets=("texture:noisy",),
                    dg_datasets=("texture",), styles=("sketch",), seeds=(0, 1), few_shots=(4, 16), test_per_class=4,
                    probe_per_class=8, coop=dict(epochs=2, batch_size=32, lr=0.002),
                    coop16=dict(epochs=2, batch_size=32, lr=0.002), cocoop=dict(epochs=1, batch_size=8, lr=0.002),
                    few_shot_epochs={4: 1, 16: 2})
CHECKPOINT = "coop/prompts.pt"  # registry name under data/
BACKBONE = "coop/backbone.pt"  # the micro-CLIP the prompts were learned on (a pinned copy)


def pin_backbone(source: str = "clip/microclip.pt") -> str:
    """Copy the registered micro-CLIP to ``data/coop/backbone.pt`` and register it, so the learned prompts
    are always evaluated on the backbone they were trained on, even after the micro-CLIP is retrained."""
    import shutil

    from paperlab.core import assets
    from paperlab.core.paths import data_dir

    shutil.copyfile(assets.path(source), data_dir() / BACKBONE)
    assets.register(BACKBONE, command=f"python -m paperlab.coop train (copies data/{source})",
                    source_sha256=assets.entry(source)["sha256"], source_command=assets.entry(source).get("command"))
    return BACKBONE
BENCH_FILE = "coop/bench_cpu.json"


def main(argv=None) -> int:
    """``python -m paperlab.coop bench [--device cuda]`` | ``python -m paperlab.coop train [--profile gpu ...]``.

    On the shared command line (``paperlab.core.cli``: ``--profile``, ``--device``, ``--threads``, ...).
    ``train`` with the cpu profile is the micro-CLIP experiment (``train_all``, writes data/coop/prompts.pt;
    ``--workers N`` > 1 spreads its prompts over N processes with the same results); with the gpu profile
    it runs ``run_real`` (ViT-B-32 on ``--dataset`` under ``--data-root``) and prints the table. ``bench``
    writes its rows only on the CPU. Elsewhere ``--workers`` is ignored with a note. Errors: torchrun,
    ``--seeds`` (the configs fix them), ``train --profile smoke`` (no smoke size), ``--profile gpu``
    without ``--data-root``, a CUDA ``--device`` for the cpu profile's training, ``--repeats`` < 1.
    """
    import json

    from paperlab.core import cli
    from paperlab.core.paths import data_dir

    ap = cli.parser("python -m paperlab.coop", "CoOp / CoCoOp: bench (looped vs batched CoCoOp) or train "
                    "(cpu: the micro-CLIP experiment; gpu: ViT-B-32 on a real dataset).", commands=("bench", "train"))
    ap.add_argument("--repeats", type=int, default=3, help="bench: timed steps per (B, K)")
    ap.add_argument("--dataset", default="eurosat", help="gpu profile: eurosat | pets")
    ap.add_argument("--data-root", help="gpu profile: folder holding eurosat/2750 or oxford-iiit-pet")
    ap.add_argument("--backbone", default="ViT-B-32", help="gpu profile: ViT-B-32 (default) or micro")

    def body(args, run):
        if run.world > 1:
            ap.error(f"coop {args.command} runs in one process (its prompts train one after another); "
                     f"run it without torchrun (got {run.world} ranks)")
        if run.workers > 1 and not (args.command == "train" and run.profile.name == "cpu"):
            run.log(f"note: coop {args.command} --profile {run.profile.name} has no parallel path; "
                    f"--workers {run.workers} ignored, running sequentially")
        if run.seeds is not None:
            ap.error(f"--seeds {' '.join(map(str, run.seeds))}: coop's seeds are fixed by its configs "
                     "(CPU_CONFIG / REAL_CONFIG seeds 0 1 2)")
        if args.repeats < 1:
            ap.error(f"--repeats must be >= 1, got {args.repeats}")
        if args.command == "bench":
            rows = bench(device=run.device, repeats=args.repeats)
            if run.device == "cpu":
                from paperlab.core import assets

                (data_dir() / BENCH_FILE).parent.mkdir(parents=True, exist_ok=True)
                (data_dir() / BENCH_FILE).write_text(json.dumps(rows, indent=1) + "\n")
                assets.register(BENCH_FILE, command="python -m paperlab.coop bench")
            return 0
        if run.profile.name == "gpu":
            if not args.data_root:
                ap.error("--profile gpu needs --data-root (the folder holding eurosat/2750 or oxford-iiit-pet)")
            table = summarize(run_real(args.dataset, args.data_root, backbone=args.backbone, device=run.device))
            print(table.groupby("method")[["base", "new", "H"]].agg(["mean", "std"]).round(2).to_string())
            return 0
        if run.profile.name == "smoke":
            ap.error("train --profile smoke: coop has no smoke size; --profile cpu trains the committed "
                     "data/coop/prompts.pt (the smoke notebook loads it), --profile gpu runs run_real")
        if run.device != "cpu":
            ap.error(f"--device {args.device}: the cpu profile's micro-CLIP experiment runs on the CPU")
        from paperlab import clip as pclip
        from paperlab.core.train import load_or_train

        clip_model, tok = load_backbone(pin_backbone()), pclip.tokenizer()
        mapper = run.map if run.workers > 1 else None  # workers 1: train_all's own sequential loop
        command = "python -m paperlab.coop train" + (f" --workers {run.workers}" if run.workers > 1 else "")
        out = load_or_train(CHECKPOINT, lambda: train_all(clip_model, tok, CPU_CONFIG, mapper=mapper), retrain=True,
                            command=command, seeds=list(CPU_CONFIG["seeds"]))
        print(f"trained {len(out['runs'])} learned prompts in {out['wall_s']:.0f} s -> data/{CHECKPOINT}")
        return 0

    return cli.main(ap, body, argv)




def summarize(rows: list[dict], datasets: Sequence[str] | None = None):
    """Per (method, seed): accuracy (%) averaged over datasets (``datasets``: only those) on every split, and
    H = harmonic mean of the averaged base and new accuracies (how CoCoOp's Table 1 averages its 11 datasets)."""
    import pandas as pd

    from paperlab.core.metrics import harmonic_mean

    df = pd.DataFrame(rows)
    if datasets is not None:
        df = df[df.dataset.isin(list(datasets))]
    wide = df.pivot_table(index=["method", "seed"], columns="split", values="acc", aggfunc="mean") * 100
    wide["H"] = [harmonic_mean(b, n) for b, n in zip(wide["base"], wide["new"])]
    photo = df[~df.dataset.str.contains(":") & (df.split == "base")]  # the DG source: photo datasets' base
    if len(photo):
        wide["photo base"] = photo.pivot_table(index=["method", "seed"], values="acc", aggfunc="mean")["acc"] * 100
    return wide.reset_index()


# ----------------------------------------------------------------------------- the method figure

def method_figure():
    """CoOp and CoCoOp side by side, labelled with this module's names: the only wiring difference is the
    Meta-Net path from the image feature z into the context (CoCoOp), which makes the prompts per image."""
    import matplotlib.pyplot as plt

    from paperlab.core import plots

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    frozen, learned = "#e8e8e8", "#fde2b8"
    boxes = {
        "x": (0.12, 0.95, "image x", "white"),
        "f": (0.12, 0.62, "image encoder f\n(clip.visual, frozen)", frozen),
        "z": (0.12, 0.2, "z = f(x) / |f(x)|", "white"),
        "ctx": (0.72, 1.02, "ctx: v_1..v_M (learned)", learned),
        "asm": (0.72, 0.66, "PromptLearner.assemble\nt_i = [SOS, v_1..v_M, c_i, ., EOT]", "white"),
        "g": (0.72, 0.43, "TextEncoder g (frozen)", frozen),
        "p": (0.72, 0.2, "logit_scale * cos(g(t_i), z)\n-> p(y=i | x)", "white"),
    }
    arrows = [("x", "f"), ("f", "z"), ("asm", "g"), ("g", "p")]
    plots.block_diagram(boxes, arrows + [("ctx", "asm")], ax=axes[0], title="CoOp: K prompts, the same for every image")
    co = {**boxes, "ctx": (0.4, 1.02, "ctx: v_1..v_M (learned)", learned),
          "meta": (0.4, 0.45, "MetaNet h (learned)\npi = h(z)", learned),
          "shift": (0.4, 0.84, "shifted_context\nv_m + pi", "white")}
    plots.block_diagram(co, arrows + [("meta", "shift"), ("ctx", "shift")], ax=axes[1],
                        title="CoCoOp: v_m(x) = v_m + pi(x), B x K prompts")
    arrow = {"arrowstyle": "-|>", "lw": 1.0, "color": "#444444"}
    for ax in axes:  # z enters the similarity: drawn by hand so the arrow head stops at the box's edge
        ax.annotate("", xy=(0.5, 0.2), xytext=(0.24, 0.2), arrowprops=arrow)
        ax.set_ylim(0.1, 1.08)
    axes[1].annotate("", xy=(0.34, 0.39), xytext=(0.2, 0.25), arrowprops=arrow)  # z -> MetaNet
    axes[1].annotate("", xy=(0.6, 0.71), xytext=(0.48, 0.8), arrowprops=arrow)  # shifted context -> assemble
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the Meta-Net shift explorer

@torch.no_grad()
def scaled_shift(model: CoCoOp, z: torch.Tensor, scale: float = 1.0) -> dict:
    """CoCoOp with its image-conditioned shift scaled: ``v_m(x) = v_m + scale * pi(x)`` (scale 1 is the model,
    0 is its context without the Meta-Net). z (B, E) -> {"ctx": (M, D), "pi": (B, D), "probs": (B, K)}."""
    if not isinstance(model, CoCoOp):
        raise TypeError(f"scaled_shift needs a CoCoOp model, got {type(model).__name__}")
    _check_features(z, model.clip.visual.output_dim)
    pl = model.prompt_learner
    pi = pl.meta_net(z)  # (B, D)
    ctx = pl.ctx.unsqueeze(0) + scale * pi.unsqueeze(1)  # (B, M, D)
    t = model.text_features(pl.assemble(ctx.unsqueeze(1).expand(-1, pl.n_cls, -1, -1)))  # (B, K, E)
    logits = model.logit_scale * torch.einsum("be,bke->bk", z, t)
    return {"ctx": pl.ctx.detach().clone(), "pi": pi, "probs": logits.softmax(-1)}


@torch.no_grad()
def shift_plane(model: CoCoOp, z: torch.Tensor):
    """A fixed 2-D view of the context space for the explorer: axis 1 along the mean shift over the images
    z (B, E), axis 2 the main direction in which pi(x) varies from image to image (orthogonal to axis 1).
    Returns (origin (D,), basis (D, 2)); project with ``(v - origin) @ basis``."""
    pi = model.prompt_learner.meta_net(z)
    mean = pi.mean(0)
    a1 = mean / mean.norm().clamp_min(1e-12)
    dev = (pi - mean) - ((pi - mean) @ a1)[:, None] * a1  # image-dependent part, without its axis-1 component
    a2 = torch.linalg.svd(dev, full_matrices=False).Vh[0] if len(z) > 1 and dev.abs().sum() > 0 else \
        torch.linalg.svd(torch.eye(len(a1))[:2] - torch.outer(torch.eye(len(a1))[:2] @ a1, a1), full_matrices=False).Vh[0]
    return model.prompt_learner.ctx.mean(0), torch.stack([a1, a2], 1)


def plot_shift(model: CoCoOp, feats: Features, index: int = 0, scale: float = 1.0, plane=None, top: int = 6):
    """Left: the M context vectors v_m (circles) and v_m + scale * pi(x) for test image ``index`` (arrows), with
    v_m + pi(x) of every test image as a grey cloud, on the plane of ``shift_plane``. Right: the class
    probabilities with the shift scaled (bars) and with no shift (outlines)."""
    import matplotlib.pyplot as plt

    index = max(0, min(int(index), len(feats) - 1))
    origin, basis = plane if plane is not None else shift_plane(model, feats.z)
    proj = lambda v: ((v - origin) @ basis).numpy()  # noqa: E731
    out, none = scaled_shift(model, feats.z[index:index + 1], scale), scaled_shift(model, feats.z[index:index + 1], 0.0)
    allpi = scaled_shift(model, feats.z, 1.0)["pi"]
    ctx, pi = out["ctx"], out["pi"][0]
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    cloud = proj((ctx.unsqueeze(0) + allpi.unsqueeze(1)).reshape(-1, ctx.shape[1]))
    a0.scatter(cloud[:, 0], cloud[:, 1], s=4, c="0.8", label="v_m + pi(x), all test images")
    p0, p1 = proj(ctx), proj(ctx + scale * pi)
    for m in range(len(ctx)):
        a0.annotate("", xy=p1[m], xytext=p0[m], arrowprops={"arrowstyle": "-|>", "color": f"C{m}", "lw": 1.2})
        a0.scatter(*p0[m], color=f"C{m}", s=30, zorder=3, label=f"v_{m + 1}" if m < 4 else None)
    a0.set_xlabel("along the mean shift (D-dim units)")
    a0.set_ylabel("main image-to-image direction")
    a0.set_title(f"context: v_m -> v_m + {scale:g} pi(x)", fontsize=9)
    a0.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=5, columnspacing=0.8)
    p, q = out["probs"][0], none["probs"][0]
    order = p.argsort(descending=True)[:top].tolist()[::-1]
    names = [feats.classnames[i] for i in order]
    a1.barh(names, p[order].numpy(), color="C0", label=f"shift x {scale:g}")
    a1.barh(names, q[order].numpy(), fill=False, edgecolor="k", label="no shift (scale 0)")
    a1.set_xlim(0, 1)
    a1.set_xlabel("probability")
    a1.set_title(f"image {index}, true class: {feats.classnames[int(feats.labels[index])]}", fontsize=9)
    a1.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


@torch.no_grad()
def shift_effect(model: CoCoOp, feats: Features) -> dict:
    """What the Meta-Net shift does on a split: accuracy without it (scale 0), with it (1) and doubled (2), the
    share of predictions it changes, the length of the mean shift and the image-dependent part of pi(x) (RMS
    distance from the mean shift, relative to the mean shift's length)."""
    pred = {s: scaled_shift(model, feats.z, s)["probs"].argmax(-1) for s in (0.0, 1.0, 2.0)}
    pi = model.prompt_learner.meta_net(feats.z)
    mean = pi.mean(0)
    return {"acc no shift": float((pred[0.0] == feats.labels).float().mean()),
            "acc CoCoOp": float((pred[1.0] == feats.labels).float().mean()),
            "acc 2x shift": float((pred[2.0] == feats.labels).float().mean()),
            "changed": float((pred[1.0] != pred[0.0]).float().mean()),
            "|mean pi|": float(mean.norm()), "|v_m|": float(model.prompt_learner.ctx.norm(dim=-1).mean()),
            "image part": float((pi - mean).norm(dim=-1).pow(2).mean().sqrt() / mean.norm().clamp_min(1e-12))}


# ----------------------------------------------------------------------------- gpu profile: real CLIP, real data

REAL_CONFIG = dict(CPU_CONFIG, seeds=(0, 1, 2), coop=dict(epochs=200, batch_size=32, lr=0.002),
                   cocoop=dict(epochs=10, batch_size=1, lr=0.002), overrides={})  # official recipes (CoCoOp batch 1)


def encode_files(clip_model, split, batch_size: int = 128, device: str = "cpu") -> Features:
    """A ``worlds.realfewshot.FileSplit`` -> :class:`Features`: images loaded in batches at the model's input
    size (CLIP's resize + centre crop) and encoded by ``paperlab.clip.encode_images``."""
    from paperlab.clip import _image_size, encode_images
    from paperlab.worlds.realfewshot import load_images

    size, zs = _image_size(clip_model), []
    for i in range(0, len(split), batch_size):
        zs.append(encode_images(clip_model, load_images(split.paths[i:i + batch_size], size).to(device)).cpu())
    if not zs:
        raise ValueError("the split is empty: no images to encode")
    return Features(torch.cat(zs), split.labels.clone(), list(split.classnames))


def run_real(name: str, root: str, backbone: str = "ViT-B-32", cfg: dict = REAL_CONFIG, device: str = "cpu",
             progress: bool = True, download: bool = False) -> list[dict]:
    """Base-to-new on a real dataset (``worlds.realfewshot``: EuroSAT or Pets) with the same code as the
    micro-CLIP experiment: 16-shot base training of CoOp and CoCoOp per seed, zero-shot with CoOp's
    hand-written prompt, accuracy on base and new test classes. ``backbone`` is ``"ViT-B-32"`` (OpenAI
    weights, downloaded by open_clip: gpu profile) or ``"micro"`` (the course's micro-CLIP: tests).
    Returns rows ``{dataset, seed, method, split, acc}`` (``summarize`` adds H)."""
    from paperlab import clip as pclip
    from paperlab.worlds import realfewshot

    ds = realfewshot.dataset(name, root, download=download)
    clip_model = pclip.load_pretrained(backbone, device=device)
    tok = pclip.tokenizer(clip_model.paperlab_name)
    tests = {s: encode_files(clip_model, ds.test(s), device=device) for s in ("base", "new")}
    rows = []
    for s in ("base", "new"):
        acc = zero_shot_accuracy(clip_model, tests[s], ds.templates)
        rows += [dict(dataset=name, seed=seed, method="zero-shot", split=s, acc=acc) for seed in cfg["seeds"]]
    for seed in cfg["seeds"]:
        train = encode_files(clip_model, ds.train(k_shot=cfg["shots"], seed=seed, subset="base"), device=device)
        for m in ("coop", "cocoop"):  # the gpu path: CoCoOp's base-to-new pair
            state, _ = train_run(m, clip_model, tok, train, cfg, seed=seed, progress=progress, dataset_name=name)
            model = load_run(m, clip_model, tok, train.classnames, state, cfg)
            rows += [dict(dataset=name, seed=seed, method=m, split=s, acc=accuracy(model, tests[s]))
                     for s in ("base", "new")]
    return rows


# ----------------------------------------------------------------------------- the notebook's exercises

# Exercise 2 uses the paper's averages (CoOp, Table 1 of CoCoOp, via the course card; not verified): CoOp's base
# accuracy with zero-shot CLIP's new-class accuracy
EX2_BASE, EX2_NEW = 82.69, 74.22
EX5_OPTIONS = ("a", "b", "c")


def _shift_reference(ctx: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    return ctx.unsqueeze(0) + pi.unsqueeze(1)  # v_m(x) = v_m + pi(x): (B, M, D)


def check_exercise(n: int, answer, **data) -> str:
    """The notebook's exercise checks (1-5); each prints not attempted / incorrect / close / correct.

    Data the checks need: exercise 1 ``D`` (the text width, or ``clip_model``)."""
    from paperlab.core import checks
    from paperlab.core.metrics import harmonic_mean

    if n == 1:
        D = data.get("D") or data["clip_model"].positional_embedding.shape[1]
        return checks.check_close("exercise 1", answer, 4 * int(D), hint="M vectors of the text width D")
    if n == 2:
        return checks.check_close("exercise 2", answer, harmonic_mean(EX2_BASE, EX2_NEW), rtol=1e-3, close_rtol=0.02,
                                  hint="H = 2ab / (a + b) with a = base, b = new")
    if n == 3:
        ans = None if (isinstance(answer, tuple) and ... in answer) else answer
        ans = tuple(ans) if isinstance(ans, (tuple, list)) else ans
        return checks.check_equal("exercise 3", ans, (32 * 16, 16),
                                  hint="CoCoOp: one prompt per image and class; CoOp: one per class, shared by all images")
    if n == 4:
        g = torch.Generator().manual_seed(4)
        cases = [(torch.randn(4, 8, generator=g), torch.randn(3, 8, generator=g)),
                 (torch.randn(2, 5, generator=g), torch.randn(1, 5, generator=g))]
        return checks.check_function("exercise 4", answer, _shift_reference, cases,
                                     hint="the same pi(x) is added to every context vector m of image x")
    if n == 5:
        return checks.check_choice("exercise 5", answer, "a", options=list(EX5_OPTIONS),
                                   hint="count the context tensors: one per *trained* class")
    raise ValueError(f"exercise number must be 1-5, got {n}")


SOLUTIONS = {
    1: ("CoOp learns only the $M$ context vectors, each of the text width $D$: $M \\cdot D$ numbers. "
        "$D$ is read off the micro-CLIP's positional embedding (an untrained model has the same shape).",
        """from paperlab import clip as pclip
model = pclip.create_model()[0]
D = model.positional_embedding.shape[1]
answer_1 = 4 * D
verdict = coop.check_exercise(1, answer_1, D=D)"""),
    2: ("The harmonic mean $H = 2ab/(a+b)$ of base $a = 82.69$ and new $b = 74.22$ (the paper's averages, "
        "course card, not verified). $H$ rises from CoOp's 71.66 to above CoCoOp's 75.83: the harmonic mean punishes "
        "the weaker of the two numbers, so the new-class drop is what costs CoOp its $H$.",
        """a, b = 82.69, 74.22
answer_2 = 2 * a * b / (a + b)
verdict = coop.check_exercise(2, answer_2)"""),
    3: ("CoCoOp's prompts depend on the image, so every image needs its own $K$ prompts: $B \\cdot K = 512$ "
        "sequences. CoOp's $K = 16$ prompts are the same for every image and go through the encoder once.",
        """answer_3 = (32 * 16, 16)
verdict = coop.check_exercise(3, answer_3)"""),
    4: ("Broadcast: `ctx` (M, D) becomes (1, M, D), `pi` (B, D) becomes (B, 1, D); the sum is (B, M, D), the same "
        "shift for every context vector of one image. This is `CoCoOpPromptLearner.shifted_context`.",
        """def shift_context(ctx, pi):
    return ctx.unsqueeze(0) + pi.unsqueeze(1)

verdict = coop.check_exercise(4, shift_context)"""),
    5: ("With class-specific context each *trained* class has its own vectors $v^{(i)}_m$; a new class has none, "
        "so there is no prompt to write for it (not a worse one). Unified context is shared, so it transfers.",
        """answer_5 = "a"
verdict = coop.check_exercise(5, answer_5)"""),
}


if __name__ == "__main__":
    raise SystemExit(main())
