"""The `fit` loop shared by `GAN` and `Translator`: a progress bar, checkpoints every
`checkpoint_every` steps, Ctrl-C, and only rank 0 reporting and writing under
torch.distributed. The training itself runs in Rust."""

from __future__ import annotations

import warnings
from typing import Callable

from tqdm.auto import tqdm

from . import distributed
from ._checks import _int, _path, _text
from .errors import InvalidArgumentError


class FitSettings:
    """The checked settings of a `fit` call."""

    def __init__(self, steps, batch_size, log_every, on_nan, checkpoint_every, out):
        self.steps = _int("steps", steps, 0)
        self.batch_size = _int("batch_size", batch_size, 1)
        self.log_every = _int("log_every", log_every, 1)
        self.on_nan = _text("on_nan", on_nan)
        self.checkpoint_every = None
        if checkpoint_every is not None:
            self.checkpoint_every = _int("checkpoint_every", checkpoint_every, 1)
            if out is None:
                raise InvalidArgumentError("checkpoint_every needs out=, the checkpoint directory")
        self.out = None if out is None else _path("out", out)

    def check_data_size(self, n: int) -> None:
        if self.batch_size > n:
            raise InvalidArgumentError(f"batch_size {self.batch_size} is larger than the data ({n} items)")


def train(
    model,
    settings: FitSettings,
    train_chunk: Callable,
    progress: bool | tqdm = True,
    log_partial: bool = True,
) -> list[dict[str, float]]:
    """Trains `model` (a `GAN` or `Translator`) for `settings.steps` steps by calls of
    ``train_chunk(steps, monitor) -> (records, interrupted)``, one per checkpoint, saving
    to `settings.out` after each. Returns the history (see `GAN.fit`)."""
    distributed.attach(model)
    out = settings.out
    if not distributed.is_main_process():
        progress, out = False, None  # rank 0 reports and writes
    own_bar = progress is True
    bar = tqdm(total=settings.steps, desc="training", unit="step", dynamic_ncols=True) if own_bar else progress or None
    start = bar.n if bar is not None else 0
    trained = 0  # steps of the chunks before the current one

    def monitor(done: int, record):
        if bar is not None:
            bar.update(start + trained + done - bar.n)
            if record is not None:
                bar.set_postfix({k.split("/", 1)[1]: f"{record[k]:.3f}" for k in ("loss/d", "loss/g")})

    history, interrupted = [], False
    try:
        while True:  # one chunk per checkpoint; at least one, so `out` always gets one
            before = model.steps_done
            chunk = min(settings.checkpoint_every or settings.steps, settings.steps - trained)
            records, interrupted = train_chunk(chunk, monitor)
            history += records
            trained += model.steps_done - before
            if out is not None:
                model.save(out)
            if interrupted or trained >= settings.steps:
                break
        final = model._core.flush_log() if log_partial else None  # steps after the last whole window
        if final is not None:
            history.append(final)
    finally:
        if own_bar:
            bar.close()
    if interrupted:
        warnings.warn(f"training interrupted after {model.steps_done} steps", stacklevel=3)
    return history


__all__ = ["FitSettings", "train"]
