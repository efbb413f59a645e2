"""What `GAN` and `Translator` share as Python faces of a native model: copies through a
checkpoint, no pickling, the saved configuration, checkpoints, and the networks' weights
as PyTorch state dicts."""

from __future__ import annotations

import copy
import json
import tempfile
from os import PathLike
from typing import Any, Iterable, Mapping, NamedTuple

import torch

from ._checks import _device, _path
from .convert import as_tensor
from .errors import ArgumentTypeError, RustganError


class OptionSpec(NamedTuple):
    """An option of a model, as the native module defines it."""

    default: Any
    choices: tuple[str, ...] | None
    doc: str


def option_specs(descriptions: Iterable[tuple]) -> dict[str, OptionSpec]:
    """A model's options by name, from the native module's (name, default, choices, doc)."""
    return {
        name: OptionSpec(default, tuple(choices) if choices else None, doc)
        for name, default, choices, doc in descriptions
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
    def save(self, path: str | PathLike) -> None:
        """Writes a checkpoint directory: config.json, the networks' weights (and the EMA
        copy's) and optimiser moments as safetensors, and state.json with the step and
        random streams. Replaces an existing checkpoint only once the new one is complete."""
        self._core.save(_path("path", path))

    @classmethod
    def load(cls, path: str | PathLike, device: str = "auto"):
        """Loads a checkpoint written by `save`; training continues where it stopped.
        Raises `CheckpointError` naming what is missing or wrong."""
        return cls._wrap(cls._CORE.load(_path("path", path), _device(device)))


__all__ = ["NativeModel", "OptionSpec", "option_specs"]
