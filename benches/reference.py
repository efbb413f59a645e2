"""The PyTorch eager reference: the same networks, initialisation, losses and Adam settings
as rustgan, trained the way a PyTorch user writes it (zero_grad, D step on real and
detached fake, G step), optionally under CPU autocast to bfloat16 or compiled by
torch.compile (inductor)."""

from __future__ import annotations

import torch
from rustgan.torch_modules import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    ResNetDiscriminator,
    ResNetGenerator,
)
from torch import nn
from torch.nn import functional as F


def initialise(module: nn.Module, xavier: bool = False) -> None:
    for m in module.modules():
        if xavier and isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)


class ReferenceGAN:
    def __init__(
        self,
        data_shape,
        arch: str,
        latent_dim: int = 64,
        base_channels: int = 64,
        hidden_dim: int = 128,
        depth: int = 3,
        autocast: bool = False,
        compile: bool = False,
    ):
        if arch == "resnet":
            self.generator = ResNetGenerator(data_shape, latent_dim, base_channels)
            self.discriminator = ResNetDiscriminator(data_shape, base_channels)
            initialise(self.generator, xavier=True)
            initialise(self.discriminator, xavier=True)
        elif arch == "dcgan":
            self.generator = DCGANGenerator(data_shape, latent_dim, base_channels)
            self.discriminator = DCGANDiscriminator(data_shape, base_channels)
            initialise(self.generator)
            initialise(self.discriminator)
        else:
            self.generator = MLPGenerator(data_shape, latent_dim, hidden_dim, depth)
            self.discriminator = MLPDiscriminator(data_shape, hidden_dim, depth)
        self.latent_dim = latent_dim
        self.autocast = autocast
        if compile:  # inductor; the first steps compile, so time them apart
            self.generator, self.discriminator = torch.compile(self.generator), torch.compile(self.discriminator)
        self.g_optim = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_optim = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor) -> dict:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast):
            return self._step(real)

    def _step(self, real: torch.Tensor) -> dict:
        z = torch.randn(len(real), self.latent_dim)
        fake = self.generator(z)
        self.d_optim.zero_grad()
        d_loss = F.softplus(-self.discriminator(real)).mean() + F.softplus(self.discriminator(fake.detach())).mean()
        d_loss.backward()
        self.d_optim.step()
        self.g_optim.zero_grad()
        g_loss = F.softplus(-self.discriminator(fake)).mean()
        g_loss.backward()
        self.g_optim.step()
        return {"loss/d": d_loss.item(), "loss/g": g_loss.item()}
