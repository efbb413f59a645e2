"""Wesnoth's painted portraits and landscapes, and crops of the shipped photographs: the
real files where `wesnoth-1.16-data` is installed, and small stand-ins laid out as it lays
them out for how damaged or too small pictures are refused."""

import pytest
import rustgan
import torch
from rustgan import data, painted

needs_wesnoth = pytest.mark.skipif(
    not painted.WESNOTH_ROOT.exists(), reason=f"{painted.WESNOTH_ROOT} missing: apt-get install wesnoth-1.16-data"
)


def assert_images(x, size):
    assert x.dtype == torch.float32 and x.shape[1:] == (3, size, size)
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0.1


def fake_wesnoth(root, paintings=("landscape-coast", "hills"), painting_size=(200, 150)):
    """Two portraits of two kinds, one named character, and small paintings."""
    from PIL import Image

    for path, colour in [
        ("core/images/portraits/elves/archer.png", (0, 200, 0, 255)),
        ("core/images/portraits/orcs/grunt.png", (200, 0, 0, 255)),
        ("campaigns/tutorial/images/portraits/hero.png", (0, 0, 200, 128)),
    ]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGBA", (40, 30), colour).save(root / path)
    story = root / "core/images/story"
    story.mkdir(parents=True)
    for i, name in enumerate(paintings):
        Image.new("RGB", painting_size, (20 * i, 100, 200)).save(story / f"{name}.jpg")
    return root


@needs_wesnoth
def test_portraits_are_painted_characters_on_white_labelled_by_kind():
    x, y = data.portraits(32)
    assert len(x) == len(y) == 241
    assert_images(x, 32)
    races = data.portrait_races()
    assert {"humans", "elves", "dwarves", "orcs", "undead"} <= set(races)
    assert y.bincount(minlength=len(races)).min() >= 1
    top_corners = x[:, :, 0, [0, -1]]  # figures are cut off at the bottom, not the top
    assert (top_corners > 0.99).float().mean() > 0.9, "transparent ground is laid on white"


@needs_wesnoth
def test_painting_crops_hold_out_whole_paintings():
    assert len(data.painting_names()) == 18
    train, test = data.painting_names("train"), data.painting_names("test")
    assert set(test) == set(painted.HELD_OUT_PAINTINGS) and not set(train) & set(test) and len(train) == 16
    crops = data.paintings(64, n=50, seed=3)
    assert_images(crops, 64)
    assert torch.equal(crops, data.paintings(64, n=50, seed=3))
    assert not torch.equal(crops, data.paintings(64, n=50, split="test", seed=3))
    with pytest.raises(rustgan.DataError, match="landscape-mountains-02 is 720x960 px.*size <= 180"):
        data.paintings(256)  # a quarter of a painting's height is 240 px at most: never enlarged


def test_loaders_read_their_layout_and_name_what_they_refuse(tmp_path):
    root = fake_wesnoth(tmp_path)
    x, y = data.portraits(16, root=root)
    assert x.shape == (3, 3, 16, 16)
    races = data.portrait_races(root)
    assert races == ["elves", "named", "orcs"] and sorted(y.tolist()) == [0, 1, 2]
    assert data.painting_names("test", root=root) == ["landscape-coast"]
    assert data.paintings(16, n=4, split="all", root=root).shape == (4, 3, 16, 16)
    with pytest.raises(rustgan.DataError, match=r"hills is 200x150 px, smaller than the 320 px short side"):
        data.paintings(80, root=root)
    with pytest.raises(rustgan.InvalidArgumentError, match="crop_fraction"):
        data.paintings(16, crop_fraction=0, root=root)
    with pytest.raises(rustgan.InvalidArgumentError, match="split"):
        data.paintings(16, split="validation", root=root)
    (root / "core/images/portraits/orcs/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(rustgan.DataError, match="broken.png"):
        data.portraits(16, root=root)
    (root / "core/images/story/hills.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(rustgan.DataError, match="hills.jpg"):
        data.paintings(16, root=root)


def test_missing_art_names_the_package(tmp_path):
    for call in (lambda: data.portraits(root=tmp_path / "absent"), lambda: data.paintings(root=tmp_path / "absent")):
        with pytest.raises(rustgan.DataError, match="apt-get install wesnoth-1.16-data"):
            call()
    (tmp_path / "empty").mkdir()
    with pytest.raises(rustgan.DataError, match="no portraits"):
        data.portraits(root=tmp_path / "empty")


def test_photo_crops_span_a_share_of_each_photograph():
    pytest.importorskip("skimage", reason="pip install scikit-image")
    crops = data.photos(["china", "flower"], size=32, n=20, crop_fraction=0.5, seed=1)
    assert_images(crops, 32)
    assert torch.equal(crops, data.photos(["china", "flower"], size=32, n=20, crop_fraction=0.5, seed=1))
    with pytest.raises(rustgan.DataError, match="photograph chelsea is 451x300 px"):
        data.photos(["chelsea"], size=128)
