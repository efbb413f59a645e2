"""Editing with a trained GAN: interpolation, latent arithmetic, directions that mean
something and moves along them, projection of real images into latent space (GAN
inversion) and inpainting. The optimisation loops run in Rust with the GIL released, on
whole batches.

    z = gan.latent(2, seed=0)
    strip = rustgan.edit.interpolate(gan, z[0], z[1], steps=8)          # [8, C, H, W]
    found = rustgan.edit.directions(gan, k=8, method="sefa")           # .vectors [8, D]
    strips = rustgan.edit.move(gan, z, found.vectors[0], [-3, 0, 3])   # [3, 2, C, H, W]
    ink = rustgan.edit.boundary(gan, lambda images: images.mean((1, 2, 3)))
    grid = rustgan.edit.class_swap(gan, z)        # [classes or clusters, 2, C, H, W]
    result = rustgan.edit.project(gan, images, steps=300)              # .latents, .images
    filled = rustgan.edit.inpaint(gan, images, mask).images            # mask: 1 = known
    filled = rustgan.edit.complete(translator, images, mask).images    # a trained Translator
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from . import _rustgan
from ._checks import _choice, _float, _int, _seed, _text
from .data import as_batch, as_labels, as_tensor
from .errors import ArgumentTypeError, InvalidArgumentError
from .gan import GAN
from .pairs import completion_inputs, images_batch, mask_batch
from .translator import Translator


@dataclass
class Projection:
    latents: torch.Tensor  # [N, latent_width], the best start per image
    images: torch.Tensor  # [N, *data_shape], generations (mean over the best `average_best` starts)
    loss_curve: list  # mean objective per optimisation step
    errors: torch.Tensor  # [N], pixel MSE of `images` on the known pixels


@dataclass
class Inpainting:
    images: torch.Tensor  # [N, *data_shape], known pixels kept, hidden ones generated
    projection: Projection | None  # method="projection"
    samples: torch.Tensor | None = None  # method="posterior": [samples, N, *data_shape] completions
    std: torch.Tensor | None = None  # method="posterior": [N, *data_shape] per-pixel std of the samples
    noise: float | None = None  # method="posterior": the pixel likelihood's std, given or estimated


@dataclass
class Directions:
    vectors: torch.Tensor  # [k, latent_dim] unit vectors, most important first
    explained: torch.Tensor  # [k], the share of the variation each explains
    method: str


@dataclass
class Boundary:
    normal: torch.Tensor  # [latent_dim] unit normal, pointing to where the attribute is high
    accuracy: float  # share of the fitted latents on the side their attribute puts them


def _latents(z, name: str) -> torch.Tensor:
    """Latent codes ``[D]`` or ``[N, D]`` as a float batch ``[N, D]``; the GAN checks them."""
    z = as_tensor(z, name).float().cpu()
    return z.reshape(1, -1) if z.dim() < 2 else z


def _direction(direction) -> torch.Tensor:
    """A `Directions`' vectors, a `Boundary`'s normal or the vectors themselves."""
    if isinstance(direction, Directions):
        direction = direction.vectors
    elif isinstance(direction, Boundary):
        direction = direction.normal
    return as_tensor(direction, "direction").float().cpu()


def _numbers(x, name: str) -> torch.Tensor:
    """A tensor, array or sequence of numbers as a float64 tensor."""
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"{name} must be numbers, got {x!r:.80}") from None
    return as_tensor(x, name).double().cpu()


def _labels(gan: GAN, labels, n: int) -> torch.Tensor | None:
    """Labels for `n` codes: an int or a sequence of `n` (checked against the GAN later)."""
    if isinstance(labels, int) and not isinstance(labels, bool):
        labels = [labels] * n
    return as_labels(labels)


def interpolate(
    gan: GAN, z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, method: str = "slerp", labels=None
) -> torch.Tensor:
    """Images along the path from `z0` to `z1` (endpoints included): ``[steps, *data_shape]``
    for single codes, ``[steps, N, *data_shape]`` for batches of N codes. A conditional
    GAN keeps the class `labels` (an int, or one per code) fixed along the path; between
    two clusters of a self-conditioned GAN, z follows `method` and the cluster code moves
    in a straight line, through soft codes that blend the two."""
    single = getattr(z0, "ndim", None) == 1
    a, b = _latents(z0, "z0"), _latents(z1, "z1")
    steps, method = _int("steps", steps), _text("method", method)
    images = _rustgan.interpolate_images(gan._core, a, b, steps, method, _labels(gan, labels, len(a)), True)
    return images[:, 0] if single else images


def class_swap(gan: GAN, z, classes: Sequence[int] | None = None) -> torch.Tensor:
    """The same latent codes `z` (``[D]`` or ``[N, D]``) rendered in each of `classes`
    (default: all) by a conditional GAN: ``[len(classes), N, *data_shape]``. What z
    holds (style, stroke, pose) stays; the class changes. On a self-conditioned GAN
    (``clusters=``) the classes are its clusters: the cluster code becomes each one's, and
    z stays."""
    return _rustgan.class_swap(gan._core, _latents(z, "z"), as_labels(classes, "classes"), True)


def arithmetic(
    gan: GAN,
    plus: Sequence[torch.Tensor],
    minus: Sequence[torch.Tensor] | None = None,
    base=None,
    label: int | None = None,
):
    """Vector arithmetic on latents: ``base + mean(plus) - mean(minus)`` (each group a list of
    codes ``[D]`` or ``[M, D]``, averaged). Returns ``(z [D], image [*data_shape])``,
    rendered in class `label` by a conditional GAN."""

    def group(latents, name):
        if not isinstance(latents, (list, tuple)):
            raise ArgumentTypeError(f"{name} must be a list of latent codes, got {type(latents).__name__}")
        return [_latents(z, name) for z in latents]

    minus = None if minus is None else group(minus, "minus")
    base = None if base is None else _latents(base, "base")
    z = _rustgan.arithmetic(gan._core, group(plus, "plus"), minus, base)[0]
    return z, gan.generate(z.unsqueeze(0), labels=_labels(gan, label, 1))[0]


def directions(gan: GAN, k: int = 8, method: str = "sefa", n: int = 2000, seed: int = 0, labels=None) -> Directions:
    """`k` directions in latent space along which images change most, as unit vectors.

    ``"sefa"`` (Shen & Zhou 2021) factorises G's first layer in closed form: the directions
    it amplifies most. ``"pca"`` (GANSpace, Härkönen et al. 2020) takes the principal
    components of G's first activations over `n` latents drawn with `seed`, pulled back to
    z by regression; they are centred per class (the `labels` of a conditional GAN, default
    all classes in turn, or a self-conditioned GAN's clusters), so that they describe style
    within a class. `explained` is each direction's share of the variation."""
    method = _choice("method", method, ("sefa", "pca"))
    k = _int("k", k)
    if method == "sefa":
        vectors, explained = _rustgan.sefa(gan._core, k)
    else:
        z = gan.latent(_int("n", n), seed=_seed(seed))
        vectors, explained = _rustgan.pca(gan._core, z, _labels(gan, labels, len(z)), k)
    return Directions(vectors, explained, method)


def boundary(
    gan: GAN,
    attribute: Callable[[torch.Tensor], torch.Tensor] | Sequence[float] | torch.Tensor,
    n: int = 2000,
    seed: int = 0,
    keep: Sequence[Boundary | torch.Tensor] = (),
    z=None,
    labels=None,
) -> Boundary:
    """A linear boundary of an attribute in latent space (InterFaceGAN, Shen et al. 2020).

    `attribute` is a function of images ``[n, *data_shape]`` returning one number each (ink
    amount, a classifier's logit), or the values themselves for the latents (labels, for
    example). The latents are `z` when given, else `n` drawn with `seed`. Attributes with
    two levels are separated as two classes; continuous ones by their top and bottom 30%.
    The normal is made orthogonal to each boundary in `keep`, so moving along it leaves
    those attributes alone. A conditional GAN renders the latents in classes `labels`."""
    if z is None:
        z = gan.latent(_int("n", n), seed=_seed(seed))
    z = _latents(z, "z")
    if gan.num_classes and labels is None:
        labels = torch.arange(len(z)) % gan.num_classes
    labels = _labels(gan, labels, len(z))
    if callable(attribute):
        values = attribute(gan.generate(z, labels=labels))
    else:
        values = attribute
    values = _numbers(values, "the attribute's values")
    kept = [b.normal if isinstance(b, Boundary) else as_tensor(b, "keep") for b in keep]
    kept = torch.stack([k.float().cpu().flatten() for k in kept]) if kept else None
    normal, accuracy = _rustgan.boundary(gan._core, z, labels, values, kept)
    return Boundary(normal, accuracy)


def move(
    gan: GAN,
    z,
    direction: Directions | Boundary | torch.Tensor,
    amounts: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),
    labels=None,
) -> torch.Tensor:
    """Images of latents `z` (``[D]`` or ``[N, D]``, random or projected from real images)
    moved by each of `amounts` along `direction`: ``[A, N, *data_shape]`` for one direction
    ``[latent_dim]`` (a `Boundary`, or a row of `Directions.vectors`),
    ``[K, A, N, *data_shape]`` for several ``[K, latent_dim]`` (a `Directions`); without
    the N axis for a single code. Directions move z: a conditional GAN keeps the classes
    `labels` (an int or one per code), a self-conditioned one each latent's cluster code."""
    single_code = getattr(z, "ndim", None) == 1
    codes, direction = _latents(z, "z"), _direction(direction)
    amounts = _numbers(amounts, "amounts").float()
    images = _rustgan.move_images(gan._core, codes, direction, amounts, _labels(gan, labels, len(codes)), True)
    if single_code:
        images = images[:, :, 0]
    return images[0] if direction.dim() == 1 else images


