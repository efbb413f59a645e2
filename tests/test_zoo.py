"""The GANs that ship in the package: they load, sample what they learnt, edit, and a
missing or corrupt shipped file is named."""

import shutil

import pytest
import rustgan
import torch
from PIL import Image
from rustgan import cli, edit, metrics, zoo


def test_every_listed_model_ships_as_a_release():
    shipped = zoo.models()
    assert set(shipped) == {"mnist", "fashion", "shapes"}
    for name, made in shipped.items():
        folder = zoo.ROOT / name
        assert {"config.json", "generator.safetensors", "discriminator.safetensors"} <= {
            p.name for p in folder.iterdir()
        }
        assert not (folder / "optimizer.safetensors").exists(), "no training state ships"
        assert made["steps"] > 0 and made["recipe"].startswith("recipe(")
    size = sum(p.stat().st_size for p in zoo.ROOT.rglob("*") if p.is_file())
    assert size < 10e6, f"{size / 1e6:.1f} MB ship"


def test_the_shipped_mnist_gan_draws_digits_of_every_class():
    gan = rustgan.pretrained("mnist", device="cpu")
    assert gan.steps_done == 0 and gan.data_shape == (1, 28, 28)
    samples = gan.sample(500, seed=0)
    coverage = metrics.class_coverage(metrics.digit_logits(samples))
    # An untrained generator's blobs read as one or two classes.
    assert coverage["classes_covered"] == 10 and coverage["class_kl"] < 0.1, coverage


def test_the_shipped_shapes_gan_draws_shapes():
    gan = rustgan.pretrained("shapes", device="cpu")
    assert metrics.shapes_score(gan.sample(500, seed=0))["high_quality"] > 0.8


@pytest.mark.slow
def test_a_shipped_gan_projects_a_real_digit(mnist):
    gan = rustgan.pretrained("mnist", device="cpu")
    digits = mnist[0][torch.randperm(len(mnist[0]), generator=torch.Generator().manual_seed(0))[:4]]
    projected = edit.project(gan, digits, steps=150, restarts=2, seed=0)
    assert edit.psnr(projected.images, digits).mean() > 15.0


def test_unknown_names_list_the_shipped_ones():
    with pytest.raises(rustgan.InvalidArgumentError, match="'mnist', 'fashion', 'shapes'|'fashion'"):
        rustgan.pretrained("celeba")


def test_a_corrupt_or_missing_shipped_file_is_named(tmp_path, monkeypatch):
    shutil.copytree(zoo.ROOT, tmp_path / "pretrained")
    monkeypatch.setattr(zoo, "ROOT", tmp_path / "pretrained")
    (tmp_path / "pretrained" / "mnist" / "generator.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(rustgan.CheckpointError, match="generator.safetensors"):
        rustgan.pretrained("mnist")
    (tmp_path / "pretrained" / "fashion" / "discriminator.safetensors").unlink()
    with pytest.raises(rustgan.CheckpointError, match="discriminator.safetensors"):
        rustgan.pretrained("fashion")
    monkeypatch.setattr(zoo, "MANIFEST", tmp_path / "missing.json")
    with pytest.raises(rustgan.CheckpointError, match="missing.json"):
        rustgan.pretrained("mnist")


def test_a_release_trains_on_from_step_zero(tmp_path, mnist):
    gan = rustgan.GAN((1, 28, 28), base_channels=8, ema=0.9, seed=0, device="cpu")
    gan.fit(mnist[0][:256], steps=3, batch_size=32, progress=False)
    gan.save(tmp_path / "release", training_state=False)
    assert not (tmp_path / "release" / "optimizer.safetensors").exists()
    released = rustgan.GAN.load(tmp_path / "release")
    assert torch.equal(released.sample(8, seed=2), gan.sample(8, seed=2)), "the EMA generator ships"
    released.fit(mnist[0][:256], steps=2, batch_size=32, progress=False)
    assert released.steps_done == 2
    with pytest.raises(rustgan.ArgumentTypeError, match="training_state"):
        gan.save(tmp_path / "other", training_state="no")


def test_the_command_line_samples_and_edits_a_shipped_gan(tmp_path, mnist):
    grid = tmp_path / "samples.png"
    assert cli.main(["sample", "--pretrained", "mnist", "--n", "16", "--out", str(grid)]) == 0
    assert Image.open(grid).size[0] > 100
    digit = ((mnist[0][7, 0] + 1) * 127.5).round().byte().numpy()
    Image.fromarray(digit).save(tmp_path / "my.png")
    out = tmp_path / "project.png"
    argv = ["edit", "project", "--pretrained", "mnist", "--data", str(tmp_path / "my.png"), "--n", "1"]
    assert cli.main([*argv, "--steps", "20", "--restarts", "1", "--out", str(out)]) == 0
    assert out.is_file()
    assert cli.main(["sample", "--pretrained", "celeba", "--out", str(grid)]) != 0
