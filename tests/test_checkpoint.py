import json

import pytest
import rustgan
import torch
from conftest import tiny_dcgan


def test_round_trip_is_exact_and_training_resumes(tmp_path, mnist):
    x, _ = mnist
    gan = tiny_dcgan(ema=0.9)
    gan.fit(x[:256], steps=6, batch_size=32, progress=False)
    gan.save(tmp_path / "ck")
    loaded = rustgan.GAN.load(tmp_path / "ck", device="cpu")
    assert loaded.config == gan.config and loaded.steps_done == 6
    assert torch.equal(loaded.sample(8, seed=0), gan.sample(8, seed=0))
    assert torch.equal(loaded.sample(8, seed=0, ema=False), gan.sample(8, seed=0, ema=False))
    # Continuing both gives the same weights: optimiser moments and RNG were restored.
    gan.fit(x[:256], steps=5, batch_size=32, progress=False)
    loaded.fit(x[:256], steps=5, batch_size=32, progress=False)
    assert torch.equal(loaded.sample(8, seed=0), gan.sample(8, seed=0))
    assert loaded.steps_done == 11


def test_save_overwrites_previous_checkpoint(tmp_path):
    gan = tiny_dcgan()
    gan.save(tmp_path / "ck")
    gan.step(torch.rand(4, 1, 28, 28))
    gan.save(tmp_path / "ck")
    assert rustgan.GAN.load(tmp_path / "ck").steps_done == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_missing_checkpoint(tmp_path):
    with pytest.raises(rustgan.CheckpointError, match="no checkpoint"):
        rustgan.GAN.load(tmp_path / "nothing")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "generator.safetensors").write_bytes(b"garbage"), "generator.safetensors"),
        (
            lambda d: (d / "generator.safetensors").write_bytes((d / "generator.safetensors").read_bytes()[:100]),
            "generator",
        ),
        (lambda d: (d / "discriminator.safetensors").unlink(), "missing"),
        (lambda d: (d / "config.json").write_text("{not json"), "config.json"),
        (lambda d: (d / "state.json").write_text("{}"), "state.json"),
        (lambda d: (d / "optimizer.safetensors").unlink(), "optimizer"),
    ],
)
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, damage, message):
    tiny_dcgan().save(tmp_path / "ck")
    damage(tmp_path / "ck")
    with pytest.raises(rustgan.CheckpointError, match=message):
        rustgan.GAN.load(tmp_path / "ck")


def test_architecture_mismatch_is_named(tmp_path):
    tiny_dcgan().save(tmp_path / "ck")
    config_path = tmp_path / "ck" / "config.json"
    config = json.loads(config_path.read_text())
    config["base_channels"] = 16
    config_path.write_text(json.dumps(config))
    with pytest.raises(rustgan.CheckpointError, match="shape"):
        rustgan.GAN.load(tmp_path / "ck")
