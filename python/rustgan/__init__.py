"""rustgan: GANs for image generation and editing, with a Rust core on libtorch.

import rustgan
x, y = rustgan.data.mnist()
options = rustgan.recipe("images")           # the recommended settings for small grey image sets
steps, batch_size = options.pop("steps"), options.pop("batch_size")
gan = rustgan.GAN(data_shape=(1, 28, 28), seed=0, **options)
history = gan.fit(x, steps=steps, batch_size=batch_size)   # about 4 minutes on 2 CPU cores
rustgan.plot.grid(gan.sample(64, seed=1), path="samples.png")
"""

# The native module links against libtorch_python, which `import torch` loads.
import torch  # noqa: F401

from . import data, distributed, edit, metrics, plot, torch_modules, widgets, zoo
from ._rustgan import cuda_is_available, set_num_threads
from .cycle import CycleGAN
from .errors import (
    ArgumentTypeError,
    CheckpointError,
    DataError,
    DistributedError,
    InvalidArgumentError,
    NonFiniteLossError,
    RustganError,
)
from .gan import GAN, recipe
from .torch_modules import export_torch, import_torch
from .translator import Translator
from .zoo import pretrained

__version__ = "0.1.0"

__all__ = [
    "GAN",
    "CycleGAN",
    "ArgumentTypeError",
    "CheckpointError",
    "DataError",
    "DistributedError",
    "InvalidArgumentError",
    "NonFiniteLossError",
    "RustganError",
    "Translator",
    "cuda_is_available",
    "data",
    "distributed",
    "edit",
    "export_torch",
    "import_torch",
    "metrics",
    "plot",
    "pretrained",
    "recipe",
    "set_num_threads",
    "torch_modules",
    "widgets",
    "zoo",
]
