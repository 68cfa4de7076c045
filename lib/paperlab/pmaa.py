"""PMAA: a progressive multi-scale attention autoencoder for multi-temporal cloud removal.

Xuechao Zou, Kai Li, Junliang Xing, Pin Tao, Yachao Cui, "PMAA: A Progressive Multi-scale Attention
Autoencoder Model for High-Performance Cloud Removal from Multi-temporal Satellite Imagery",
ECAI 2023, arXiv:2303.16565. Official code: https://github.com/XavierJiezou/PMAA (``model/pmaa.py``).

Our reading of the official generator (re-written, not copied):

* a per-date **feature extractor** (shared weights) with a cloud-detection head whose soft mask gates
  the middle bottlenecks, an ASPP block and an auxiliary per-date prediction head;
* three stacked **autoencoders** ("progressive"), each: pointwise projection, a depthwise encoder
  pyramid, the **Multi-scale Attention Module** (pool every scale to the coarsest grid and sum, one
  Conv2Former layer = convolutional modulation, gate every scale with the result), and a decoder of
  **Local Interaction Modules** (coarse level gates the finer one);
* a 1x1 conv + tanh output in [-1, 1] (the repository's HEAD; its first commit had a 7x7 conv, changed
  to 1x1 in the merged pull request #2, "fix the pmaa", Aug 2023: ``PMAAConfig(head_kernel=7)``).

Choices taken from the official code, not the paper text: BatchNorm is swapped for InstanceNorm
(affine=False) at train and test time, which also drops the ReLU that timm fuses into its BatchNorm
inside the depthwise-separable convs -- we build the swapped network directly. The code's first
decoder step uses the *finer* level as "global" (``decoder="code"``); the figure's coarse-to-fine
walk is our default (``decoder="figure"``).

Simplifications for a 2-core CPU (named in the notebook): small widths (8 / 32 instead of 32 / 128), depth 3 on 16x16 tiles, 3
bottlenecks instead of 6, ASPP rates (2, 4, 6) instead of (12, 24, 36), ASPP hidden width 8 instead of 128,
no drop-path (0.1 in the Conv2Former), default PyTorch initialisation instead of the code's
``_init_weight_goog``, no GAN term in the committed runs, 500 steps with lr 2e-3 instead of 100 epochs
with lr 5e-4, no checkpoint selection by validation PSNR; the mask loss uses the world's true cloud
opacities instead of the frozen CTGAN detector's masks.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ------------------------------------------------------------------------------ config ----


@dataclass(frozen=True)
class PMAAConfig:
    """Widths of one PMAA generator. The paper's model is ``dim=32, ae_hidden=128, depth=5,
    n_ae=3, n_bottlenecks=6, aspp_rates=(12, 24, 36)`` on 256x256 tiles."""

    bands: int = 4
    out_bands: int = 4
    dim: int = 8
    ae_hidden: int = 32
    depth: int = 3
    n_ae: int = 3
    n_bottlenecks: int = 3
    aspp_hidden: int = 8
    aspp_rates: tuple[int, int, int] = (2, 4, 6)
    global_path: bool = True  # MAM's global context G (False: every scale keeps only its local branch)
    decoder: str = "figure"  # "figure" (coarse -> fine LIM), "code" (official indexing), "plain" (upsample-add)
    head_kernel: int = 1  # output conv: 1x1 as in the official HEAD (7x7 in the repository's first commit)

    def __post_init__(self):
        if self.decoder not in ("figure", "code", "plain"):
            raise ValueError(f"decoder must be 'figure', 'code' or 'plain', got {self.decoder!r}")
        if self.depth < 3:
            raise ValueError(f"depth must be >= 3 (the code-indexed decoder reads level depth-3), got {self.depth}")
        if self.head_kernel < 1 or self.head_kernel % 2 == 0:
            raise ValueError(f"head_kernel must be a positive odd int, got {self.head_kernel}")
        if self.n_ae < 1 or self.n_bottlenecks < 2:
            raise ValueError(f"need n_ae >= 1 and n_bottlenecks >= 2, got {self.n_ae}, {self.n_bottlenecks}")


def norm(c: int) -> nn.Module:
    """The official train/test scripts swap every BatchNorm2d for InstanceNorm2d(affine=False)."""
    return nn.InstanceNorm2d(c, affine=False)


def check_input(x: torch.Tensor, bands: int = 4, depth: int | None = None) -> None:
    """x must be (B, 3, bands, H, W), finite, with H and W divisible by 2^(depth-1)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 5 or x.shape[1] != 3 or x.shape[2] != bands:
        raise ValueError(f"expected x of shape (B, 3 dates, {bands} bands, H, W), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf reflectances")
    if depth is not None:
        f = 2 ** (depth - 1)
        if x.shape[-1] % f or x.shape[-2] % f:
            raise ValueError(f"H, W = {tuple(x.shape[-2:])} must be divisible by 2^(depth-1) = {f}")


# ------------------------------------------------------------------- feature extractor ----


def conv_norm_relu(cin: int, cout: int, k: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=dilation * (k - 1) // 2, dilation=dilation, bias=False),
                         norm(cout), nn.ReLU())


