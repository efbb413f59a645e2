"""Small GANs trained by the project's recipes, shipped in the package as releases
(`GAN.save(..., training_state=False)`: the EMA generator, D and the clusters, no
optimiser state), so that sampling and editing start without a training run.

`scripts/make_pretrained.py` re-derives each from its recipe; `benches/README.md` holds
how each recipe scores.
"""

from __future__ import annotations

import json
from pathlib import Path

from ._checks import _device, _text
from .errors import CheckpointError, InvalidArgumentError
from .gan import GAN

ROOT = Path(__file__).parent / "weights" / "pretrained"
# What each shipped GAN was trained on and how: written by scripts/make_pretrained.py.
MANIFEST = ROOT / "manifest.json"


def models() -> dict[str, dict]:
    """The shipped GANs by name, each with its ``data``, ``recipe``, ``steps`` and
    ``seed``."""
    try:
        return json.loads(MANIFEST.read_text())
    except (OSError, ValueError) as error:
        raise CheckpointError(f"the list of pretrained GANs {MANIFEST} cannot be read: {error}") from None


def pretrained(name: str, device: str = "auto") -> GAN:
    """The shipped GAN `name` (see `models()`: ``"mnist"``, ``"fashion"``, ``"shapes"``),
    ready to sample and edit; training it further starts from step 0 with a new
    optimiser."""
    name, shipped = _text("name", name), models()
    if name not in shipped:
        raise InvalidArgumentError(f"no pretrained GAN {name!r}: choose one of {', '.join(map(repr, shipped))}")
    return GAN.load(ROOT / name, device=_device(device))


__all__ = ["models", "pretrained"]
