"""Seeded results are pinned: a short seeded run of each training path (DCGAN through
autograd, the hand-differentiated MLP step, conditional, packing with R1, the residual
family, self-conditioning on clusters (picked by z, as saved before cluster codes, and
carried as a code), the pix2pix translator and CycleGAN) ends with the same
weights as when these values were recorded.

Each network's weights are reduced to a fingerprint: their projections onto four fixed
random directions. A fingerprint matches when it lies within TOLERANCE of the pinned one,
relative to the pinned one's length. That admits the rounding of another CPU's kernels:
over oneDNN's AVX512 (with bf16), AVX512 core, AVX2 and SSE4.1 kernels, MKL's AVX2 and
SSE4.2 ones and 1 to 16 threads, fingerprints differed by at most 3.8e-4 of their length
(the residual generator, whose convolution biases feed batch norm: their gradient is
rounding alone), and by at most 1.4e-4 on every other path. A changed initialisation,
order of random draws, loss or update moves them by far more: another seed moves every
fingerprint by 0.29-2.4 of its length, and even a 1% larger learning rate moves the
sample of every path but the residual one by 3.8e-3 or more.

Run with RUSTGAN_PRINT_FINGERPRINTS=1 to print the current values.
"""

import os

import pytest
import rustgan
import torch

IMAGES = dict(data_shape=(1, 28, 28), latent_dim=16, base_channels=8)
POINTS = dict(data_shape=(2,), arch="mlp", latent_dim=4, hidden_dim=32, depth=2)
# Each path: the model's options and what it trains on.
PATHS = {
    "dcgan-autograd": (dict(IMAGES, ema=0.9), "images"),
    "mlp-fused": (POINTS, "points"),
    "dcgan-conditional": (dict(IMAGES, num_classes=10), "images"),
    "mlp-pac-r1": (dict(POINTS, pac=2, r1_gamma=0.1), "points"),
    "resnet-hinge-sn": (
        dict(IMAGES, arch="resnet", base_channels=4, loss="hinge", spectral_norm=True, ema=0.9),
        "images",
    ),
    "dcgan-clusters": (dict(IMAGES, clusters=5, cluster_code=False), "images"),
    "dcgan-cluster-code": (dict(IMAGES, clusters=5), "images"),
    "translator": (dict(base_channels=8, ema=0.9), "pairs"),
    "cycle": (dict(base_channels=8, ema=0.9), "unpaired"),
}

TOLERANCE = 1e-3

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
    "resnet-hinge-sn": {
        "generator": [7.225309018155192, 0.16452033738933114, -5.985643076866468, -22.078064027790244],
        "discriminator": [-7.0979533196481235, 15.594162088444335, -11.596812784660765, -1.6160844069315154],
        "sample": [54.33200938744344, 103.00162659490044, -52.07443315322561, -8.772417024091055],
    },
    "dcgan-clusters": {
        "generator": [6.562875230098808, 0.3182898404038288, -2.1454454601710595, 0.2772647277593552],
        "discriminator": [0.6443963570172302, 3.2022658445436396, 0.7449035909080999, -0.13261846211621353],
        "sample": [-0.3179202438597976, -0.10952578032980798, 0.13902827005536736, -0.20374992190124608],
    },
    "dcgan-cluster-code": {
        "generator": [6.60152704500668, 0.20972076915030113, -2.1885087410269795, 0.32466584790327113],
        "discriminator": [0.6540577893916841, 3.217297802184131, 0.7302605096256805, -0.12920784569393362],
        "sample": [-0.2954546436425766, -0.13088534609444846, 0.11955064232130526, -0.18542190008907358],
    },
    "translator": {
        "generator": [-0.013621706446713233, 7.737697033940876, -24.066665130243436, 2.124139776328347],
        "discriminator": [-6.249473342887536, 5.797033266220284, -10.10098710939754, -7.735644667643533],
        "sample": [0.2240661580003389, 0.9433316519636987, -0.6488942784510594, -0.8253886149933528],
    },
    "cycle": {
        "generator": [-3.65024109603059, 5.4559699163128075, -19.54549507085008, -0.7862234106285402],
        "discriminator": [2.2574540110182713, 3.446387781821919, -1.3138770939805544, 0.9556198560143534],
        "sample": [-1.5483719001738032, 1.2389245323343854, -0.828888255816437, -0.8994188084520032],
    },
}


def fingerprint(state: dict[str, torch.Tensor]) -> list[float]:
    flat = torch.cat([t.double().flatten() for name, t in sorted(state.items()) if t.is_floating_point()])
    directions = torch.randn(4, len(flat), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return (directions @ flat).tolist()


def trained(name: str, mnist, ring):
    options, data = PATHS[name]
    x, y = mnist
    if data == "pairs":
        inputs, targets = rustgan.data.pairs(x[:512], "superres")
        model = rustgan.Translator(inputs.shape[1:], targets.shape[1:], **options, seed=3, device="cpu")
        model.fit(inputs, targets, steps=6, batch_size=32, progress=False)
    elif data == "unpaired":
        model = rustgan.CycleGAN((1, 28, 28), (1, 28, 28), **options, seed=3, device="cpu")
        model.fit(x[:256], -x[256:512], steps=6, batch_size=16, progress=False)
    elif data == "images":
        model = rustgan.GAN(**options, seed=3, device="cpu")
        model.fit(x[:512], steps=6, batch_size=32, labels=y[:512] if model.num_classes else None, progress=False)
    else:
        model = rustgan.GAN(**options, seed=3, device="cpu")
        model.fit(ring[0][:512], steps=20, batch_size=64, progress=False)
    return model


def fingerprints(model, mnist) -> dict[str, list[float]]:
    if isinstance(model, rustgan.Translator):
        output = model.translate(rustgan.data.pairs(mnist[0][-16:], "superres")[0])
    elif isinstance(model, rustgan.CycleGAN):
        output = model.translate(mnist[0][-16:], to="b")
    else:
        output = model.sample(16, seed=5)
    return {
        "generator": fingerprint(model.generator_state_dict(ema=False)),
        "discriminator": fingerprint(model.discriminator_state_dict()),
        "sample": fingerprint({"x": output}),
    }


@pytest.mark.parametrize("name", list(PATHS))
def test_seeded_weights_are_unchanged(name, mnist, ring):
    got = fingerprints(trained(name, mnist, ring), mnist)
    if os.environ.get("RUSTGAN_PRINT_FINGERPRINTS"):
        print(f"\n{name!r}: {got!r},")
    for part, expected in EXPECTED[name].items():
        pinned = torch.tensor(expected, dtype=torch.float64)
        moved = (torch.tensor(got[part], dtype=torch.float64) - pinned).norm() / pinned.norm()
        assert moved <= TOLERANCE, f"{name} {part}: moved by {moved:.2e} of its length: {got[part]}"