class Bottleneck(nn.Sequential):
    """1x1 -> dilated 3x3 (d=2) -> 1x1, each with norm + ReLU (CTGAN's bottleneck)."""

    def __init__(self, dim: int):
        super().__init__(conv_norm_relu(dim, dim), conv_norm_relu(dim, dim, 3, 2), conv_norm_relu(dim, dim))


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1, three dilated 3x3, image pooling; concat -> 1x1."""

    def __init__(self, dim: int, hidden: int, rates: tuple[int, int, int]):
        super().__init__()
        self.branches = nn.ModuleList([conv_norm_relu(dim, hidden)] + [conv_norm_relu(dim, hidden, 3, r) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, hidden, 1, bias=False), nn.ReLU())
        self.project = nn.Sequential(conv_norm_relu(5 * hidden, dim), nn.Dropout(0.1))

    def forward(self, x):
        pooled = self.pool(x).expand(-1, -1, *x.shape[-2:])
        return self.project(torch.cat([b(x) for b in self.branches] + [pooled], dim=1))


class FeatureExtractor(nn.Module):
    """Per-date encoder with cloud attention. (B, bands, H, W) -> mask (B,1,H,W), F_t (B,dim,H,W), aux (B,out,H,W)."""

    def __init__(self, cfg: PMAAConfig):
        super().__init__()
        d = cfg.dim
        self.conv_in = conv_norm_relu(cfg.bands, d, 3)
        self.bottlenecks = nn.ModuleList([Bottleneck(d) for _ in range(cfg.n_bottlenecks)])
        self.cloud_detection = nn.Sequential(conv_norm_relu(d, 2 * d), conv_norm_relu(2 * d, 4 * d),
                                             nn.Conv2d(4 * d, 1, 1), nn.Sigmoid())
        self.aspp = ASPP(d, cfg.aspp_hidden, cfg.aspp_rates)
        self.aux = nn.Conv2d(d, cfg.out_bands, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        last = len(self.bottlenecks) - 1
        mask = None
        for i, block in enumerate(self.bottlenecks):
            if i in (0, last):  # first and last bottleneck are not gated
                h = F.relu(block(h) + h)
            else:  # Eq. (cloud attention): h <- ReLU(Bottleneck(h) * A_t + h), A_t re-detected (shared head)
                mask = self.cloud_detection(h)
                h = F.relu(block(h) * mask + h)
        feat = self.aspp(h)
        return mask, feat, torch.tanh(self.aux(feat))


# ------------------------------------------------------------------------------- MAM ----


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of (B, C, H, W)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Conv2Former(nn.Module):
    """MAM's "transformer" layer: convolutional modulation + conv MLP, layer scale 1e-6 (no drop path)."""

    def __init__(self, dim: int, mlp_ratio: int = 4):
        super().__init__()
        self.norm1, self.norm2 = LayerNorm2d(dim, eps=1e-6), LayerNorm2d(dim, eps=1e-6)
        self.a = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.GELU(), nn.Conv2d(dim, dim, 11, padding=5, groups=dim))
        self.v, self.proj = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
        h = dim * mlp_ratio
        self.fc1, self.pos, self.fc2 = nn.Conv2d(dim, h, 1), nn.Conv2d(h, h, 3, padding=1, groups=h), nn.Conv2d(h, dim, 1)
        self.gamma1 = nn.Parameter(1e-6 * torch.ones(dim))
        self.gamma2 = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, g0):
        z = self.norm1(g0)
        g1 = g0 + self.gamma1[:, None, None] * self.proj(self.a(z) * self.v(z))  # Eq.: G1 = G0 + g1 Wp(a * Wv LN(G0))
        m = F.gelu(self.fc1(self.norm2(g1)))
        m = m + F.gelu(self.pos(m))
        return g1 + self.gamma2[:, None, None] * self.fc2(m)  # Eq.: G = G1 + g2 MLP(G1)