def project(
    gan: GAN,
    images,
    steps: int = 500,
    lr: float = 0.15,
    restarts: int = 4,
    mask=None,
    prior_weight: float = 0.1,
    realism_weight: float = 0.0,
    average_best: int = 1,
    seed: int = 0,
    labels=None,
    ema: bool = True,
) -> Projection:
    """Finds latents whose generations match `images` (GAN inversion): Adam on z for `steps`
    steps minimising the pixel MSE (only where `mask` is 1, when given), plus
    `prior_weight` x (|z|^2/D - 1)^2 to keep z where the prior's mass is and
    `realism_weight` x the discriminator's "looks fake" loss; the best of `restarts`
    random starts is kept per image (with `average_best` = m > 1 the returned images
    average the m best starts' generations). Projects into the generator `gan.generate`
    renders with (the EMA one when there is one and `ema`), so that the latents render
    and edit as projected. A conditional GAN searches within the classes `labels` (an int
    or one per image).

    A self-conditioned GAN searches its cluster code with z. Start r of an image favours
    the cluster whose centre is its r-th nearest (on the known pixels), so the starts
    cover the likely clusters; the code is a softmax over the clusters, which G reads
    linearly, so a start can still move to another cluster by gradient. For the second
    half of the steps the code is hardened to its most likely cluster and z alone refines
    the fit, so the returned latents ``[N, latent_width]`` carry one-hot codes and render
    as they were scored."""
    targets = as_batch(images, gan.data_shape, "images")
    if mask is not None:
        mask = as_tensor(mask, "mask").float().cpu()
    latents, generated, curve, errors = _rustgan.project(
        gan._core,
        targets,
        _labels(gan, labels, len(targets)),
        mask,
        _int("steps", steps),
        _float("lr", lr),
        _int("restarts", restarts),
        _float("prior_weight", prior_weight),
        _float("realism_weight", realism_weight),
        _int("average_best", average_best),
        _seed(seed),
        bool(ema),
    )
    return Projection(latents, generated, curve, errors)


