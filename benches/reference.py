"""The PyTorch eager reference: the same networks, initialisation, losses and Adam settings
as rustgan, trained the way a PyTorch user writes it (zero_grad, D step on real and
detached fake, G step)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def dcgan_generator(latent_dim: int, channels: int, size: int, base: int) -> nn.Module:
    start, doublings = {28: (7, 2), 32: (4, 3), 64: (4, 4)}[size]
    width = base << (doublings - 1)
    layers = [nn.ConvTranspose2d(latent_dim, width, start, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    for _ in range(1, doublings):
        layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU()]
        width //= 2
    layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(nn.Unflatten(1, (latent_dim, 1, 1)), *layers)


def dcgan_discriminator(channels: int, size: int, base: int) -> nn.Module:
    end, halvings = {28: (7, 2), 32: (4, 3), 64: (4, 4)}[size]
    width = base
    layers = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    for _ in range(1, halvings):
        layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2)]
        width *= 2
    layers += [nn.Conv2d(width, 1, end, 1, 0), nn.Flatten(0)]
    return nn.Sequential(*layers)


def mlp(inputs: int, hidden: int, depth: int, outputs: int, activation) -> nn.Module:
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(inputs, hidden), activation()]
        inputs = hidden
    return nn.Sequential(*layers, nn.Linear(inputs, outputs))


def initialise(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)


class ReferenceGAN:
    def __init__(self, data_shape, arch: str, latent_dim: int = 64, base_channels: int = 64, hidden_dim: int = 128, depth: int = 3):
        if arch == "dcgan":
            channels, size, _ = data_shape
            self.generator = dcgan_generator(latent_dim, channels, size, base_channels)
            self.discriminator = dcgan_discriminator(channels, size, base_channels)
            initialise(self.generator)
            initialise(self.discriminator)
        else:
            self.generator = mlp(latent_dim, hidden_dim, depth, data_shape[0], nn.ReLU)
            self.discriminator = nn.Sequential(mlp(data_shape[0], hidden_dim, depth, 1, lambda: nn.LeakyReLU(0.2)), nn.Flatten(0))
        self.latent_dim = latent_dim
        self.g_optim = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_optim = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor) -> dict:
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
