"""Conversion of user data into the float tensors the Rust core trains on: images are
float32 ``[N, C, H, W]`` in [-1, 1], vectors float32 ``[N, D]``, labels int64 ``[N]``."""

from __future__ import annotations

import numbers
import warnings
from typing import Sequence

import numpy as np
import torch

from .errors import ArgumentTypeError, DataError, InvalidArgumentError

# Float images may overshoot [-1, 1] by this much (resampling rounds).
RANGE_TOLERANCE = 1e-3


def as_tensor(x, name: str) -> torch.Tensor:
    """`x` (torch tensor or numeric numpy array) as a detached tensor of real numbers that
    holds data; `ArgumentTypeError` or `InvalidArgumentError` naming `name` otherwise."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise ArgumentTypeError(f"{name} must be numeric, got a numpy array of dtype {x.dtype}")
        # A read-only array (a package's bundled data, a memory map) is copied: torch
        # shares memory with the arrays it wraps and warns about ones it may not write.
        x = torch.from_numpy(np.ascontiguousarray(x) if x.flags.writeable else np.array(x))
    elif not isinstance(x, torch.Tensor):
        raise ArgumentTypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
    if x.is_complex():
        raise ArgumentTypeError(f"{name} must be real numbers, got dtype {x.dtype}")
    if x.device.type == "meta":
        raise InvalidArgumentError(f"{name} is on the meta device and holds no data")
    return x.detach()


def as_batch(x, data_shape: Sequence[int], name: str = "data") -> torch.Tensor:
    """Converts `x` (torch tensor or numpy array) to a contiguous float32 CPU tensor of
    shape ``[N, *data_shape]``.

    uint8 images (0..255) are scaled to [-1, 1]; image batches may come as NHW (one
    channel), NHWC or NCHW. Raises `DataError` (a ValueError) or ArgumentTypeError (a TypeError) naming the
    problem for empty, non-numeric, non-finite or wrongly shaped data.
    """
    data_shape = tuple(int(d) for d in data_shape)
    x = as_tensor(x, name)
    if x.dtype == torch.bool:
        raise ArgumentTypeError(f"{name} must be real numbers, got dtype {x.dtype}")
    if x.dtype == torch.uint8:
        x = x.float() / 127.5 - 1.0
    x = x.to(device="cpu", dtype=torch.float32)
    x = _to_layout(x, data_shape, name)
    if x.shape[0] == 0:
        raise DataError(f"{name} is empty")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise DataError(f"{name} contains {bad} NaN or infinite values")
    if len(data_shape) == 3:
        _check_image_range(x, name)
    return x.contiguous()


def _check_image_range(x: torch.Tensor, name: str) -> None:
    """Generators end in tanh, so float images must lie in [-1, 1]: values beyond it
    (0..255 floats, standardised data) are refused, and [0, 1] data (torchvision's
    ToTensor) gets a warning, since it trains but only on half the range."""
    low, high = float(x.min()), float(x.max())
    if low < -1.0 - RANGE_TOLERANCE or high > 1.0 + RANGE_TOLERANCE:
        hint = "x / 127.5 - 1" if high > 2 else "x * 2 - 1 for [0, 1] data"
        raise DataError(f"float {name} must lie in [-1, 1], got values from {low:.3g} to {high:.3g}: rescale ({hint})")
    if low >= 0.0 and high > 0.0:
        warnings.warn(
            f"{name} lies in [0, 1] (as torchvision's ToTensor gives it); rustgan's images span [-1, 1]: "
            "pass x * 2 - 1 unless the images really are all bright",
            stacklevel=3,
        )


def as_dataset(x, name: str = "data"):
    """`x` and the labels it carries: a `torch.utils.data.Dataset` (or a DataLoader's
    dataset) is read once into memory, with its labels where it yields ``(item, label)``
    pairs; tensors and arrays pass as they are, without labels."""
    if isinstance(x, torch.utils.data.DataLoader):
        x = x.dataset
    if not isinstance(x, torch.utils.data.Dataset):
        return x, None
    if not hasattr(x, "__len__") or len(x) == 0:
        raise DataError(f"{name} is an empty or unsized Dataset")
    items = [x[i] for i in range(len(x))]
    labels = None
    if isinstance(items[0], (tuple, list)):
        if len(items[0]) > 1:
            labels = [int(item[1]) for item in items]
        items = [item[0] for item in items]
    return torch.stack([torch.as_tensor(np.asarray(item)) for item in items]), labels


def as_labels(y, name: str = "labels") -> torch.Tensor | None:
    """Class labels as an int64 CPU tensor ``[N]`` (a list, numpy array or tensor of
    integers); None stays None. The GAN checks their count and range."""
    if y is None:
        return None
    if isinstance(y, (list, tuple)):
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in y):
            raise ArgumentTypeError(f"{name} must be integers, got {y!r:.80}")
        try:
            y = torch.tensor([int(v) for v in y], dtype=torch.int64)
        except (OverflowError, RuntimeError, ValueError) as error:
            raise InvalidArgumentError(f"{name} do not fit in 64 bits: {error}") from None
    y = as_tensor(y, name)
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ArgumentTypeError(f"{name} must be integers, got dtype {y.dtype}")
    return y.to(device="cpu", dtype=torch.int64).contiguous()


def _to_layout(x: torch.Tensor, data_shape: tuple, name: str) -> torch.Tensor:
    if tuple(x.shape[1:]) == data_shape:
        return x
    if len(data_shape) == 3:
        channels, height, width = data_shape
        if channels == 1 and x.dim() == 3 and tuple(x.shape[1:]) == (height, width):
            return x.unsqueeze(1)  # NHW -> NCHW
        if x.dim() == 4 and tuple(x.shape[1:]) == (height, width, channels):
            return x.permute(0, 3, 1, 2)  # NHWC -> NCHW
    expected = ", ".join(str(d) for d in data_shape)
    raise DataError(f"{name} has shape {tuple(x.shape)}, expected [N, {expected}] for data_shape={data_shape}")
