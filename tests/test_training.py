"""Real training on small data: the numbers that matter, and determinism."""

import math

import pytest
import rustgan
import torch
from conftest import differs_from, modes_covered, tiny_dcgan


@pytest.mark.slow
def test_mlp_gan_spreads_over_the_grid_modes():
    # 600 steps: an untrained G covers 1 of the 25 modes, the trained one 8 (and 20.8 on
    # average over PacGAN's protocol at 8,000 steps: `make bench-2d`).
    points, centers = rustgan.data.grid2d(5000, seed=0)
    gan = rustgan.GAN((2,), arch="mlp", latent_dim=16, lr_g=1e-3, lr_d=1e-3, seed=0, device="cpu")
    assert modes_covered(gan.sample(2500, seed=1), centers, std=0.05) <= 1
    history = gan.fit(points, steps=600, batch_size=256, progress=False)
    assert len(history) == 600 // 50
    samples = gan.sample(2500, seed=1)
    assert samples.shape == (2500, 2)
    assert modes_covered(samples, centers, std=0.05) >= 4


def test_dcgan_trains_on_mnist_without_nan(mnist):
    x, _ = mnist
    gan = tiny_dcgan(base_channels=16, ema=0.99)
    history = gan.fit(x, steps=150, batch_size=64, log_every=50, progress=False)
    assert [r["step"] for r in history] == [50, 100, 150]
    for record in history:
        assert all(math.isfinite(v) for v in record.values()), record
        assert record["nan/skipped"] == 0
    samples = gan.sample(64, seed=1)
    assert samples.shape == (64, 1, 28, 28) and samples.dtype == torch.float32
    assert samples.min() >= -1 and samples.max() <= 1
    # Not constant: samples differ from each other, and pixels within a sample differ.
    assert samples.std(dim=0).mean() > 0.05
    assert samples.flatten(1).std(dim=1).min() > 0.05
    # Digits are bright strokes on a dark background, like the data.
    assert abs(samples.mean() - x.mean()) < 0.3


def test_step_returns_losses_and_counts(mnist):
    x, _ = mnist
    gan = tiny_dcgan()
    stats = gan.step(x[:32])
    assert {"loss/d", "loss/d/real", "loss/d/fake", "loss/g", "nan/skipped"} <= stats.keys()
    assert math.isclose(stats["loss/d"], stats["loss/d/real"] + stats["loss/d/fake"], rel_tol=1e-5)
    assert gan.steps_done == 1


def test_every_loss_trains(ring):
    points, _ = ring
    trained = {}
    for loss in rustgan.gan.LOSSES:
        gan = rustgan.GAN((2,), arch="mlp", loss=loss, n_critic=2 if loss == "wgan-gp" else 1, seed=0, device="cpu")
        history = gan.fit(points, steps=60, batch_size=64, log_every=20, progress=False)
        assert all(math.isfinite(r["loss/g"]) for r in history), loss
        if loss == "wgan-gp":
            assert history[0]["loss/d/gp"] > 0
        trained[loss] = gan
    # Each loss trains differently: none is silently replaced by another.
    for loss in ("lsgan", "hinge", "wgan-gp"):
        assert differs_from(trained[loss], trained["bce"]), loss
    images = tiny_dcgan(loss="wgan-gp").fit(torch.rand(40, 1, 28, 28) * 2 - 1, 3, 8, log_every=1, progress=False)
    assert math.isfinite(images[-1]["loss/d/gp"])


def test_dcgan_sizes_and_channels():
    for shape in [(3, 32, 32), (3, 64, 64), (1, 64, 64), (3, 28, 28)]:
        gan = tiny_dcgan(data_shape=shape)
        x = torch.rand(8, *shape) * 2 - 1
        gan.step(x)
        assert gan.sample(3, seed=0).shape == (3, *shape)


