"""`rustgan.GAN`: the Python face of a GAN whose networks, losses and training loop run
in Rust."""

from __future__ import annotations

import functools
import json
import numbers
from os import PathLike
from pathlib import Path
from typing import Sequence

import torch
from tqdm.auto import tqdm

from . import _rustgan, efficientnet, metrics
from ._checks import _device, _float, _int, _seed, _text
from .data import as_batch, as_dataset, as_labels, as_tensor
from .native import NativeModel, OptionSpec, option_specs

# Names, defaults and choices of GAN's options, and their checks, live in Rust.
OPTIONS: dict[str, OptionSpec] = option_specs(_rustgan.gan_options())
ARCHS = OPTIONS["arch"].choices
LOSSES = OPTIONS["loss"].choices
AUGMENTS = OPTIONS["augment"].choices
PRECISIONS = OPTIONS["precision"].choices
NAN_POLICIES = tuple(_rustgan.NAN_POLICIES)
GUIDES = tuple(_rustgan.GUIDES)


def _default(name: str):
    return OPTIONS[name].default


def recipe(kind: str, items: int | None = None, size: int | None = None) -> dict:
    """Recommended settings for runs of a few minutes on small data of a `kind`,
    ``"images"`` (grey), ``"colour"`` (colour images) or ``"vectors"``: the `GAN` options
    that differ from the defaults (the colour recipe names its ``arch``), and
    ``batch_size`` and ``steps`` for `fit`. The command line trains with them::

        options = rustgan.recipe("vectors")
        batch_size, steps = options.pop("batch_size"), options.pop("steps")
        gan = rustgan.GAN((2,), arch="mlp", **options)
        gan.fit(points, steps=steps, batch_size=batch_size)

    ``"pacgan"`` gives PacGAN's published 2D networks and optimiser instead (Lin et al.
    2018: a generator with batch norm, a maxout discriminator, Adam 1e-4 with beta1 0.8,
    batch 100, packing 2), ``arch`` included, to compare against:
    ``rustgan.GAN((2,), **options)``.

    Given the number of training `items`, the self-conditioning clusters are as many as
    the data carries: at most one per 20 items, and none below two. Given the images'
    `size` in pixels, colour images of 64 px get a DCGAN with DiffAugment instead of
    the residual family, which wins below that, and larger ones the projected family with
    a pixel head (``benches/README.md``).
    """
    items = None if items is None else _int("items", items)
    return dict(_rustgan.recipe(_text("kind", kind), items, None if size is None else _int("size", size)))


def _saved_arch(path) -> str | None:
    """The `arch` a checkpoint's config names, where it can be read; the native load
    reports every other problem."""
    try:
        with open(Path(path) / "config.json") as file:
            return json.load(file).get("arch")
    except (OSError, ValueError, TypeError, AttributeError):
        return None


