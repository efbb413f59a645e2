"""Weights move between rustgan and plain PyTorch modules, both ways, without changing
what the networks compute."""

import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from rustgan import torch_modules

CONFIGS = [
    dict(data_shape=(1, 28, 28), arch="dcgan", latent_dim=16, base_channels=8, ema=0.9),
    dict(data_shape=(3, 32, 32), arch="dcgan", latent_dim=8, base_channels=4, loss="wgan-gp"),
    dict(data_shape=(3, 64, 64), arch="dcgan", latent_dim=8, base_channels=4, loss="hinge"),
    dict(data_shape=(2,), arch="mlp", latent_dim=4, hidden_dim=16, depth=2, loss="lsgan"),
    dict(data_shape=(1, 28, 28), arch="resnet", latent_dim=8, base_channels=2, ema=0.9),
    dict(data_shape=(3, 64, 64), arch="resnet", latent_dim=8, base_channels=2, loss="hinge", pac=2),
    dict(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, base_channels=4, pac=2, gradient_penalty=True),
    dict(data_shape=(2,), arch="mlp", latent_dim=4, hidden_dim=16, depth=2, pac=4),
    # The image recipe's shape (clusters, spectral norm) and the colour recipe's below 64 px.
    dict(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, base_channels=4, clusters=3, spectral_norm=True, ema=0.9),
    dict(data_shape=(3, 32, 32), arch="resnet", latent_dim=8, base_channels=2, clusters=3, spectral_norm=True),
    dict(data_shape=(1, 28, 28), arch="dcgan", latent_dim=8, base_channels=4, num_classes=3),
    dict(data_shape=(3, 32, 32), arch="resnet", latent_dim=8, base_channels=2, num_classes=3),
    dict(data_shape=(3, 32, 32), arch="projected", latent_dim=8, base_channels=4, ema=0.9),
    dict(data_shape=(1, 64, 64), arch="projected", latent_dim=8, base_channels=4, loss="hinge", spectral_norm=True),
    dict(data_shape=(3, 64, 64), arch="projected", latent_dim=8, base_channels=4, pixel_head=True),
    # PacGAN's own 2D networks, small: batch norm in G, a narrower and deeper maxout D.
    dict(
        data_shape=(2,),
        arch="mlp",
        latent_dim=2,
        hidden_dim=16,
        depth=2,
        batch_norm_g=True,
        hidden_dim_d=8,
        depth_d=3,
        maxout=3,
        pac=2,
    ),
]


def config_id(config: dict) -> str:
    extras = "".join(
        f"-{k}{config[k]}" for k in ("pac", "maxout", "clusters", "num_classes", "pixel_head") if k in config
    )
    return f"{config['arch']}-{config['data_shape']}{extras}"


def labels_for(gan: rustgan.GAN, n: int) -> torch.Tensor | None:
    return torch.arange(n) % gan.num_classes if gan.num_classes else None


def call(network, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """An exported network on `x`; conditioned ones take the labels as well."""
    return network(x) if labels is None else network(x, labels)


def trained(config: dict) -> rustgan.GAN:
    gan = rustgan.GAN(**config, seed=0, device="cpu")
    x = torch.rand(64, *config["data_shape"]) * 2 - 1
    gan.fit(x, steps=3, batch_size=16, labels=labels_for(gan, 64), progress=False)
    return gan


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_exported_modules_load_strictly_and_match(config):
    gan = trained(config)
    generator, discriminator = rustgan.export_torch(gan)
    assert not generator.training and not discriminator.training
    z, labels = gan.latent(32, seed=3), labels_for(gan, 32)
    with torch.no_grad():
        difference = (call(generator, z, labels) - gan.generate(z, labels=labels)).abs().max().item()
    assert difference < 1e-5
    assert set(discriminator.state_dict()) == set(gan.discriminator_state_dict())
    if config.get("ema"):
        plain, _ = rustgan.export_torch(gan, ema=False)
        with torch.no_grad():
            assert (call(plain, z, labels) - gan.generate(z, ema=False, labels=labels)).abs().max().item() < 1e-5


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_weights_trained_in_pytorch_load_into_rustgan(config):
    gan = rustgan.GAN(**config, seed=0, device="cpu")
    torch.manual_seed(0)
    generator = torch_modules.generator(gan.config)
    discriminator = torch_modules.discriminator(gan.config)
    # A few optimiser steps in PyTorch move the weights and batch-norm statistics.
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-2)
    labels = labels_for(gan, 16)
    for _ in range(3):
        loss = -call(discriminator, call(generator, torch.randn(16, gan.latent_width), labels), labels).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    rustgan.import_torch(gan, generator=generator, discriminator=discriminator.state_dict())
    generator.eval()
    z = gan.latent(16, seed=1)
    with torch.no_grad():
        assert (call(generator, z, labels) - gan.generate(z, labels=labels)).abs().max().item() < 1e-5
        if config.get("ema"):  # the EMA copy restarts from the imported weights
            assert (call(generator, z, labels) - gan.generate(z, ema=True, labels=labels)).abs().max().item() < 1e-5
    exported = gan.discriminator_state_dict()
    for name, tensor in discriminator.state_dict().items():
        assert torch.equal(exported[name].float(), tensor.float()) or name.endswith("num_batches_tracked")


def test_mismatched_state_dicts_are_named():
    gan = tiny_dcgan()
    state = gan.generator_state_dict()
    missing = {k: v for k, v in state.items() if k != "0.weight"}
    with pytest.raises(rustgan.InvalidArgumentError, match="'0.weight' is missing"):
        gan.load_generator_state_dict(missing)
    wrong_shape = dict(state, **{"0.weight": torch.zeros(3, 3)})
    with pytest.raises(rustgan.InvalidArgumentError, match="'0.weight' has shape"):
        gan.load_generator_state_dict(wrong_shape)
    with pytest.raises(rustgan.InvalidArgumentError, match="unexpected tensor 'extra'"):
        gan.load_generator_state_dict(dict(state, extra=torch.zeros(1)))
    with pytest.raises(rustgan.InvalidArgumentError, match="NaN"):
        gan.load_generator_state_dict(dict(state, **{"0.weight": torch.full_like(state["0.weight"], float("nan"))}))
    with pytest.raises(rustgan.InvalidArgumentError, match="dtype"):
        gan.load_generator_state_dict(dict(state, **{"0.weight": state["0.weight"].long()}))
    with pytest.raises(rustgan.ArgumentTypeError):
        gan.load_discriminator_state_dict([1, 2])
    # A failed load leaves the weights as they were.
    assert all(torch.equal(v, state[k]) for k, v in gan.generator_state_dict().items())


@pytest.mark.parametrize(
    "options, named",
    [
        (dict(data_shape=(2,), arch="mlp", clusters=3), "MLP generator with num_classes or clusters"),
        (dict(data_shape=(3, 32, 32), arch="resnet", num_classes=3, conditional_batch_norm=False), "beside z"),
    ],
)
def test_networks_without_a_pytorch_twin_are_refused(options, named):
    gan = tiny_dcgan(**options)
    with pytest.raises(rustgan.InvalidArgumentError, match=named):
        rustgan.export_torch(gan)
