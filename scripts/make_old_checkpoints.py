"""Writes the small checkpoints of tests/data/checkpoints/ and what they draw: one of each
model, trained a few seeded steps. Run once per checkpoint format; `tests/test_old_checkpoints.py`
then checks that every later version loads them and draws the same images."""

import json
import sys
from pathlib import Path

import rustgan

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_old_checkpoints import drawn  # noqa: E402

OUT = Path(__file__).parents[1] / "tests" / "data" / "checkpoints"


def build_all(mnist):
    x, _ = mnist
    gan = rustgan.GAN((1, 28, 28), latent_dim=8, base_channels=4, clusters=3, ema=0.9, seed=1, device="cpu")
    gan.fit(x[:256], steps=3, batch_size=32, progress=False)
    inputs, targets = rustgan.data.pairs(x[:256], "superres")
    translator = rustgan.Translator(inputs.shape[1:], targets.shape[1:], base_channels=2, seed=1, device="cpu")
    translator.fit(inputs, targets, steps=3, batch_size=32, progress=False)
    cycle = rustgan.CycleGAN((1, 28, 28), (1, 28, 28), base_channels=2, seed=1, device="cpu")
    cycle.fit(x[:128], -x[128:256], steps=3, batch_size=16, progress=False)
    return {"gan": gan, "translator": translator, "cycle": cycle}


if __name__ == "__main__":
    mnist = rustgan.data.mnist()
    expected = {}
    for name, model in build_all(mnist).items():
        model.save(OUT / name)
        expected[name] = drawn(name, model, mnist).tolist()
    (OUT / "drawn.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {sorted(expected)} to {OUT}")
