"""`rustgan.CycleGAN`: unpaired image-to-image translation, whose networks, losses and
training loop run in Rust."""

from __future__ import annotations

import functools
from os import PathLike
from typing import Mapping, Sequence

import torch
from tqdm.auto import tqdm

from . import _rustgan
from ._checks import _device, _text
from .data import as_batch
from .errors import InvalidArgumentError
from .native import NativeModel, OptionSpec, option_specs

# Names, defaults and choices of CycleGAN's options, and their checks, live in Rust.
OPTIONS: dict[str, OptionSpec] = option_specs(_rustgan.cycle_options())
DOMAINS = ("a", "b")


def _default(name: str):
    return OPTIONS[name].default


def _domain(name: str, value) -> str:
    value = _text(name, value)
    if value not in DOMAINS:
        raise InvalidArgumentError(f"{name} must be 'a' or 'b', got {value!r}")
    return value


class CycleGAN(NativeModel):
    """CycleGAN (Zhu et al. 2017): translation between two domains learnt from two
    unpaired sets of images. Generator a→b and generator b→a are pix2pix's U-Nets or
    CycleGAN's ResNet translators, each judged by a PatchGAN of the domain it draws; besides fooling them (LSGAN), a round
    trip a→b→a must give back the input (the cycle L1) and an image already of the
    target domain must pass unchanged (the identity L1). Each discriminator learns from a
    pool of past translations as well as the newest.

    Args:
        shape_a, shape_b: ``(C, H, W)`` of one image of each domain; the sides are the
            same, 16 to 512 px, any channel counts.
        generator: the generators' network. ``"unet"``: pix2pix's U-Net, whose skips from
            every level keep the input's layout. ``"resnet6"`` / ``"resnet9"``: CycleGAN's
            ResNet translator with 6 or 9 residual blocks at a quarter of the size (sides
            a multiple of 4), reflection padding and instance norm, which repaints
            textures more freely.
        base_channels: width of the networks' first layer (deeper layers double it).
        cycle_weight: weight of the cycle L1 (CycleGAN: 10).
        identity_weight: weight of the identity L1 (CycleGAN: half the cycle weight). It
            keeps colours and content in place; 0 lets a strong style change more, and is
            required when the domains' channel counts differ.
        adversarial_weight: weight of the adversarial losses.
        pool_size: past translations each discriminator draws half its fakes from.
        dropout: dropout of the U-Net's innermost decoder layers while training.
        loss: ``"lsgan"`` (CycleGAN), ``"bce"`` or ``"hinge"``.
        patch_layers: stride-2 layers of the PatchGANs. 0 (the default) takes the deepest,
            up to CycleGAN's 3, whose patches (16, 34 or 70 px for 1, 2 or 3 layers) fit in
            the images, so the discriminators judge style rather than content.
        lr_g, lr_d, betas_g, betas_d: Adam settings of the generators and discriminators.
        lr_half_life: all learning rates halve every `lr_half_life` steps (0: constant),
            so the translations settle instead of drifting on.
        ema: decay of an exponential moving average of both generators; `translate`
            then uses the averages by default.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (mixed precision, as for `GAN`).
        seed: seeds initialisation, the pools' draws and batch order.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    For example, sklearn's 8x8 digits into MNIST's handwriting, without a single pair::

        small, _ = rustgan.data.digits(size=28)
        mnist, _ = rustgan.data.mnist()
        cycle = rustgan.CycleGAN((1, 28, 28), (1, 28, 28))
        cycle.fit(small, mnist, steps=3000)
        handwritten = cycle.translate(small[:8], to="b")
    """

    def __init__(
        self,
        shape_a: int | Sequence[int] = _default("shape_a"),
        shape_b: int | Sequence[int] = _default("shape_b"),
        *,
        generator: str = _default("generator"),
        cycle_weight: float = _default("cycle_weight"),
        identity_weight: float = _default("identity_weight"),
        adversarial_weight: float = _default("adversarial_weight"),
        pool_size: int = _default("pool_size"),
        dropout: float = _default("dropout"),
        patch_layers: int = _default("patch_layers"),
        loss: str = _default("loss"),
        base_channels: int = _default("base_channels"),
        lr_g: float = _default("lr_g"),
        lr_d: float = _default("lr_d"),
        betas_g: tuple[float, float] = _default("betas_g"),
        betas_d: tuple[float, float] = _default("betas_d"),
        lr_half_life: int = _default("lr_half_life"),
        ema: float | None = _default("ema"),
        precision: str = _default("precision"),
        seed: int = _default("seed"),
        device: str = "auto",
    ):
        options = {name: value for name, value in locals().items() if name in OPTIONS}
        self._core = _rustgan.CycleGanCore(options, _device(device))

    _CORE = _rustgan.CycleGanCore

    # --- description -----------------------------------------------------------------
    @functools.cached_property
    def shape_a(self) -> tuple[int, ...]:
        return tuple(self.config["shape_a"])

    @functools.cached_property
    def shape_b(self) -> tuple[int, ...]:
        return tuple(self.config["shape_b"])

    def shape(self, domain: str) -> tuple[int, ...]:
        """The shape of one image of `domain`, "a" or "b"."""
        return self.shape_a if _domain("domain", domain) == "a" else self.shape_b

    def __repr__(self) -> str:
        c = self.config
        return (
            f"CycleGAN(shape_a={self.shape_a}, shape_b={self.shape_b}, cycle_weight={c['cycle_weight']}, "
            f"identity_weight={c['identity_weight']}, device={self.device!r}, steps_done={self.steps_done})"
        )

    # --- training --------------------------------------------------------------------
    def step(self, images_a, images_b, on_nan: str = "raise") -> dict[str, float]:
        """One fused training step on a batch of each domain (unrelated item by item):
        both discriminators, then both generators and their EMAs, in Rust with the GIL
        released. Returns the losses: ``"loss/d"``, ``"loss/g"`` (the adversarial part),
        ``"loss/g/cycle"`` and ``"loss/g/identity"``. NaNs are handled as by `GAN.step`."""
        return self._step(
            as_batch(images_a, self.shape_a, "batch images_a"),
            as_batch(images_b, self.shape_b, "batch images_b"),
            on_nan,
        )

    def fit(
        self,
        images_a,
        images_b,
        steps: int = 3000,
        batch_size: int = 32,
        *,
        log_every: int = 50,
        progress: bool | tqdm = True,
        on_nan: str = "raise",
        checkpoint_every: int | None = None,
        out: str | PathLike | None = None,
        log_partial: bool = True,
    ) -> list[dict[str, float]]:
        """Trains for `steps` steps on two unpaired sets, each visited in its own seeded
        per-epoch order (the sets may differ in size), as `GAN.fit` trains on data: a
        record of mean losses every `log_every` steps, a progress bar, Ctrl-C stopping
        cleanly, checkpoints to `out` every `checkpoint_every` steps and at the end, and
        data parallelism under torch.distributed."""
        return self._fit(
            as_batch(images_a, self.shape_a, "training images_a"),
            as_batch(images_b, self.shape_b, "training images_b"),
            steps,
            batch_size,
            log_every=log_every,
            progress=progress,
            on_nan=on_nan,
            checkpoint_every=checkpoint_every,
            out=out,
            log_partial=log_partial,
        )

    # --- use -------------------------------------------------------------------------
    def translate(self, images, to: str = "b", ema: bool = True) -> torch.Tensor:
        """Images of the other domain translated into domain `to` ("a" or "b"), in
        [-1, 1], with the EMA generator when there is one and `ema`; batch norm uses its
        running statistics, so the same input gives the same output."""
        to = _domain("to", to)
        source = "a" if to == "b" else "b"
        return self._core.translate(
            as_batch(images, self.shape(source), f"images of domain {source}"), to, bool(ema)
        ).cpu()

    # --- PyTorch interoperability ---------------------------------------------------
    def generator_state_dict(self, ema: bool = True, to: str = "b") -> dict[str, torch.Tensor]:
        """The weights of the generator into domain `to` (the EMA copy when there is one
        and `ema`) as a state dict for `rustgan.torch_modules.UNetGenerator`."""
        name = "generator_ab" if _domain("to", to) == "b" else "generator_ba"
        return self._state_dict(name + "_ema" if ema and self._core.has_ema else name)

    def discriminator_state_dict(self, domain: str = "b") -> dict[str, torch.Tensor]:
        """The weights of the discriminator of `domain`, for
        `rustgan.torch_modules.ImageDiscriminator`."""
        return self._state_dict(f"discriminator_{_domain('domain', domain)}")

    def load_generator_state_dict(self, state: Mapping[str, torch.Tensor], to: str = "b") -> None:
        """Replaces the weights of the generator into domain `to`; its EMA copy restarts
        from them."""
        self._load_state_dict("generator_ab" if _domain("to", to) == "b" else "generator_ba", state)

    def load_discriminator_state_dict(self, state: Mapping[str, torch.Tensor], domain: str = "b") -> None:
        """Replaces the weights of the discriminator of `domain`."""
        self._load_state_dict(f"discriminator_{_domain('domain', domain)}", state)


__all__ = ["CycleGAN", "DOMAINS"]
