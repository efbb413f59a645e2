"""Discriminator-guided sampling (rejection and Metropolis-Hastings) and top-k training."""

import pytest
import rustgan
import torch
from conftest import differs_from, tiny_dcgan
from rustgan import data, metrics

RING_STD = 0.01


@pytest.fixture(scope="module")
def ring_gan():
    """PacGAN2 + R1 on PacGAN's ring, stopped early so that many samples sit between
    modes, calibrated on points it never trained on."""
    options = dict(lr_g=1e-3, lr_d=1e-3, pac=2, r1_gamma=0.1, ema=0.999)
    gan = rustgan.GAN((2,), arch="mlp", seed=0, device="cpu", **options)
    gan.fit(data.ring2d(100_000, seed=0)[0], steps=1500, batch_size=512, progress=False)
    gan.calibrate(data.ring2d(2000, seed=1)[0])
    return gan


@pytest.mark.parametrize("guide", ["drs", "mh"])
def test_guides_move_samples_onto_the_modes(ring_gan, guide):
    centers = data.ring2d(1)[1]
    plain = metrics.modes_2d(ring_gan.sample(2500, seed=3), centers, RING_STD)
    guided = metrics.modes_2d(ring_gan.sample(2500, seed=3, guide=guide), centers, RING_STD)
    assert guided["modes"] == 8
    assert guided["high_quality"] > plain["high_quality"] + 0.02, (plain, guided)


@pytest.mark.parametrize("guide", ["drs", "mh"])
def test_guided_samples_are_deterministic_given_the_seed(ring_gan, guide):
    a = ring_gan.sample(300, seed=5, guide=guide)
    assert a.shape == (300, 2)
    assert torch.equal(a, ring_gan.sample(300, seed=5, guide=guide))
    assert not torch.equal(a, ring_gan.sample(300, seed=6, guide=guide))
    assert ring_gan.sample(3, seed=5, guide=guide).shape == (3, 2)  # an odd count of pac-2 packs


def test_calibration_is_a_density_ratio_and_travels_with_the_checkpoint(ring_gan, tmp_path):
    calibration = ring_gan.calibration
    assert calibration["scale"] > 0, "a higher logit means more likely real"
    assert calibration["real_items"] == 2000
    assert 0.05 < calibration["acceptance_rate"] < 0.9
    ring_gan.save(tmp_path / "ckpt")
    loaded = rustgan.GAN.load(tmp_path / "ckpt")
    assert loaded.calibration == calibration
    assert torch.equal(loaded.sample(50, seed=2, guide="drs"), ring_gan.sample(50, seed=2, guide="drs"))
    # Training changes D: the calibration no longer holds and is dropped.
    loaded.fit(data.ring2d(512)[0], steps=1, batch_size=512, progress=False)
    assert loaded.calibration is None
    with pytest.raises(rustgan.InvalidArgumentError, match=r"no calibration.*gan.calibrate\(real\)"):
        loaded.sample(10, guide="mh")


def test_guides_keep_the_requested_class():
    # Labels are the mixture component; guided samples must stay in the class asked for.
    centers = data.ring2d(1)[1]
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(8, (12_000,), generator=generator)
    points = centers[labels] + 0.02 * torch.randn(12_000, 2, generator=generator)
    gan = rustgan.GAN((2,), arch="mlp", num_classes=8, ema=0.99, seed=0, device="cpu")
    gan.fit(points[:10_000], steps=500, batch_size=128, labels=labels[:10_000], progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match="pass labels"):
        gan.calibrate(points[10_000:])
    gan.calibrate(points[10_000:], labels=labels[10_000:])
    wanted = torch.arange(400) % 8
    for guide in ("drs", "mh"):
        samples = gan.sample(400, seed=1, labels=wanted, guide=guide)
        assert (torch.cdist(samples, centers).argmin(1) == wanted).float().mean() > 0.95, guide


def test_guided_sampling_bad_input(ring_gan):
    with pytest.raises(rustgan.InvalidArgumentError, match="unknown guide 'rejection'"):
        ring_gan.sample(4, guide="rejection")
    with pytest.raises(rustgan.ArgumentTypeError, match="guide must be a string"):
        ring_gan.sample(4, guide=1)
    with pytest.raises(rustgan.InvalidArgumentError, match="n must be at least 1"):
        ring_gan.sample(0, guide="drs")
    with pytest.raises(rustgan.InvalidArgumentError, match="truncation"):
        ring_gan.sample(4, guide="drs", truncation=2.0)
    gan = tiny_dcgan()
    with pytest.raises(rustgan.InvalidArgumentError, match="no calibration"):
        gan.sample(4, guide="drs")
    with pytest.raises(rustgan.DataError, match="real has shape"):
        gan.calibrate(torch.zeros(10, 2))
    with pytest.raises(rustgan.InvalidArgumentError, match="at least 2 real items"):
        gan.calibrate(torch.zeros(1, 1, 28, 28))


@pytest.mark.parametrize("top_k", [0.0, -0.5, 1.5, float("nan")])
def test_top_k_outside_the_unit_interval_is_refused(top_k):
    with pytest.raises(rustgan.InvalidArgumentError, match="top_k must (lie in \\(0, 1\\]|be finite)"):
        tiny_dcgan(top_k=top_k)


def test_top_k_changes_the_generator_update_once_annealed(mnist):
    x = mnist[0][:256]
    gans = {k: tiny_dcgan(top_k=k) for k in (1.0, 0.5)}
    for gan in gans.values():
        gan.fit(x, steps=30, batch_size=32, progress=False)
    # 0.999^30 keeps 97% of 32 fakes: 31, so G already learns from fewer of them.
    assert differs_from(gans[0.5], gans[1.0])
    assert gans[0.5].config["top_k"] == 0.5
