"""Real data that installs offline, from Debian packages and PyPI wheels, loaded at the
size asked for as float32 images in [-1, 1] (labels where the data has them).

| loader | source | install |
| --- | --- | --- |
| `fashion_mnist` | Zalando's Fashion-MNIST, 60,000 + 10,000 IDX images | ``apt-get install dataset-fashion-mnist`` |
| `emoji` | every single-character emoji of the Noto colour font | ``apt-get install fonts-noto-color-emoji`` |
| `clipart` | openclipart's 8,121 drawings in 22 category folders | ``apt-get install openclipart-png`` |
| `mri` | the Colin27 T1 MRI and the AAL atlas on its grid (NIfTI) | ``apt-get install mricron-data``, ``pip install nibabel`` |
| `photos` | scikit-image's and scikit-learn's colour photographs | ``pip install scikit-image`` |
| `portraits`, `paintings` | The Battle for Wesnoth's painted characters and landscapes (`painted`) | ``apt-get install wesnoth-1.16-data`` |

Each loader takes `root` (or `font`) to read the same files from elsewhere.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import struct
from pathlib import Path

import numpy as np
import torch

from ._checks import _int
from .crops import scaled_crops
from .errors import DataError, InvalidArgumentError

FASHION_ROOT = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
CLIPART_ROOT = Path("/usr/share/openclipart/png")
MRI_ROOT = Path("/usr/share/mricron/templates")
# AAL's 116 regions, numbered 1..116 in the atlas volume (0 is outside the brain).
MRI_REGIONS = 116
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower")

# The Unicode blocks that hold emoji pictographs: symbols and pictographs, emoticons,
# transport and map, supplemental and extended-A pictographs, miscellaneous symbols and
# dingbats. Skin-tone swatches (U+1F3FB..U+1F3FF) are modifiers, not pictures.
EMOJI_BLOCKS = ((0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF))
EMOJI_BLOCKS += ((0x2600, 0x27BF),)
SKIN_TONES = range(0x1F3FB, 0x1F400)
# Noto's bitmaps are 136 x 128 at this font size; they are centred on a white square.
EMOJI_FONT_SIZE, EMOJI_SIDE = 109, 136
# The largest size each source gives without more than doubling its pixels.
MAX_SIZE = {"fashion_mnist": 64, "emoji": EMOJI_SIDE, "clipart": 256, "mri": 217}


def _apt(path: Path, package: str) -> Path:
    if not path.exists():
        raise DataError(f"{path} not found: install it with `sudo apt-get install {package}` (or pass root=)")
    return path


def _module(name: str, package: str):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise DataError(f"this loader needs the Python package {package}: `pip install {package}`") from error


def _size(size: int, loader: str) -> int:
    return _int("size", size, 8, MAX_SIZE[loader])


def _to_float(array: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, C]`` as float32 ``[N, C, H, W]`` in [-1, 1]."""
    return torch.from_numpy(np.array(array, copy=True)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()


def _square_on_white(image, size: int) -> np.ndarray:
    """A PIL image with transparency, laid on white, padded to a square with white (so
    nothing is cropped) and resized to ``size x size``: uint8 ``[size, size, 3]``."""
    from PIL import Image

    image = image.convert("RGBA")
    side = max(image.size)
    canvas = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    canvas.alpha_composite(image, ((side - image.width) // 2, (side - image.height) // 2))
    return np.asarray(canvas.convert("RGB").resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


# --- Fashion-MNIST --------------------------------------------------------------------
def fashion_mnist(split: str = "train", size: int = 28, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST (Xiao et al. 2017): ``split="train"`` (60,000) or ``"test"`` (10,000)
    images float32 ``[N, 1, size, size]`` in [-1, 1] (bilinearly resized from 28 px) and
    int64 labels, named by `FASHION_CLASSES`."""
    prefixes = {"train": "train", "test": "t10k"}
    if split not in prefixes:
        raise InvalidArgumentError(f"split must be 'train' or 'test', got {split!r}")
    size = _size(size, "fashion_mnist")
    root = Path(root) if root is not None else FASHION_ROOT
    images = _idx(_apt(root / f"{prefixes[split]}-images-idx3-ubyte.gz", "dataset-fashion-mnist"), 3)
    labels = _idx(_apt(root / f"{prefixes[split]}-labels-idx1-ubyte.gz", "dataset-fashion-mnist"), 1)
    if len(images) != len(labels) or images.shape[1:] != (28, 28) or labels.max() >= len(FASHION_CLASSES):
        raise DataError(f"{root}: {images.shape} images do not match {labels.shape} labels of 10 classes")
    x = _to_float(images[..., None])
    if size != 28:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(-1, 1)
    return x, torch.from_numpy(labels.astype(np.int64))


@functools.cache
def _idx(path: Path, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `dims` dimensions (LeCun's format), gzipped."""
    try:
        with gzip.open(path) as file:
            raw = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read {path}: {error}") from error
    header = 4 + 4 * dims
    if len(raw) < header or raw[:3] != b"\x00\x00\x08" or raw[3] != dims:
        raise DataError(f"{path} is not an IDX file of {dims}-dimensional unsigned bytes")
    shape = struct.unpack(f">{dims}I", raw[4:header])
    values = np.frombuffer(raw, np.uint8, offset=header)
    if values.size != np.prod(shape):
        raise DataError(f"{path} is truncated or padded: its header says {shape}, it holds {values.size} values")
    return values.reshape(shape)


# --- emoji ----------------------------------------------------------------------------
def emoji(size: int = 64, font=None) -> torch.Tensor:
    """Every single-character emoji of the Noto colour font (faces, people, animals, food,
    objects, symbols: about 1,300), rendered at 136 px on white and resized: float32
    ``[N, 3, size, size]`` in [-1, 1], in code point order."""
    size = _size(size, "emoji")
    path = _apt(Path(font) if font is not None else EMOJI_FONT, "fonts-noto-color-emoji")
    return _to_float(np.stack([_square_on_white(glyph, size) for glyph in _emoji_glyphs(path)]))


@functools.cache
def _emoji_glyphs(path: Path) -> tuple:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype(str(path), EMOJI_FONT_SIZE)
    except OSError as error:
        raise DataError(f"cannot read the font {path}: {error}") from error

    def render(character: str):
        image = Image.new("RGBA", (EMOJI_SIDE, EMOJI_SIDE - 8), (0, 0, 0, 0))
        try:
            ImageDraw.Draw(image).text((0, 0), character, font=font, embedded_color=True)
        except OSError as error:  # a font without colour bitmaps
            raise DataError(f"{path} has no colour emoji bitmaps: {error}") from error
        return image

    characters = [chr(c) for first, last in EMOJI_BLOCKS for c in range(first, last + 1) if c not in SKIN_TONES]
    glyphs = tuple(image for image in map(render, characters) if image.getbbox() is not None)
    if not glyphs:
        raise DataError(f"{path} draws none of the emoji code points")
    return glyphs


# --- clipart --------------------------------------------------------------------------
def clipart_categories(root=None) -> list[str]:
    """openclipart's top-level category folders, in the order of `clipart`'s labels."""
    root = _apt(Path(root) if root is not None else CLIPART_ROOT, "openclipart-png")
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def clipart(size: int = 64, category: str | None = None, name: str | None = None, root=None):
    """openclipart's PNG drawings, laid on white and padded to squares (nothing cropped):
    float32 ``[N, 3, size, size]`` in [-1, 1] and int64 labels, the index of each
    drawing's top-level folder in `clipart_categories`.

    `category` picks a folder, top-level (``"animals"``) or below it (``"animals/birds"``);
    `name` keeps the files whose name contains it (``"cat"``). Drawings beyond Pillow's
    decompression-bomb guard (over 179 megapixels: 3 posters among the 8,121) are left
    out. All of them take about a minute to load."""
    size = _size(size, "clipart")
    root = Path(root) if root is not None else CLIPART_ROOT
    categories = clipart_categories(root)
    folder = root / category if category is not None else root
    if category is not None and (not folder.is_dir() or Path(category).is_absolute() or ".." in Path(category).parts):
        raise InvalidArgumentError(f"no clipart category {category!r}; the categories are {', '.join(categories)}")
    files = sorted(p for p in folder.rglob("*.png") if name is None or name.lower() in p.stem.lower())
    if not files:
        raise DataError(f"no clipart drawings in {folder}" + (f" whose name contains {name!r}" if name else ""))
    from PIL import Image, UnidentifiedImageError

    images, kept = [], []
    for file in files:
        try:
            with Image.open(file) as image:
                images.append(_square_on_white(image, size))
                kept.append(file)
        except Image.DecompressionBombError:
            continue  # gigabytes to decode for one thumbnail
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot read clipart {file}: {error}") from error
    if not images:
        raise DataError(f"every clipart drawing in {folder} is too large to load")
    labels = [categories.index(p.relative_to(root).parts[0]) for p in kept]
    return _to_float(np.stack(images)), torch.tensor(labels, dtype=torch.int64)


# --- MRI ------------------------------------------------------------------------------
def mri(task: str = "slices", axis: int | None = None, size: int = 64, root=None, min_brain: float = 0.15):
    """Slices of the Colin27 T1 MRI (181 x 217 x 181, 1 mm), each padded to a square with
    black and resized, along `axis` (0 sagittal, 1 coronal, 2 axial; None: all three).
    Only slices whose AAL brain regions cover at least `min_brain` of the square are kept.

    - ``task="slices"``: the T1 slices, float32 ``[N, 1, size, size]`` in [-1, 1].
    - ``task="labels-to-mri"``: ``(labels, mri)``, the AAL label map of each slice beside
      its T1 slice, both ``[N, 1, size, size]``, for `Translator`. A label map holds region
      ``r`` (0 outside, 1..116) as ``2 * r / MRI_REGIONS - 1``, resized by nearest
      neighbour; `mri_regions` reads it back.
    """
    if task not in ("slices", "labels-to-mri"):
        raise InvalidArgumentError(f"task must be 'slices' or 'labels-to-mri', got {task!r}")
    if axis not in (None, 0, 1, 2):
        raise InvalidArgumentError(f"axis must be 0, 1, 2 or None (all three), got {axis!r}")
    if not 0.0 <= min_brain < 1.0:
        raise InvalidArgumentError(f"min_brain must lie in [0, 1), got {min_brain}")
    size = _size(size, "mri")
    root = Path(root) if root is not None else MRI_ROOT
    t1, atlas = _mri_volumes(_apt(root / "ch2.nii.gz", "mricron-data"), _apt(root / "aal.nii.gz", "mricron-data"))
    scans, maps = [], []
    for a in (0, 1, 2) if axis is None else (axis,):
        for plane, region in zip(np.moveaxis(t1, a, 0), np.moveaxis(atlas, a, 0)):
            if (region > 0).sum() >= min_brain * max(region.shape) ** 2:
                scans.append(_square_slice(plane, size, nearest=False))
                maps.append(_square_slice(region, size, nearest=True))
    if not scans:
        raise DataError(f"no slice along axis {axis} has brain regions over {min_brain:.0%} of its square")
    x = torch.from_numpy(np.stack(scans)[:, None]).float().div(127.5).sub(1.0)
    if task == "slices":
        return x
    labels = torch.from_numpy(np.stack(maps)[:, None]).float().mul(2.0 / MRI_REGIONS).sub(1.0)
    return labels, x


def mri_regions(labels: torch.Tensor) -> torch.Tensor:
    """The AAL region index (int64, 0 outside the brain) of each pixel of `mri`'s label maps."""
    return ((labels + 1.0) * MRI_REGIONS / 2.0).round().long().clamp(0, MRI_REGIONS)


def mri_region_means(labels: torch.Tensor, scans: torch.Tensor) -> torch.Tensor:
    """The mean intensity ``[MRI_REGIONS + 1]`` of each region (0: outside every region) over
    the pixels of `scans` ``[N, 1, H, W]`` with label maps `labels`, as `mri` returns them.
    ``mri_region_means(labels, scans)[mri_regions(other_labels)]`` paints other slices with
    them: the baseline a translation from label maps to scans must beat."""
    if labels.shape != scans.shape:  # index_add_ would name neither tensor
        raise InvalidArgumentError(f"labels {tuple(labels.shape)} and scans {tuple(scans.shape)} must share a shape")
    regions = mri_regions(labels).flatten()
    totals = torch.zeros(MRI_REGIONS + 1).index_add_(0, regions, scans.flatten().float())
    return totals / torch.bincount(regions, minlength=MRI_REGIONS + 1).clamp_min(1)


@functools.cache
def _mri_volumes(t1_path: Path, atlas_path: Path) -> tuple[np.ndarray, np.ndarray]:
    nibabel = _module("nibabel", "nibabel")
    volumes = []
    for path in (t1_path, atlas_path):
        try:
            volumes.append(np.asarray(nibabel.load(path).dataobj))
        except Exception as error:  # nibabel raises many types for a damaged file
            raise DataError(f"cannot read the NIfTI file {path}: {error}") from error
    t1, atlas = volumes
    if t1.shape != atlas.shape or t1.ndim != 3:
        raise DataError(f"{t1_path} {t1.shape} and {atlas_path} {atlas.shape} are not volumes on one grid")
    if atlas.min() < 0 or atlas.max() > MRI_REGIONS:
        raise DataError(f"{atlas_path} holds region numbers outside 0..{MRI_REGIONS}")
    t1 = np.clip(t1.astype(np.float64) * 255.0 / max(float(t1.max()), 1.0), 0, 255).astype(np.uint8)
    return t1, atlas.astype(np.uint8)


def _square_slice(plane: np.ndarray, size: int, nearest: bool) -> np.ndarray:
    """A 2D slice, turned so that up is up, padded with zeros to a square and resized."""
    from PIL import Image

    plane = np.rot90(plane)
    side = max(plane.shape)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - plane.shape[0]) // 2, (side - plane.shape[1]) // 2
    square[top : top + plane.shape[0], left : left + plane.shape[1]] = plane
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(square).resize((size, size), resample), dtype=np.uint8)


# --- photographs ----------------------------------------------------------------------
def photos(names=PHOTOS, size: int | None = None, n: int = 1000, crop_fraction: float = 0.25, seed: int = 0):
    """Colour photographs of several sizes, float32 ``[3, H, W]`` in [-1, 1], for
    `data.patches`: scikit-image's astronaut, chelsea (a cat), coffee and rocket, and
    scikit-learn's china (a temple) and flower.

    With `size`, `n` random ``size x size`` crops of them instead, ``[n, 3, size, size]``,
    each spanning `crop_fraction` of its photograph's short side, as `paintings` crops
    paintings."""
    unknown = [name for name in names if name not in PHOTOS]
    if unknown:
        raise InvalidArgumentError(f"unknown photograph {unknown[0]!r}; the photographs are {', '.join(PHOTOS)}")
    arrays = {}
    for name in names:
        if name in ("china", "flower"):
            from sklearn.datasets import load_sample_image

            arrays[name] = np.asarray(load_sample_image(f"{name}.jpg"))
        else:
            arrays[name] = np.asarray(getattr(_module("skimage.data", "scikit-image"), name)())
    if size is None:
        return [_to_float(array[None])[0] for array in arrays.values()]
    from PIL import Image

    pictures = {name: Image.fromarray(array) for name, array in arrays.items()}
    return scaled_crops(pictures, size, n, crop_fraction, seed, "photograph")
