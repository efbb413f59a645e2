"""The exception hierarchy of rustgan. Every error the package raises on purpose is a
`RustganError`; the subclasses also derive from the matching built-in exception, so
`except ValueError` keeps working."""


class RustganError(Exception):
    """Base class of rustgan's exceptions (also raised for internal errors)."""


class InvalidArgumentError(RustganError, ValueError):
    """An argument has the wrong shape, value or option name."""


class ArgumentTypeError(RustganError, TypeError):
    """An argument has the wrong type."""


class DataError(RustganError, ValueError):
    """Training or evaluation data is empty, non-numeric, non-finite or unreadable."""


class NonFiniteLossError(RustganError, FloatingPointError):
    """A loss became NaN or infinite during training; the message names the step."""


class CheckpointError(RustganError, OSError):
    """A checkpoint is missing, corrupt, or does not match the model."""


class DistributedError(RustganError, RuntimeError):
    """Data-parallel training failed: another process died, timed out or disagrees."""