def inpaint(
    gan: GAN,
    images,
    mask,
    steps: int | None = None,
    lr: float = 0.15,
    restarts: int = 12,
    prior_weight: float = 0.1,
    realism_weight: float = 0.0,
    average_best: int | None = None,
    feather: int = 0,
    seed: int = 0,
    labels=None,
    method: str = "projection",
    samples: int = 32,
    candidates: int = 20000,
    step_size: float = 3e-3,
    noise: float | None = None,
) -> Inpainting:
    """Fills the pixels where `mask` is 0, then composites the known pixels back.

    ``method="projection"``: a masked projection (`steps` default 500). The fill averages
    the `average_best` best of `restarts` starts, an estimate of the most likely content
    (default: half of them; 1 gives one sharp completion).

    ``method="posterior"``: `samples` latents from p(z | known pixels), the prior times a
    Gaussian pixel likelihood of std `noise` (default: estimated from how well the GAN fits
    the known pixels). Chains start from the best-fitting of `candidates` prior draws and
    take `steps` (default 50) Langevin steps of size `step_size` in z; a self-conditioned
    GAN keeps each chain's cluster, that of the prior draw it starts from. `images` is the
    posterior mean, the estimate with the least expected squared error; `samples` are the
    single completions and `std` their per-pixel spread, which is where the fill is unsure.

    `feather` > 0 blends generated pixels into the known ones over that many pixels at the
    hole's border. `labels` as in `project`."""
    method = _choice("method", method, ("projection", "posterior"))
    targets = as_batch(images, gan.data_shape, "images")
    mask = as_tensor(mask, "mask")
    if method == "posterior":
        mean, drawn, spread, noise = _rustgan.inpaint_posterior(
            gan._core,
            targets,
            _labels(gan, labels, len(targets)),
            mask.float().cpu(),
            _int("samples", samples),
            _int("steps", 50 if steps is None else steps),
            _float("step_size", step_size),
            None if noise is None else _float("noise", noise),
            _int("candidates", candidates),
            _seed(seed),
        )
        weight = _known_weight(mask, targets, feather)
        completions = weight * targets + (1 - weight) * drawn.cpu()
        return Inpainting(
            weight * targets + (1 - weight) * mean.cpu(), None, completions, (1 - weight) * spread.cpu(), noise
        )
    if average_best is None:
        average_best = max(1, _int("restarts", restarts) // 2)
    steps = 500 if steps is None else steps
    projection = project(
        gan, targets, steps, lr, restarts, mask, prior_weight, realism_weight, average_best, seed, labels
    )
    weight = _known_weight(mask, targets, feather)
    return Inpainting(weight * targets + (1 - weight) * projection.images.cpu(), projection)


def complete(translator: Translator, images, mask="lower", feather: int = 0) -> Inpainting:
    """Fills the pixels where `mask` is 0 with a `Translator` trained for completion
    (``rustgan.data.pairs(images, "complete")``), then composites the known pixels back.
    One forward pass: fast, and the closest to the truth on the kind of hole it was
    trained on; `inpaint` with a GAN takes any hole and can draw several completions.

    `mask` is ``"lower"``, ``"box"`` or 0/1 values, as for `rustgan.data.pairs`;
    `feather` as for `inpaint`."""
    if not isinstance(translator, Translator):
        raise ArgumentTypeError(f"complete needs a rustgan.Translator, got {type(translator).__name__}")
    targets = images_batch(images)
    known = mask_batch(mask, targets)
    if translator.in_shape != (targets.shape[1] + 1, *targets.shape[2:]):
        raise InvalidArgumentError(
            f"this translator takes inputs {translator.in_shape}, not images {tuple(targets.shape[1:])} "
            "with a mask channel: was it trained for completion?"
        )
    filled = translator.translate(completion_inputs(targets, known))
    weight = _known_weight(known, targets, feather)
    return Inpainting(weight * targets + (1 - weight) * filled, None)


def _known_weight(mask: torch.Tensor, targets: torch.Tensor, feather: int) -> torch.Tensor:
    """How much of each pixel the composite takes from the targets: the mask, faded over
    `feather` pixels at the hole's border."""
    return _rustgan.known_weight(mask.float().cpu(), targets.cpu(), _int("feather", feather))


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Peak signal-to-noise ratio per image (dB) for images in [-1, 1] (peak-to-peak 2),
    over the pixels where `mask` is 1 when given."""
    a, b = as_tensor(a, "a").float().cpu(), as_tensor(b, "b").float().cpu()
    if a.shape != b.shape:
        raise InvalidArgumentError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    weight = torch.ones_like(a) if mask is None else as_tensor(mask, "mask").float().cpu().expand_as(a)
    mse = ((a - b).square() * weight).flatten(1).sum(1) / weight.flatten(1).sum(1).clamp_min(1)
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-12))


__all__ = [
    "Boundary",
    "Directions",
    "Inpainting",
    "Projection",
    "arithmetic",
    "boundary",
    "class_swap",
    "complete",
    "directions",
    "inpaint",
    "interpolate",
    "move",
    "project",
    "psnr",
]
