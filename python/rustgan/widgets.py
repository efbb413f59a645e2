"""An interactive explorer of a trained GAN for Jupyter: sliders for its top latent
directions, truncation, seed and class, and an upload that projects a real image so that
the sliders edit it.

    rustgan.widgets.explorer(gan)        # in a notebook cell
"""

from __future__ import annotations

import io
import time

import numpy as np
import torch
from PIL import Image

from . import _rustgan, edit
from ._checks import _choice, _float, _int
from .errors import InvalidArgumentError
from .gan import GAN

# Shown images are scaled up to about this many pixels wide, with square pixels.
DISPLAY_WIDTH = 256


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError:  # an optional dependency: name the fix
        raise ImportError("the explorer needs ipywidgets: pip install ipywidgets") from None
    return ipywidgets


def png_bytes(image: torch.Tensor) -> bytes:
    """One image ``[C, H, W]`` in [-1, 1] as PNG bytes, scaled up by a whole factor."""
    pixels = ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    array = pixels.permute(1, 2, 0).numpy()
    array = array[:, :, 0] if array.shape[2] == 1 else array
    scale = max(1, DISPLAY_WIDTH // array.shape[1])
    array = np.kron(array, np.ones((scale, scale) + (1,) * (array.ndim - 2), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


OWN_CLUSTER = -1  # the cluster control's "its own": the latent's


class Explorer:
    """The explorer's state and widgets; `explorer(gan)` builds one and returns its `view`.

    The image renders `truncation * z + sum(amount_i * direction_i)`, where z is the
    seed's latent or the projection of the last upload, in the chosen class (or, for a
    self-conditioned GAN, its own cluster or the chosen one)."""

    def __init__(self, gan: GAN, k: int = 5, method: str = "sefa", max_amount: float = 3.0):
        if not isinstance(gan, GAN):
            raise InvalidArgumentError(f"the explorer needs a rustgan.GAN with a generator, got {type(gan).__name__}")
        if len(gan.data_shape) != 3:
            raise InvalidArgumentError(f"the explorer shows images; this GAN makes items of shape {gan.data_shape}")
        w = _ipywidgets()
        self.gan = gan
        self.directions = edit.directions(gan, k=_int("k", k), method=_choice("method", method, ("sefa", "pca")))
        max_amount = _float("max_amount", max_amount)
        slider = dict(min=-max_amount, max=max_amount, step=0.1, value=0.0, continuous_update=True)
        self.amounts = [
            w.FloatSlider(description=f"{method} {i + 1}", **slider) for i in range(len(self.directions.vectors))
        ]
        self.truncation = w.FloatSlider(description="truncation", min=0.0, max=1.0, step=0.05, value=1.0)
        self.seed = w.IntText(description="seed", value=0)
        self.label = None
        if gan.num_classes:
            self.label = w.Dropdown(description="class", options=list(range(gan.num_classes)), value=0)
        elif gan.config["clusters"]:  # the latent carries its cluster; another one changes the digit
            clusters = [("its own", OWN_CLUSTER)] + [(str(c), c) for c in range(gan.config["clusters"])]
            self.label = w.Dropdown(description="cluster", options=clusters, value=OWN_CLUSTER)
        self.upload = w.FileUpload(description="project an image", accept="image/*", multiple=False)
        self.image = w.Image(format="png")
        self.status = w.Label()
        self.base = gan.latent(1, seed=0)[0]
        for control in [*self.amounts, self.truncation, self.label]:
            if control is not None:
                control.observe(lambda _: self.render(), names="value")
        self.seed.observe(lambda change: self.use_seed(change["new"]), names="value")
        self.upload.observe(lambda change: self.project_upload(change["new"]), names="value")
        reset = w.Button(description="reset sliders")
        reset.on_click(lambda _: self.reset())
        controls = [*self.amounts, self.truncation, self.seed, *([self.label] if self.label else [])]
        self.view = w.HBox([self.image, w.VBox([*controls, self.upload, reset, self.status])])
        self.render()

    def latent(self) -> torch.Tensor:
        """The latent the sliders describe ``[latent_width]``: z moved, a cluster code kept."""
        amounts = torch.tensor([slider.value for slider in self.amounts])
        steered = _rustgan.steered(
            self.gan._core, self.base.unsqueeze(0), self.directions.vectors, amounts, self.truncation.value
        )
        return steered[0]

    def render(self) -> float:
        """Draws the image; returns the seconds it took."""
        started = time.perf_counter()
        z = self.latent().unsqueeze(0)
        if self.label is None or self.label.value == OWN_CLUSTER:
            image = self.gan.generate(z)[0]
        elif self.gan.num_classes:
            image = self.gan.generate(z, labels=[self.label.value])[0]
        else:
            image = edit.class_swap(self.gan, z, classes=[self.label.value])[0, 0]
        self.image.value = png_bytes(image)
        seconds = time.perf_counter() - started
        self.status.value = f"rendered in {seconds * 1000:.0f} ms"
        return seconds

    def use_seed(self, seed: int) -> None:
        self.base = self.gan.latent(1, seed=int(seed))[0]
        self.render()

    def reset(self) -> None:
        for slider in self.amounts:
            slider.value = 0.0
        self.truncation.value = 1.0

    def project_upload(self, files) -> None:
        """Projects the uploaded image (resized, in the GAN's channels) and edits it from then on."""
        if not files:
            return
        content = bytes(
            files[0]["content"] if isinstance(files, (list, tuple)) else next(iter(files.values()))["content"]
        )
        self.project_image(Image.open(io.BytesIO(content)))

    def project_image(self, picture: Image.Image) -> None:
        channels, size, _ = self.gan.data_shape
        picture = picture.convert("L" if channels == 1 else "RGB").resize((size, size), Image.BILINEAR)
        array = np.asarray(picture, dtype=np.float32).reshape(size, size, channels)
        image = torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1
        labels = [self.label.value] if self.gan.num_classes else None
        self.status.value = "projecting..."
        self.base = edit.project(self.gan, image.unsqueeze(0), labels=labels).latents[0]
        if self.label is not None and not self.gan.num_classes:
            self.label.value = OWN_CLUSTER  # the projection's own cluster is the one that fits
        self.reset()
        self.render()


def explorer(gan: GAN, k: int = 5, method: str = "sefa", max_amount: float = 3.0):
    """An ipywidgets app for a trained image GAN: sliders for its top `k` directions (found
    by `method`, "sefa" or "pca", each from -`max_amount` to +`max_amount`), truncation,
    seed, class (when conditional) or cluster (when self-conditioned), and an upload that
    projects an image so that the sliders edit it. Display the returned widget (the last
    expression of a cell)."""
    return Explorer(gan, k, method, max_amount).view


__all__ = ["Explorer", "explorer", "png_bytes"]