class Gate(nn.Module):
    """Selective attention / LIM: out = phi_l(local) * sigmoid(up phi_a(global)) + up phi_g(global).

    Depthwise k x k convs + norm; ``global`` may be coarser than ``local`` (nearest upsampling).
    """

    def __init__(self, dim: int, k: int = 1):
        super().__init__()

        def dw():
            return nn.Sequential(nn.Conv2d(dim, dim, k, padding=k // 2, groups=dim, bias=False), norm(dim))

        self.local, self.act, self.glob = dw(), dw(), dw()

    def forward(self, local, glob):
        size = local.shape[-2:]
        attn = F.interpolate(torch.sigmoid(self.act(glob)), size=size, mode="nearest")
        return self.local(local) * attn + F.interpolate(self.glob(glob), size=size, mode="nearest")


class DWSeparable(nn.Module):
    """Depthwise k x k (stride s) -> norm -> pointwise 1x1 -> norm (+ skip if shape kept).

    timm fuses a ReLU into the first BatchNorm; the official norm swap to InstanceNorm drops it, so
    there is no activation here (faithful to what the released model computes).
    """

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, k, stride=stride, padding=k // 2, groups=cin)
        self.pw = nn.Conv2d(cin, cout, 1)
        self.n1, self.n2 = norm(cin), norm(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.n2(self.pw(self.n1(self.dw(x))))
        return y + x if self.skip else y


class MAMAutoencoder(nn.Module):
    """One progressive stage (the official ``OtherUConvBlock``). (B, cin, H, W) -> (B, cout, H, W)."""

    def __init__(self, cin: int, hidden: int, cout: int, cfg: PMAAConfig):
        super().__init__()
        self.cfg, self.cout = cfg, cout
        self.proj = DWSeparable(cin, hidden, k=1)
        self.encoder = nn.ModuleList([DWSeparable(hidden, hidden, 3, 1)] +
                                     [DWSeparable(hidden, hidden, 3, 2) for _ in range(cfg.depth - 1)])
        self.former = Conv2Former(hidden)
        self.select = nn.ModuleList([Gate(hidden, 1) for _ in range(cfg.depth)])
        self.lim = nn.ModuleList([Gate(hidden, 5) for _ in range(cfg.depth - 1)])
        self.out = nn.Conv2d(hidden, cout, 1)
        self.sum_residual = cin == 3 * cout  # stage 1: residual = sum of the three date features

    def encode(self, x):
        """Encoder pyramid E_0..E_{N-1} (H, H/2, ...) and the global context G at H/2^(N-1)."""
        feats = [self.encoder[0](self.proj(x))]
        for block in self.encoder[1:]:
            feats.append(block(feats[-1]))
        coarse = feats[-1].shape[-2:]
        g0 = sum(F.adaptive_avg_pool2d(f, coarse) for f in feats)  # Eq.: G0 = sum_k AvgPool(E_k)
        return feats, self.former(g0)

    def fuse(self, feats, g):
        """Selective attention: E~_k = phi_l(E_k) * sigmoid(up phi_a(G)) + up phi_g(G)."""
        if not self.cfg.global_path:  # ablation: no global context, local branch only
            return [sel.local(f) for sel, f in zip(self.select, feats)]
        return [sel(f, g) for sel, f in zip(self.select, feats)]

    def decode(self, fused):
        """LIM decoder, coarse to fine: O <- LIM_i(local=E~_i, global=O)."""
        n = len(fused)
        out = fused[n - 1]
        for i in range(n - 2, -1, -1):
            if self.cfg.decoder == "plain":  # ablation: nearest upsample and add
                out = fused[i] + F.interpolate(out, size=fused[i].shape[-2:], mode="nearest")
            elif self.cfg.decoder == "code" and i == n - 2:  # official indexing: global = the *finer* level
                out = self.lim[i](fused[i], fused[i - 1])
            else:
                out = self.lim[i](fused[i], out)
        return out

    def forward(self, x):
        b, c, h, w = x.shape
        residual = x.view(b, 3, self.cout, h, w).sum(1) if self.sum_residual else x
        feats, g = self.encode(x)
        return self.out(self.decode(self.fuse(feats, g))) + residual


class PMAA(nn.Module):
    """x (B, 3, bands, H, W) in [-1, 1] -> y_hat (B, out, H, W), masks [3 x (B,1,H,W)], aux [3 x (B,out,H,W)]."""

    def __init__(self, cfg: PMAAConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or PMAAConfig()
        self.extractor = FeatureExtractor(cfg)
        self.stages = nn.ModuleList([MAMAutoencoder(3 * cfg.dim, cfg.ae_hidden, cfg.dim, cfg)] +
                                    [MAMAutoencoder(cfg.dim, cfg.ae_hidden, cfg.dim, cfg) for _ in range(cfg.n_ae - 1)])
        self.head = nn.Conv2d(cfg.dim, cfg.out_bands, cfg.head_kernel, padding=cfg.head_kernel // 2)  # + tanh

    def forward(self, x):
        check_input(x, self.cfg.bands, self.cfg.depth)
        masks, feats, aux = zip(*(self.extractor(x[:, t]) for t in range(3)))
        h = torch.cat(feats, dim=1)
        for stage in self.stages:  # progressive: AE_1 -> AE_2 -> AE_3
            h = stage(h)
        return torch.tanh(self.head(h)), list(masks), list(aux)


# ---------------------------------------------------------------------------- baselines ----


class UNet(nn.Module):
    """Heavy baseline (stand-in for CTGAN): a U-Net on the 3 dates concatenated along channels.

    x (B, 3, bands, H, W) -> (y_hat, [], []) so it trains with the same loop (no mask loss).
    """

    def __init__(self, bands: int = 4, out_bands: int = 4, widths: tuple[int, ...] = (24, 48, 96, 192)):
        super().__init__()
        self.bands = bands

        def block(cin, cout):
            return nn.Sequential(conv_norm_relu(cin, cout, 3), conv_norm_relu(cout, cout, 3))

        chans = [3 * bands, *widths]
        self.down = nn.ModuleList([block(chans[i], chans[i + 1]) for i in range(len(widths))])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(len(widths) - 1)])
        self.dec = nn.ModuleList([block(2 * widths[i], widths[i]) for i in range(len(widths) - 1)])
        self.head = nn.Conv2d(widths[0], out_bands, 1)

    def forward(self, x):
        check_input(x, self.bands, len(self.down))
        h, skips = x.flatten(1, 2), []
        for i, blk in enumerate(self.down):
            h = blk(h if i == 0 else F.max_pool2d(h, 2))
            skips.append(h)
        for i in range(len(self.up) - 1, -1, -1):
            h = self.dec[i](torch.cat([skips[i], self.up[i](h)], dim=1))
        return torch.tanh(self.head(h)), [], []


def median_of_dates(x: torch.Tensor) -> torch.Tensor:
    """Trivial baseline: per-pixel median over the 3 dates. (B, 3, C, H, W) -> (B, C, H, W)."""
    check_input(x, x.shape[2] if x.ndim == 5 else 4)
    return x.median(dim=1).values


def least_cloudy_date(x: torch.Tensor) -> torch.Tensor:
    """Trivial baseline: copy the date with the darkest mean visible brightness (fewest clouds)."""
    check_input(x, x.shape[2] if x.ndim == 5 else 4)
    idx = x[:, :, :3].mean(dim=(2, 3, 4)).argmin(dim=1)
    return x[torch.arange(x.shape[0]), idx]


# ----------------------------------------------------------------------- loss, training ----


def generator_loss(y_hat, y, masks_pred, masks_true, lambda_l1: float = 100.0):
    """Eq. (generator, without the GAN term): lambda_1 |y_hat - y|_1 + sum_t MSE(A_t, M_t).

    ``masks_true`` (B, 3, 1, H, W) are the world's true opacities (the paper uses the masks of a frozen
    CTGAN cloud detector). A model without masks (the U-Net) passes ``masks_pred=[]``.
    """
    if masks_true.min() < 0 or masks_true.max() > 1:
        raise ValueError(f"masks must lie in [0, 1], got range [{masks_true.min():.3g}, {masks_true.max():.3g}]")
    loss = lambda_l1 * F.l1_loss(y_hat, y)
    for t, a in enumerate(masks_pred):
        loss = loss + F.mse_loss(a, masks_true[:, t])
    return loss


class PatchGAN(nn.Module):
    """LSGAN discriminator on [x_1, x_2, x_3, y] (16 channels): strided 4x4 convs -> patch scores."""

    def __init__(self, in_ch: int = 16, ndf: int = 32, layers: int = 3):
        super().__init__()
        mods, c = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2)], ndf
        for _ in range(layers - 1):
            mods += [nn.Conv2d(c, 2 * c, 4, 2, 1), norm(2 * c), nn.LeakyReLU(0.2)]
            c *= 2
        self.net = nn.Sequential(*mods, nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, x, y):
        return self.net(torch.cat([x.flatten(1, 2), y], dim=1))


@dataclass(frozen=True)
class TrainConfig:
    n_train: int = 800
    size: int = 16
    batch: int = 8
    epochs: int = 5  # 500 steps; with 1 epoch (100 steps) seed 1 of most variants stalled at ~14 dB
    lr: float = 2e-3  # the paper: 5e-4 over 100 epochs; our runs are 500 steps
    weight_decay: float = 5e-4
    data_seed: int = 1000
    gan: bool = False  # LSGAN term (lambda_1 = 100 keeps it small); off for the short CPU runs


def tensors(data: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """World arrays in [0, 1] -> model tensors: x, y in [-1, 1], masks in [0, 1]."""
    return (torch.from_numpy(data["x"] * 2 - 1), torch.from_numpy(data["y"] * 2 - 1),
            torch.from_numpy(data["masks"]))


def augment(x, y, m, gen: torch.Generator):
    """One random flip / 90-degree rotation applied jointly to all images of a batch (the official
    loader's counter-indexed codes can misalign input and target; this cannot)."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    flip = bool(torch.randint(0, 2, (1,), generator=gen))
    out = []
    for a in (x, y, m):
        a = torch.rot90(a, k, dims=(-2, -1))
        out.append(torch.flip(a, dims=(-1,)) if flip else a)
    return out


def build(name: str, base: PMAAConfig | None = None) -> nn.Module:
    """A model by variant name (see ``VARIANTS``)."""
    if name not in VARIANTS:
        raise KeyError(f"unknown variant {name!r}; choose from {list(VARIANTS)}")
    if name == "U-Net (heavy)":
        return UNet()
    return PMAA(replace(base or PMAAConfig(), **VARIANTS[name]))


VARIANTS = {
    "PMAA-small": {},
    "U-Net (heavy)": None,
    "no MAM global path": {"global_path": False},
    "plain upsample-add decoder": {"decoder": "plain"},
    "1 autoencoder": {"n_ae": 1},
    "official decoder indexing": {"decoder": "code"},
}
# what `python -m paperlab.pmaa train` trains: 5 seeds of the two models of claim 1 and the three ablations
# with a claim, 3 seeds of the official decoder indexing (no claim): 28 models, all with the same recipe
# (TrainConfig) on one shared training set; each job regenerates its data and seeds itself
ABLATIONS = ("no MAM global path", "plain upsample-add decoder", "1 autoencoder", "official decoder indexing")
PLAN = {name: (0, 1, 2, 3, 4) if name != "official decoder indexing" else (0, 1, 2)
        for name in ("PMAA-small", "U-Net (heavy)", *ABLATIONS)}
SEEDS = sorted({s for seeds in PLAN.values() for s in seeds})


def train_one(name: str, seed: int, tcfg: TrainConfig, data: dict, progress: bool = False) -> tuple[nn.Module, list]:
    """Train one variant with AdamW (betas 0.5, 0.999) + cosine schedule, as ``train_new.py``."""
    from tqdm.auto import tqdm

    from paperlab.core.seeding import seed_everything

    seed_everything(seed)
    model = build(name)
    x, y, m = tensors(data)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, betas=(0.5, 0.999), weight_decay=tcfg.weight_decay)
    steps = tcfg.epochs * (len(x) // tcfg.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=1e-6)
    disc = PatchGAN() if tcfg.gan else None
    opt_d = torch.optim.AdamW(disc.parameters(), lr=tcfg.lr, betas=(0.5, 0.999)) if disc else None
    gen = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in tqdm(range(tcfg.epochs), desc=f"{name} s{seed}", disable=not progress, leave=False):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - tcfg.batch + 1, tcfg.batch):
            xb, yb, mb = augment(x[perm[i:i + tcfg.batch]], y[perm[i:i + tcfg.batch]], m[perm[i:i + tcfg.batch]], gen)
            y_hat, masks, _ = model(xb)
            loss = generator_loss(y_hat, yb, masks, mb)
            if disc is not None:  # LSGAN: D step on (real, fake), then G gets (D(fake) - 1)^2
                d_loss = 0.5 * ((disc(xb, y_hat.detach()) ** 2).mean() + ((disc(xb, yb) - 1) ** 2).mean())
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                loss = loss + ((disc(xb, y_hat) - 1) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
    return model.eval(), losses


CHECKPOINT = "pmaa/variants.pt"
COMMAND = "python -m paperlab.pmaa train"


def _train_job(job):
    name, seed, tcfg = job
    from paperlab.worlds import clouds

    torch.set_num_threads(1)
    data = clouds.generate(tcfg.n_train, tcfg.data_seed, clouds.CloudConfig(size=tcfg.size))
    t1 = time.time()
    model, losses = train_one(name, seed, tcfg, data)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    print(f"{name}|{seed}: loss {np.mean(losses[:10]):.2f} -> {np.mean(losses[-10:]):.2f} ({time.time() - t1:.0f} s)",
          flush=True)
    return f"{name}|{seed}", state, torch.tensor(losses), time.time() - t1


def _train_kw(name: str, seed: int, tcfg: TrainConfig):
    """``_train_job`` with keyword arguments: the job function of ``core.distributed.run_many`` / ``Run.map``."""
    return _train_job((name, seed, tcfg))


def train_all(plan: dict | None = None, tcfg: TrainConfig | None = None, workers: int = 1, mapper=None) -> dict:
    """Train every (variant, seed) of ``plan`` on one shared training set (``workers`` processes,
    one thread each); returns fp16 state dicts, loss curves and wall times.

    Each job regenerates the data and seeds itself, so ``workers`` > 1 (spawned processes, via
    ``core.distributed.run_many``; under torchrun the ranks split the jobs) gives the weights of
    ``workers=1``. ``mapper(fn, jobs, common)`` replaces that spreading (the CLI passes
    :meth:`paperlab.core.cli.Run.map`)."""
    from paperlab.core import distributed as D

    plan, tcfg = plan or PLAN, tcfg or TrainConfig()
    jobs = [{"name": name, "seed": seed} for name, seeds in plan.items() for seed in seeds]
    out = {"train": asdict(tcfg), "base": asdict(PMAAConfig()), "models": {}, "losses": {}, "wall": {}}
    mapper = mapper or D.mapper_for(workers)
    t0 = time.time()
    results = mapper(_train_kw, jobs, {"tcfg": tcfg})
    for key, state, losses, wall in results:
        out["models"][key], out["losses"][key], out["wall"][key] = state, losses, wall
    out["wall_s"] = time.time() - t0
    return out


def load_model(ckpt: dict, name: str, seed: int) -> nn.Module:
    """Rebuild one trained (variant, seed) from a ``train_all`` checkpoint (``data/pmaa/variants.pt``).

    A checkpoint that is not a ``train_all`` dict, lacks the (variant, seed), or holds weights of another
    architecture is a ``ValueError`` / ``KeyError`` that names what was expected.
    """
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("models"), dict):
        got = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"not a pmaa checkpoint: expected the dict of train_all / load_or_train_all with keys "
                         f"'models', 'losses', 'train', 'base' ({CHECKPOINT}), got {got}")
    key = f"{name}|{seed}"
    if key not in ckpt["models"]:
        raise KeyError(f"no checkpoint for {key!r}; have {sorted(ckpt['models'])}")
    base = ckpt.get("base")
    try:
        cfg = PMAAConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in base.items()}) if base else None
    except TypeError as exc:
        raise ValueError(f"checkpoint's 'base' config {base!r} does not fit PMAAConfig: {exc}") from exc
    model = build(name, cfg)
    state = ckpt["models"][key]
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (RuntimeError, AttributeError) as exc:
        raise ValueError(f"checkpoint {key!r} does not fit the {name!r} architecture (built from the checkpoint's "
                         f"'base' config): {str(exc).splitlines()[0]}; was it trained by another version of "
                         f"paperlab.pmaa? Retrain with `{COMMAND}`") from exc
    return model.eval()


def load_or_train_all(retrain: bool | None = None, workers: int = 2, mapper=None) -> dict:
    """The committed checkpoints (sha256-verified), or train and register them (with the wall time).

    ``mapper``: how the (variant, seed) jobs are spread (``python -m paperlab.pmaa train`` passes the
    shared CLI's ``Run.map``); ``workers`` is then only the number recorded in the registry."""
    from paperlab.core import assets
    from paperlab.core.train import load_or_train

    trained = {}

    def train_fn():
        trained["ckpt"] = train_all(workers=workers, mapper=mapper)
        return trained["ckpt"]

    extra = dict(seeds=SEEDS, variants=list(PLAN), train=asdict(TrainConfig()))
    ckpt = load_or_train(CHECKPOINT, train_fn, retrain=retrain, command=COMMAND, **extra)
    if trained:
        assets.register(CHECKPOINT, command=f"{COMMAND} --workers {workers}", workers=workers,
                        wall_time_s=round(ckpt["wall_s"], 1),
                        model_wall_s_sum=round(sum(ckpt["wall"].values()), 1), **extra)
    return ckpt


# ------------------------------------------------------------------------- evaluation ----


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs_per_tile(model: nn.Module, size: int = 16, bands: int = 4) -> float:
    """Multiply-accumulates for one (3, bands, size, size) input: torch.utils.flop_counter FLOPs / 2."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, bands, size, size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 2


def macs_breakdown(model: nn.Module, size: int = 16, bands: int = 4) -> dict[str, float]:
    """MACs per top-level part of a model for one tile (``FlopCounterMode``'s per-module counts; a
    ``ModuleList`` is split into its members). For PMAA: the per-date extractor (all 3 dates), each
    stacked autoencoder, the head. The parts sum to ``macs_per_tile``."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3, bands, size, size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    counts = counter.get_flop_counts()
    root = type(model).__name__
    parts = []
    for name, child in model.named_children():
        parts += [f"{name}.{i}" for i in range(len(child))] if isinstance(child, nn.ModuleList) else [name]
    return {p: sum(counts.get(f"{root}.{p}", {}).values()) / 2 for p in parts}


def latency_ms(model: nn.Module, size: int = 16, repeats: int = 5) -> float:
    """Median CPU wall time (ms) of one forward pass on one tile."""
    return float(np.median(latency_samples(model, size, repeats)))


def latency_samples(model: nn.Module, size: int = 16, repeats: int = 5) -> list[float]:
    """CPU wall times (ms) of ``repeats`` forward passes on one tile, after one warm-up pass."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    x = torch.zeros(1, 3, 4, size, size)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(repeats):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000)
    return times


@torch.no_grad()
def predict(model_or_fn, x: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Restored tiles (n, C, H, W) in [-1, 1] from a model (first output) or a plain function."""
    outs = []
    for i in range(0, len(x), batch):
        out = model_or_fn(x[i:i + batch])
        outs.append(out[0] if isinstance(out, tuple) else out)
    return torch.cat(outs)


def evaluate(pred: torch.Tensor, data: dict) -> dict:
    """PSNR / SSIM on the 3 visible bands, fixed [0, 1] range (skimage via core.metrics), mean over
    tiles; ``psnr_all_cloudy`` pools the pixels cloudy (opacity > 0.5) on all 3 dates; ``psnr_tiles``
    is the per-tile PSNR (n,) for paired bootstraps over test tiles."""
    from paperlab.core import metrics
    from paperlab.worlds import clouds

    p = ((pred[:, :3].clamp(-1, 1) + 1) / 2).numpy().transpose(0, 2, 3, 1).astype(np.float64)
    y = data["y"][:, :3].transpose(0, 2, 3, 1).astype(np.float64)
    if p.shape != y.shape:
        raise ValueError(f"prediction shape {p.shape} does not match target {y.shape}")
    psnr = [metrics.psnr(a, b) for a, b in zip(p, y)]
    ssim = [metrics.ssim(a, b, channel_axis=-1) for a, b in zip(p, y)]
    cloudy = clouds.all_cloudy(data["masks"])
    return {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim)),
            "psnr_all_cloudy": metrics.psnr(p[cloudy], y[cloudy]) if cloudy.any() else float("nan"),
            "psnr_tiles": np.asarray(psnr, dtype=float)}


def oracle_selection(x: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Context oracle: per pixel, copy the date with the lowest *true* cloud opacity.

    x (B, 3, C, H, W), masks (B, 3, 1, H, W) in [0, 1] -> (B, C, H, W). What perfect cloud detection plus
    copying reaches; it cannot inpaint pixels cloudy on every date, and it keeps the chosen date's own
    gain / season, so a learned model may beat it.
    """
    check_input(x, x.shape[2] if x.ndim == 5 else 4)
    if masks.shape != (x.shape[0], 3, 1, *x.shape[-2:]):
        raise ValueError(f"masks must be (B, 3, 1, H, W) = {(x.shape[0], 3, 1, *x.shape[-2:])}, got {tuple(masks.shape)}")
    idx = masks.argmin(dim=1, keepdim=True).expand(-1, -1, x.shape[2], -1, -1)  # (B, 1, C, H, W)
    return x.gather(1, idx)[:, 0]


STALL_PSNR = 20.0  # dB on the training tiles: RMSE above 0.1 reflectance = the run did not learn the task


def stalled(train_psnr: float, line: float = STALL_PSNR) -> bool:
    """The stated stall rule: a run whose PSNR on (the first 128 of) its own training tiles, 3 visible
    bands, fixed [0, 1] range, is below ``line`` dB (RMSE > 0.1) has not learned the task. Such a run is
    named and left out of the paired comparisons, never averaged in."""
    if not np.isfinite(train_psnr):
        raise ValueError(f"training PSNR must be finite, got {train_psnr}")
    return bool(train_psnr < line)


def local_receptive_field(cfg: PMAAConfig, size: int, seed: int = 0, width: int = 4) -> int:
    """Side (px) of the input window that reaches the centre output pixel through the *local* path.

    A PMAA of ``cfg`` with MAM's global path removed, every InstanceNorm replaced by identity (its
    statistics span the whole tile) and ASPP's image pooling zeroed: what is left are the convolutions.
    The window is the bounding box of input pixels with a non-zero gradient, so it is capped at ``size``.
    If it covers the tile, the global map G carries no spatial context the local path lacks. The field
    depends on kernels, strides and dilations, not on widths, so every width is set to ``width`` (4 gives
    the full-width answer on the configs we checked, at a fraction of the cost).
    """
    torch.manual_seed(seed)
    cfg = replace(cfg, global_path=False, dim=width, ae_hidden=width, aspp_hidden=width)
    model = PMAA(cfg).double()
    for mod in list(model.modules()):
        for n, child in mod.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                setattr(mod, n, nn.Identity())
    model.extractor.aspp.pool = _ZeroPool(cfg.aspp_hidden)
    x = torch.randn(1, 3, cfg.bands, size, size, dtype=torch.float64, requires_grad=True)
    y, _, _ = model(x)
    y[0, :, size // 2, size // 2].sum().backward()
    hit = (x.grad.abs().sum(dim=(0, 1, 2)) > 0).nonzero()
    return int(max(hit[:, 0].max() - hit[:, 0].min(), hit[:, 1].max() - hit[:, 1].min()) + 1)


class _ZeroPool(nn.Module):
    """ASPP's image-pooling branch switched off (zeros of the branch's shape)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden

    def forward(self, x):
        return x.new_zeros(x.shape[0], self.hidden, 1, 1)


