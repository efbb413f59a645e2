"""Plain PyTorch versions of rustgan's networks, for users who continue in PyTorch.

Each module is an `nn.Sequential` whose parameter names and shapes are those of the Rust
network, so `export_torch(gan)` loads with ``load_state_dict(strict=True)`` and computes
the same function; `import_torch` brings weights trained in PyTorch back into rustgan.

    G, D = rustgan.export_torch(gan)          # nn.Modules in eval mode
    images = G(gan.latent(16, seed=0))        # == gan.generate(...) to float precision
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
from torch import nn

from .errors import ArgumentTypeError, InvalidArgumentError

# Image size -> (resolution where G starts / D ends, number of factor-2 steps to the image).
_PYRAMID = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _spectrally_normalised(layer: nn.Module) -> torch.Tensor:
    """`layer.weight` divided by its largest singular value, estimated by one power
    iteration per training forward pass from the buffer `weight_u`, as rustgan computes it
    (the names differ from `torch.nn.utils.spectral_norm`'s)."""
    matrix = layer.weight.flatten(1)
    with torch.no_grad():
        v = nn.functional.normalize(matrix.t() @ layer.weight_u, dim=0, eps=1e-12)
        if layer.training:
            layer.weight_u.copy_(nn.functional.normalize(matrix @ v, dim=0, eps=1e-12))
    return layer.weight / (layer.weight_u @ (matrix @ v))


def _add_singular_vector(layer: nn.Module) -> None:
    """The buffer `weight_u` of a spectrally normalised layer, from rustgan's fixed start."""
    rows = layer.weight.shape[0]
    layer.register_buffer("weight_u", torch.full((rows,), rows**-0.5))


class SpectralNormConv2d(nn.Conv2d):
    """A spectrally normalised convolution, as rustgan's ``spectral_norm=True`` D layers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_singular_vector(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, _spectrally_normalised(self), self.bias)


class SpectralNormLinear(nn.Linear):
    """A spectrally normalised linear layer, as `SpectralNormConv2d`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_singular_vector(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, _spectrally_normalised(self), self.bias)


def _codes(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Class labels ``[N]`` as one-hot codes; codes ``[N, classes]`` stay as they are."""
    return labels.float() if labels.dim() == 2 else nn.functional.one_hot(labels.long(), classes).float()


def _with_projection(logits, features, embed: nn.Embedding | None, labels):
    """D's logits plus the projection discriminator's <embed[y], features>, when
    conditioned (Miyato & Koyama 2018)."""
    if embed is None or labels is None:
        return logits
    embedded = _codes(labels, embed.num_embeddings) @ embed.weight
    return logits + (features.flatten(1) * embedded).sum(1)


class DCGANGenerator(nn.Sequential):
    """z ``[N, latent_dim]`` -> images ``[N, C, S, S]`` in [-1, 1]. Conditioned on
    `classes`, it reads a one-hot code after z: `labels` ``[N]`` (or codes), or a
    self-conditioned GAN's latents, which carry it."""

    def __init__(
        self, data_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 64, base_channels: int = 64, classes: int = 0
    ):
        channels, size = data_shape[0], data_shape[1]
        start, doublings = _PYRAMID[size]
        width = base_channels << (doublings - 1)
        inputs = latent_dim + classes
        layers = [nn.ConvTranspose2d(inputs, width, start, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        for _ in range(1, doublings):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(),
            ]
            width //= 2
        super().__init__(*layers, nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())
        self.inputs, self.classes = inputs, classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            z = torch.cat([z, _codes(labels, self.classes)], 1)
        return super().forward(z.view(-1, self.inputs, 1, 1))


class DCGANDiscriminator(nn.Sequential):
    """images ``[N, C, S, S]`` -> logits ``[N / pac]`` (PacGAN judges `pac` images at once);
    without batch norm when trained with a gradient penalty or spectral norm. Conditioned
    on `classes`, a projection discriminator: it adds <embed[y], features> for `labels`."""

    def __init__(
        self,
        data_shape: Sequence[int] = (1, 28, 28),
        base_channels: int = 64,
        batch_norm: bool = True,
        pac: int = 1,
        spectral_norm: bool = False,
        classes: int = 0,
    ):
        channels, size = data_shape[0] * pac, data_shape[1]
        end, halvings = _PYRAMID[size]
        conv = SpectralNormConv2d if spectral_norm else nn.Conv2d
        width = base_channels
        layers = [conv(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        for _ in range(1, halvings):
            layers.append(conv(width, width * 2, 4, 2, 1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width * 2))
            layers.append(nn.LeakyReLU(0.2))
            width *= 2
        super().__init__(*layers, conv(width, 1, end, 1, 0))
        self.packed_shape = (channels, size, size)
        self.embed = nn.Embedding(classes, width * end * end) if classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        *body, head = (layer for name, layer in self.named_children() if name.isdigit())
        features = nn.Sequential(*body)(x.reshape(-1, *self.packed_shape))
        return _with_projection(head(features).view(-1), features, self.embed, labels)


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return nn.functional.interpolate(x, scale_factor=2, mode="nearest")


def _downsample(x: torch.Tensor) -> torch.Tensor:
    return nn.functional.avg_pool2d(x, 2)


def _resnet_pyramid(size: int) -> tuple[int, int]:
    """(the resolution G starts and D ends at, the number of blocks between it and `size`)."""
    start = 7 if size == 28 else 4
    return start, (size // start).bit_length() - 1


class ClassBatchNorm(nn.BatchNorm2d):
    """Conditional batch norm (SNGAN): normalised features scaled by 1 + gain·y and
    shifted by shift·y for one-hot classes y."""

    def __init__(self, channels: int, classes: int):
        super().__init__(channels, affine=False)
        self.gain, self.shift = (nn.Linear(classes, channels, bias=False) for _ in range(2))

    def forward(self, x: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        per_item = lambda layer: layer(codes)[:, :, None, None]  # noqa: E731
        return super().forward(x) * (per_item(self.gain) + 1) + per_item(self.shift)


class UpBlock(nn.Module):
    """Residual up-block of G: ``[N, inputs, r, r]`` -> ``[N, outputs, 2r, 2r]``; with
    `classes`, its batch norms are conditional."""

    def __init__(self, inputs: int, outputs: int, classes: int = 0):
        super().__init__()
        norm = (lambda c: ClassBatchNorm(c, classes)) if classes else nn.BatchNorm2d
        self.bn1, self.conv1 = norm(inputs), nn.Conv2d(inputs, outputs, 3, 1, 1)
        self.bn2, self.conv2 = norm(outputs), nn.Conv2d(outputs, outputs, 3, 1, 1)
        self.shortcut = nn.Conv2d(inputs, outputs, 1)

    def forward(self, x: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        norm = (lambda layer, h: layer(h, codes)) if codes is not None else (lambda layer, h: layer(h))
        h = self.conv1(_upsample(torch.relu(norm(self.bn1, x))))
        h = self.conv2(torch.relu(norm(self.bn2, h)))
        return h + self.shortcut(_upsample(x))


class DownBlock(nn.Module):
    """Residual down-block of D: ``[N, inputs, r, r]`` -> ``[N, outputs, r/2, r/2]``; the
    `first` block sees images, so it starts with its convolution and pools its shortcut first."""

    def __init__(self, inputs: int, outputs: int, first: bool = False, spectral_norm: bool = False):
        super().__init__()
        conv = SpectralNormConv2d if spectral_norm else nn.Conv2d
        self.conv1, self.conv2 = conv(inputs, outputs, 3, 1, 1), conv(outputs, outputs, 3, 1, 1)
        self.shortcut = conv(inputs, outputs, 1)
        self.first = first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(torch.relu(self.conv1(x if self.first else torch.relu(x))))
        shortcut = self.shortcut(_downsample(x)) if self.first else _downsample(self.shortcut(x))
        return _downsample(h) + shortcut


class ResNetGenerator(nn.Sequential):
    """z ``[N, latent_dim]`` -> images ``[N, C, S, S]``: SNGAN's residual generator, widths
    halving from ``base_channels * 2^blocks`` as the resolution doubles. Conditioned on
    `classes`, it reads them through conditional batch norm: from `labels` ``[N]`` (or
    codes), or from the code a self-conditioned GAN's latents carry after z."""

    def __init__(
        self, data_shape: Sequence[int] = (3, 32, 32), latent_dim: int = 64, base_channels: int = 64, classes: int = 0
    ):
        channels, size = data_shape[0], data_shape[1]
        start, blocks = _resnet_pyramid(size)
        width = base_channels << blocks
        layers: list[nn.Module] = [nn.Linear(latent_dim, width * start * start), nn.Unflatten(1, (width, start, start))]
        for block in range(blocks):
            outputs = base_channels << (blocks - 1 - block)
            layers.append(UpBlock(width, outputs, classes))
            width = outputs
        super().__init__(*layers, nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())
        self.latent_dim, self.classes = latent_dim, classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if not self.classes:
            return super().forward(z)
        codes = _codes(labels, self.classes) if labels is not None else z[:, self.latent_dim :]
        h = z[:, : self.latent_dim]
        for layer in self:
            h = layer(h, codes) if isinstance(layer, UpBlock) else layer(h)
        return h


class ResNetDiscriminator(nn.Module):
    """images ``[N, C, S, S]`` -> logits ``[N / pac]``: residual down-blocks, ReLU, a sum over
    positions and a linear head."""

    def __init__(
        self,
        data_shape: Sequence[int] = (3, 32, 32),
        base_channels: int = 64,
        pac: int = 1,
        spectral_norm: bool = False,
        classes: int = 0,
    ):
        super().__init__()
        channels, size = data_shape[0] * pac, data_shape[1]
        _, blocks = _resnet_pyramid(size)
        widths = [channels] + [base_channels << block for block in range(blocks)]
        self.blocks = nn.Sequential(
            *(DownBlock(widths[i], widths[i + 1], i == 0, spectral_norm) for i in range(blocks))
        )
        self.head = (SpectralNormLinear if spectral_norm else nn.Linear)(widths[-1], 1)
        self.embed = nn.Embedding(classes, widths[-1]) if classes else None
        self.packed_shape = (channels, size, size)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = torch.relu(self.blocks(x.reshape(-1, *self.packed_shape))).sum((2, 3))
        return _with_projection(self.head(features).view(-1), features, self.embed, labels)


class Maxout(nn.Module):
    """The largest of each consecutive run of `pieces` features (Goodfellow et al. 2013)."""

    def __init__(self, pieces: int):
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1, self.pieces).amax(2)


class MLPGenerator(nn.Sequential):
    """z ``[N, latent_dim]`` -> items ``[N, *data_shape]``; with `batch_norm`, PacGAN's 2D
    generator."""

    def __init__(
        self,
        data_shape: Sequence[int] = (2,),
        latent_dim: int = 64,
        hidden_dim: int = 128,
        depth: int = 3,
        batch_norm: bool = False,
    ):
        layers: list[nn.Module] = []
        inputs = latent_dim
        for _ in range(depth):
            layers.append(nn.Linear(inputs, hidden_dim))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_dim))
            layers.append(nn.ReLU())
            inputs = hidden_dim
        super().__init__(*layers, nn.Linear(inputs, math.prod(data_shape)))
        self.data_shape = tuple(data_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return super().forward(z).view(-1, *self.data_shape)


class MLPDiscriminator(nn.Sequential):
    """items ``[N, *data_shape]`` -> logits ``[N / pac]``; with ``maxout > 1``, maxout units
    as PacGAN's 2D discriminator."""

    def __init__(
        self, data_shape: Sequence[int] = (2,), hidden_dim: int = 128, depth: int = 3, pac: int = 1, maxout: int = 1
    ):
        self.packed_size = math.prod(data_shape) * pac
        layers: list[nn.Module] = []
        inputs = self.packed_size
        for _ in range(depth):
            layers += [nn.Linear(inputs, hidden_dim * maxout), Maxout(maxout) if maxout > 1 else nn.LeakyReLU(0.2)]
            inputs = hidden_dim
        super().__init__(*layers, nn.Linear(inputs, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, self.packed_size)).view(-1)


def _fastgan_width(base: int, resolution: int) -> int:
    """rustgan's FastGAN widths: the paper's multiples of `base`, halved."""
    factor = {4: 8, 8: 4, 16: 2, 32: 1, 64: 1, 128: 0.5}.get(resolution, 0.25)
    return max(int(base * factor), 1)


class _FastGANUp(nn.Module):
    def __init__(self, inputs: int, outputs: int):
        super().__init__()
        self.conv = nn.Conv2d(inputs, 2 * outputs, 3, 1, 1, bias=False)
        self.norm = nn.BatchNorm2d(2 * outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.glu(self.norm(self.conv(_upsample(x))), 1)


class _Excitation(nn.Module):
    def __init__(self, small: int, large: int):
        super().__init__()
        self.squeeze = nn.Conv2d(small, large, 4, 1, 0, bias=False)
        self.expand = nn.Conv2d(large, large, 1, 1, 0, bias=False)

    def forward(self, small: torch.Tensor, large: torch.Tensor) -> torch.Tensor:
        gate = self.squeeze(nn.functional.adaptive_avg_pool2d(small, 4))
        return large * torch.sigmoid(self.expand(gate * torch.sigmoid(gate)))


class FastGANGenerator(nn.Module):
    """z ``[N, latent_dim]`` -> images ``[N, C, S, S]``: FastGAN's lite generator (Liu et
    al. 2021) with skip-layer excitation from 64 px on, as ``arch="projected"``."""

    def __init__(self, data_shape: Sequence[int] = (3, 64, 64), latent_dim: int = 64, base_channels: int = 16):
        super().__init__()
        channels, size = data_shape[0], data_shape[1]
        start = _fastgan_width(base_channels, 4)
        self.add_module("0", nn.ConvTranspose2d(latent_dim, 2 * start, 4, 1, 0, bias=False))
        self.add_module("1", nn.BatchNorm2d(2 * start))
        self.up, self.excite = nn.ModuleDict(), nn.ModuleDict()
        resolution = 8
        while resolution <= size:
            width = _fastgan_width(base_channels, resolution)
            self.up[str(resolution)] = _FastGANUp(_fastgan_width(base_channels, resolution // 2), width)
            if resolution >= 64:
                self.excite[str(resolution)] = _Excitation(_fastgan_width(base_channels, resolution // 16), width)
            resolution *= 2
        self.to_image = nn.Conv2d(_fastgan_width(base_channels, size), channels, 3, 1, 1, bias=False)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        first = getattr(self, "0"), getattr(self, "1")
        features = [nn.functional.glu(first[1](first[0](z.view(-1, self.latent_dim, 1, 1))), 1)]
        for name, block in self.up.items():
            h = block(features[-1])
            if name in self.excite:
                h = self.excite[name](features[-4], h)  # 16x smaller
            features.append(h)
        return torch.tanh(self.to_image(features[-1]))


class _ProjectedHead(nn.Module):
    """One stage's discriminator: strided conv4x4, batch norm, LeakyReLU down to 8x8 or
    less, then a conv3x3 logit map pooled to `side` x `side`: ``[N, side**2]`` judged
    positions."""

    def __init__(self, inputs: int, resolution: int, widest: int, spectral_norm: bool, batch_norm: bool, side: int = 2):
        super().__init__()
        self.side = side
        conv = SpectralNormConv2d if spectral_norm else nn.Conv2d
        self.blocks = []
        while resolution > 8:
            outputs = min(inputs * 2, widest)
            block = nn.Module()
            block.conv = conv(inputs, outputs, 4, 2, 1, bias=not batch_norm)
            block.norm = nn.BatchNorm2d(outputs) if batch_norm else nn.Identity()
            self.add_module(str(len(self.blocks)), block)
            self.blocks.append(block)
            inputs, resolution = outputs, resolution // 2
        self.logits = conv(inputs, 1, 3, 1, 1, bias=not batch_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = nn.functional.leaky_relu(block.norm(block.conv(x)), 0.2)
        return nn.functional.adaptive_avg_pool2d(self.logits(x), self.side).flatten(1)


class _PixelHead(_ProjectedHead):
    """`pixel_head`: the images average-pooled to at most 32 px, a 3x3 convolution, then a
    head judging 4x4 positions."""

    SIZE = 32

    def __init__(self, shape: Sequence[int], width: int, spectral_norm: bool, batch_norm: bool):
        super().__init__(width, min(shape[-1], self.SIZE), width * 8, spectral_norm, batch_norm, side=4)
        conv = SpectralNormConv2d if spectral_norm else nn.Conv2d
        self.from_image = conv(shape[0], width, 3, 1, 1, bias=not batch_norm)
        self.factor = max(shape[-1] // self.SIZE, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.avg_pool2d(images, self.factor) if self.factor > 1 else images
        return super().forward(nn.functional.leaky_relu(self.from_image(pooled), 0.2))


class ProjectedDiscriminator(nn.Module):
    """images ``[N, C, S, S]`` -> logits ``[N]``, as ``arch="projected"``: frozen
    EfficientNet-Lite0 stages (not part of the state dict), fixed random channel and scale
    mixing, and one small discriminator per stage (and of the pixels of images of `shape`
    with `pixel_head`); the logit is the mean of their judged positions (`positions`)."""

    STAGE_CHANNELS = (24, 40, 112, 192)

    def __init__(
        self,
        base_channels: int = 16,
        projected_size: int = 64,
        spectral_norm: bool = False,
        batch_norm: bool = True,
        pixel_head: bool = False,
        shape: Sequence[int] = (3, 64, 64),
    ):
        from . import efficientnet

        super().__init__()
        network = efficientnet.frozen_network()
        self._stages = (network,)  # a tuple keeps it out of the state dict and the optimiser
        self.projected_size = projected_size
        widths = [base_channels << i for i in range(4)]
        self.channel_mixing = nn.ModuleList(nn.Conv2d(c, w, 1) for c, w in zip(self.STAGE_CHANNELS, widths))
        self.scale_mixing = nn.ModuleList(nn.Conv2d(widths[i + 1], widths[i], 1) for i in range(3))
        for fixed in (*self.channel_mixing.parameters(), *self.scale_mixing.parameters()):
            fixed.requires_grad_(False)
        self.heads = nn.ModuleList(
            _ProjectedHead(widths[i], projected_size // (4 << i), base_channels * 8, spectral_norm, batch_norm)
            for i in range(4)
        )
        if pixel_head:
            self.pixel_head = _PixelHead(shape, base_channels, spectral_norm, batch_norm)

    def stages(self, images: torch.Tensor) -> list[torch.Tensor]:
        from . import efficientnet

        return efficientnet.stages(self._stages[0], images, self.projected_size)

    def positions(self, images: torch.Tensor) -> torch.Tensor:
        """The logits of every stage's judged positions ``[N, 16]`` (and the pixel head's,
        ``[N, 32]`` in all), which the loss judges one by one."""
        mixed = [mixing(stage) for mixing, stage in zip(self.channel_mixing, self.stages(images))]
        for i in reversed(range(3)):
            deeper = nn.functional.interpolate(mixed[i + 1], size=mixed[i].shape[2:], mode="bilinear")
            mixed[i] = mixed[i] + self.scale_mixing[i](deeper)
        logits = [head(x) for head, x in zip(self.heads, mixed)]
        if hasattr(self, "pixel_head"):
            logits.append(self.pixel_head(images))
        return torch.cat(logits, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.positions(images).mean(1)


def _unet_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """Sides of the U-Net encoder's outputs: halving until a side would drop below 1."""
    sizes = []
    while min(height, width) >= 2 and len(sizes) < 8:
        height, width = height // 2, width // 2
        sizes.append((height, width))
    return sizes


class _UNetLevel(nn.Module):
    def __init__(self, conv: nn.Module, channels: int, norm: bool):
        super().__init__()
        self.conv = conv
        if norm:
            self.norm = nn.BatchNorm2d(channels)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net: images ``[N, in_C, H, W]`` -> ``[N, out_C, H, W]`` in [-1, 1].
    Encoder level ``down.i`` halves the image; decoder level ``up.i`` doubles it back and
    reads the encoder's features of its size beside its own. Dropout in the three
    innermost decoder levels acts in train mode only."""

    def __init__(
        self,
        in_shape: Sequence[int] = (1, 28, 28),
        out_shape: Sequence[int] = (1, 28, 28),
        base_channels: int = 64,
        dropout: float = 0.5,
    ):
        super().__init__()
        height, width = in_shape[1], in_shape[2]
        sizes = _unet_sizes(height, width)
        levels = len(sizes)
        channels = [base_channels << min(level, 3) for level in range(levels)]
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for level in range(levels):
            inputs = in_shape[0] if level == 0 else channels[level - 1]
            normalised = 0 < level < levels - 1
            conv = nn.Conv2d(inputs, channels[level], 4, 2, 1, bias=not normalised)
            self.down.append(_UNetLevel(conv, channels[level], normalised))
        for level in range(levels):
            inputs = channels[level] if level == levels - 1 else 2 * channels[level]
            outputs = out_shape[0] if level == 0 else channels[level - 1]
            target = (height, width) if level == 0 else sizes[level - 1]
            extra = (target[0] - 2 * sizes[level][0], target[1] - 2 * sizes[level][1])
            conv = nn.ConvTranspose2d(inputs, outputs, 4, 2, 1, output_padding=extra, bias=level == 0)
            self.up.append(_UNetLevel(conv, outputs, level > 0))
        self.dropout_levels = {level for level in range(1, levels) if level + 3 >= levels}
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips, h = [], x
        for level, down in enumerate(self.down):
            h = down.conv(h if level == 0 else nn.functional.leaky_relu(h, 0.2))
            if hasattr(down, "norm"):
                h = down.norm(h)
            skips.append(h)
        for level in reversed(range(len(self.up))):
            up = self.up[level]
            if level < len(self.up) - 1:
                h = torch.cat([h, skips[level]], 1)
            h = up.conv(torch.relu(h))
            if hasattr(up, "norm"):
                h = up.norm(h)
            if level in self.dropout_levels:
                h = self.dropout(h)
        return torch.tanh(h)


class _ReflectConv(nn.Conv2d):
    """A convolution after reflection padding that keeps the sides (halves them at stride 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.kernel_size[0] // 2
        return super().forward(nn.functional.pad(x, (pad,) * 4, mode="reflect"))


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = _ReflectConv(channels, channels, 3)
        self.conv2 = _ReflectConv(channels, channels, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        norm = nn.functional.instance_norm
        return h + norm(self.conv2(torch.relu(norm(self.conv1(h)))))


class ResnetTranslator(nn.Module):
    """CycleGAN's ResNet generator: images ``[N, in_C, H, W]`` -> ``[N, out_C, H, W]`` in
    [-1, 1], H and W multiples of 4. A 7x7 convolution, two stride-2 ones, `blocks`
    residual blocks at a quarter of the size, two nearest-neighbour doublings each with a
    3x3 convolution, and a 7x7 one; reflection padding and instance norm (no learnt scale)
    throughout."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base_channels: int = 64, blocks: int = 6):
        super().__init__()
        self.stem = _ReflectConv(in_channels, base_channels, 7)
        self.down = nn.ModuleList(_ReflectConv(base_channels << i, base_channels << (i + 1), 3, 2) for i in range(2))
        self.blocks = nn.ModuleList(_ResidualBlock(base_channels * 4) for _ in range(blocks))
        self.up = nn.ModuleList(_ReflectConv(base_channels << (2 - i), base_channels << (1 - i), 3) for i in range(2))
        self.head = _ReflectConv(base_channels, out_channels, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = nn.functional.instance_norm
        h = torch.relu(norm(self.stem(x)))
        for down in self.down:
            h = torch.relu(norm(down(h)))
        for block in self.blocks:
            h = block(h)
        for up in self.up:
            h = torch.relu(norm(up(nn.functional.interpolate(h, scale_factor=2.0, mode="nearest"))))
        return torch.tanh(self.head(h))


class PatchDiscriminator(nn.Sequential):
    """pix2pix's PatchGAN: an input and an output image, stacked along the channels, ->
    logits ``[N, 1, h, w]``, one per patch. `layers` stride-2 convolutions, then two
    stride-1 ones."""

    def __init__(
        self,
        in_shape: Sequence[int] = (1, 28, 28),
        out_shape: Sequence[int] = (1, 28, 28),
        base_channels: int = 64,
        layers: int = 2,
    ):
        inputs, modules = in_shape[0] + out_shape[0], []
        for layer in range(layers + 1):
            outputs = base_channels << min(layer, 3)
            normalised = layer > 0
            modules.append(nn.Conv2d(inputs, outputs, 4, 2 if layer < layers else 1, 1, bias=not normalised))
            if normalised:
                modules.append(nn.BatchNorm2d(outputs))
            modules.append(nn.LeakyReLU(0.2))
            inputs = outputs
        super().__init__(*modules, nn.Conv2d(inputs, 1, 4, 1, 1))

    def forward(self, inputs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat([inputs, outputs], 1))


class ImageDiscriminator(PatchDiscriminator):
    """CycleGAN's PatchGAN: images ``[N, C, H, W]`` of one domain -> logits
    ``[N, 1, h, w]``, one per patch; pix2pix's network without the input beside them."""

    def __init__(self, shape: Sequence[int] = (1, 28, 28), base_channels: int = 64, layers: int = 2):
        super().__init__((0, *shape[1:]), shape, base_channels, layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return nn.Sequential.forward(self, images)


def _patch_layers(config: Mapping, shape: Sequence[int]) -> int:
    return config["patch_layers"] or (2 if min(shape[1:]) <= 32 else 3)


def cycle_networks(config: Mapping) -> dict[str, nn.Module]:
    """The PyTorch networks of a `CycleGAN.config`, by the names of its checkpoint files:
    ``generator_ab``, ``generator_ba``, ``discriminator_a``, ``discriminator_b``."""
    a, b, width = config["shape_a"], config["shape_b"], config["base_channels"]
    net = config.get("generator", "unet")  # saved before the choice: the U-Net

    def generator(source: Sequence[int], target: Sequence[int]) -> nn.Module:
        if net == "unet":
            return UNetGenerator(source, target, width, config["dropout"])
        return ResnetTranslator(source[0], target[0], width, {"resnet6": 6, "resnet9": 9}[net])

    return {
        "generator_ab": generator(a, b),
        "generator_ba": generator(b, a),
        "discriminator_a": ImageDiscriminator(a, width, _patch_layers(config, a)),
        "discriminator_b": ImageDiscriminator(b, width, _patch_layers(config, b)),
    }


def _classes(config: Mapping) -> int:
    """The classes a GAN's networks are conditioned on: the caller's, or its clusters."""
    if config.get("clusters") and not config.get("cluster_code", True):
        raise InvalidArgumentError(
            "rustgan.torch_modules has no generator for clusters picked by z's first coordinate "
            "(cluster_code=False, GANs saved before cluster codes)"
        )
    return config.get("num_classes") or config.get("clusters") or 0


def generator(config: Mapping) -> nn.Module:
    """The PyTorch generator for a rustgan config (`GAN.config` or `Translator.config`)."""
    if "in_shape" in config:
        return UNetGenerator(config["in_shape"], config["out_shape"], config["base_channels"], config["dropout"])
    shape, latent, classes = config["data_shape"], config["latent_dim"], _classes(config)
    if config["arch"] == "resnet" and config.get("conditional_batch_norm") and classes:
        return ResNetGenerator(shape, latent, config["base_channels"], classes)
    if config["arch"] == "resnet" and classes:
        raise InvalidArgumentError(
            "rustgan.torch_modules has no residual generator reading its classes beside z "
            "(conditional_batch_norm=False)"
        )
    if config["arch"] == "resnet":
        return ResNetGenerator(shape, latent, config["base_channels"])
    if config["arch"] == "projected":
        if classes:
            raise InvalidArgumentError("rustgan.torch_modules has no projected generator with num_classes or clusters")
        return FastGANGenerator(shape, latent, config["base_channels"])
    if config["arch"] == "dcgan":
        return DCGANGenerator(shape, latent, config["base_channels"], classes)
    if classes:
        raise InvalidArgumentError("rustgan.torch_modules has no MLP generator with num_classes or clusters")
    return MLPGenerator(shape, latent, config["hidden_dim"], config["depth"], config.get("batch_norm_g", False))


def discriminator(config: Mapping) -> nn.Module:
    """The PyTorch discriminator for a rustgan config (`GAN.config` or `Translator.config`)."""
    if "in_shape" in config:
        layers = _patch_layers(config, config["in_shape"])
        return PatchDiscriminator(config["in_shape"], config["out_shape"], config["base_channels"], layers)
    shape, pac, classes = config["data_shape"], config.get("pac", 1), _classes(config)
    spectral_norm = config.get("spectral_norm", False)
    penalty = config["loss"] == "wgan-gp" or config.get("gradient_penalty")
    if config["arch"] == "projected" and not classes:
        pixel_head = config.get("pixel_head", False)
        return ProjectedDiscriminator(
            config["base_channels"], config["projected_size"], spectral_norm, not penalty, pixel_head, shape
        )
    if config["arch"] == "dcgan":
        batch_norm = not (penalty or spectral_norm)
        return DCGANDiscriminator(shape, config["base_channels"], batch_norm, pac, spectral_norm, classes)
    if config["arch"] == "resnet":
        return ResNetDiscriminator(shape, config["base_channels"], pac, spectral_norm, classes)
    if classes or spectral_norm:
        raise InvalidArgumentError(
            f"rustgan.torch_modules has no {config['arch']} discriminator with num_classes, clusters or spectral_norm"
        )
    hidden_dim, depth = config.get("hidden_dim_d") or config["hidden_dim"], config.get("depth_d") or config["depth"]
    return MLPDiscriminator(shape, hidden_dim, depth, pac, config.get("maxout", 1))


def export_torch(gan, ema: bool = True) -> tuple[nn.Module, ...]:
    """The generator (the EMA one when there is one and `ema`) and discriminator of a
    `GAN` or `Translator` as PyTorch modules on the CPU, in eval mode; for a `CycleGAN`
    the four networks: generator a→b, generator b→a, the discriminators of a and of b."""
    config = gan.config
    if "shape_a" in config:
        modules = tuple(cycle_networks(config).values())  # in the order of the states
        states = [
            gan.generator_state_dict(ema, to="b"),
            gan.generator_state_dict(ema, to="a"),
            gan.discriminator_state_dict("a"),
            gan.discriminator_state_dict("b"),
        ]
    else:
        modules = generator(config), discriminator(config)
        states = [gan.generator_state_dict(ema), gan.discriminator_state_dict()]
    for module, state in zip(modules, states):
        module.load_state_dict(state, strict=True)
        module.eval()
    return modules


def import_torch(
    gan, generator: nn.Module | Mapping | None = None, discriminator: nn.Module | Mapping | None = None
) -> None:
    """Loads PyTorch weights (modules or state dicts of the classes above) into `gan`, a
    `GAN` or `Translator`."""
    if generator is None and discriminator is None:
        raise InvalidArgumentError("give a generator, a discriminator or both")
    if generator is not None:
        gan.load_generator_state_dict(_state_dict(generator))
    if discriminator is not None:
        gan.load_discriminator_state_dict(_state_dict(discriminator))


def _state_dict(source: nn.Module | Mapping) -> Mapping:
    if isinstance(source, nn.Module):
        return source.state_dict()
    if isinstance(source, Mapping):
        return source
    raise ArgumentTypeError(f"expected an nn.Module or a state dict, got {type(source).__name__}")
