"""Argument checks shared by the public calls: each returns the value in the form the
native module takes, or raises an exception of rustgan's hierarchy naming the argument."""

from __future__ import annotations

import math
from os import PathLike
from typing import Sequence

from .errors import ArgumentTypeError, InvalidArgumentError

SEED_MAX = 2**64 - 1


def _int(name: str, value, minimum: int | None = None, maximum: int = 2**63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {value}")
    if value > maximum:
        raise InvalidArgumentError(f"{name} must be at most {maximum}, got {value}")
    return value


def _float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
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
    if not isinstance(value, str):
        raise ArgumentTypeError(f"device must be a string, got {type(value).__name__}")
    return value


def _pair(name: str, value) -> list[float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ArgumentTypeError(f"{name} must be a pair of numbers, got {value!r}")
    return [_float(name, v) for v in value]


def _choice(name: str, value, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgumentError(f"unknown {name} {value!r}: choose one of {', '.join(map(repr, choices))}")
    return value


def _bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be True or False, got {type(value).__name__}")
    return value