def rgb(a, gain: float = 2.5) -> np.ndarray:
    """A (4, H, W) reflectance tile in [0, 1] -> (H, W, 3) true-colour image (R, G, B), brightened."""
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[0] < 3:
        raise ValueError(f"expected a (bands>=3, H, W) tile, got shape {a.shape}")
    return np.clip(a[[2, 1, 0]].transpose(1, 2, 0) * gain, 0, 1)


@torch.no_grad()
def gate_maps(model: PMAA, x: torch.Tensor) -> list[torch.Tensor]:
    """MAM's selective-attention gates sigmoid(phi_a(G)) of stage 1, channel mean, one (B, h, w) per scale."""
    _, feats, _ = zip(*(model.extractor(x[:, t]) for t in range(3)))
    stage = model.stages[0]
    _, g = stage.encode(torch.cat(feats, dim=1))
    return [torch.sigmoid(sel.act(g)).mean(1) for sel in stage.select]


def main(argv=None) -> None:
    """``python -m paperlab.pmaa train [--workers N]``: every (variant, seed) of ``PLAN`` (the committed run).

    On the shared command line (``paperlab.core.cli``); ``--workers`` processes (or torchrun ranks)
    split the 28 runs with the sequential weights. pmaa has one size, trained on the CPU: ``--profile
    gpu`` trains the same plan (noted), ``--profile smoke``, ``--seeds`` and a CUDA ``--device`` are errors.
    """
    from paperlab.core import cli

    ap = cli.parser("python -m paperlab.pmaa", "Train PMAA variants (load-or-train).")

    def body(args, run):
        cli.cpu_plan_only(ap, args, run, "pmaa", f"{sum(map(len, PLAN.values()))} models")
        if run.seeds is not None:
            ap.error(f"--seeds {' '.join(map(str, run.seeds))}: pmaa train writes the committed plan "
                     f"(the seeds of PLAN, {CHECKPOINT}); it takes no other seeds")
        ckpt = load_or_train_all(retrain=True, workers=run.workers, mapper=run.map)
        run.log(f"trained {len(ckpt['models'])} models in {ckpt['wall_s']:.0f} s")

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()


