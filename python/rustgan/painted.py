"""Painted art that installs offline: the character portraits and landscape paintings of
The Battle for Wesnoth, as Debian packages them (``apt-get install wesnoth-1.16-data``; the
art is under GPL-2+ and CC-BY-SA).

- `portraits`: 241 painted characters (400-500 px, on transparent ground) of 16 kinds:
  humans, elves, dwarves, orcs, undead, monsters and more.
- `paintings`: random crops of 18 landscape paintings (1280 x 960) in one painter's hand:
  hills, mountains, coasts, swamps, castles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ._checks import _int, _seed
from .crops import scaled_crops
from .errors import DataError, InvalidArgumentError

WESNOTH_ROOT = Path("/usr/share/games/wesnoth/1.16/data")
WESNOTH_PACKAGE = "wesnoth-1.16-data"
# Held out whole, so that no held-out crop overlaps a training crop. Neither has a twin among
# the others (the battlefield and the bridge come in two versions each).
HELD_OUT_PAINTINGS = ("landscape-coast", "swamp-02")
# Portraits that sit directly in a campaign's portraits folder are its named characters.
NAMED = "named"
PORTRAIT_SIZE = 400  # the smallest portraits' side: larger sizes would enlarge them


def _root(root) -> Path:
    root = Path(root) if root is not None else WESNOTH_ROOT
    if not root.is_dir():
        raise DataError(f"{root} not found: install it with `sudo apt-get install {WESNOTH_PACKAGE}` (or pass root=)")
    return root


def _portrait_files(root: Path) -> list[Path]:
    files = sorted(p for p in root.glob("**/images/portraits/**/*.png"))
    if not files:
        raise DataError(f"no portraits (images/portraits/**/*.png) under {root}")
    return files


def _race(file: Path) -> str:
    return NAMED if file.parent.name == "portraits" else file.parent.name


def portrait_races(root=None) -> list[str]:
    """The kinds of character `portraits` labels, in the order of its labels: the folder each
    portrait sits in (``"humans"``, ``"elves"``, ...), or ``"named"`` for a campaign's
    named characters."""
    return sorted({_race(file) for file in _portrait_files(_root(root))})


def portraits(size: int = 64, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The painted character portraits laid on white and padded to squares (nothing
    cropped): float32 ``[241, 3, size, size]`` in [-1, 1], and int64 labels, the index of
    each portrait's kind in `portrait_races`."""
    from PIL import Image, UnidentifiedImageError

    from .real_data import _square_on_white, _to_float

    size = _int("size", size, 8, PORTRAIT_SIZE)
    files = _portrait_files(_root(root))
    images = []
    for file in files:
        try:
            with Image.open(file) as image:
                images.append(_square_on_white(image, size))
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot read portrait {file}: {error}") from error
    races = sorted({_race(file) for file in files})
    labels = torch.tensor([races.index(_race(file)) for file in files], dtype=torch.int64)
    return _to_float(np.stack(images)), labels


def painting_names(split: str = "all", root=None) -> list[str]:
    """The landscape paintings `paintings` crops: ``split="train"`` (16), ``"test"``
    (`HELD_OUT_PAINTINGS`) or ``"all"`` (18)."""
    if split not in ("train", "test", "all"):
        raise InvalidArgumentError(f"split must be 'train', 'test' or 'all', got {split!r}")
    names = sorted(p.stem for p in (_root(root) / "core/images/story").glob("*.jpg"))
    if not names:
        raise DataError(f"no paintings (core/images/story/*.jpg) under {_root(root)}")
    chosen = [name for name in names if split == "all" or (name in HELD_OUT_PAINTINGS) == (split == "test")]
    if not chosen:
        raise DataError(f"no {split} paintings under {_root(root)}: the test split is {', '.join(HELD_OUT_PAINTINGS)}")
    return chosen


def paintings(
    size: int = 64, n: int = 1000, split: str = "train", crop_fraction: float = 0.25, seed: int = 0, root=None
) -> torch.Tensor:
    """`n` random ``size x size`` crops of the landscape paintings, each flipped left-right
    with probability 1/2: float32 ``[n, 3, size, size]`` in [-1, 1].

    Each painting is first resized so a crop spans `crop_fraction` of its height (a quarter:
    a stretch of hills or a stand of trees); a painting too small for that is refused,
    naming it. `split` picks the paintings (`painting_names`): whole paintings are held out,
    so no test crop overlaps a training one."""
    from PIL import Image, UnidentifiedImageError

    folder = _root(root) / "core/images/story"
    pictures = {}
    for name in painting_names(split, root):
        file = folder / f"{name}.jpg"
        try:
            with Image.open(file) as image:
                pictures[name] = image.convert("RGB")
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot read painting {file}: {error}") from error
    return scaled_crops(pictures, size, n, crop_fraction, _seed(seed), "painting")