class GAN(NativeModel):
    """A generator and a discriminator trained together.

    Args:
        data_shape: shape of one item, ``(C, H, W)`` for images (DCGAN: 28, 32 or 64 px;
            residual: 28, 32, 64 or 128 px; projected: 32, 64, 128 or 256 px) or ``(D,)``
            for vectors.
        arch: ``"dcgan"``, ``"resnet"`` (SNGAN-style residual networks) or
            ``"projected"`` for images, ``"mlp"`` for vectors (e.g. 2D points).
            ``"projected"`` (Projected GAN, Sauer et al. 2021) pairs a FastGAN generator
            (32-256 px) with a discriminator that judges images through the frozen
            ImageNet features of the shipped EfficientNet-Lite0: fixed random mixing of
            its first four stages, and one small discriminator per stage. The feature
            network is never trained nor saved; a checkpoint keeps a fingerprint of its
            weights. An FID on EfficientNet-Lite0 features flatters such a GAN.
        projected_size: ``arch="projected"``: the size (64 to 256 px, a multiple of 32)
            images are resized to before the feature network.
        pixel_head: ``arch="projected"``: D also judges the images' pixels with a small
            discriminator of its own, weighed as much as all feature stages together, as
            Vision-aided GAN (Kumari et al. 2022) pairs a pixel D with pretrained ones.
            ImageNet features barely tell colours apart; pixels do.
        latent_dim: size of the latent code z ~ N(0, I).
        loss: ``"bce"`` (non-saturating), ``"lsgan"``, ``"hinge"``, ``"wgan-gp"`` or
            ``"relativistic"`` (R3GAN's relativistic pairing: D minimises
            ``softplus(-(D(real) - D(fake)))`` over pairs of a real and a generated item,
            G the mirror; use it with `r1_gamma` and `r2_gamma`).
        base_channels: width of the image networks at full resolution (doubled at each
            halving).
        hidden_dim, depth: width and number of hidden layers of the MLP networks.
        batch_norm_g: batch norm after each hidden layer of the MLP generator.
        hidden_dim_d, depth_d: width and number of hidden layers of the MLP discriminator
            (0: `hidden_dim`, `depth`).
        maxout: maxout pieces per hidden unit of the MLP discriminator (1: LeakyReLU).
            PacGAN's own 2D networks are ``recipe("pacgan")``.
        lr_g, lr_d, betas_g, betas_d: Adam settings of the generator and discriminator.
        lr_half_life: both learning rates halve every `lr_half_life` steps (0: constant).
        n_critic: discriminator updates per generator update.
        gp_weight: weight of the gradient penalty of ``"wgan-gp"`` (and of
            `gradient_penalty`).
        gradient_penalty: adds WGAN-GP's penalty on D's input gradients to any loss.
        r1_gamma: R1 penalty ``r1_gamma / 2 * E|grad D(x_real)|^2`` (0: off); 10 is usual
            for the non-saturating loss, ~0.1 for 2D points.
        r1_every: lazy regularisation: the R1 (and R2) penalties are applied every
            `r1_every` steps, scaled up to match (StyleGAN2 uses 16).
        r2_gamma: R2 penalty ``r2_gamma / 2 * E|grad D(G(z))|^2`` on generated items (0:
            off); R3GAN sets it equal to `r1_gamma`.
        spectral_norm: spectrally normalised D layers (SN-GAN); D then has no batch norm.
        pac: PacGAN packing: D judges `pac` samples at once, which exposes mode collapse
            to it. Batch sizes must be multiples of `pac`.
        top_k: top-k training (Sinha et al. 2020): G learns only from the fakes D rates
            most real, a share that anneals from 1 as ``0.999 ** step`` down to `top_k`
            (1: off; the paper's floor is 0.5).
        augment: DiffAugment policy for small image sets: any of ``"color"``,
            ``"translation"``, ``"cutout"``, as a list or a comma-separated string.
        augment_target: adaptive augmentation (StyleGAN2-ADA, Karras et al. 2020): each
            of `augment`'s transformations reaches an image with a probability p that
            starts at 0 and is adjusted every 4 steps, up while E[sign(D(real))] is above
            this target (D grows sure of the training images), down while below; 0.6 is
            the paper's. The history logs ``"augment/p"`` and ``"augment/real_sign"``;
            `augment_probability` is p now. 0: `augment` applies always.
        num_classes: > 0 makes a class-conditional GAN (one-hot label into G, or its
            conditional batch norm with ``arch="resnet"``; projection discriminator); `fit`,
            `step`, `generate` and `sample` then take labels.
        clusters: self-conditioning (Liu et al. 2020): the first `fit` splits the data into
            this many k-means clusters, and G and D are conditioned on them as on classes.
            The GAN stays unconditional to its callers: `latent` draws z and a cluster at
            the data's shares, and a latent carries its cluster as a one-hot code after z
            (``[N, latent_dim + clusters]``, see `latent_width`). Editing moves z and
            searches or sets the code apart. 0: off.
        recluster_every: a self-conditioned GAN re-clusters its data on D's features
            every this many steps (Liu et al. 2020), so the clusters come to follow what
            the images show rather than where their pixels lie; each new cluster takes
            the number of the old one it shares most items with. 0 keeps the clusters of
            pixels that the first `fit` finds.
        cluster_features: what a self-conditioned GAN's clusters are fitted on:
            ``"pixels"``, or ``"efficientnet"``, the pooled ImageNet features of the shipped
            EfficientNet-Lite0 at 64 px, which `fit` computes once (with a progress bar
            when that takes more than a few seconds) and which tell kinds of objects apart
            where pixels group colours and places. Images outside the training data take
            the cluster of their nearest mean image. An FID on EfficientNet-Lite0 features
            flatters such a GAN; `evaluate` says so.
        cluster_code: False keeps the rule of GANs saved before cluster codes, which
            loads them unchanged: the quantile of z's first coordinate picks the cluster.
        conditional_batch_norm: a conditioned ``arch="resnet"`` G reads its class (or
            cluster) through conditional batch norm, a learnt scale and shift per class in
            every up-block (SNGAN), instead of a one-hot label beside z. Other families
            always take the one-hot.
        ema: decay of an exponential moving average of G (e.g. 0.999); `sample` then
            uses the average by default. The decay ramps up as
            ``min(ema, (1 + t) / (10 + t))`` after ``t`` steps, so the average follows G
            closely at first and is usable from the start.
        precision: ``"fp32"`` or ``"bf16"``: mixed precision as autocast does it (bf16
            convolutions and matmuls; fp32 weights, optimiser state and losses). Fast on
            CUDA and on CPUs with AVX512-BF16 or AMX, slow elsewhere. ``"auto"`` takes bf16
            on a CPU that computes it natively (and where ``ONEDNN_MAX_CPU_ISA`` allows
            it), fp32 elsewhere; a checkpoint keeps ``"auto"``, so each machine decides.
        seed: seeds initialisation, latents and batch order; same seed, same data and
            same steps give identical weights on CPU.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    def __init__(
        self,
        data_shape: int | Sequence[int] = _default("data_shape"),
        arch: str = _default("arch"),
        latent_dim: int = _default("latent_dim"),
        loss: str = _default("loss"),
        *,
        projected_size: int = _default("projected_size"),
        pixel_head: bool = _default("pixel_head"),
        hidden_dim: int = _default("hidden_dim"),
        depth: int = _default("depth"),
        batch_norm_g: bool = _default("batch_norm_g"),
        hidden_dim_d: int = _default("hidden_dim_d"),
        depth_d: int = _default("depth_d"),
        maxout: int = _default("maxout"),
        n_critic: int = _default("n_critic"),
        gp_weight: float = _default("gp_weight"),
        gradient_penalty: bool = _default("gradient_penalty"),
        r1_gamma: float = _default("r1_gamma"),
        r1_every: int = _default("r1_every"),
        r2_gamma: float = _default("r2_gamma"),
        spectral_norm: bool = _default("spectral_norm"),
        pac: int = _default("pac"),
        top_k: float = _default("top_k"),
        augment: str | Sequence[str] = _default("augment"),
        augment_target: float = _default("augment_target"),
        num_classes: int = _default("num_classes"),
        clusters: int = _default("clusters"),
        recluster_every: int = _default("recluster_every"),
        cluster_features: str = _default("cluster_features"),
        cluster_code: bool = _default("cluster_code"),
        conditional_batch_norm: bool = _default("conditional_batch_norm"),
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
        if isinstance(arch, str) and arch == "projected":  # other values are checked natively
            efficientnet.install_in_native()
        self._core = _rustgan.GanCore(options, _device(device))

    _CORE = _rustgan.GanCore

    @classmethod
    def load(cls, path: str | PathLike, device: str = "auto") -> GAN:
        """Loads a checkpoint written by `save`; training continues where it stopped.
        Raises `CheckpointError` naming what is missing or wrong; a projected
        discriminator's checkpoint is refused when the installed feature network differs
        from the one it was trained through."""
        if _saved_arch(path) == "projected":
            efficientnet.install_in_native()
        return super().load(path, device)

    # --- description -----------------------------------------------------------------
    # The configuration never changes, so what every step reads of it is parsed once.
    @functools.cached_property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.config["data_shape"])

    @functools.cached_property
    def latent_dim(self) -> int:
        return self.config["latent_dim"]

    @functools.cached_property
    def latent_width(self) -> int:
        """Width of the latents `latent` draws: `latent_dim`, plus the cluster code of a
        self-conditioned GAN."""
        code = self.config["clusters"] if self.config["cluster_code"] else 0
        return self.latent_dim + code

    @functools.cached_property
    def num_classes(self) -> int:
        """Number of classes of a conditional GAN; 0 when unconditional."""
        return self.config["num_classes"]

    def __repr__(self) -> str:
        c = self.config
        return (
            f"GAN(data_shape={tuple(c['data_shape'])}, arch={c['arch']!r}, latent_dim={c['latent_dim']}, "
            f"loss={c['loss']!r}, device={self.device!r}, steps_done={self.steps_done})"
        )

    # --- training --------------------------------------------------------------------
    def step(self, x, on_nan: str = "raise", *, labels=None) -> dict[str, float]:
        """One fused training step on the batch `x` (with its class `labels` when
        conditional): D update, G update, EMA, in Rust with the GIL released. Returns the
        losses, e.g. ``{"loss/d": .., "loss/g": ..}``.

        With ``on_nan="raise"`` a NaN/inf loss raises `NonFiniteLossError` naming the
        step; with ``"skip"`` the bad update is dropped and ``"nan/skipped"`` is 1.
        """
        return self._step(as_batch(x, self.data_shape, "batch"), as_labels(labels), on_nan)

    def fit(
        self,
        x,
        steps: int = 1000,
        batch_size: int = 64,
        *,
        labels=None,
        log_every: int = 50,
        progress: bool | tqdm = True,
        on_nan: str = "raise",
        checkpoint_every: int | None = None,
        out: str | PathLike | None = None,
        log_partial: bool = True,
    ) -> list[dict[str, float]]:
        """Trains for `steps` steps on the data set `x` (with its class `labels` ``[N]``
        when the GAN is conditional); the loop runs in Rust.

        `x` is a tensor or array, or a `torch.utils.data.Dataset` (or DataLoader), read once
        into memory, whose ``(item, label)`` pairs supply `labels` to a conditional GAN.
        Batches are drawn without replacement from a per-epoch permutation seeded by the
        GAN's seed. Returns a record whenever the step count reaches a multiple of
        `log_every`, and (with `log_partial`) one for the steps after the last such record:
        ``"step"`` and the mean of every statistic since the previous record. Training in
        chunks that should log like one call passes ``log_partial=False`` but for the last.
        Ctrl-C stops cleanly and returns the history so far. `progress` is a flag or an
        existing tqdm bar to advance. With `out`, a checkpoint is saved there every
        `checkpoint_every` steps (default: only at the end) and when training stops; each
        save replaces the previous one only once complete. Under torch.distributed each
        process trains a replica on its slice of every global batch of
        ``batch_size x processes`` items (see `rustgan.distributed`); rank 0 writes.
        """
        x, dataset_labels = as_dataset(x, "training data")
        if labels is None and self.num_classes:
            labels = dataset_labels
        data = as_batch(x, self.data_shape, "training data")
        if self._core.needs_cluster_features and labels is None:
            # The feature network is a PyTorch module: its features go to Rust's clustering.
            self._core.stage_cluster_features(
                efficientnet.features(data, size=efficientnet.CLUSTER_INPUT_SIZE, progress=progress is not False)
            )
        return self._fit(
            data,
            as_labels(labels),
            steps,
            batch_size,
            log_every=log_every,
            progress=progress,
            on_nan=on_nan,
            checkpoint_every=checkpoint_every,
            out=out,
            log_partial=log_partial,
        )

    # --- generation ------------------------------------------------------------------
    def latent(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor:
        """`n` latents ``[n, latent_width]``: z ~ N(0, I), and for a self-conditioned GAN a
        one-hot cluster code drawn at the clusters' shares; reproducible with `seed`.
        `truncation` < 1 pulls z toward the mean latent (the truncation trick: less
        variety, more typical images)."""
        seed = None if seed is None else _seed(seed)
        return self._core.latent(_int("n", n), seed, _float("truncation", truncation))

    def generate(self, z: torch.Tensor, ema: bool = True, labels=None) -> torch.Tensor:
        """Renders latents ``[N, latent_width]`` (with the EMA generator if any and
        `ema`); a conditional GAN needs the class `labels` ``[N]``, and the same z with
        another label gives the same style in another class. A self-conditioned GAN also
        takes z alone ``[N, latent_dim]``, whose first coordinate then picks the cluster,
        and soft codes (any distribution over the clusters)."""
        return self._core.generate(as_tensor(z, "z"), as_labels(labels), bool(ema))

    def sample(
        self,
        n: int = 64,
        seed: int | None = None,
        ema: bool = True,
        truncation: float = 1.0,
        labels=None,
        guide: str | None = None,
    ) -> torch.Tensor:
        """`n` generated items ``[n, *data_shape]`` (images in [-1, 1]); reproducible with
        `seed`; `truncation` as in `latent`. A conditional GAN renders `labels` ``[n]``,
        or cycles through its classes without them. Batch norm uses its running
        statistics, so each sample is independent of the others. `labels` may be one
        class for all.

        `guide` resamples with the discriminator after `calibrate`: ``"drs"``
        (discriminator rejection sampling, Azadi et al. 2019) keeps each candidate with a
        probability that grows with D's estimate of p_data / p_G; ``"mh"`` (MH-GAN,
        Turner et al. 2019) runs a Metropolis-Hastings chain over 20 candidates per
        sample. Both draw candidates of the requested classes and are deterministic given
        `seed`.
        """
        n = _int("n", n)
        if isinstance(labels, numbers.Integral) and not isinstance(labels, bool):
            labels = [int(labels)] * max(n, 0)  # one class for every sample; checked with the rest
        seed = None if seed is None else _seed(seed)
        labels, truncation = as_labels(labels), _float("truncation", truncation)
        if guide is None:
            return self._core.sample(n, seed, labels, bool(ema), truncation)
        return self._core.guided_sample(n, _text("guide", guide), seed, labels, bool(ema), truncation)

    def calibrate(self, real, labels=None, seed: int = 0, ema: bool = True) -> dict[str, float]:
        """Calibrates D's logit on real items held back from training (a few hundred or
        more; with their `labels` when conditional) against as many samples, for
        ``sample(guide=...)``. Platt scaling turns the logit into log p_data / p_G. The
        calibration is saved with the GAN, and further training or new weights drop it.
        Returns it: ``scale`` and ``offset`` of the logit, rejection sampling's bound
        ``max_log_ratio`` and ``shift``, and its expected ``acceptance_rate``."""
        real = as_batch(real, self.data_shape, "real")
        return self._core.calibrate(real, as_labels(labels), _seed(seed), bool(ema))

    @property
    def calibration(self) -> dict[str, float] | None:
        """D's calibration for guided sampling (see `calibrate`), or None."""
        return self._core.calibration

    @property
    def augment_probability(self) -> float:
        """The probability with which each of `augment`'s transformations reaches an image
        D sees: adjusted by training with `augment_target`, else 1."""
        return self._core.augment_probability

    def clusters_of(self, images) -> torch.Tensor:
        """The cluster ``[N]`` (int64) a self-conditioned GAN trains each of `images`
        ``[N, *data_shape]`` with: the nearest cluster centre of the image's D features
        once the GAN has re-clustered (`recluster_every`), else of its pixels."""
        return self._core.clusters_of(as_batch(images, self.data_shape, "images"))

    # --- evaluation --------------------------------------------------------------------
    def evaluate(self, real, n: int = 2000, seed: int = 0, **options) -> dict:
        """Quality and diversity of `n` samples against the data `real`: FID, KID,
        precision/recall, class coverage and SWD for images, mode coverage for 2D
        mixtures. See `rustgan.metrics.evaluate` for the options."""
        return metrics.evaluate(self, real, n=n, seed=seed, **options)