# -------------------------------------------------------------------------- exercises ----

def gate_reference(local, glob_act, glob_feat):
    """Exercise 4's reference: local * sigmoid(up(glob_act)) + up(glob_feat), nearest upsampling."""
    size = local.shape[-2:]
    return local * F.interpolate(torch.sigmoid(glob_act), size=size) + F.interpolate(glob_feat, size=size)


def check_exercise(n: int, answer) -> str:
    """The notebook's exercise checks (1-4): not attempted / incorrect / close / correct."""
    from paperlab.core import checks

    if n == 1:
        return checks.check_close("exercise 1", answer, 32 * 9 * 8 * 8, rtol=1e-9, close_rtol=0.2,
                                  hint="depthwise: each of C channels has its own k x k filter, at every output pixel")
    if n == 2:
        return checks.check_equal("exercise 2", answer, 16, hint="four stride-2 steps: 256 / 2^4")
    if n == 3:
        return checks.check_choice("exercise 3", answer, "H/16", ["H", "H/2", "H/4", "H/8", "H/16"],
                                   hint="the first decoder step reads levels N-2 and N-3")
    if n == 4:
        g = torch.Generator().manual_seed(4)
        cases = [(torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, s, s, generator=g),
                  torch.randn(2, 3, s, s, generator=g)) for s in (2, 4)]
        return checks.check_function("exercise 4", answer, gate_reference, cases,
                                     hint="sigmoid first, then nearest upsampling to the local size")
    raise ValueError(f"exercise number must be 1-4, got {n}")


