"""Stubs of the native module; `rustgan.GAN` is the public face of `GanCore`."""

from typing import Any, Callable

import torch
from typing_extensions import Self  # typing.Self from Python 3.11 on

Stats = dict[str, float]

class RustganError(Exception): ...
class InvalidArgumentError(RustganError, ValueError): ...
class ArgumentTypeError(RustganError, TypeError): ...
class DataError(RustganError, ValueError): ...
class NonFiniteLossError(RustganError, FloatingPointError): ...
class CheckpointError(RustganError, OSError): ...
class DistributedError(RustganError, RuntimeError): ...

NAN_POLICIES: list[str]
GUIDES: list[str]

def set_num_threads(n: int) -> None: ...
def cuda_is_available() -> bool: ...
def recipe(kind: str, items: int | None = None, size: int | None = None) -> list[tuple[str, Any]]: ...

OptionRange = tuple[float, float, bool, bool]
OptionDescription = tuple[str, Any, list[str] | None, str, str, OptionRange | None]

def gan_options() -> list[OptionDescription]:
    """(name, default, choices, doc, kind, range) of every option of `rustgan.GAN`, in
    signature order."""

def shared_option_names() -> list[str]:
    """The options every model's table includes, by name."""

class _ModelCore:
    """What `native_model_methods!` gives every native model class."""

    def __init__(self, options: dict[str, Any], device: str) -> None: ...
    @classmethod
    def load(cls, path: str, device: str) -> Self: ...
    def save(self, path: str) -> None: ...
    # items, other: a GAN's data and labels, a translator's inputs and targets, a
    # CycleGAN's images of domain a and of domain b
    def step(self, items: torch.Tensor, other: torch.Tensor | None, on_nan: str) -> Stats: ...
    def fit(
        self,
        items: torch.Tensor,
        other: torch.Tensor | None,
        steps: int,
        batch_size: int,
        log_every: int,
        on_nan: str,
        callback: Callable[[int, Stats | None], object],
    ) -> tuple[list[Stats], bool]: ...
    def flush_log(self) -> Stats | None: ...
    def state_dict(self, network: str) -> list[tuple[str, torch.Tensor]]: ...
    def load_state_dict(self, network: str, tensors: list[tuple[str, torch.Tensor]]) -> None: ...
    def set_replica(self, rank: int, world_size: int, sync: Callable[[torch.Tensor], object]) -> None: ...
    def clear_replica(self) -> None: ...
    @property
    def config_json(self) -> str: ...
    @property
    def steps_done(self) -> int: ...
    @property
    def device(self) -> str: ...
    @property
    def has_ema(self) -> bool: ...

class GanCore(_ModelCore):
    def latent(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor: ...
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None, ema: bool) -> torch.Tensor: ...
    def sample(
        self,
        n: int,
        seed: int | None = None,
        labels: torch.Tensor | None = None,
        ema: bool = True,
        truncation: float = 1.0,
    ) -> torch.Tensor: ...
    def guided_sample(
        self,
        n: int,
        guide: str,
        seed: int | None = None,
        labels: torch.Tensor | None = None,
        ema: bool = True,
        truncation: float = 1.0,
    ) -> torch.Tensor: ...
    def calibrate(
        self, real: torch.Tensor, labels: torch.Tensor | None = None, seed: int = 0, ema: bool = True
    ) -> dict[str, float]: ...
    @property
    def calibration(self) -> dict[str, float] | None: ...
    @property
    def augment_probability(self) -> float: ...
    def clusters_of(self, images: torch.Tensor) -> torch.Tensor: ...

def translator_options() -> list[OptionDescription]:
    """(name, default, choices, doc, kind, range) of every option of `rustgan.Translator`,
    in signature order."""

class TranslatorCore(_ModelCore):
    def translate(self, inputs: torch.Tensor, ema: bool) -> torch.Tensor: ...

def cycle_options() -> list[OptionDescription]:
    """(name, default, choices, doc, kind, range) of every option of `rustgan.CycleGAN`,
    in signature order."""

class CycleGanCore(_ModelCore):
    def translate(self, images: torch.Tensor, to: str, ema: bool) -> torch.Tensor: ...

def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str) -> torch.Tensor: ...
def interpolate_images(
    gan: GanCore,
    z0: torch.Tensor,
    z1: torch.Tensor,
    steps: int,
    method: str,
    labels: torch.Tensor | None,
    ema: bool,
) -> torch.Tensor: ...
def arithmetic(
    gan: GanCore, plus: list[torch.Tensor], minus: list[torch.Tensor] | None, base: torch.Tensor | None
) -> torch.Tensor: ...
def move_images(
    gan: GanCore,
    z: torch.Tensor,
    directions: torch.Tensor,
    amounts: torch.Tensor,
    labels: torch.Tensor | None,
    ema: bool,
) -> torch.Tensor: ...
def steered(
    gan: GanCore, base: torch.Tensor, directions: torch.Tensor, amounts: torch.Tensor, truncation: float
) -> torch.Tensor: ...
def project(
    gan: GanCore,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    mask: torch.Tensor | None,
    steps: int,
    lr: float,
    restarts: int,
    prior_weight: float,
    realism_weight: float,
    average_best: int,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, list[float], torch.Tensor]: ...
def sefa(gan: GanCore, k: int) -> tuple[torch.Tensor, torch.Tensor]: ...
def pca(gan: GanCore, z: torch.Tensor, labels: torch.Tensor | None, k: int) -> tuple[torch.Tensor, torch.Tensor]: ...
def boundary(
    gan: GanCore, z: torch.Tensor, labels: torch.Tensor | None, values: torch.Tensor, keep: torch.Tensor | None
) -> tuple[torch.Tensor, float]: ...
def move_latents(z: torch.Tensor, directions: torch.Tensor, amounts: torch.Tensor) -> torch.Tensor: ...
def into_clusters(gan: GanCore, z: torch.Tensor, ids: torch.Tensor) -> torch.Tensor: ...
def inpaint_posterior(
    gan: GanCore,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    mask: torch.Tensor,
    samples: int,
    steps: int,
    step_size: float,
    noise: float | None,
    candidates: int,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]: ...
def modes_2d(samples: torch.Tensor, centers: torch.Tensor, std: float) -> tuple[int, float, float]: ...
def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float: ...
def kernel_inception_distance(
    a: torch.Tensor, b: torch.Tensor, subsets: int, subset_size: int, seed: int
) -> tuple[float, float]: ...
def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int) -> tuple[float, float]: ...
def sliced_wasserstein(
    a: torch.Tensor, b: torch.Tensor, patches_per_image: int, seed: int
) -> tuple[list[float], float]: ...
def copy_rate(
    samples: torch.Tensor, train: torch.Tensor, held_out: torch.Tensor, quantile: float
) -> tuple[float, float, torch.Tensor]: ...
def torchscript_features(images: torch.Tensor, path: str, batch_size: int) -> torch.Tensor: ...
def digit_classifier(images: torch.Tensor, weights: str) -> tuple[torch.Tensor, torch.Tensor]: ...
def train_digit_classifier(
    images: torch.Tensor, labels: torch.Tensor, epochs: int, seed: int, path: str
) -> list[tuple[float, float]]: ...
