"""The PyTorch eager reference: the same networks, initialisation, losses and Adam settings
as rustgan, trained the way a PyTorch user writes it (zero_grad, D step on real and
detached fake, G step), optionally under CPU autocast to bfloat16 or compiled by
torch.compile (inductor); and CycleGAN as pytorch-CycleGAN-and-pix2pix trains it."""

from __future__ import annotations

import random

import torch
from rustgan.torch_modules import (
    DCGANDiscriminator,
    DCGANGenerator,
    FastGANGenerator,
    ImageDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    ProjectedDiscriminator,
    ResNetDiscriminator,
    ResNetGenerator,
    UNetGenerator,
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
        pixel_head: bool = False,
    ):
        if arch == "resnet":
            self.generator = ResNetGenerator(data_shape, latent_dim, base_channels)
            self.discriminator = ResNetDiscriminator(data_shape, base_channels)
            initialise(self.generator, xavier=True)
            initialise(self.discriminator, xavier=True)
        elif arch == "projected":  # the frozen feature network is outside D's parameters
            self.generator = FastGANGenerator(data_shape, latent_dim, base_channels)
            self.discriminator = ProjectedDiscriminator(
                base_channels, projected_size=data_shape[-1], pixel_head=pixel_head, shape=data_shape
            )
            initialise(self.generator)
            initialise(self.discriminator)
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
        judge = getattr(self.discriminator, "positions", self.discriminator)  # a projected D judges 16 positions
        d_loss = F.softplus(-judge(real)).mean() + F.softplus(judge(fake.detach())).mean()
        d_loss.backward()
        self.d_optim.step()
        self.g_optim.zero_grad()
        g_loss = F.softplus(-judge(fake)).mean()
        g_loss.backward()
        self.g_optim.step()
        return {"loss/d": d_loss.item(), "loss/g": g_loss.item()}


class ImagePool:
    """pytorch-CycleGAN-and-pix2pix's history of translations: once full, each new one
    is passed on or swapped for a random old one, by a coin flip."""

    def __init__(self, capacity: int = 50):
        self.capacity, self.images = capacity, []

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        out = []
        for image in batch.detach():
            if len(self.images) < self.capacity:
                self.images.append(image)
                out.append(image)
            elif random.random() < 0.5:
                slot = random.randrange(self.capacity)
                out.append(self.images[slot])
                self.images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)


class ReferenceCycleGAN:
    """rustgan's CycleGAN defaults in eager PyTorch: U-Net generators without dropout,
    PatchGAN discriminators, LSGAN, cycle L1 x 10, identity L1 x 5, pools of 50. A batch
    ``[N, 2, C, H, W]`` holds an image of domain a and one of domain b per item."""

    def __init__(self, shape, base_channels: int = 32, patch_layers: int = 1):
        self.to_b, self.to_a = (UNetGenerator(shape, shape, base_channels, dropout=0.0) for _ in range(2))
        self.judge_a, self.judge_b = (ImageDiscriminator(shape, base_channels, patch_layers) for _ in range(2))
        for module in (self.to_b, self.to_a, self.judge_a, self.judge_b):
            initialise(module)
        generators = [*self.to_b.parameters(), *self.to_a.parameters()]
        discriminators = [*self.judge_a.parameters(), *self.judge_b.parameters()]
        self.g_optim = torch.optim.Adam(generators, lr=2e-4, betas=(0.5, 0.999))
        self.d_optim = torch.optim.Adam(discriminators, lr=2e-4, betas=(0.5, 0.999))
        self.pool_a, self.pool_b = ImagePool(), ImagePool()

    def step(self, batch: torch.Tensor) -> dict:
        a, b = batch[:, 0], batch[:, 1]
        fake_b, fake_a = self.to_b(a), self.to_a(b)
        self.d_optim.zero_grad()
        d_loss = 0.0
        for judge, real, fake in (
            (self.judge_a, a, self.pool_a.query(fake_a)),
            (self.judge_b, b, self.pool_b.query(fake_b)),
        ):
            d_loss = d_loss + 0.5 * (((judge(real) - 1) ** 2).mean() * 0.5 + (judge(fake) ** 2).mean() * 0.5)
        d_loss.backward()
        self.d_optim.step()
        self.g_optim.zero_grad()
        self._judges_learn(False)  # as pytorch-CycleGAN-and-pix2pix: no gradients for D in G's step
        adversarial = ((self.judge_b(fake_b) - 1) ** 2).mean() * 0.5 + ((self.judge_a(fake_a) - 1) ** 2).mean() * 0.5
        cycle = (self.to_a(fake_b) - a).abs().mean() + (self.to_b(fake_a) - b).abs().mean()
        identity = (self.to_b(b) - b).abs().mean() + (self.to_a(a) - a).abs().mean()
        g_loss = adversarial + 10 * cycle + 5 * identity
        g_loss.backward()
        self.g_optim.step()
        self._judges_learn(True)
        return {"loss/d": d_loss.item(), "loss/g": adversarial.item()}

    def _judges_learn(self, learn: bool) -> None:
        for parameter in (*self.judge_a.parameters(), *self.judge_b.parameters()):
            parameter.requires_grad_(learn)
