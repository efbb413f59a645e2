"""The residual family: every size, loss, stabiliser and precision, conditioning,
checkpoints and editing, like DCGAN."""

import json
import math

import pytest
import rustgan
import torch
from rustgan import edit


def tiny_resnet(shape=(3, 32, 32), **options) -> rustgan.GAN:
    defaults = dict(arch="resnet", latent_dim=8, base_channels=4, seed=0, device="cpu")
    return rustgan.GAN(shape, **{**defaults, **options})


def images(shape, n=64, seed=0):
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64), (2, 128, 128)], ids=str)
def test_every_size_trains_and_samples(shape):
    gan = tiny_resnet(shape, base_channels=2)
    history = gan.fit(images(shape, 16), steps=2, batch_size=8, progress=False)
    assert all(math.isfinite(v) for v in history[-1].values())
    samples = gan.sample(3, seed=1)
    assert samples.shape == (3, *shape) and samples.abs().max() <= 1


@pytest.mark.parametrize(
    "options",
    [
        dict(loss="hinge", spectral_norm=True),
        dict(loss="wgan-gp", n_critic=2),
        dict(loss="lsgan", r1_gamma=1.0, augment="translation,cutout,color"),
        dict(pac=2, ema=0.9, precision="bf16"),
        dict(num_classes=3),
        dict(num_classes=3, conditional_batch_norm=False),
        dict(clusters=3),
    ],
    ids=str,
)
def test_each_loss_stabiliser_and_precision_trains(options):
    shape = (3, 32, 32)
    gan = tiny_resnet(shape, **options)
    labels = torch.arange(64) % 3 if options.get("num_classes") else None
    before = gan.sample(4, seed=2)
    history = gan.fit(images(shape), steps=4, batch_size=16, labels=labels, log_every=2, progress=False)
    for record in history:
        assert record["nan/skipped"] == 0 and all(math.isfinite(v) for v in record.values()), record
    assert not torch.equal(gan.sample(4, seed=2), before)


def test_checkpoint_resumes_exactly(tmp_path):
    shape = (3, 32, 32)
    x = images(shape)
    straight = tiny_resnet(shape, ema=0.9)
    straight.fit(x, steps=4, batch_size=16, progress=False)
    resumed = tiny_resnet(shape, ema=0.9)
    resumed.fit(x, steps=2, batch_size=16, progress=False)
    resumed.save(tmp_path / "ck")
    resumed = rustgan.GAN.load(tmp_path / "ck")
    resumed.fit(x, steps=2, batch_size=16, progress=False)
    assert torch.equal(resumed.sample(4, seed=5), straight.sample(4, seed=5))


def test_conditional_batch_norm_is_the_conditional_generator_and_old_checkpoints_keep_theirs(tmp_path):
    labels = torch.arange(64) % 3
    by_norm = tiny_resnet(num_classes=3)
    names = by_norm.generator_state_dict()
    assert names["0.weight"].shape[1] == 8, "G's linear layer reads z alone"
    assert names["2.bn1.gain.weight"].shape == (32, 3) and "2.bn2.shift.weight" in names
    z = by_norm.latent(1, seed=0).repeat(3, 1)
    per_class = by_norm.generate(z, labels=torch.arange(3))
    assert (per_class[0] - per_class[1]).abs().mean() > 1e-3, "one z renders differently per class"

    # A conditional resnet saved before conditional batch norm: its config has no such key.
    beside_z = tiny_resnet(num_classes=3, conditional_batch_norm=False)
    beside_z.fit(images((3, 32, 32)), labels=labels, steps=2, batch_size=16, progress=False)
    beside_z.save(tmp_path / "old")
    config_path = tmp_path / "old" / "config.json"
    config = json.loads(config_path.read_text())
    del config["conditional_batch_norm"]
    config_path.write_text(json.dumps(config))
    loaded = rustgan.GAN.load(tmp_path / "old")
    assert loaded.config["conditional_batch_norm"] is False
    assert loaded.generator_state_dict()["0.weight"].shape[1] == 8 + 3
    assert torch.equal(loaded.sample(4, labels=labels[:4], seed=1), beside_z.sample(4, labels=labels[:4], seed=1))


@pytest.mark.parametrize("method", ["sefa", "pca"])
def test_directions_and_moves(method):
    gan = tiny_resnet((1, 28, 28), num_classes=2)
    gan.fit(images((1, 28, 28)), labels=torch.arange(64) % 2, steps=2, batch_size=16, progress=False)
    found = edit.directions(gan, k=3, method=method)
    assert found.vectors.shape == (3, 8)
    assert torch.allclose(found.vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    strips = edit.move(gan, gan.latent(2, seed=0), found.vectors[0], [-2.0, 0.0, 2.0], labels=torch.tensor([0, 1]))
    assert strips.shape == (3, 2, 1, 28, 28)


def test_sizes_it_cannot_make_are_refused_with_those_it_can():
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[28, 32, 64, 128\], got \[3, 48, 48\]"):
        tiny_resnet((3, 48, 48))


def write_colour_folder(folder, size=96):
    """Red, green and blue images in every common mode and format, of several sizes."""
    from PIL import Image

    folder.mkdir()
    colours = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}
    for i, (name, rgb) in enumerate(colours.items()):
        base = Image.new("RGB", (size + 16 * i, size), rgb)
        base.save(folder / f"{name}_rgb.png")
        base.save(folder / f"{name}.jpg", quality=95)
        base.convert("RGBA").save(folder / f"{name}_rgba.png")
        base.convert("P").save(folder / f"{name}_p.png")
    Image.new("L", (size, size + 8), 128).save(folder / "grey_l.png")


@pytest.mark.parametrize("size", [64, pytest.param(128, marks=pytest.mark.slow)])
def test_colour_folders_load_and_train_from_the_cli(tmp_path, size):
    from rustgan import cli, data

    folder = tmp_path / "images"
    write_colour_folder(folder, size + 8)
    x = data.image_folder(folder, size=size)
    assert x.shape == (13, 3, size, size)
    names = sorted(path.name for path in folder.iterdir())
    mean_colour = x.mean((2, 3))
    for name, colour in zip(names, mean_colour):
        expected = {"red": 0, "green": 1, "blue": 2}.get(name.split("_")[0].split(".")[0])
        if expected is None:  # the grey image: every channel at about 0
            assert colour.abs().max() < 0.02, name
        else:
            assert colour.argmax() == expected and colour[expected] > 0.95, (name, colour)
    out = tmp_path / "run"
    arguments = ["train", "--data", str(folder), "--arch", "resnet", "--image-size", str(size)]
    arguments += ["--steps", "2", "--batch-size", "4", "--base-channels", "2", "--out", str(out)]
    assert cli.main(arguments) == 0
    gan = rustgan.GAN.load(out / "checkpoint")
    assert gan.config["arch"] == "resnet" and gan.sample(2).shape == (2, 3, size, size)
