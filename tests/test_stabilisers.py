"""Stabilisers (spectral norm, R1, gradient penalty, PacGAN packing, DiffAugment) and
class-conditional generation: each option trains, is checked, and does what it is for."""

import math

import pytest
import rustgan
import torch
from conftest import differs_from, tiny_dcgan
from rustgan import data, edit, metrics


def mlp(**options) -> rustgan.GAN:
    defaults = dict(arch="mlp", lr_g=1e-3, lr_d=1e-3, seed=0, device="cpu")
    return rustgan.GAN((2,), **{**defaults, **options})


@pytest.mark.parametrize(
    "options",
    [
        dict(spectral_norm=True),
        dict(r1_gamma=10.0, r1_every=2),
        dict(gradient_penalty=True, loss="hinge"),
        dict(pac=2, loss="lsgan"),
        dict(augment="translation, cutout, color"),
        dict(augment=["translation"], pac=2, spectral_norm=True, r1_gamma=1.0),
        dict(loss="relativistic", r1_gamma=1.0, r2_gamma=1.0),
    ],
    ids=str,
)
def test_each_stabiliser_trains_a_dcgan(options, mnist):
    def train(**options):
        gan = tiny_dcgan(**options)
        return gan, gan.fit(mnist[0][:256], steps=6, batch_size=32, log_every=3, progress=False)

    gan, history = train(**options)
    for record in history:
        assert record["nan/skipped"] == 0 and all(torch.isfinite(torch.tensor(v)) for v in record.values())
    assert gan.sample(4).isfinite().all()
    # The option changes training: the same seed without it ends elsewhere.
    assert differs_from(gan, train()[0])
    if "r1_gamma" in options:
        assert history[0]["loss/d/r1"] > 0
    if "r2_gamma" in options:
        assert history[0]["loss/d/r2"] > 0
    if "gradient_penalty" in options:
        assert history[0]["loss/d/gp"] > 0


def test_lazy_r1_runs_every_k_steps_and_penalises_gradients(ring):
    gan = mlp(r1_gamma=1.0, r1_every=3)
    steps = [gan.step(ring[0][:64]) for _ in range(7)]
    assert ["loss/d/r1" in stats for stats in steps] == [True, False, False, True, False, False, True]
    # On an R1 step, D's loss adds gamma / 2 * r1_every times the penalty, the mean
    # squared norm of D's input gradient; the other steps add nothing.
    for stats in steps:
        penalty = 1.0 / 2 * 3 * stats.get("loss/d/r1", 0.0)
        assert stats["loss/d"] == pytest.approx(stats["loss/d/real"] + stats["loss/d/fake"] + penalty, rel=1e-5)
    assert all(stats["loss/d/r1"] > 0 for stats in steps[::3])
    unregularised = mlp()
    for _ in range(7):
        unregularised.step(ring[0][:64])
    assert differs_from(gan, unregularised)


def test_relativistic_pairing_with_r1_and_r2(ring):
    """R3GAN's loss: D's whole pairing loss is logged as its real half, and both penalties
    enter D's loss on the lazy steps; with top-k and packing it still trains."""
    gan = mlp(loss="relativistic", r1_gamma=1.0, r2_gamma=2.0, r1_every=2)
    steps = [gan.step(ring[0][:64]) for _ in range(4)]
    assert ["loss/d/r2" in stats for stats in steps] == [True, False, True, False]
    for stats in steps:
        assert stats["loss/d/fake"] == 0
        penalties = 2 / 2 * (1.0 * stats.get("loss/d/r1", 0.0) + 2.0 * stats.get("loss/d/r2", 0.0))
        assert stats["loss/d"] == pytest.approx(stats["loss/d/real"] + penalties, rel=1e-5)
    assert steps[0]["loss/d/real"] == pytest.approx(math.log(2), abs=0.05), "D starts undecided"
    paired_by_bce = mlp(r1_gamma=1.0, r2_gamma=2.0, r1_every=2)
    for _ in range(4):
        paired_by_bce.step(ring[0][:64])
    assert differs_from(gan, paired_by_bce)
    packed = mlp(loss="relativistic", pac=2, top_k=0.5, r1_gamma=0.1)
    history = packed.fit(ring[0], steps=20, batch_size=64, log_every=10, progress=False)
    assert all(math.isfinite(v) for record in history for v in record.values())