SOLUTIONS = {
    1: ("""A depthwise convolution gives each of the C channels its own k x k filter (groups = C). At stride 1 and
padding 1 every one of the 8 x 8 output pixels of every channel costs k*k = 9 multiply-accumulates:
C * 9 * 8 * 8 = 18,432. `FlopCounterMode` counts FLOPs (2 per multiply-accumulate), so MACs = FLOPs / 2.""",
        """from torch.utils.flop_counter import FlopCounterMode

conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
with FlopCounterMode(display=False) as fc:
    conv(torch.zeros(1, 32, 8, 8))
answer_1 = fc.get_total_flops() // 2
print("by hand:", 32 * 9 * 8 * 8, " counted:", answer_1)
verdict = pmaa.check_exercise(1, answer_1)"""),
    2: ("""Depth N = 5 means N - 1 = 4 stride-2 steps after the first (full-resolution) level, so the coarsest
level, where MAM pools every scale and runs its Conv2Former, is 256 / 2^4 = 16 pixels on a side. The library's
encoder confirms it on a 64-pixel input (64 / 2^4 = 4).""",
        """ae = pmaa.MAMAutoencoder(8, 8, 8, pmaa.PMAAConfig(depth=5)).eval()
with torch.no_grad():
    feats, g = ae.encode(torch.zeros(1, 8, 64, 64))
print("levels:", [f.shape[-1] for f in feats], " G on a", g.shape[-1], "x", g.shape[-1], "grid for a 64-px input")
answer_2 = 256 // 2 ** (5 - 1)
verdict = pmaa.check_exercise(2, answer_2)"""),
    3: ("""With N = 5 levels (H ... H/16), the figure's decoder starts from the coarsest level H/16. The official
code's first decoder step reads levels N-2 (H/8) as local and N-3 (H/4) as "global", and every later step reads
finer levels still: the coarsest level H/16 never enters the decoder. Bumping it changes nothing:""",
        """torch.manual_seed(0)
ae = pmaa.MAMAutoencoder(8, 8, 8, pmaa.PMAAConfig(decoder="code", depth=5)).eval()
fused = [torch.randn(1, 8, s, s) for s in (32, 16, 8, 4, 2)]
bumped = fused[:4] + [fused[4] + 10]
print("code decoder reacts to H/16:", not torch.allclose(ae.decode(fused), ae.decode(bumped)))
answer_3 = "H/16"
verdict = pmaa.check_exercise(3, answer_3)"""),
    4: ("""Squash the coarse activation map with the sigmoid, upsample it (nearest) to the local map's size, multiply,
then add the upsampled coarse feature map. `F.interpolate(..., size=local.shape[-2:])` uses nearest by default.""",
        """import torch.nn.functional as F

def my_gate(local, glob_act, glob_feat):
    size = local.shape[-2:]
    return local * torch.sigmoid(F.interpolate(glob_act, size=size)) + F.interpolate(glob_feat, size=size)

verdict = pmaa.check_exercise(4, my_gate)"""),
}


