"""Random square crops of pictures of any size: `patches` at the pictures' own scale, and
`scaled_crops` after resizing each picture so a crop spans a set share of it."""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import _int, _seed
from .convert import _check_image_range, as_tensor
from .errors import DataError, InvalidArgumentError


def patches(images, size: int = 64, n: int = 1000, seed: int = 0) -> torch.Tensor:
    """`n` random ``size x size`` crops of `images`, each flipped left-right with
    probability 1/2: float32 ``[n, C, size, size]`` in [-1, 1].

    `images` is a float batch ``[N, C, H, W]`` in [-1, 1], a uint8 batch ``[N, H, W, C]``,
    or a list of images of any sizes: float ``[C, H, W]`` in [-1, 1] (as `photos` gives
    them) or uint8 photographs ``[H, W, C]`` (as
    ``sklearn.datasets.load_sample_images().images`` does). Crops are drawn from the images in
    proportion to their number of crop positions."""
    size, n = _int("size", size, 1), _int("n", n, 1)
    sources = _patch_sources(images)
    too_small = [tuple(x.shape[1:]) for x in sources if min(x.shape[1:]) < size]
    if too_small:
        raise InvalidArgumentError(f"patches of size {size} do not fit in images of size {too_small[0]}")
    generator = torch.Generator().manual_seed(_seed(seed))
    positions = torch.tensor([(x.shape[1] - size + 1) * (x.shape[2] - size + 1) for x in sources], dtype=torch.float64)
    which = torch.multinomial(positions, n, replacement=True, generator=generator)
    out = torch.empty(n, sources[0].shape[0], size, size)
    for i, source in enumerate(which.tolist()):
        image = sources[source]
        top = int(torch.randint(image.shape[1] - size + 1, (1,), generator=generator))
        left = int(torch.randint(image.shape[2] - size + 1, (1,), generator=generator))
        crop = image[:, top : top + size, left : left + size]
        out[i] = crop.flip(2) if torch.rand(1, generator=generator).item() < 0.5 else crop
    return out


def _patch_sources(images) -> list[torch.Tensor]:
    """`patches`' images as float ``[C, H, W]`` tensors in [-1, 1] with one channel count."""
    if getattr(images, "dtype", None) in (np.uint8, torch.uint8) and images.ndim == 4:
        images = list(images)  # a uint8 batch is photographs [N, H, W, C], as loaders give them
    if isinstance(images, (list, tuple)):
        if not images:
            raise DataError("patches needs at least one image, got an empty list")
        sources = []
        for i, image in enumerate(images):
            x = as_tensor(image, f"images[{i}]")
            if x.dtype != torch.uint8:
                if x.dim() != 3:
                    raise InvalidArgumentError(f"images[{i}] must be float [C, H, W], got shape {tuple(x.shape)}")
                sources.append(x.float())
                continue
            if x.dim() == 2:
                x = x[:, :, None]
            if x.dim() != 3:
                raise InvalidArgumentError(f"images[{i}] must be uint8 [H, W, C] or [H, W], got shape {tuple(x.shape)}")
            sources.append(x.permute(2, 0, 1).float() / 127.5 - 1)
    else:
        batch = as_tensor(images, "images")
        if batch.dim() != 4 or len(batch) == 0:
            raise InvalidArgumentError(f"images must be a non-empty batch [N, C, H, W], got shape {tuple(batch.shape)}")
        sources = list(batch.float())
    if len({x.shape[0] for x in sources}) > 1:
        raise InvalidArgumentError(f"images have different channel counts: {sorted({x.shape[0] for x in sources})}")
    for i, x in enumerate(sources):
        if not torch.isfinite(x).all():
            raise InvalidArgumentError(f"image {i} holds NaN or infinite values")
        _check_image_range(x, f"image {i}")
    return sources


def scaled_crops(pictures: dict, size: int, n: int, crop_fraction: float, seed: int, kind: str) -> torch.Tensor:
    """`n` crops of ``size x size`` of the PIL `pictures` (by name), each picture first
    resized so a crop spans `crop_fraction` of its short side: float32 ``[n, 3, size, size]``
    in [-1, 1]. A picture that would have to be enlarged for that is refused, naming it."""
    from PIL import Image

    size, n = _int("size", size, 1), _int("n", n, 1)
    if not isinstance(crop_fraction, (int, float)) or not 0 < crop_fraction <= 1:
        raise InvalidArgumentError(f"crop_fraction must be in (0, 1], got {crop_fraction!r}")
    short_side = round(size / crop_fraction)
    name, smallest = min(pictures.items(), key=lambda item: min(item[1].size))
    if min(smallest.size) < short_side:
        largest = math.floor(min(smallest.size) * crop_fraction)
        raise DataError(
            f"{kind} {name} is {smallest.width}x{smallest.height} px, smaller than the {short_side} px short side "
            f"that {size} px crops spanning {crop_fraction} of it need: ask for size <= {largest} "
            f"or a larger crop_fraction"
        )
    resized = []
    for picture in pictures.values():
        scale = short_side / min(picture.size)
        shape = (round(picture.width * scale), round(picture.height * scale))
        array = np.asarray(picture.convert("RGB").resize(shape, Image.Resampling.LANCZOS), dtype=np.uint8)
        resized.append(torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(127.5).sub(1.0))
    return patches(resized, size, n, seed)
