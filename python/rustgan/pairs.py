"""Paired tasks for `rustgan.Translator`, built from any images: completion of a hidden
region, 4x super-resolution and edges to image. Inputs and targets are float32
``[N, C, H, W]`` in [-1, 1] of the same size, as pix2pix's U-Net needs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import _float, _seed
from .convert import as_batch, as_tensor
from .errors import ArgumentTypeError, InvalidArgumentError

TASKS = ("complete", "superres", "edges")
MASKS = ("lower", "box")


def images_batch(images, name: str = "images") -> torch.Tensor:
    """`images` (``[N, H, W]`` grey or ``[N, C, H, W]``, float in [-1, 1] or uint8) as a
    float batch ``[N, C, H, W]``."""
    x = as_tensor(images, name)
    if x.dim() not in (3, 4):
        raise InvalidArgumentError(f"{name} must be [N, H, W] or [N, C, H, W], got shape {tuple(x.shape)}")
    shape = (1, *x.shape[1:]) if x.dim() == 3 else tuple(x.shape[1:])
    return as_batch(x, shape, name)


def mask_batch(mask, images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The known pixels of `images` as a float mask ``[N, 1, H, W]`` of 0 (hidden) and 1
    (known): ``"lower"`` hides the lower half, ``"box"`` a random box per image (sides
    from a quarter to a half of the image's, seeded), and a tensor or array of 0/1
    broadcasting to ``[N, 1, H, W]`` (``[H, W]``, ``[N, H, W]`` or ``[N, 1, H, W]``) is
    used as it is."""
    n, _, height, width = images.shape
    if isinstance(mask, str):
        if mask == "lower":
            known = torch.ones(n, 1, height, width)
            known[:, :, height // 2 :] = 0
            return known
        if mask == "box":
            return _boxes(n, height, width, _seed(seed))
        raise InvalidArgumentError(
            f"unknown mask {mask!r}: choose one of {', '.join(map(repr, MASKS))} or pass a tensor"
        )
    known = as_tensor(mask, "mask")
    if known.dtype == torch.bool:
        known = known.float()
    known = known.float().cpu()
    if not torch.isin(known, torch.tensor([0.0, 1.0])).all():
        raise InvalidArgumentError("mask must hold only 0 (hidden) and 1 (known)")
    if known.dim() == 3 and known.shape[0] == n and n != 1 or known.dim() == 2:
        known = known.unsqueeze(-3)  # [N, H, W] or [H, W] -> a channel of one
    try:
        return known.expand(n, 1, height, width).contiguous()
    except RuntimeError:
        raise InvalidArgumentError(
            f"mask of shape {tuple(known.shape)} does not broadcast to [{n}, 1, {height}, {width}]: "
            "give one mask for all images [H, W] or one per image [N, H, W]"
        ) from None


def _boxes(n: int, height: int, width: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    known = torch.ones(n, 1, height, width)
    sides = torch.rand(n, 2, generator=generator) * 0.25 + 0.25  # a quarter to a half
    corners = torch.rand(n, 2, generator=generator)
    for i in range(n):
        h, w = max(1, round(float(sides[i, 0]) * height)), max(1, round(float(sides[i, 1]) * width))
        top, left = int(corners[i, 0] * (height - h + 1)), int(corners[i, 1] * (width - w + 1))
        known[i, :, top : top + h, left : left + w] = 0
    return known


def completion_inputs(images: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """The completion network's input: the images with hidden pixels at 0, and the mask
    as one more channel."""
    return torch.cat([images * known, known], 1)


def low_resolution(images: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """`images` shrunk `factor` times by area averaging, then brought back to their size
    by bicubic interpolation: the input of 4x super-resolution, and its baseline."""
    height, width = images.shape[2:]
    if height % factor or width % factor:
        raise InvalidArgumentError(
            f"super-resolution by {factor} needs sides divisible by {factor}, got {height}x{width}"
        )
    small = F.avg_pool2d(images, factor)
    return F.interpolate(small, size=(height, width), mode="bicubic", align_corners=False).clamp(-1, 1)


def edges(images: torch.Tensor, threshold: float = 0.25) -> torch.Tensor:
    """Sobel edge maps ``[N, 1, H, W]``: 1 where the grey level's gradient magnitude
    (a step from black to white scores 1) exceeds `threshold`, -1 elsewhere."""
    grey = (images.mean(1, keepdim=True) + 1) / 2
    kernel = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 4
    kernels = torch.stack([kernel, kernel.T]).unsqueeze(1)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)
    magnitude = gradients.square().sum(1, keepdim=True).sqrt()
    return torch.where(magnitude > threshold, 1.0, -1.0)


def pairs(images, task: str, mask="lower", seed: int = 0, threshold: float = 0.25):
    """(inputs, targets) for `task`; see `rustgan.data.pairs`."""
    if not isinstance(task, str):
        raise ArgumentTypeError(f"task must be a string, got {type(task).__name__}")
    if task not in TASKS:
        raise InvalidArgumentError(f"unknown task {task!r}: choose one of {', '.join(map(repr, TASKS))}")
    targets = images_batch(images)
    if task == "complete":
        return completion_inputs(targets, mask_batch(mask, targets, seed)), targets
    if task == "superres":
        return low_resolution(targets), targets
    return edges(targets, _float("threshold", threshold)), targets


__all__ = ["MASKS", "TASKS", "completion_inputs", "edges", "images_batch", "low_resolution", "mask_batch", "pairs"]
