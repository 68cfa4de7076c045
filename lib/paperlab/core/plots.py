"""The few plot helpers notebooks share. PNG only, modest size."""

from __future__ import annotations

import numpy as np


def style() -> None:
    """A quiet, readable matplotlib style; PNG output in notebooks."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 80,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython
        pass


def image_grid(images, titles=None, ncols: int = 8, size: float = 1.2, suptitle: str | None = None):
    """Show a grid of images (HWC float in [0,1], uint8, or CHW tensors). Returns the figure."""
    import matplotlib.pyplot as plt

    images = [_to_hwc(im) for im in images]
    n = len(images)
    if n == 0:
        raise ValueError("image_grid() got no images")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)))
    axes = np.atleast_1d(axes).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap="gray" if images[i].ndim == 2 else None, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def _to_hwc(im):
    try:
        import torch

        if isinstance(im, torch.Tensor):
            im = im.detach().cpu().numpy()
            if im.ndim == 3 and im.shape[0] in (1, 3, 4):
                im = np.transpose(im, (1, 2, 0))
    except ImportError:  # pragma: no cover
        pass
    im = np.asarray(im)
    if im.dtype == np.uint8:
        im = im.astype(np.float32) / 255.0
    if im.ndim == 3 and im.shape[-1] == 1:
        im = im[..., 0]
    return np.clip(im, 0, 1)


def mean_band(ax, x, runs, label: str, **kw):
    """Plot the mean over runs (rows) with a ±1 std band."""
    runs = np.asarray(runs, dtype=float)
    if runs.ndim == 1:
        runs = runs[None]
    m, s = runs.mean(0), runs.std(0)
    (line,) = ax.plot(x, m, label=label, **kw)
    ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2)
    return line


def reliability_diagram(ax, probs, labels, n_bins: int = 10, label: str = ""):
    """Accuracy vs confidence per bin (from max-probability predictions)."""
    probs = np.asarray(probs)
    labels = np.asarray(labels)
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges) - 1, 0, n_bins - 1)
    xs, ys = [], []
    for b in range(n_bins):
        sel = idx == b
        if sel.any():
            xs.append(conf[sel].mean())
            ys.append(correct[sel].mean())
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration" if not label else None)
    ax.plot(xs, ys, "o-", label=label)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy")
    return ax


def block_diagram(boxes: dict, arrows: list, ax=None, title: str | None = None, size=(7.0, 3.0)):
    """A method figure drawn reproducibly: labelled boxes joined by arrows.

    ``boxes`` maps a name to ``(x, y, label)`` or ``(x, y, label, colour)`` in axis units (0-1 both ways);
    ``arrows`` is a list of ``(from, to)`` or ``(from, to, label)`` or ``(from, to, label, style)`` with style
    ``"-"`` (solid) or ``"--"`` (dashed, for an optional or compared path). Box labels should be the names the
    code uses. Returns the axis.
    """
    import matplotlib.pyplot as plt

    if not boxes:
        raise ValueError("block_diagram needs at least one box")
    for a in arrows:
        if len(a) < 2 or a[0] not in boxes or a[1] not in boxes:
            raise ValueError(f"arrow {a!r} joins a box that is not in boxes ({sorted(boxes)})")
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_xlim(0, 1), ax.set_ylim(0, 1), ax.axis("off")
    drawn = {}
    for name, spec in boxes.items():
        if len(spec) not in (3, 4):
            raise ValueError(f"box {name!r} must be (x, y, label) or (x, y, label, colour), got {spec!r}")
        x, y, label = spec[:3]
        colour = spec[3] if len(spec) == 4 else "#dbe9f6"
        drawn[name] = ax.text(x, y, label, ha="center", va="center", fontsize=8.5, zorder=3,
                              bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "#333333", "lw": 0.8})
    for a in arrows:
        (x0, y0), (x1, y1) = boxes[a[0]][:2], boxes[a[1]][:2]
        label = a[2] if len(a) > 2 else ""
        ls = a[3] if len(a) > 3 else "-"
        # clipped at the two boxes' outlines, so a head shows however large the box; drawn after the boxes
        # (zorder 3.5), whose outlines then have their final place
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=3.5,
                    arrowprops={"arrowstyle": "-|>", "lw": 1.0, "ls": ls, "color": "#444444", "shrinkA": 2,
                                "shrinkB": 2, "patchA": drawn[a[0]].get_bbox_patch(),
                                "patchB": drawn[a[1]].get_bbox_patch()})
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.035, label, ha="center", va="bottom", fontsize=7.5,
                    color="#444444", zorder=4)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
