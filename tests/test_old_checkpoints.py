"""Checkpoints written by an earlier version (tests/data/checkpoints/, made by
scripts/make_old_checkpoints.py) load and draw the images they drew then, for each model."""

import json
from pathlib import Path

import pytest
import rustgan
import torch

CHECKPOINTS = Path(__file__).parent / "data" / "checkpoints"
MODELS = {"gan": rustgan.GAN, "translator": rustgan.Translator, "cycle": rustgan.CycleGAN}


def drawn(name: str, model, mnist) -> torch.Tensor:
    """What each kind of model draws, from the same inputs every time: every 97th value."""
    x, _ = mnist
    if name == "gan":
        images = model.sample(8, seed=5)
    elif name == "translator":
        images = model.translate(rustgan.data.pairs(x[-8:], "superres")[0])
    else:
        images = model.translate(x[-8:], to="b")
    return images.flatten()[::97]


@pytest.mark.parametrize("name", list(MODELS))
def test_an_old_checkpoint_draws_what_it_drew(name, mnist):
    model = MODELS[name].load(CHECKPOINTS / name, device="cpu")
    expected = torch.tensor(json.loads((CHECKPOINTS / "drawn.json").read_text())[name])
    got = drawn(name, model, mnist)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
