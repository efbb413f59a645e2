"""`rustgan.GAN`: the Python face of a GAN whose networks, losses and training loop run
in Rust."""

from __future__ import annotations

import json
import math
import warnings
from os import PathLike
from typing import Sequence

import torch
from tqdm.auto import tqdm

from . import _rustgan
from .data import as_batch
from .errors import InvalidArgumentError

ARCHS = ("dcgan", "mlp")
LOSSES = ("bce", "lsgan", "hinge", "wgan-gp")


def _int(name: str, value, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be finite, got {value}")
    return float(value)


def _choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InvalidArgumentError(f"unknown {name} {value!r}: choose one of {', '.join(map(repr, choices))}")
    return value


class GAN:
    """A generator and a discriminator trained together.

    Args:
        data_shape: shape of one item, ``(C, H, W)`` for images (DCGAN: 28, 32 or 64 px)
            or ``(D,)`` for vectors.
        arch: ``"dcgan"`` (images) or ``"mlp"`` (vectors, e.g. 2D points).
        latent_dim: size of the latent code z ~ N(0, I).
        loss: ``"bce"`` (non-saturating), ``"lsgan"``, ``"hinge"`` or ``"wgan-gp"``.
        base_channels: DCGAN width at full resolution (doubled at each halving).
        hidden_dim, depth: width and number of hidden layers of the MLP networks.
        lr_g, lr_d, betas_g, betas_d: Adam settings of the generator and discriminator.
        n_critic: discriminator updates per generator update.
        gp_weight: gradient-penalty weight for ``"wgan-gp"``.
        ema: decay of an exponential moving average of G (e.g. 0.999); `sample` then
            uses the average by default.
        seed: seeds initialisation, latents and batch order; same seed, same data and
            same steps give identical weights on CPU.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    def __init__(
        self,
        data_shape: int | Sequence[int] = (1, 28, 28),
        arch: str = "dcgan",
        latent_dim: int = 64,
        loss: str = "bce",
        *,
        base_channels: int = 64,
        hidden_dim: int = 128,
        depth: int = 3,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        gp_weight: float = 10.0,
        ema: float | None = None,
        seed: int = 0,
        device: str = "auto",
    ):
        if isinstance(data_shape, int) and not isinstance(data_shape, bool):
            data_shape = (data_shape,)
        if not isinstance(data_shape, (tuple, list, torch.Size)) or not data_shape:
            raise TypeError(f"data_shape must be a non-empty tuple of ints, got {data_shape!r}")
        config = {
            "data_shape": [_int("data_shape entry", d, 1) for d in data_shape],
            "arch": _choice("arch", arch, ARCHS),
            "latent_dim": _int("latent_dim", latent_dim, 1),
            "loss": _choice("loss", loss, LOSSES),
            "base_channels": _int("base_channels", base_channels, 1),
            "hidden_dim": _int("hidden_dim", hidden_dim, 1),
            "depth": _int("depth", depth, 1),
            "lr_g": _float("lr_g", lr_g),
            "lr_d": _float("lr_d", lr_d),
            "betas_g": [_float("betas_g", b) for b in betas_g],
            "betas_d": [_float("betas_d", b) for b in betas_d],
            "n_critic": _int("n_critic", n_critic, 1),
            "gp_weight": _float("gp_weight", gp_weight),
            "ema": None if ema is None else _float("ema", ema),
            "seed": _int("seed", seed, 0),
        }
        if not isinstance(device, str):
            raise TypeError(f"device must be a string, got {type(device).__name__}")
        self._core = _rustgan.GanCore(json.dumps(config), device)

    @classmethod
    def _wrap(cls, core) -> "GAN":
        gan = cls.__new__(cls)
        gan._core = core
        return gan

    # --- description -----------------------------------------------------------------
    @property
    def config(self) -> dict:
        """The configuration, as saved in checkpoints."""
        return json.loads(self._core.config_json)

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.config["data_shape"])

    @property
    def latent_dim(self) -> int:
        return self.config["latent_dim"]

    @property
    def steps_done(self) -> int:
        """Training steps taken so far (kept across save/load)."""
        return self._core.steps_done

    @property
    def device(self) -> str:
        return self._core.device

    def __repr__(self) -> str:
        c = self.config
        return (
            f"GAN(data_shape={tuple(c['data_shape'])}, arch={c['arch']!r}, latent_dim={c['latent_dim']}, "
            f"loss={c['loss']!r}, device={self.device!r}, steps_done={self.steps_done})"
        )

    # --- training --------------------------------------------------------------------
    def step(self, x, on_nan: str = "raise") -> dict[str, float]:
        """One fused training step on the batch `x` (D update, G update, EMA), in Rust
        with the GIL released. Returns the losses, e.g. ``{"loss/d": .., "loss/g": ..}``.

        With ``on_nan="raise"`` a NaN/inf loss raises `NonFiniteLossError` naming the
        step; with ``"skip"`` the bad update is dropped and ``"nan/skipped"`` is 1.
        """
        batch = as_batch(x, self.data_shape, "batch")
        return dict(self._core.step(batch, on_nan))

    def fit(
        self,
        x,
        steps: int = 1000,
        batch_size: int = 64,
        *,
        log_every: int = 50,
        progress: bool | tqdm = True,
        on_nan: str = "raise",
    ) -> list[dict[str, float]]:
        """Trains for `steps` steps on the data set `x`; the loop runs in Rust.

        Batches are drawn without replacement from a per-epoch permutation seeded by the
        GAN's seed. Returns a record whenever the step count reaches a multiple of
        `log_every`: ``"step"`` and the mean of every statistic since the last record. Ctrl-C stops cleanly and returns the history so
        far. `progress` is a flag or an existing tqdm bar to advance.
        """
        steps = _int("steps", steps, 0)
        batch_size = _int("batch_size", batch_size, 1)
        log_every = _int("log_every", log_every, 1)
        data = as_batch(x, self.data_shape, "training data")
        if batch_size > len(data):
            raise InvalidArgumentError(f"batch_size {batch_size} is larger than the data ({len(data)} items)")
        own_bar = progress is True
        bar = tqdm(total=steps, desc="training", unit="step", dynamic_ncols=True) if own_bar else progress or None
        start = bar.n if bar is not None else 0

        def monitor(done: int, record):
            if bar is not None:
                bar.update(start + done - bar.n)
                if record is not None:
                    stats = dict(record)
                    bar.set_postfix({k.split("/", 1)[1]: f"{stats[k]:.3f}" for k in ("loss/d", "loss/g")})

        try:
            history, interrupted = self._core.fit(data, steps, batch_size, log_every, on_nan, monitor)
        finally:
            if own_bar:
                bar.close()
        if interrupted:
            warnings.warn(f"training interrupted after {self.steps_done} steps", stacklevel=2)
        records = [dict(record) for record in history]
        for record in records:
            record["step"] = int(record["step"])
        return records

    # --- generation ------------------------------------------------------------------
    def latent(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor:
        """`n` latent codes ``[n, latent_dim]`` ~ N(0, I); reproducible with `seed`.
        `truncation` < 1 pulls them toward the mean latent (the truncation trick: less
        variety, more typical images)."""
        truncation = _float("truncation", truncation)
        if not 0.0 <= truncation <= 1.0:
            raise InvalidArgumentError(f"truncation must lie in [0, 1], got {truncation}")
        z = self._core.latent(_int("n", n, 1), None if seed is None else _int("seed", seed, 0))
        return z * truncation if truncation != 1.0 else z

    def generate(self, z: torch.Tensor, ema: bool = True) -> torch.Tensor:
        """Renders latent codes ``[N, latent_dim]`` (with the EMA generator if any and `ema`)."""
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if not torch.isfinite(z).all():
            raise InvalidArgumentError("z contains NaN or infinite values")
        return self._core.generate(z.detach(), bool(ema))

    def sample(self, n: int = 64, seed: int | None = None, ema: bool = True, truncation: float = 1.0) -> torch.Tensor:
        """`n` generated items ``[n, *data_shape]`` (images in [-1, 1]); reproducible with
        `seed`; `truncation` as in `latent`. Batch norm uses its running statistics, so
        each sample is independent of the others."""
        return self.generate(self.latent(n, seed, truncation), ema)

    # --- checkpoints -----------------------------------------------------------------
    def save(self, path: str | PathLike) -> None:
        """Writes a checkpoint directory: config.json, generator / discriminator (and
        EMA) weights and optimiser moments as safetensors, state.json with the step and
        random streams. Replaces an existing checkpoint only once the new one is complete."""
        self._core.save(str(path))

    @classmethod
    def load(cls, path: str | PathLike, device: str = "auto") -> "GAN":
        """Loads a checkpoint written by `save`; training continues where it stopped.
        Raises `CheckpointError` naming what is missing or wrong."""
        return cls._wrap(_rustgan.GanCore.load(str(path), device))
