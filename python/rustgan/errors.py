"""The exception hierarchy of rustgan, created by the native module so that Rust and
Python raise the same classes. Every error the package raises on purpose is a
`RustganError`; the subclasses also derive from the matching built-in exception, so
`except ValueError` keeps working."""

from ._rustgan import (
    ArgumentTypeError,
    CheckpointError,
    DataError,
    DistributedError,
    InvalidArgumentError,
    NonFiniteLossError,
    RustganError,
)

__all__ = [
    "ArgumentTypeError",
    "CheckpointError",
    "DataError",
    "DistributedError",
    "InvalidArgumentError",
    "NonFiniteLossError",
    "RustganError",
]