def test_spectral_norm_keeps_the_power_iteration_vector_in_the_checkpoint(tmp_path):
    gan = mlp(spectral_norm=True)
    before = gan.discriminator_state_dict()
    assert {"0.weight_u", "6.weight_u"} <= set(before)
    gan.fit(data.ring2d(512)[0], steps=5, batch_size=64, progress=False)
    after = gan.discriminator_state_dict()
    assert not torch.equal(before["0.weight_u"], after["0.weight_u"])
    assert abs(after["0.weight_u"].norm().item() - 1) < 1e-5
    gan.save(tmp_path / "ck")
    loaded = rustgan.GAN.load(tmp_path / "ck")
    assert torch.equal(loaded.discriminator_state_dict()["0.weight_u"], after["0.weight_u"])


def test_adaptive_augmentation_follows_d_and_resumes_exactly(mnist, tmp_path):
    """On 32 digits D soon tells them from G's: E[sign(D(real))] passes 0.6 and p rises
    from 0. A checkpoint between two adjustments keeps p and what D showed since."""
    x = mnist[0][:32]
    gan = tiny_dcgan(augment="translation,cutout", augment_target=0.6)
    assert gan.augment_probability == 0.0
    history = gan.fit(x, steps=30, batch_size=16, log_every=10, progress=False)
    assert history[-1]["augment/real_sign"] > 0.6
    assert 0 < history[1]["augment/p"] < history[-1]["augment/p"] <= gan.augment_probability
    gan.save(tmp_path / "ck")  # 30 steps: two updates after the last adjustment
    loaded = rustgan.GAN.load(tmp_path / "ck")
    assert loaded.augment_probability == gan.augment_probability
    for model in (gan, loaded):
        model.fit(x, steps=10, batch_size=16, progress=False)
    assert loaded.augment_probability == gan.augment_probability > history[-1]["augment/p"]
    assert torch.equal(loaded.sample(8, seed=0), gan.sample(8, seed=0))
    (tmp_path / "ck" / "adaptive_augment.json").write_text('{"p": 2.0}')
    with pytest.raises(rustgan.CheckpointError, match="adaptive_augment.json"):
        rustgan.GAN.load(tmp_path / "ck")


def test_packing_needs_whole_groups(ring):
    gan = mlp(pac=4)
    with pytest.raises(rustgan.InvalidArgumentError, match="multiple of pac=4"):
        gan.fit(ring[0], steps=1, batch_size=30, progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match="multiple of pac=4"):
        gan.step(ring[0][:6])
    assert "loss/d" in gan.step(ring[0][:8])


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(pac=2, num_classes=3), "pac"),
        (dict(augment="color"), "augment"),
        (dict(augment="blur", arch="dcgan"), "augment"),
        (dict(augment_target=0.6, arch="dcgan"), "set augment too"),
        (dict(augment="color", augment_target=1.0, arch="dcgan"), "augment_target"),
        (dict(augment="color", augment_target=-0.1, arch="dcgan"), "augment_target"),
        (dict(r1_gamma=-1.0), "r1_gamma"),
        (dict(r2_gamma=-1.0), "r2_gamma"),
        (dict(loss="relativistic", arch="dcgan", r2_gamma=float("nan")), "r2_gamma"),
        (dict(num_classes=-1), "num_classes"),
        (dict(pac=0), "pac"),
        (dict(maxout=0), "maxout"),
        (dict(depth_d=-1), "depth_d"),
        (dict(hidden_dim_d=1 << 20), "hidden_dim_d"),
        (dict(batch_norm_g=True, arch="dcgan"), "batch_norm_g"),
        (dict(maxout=5, arch="dcgan"), "maxout"),
    ],
)
def test_bad_stabiliser_settings_are_named(options, message):
    with pytest.raises(rustgan.InvalidArgumentError, match=message):
        kwargs = dict(arch="mlp", device="cpu") | options
        rustgan.GAN((1, 28, 28) if kwargs["arch"] == "dcgan" else (2,), **kwargs)


