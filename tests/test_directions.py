"""Latent directions (SeFa, GANSpace), boundaries (InterFaceGAN) and moves along them."""

import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from rustgan import edit


@pytest.fixture(scope="module")
def gan(mnist):
    gan = tiny_dcgan(ema=0.99)
    gan.fit(mnist[0][:2000], steps=300, batch_size=32, progress=False)
    return gan


def ink(images):
    return ((images + 1) / 2).mean((1, 2, 3))


def test_sefa_is_the_eigenbasis_of_the_first_layer(gan):
    found = edit.directions(gan, k=5, method="sefa")
    assert found.vectors.shape == (5, 16) and found.method == "sefa"
    # The first layer is a transposed convolution [latent, channels, 7, 7] from z.
    weight = gan.generator_state_dict()["0.weight"].double().flatten(1).T
    values, vectors = torch.linalg.eigh(weight.T @ weight)
    for i in range(5):
        expected = vectors[:, -1 - i].float()
        assert abs(found.vectors[i] @ expected) == pytest.approx(1.0, abs=1e-4)
    assert torch.allclose(found.explained, (values.flip(0)[:5] / values.sum()).float(), atol=1e-5)
    assert torch.all(found.explained[:-1] >= found.explained[1:])


def test_pca_directions_are_unit_and_change_images_more_than_random_ones(gan):
    found = edit.directions(gan, k=4, method="pca", n=500, seed=0)
    assert torch.allclose(found.vectors.norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.all(found.explained[:-1] >= found.explained[1:]) and found.explained.sum() < 1
    z = gan.latent(200, seed=1)
    base = gan.generate(z)

    def change(vectors):
        return (edit.move(gan, z, vectors, [-3, 3]) - base).abs().mean()

    random = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    assert change(found.vectors) > change(random / random.norm(dim=1, keepdim=True))


def test_boundary_recovers_a_planted_attribute_and_keeps_others(gan):
    z = gan.latent(3000, seed=2)
    planted = torch.zeros(16)
    planted[[2, 5]] = torch.tensor([0.6, 0.8])
    found = edit.boundary(gan, z @ planted, z=z)
    assert found.normal @ planted > 0.98 and found.accuracy > 0.95
    # Two levels (labels) are two classes.
    assert edit.boundary(gan, (z @ planted > 0).long(), z=z).normal @ planted > 0.95
    axis5 = torch.zeros(16)
    axis5[5] = 1
    conditional = edit.boundary(gan, z @ planted, z=z, keep=[axis5])
    assert abs(conditional.normal[5]) < 1e-5 and conditional.normal[2] > 0.99


def test_moving_along_the_ink_boundary_adds_ink(gan):
    boundary = edit.boundary(gan, ink, n=1000, seed=0)
    z = gan.latent(50, seed=3)
    strips = edit.move(gan, z, boundary, [-2, 0, 2])  # [3, 50, 1, 28, 28]
    assert strips.shape == (3, 50, 1, 28, 28)
    assert torch.equal(strips[1], gan.generate(z))
    inks = torch.stack([ink(s) for s in strips])
    assert (inks[2] > inks[0]).float().mean() > 0.9
    assert inks[2].mean() > inks[1].mean() > inks[0].mean()


def test_move_shapes_and_conditional_classes(mnist):
    x, y = mnist
    conditional = tiny_dcgan(num_classes=10)
    conditional.fit(x[:500], labels=y[:500], steps=5, batch_size=32, progress=False)
    found = edit.directions(conditional, k=3, method="pca", n=100)
    z = conditional.latent(4, seed=0)
    grid = edit.move(conditional, z, found, [-1, 1], labels=[0, 1, 2, 3])
    assert grid.shape == (3, 2, 4, 1, 28, 28)
    moved = z + found.vectors[1]
    assert torch.equal(grid[1, 1], conditional.generate(moved, labels=torch.tensor([0, 1, 2, 3])))
    assert edit.move(conditional, z[0], found.vectors[0], [0, 1, 2], labels=7).shape == (3, 1, 28, 28)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda g, z: edit.move(g, z, torch.zeros(16)), "zero"),
        (lambda g, z: edit.move(g, z, torch.full((16,), float("nan"))), "NaN"),
        (lambda g, z: edit.move(g, z, torch.ones(15)), r"\[16\]"),
        (lambda g, z: edit.move(g, z, torch.ones(16), [0, float("inf")]), "amounts"),
        (lambda g, z: edit.boundary(g, lambda im: torch.ones(len(im)), n=100), "constant"),
        (lambda g, z: edit.boundary(g, lambda im: torch.ones(len(im), 2), n=100), "one value per sample"),
        (lambda g, z: edit.boundary(g, lambda im: ink(im) * float("nan"), n=100), "NaN"),
        (lambda g, z: edit.boundary(g, ink, n=100, keep=[torch.ones(3)]), "keep"),
        (lambda g, z: edit.directions(g, k=17), "k must"),
        (lambda g, z: edit.directions(g, method="ica"), "method"),
        (lambda g, z: edit.directions(g, method="pca", n=10), "more samples"),
    ],
)
def test_bad_directions_and_attributes_are_refused(gan, call, message):
    with pytest.raises(rustgan.InvalidArgumentError, match=message):
        call(gan, gan.latent(4, seed=0))
