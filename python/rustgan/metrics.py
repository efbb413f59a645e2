"""Evaluation, offline: mode coverage of 2D mixtures (PacGAN), Fréchet distance, KID and
precision/recall on the features of a classifier the project trains itself (digits,
Fashion-MNIST), of EfficientNet-Lite0 for colour images, or of any TorchScript model,
class coverage, and the sliced Wasserstein distance of ProGAN. The computations run in
Rust (EfficientNet's forward pass in PyTorch); fixed seeds give the same numbers every time.

    scores = gan.evaluate(x_real, n=2000)                 # or rustgan.metrics.evaluate(gan, ...)
    rustgan.metrics.frechet_distance(features_a, features_b)
"""

from __future__ import annotations

import math
import warnings
from os import PathLike
from pathlib import Path

import torch
from torch.nn import functional as F

from . import _rustgan
from . import efficientnet as _efficientnet
from . import shapes as _shapes
from ._checks import _float, _int, _path, _seed
from .data import as_labels, as_tensor, mnist, split
from .errors import InvalidArgumentError

DIGIT_CLASSIFIER = Path(__file__).parent / "weights" / "digit_classifier.safetensors"
DIGIT_SPLIT_SEED = 0  # the classifier is trained on the 4,000-digit part of this split
# The same network trained on Fashion-MNIST's 60,000 training images (scripts/train_classifier.py).
FASHION_CLASSIFIER = Path(__file__).parent / "weights" / "fashion_classifier.safetensors"
# Feature spaces by name, and how outputs label them; any other `features` is a TorchScript file.
CLASSIFIERS = {"digits": DIGIT_CLASSIFIER, "fashion": FASHION_CLASSIFIER}
FEATURE_NAMES = {
    "digits": "digit classifier",
    "fashion": "Fashion-MNIST classifier",
    "efficientnet": f"{_efficientnet.NAME} (not comparable with Inception FID)",
}