# --------------------------------------------------------------------- figures and real data ----

def plot_method(axes=None):
    """The method figure: PMAA's pipeline (left) beside the heavy U-Net baseline (right), labelled with
    the classes and methods of this module. Returns the two axes."""
    import matplotlib.pyplot as plt

    from paperlab.core.plots import block_diagram

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.4), dpi=80, gridspec_kw={"width_ratios": [2.4, 1]})
    block_diagram({
        "x": (0.07, 0.86, "3 cloudy dates\nx_t (B,3,4,H,W)", "#eeeeee"),
        "fe": (0.35, 0.86, "FeatureExtractor\n(shared, once per date;\nmask A_t gates bottlenecks)"),
        "cat": (0.62, 0.86, "concat\nF_1, F_2, F_3"),
        "ae": (0.88, 0.86, "3 x MAMAutoencoder\n(progressive)"),
        "enc": (0.09, 0.4, "encode:\nE_0 .. E_{N-1}\n(H .. H/2^(N-1))", "#fdebd0"),
        "g0": (0.29, 0.4, "G0 = sum_k\nAvgPool(E_k)", "#fdebd0"),
        "cf": (0.48, 0.4, "Conv2Former\n-> G", "#fdebd0"),
        "gate": (0.8, 0.4, "fuse: Gate (1x1)\nphi_l(E_k) * sig(up phi_a(G))\n+ up phi_g(G)", "#fdebd0"),
        "lim": (0.8, 0.1, "decode: LIM = Gate (5x5),\ncoarse O gates finer E~_k", "#fdebd0"),
        "head": (0.2, 0.1, "head: 1x1 conv + tanh\n-> y_hat", "#d5f5e3"),
    }, [("x", "fe"), ("fe", "cat"), ("cat", "ae"), ("ae", "enc", "one stage:", "--"), ("enc", "g0"), ("g0", "cf"), ("cf", "gate"),
        ("gate", "lim"), ("lim", "head", "after the 3rd stage")],
        ax=axes[0], title="PMAA (PMAA.forward); orange box: inside one MAMAutoencoder")
    axes[0].add_patch(plt.Rectangle((0.0, -0.02), 1.0, 0.62, fill=False, ls=":", lw=0.8, ec="#b9770e"))
    block_diagram({
        "x": (0.5, 0.9, "3 dates concatenated\n(B, 12, H, W)", "#eeeeee"),
        "down": (0.5, 0.64, "down: 4 conv blocks\nwidths 24-192, max-pool"),
        "up": (0.5, 0.38, "up: ConvTranspose2d\n+ skip concat + conv block"),
        "head": (0.5, 0.1, "head: 1x1 conv + tanh\n-> y_hat", "#d5f5e3"),
    }, [("x", "down"), ("down", "up"), ("up", "head")], ax=axes[1],
        title="Baseline: UNet (heavy, stand-in for CTGAN)")
    return axes


def sen2mtc_rows(models: dict, data: dict, batch: int = 8) -> list[dict]:
    """Score models (name -> model or function) on Sen2_MTC arrays from ``clouds.load_sen2mtc``:
    PSNR / SSIM on the visible bands, fixed [0, 1] range. Real tiles have no cloud masks, so the
    all-cloudy PSNR is not defined there."""
    x = torch.from_numpy(data["x"] * 2 - 1).float()
    scored = {**data, "masks": np.zeros((len(x), 3, 1, *x.shape[-2:]), np.float32)}
    rows = []
    for name, m in models.items():
        with torch.no_grad():
            r = evaluate(predict(m, x, batch=batch), scored)
        rows.append({"method": name, "tiles": len(x), "PSNR (dB)": r["psnr"], "SSIM": r["ssim"]})
    return rows


