"""Bad input gets a Python exception naming the problem, never a crash."""

import numpy as np
import pytest
import rustgan
import torch
from conftest import tiny_dcgan


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(arch="vit"), ValueError, "arch"),
        (dict(loss="wasserstein"), ValueError, "loss"),
        (dict(data_shape=(1, 30, 30)), ValueError, "28, 32, 64"),
        (dict(data_shape=(1, 28, 32)), ValueError, "data_shape"),
        (dict(data_shape=(0, 28, 28)), ValueError, "data_shape"),
        (dict(data_shape="mnist"), TypeError, "data_shape"),
        (dict(latent_dim=0), ValueError, "latent_dim"),
        (dict(latent_dim=2.5), TypeError, "latent_dim"),
        (dict(lr_g=-1.0), ValueError, "lr_g"),
        (dict(lr_d=float("nan")), ValueError, "lr_d"),
        (dict(betas_d=(0.5, 1.5)), ValueError, "betas_d"),
        (dict(ema=1.0), ValueError, "ema"),
        (dict(device="tpu"), ValueError, "device"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        tiny_dcgan(**kwargs)


def test_errors_belong_to_the_package():
    with pytest.raises(rustgan.RustganError):
        tiny_dcgan(data_shape=(1, 30, 30))
    with pytest.raises(rustgan.InvalidArgumentError):
        tiny_dcgan(arch="vit")


@pytest.mark.parametrize(
    "data, error, message",
    [
        (torch.rand(8, 3, 28, 28), ValueError, "shape"),
        (torch.rand(8, 1, 32, 32), ValueError, "shape"),
        (torch.rand(8, 28 * 28), ValueError, "shape"),
        (torch.full((8, 1, 28, 28), float("nan")), ValueError, "NaN"),
        (torch.tensor([[[[float("inf")]]]]).expand(8, 1, 28, 28), ValueError, "NaN or infinite"),
        (torch.rand(0, 1, 28, 28), ValueError, "empty"),
        (np.array([["a"] * 28] * 28, dtype=object)[None, None].repeat(4, 0), TypeError, "numeric"),
        (torch.zeros(8, 1, 28, 28, dtype=torch.bool), TypeError, "real numbers"),
        ([[1.0, 2.0]], TypeError, "torch.Tensor"),
        ("images", TypeError, "torch.Tensor"),
    ],
)
def test_bad_training_data(data, error, message):
    gan = tiny_dcgan()
    with pytest.raises(error, match=message):
        gan.step(data)
    with pytest.raises(error, match=message):
        gan.fit(data, steps=1, batch_size=1, progress=False)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(steps=-1), ValueError, "steps"),
        (dict(steps=1.5), TypeError, "steps"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=100), ValueError, "larger than the data"),
        (dict(log_every=0), ValueError, "log_every"),
        (dict(on_nan="ignore"), ValueError, "on_nan"),
    ],
)
def test_bad_fit_arguments(kwargs, error, message):
    options = dict(steps=1, batch_size=4, progress=False)
    options.update(kwargs)
    with pytest.raises(error, match=message):
        tiny_dcgan().fit(torch.rand(10, 1, 28, 28), **options)


def test_zero_steps_is_a_no_op():
    gan = tiny_dcgan()
    assert gan.fit(torch.rand(10, 1, 28, 28), steps=0, batch_size=4, progress=False) == []
    assert gan.steps_done == 0


def test_bad_sampling_arguments():
    gan = tiny_dcgan()
    with pytest.raises(ValueError, match="n must be at least 1"):
        gan.sample(0)
    with pytest.raises(ValueError, match="seed"):
        gan.sample(4, seed=-1)
    with pytest.raises(ValueError, match=r"latents must have shape \[N, 16\]"):
        gan.generate(torch.randn(4, 15))
    with pytest.raises(ValueError, match="NaN"):
        gan.generate(torch.full((2, 16), float("nan")))
    with pytest.raises(TypeError, match="z must be"):
        gan.generate([0.0] * 16)
