"""The notebook explorer: its controls change the image they draw."""

import io
from datetime import datetime, timezone

import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from PIL import Image
from rustgan import widgets

pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def explorer(mnist):
    gan = tiny_dcgan(num_classes=10, ema=0.99)
    gan.fit(mnist[0][:500], labels=mnist[1][:500], steps=20, batch_size=32, progress=False)
    return widgets.Explorer(gan, k=3)


def test_every_control_changes_the_image(explorer):
    shown = explorer.image.value
    assert Image.open(io.BytesIO(shown)).size == (252, 252)  # 28 px at 9x
    for control, value in [
        (explorer.amounts[0], 2.0),
        (explorer.amounts[2], -1.5),
        (explorer.truncation, 0.5),
        (explorer.seed, 7),
        (explorer.label, 3),
    ]:
        control.value = value
        assert explorer.image.value != shown, control.description
        shown = explorer.image.value
    expected = explorer.gan.latent(1, seed=7)[0] * 0.5 + 2.0 * explorer.directions.vectors[0]
    expected -= 1.5 * explorer.directions.vectors[2]
    assert torch.allclose(explorer.latent(), expected, atol=1e-6)
    assert explorer.render() < 1.0  # the time is shown; benchmarks say how fast, not this


def test_an_uploaded_image_is_projected_and_then_edited(explorer, mnist):
    digit = ((mnist[0][0, 0] + 1) * 127.5).to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(digit).resize((56, 56)).save(buffer, format="PNG")
    before = explorer.base.clone()
    upload = {"name": "digit.png", "type": "image/png", "size": 0, "content": buffer.getvalue()}
    explorer.upload.value = ({**upload, "last_modified": datetime.now(timezone.utc)},)
    assert not torch.equal(explorer.base, before) and explorer.truncation.value == 1.0
    projected = explorer.image.value
    explorer.amounts[1].value = 3.0
    assert explorer.image.value != projected


def test_a_self_conditioned_gan_gets_a_cluster_control(mnist):
    gan = tiny_dcgan(clusters=4)
    gan.fit(mnist[0][:300], steps=5, batch_size=32, progress=False)
    explorer = widgets.Explorer(gan, k=2)
    assert explorer.label.description == "cluster" and explorer.label.value == widgets.OWN_CLUSTER
    own = explorer.image.value
    assert own == widgets.png_bytes(gan.generate(explorer.latent().unsqueeze(0))[0])
    shown = {own}
    for cluster in range(4):
        explorer.label.value = cluster
        shown.add(explorer.image.value)
    assert len(shown) == 4  # its own cluster is one of the four, and looks the same


def test_the_explorer_needs_an_image_gan():
    with pytest.raises(rustgan.InvalidArgumentError, match="generator"):
        widgets.explorer(None)
    with pytest.raises(rustgan.InvalidArgumentError, match="shows images"):
        widgets.explorer(rustgan.GAN((2,), arch="mlp", device="cpu"))
