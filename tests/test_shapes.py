"""The coloured-shapes data set, its exact score, and photo patches."""

import numpy as np
import pytest
import rustgan
import torch
from rustgan import data, metrics
from torch.nn import functional as F


@pytest.fixture(scope="module")
def drawn():
    return data.shapes(600, size=32, seed=0)


def test_shapes_are_drawn_as_specified(drawn):
    images, labels = drawn
    assert images.shape == (600, 3, 32, 32) and images.dtype == torch.float32
    assert images.min() == -1 and images.max() == 1
    assert torch.equal(data.shapes(600, size=32, seed=0)[0], images)
    assert not torch.equal(data.shapes(600, size=32, seed=1)[0], images)
    assert set(labels.tolist()) == set(range(18))
    unit = (images + 1) / 2
    covered = unit.amax(1)
    # Anti-aliased edges, and every channel either off or following the coverage.
    assert ((covered > 0.05) & (covered < 0.95)).any()
    colour = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]])[labels % 6]
    assert torch.allclose(unit, covered[:, None] * colour[:, :, None, None])
    # The extent lies in [0.3, 0.6] of the size (less the triangle's thin corners).
    rows, cols = (covered > 0.5).any(2), (covered > 0.5).any(1)
    assert (cols.sum(1) >= 0.3 * 32 - 2).all() and (cols.sum(1) <= 0.6 * 32 + 1).all()
    assert (rows.sum(1) >= 0.3 * 32 - 2).all() and (rows.sum(1) <= 0.6 * 32 + 1).all()
    # Kinds by their fill of the bounding box: squares ~1, circles ~pi/4, triangles ~1/2.
    fill = covered.sum((1, 2)) / (rows.sum(1) * cols.sum(1))
    for kind, expected in [(0, np.pi / 4), (1, 1.0), (2, 0.5)]:
        assert abs(fill[labels // 6 == kind].mean().item() - expected) < 0.08


def test_real_shapes_score_high_quality_with_every_mode(drawn):
    images, _ = drawn
    score = metrics.shapes_score(images)
    assert score["high_quality"] >= 0.99 and score["modes"] == 18 and score["reverse_kl"] < 0.05


def blurred(images, sigma):
    offsets = torch.arange(-3, 4).float()
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel[:, None] * kernel[None] / kernel.sum() ** 2
    return F.conv2d((images + 1) / 2, kernel.expand(3, 1, 7, 7), padding=3, groups=3) * 2 - 1


def side_by_side(images):
    """Two shapes per image: each image shrunk to half width, twice."""
    halves = F.interpolate(images, size=(32, 16), mode="area")
    return torch.cat([halves[0::2], halves[1::2]], dim=3)


def half_lit(images):
    """Each shape's unlit channels half lit: pink, orange, and the like."""
    unit = (images + 1) / 2
    return (unit + 0.5 * (unit.amax(1, keepdim=True) - unit)) * 2 - 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda x: torch.rand_like(x) * 2 - 1,  # noise
        lambda x: blurred(x, 1.0),
        side_by_side,
        half_lit,
    ],
    ids=["noise", "blur", "two shapes", "off-palette"],
)
def test_spoilt_images_are_not_high_quality(drawn, spoil):
    images = drawn[0][:200]
    assert metrics.shapes_score(spoil(images))["high_quality"] < 0.1


def test_collapse_shows_in_modes_and_reverse_kl(drawn):
    images, labels = drawn
    one_class = images[labels == 4]
    score = metrics.shapes_score(one_class)
    assert score["modes"] == 1 and abs(score["reverse_kl"] - np.log(18)) < 1e-6


def test_evaluate_recognises_shapes(drawn):
    images, _ = drawn

    class Replay:
        def sample(self, n, seed=0):
            return images[:n]

    scores = metrics.evaluate(Replay(), images, n=100)
    assert scores["high_quality"] == 1.0 and "swd" in scores and "fid" not in scores


def contains(image, crop) -> bool:
    """Whether `crop` ``[C, h, w]`` is a window of `image` ``[C, H, W]``."""
    h, w = crop.shape[1:]
    rows = image.unfold(2, w, 1)  # [C, H, W - w + 1, w]: candidates for the crop's first row
    starts = ((rows - crop[:, 0, None, None, :]).abs().amax((0, 3)) < 1e-6).nonzero().tolist()
    return any(torch.equal(image[:, top : top + h, left : left + w], crop) for top, left in starts)


def test_patches_crop_and_flip_photographs():
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    crops = data.patches(photos, size=64, n=50, seed=0)
    assert crops.shape == (50, 3, 64, 64) and crops.min() >= -1 and crops.max() <= 1
    assert torch.equal(crops, data.patches(photos, size=64, n=50, seed=0))
    # Each crop (or its mirror image) is found in one of the photographs.
    sources = [torch.tensor(p).permute(2, 0, 1).float() / 127.5 - 1 for p in photos]
    for crop in crops[:5]:
        assert any(contains(source, candidate) for source in sources for candidate in (crop, crop.flip(2)))
    batch = data.patches(torch.zeros(2, 1, 40, 40), size=32, n=3)
    assert batch.shape == (3, 1, 32, 32)
    stacked = data.patches(np.stack([photos[0][:400, :600]] * 2), size=64, n=4)  # uint8 [N, H, W, C]
    assert stacked.shape == (4, 3, 64, 64)
    assert contains(sources[0], stacked[0]) or contains(sources[0], stacked[0].flip(2))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.shapes(0), "n"),
        (lambda: data.shapes(10, size=4), "size"),
        (lambda: data.patches(torch.zeros(2, 3, 16, 16), size=32), "do not fit"),
        (lambda: data.patches([], size=8), "empty"),
        (lambda: data.patches([np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20), np.uint8)], size=8), "channel"),
        (lambda: data.patches(torch.full((1, 3, 16, 16), float("nan")), size=8), "NaN"),
        (lambda: metrics.shapes_score(torch.zeros(4, 1, 32, 32)), "RGB"),
        (lambda: metrics.shapes_score(torch.full((4, 3, 32, 32), float("nan"))), "NaN"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(rustgan.RustganError, match=match):
        call()
