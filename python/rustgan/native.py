"""What `GAN` and `Translator` share as Python faces of a native model: the training step
and the `fit` loop (a progress bar, checkpoints every `checkpoint_every` steps, Ctrl-C,
and only rank 0 reporting and writing under torch.distributed; the training itself runs
in Rust), copies through a checkpoint, no pickling, the saved configuration,
checkpoints, and the networks' weights as PyTorch state dicts."""

from __future__ import annotations

import copy
import json
import tempfile
import warnings
from os import PathLike
from typing import Any, Iterable, Mapping, NamedTuple

import torch
from tqdm.auto import tqdm

from . import distributed
from ._checks import _device, _int, _path, _text
from .convert import as_tensor
from .errors import ArgumentTypeError, InvalidArgumentError, RustganError


class OptionSpec(NamedTuple):
    """An option of a model, as the native module's option table defines it."""

    default: Any
    choices: tuple[str, ...] | None
    doc: str
    # "int", "seed", "float", "optional float", "pair", "bool", "choice", "choices", "shape"
    kind: str
    # (low, high, low included, high included) of a number or size; None for the others.
    range: tuple[float, float, bool, bool] | None


def option_specs(descriptions: Iterable[tuple]) -> dict[str, OptionSpec]:
    """A model's options by name, from the native module's (name, default, choices, doc,
    kind, range)."""
    return {
        name: OptionSpec(default, tuple(choices) if choices else None, doc, kind, range_)
        for name, default, choices, doc, kind, range_ in descriptions
    }


