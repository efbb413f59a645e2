"""Pictures of samples and training curves (matplotlib, headless-safe)."""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

import numpy as np
import torch

from .errors import ArgumentTypeError, InvalidArgumentError


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


def as_images(images) -> torch.Tensor:
    """Images in any layout `GAN.fit` takes (NCHW, NHWC or NHW; floats in [-1, 1] or
    uint8 0..255; tensor or numpy array) as float ``[N, C, H, W]`` in [-1, 1] on the CPU."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise ArgumentTypeError(f"images must be a torch.Tensor or numpy.ndarray, got {type(images).__name__}")
    images = images.detach().cpu()
    images = images.float() / 127.5 - 1.0 if images.dtype == torch.uint8 else images.float()
    if images.dim() == 3:
        images = images.unsqueeze(1)  # NHW
    elif images.dim() == 4 and images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
        images = images.permute(0, 3, 1, 2)  # NHWC
    if images.dim() != 4 or len(images) == 0:
        raise InvalidArgumentError(f"images must have shape [N, C, H, W] with N > 0, got {tuple(images.shape)}")
    return images


def tile(images, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tiles images (any layout `as_images` takes) into one uint8 array ``[H', W', C]``
    (``[H', W']`` for one channel), `nrow` images per row, white padding between them."""
    images = as_images(images)
    n, channels, height, width = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    canvas = torch.ones(channels, ncol * (height + padding) + padding, nrow * (width + padding) + padding)
    for i, image in enumerate(images):
        top, left = padding + (i // nrow) * (height + padding), padding + (i % nrow) * (width + padding)
        canvas[:, top : top + height, left : left + width] = image
    return _to_uint8(canvas)


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    """``[C, H, W]`` in [-1, 1] as uint8 ``[H, W, C]``, or ``[H, W]`` for one channel."""
    array = ((image.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[-1] == 1 else array


def grid(
    images,
    path: str | PathLike | None = None,
    nrow: int | None = None,
    title: str | None = None,
    exact: bool = False,
):
    """Shows images (any layout `as_images` takes) as a grid and returns the matplotlib
    figure; saves a PNG when `path` is given. With `exact`, writes the tiled pixels
    themselves to `path` instead (no figure, margins or title: one pixel per image pixel,
    2 px of padding) and returns them as a uint8 array."""
    array = tile(images, nrow)
    if exact:
        if path is None:
            raise InvalidArgumentError("grid(exact=True) writes a PNG: pass path=")
        _save_png(array, path)
        return array
    plt = _pyplot()
    size = max(3.0, min(10.0, array.shape[1] / 40))
    fig, ax = plt.subplots(figsize=(size, size * array.shape[0] / array.shape[1]))
    ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _finish(fig, path)


def save_images(images, directory: str | PathLike, prefix: str = "") -> list[Path]:
    """Writes each image (any layout `as_images` takes) to its own pixel-exact PNG,
    ``directory/{prefix}{index:06d}.png``, creating the directory; returns the paths."""
    images = as_images(images)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, image in enumerate(images):
        path = directory / f"{prefix}{index:06d}.png"
        _save_png(_to_uint8(image), path)
        paths.append(path)
    return paths


def _save_png(array: np.ndarray, path) -> None:
    from PIL import Image

    Image.fromarray(array).save(path, format="PNG")


def scatter2d(
    points,
    centers=None,
    path: str | PathLike | None = None,
    title: str | None = None,
    ax=None,
    extent: tuple[float, float, float, float] | None = None,
):
    """Scatter plot of 2D samples ``[N, 2]``, with the mixture centers when given. The axes
    span `extent` ``(x0, x1, y0, y1)``, by default the centers' box with a margin, so
    that samples bunched on a few modes look bunched rather than filling the plot."""
    plt = _pyplot()
    points = torch.as_tensor(points).detach().float().cpu().numpy()
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidArgumentError(f"points must have shape [N, 2], got {points.shape}")
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    if centers is not None:
        centers = torch.as_tensor(centers).float().cpu().numpy()
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", color="red", label="modes")
        if extent is None:
            low, high = centers.min(0), centers.max(0)
            margin = max(0.5, 0.25 * float((high - low).max()))
            extent = (low[0] - margin, high[0] + margin, low[1] - margin, high[1] + margin)
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
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
