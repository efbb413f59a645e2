"""Pictures of samples and training curves (matplotlib, headless-safe)."""

from __future__ import annotations

import math
from os import PathLike

import numpy as np
import torch


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            import IPython  # noqa: F401

            in_notebook = IPython.get_ipython() is not None
        except ImportError:
            in_notebook = False
        if not in_notebook:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tile(images, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tiles images ``[N, C, H, W]`` in [-1, 1] into one uint8 array ``[H', W', C]``."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    images = images.detach().float().cpu()
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4 or len(images) == 0:
        raise ValueError(f"images must have shape [N, C, H, W] with N > 0, got {tuple(images.shape)}")
    n, channels, height, width = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    canvas = torch.ones(channels, ncol * (height + padding) + padding, nrow * (width + padding) + padding)
    for i, image in enumerate(images):
        top, left = padding + (i // nrow) * (height + padding), padding + (i % nrow) * (width + padding)
        canvas[:, top : top + height, left : left + width] = image
    array = ((canvas.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return array[..., 0] if channels == 1 else array


def grid(images, path: str | PathLike | None = None, nrow: int | None = None, title: str | None = None):
    """Shows images ``[N, C, H, W]`` in [-1, 1] as a grid; saves a PNG when `path` is
    given. Returns the matplotlib figure."""
    plt = _pyplot()
    array = tile(images, nrow)
    size = max(3.0, min(10.0, array.shape[1] / 40))
    fig, ax = plt.subplots(figsize=(size, size * array.shape[0] / array.shape[1]))
    ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _finish(fig, path)


def scatter2d(points, centers=None, path: str | PathLike | None = None, title: str | None = None, ax=None):
    """Scatter plot of 2D samples ``[N, 2]``, with the mixture centers when given."""
    plt = _pyplot()
    points = torch.as_tensor(points).detach().float().cpu().numpy()
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape [N, 2], got {points.shape}")
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    if centers is not None:
        centers = torch.as_tensor(centers).float().cpu().numpy()
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", color="red", label="modes")
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return _finish(fig, path) if fig is not None else ax


def history(records, path: str | PathLike | None = None, title: str | None = "training losses"):
    """Plots every ``loss/...`` statistic of a `GAN.fit` history against the step."""
    plt = _pyplot()
    if not records:
        raise ValueError("history is empty: nothing to plot")
    steps = [r["step"] for r in records]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in [k for k in records[0] if k.startswith("loss/")]:
        ax.plot(steps, [r[key] for r in records], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _finish(fig, path)


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100)
        _pyplot().close(fig)
    return fig