class NativeModel:
    """A model whose state lives in `_core`, an instance of the native class `_CORE`."""

    _CORE: type

    @classmethod
    def _wrap(cls, core):
        model = cls.__new__(cls)
        model._core = core
        return model

    def __deepcopy__(self, memo):
        """An independent model in the same state (weights, optimiser, step, random
        streams), through a checkpoint: training both gives identical results."""
        with tempfile.TemporaryDirectory() as directory:
            self.save(f"{directory}/copy")
            twin = type(self).load(f"{directory}/copy", device=self.device)
        memo[id(self)] = twin
        return twin

    def __copy__(self):
        return copy.deepcopy(self)

    def __reduce_ex__(self, protocol):
        name = type(self).__name__
        raise RustganError(
            f"a {name} cannot be pickled: its state lives in native memory. Use .save(path) and "
            f"rustgan.{name}.load(path) (safetensors + JSON), or copy.deepcopy for an in-memory copy"
        )

    # --- training --------------------------------------------------------------------
    def _step(self, items: torch.Tensor, other: torch.Tensor | None, on_nan) -> dict[str, float]:
        """One fused step on converted data (see `Trainable::step_batch` in Rust)."""
        distributed.attach(self)
        return self._core.step(items, other, _text("on_nan", on_nan))

    def _fit(
        self,
        items: torch.Tensor,
        other: torch.Tensor | None,
        steps,
        batch_size,
        *,
        log_every,
        progress: bool | tqdm,
        on_nan,
        checkpoint_every,
        out,
        log_partial: bool,
    ) -> list[dict[str, float]]:
        """Trains for `steps` steps on converted data, in chunks of `checkpoint_every`
        steps, saving to `out` after each (see `GAN.fit`). Returns the history."""
        # Types are converted here; Rust checks the values.
        steps, batch_size, log_every = (
            _int("steps", steps),
            _int("batch_size", batch_size),
            _int("log_every", log_every),
        )
        on_nan = _text("on_nan", on_nan)
        out = None if out is None else _path("out", out)
        if checkpoint_every is not None:
            # Checked here: Rust never sees the chunking.
            checkpoint_every = _int("checkpoint_every", checkpoint_every, 1)
            if out is None:
                raise InvalidArgumentError("checkpoint_every needs out=, the checkpoint directory")
        distributed.attach(self)
        if not distributed.is_main_process():
            progress, out = False, None  # rank 0 reports and writes
        own_bar = progress is True
        bar = tqdm(total=steps, desc="training", unit="step", dynamic_ncols=True) if own_bar else progress or None
        start = bar.n if bar is not None else 0
        trained = 0  # steps of the chunks before the current one

        def monitor(done: int, record):
            if bar is not None:
                bar.update(start + trained + done - bar.n)
                if record is not None:
                    # The losses of each side ("loss/d", "loss/g"), not their parts.
                    losses = {
                        k.split("/")[1]: f"{v:.3f}"
                        for k, v in record.items()
                        if k.count("/") == 1 and k.startswith("loss/")
                    }
                    bar.set_postfix(losses)

        history, interrupted = [], False
        try:
            while True:  # one chunk per checkpoint; at least one, so `out` always gets one
                before = self.steps_done
                chunk = min(checkpoint_every or steps, steps - trained)
                records, interrupted = self._core.fit(items, other, chunk, batch_size, log_every, on_nan, monitor)
                history += records
                trained += self.steps_done - before
                if out is not None:
                    self.save(out)
                if interrupted or trained >= steps:
                    break
        except KeyboardInterrupt:
            interrupted = True  # Ctrl-C outside the native loop: what was trained stays
        finally:
            if own_bar:
                bar.close()
        final = self._core.flush_log() if log_partial else None  # steps after the last whole window
        if final is not None:
            history.append(final)
        if interrupted:
            warnings.warn(f"training interrupted after {self.steps_done} steps", stacklevel=3)
        return history

    # --- description -----------------------------------------------------------------
    @property
    def config(self) -> dict:
        """The configuration, as saved in checkpoints."""
        return json.loads(self._core.config_json)

    @property
    def steps_done(self) -> int:
        """Training steps taken so far (kept across save/load)."""
        return self._core.steps_done

    @property
    def device(self) -> str:
        return self._core.device

    # --- PyTorch interoperability ---------------------------------------------------
    def generator_state_dict(self, ema: bool = True) -> dict[str, torch.Tensor]:
        """The generator's weights (the EMA copy when there is one and `ema`) as a state
        dict for `rustgan.torch_modules`: CPU copies under PyTorch's names."""
        return self._state_dict("generator_ema" if ema and self._core.has_ema else "generator")

    def discriminator_state_dict(self) -> dict[str, torch.Tensor]:
        """The discriminator's weights as a state dict for `rustgan.torch_modules`."""
        return self._state_dict("discriminator")

    def load_generator_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Replaces G's weights by a state dict of the matching `rustgan.torch_modules`
        network (names and shapes must match exactly); the EMA copy restarts from them."""
        self._load_state_dict("generator", state)

    def load_discriminator_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Replaces D's weights, as `load_generator_state_dict` does for G."""
        self._load_state_dict("discriminator", state)

    def _state_dict(self, network: str) -> dict[str, torch.Tensor]:
        state = {}
        for name, tensor in self._core.state_dict(network):
            state[name] = tensor.cpu()
            if name.endswith(".running_var"):
                # PyTorch counts batches; with momentum 0.1 (as here) it never reads the count.
                state[name.removesuffix("running_var") + "num_batches_tracked"] = torch.tensor(self.steps_done)
        return state

    def _load_state_dict(self, network: str, state: Mapping[str, torch.Tensor]) -> None:
        if not isinstance(state, Mapping):
            raise ArgumentTypeError(f"{network} state dict must be a mapping, got {type(state).__name__}")
        tensors = []
        for name, value in state.items():
            if not isinstance(name, str) or not isinstance(value, torch.Tensor):
                raise ArgumentTypeError(f"{network} state dict entry {name!r} is not a named tensor")
            if not name.endswith("num_batches_tracked"):
                tensors.append((name, as_tensor(value, f"{network} tensor {name!r}")))
        self._core.load_state_dict(network, tensors)

    # --- checkpoints -----------------------------------------------------------------
    def save(self, path: str | PathLike, training_state: bool = True) -> None:
        """Writes a checkpoint directory: config.json, the networks' weights (and the EMA
        copy's) and optimiser moments as safetensors, and state.json with the step and
        random streams. Replaces an existing checkpoint only once the new one is complete.

        With ``training_state=False``, a release: what sampling and editing need, without
        the optimiser moments and the step (a GAN ships its EMA generator as the generator),
        about a third of the size. Training a loaded release starts afresh from step 0."""
        if not isinstance(training_state, bool):
            raise ArgumentTypeError(f"training_state must be a bool, got {type(training_state).__name__}")
        (self._core.save if training_state else self._core.save_release)(_path("path", path))

    @classmethod
    def load(cls, path: str | PathLike, device: str = "auto"):
        """Loads a checkpoint written by `save`; training continues where it stopped.
        Raises `CheckpointError` naming what is missing or wrong."""
        return cls._wrap(cls._CORE.load(_path("path", path), _device(device)))


__all__ = ["NativeModel", "OptionSpec", "option_specs"]
