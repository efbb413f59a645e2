"""`rustgan.Translator`: pix2pix image-to-image translation, whose networks, losses and
training loop run in Rust."""

from __future__ import annotations

import functools
from os import PathLike
from typing import Sequence

import torch
from tqdm.auto import tqdm

from . import _rustgan
from ._checks import _device
from .data import as_batch
from .native import NativeModel, OptionSpec, option_specs

# Names, defaults and choices of Translator's options, and their checks, live in Rust.
OPTIONS: dict[str, OptionSpec] = option_specs(_rustgan.translator_options())


def _default(name: str):
    return OPTIONS[name].default


class Translator(NativeModel):
    """pix2pix (Isola et al. 2017): a U-Net generator that turns input images into output
    images, trained against a PatchGAN discriminator on (input, output) pairs and towards
    the targets by an L1 loss.

    Args:
        in_shape, out_shape: ``(C, H, W)`` of one input and one output image; the sides
            are the same, 16 to 512 px, any channel counts.
        base_channels: width of the networks' first layer (deeper layers double it, up
            to 8x); 32 is ample at 28-64 px, pix2pix uses 64 at 256 px.
        l1_weight: weight of the mean absolute error against the targets (pix2pix: 100).
        adversarial_weight: weight of the adversarial loss; 0 trains on L1 alone, whose
            outputs are blurrier averages of what could be there.
        dropout: dropout of the generator's three innermost decoder layers while
            training, its only noise; `translate` runs without it.
        loss: ``"bce"`` (pix2pix), ``"lsgan"`` or ``"hinge"``.
        patch_layers: stride-2 layers of the PatchGAN, which set the patch it judges
            (0: 2 up to 32 px, so a patch spans the image, else 3: 70 px patches).
        lr_g, lr_d, betas_g, betas_d: Adam settings of the generator and discriminator.
        lr_half_life: steps over which both learning rates halve (0: constant).
        ema: decay of an exponential moving average of the generator, which `translate`
            uses by default (it translates better than the trained weights); None keeps
            no average.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (mixed precision, as for `GAN`).
        seed: seeds initialisation, dropout and batch order.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Paired data for completion, super-resolution and sketch-to-image comes from
    `rustgan.data.pairs`::

        inputs, targets = rustgan.data.pairs(images, task="superres")
        translator = rustgan.Translator(inputs.shape[1:], targets.shape[1:])
        translator.fit(inputs, targets, steps=2500)
        sharp = translator.translate(inputs[:8])
    """

    def __init__(
        self,
        in_shape: int | Sequence[int] = _default("in_shape"),
        out_shape: int | Sequence[int] = _default("out_shape"),
        *,
        l1_weight: float = _default("l1_weight"),
        adversarial_weight: float = _default("adversarial_weight"),
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
        self._core = _rustgan.TranslatorCore(options, _device(device))

    _CORE = _rustgan.TranslatorCore

    # --- description -----------------------------------------------------------------
    @functools.cached_property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.config["in_shape"])

    @functools.cached_property
    def out_shape(self) -> tuple[int, ...]:
        return tuple(self.config["out_shape"])

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Translator(in_shape={self.in_shape}, out_shape={self.out_shape}, l1_weight={c['l1_weight']}, "
            f"adversarial_weight={c['adversarial_weight']}, device={self.device!r}, steps_done={self.steps_done})"
        )

    # --- training --------------------------------------------------------------------
    def step(self, inputs, targets, on_nan: str = "raise") -> dict[str, float]:
        """One fused training step on a batch of pairs: D update, G update, EMA, in Rust
        with the GIL released. Returns the losses: ``"loss/d"``, ``"loss/g"`` (the
        adversarial part) and ``"loss/g/l1"``. NaNs are handled as by `GAN.step`."""
        return self._step(
            as_batch(inputs, self.in_shape, "batch inputs"), as_batch(targets, self.out_shape, "batch targets"), on_nan
        )

    def fit(
        self,
        inputs,
        targets,
        steps: int = 2000,
        batch_size: int = 64,
        *,
        log_every: int = 50,
        progress: bool | tqdm = True,
        on_nan: str = "raise",
        checkpoint_every: int | None = None,
        out: str | PathLike | None = None,
        log_partial: bool = True,
    ) -> list[dict[str, float]]:
        """Trains for `steps` steps on the pairs ``(inputs[i], targets[i])``, as
        `GAN.fit` trains on data: batches from a seeded per-epoch permutation, a record
        of mean losses every `log_every` steps, a progress bar, Ctrl-C stopping cleanly,
        checkpoints to `out` every `checkpoint_every` steps and at the end, and data
        parallelism under torch.distributed."""
        return self._fit(
            as_batch(inputs, self.in_shape, "training inputs"),
            as_batch(targets, self.out_shape, "training targets"),
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
    def translate(self, inputs, ema: bool = True) -> torch.Tensor:
        """Outputs ``[N, *out_shape]`` in [-1, 1] for inputs ``[N, *in_shape]``, with the
        EMA generator when there is one and `ema`; batch norm uses its running
        statistics and dropout is off, so the same input gives the same output."""
        return self._core.translate(as_batch(inputs, self.in_shape, "inputs"), bool(ema)).cpu()


__all__ = ["Translator"]