def _matrix(x, name: str) -> torch.Tensor:
    x = as_tensor(x, name).float().cpu()
    if x.dim() != 2 or len(x) < 2 or x.shape[1] == 0:
        raise InvalidArgumentError(f"{name} must be [N, F] with N >= 2, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise InvalidArgumentError(f"{name} contains NaN or infinite values")
    return x.contiguous()


def _images(x, name: str) -> torch.Tensor:
    x = as_tensor(x, name).float().cpu()
    if x.dim() != 4 or len(x) == 0:
        raise InvalidArgumentError(f"{name} must be images [N, C, H, W], got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise InvalidArgumentError(f"{name} contains NaN or infinite values")
    return x.contiguous()


# --- 2D mixtures ---------------------------------------------------------------------
def modes_2d(samples, centers, std: float) -> dict:
    """PacGAN's protocol: a sample is high quality within 3 `std` of its nearest center; a
    mode is covered when a high-quality sample is nearest to it. Returns ``modes``,
    ``high_quality`` (fraction) and ``reverse_kl`` (mode histogram vs uniform)."""
    samples, centers = _matrix(samples, "samples"), _matrix(centers, "centers")
    modes, high_quality, reverse_kl = _rustgan.modes_2d(samples, centers, _float("std", std))
    return {"modes": modes, "high_quality": high_quality, "reverse_kl": reverse_kl}


def shapes_score(images) -> dict:
    """The exact score of images of `data.shapes`: each image is fitted with the best kind,
    colour, position and extent, re-rendered, and called high quality when the rendering
    matches: soft IoU of the coverage maps ≥ 0.9 (rendered shapes score ~0.99, a 1 px
    blur ~0.84) and every channel of the shape's mean colour within 0.25 of its pure
    colour. Returns ``high_quality`` (fraction), ``modes`` (of the 18 classes, covered by
    high-quality images) and ``reverse_kl`` (class histogram vs uniform), as `modes_2d`."""
    images = _images(images, "images")
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        raise InvalidArgumentError(f"images must be RGB squares [N, 3, S, S], got shape {tuple(images.shape)}")
    fitted = _shapes.fit(images)
    counts = torch.bincount(fitted["labels"][fitted["high_quality"]], minlength=_shapes.NUM_CLASSES)
    hits = int(counts.sum())
    shares = counts[counts > 0].double() / max(hits, 1)
    reverse_kl = (shares * (shares * _shapes.NUM_CLASSES).log()).sum().item() if hits else math.log(_shapes.NUM_CLASSES)
    return {"high_quality": hits / len(images), "modes": int((counts > 0).sum()), "reverse_kl": max(reverse_kl, 0.0)}


def _are_shapes(real: torch.Tensor) -> bool:
    """Whether `real` looks like `data.shapes`: RGB squares whose first 64 all fit."""
    if real.dim() != 4 or real.shape[1] != 3 or real.shape[2] != real.shape[3]:
        return False
    return bool(_shapes.fit(real[:64])["high_quality"].all())


# --- feature-based metrics -----------------------------------------------------------
def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``[N, F]`` (FID when
    the features are Inception's)."""
    return _rustgan.frechet_distance(_matrix(a, "a"), _matrix(b, "b"))


def kid(a, b, subsets: int = 50, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance (Bińkowski et al. 2018): mean and std over `subsets` random
    subsets of the unbiased MMD² with a cubic polynomial kernel. A `subset_size` beyond
    the smaller set shrinks to it (with a warning): every subset is then the whole set,
    and the std says nothing about the estimate's spread."""
    a, b = _matrix(a, "a"), _matrix(b, "b")
    subsets, subset_size = _int("subsets", subsets), _int("subset_size", subset_size)
    if subset_size > min(len(a), len(b)):
        warnings.warn(
            f"kid: subset_size {subset_size} exceeds the sets ({len(a)} and {len(b)} rows); using "
            f"{min(len(a), len(b))}, so the subsets overlap and kid_std understates the spread",
            stacklevel=2,
        )
    return _rustgan.kernel_inception_distance(a, b, subsets, subset_size, _seed(seed))


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds:
    precision = fraction of `fake` inside the real manifold, recall the converse."""
    return _rustgan.precision_recall(_matrix(real, "real"), _matrix(fake, "fake"), _int("k", k))


def class_coverage(logits, num_classes: int | None = None) -> dict:
    """From classifier logits ``[N, K]``: ``classes_covered`` (classes predicted for at least
    1% of samples) and ``class_kl`` (KL of the predicted-class histogram to uniform)."""
    logits = _matrix(logits, "logits")
    k = num_classes or logits.shape[1]
    histogram = torch.bincount(logits.argmax(1), minlength=k).double() / len(logits)
    kl = (histogram[histogram > 0] * (histogram[histogram > 0] * k).log()).sum().item()
    return {"classes_covered": int((histogram >= 0.01).sum()), "class_kl": kl}


# --- the digit classifier ------------------------------------------------------------
def digit_split():
    """MNIST 5k split as the classifier was trained: ((x, y) train 4,000, (x, y) held-out 1,000)."""
    x, y = mnist()
    x_train, y_train, x_test, y_test = split(x, y, held_out=0.2, seed=DIGIT_SPLIT_SEED)
    return (x_train, y_train), (x_test, y_test)


def _digit_images(images) -> torch.Tensor:
    images = _images(images, "images")
    if images.shape[1] != 1:
        raise InvalidArgumentError(
            f"the digit and Fashion-MNIST classifiers read 1-channel images, got {images.shape[1]} channels; "
            'pass features="efficientnet" (or a TorchScript model) for colour images'
        )
    if images.shape[2:] != (28, 28):
        images = F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return images


def _digit_classifier(images, weights) -> tuple[torch.Tensor, torch.Tensor]:
    return _rustgan.digit_classifier(_digit_images(images), _path("weights", weights))


def digit_features(images, weights: str | PathLike = DIGIT_CLASSIFIER) -> torch.Tensor:
    """The classifier's 128 penultimate features for 1-channel images in [-1, 1] (resized
    to 28 px when needed)."""
    return _digit_classifier(images, weights)[0]


def digit_logits(images, weights: str | PathLike = DIGIT_CLASSIFIER) -> torch.Tensor:
    """The classifier's logits ``[N, 10]``."""
    return _digit_classifier(images, weights)[1]


def torchscript_features(images, path: str | PathLike, batch_size: int = 200) -> torch.Tensor:
    """Features ``[N, F]`` from any TorchScript model saved at `path` (e.g. Inception for
    standard FID), run by libtorch in Rust; outputs are flattened after the batch axis."""
    images = _images(images, "images")
    return _rustgan.torchscript_features(images, _path("path", path), _int("batch_size", batch_size))


def efficientnet_features(images, batch_size: int = 100) -> torch.Tensor:
    """EfficientNet-Lite0's pooled ImageNet features ``[N, 1280]`` (images resized to 224 px,
    1-channel ones repeated to 3): the default feature space of colour images. FIDs on it
    are not comparable with published Inception FIDs."""
    return _efficientnet.features(_images(images, "images"), _int("batch_size", batch_size))


def image_features(images, features: str | PathLike = "digits") -> torch.Tensor:
    """Features ``[N, F]`` of `images` in one of the feature spaces `evaluate` takes:
    ``"digits"``, ``"fashion"`` (the shipped classifiers' 128 penultimate features),
    ``"efficientnet"``, or the path of a TorchScript model."""
    return _features_and_logits(images, features)[0]


def _features_and_logits(images, features) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features, and a classifier's logits where the feature space is one of ours."""
    if features in CLASSIFIERS:
        return _digit_classifier(images, CLASSIFIERS[features])
    if features == "efficientnet":
        return efficientnet_features(images), None
    if isinstance(features, PathLike) or (
        isinstance(features, str) and (Path(features).suffix or Path(features).exists())
    ):
        return torchscript_features(images, features), None
    raise InvalidArgumentError(
        f"features must be 'digits', 'fashion', 'efficientnet' or a TorchScript file, got {features!r}"
    )


# --- sliced Wasserstein distance -----------------------------------------------------
def swd(a, b, patches_per_image: int = 128, seed: int = 0) -> dict:
    """Sliced Wasserstein distance per ProGAN (Karras et al. 2018): Laplacian pyramid down
    to 16 px, 7x7 patches, per-channel normalisation, 4x128 random directions; ``x1000``
    per level (finest first) and their mean. 28 px images are padded to 32 px with the
    background value -1 (2 px each side), since the pyramid halves sizes. Sets of unequal
    size are cut to the smaller one."""
    a, b = _pad_to_power_of_two(_images(a, "a")), _pad_to_power_of_two(_images(b, "b"))
    a, b = a[: len(b)], b[: len(a)]
    per_level, mean = _rustgan.sliced_wasserstein(a, b, _int("patches_per_image", patches_per_image), _seed(seed))
    return {"per_level": per_level, "mean": mean}


def swd_held_out(samples, held_out, train, seed: int = 0) -> dict:
    """The pixel SWD of `samples` to held-out images (``swd``) beside its floor, the SWD of
    the held-out images to as many training images (``floor``): a GAN that drew new
    images from the training distribution would score about the floor. Judged in pixels,
    outside any feature network a GAN may have trained against."""
    samples, held_out, train = _images(samples, "samples"), _images(held_out, "held_out"), _images(train, "train")
    n = min(len(samples), len(held_out))
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(_seed(seed)))
    return {
        "swd": swd(samples[:n], held_out[:n], seed=seed)["mean"],
        "floor": swd(train[order[:n]], held_out[:n], seed=seed)["mean"],
    }


def copy_rate(samples, train, held_out, quantile: float = 0.99) -> dict:
    """The share of `samples` nearer, in pixels, to a training image (of `train`) than
    `quantile` of the `held_out` images are (``rate``; held-out images themselves score
    about ``1 - quantile``), the distance that sets it (``threshold``), and each sample's
    distance to its nearest training image (``distances``)."""
    flat = [_images(x, name).flatten(1) for x, name in ((samples, "samples"), (train, "train"), (held_out, "held_out"))]
    rate, threshold, distances = _rustgan.copy_rate(*flat, _float("quantile", quantile))
    return {"rate": rate, "threshold": threshold, "distances": distances}


def _labels(y, name: str, images: torch.Tensor) -> torch.Tensor:
    y = as_labels(y, name)
    if y is None or y.shape != (len(images),):
        raise InvalidArgumentError(
            f"{name} must hold one label per image [{len(images)}], got {None if y is None else tuple(y.shape)}"
        )
    return y


def _class_labels(y, name: str, images: torch.Tensor) -> torch.Tensor:
    """`_labels` that a classifier trains on: one per image, none negative."""
    labels = _labels(y, name, images)
    if labels.min() < 0:
        raise InvalidArgumentError(f"{name} must not be negative, got {labels.min().item()}")
    return labels


def _trained_predictions(train, train_labels, images, epochs: int, seed: int) -> torch.Tensor:
    """The classes that the shipped classifiers' network, trained from scratch on `train`,
    predicts for `images`."""
    train, images = _images(train, "train"), _images(images, "images")
    if train.shape[1:] != images.shape[1:]:
        raise InvalidArgumentError(
            f"the classifier trains on images {tuple(train.shape[1:])} and cannot read {tuple(images.shape[1:])}"
        )
    channels, size = train.shape[1], train.shape[-1]
    if channels not in (1, 3) or size % 4 or train.shape[2] != size:
        raise InvalidArgumentError(
            f"the classifier reads square 1- or 3-channel images whose size is a multiple of 4, got {tuple(train.shape[1:])}"
        )
    labels = _class_labels(train_labels, "train_labels", train)
    return _rustgan.trained_classifier_predictions(train, labels, images, _int("epochs", epochs, 1), _seed(seed))


def classifier_accuracy(train, train_labels, test, test_labels, epochs: int = 8, seed: int = 0) -> float:
    """The accuracy on ``(test, test_labels)`` of the shipped classifiers' network trained
    from scratch on ``(train, train_labels)`` for `epochs` epochs: two convolutions and two
    dense layers, for square grey or colour images whose size is a multiple of 4 and any
    number of classes."""
    test = _images(test, "test")
    predicted = _trained_predictions(train, train_labels, test, epochs, seed)
    return (predicted == _labels(test_labels, "test_labels", test)).double().mean().item()


def gan_train_test(
    samples, sample_labels, train, train_labels, test, test_labels, epochs: int = 8, seed: int = 0
) -> dict:
    """GAN-train and GAN-test (Shmelkov et al. 2018) with classifiers trained from scratch
    (see `classifier_accuracy`): ``gan_train``, a classifier trained on the labelled
    `samples` tested on the real `test` images; ``real_train``, the same network trained on
    the real `train` images (the gap is what synthetic data costs); ``gan_test``, that
    real-trained classifier reading the samples as the labels they were drawn for."""
    samples, test = _images(samples, "samples"), _images(test, "test")
    sample_labels, test_labels = (
        _labels(sample_labels, "sample_labels", samples),
        _labels(test_labels, "test_labels", test),
    )
    read = _trained_predictions(train, train_labels, torch.cat([test, samples]), epochs, seed)
    return {
        "gan_train": classifier_accuracy(samples, sample_labels, test, test_labels, epochs, seed),
        "real_train": (read[: len(test)] == test_labels).double().mean().item(),
        "gan_test": (read[len(test) :] == sample_labels).double().mean().item(),
    }


def cluster_gan_train_test(
    gan, train, train_labels, test, test_labels, n: int | None = None, epochs: int = 8, seed: int = 0
) -> dict:
    """`gan_train_test` for a self-conditioned GAN trained on unlabelled `train` images
    whose labels the GAN never saw: each cluster stands for the commonest label of the
    training images `gan.clusters_of` puts in it, and `n` samples (default: as many as
    `train`) are labelled by the cluster they were drawn from. Also ``purity``: the share
    of training images whose cluster stands for their own label."""
    if not gan.config.get("clusters") or not gan.config.get("cluster_code", True):
        raise InvalidArgumentError("cluster_gan_train_test needs a self-conditioned GAN with cluster codes")
    train = _images(train, "train")
    labels = _class_labels(train_labels, "train_labels", train)  # checked before any sample is drawn
    clusters = gan.config["clusters"]
    members = gan.clusters_of(train)
    counts = torch.zeros(clusters, int(labels.max()) + 1, dtype=torch.long)
    counts.index_put_((members, labels), torch.ones_like(labels), accumulate=True)
    # A cluster no training image falls in stands for the commonest label overall.
    stands_for = torch.where(counts.sum(1) > 0, counts.argmax(1), counts.sum(0).argmax())
    n = len(train) if n is None else _int("n", n, 1)
    samples, sample_labels = [], []
    for i, part in enumerate(range(0, n, 1000)):
        z = gan.latent(min(1000, n - part), seed=seed + i)
        samples.append(gan.generate(z))
        sample_labels.append(stands_for[z[:, gan.config["latent_dim"] :].argmax(1)])
    scores = gan_train_test(
        torch.cat(samples), torch.cat(sample_labels), train, labels, test, test_labels, epochs, seed
    )
    return scores | {"purity": (stands_for[members] == labels).double().mean().item()}


def _pad_to_power_of_two(images: torch.Tensor) -> torch.Tensor:
    size = images.shape[-1]
    target = 1 << max(4, (size - 1).bit_length())
    if target == size:
        return images
    left = (target - size) // 2
    return F.pad(images, (left, target - size - left, left, target - size - left), value=-1.0)


def conditional_accuracy(gan, n: int = 1000, seed: int = 0, weights: str | PathLike = DIGIT_CLASSIFIER) -> float:
    """Fraction of `n` samples of a class-conditional GAN (classes cycled) that the
    classifier of `weights` (digits by default, or `FASHION_CLASSIFIER`) assigns to the
    class they were asked for."""
    if not gan.num_classes:
        raise InvalidArgumentError("conditional_accuracy needs a class-conditional GAN (num_classes > 0)")
    labels = torch.arange(_int("n", n, 1)) % gan.num_classes
    predicted = digit_logits(gan.sample(n, seed=seed, labels=labels), weights).argmax(1)
    return (predicted == labels).double().mean().item()


# --- everything at once --------------------------------------------------------------
def evaluate(
    gan,
    real,
    n: int = 2000,
    seed: int = 0,
    features: str | PathLike | None = None,
    centers=None,
    std: float | None = None,
    guide: str | None = None,
    feature_extractor: str | PathLike | None = None,
    held_out=None,
) -> dict:
    """Scores `n` samples of `gan` (seed `seed`, drawn with `guide`, see `GAN.sample`)
    against up to `n` items of `real`.

    With images `held_out` from training (and `real` the training images), also the pixel
    judges that no feature network flatters: ``swd_held_out`` beside its ``swd_floor``
    (see `swd_held_out`) and ``copy_rate`` (see `copy_rate`).

    Images: ``fid``, ``kid``/``kid_std``, ``precision``, ``recall`` on the `features`
    named in ``features``: ``"digits"`` (the default for 1-channel images), ``"fashion"``,
    ``"efficientnet"`` (the default for colour images; EfficientNet-Lite0 FIDs are not
    comparable with published Inception FIDs) or a TorchScript model's path
    (`feature_extractor` is the older name of that). With a shipped classifier also
    ``classes_covered`` and ``class_kl`` (and ``class_accuracy`` for a conditional GAN,
    see `conditional_accuracy`); and always ``swd`` (+ ``swd_levels``).
    Images of `data.shapes` (recognised by fitting the first 64 real ones), unless
    `features` is given: `shapes_score`'s ``high_quality``, ``modes``, ``reverse_kl``, and
    ``swd``.
    2D points with the mixture's `centers` and `std`: ``modes``, ``high_quality``,
    ``reverse_kl``.
    """
    n = _int("n", n, 2)
    if feature_extractor is not None:
        if features is not None:
            raise InvalidArgumentError("pass features= or feature_extractor= (its older name), not both")
        features = feature_extractor
    # `gan` may be any object with a `sample(n, seed)` method; only GANs take a guide.
    fake = gan.sample(n, seed=seed) if guide is None else gan.sample(n, seed=seed, guide=guide)
    real = as_tensor(real, "real").float().cpu()
    held_scores = {} if held_out is None else _held_out_scores(fake, real, held_out, seed)
    if len(real) > n:
        real = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:n]]
    if real.shape[1:] != fake.shape[1:]:
        raise InvalidArgumentError(
            f"real items have shape {tuple(real.shape[1:])}, the GAN makes {tuple(fake.shape[1:])}"
        )
    if fake.dim() == 2:
        if centers is None or std is None:
            raise InvalidArgumentError("vector data needs the mixture's centers= and std= (see rustgan.data.ring2d)")
        return modes_2d(fake, centers, std)
    scores = {"n": len(fake)}
    scores.update(held_scores)
    if features is None and _are_shapes(real):
        scores.update(shapes_score(fake))
        return _with_swd(scores, real, fake, seed)
    if features is None:
        features = "digits" if real.shape[1] == 1 else "efficientnet"
    real_features, _ = _features_and_logits(real, features)
    fake_features, fake_logits = _features_and_logits(fake, features)
    scores["features"] = FEATURE_NAMES.get(features, f"TorchScript {features}")
    if features == "efficientnet" and getattr(gan, "config", {}).get("cluster_features") == "efficientnet":
        # Kynkäänniemi et al. 2023: a GAN that trained on a feature space is flattered by it.
        scores["features"] += "; the GAN clustered its data on these features, which flatters this FID"
    if fake_logits is not None:
        scores.update(class_coverage(fake_logits))
        if getattr(gan, "num_classes", 0):  # `gan` may be any object with a `sample` method
            scores["class_accuracy"] = conditional_accuracy(gan, len(fake), seed, CLASSIFIERS[features])
    scores["fid"] = frechet_distance(real_features, fake_features)
    scores["kid"], scores["kid_std"] = kid(
        real_features, fake_features, subset_size=min(1000, len(fake) // 2), seed=seed
    )
    scores["precision"], scores["recall"] = precision_recall(real_features, fake_features)
    return _with_swd(scores, real, fake, seed)


def _held_out_scores(fake: torch.Tensor, train: torch.Tensor, held_out, seed: int) -> dict:
    """The pixel judges of `evaluate` with held-out images."""
    held_out = _images(held_out, "held_out")
    if held_out.shape[1:] != fake.shape[1:]:
        raise InvalidArgumentError(
            f"held-out images have shape {tuple(held_out.shape[1:])}, the GAN makes {tuple(fake.shape[1:])}"
        )
    sliced = swd_held_out(fake, held_out, train, seed)
    return {
        "swd_held_out": sliced["swd"],
        "swd_floor": sliced["floor"],
        "copy_rate": copy_rate(fake, train, held_out)["rate"],
    }


def _with_swd(scores: dict, real: torch.Tensor, fake: torch.Tensor, seed: int) -> dict:
    sliced = swd(real, fake, seed=seed)
    return {**scores, "swd": sliced["mean"], "swd_levels": sliced["per_level"]}


__all__ = [
    "CLASSIFIERS",
    "DIGIT_CLASSIFIER",
    "FASHION_CLASSIFIER",
    "class_coverage",
    "classifier_accuracy",
    "conditional_accuracy",
    "copy_rate",
    "digit_features",
    "digit_logits",
    "digit_split",
    "efficientnet_features",
    "evaluate",
    "frechet_distance",
    "gan_train_test",
    "image_features",
    "kid",
    "modes_2d",
    "precision_recall",
    "shapes_score",
    "swd",
    "swd_held_out",
    "torchscript_features",
]
