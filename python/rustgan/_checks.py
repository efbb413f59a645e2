"""Argument checks shared by the public calls: each returns the value in the form the
native module takes, or raises an exception of rustgan's hierarchy naming the argument.
The options of `GAN` are checked by the native module instead (see `gan.OPTIONS`)."""

from __future__ import annotations

import math
import numbers
from os import PathLike
from typing import Sequence

import torch

from .errors import ArgumentTypeError, InvalidArgumentError

SEED_MAX = 2**64 - 1


def _int(name: str, value, minimum: int | None = None, maximum: int = 2**63 - 1) -> int:
    # numbers.Integral: Python and numpy integers alike (numpy bools are not Integral).
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {value}")
    if value > maximum:
        raise InvalidArgumentError(f"{name} must be at most {maximum}, got {value}")
    return value


def _seed(value) -> int:
    """A seed as the native module's unsigned 64-bit integer."""
    return _int("seed", value, 0, SEED_MAX)


def _float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be finite, got {value}")
    return float(value)


def _path(name: str, value) -> str:
    if not isinstance(value, (str, PathLike)):
        raise ArgumentTypeError(f"{name} must be a path, got {type(value).__name__}")
    path = str(value)
    if not path or "\0" in path:
        raise InvalidArgumentError(f"{name} {path!r} is not a usable path")
    return path


def _device(value) -> str:
    """A device name; a `torch.device` works too."""
    if isinstance(value, torch.device):
        return str(value)
    return _text("device", value)


def _text(name: str, value) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _choice(name: str, value, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgumentError(f"unknown {name} {value!r}: choose one of {', '.join(map(repr, choices))}")
    return value