def test_pacgan_recipe_builds_the_published_networks(ring):
    options = rustgan.recipe("pacgan")
    batch_size, steps = options.pop("batch_size"), options.pop("steps")
    assert (batch_size, steps) == (100, 8000)
    gan = rustgan.GAN((2,), **options, device="cpu")
    shapes = {name: tuple(t.shape) for name, t in gan.generator_state_dict().items()}
    linears = [shapes[f"{i}.weight"] for i in (0, 3, 6, 9, 12)]
    assert linears == [(400, 2), (400, 400), (400, 400), (400, 400), (2, 400)]
    assert all(shapes[f"{i}.running_mean"] == (400,) for i in (1, 4, 7, 10))
    d_shapes = {name: tuple(t.shape) for name, t in gan.discriminator_state_dict().items()}
    # Three maxout layers of 200 units x 5 pieces on pairs of points, then the logit.
    assert [d_shapes[f"{i}.weight"] for i in (0, 2, 4, 6)] == [(1000, 4), (1000, 200), (1000, 200), (1, 200)]
    history = gan.fit(ring[0], steps=30, batch_size=batch_size, progress=False)
    assert all(math.isfinite(v) for record in history for v in record.values())
    # Sampling uses batch norm's running statistics: an item does not depend on its batch.
    z = gan.latent(8, seed=0)
    assert torch.allclose(gan.generate(z)[:1], gan.generate(z[:1]), atol=1e-6)


@pytest.mark.slow
def test_packing_and_r1_balance_the_ring_modes():
    # 2,000 steps: the plain GAN has not settled on any mode, packing with R1 has found all
    # 8 (`make bench-2d` runs PacGAN's protocol, 8,000 steps on 3 seeds).
    points, centers = data.ring2d(20_000, seed=0)
    scores = {}
    for name, options in {"plain": {}, "pac2 + R1": dict(pac=2, r1_gamma=0.1)}.items():
        gan = mlp(ema=0.99, **options)
        gan.fit(points, steps=2000, batch_size=256, progress=False)
        scores[name] = metrics.modes_2d(gan.sample(2500, seed=1), centers, 0.01)
    stabilised = scores["pac2 + R1"]
    assert stabilised["modes"] == 8 and stabilised["reverse_kl"] < 0.5, scores
    assert stabilised["reverse_kl"] < scores["plain"]["reverse_kl"] / 3, scores


def test_conditional_generator_draws_the_requested_mode():
    # Labels are the mixture component: a conditional GAN must put class k on center k.
    centers = data.ring2d(1)[1]
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(8, (20_000,), generator=generator)
    points = centers[labels] + 0.02 * torch.randn(20_000, 2, generator=generator)
    gan = mlp(num_classes=8, ema=0.99)
    gan.fit(points, steps=300, batch_size=128, labels=labels, progress=False)
    wanted = torch.arange(800) % 8
    samples = gan.sample(800, seed=1, labels=wanted)
    assert (torch.cdist(samples, centers).argmin(1) == wanted).float().mean() > 0.95


def test_conditional_api_checks_and_keeps_z(mnist, tmp_path):
    gan = tiny_dcgan(num_classes=10)
    x, y = mnist[0][:64], mnist[1][:64]
    with pytest.raises(rustgan.InvalidArgumentError, match="class-conditional"):
        gan.fit(x, steps=1, batch_size=16, progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[0, 9\]"):
        gan.fit(x, steps=1, batch_size=16, labels=y + 10, progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match="shape"):
        gan.step(x[:8], labels=y[:7])
    with pytest.raises(rustgan.ArgumentTypeError, match="integers"):
        gan.step(x[:8], labels=y[:8].float())
    with pytest.raises(rustgan.InvalidArgumentError, match="unconditional"):
        tiny_dcgan().sample(2, labels=[0, 1])
    gan.fit(x, steps=2, batch_size=16, labels=y, progress=False)
    z = gan.latent(3, seed=0)
    grid = edit.class_swap(gan, z, classes=[1, 7])
    assert grid.shape == (2, 3, 1, 28, 28)
    assert torch.allclose(grid[1], gan.generate(z, labels=[7, 7, 7]), atol=1e-6)
    assert not torch.equal(grid[0], grid[1])
    assert edit.interpolate(gan, z[0], z[1], steps=4, labels=7).shape == (4, 1, 28, 28)
    assert edit.project(gan, x[:2], steps=2, restarts=2, labels=y[:2]).images.shape == (2, 1, 28, 28)
    gan.save(tmp_path / "ck")
    assert torch.equal(rustgan.GAN.load(tmp_path / "ck").sample(10, seed=4), gan.sample(10, seed=4))
