"""Mixed precision: bf16 convolutions and matmuls with fp32 master weights."""

import math
import os

import pytest
import rustgan
import torch
from conftest import tiny_dcgan


def test_bf16_first_step_is_close_to_fp32_but_not_equal(mnist):
    x, _ = mnist
    full, half = tiny_dcgan(), tiny_dcgan(precision="bf16")
    first_full, first_half = full.step(x[:64]), half.step(x[:64])
    for name in ("loss/d", "loss/g"):
        assert first_half[name] != first_full[name], "bf16 must change the arithmetic"
        assert math.isclose(first_half[name], first_full[name], rel_tol=0.02), (name, first_half, first_full)
    for gan in (full, half):  # master weights stay fp32
        weights = [v for v in gan.generator_state_dict().values() if v.is_floating_point()]
        assert weights and all(v.dtype == torch.float32 for v in weights)
    assert half.generate(torch.randn(4, 16)).dtype == torch.float32


def native_bf16() -> bool:
    """Whether the CPU computes bf16 itself; elsewhere libtorch emulates it, 10-50x slower."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def test_auto_takes_bf16_exactly_where_the_cpu_has_it_natively(mnist):
    x, _ = mnist
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    allowed = isa == "ALL" or "BF16" in isa or "AMX" in isa
    expected = "bf16" if native_bf16() and allowed else "fp32"
    auto, chosen = tiny_dcgan(precision="auto"), tiny_dcgan(precision=expected)
    assert auto.step(x[:64]) == chosen.step(x[:64])
    assert auto.config["precision"] == "auto", "a checkpoint keeps auto: each machine decides"


@pytest.mark.slow
@pytest.mark.skipif(not native_bf16() and not torch.cuda.is_available(), reason="bf16 is emulated on this CPU")
def test_bf16_dcgan_learns_digits_like_fp32(mnist):
    x, _ = mnist
    scores = {}
    for precision in ("fp32", "bf16"):
        gan = tiny_dcgan(base_channels=16, precision=precision)
        history = gan.fit(x, steps=300, batch_size=64, log_every=100, progress=False)
        assert all(math.isfinite(v) for record in history for v in record.values())
        scores[precision] = rustgan.metrics.evaluate(gan, x[:2000], n=500)
    assert scores["bf16"]["classes_covered"] >= 8
    assert scores["bf16"]["fid"] < 1.5 * scores["fp32"]["fid"], scores


@pytest.mark.parametrize(
    "options",
    [
        dict(spectral_norm=True),
        dict(loss="wgan-gp", n_critic=2),
        dict(r1_gamma=1.0, augment="translation,cutout"),
        dict(num_classes=10),
    ],
)
def test_bf16_works_with_every_stabiliser(mnist, options):
    x, y = (t[::39][:128] for t in mnist)  # every class
    gan = tiny_dcgan(precision="bf16", **options)
    labels = y if options.get("num_classes") else None
    history = gan.fit(x, steps=6, batch_size=32, log_every=3, labels=labels, progress=False)
    assert all(math.isfinite(v) for record in history for v in record.values()), history


def test_bf16_mlp_and_checkpoint(ring, tmp_path):
    points, _ = ring
    gan = rustgan.GAN((2,), arch="mlp", precision="bf16", seed=0, device="cpu")
    gan.fit(points, steps=20, batch_size=64, progress=False)
    gan.save(tmp_path / "ck")
    loaded = rustgan.GAN.load(tmp_path / "ck")
    assert loaded.config["precision"] == "bf16"
    assert torch.equal(loaded.sample(8, seed=3), gan.sample(8, seed=3))


def test_unknown_precision_is_named():
    with pytest.raises(rustgan.InvalidArgumentError, match="precision"):
        rustgan.GAN((2,), arch="mlp", precision="fp16")
