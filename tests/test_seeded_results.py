"""Seeded results are pinned: a short seeded run of each training-step path ends with the
same weights as when these values were recorded.

Each network's weights are reduced to a fingerprint: their projections onto four fixed
random directions. Any change to initialisation, the order of random draws, the loss or
the update moves these numbers by orders of magnitude more than the tolerance, which
only admits the last-bit differences that another CPU's kernels could introduce.

Run with RUSTGAN_PRINT_FINGERPRINTS=1 to print the current values.
"""

import os

import pytest
import rustgan
import torch

PATHS = {
    "dcgan-autograd": (dict(data_shape=(1, 28, 28), latent_dim=16, base_channels=8, ema=0.9), "images"),
    "mlp-fused": (dict(data_shape=(2,), arch="mlp", latent_dim=4, hidden_dim=32, depth=2), "points"),
    "dcgan-conditional": (dict(data_shape=(1, 28, 28), latent_dim=16, base_channels=8, num_classes=10), "images"),
    "mlp-pac-r1": (
        dict(data_shape=(2,), arch="mlp", latent_dim=4, hidden_dim=32, depth=2, pac=2, r1_gamma=0.1),
        "points",
    ),
}

EXPECTED = {
    "dcgan-autograd": {
        "generator": [-11.814595539901397, 0.9426177805603899, 0.1712490178759163, 6.020795966055465],
        "discriminator": [3.112367643285154, 4.738181470769035, 1.4056161046996394, 1.737038107707492],
        # From the EMA generator, which moved when the EMA decay gained its warm-up, and
        # again when `fit` began re-estimating its batch-norm statistics.
        "sample": [-6.959244856018626, -23.498482517641747, -7.392790511072658, 0.8511158818171234],
    },
    "mlp-fused": {
        "generator": [0.7035649037759786, -6.9811556557490775, -3.771067767709302, -2.525350141866731],
        "discriminator": [-1.2438976685854706, 4.16569302131507, 2.3202048235936688, -3.205119190797964],
        "sample": [-0.1089046239650042, 0.05668258266392162, -0.8263012600011553, 0.43745681365747],
    },
    "dcgan-conditional": {
        "generator": [14.568587745318478, -9.374002778546073, 0.42833302382374727, 11.005959299527177],
        "discriminator": [3.9226272743522923, -0.7582706234894951, -5.800884871361125, 5.670568934694093],
        "sample": [0.14024271056591636, 0.23314551552766646, 0.012819152072779706, 0.10215283610369692],
    },
    "mlp-pac-r1": {
        "generator": [0.639274512811917, -7.040511147725266, -3.8834738644706794, -2.3998770469494937],
        "discriminator": [2.3468826483615057, 6.2933501349969445, -9.051585409162739, 0.9284544399948689],
        "sample": [0.05742528495754287, 0.9006847506061184, 0.797285043685857, 0.788949672804913],
    },
}


def fingerprint(state: dict[str, torch.Tensor]) -> list[float]:
    flat = torch.cat([t.double().flatten() for name, t in sorted(state.items()) if t.is_floating_point()])
    directions = torch.randn(4, len(flat), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return (directions @ flat).tolist()


def trained(name: str, mnist, ring) -> rustgan.GAN:
    options, data = PATHS[name]
    gan = rustgan.GAN(**options, seed=3, device="cpu")
    if data == "images":
        x, y = mnist
        labels = y[:512] if gan.num_classes else None
        gan.fit(x[:512], steps=6, batch_size=32, labels=labels, progress=False)
    else:
        gan.fit(ring[0][:512], steps=20, batch_size=64, progress=False)
    return gan


@pytest.mark.parametrize("name", list(PATHS))
def test_seeded_weights_are_unchanged(name, mnist, ring):
    gan = trained(name, mnist, ring)
    got = {
        "generator": fingerprint(gan.generator_state_dict(ema=False)),
        "discriminator": fingerprint(gan.discriminator_state_dict()),
        "sample": fingerprint({"x": gan.sample(16, seed=5)}),
    }
    if os.environ.get("RUSTGAN_PRINT_FINGERPRINTS"):
        print(f"\n{name!r}: {got!r},")
    for part, expected in EXPECTED[name].items():
        assert got[part] == pytest.approx(expected, rel=1e-4, abs=1e-4), (name, part)