def test_same_seed_same_weights(mnist):
    x, _ = mnist

    def train(seed):
        gan = tiny_dcgan(seed=seed)
        gan.fit(x[:512], steps=20, batch_size=32, progress=False)
        return gan.sample(16, seed=3)

    assert torch.equal(train(0), train(0))
    assert not torch.equal(train(0), train(1))


def test_chunked_fit_equals_one_fit(mnist):
    x, _ = mnist
    one, chunked = tiny_dcgan(), tiny_dcgan()
    one.fit(x[:300], steps=12, batch_size=32, progress=False)
    for _ in range(3):
        chunked.fit(x[:300], steps=4, batch_size=32, progress=False)
    assert torch.equal(one.sample(8, seed=0), chunked.sample(8, seed=0))


def test_learning_rates_halve_every_half_life(ring):
    def weight_change(half_life: int) -> float:
        gan = rustgan.GAN((2,), arch="mlp", lr_g=1e-3, lr_d=1e-3, lr_half_life=half_life, seed=0, device="cpu")
        gan.fit(ring[0], steps=20, batch_size=64, progress=False)
        before = gan.discriminator_state_dict()
        gan.fit(ring[0], steps=20, batch_size=64, progress=False)
        return max((gan.discriminator_state_dict()[k] - v).abs().max().item() for k, v in before.items())

    # Adam moves each weight by about lr per step: 20 steps at 1e-3, against rates that
    # have halved ten times (about 1e-6) by step 20.
    assert weight_change(0) > 2e-3
    assert weight_change(2) < 2e-5


def test_sampling_is_seeded_and_leaves_training_alone(mnist):
    gan = tiny_dcgan()
    assert torch.equal(gan.sample(4, seed=7), gan.sample(4, seed=7))
    assert not torch.equal(gan.sample(4), gan.sample(4))
    z = gan.latent(5, seed=2)
    assert torch.equal(gan.generate(z), gan.sample(5, seed=2))


def test_data_formats_are_normalised():
    images = torch.randint(0, 256, (10, 28, 28), dtype=torch.uint8)
    nchw = rustgan.data.as_batch(images, (1, 28, 28))
    assert nchw.shape == (10, 1, 28, 28) and nchw.min() >= -1 and nchw.max() <= 1
    nhwc = rustgan.data.as_batch(images.numpy()[..., None].repeat(3, -1), (3, 28, 28))
    assert nhwc.shape == (10, 3, 28, 28)
    assert torch.equal(nhwc[:, 0], nchw[:, 0])


def test_builtin_data_sets():
    x, y = rustgan.data.mnist()
    assert x.shape == (5000, 1, 28, 28) and y.shape == (5000,) and y.dtype == torch.int64
    assert x.min() == -1 and x.max() == 1
    d, _ = rustgan.data.digits(size=32)
    assert d.shape == (1797, 1, 32, 32)
    grid, centers = rustgan.data.grid2d(1000)
    assert centers.shape == (25, 2) and grid.shape == (1000, 2)
    assert modes_covered(grid, centers, 0.05) == 25


def test_nan_is_caught_with_the_step():
    points, _ = rustgan.data.ring2d(512)
    gan = rustgan.GAN((2,), arch="mlp", lr_d=1e12, lr_g=1e12, seed=0, device="cpu")
    try:
        gan.fit(points, steps=200, batch_size=64, progress=False)
    except rustgan.NonFiniteLossError as error:
        assert "step" in str(error)
        failed_at = gan.steps_done + 1
        assert f"step {failed_at}" in str(error)
    else:
        raise AssertionError("a learning rate of 1e12 should blow up")
    skipping = rustgan.GAN((2,), arch="mlp", lr_d=1e12, lr_g=1e12, seed=0, device="cpu")
    history = skipping.fit(points, steps=200, batch_size=64, log_every=200, progress=False, on_nan="skip")
    assert history[-1]["nan/skipped"] > 0
    assert skipping.steps_done == 200
