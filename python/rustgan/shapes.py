"""Coloured shapes on black: the renderer behind `data.shapes` and the exact score of
`metrics.shapes_score`, which fits each image with the same renderer.

A shape is a kind (circle, square, upright isosceles triangle), a pure colour, an extent
``e`` (circle diameter, square side, triangle height and base width) and the top-left
corner ``(x0, y0)`` of its ``e x e`` bounding box, in pixels.
"""

from __future__ import annotations

import math

import torch

KINDS = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan")
PALETTE = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=torch.float32)
NUM_CLASSES = len(KINDS) * len(COLOURS)
EXTENT = (0.3, 0.6)  # of the image size

# Sub-pixel samples per axis: coverage is the share of a pixel's 4 x 4 samples inside.
SUPERSAMPLING = 4
# Shapes per rendering batch, which bounds memory to a few hundred MB at 128 px.
CHUNK = 256

# An image matches its fitted shape when both hold. The soft IoU of the coverage maps is
# ~0.99 for rendered shapes; a 1 px Gaussian blur brings it below 0.9.
MIN_IOU = 0.9
# Largest channel error of the shape's mean colour against its palette colour; the next
# pure colour is 1 away, and a half-mixed one (orange) 0.5.
MAX_COLOUR_ERROR = 0.25
# Sub-pixel shifts of the fitted position that the search tries.
SHIFTS = (-0.25, 0.0, 0.25)


def coverage(kinds, extents, x0, y0, size: int) -> torch.Tensor:
    """``[N, size, size]`` share of each pixel inside each shape (``[N]`` parameters)."""
    offsets = (torch.arange(SUPERSAMPLING, dtype=torch.float32) + 0.5) / SUPERSAMPLING
    points = (torch.arange(size, dtype=torch.float32)[:, None] + offsets).reshape(-1)  # [size * S]
    covered = torch.zeros(len(kinds), size, size)
    for kind in range(len(KINDS)):
        rows = (kinds == kind).nonzero().view(-1)
        for part in rows.split(CHUNK):
            e = extents[part, None, None]
            u = points[None, None, :] - x0[part, None, None]  # from the box's left edge
            v = points[None, :, None] - y0[part, None, None]  # from its top edge
            inside = _inside(kind, u, v, e)
            covered[part] = inside.float().view(-1, size, SUPERSAMPLING, size, SUPERSAMPLING).mean((2, 4))
    return covered


def _inside(kind: int, u: torch.Tensor, v: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """Whether points ``(u, v)`` from the top-left of an ``e x e`` box lie in the shape."""
    if kind == 0:
        return (u - e / 2) ** 2 + (v - e / 2) ** 2 <= (e / 2) ** 2
    in_box = (u >= 0) & (u <= e) & (v >= 0) & (v <= e)
    if kind == 1:
        return in_box
    return in_box & ((u - e / 2).abs() <= v / 2)  # apex at the top centre, base = height


def draw(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random shapes: images ``[n, 3, size, size]`` in [-1, 1] and labels
    ``kind * 6 + colour``."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(NUM_CLASSES, (n,), generator=generator)
    low, high = EXTENT
    extents = (low + (high - low) * torch.rand(n, generator=generator)) * size
    x0, y0 = ((size - extents) * torch.rand(n, generator=generator) for _ in range(2))
    return paint(coverage(labels // len(COLOURS), extents, x0, y0, size), labels % len(COLOURS)), labels


def paint(covered: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """Coverage ``[N, S, S]`` in the palette's `colours` ``[N]``, as images in [-1, 1]."""
    return covered[:, None] * PALETTE[colours][:, :, None, None] * 2 - 1


def fit(images: torch.Tensor) -> dict:
    """The best shape for each of `images` ``[N, 3, S, S]``: its class, the soft IoU of its
    coverage with the image's, and its colour error (see `MIN_IOU`, `MAX_COLOUR_ERROR`).

    The image's coverage is its brightest channel, its colour the coverage-weighted mean.
    For each kind, extent and position follow from the coverage's area and centroid; the
    kind that matches best there wins, and a small search of extents and positions around
    it keeps the best IoU.
    """
    n, size = len(images), images.shape[-1]
    unit = ((images.float() + 1) / 2).clamp(0, 1)
    covered = unit.amax(1)  # [N, S, S]
    weights = covered.pow(2).sum((1, 2)).clamp_min(1e-6)
    colour = (unit * covered[:, None]).sum((2, 3)) / weights[:, None]  # [N, 3]
    colour_error, colour_index = (colour[:, None] - PALETTE[None]).abs().amax(2).min(1)
    area = covered.sum((1, 2)).clamp_min(1e-6)
    centre = torch.arange(size, dtype=torch.float32) + 0.5
    cx = (covered.sum(1) * centre).sum(1) / area
    cy = (covered.sum(2) * centre).sum(1) / area
    # Area as a share of the e x e box, and the centroid's height in it, per kind.
    box_share = torch.tensor([math.pi / 4, 1.0, 0.5])
    centroid_height = torch.tensor([0.5, 0.5, 2 / 3])

    def match(kinds, scale=1.0, dx=0.0, dy=0.0):
        e = (area / box_share[kinds]).sqrt() * scale
        rendered = coverage(kinds, e, cx - e / 2 + dx, cy - centroid_height[kinds] * e + dy, size)
        overlap = torch.minimum(rendered, covered).sum((1, 2))
        return overlap / torch.maximum(rendered, covered).sum((1, 2)).clamp_min(1e-6)

    # The kind that matches best at the moments' estimate, then a small search around it.
    kinds = torch.stack([match(torch.full((n,), kind)) for kind in range(len(KINDS))]).argmax(0)
    iou = torch.stack(
        [match(kinds, scale, dx, dy) for scale in (0.95, 1.0, 1.05) for dx in SHIFTS for dy in SHIFTS]
    ).amax(0)
    return {
        "labels": kinds * len(COLOURS) + colour_index,
        "iou": iou,
        "colour_error": colour_error,
        "high_quality": (iou >= MIN_IOU) & (colour_error <= MAX_COLOUR_ERROR),
    }
