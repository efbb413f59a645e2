"""Loaders of real data from Debian packages and PyPI wheels, and how they refuse damaged
files. Each test skips, naming the package, where its data is not installed."""

import gzip
import shutil
import struct

import pytest
import rustgan
import torch
from rustgan import data, real_data


def needs(path, package):
    return pytest.mark.skipif(not path.exists(), reason=f"{path} missing: apt-get install {package}")


needs_fashion = needs(real_data.FASHION_ROOT, "dataset-fashion-mnist")
needs_emoji = needs(real_data.EMOJI_FONT, "fonts-noto-color-emoji")
needs_clipart = needs(real_data.CLIPART_ROOT, "openclipart-png")
needs_mri = needs(real_data.MRI_ROOT / "ch2.nii.gz", "mricron-data")


def assert_images(x, channels, size):
    assert x.dtype == torch.float32 and x.shape[1:] == (channels, size, size)
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0.1


@needs_fashion
def test_fashion_mnist_splits_labels_and_sizes():
    x, y = data.fashion_mnist("test")
    assert len(x) == len(y) == 10_000
    assert_images(x, 1, 28)
    assert torch.equal(y.bincount(), torch.full((10,), 1000))  # the test split is balanced
    assert len(data.fashion_mnist()[0]) == 60_000
    assert_images(data.fashion_mnist("test", size=32)[0][:100], 1, 32)
    with pytest.raises(rustgan.InvalidArgumentError, match="'validation'"):
        data.fashion_mnist("validation")
    with pytest.raises(rustgan.InvalidArgumentError, match="size"):
        data.fashion_mnist("test", size=512)


def write_idx(path, values, shape):
    header = struct.pack(">BBBB", 0, 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    with gzip.open(path, "wb") as file:
        file.write(header + bytes(values))


def test_damaged_idx_files_are_named(tmp_path):
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(labels, [1, 2], (2,))
    write_idx(images, bytes(2 * 28 * 28 - 5), (2, 28, 28))
    with pytest.raises(rustgan.DataError, match=r"t10k-images.*truncated"):
        data.fashion_mnist("test", root=tmp_path)
    images.write_bytes(gzip.compress(b"not an idx file at all")[:-6])  # cut-off gzip
    with pytest.raises(rustgan.DataError, match="cannot read .*t10k-images"):
        data.fashion_mnist("test", root=tmp_path)
    images.write_bytes(gzip.compress(b"\x00\x00\x0d\x03" + bytes(12)))  # floats, not bytes
    with pytest.raises(rustgan.DataError, match="not an IDX file"):
        data.fashion_mnist("test", root=tmp_path)
    with pytest.raises(rustgan.DataError, match="train-images.*apt-get install dataset-fashion-mnist"):
        data.fashion_mnist("train", root=tmp_path)


@needs_emoji
def test_emoji_render_on_white_in_colour():
    x = data.emoji(size=32)
    assert len(x) > 1000
    assert_images(x, 3, 32)
    assert (x[:, :, 0, 0] == 1).all(), "corners are white"
    assert (x[:, 0] - x[:, 2]).abs().mean() > 0.05, "in colour, not grey"
    with pytest.raises(rustgan.InvalidArgumentError, match="size"):
        data.emoji(size=200)


def test_a_damaged_font_is_named(tmp_path):
    font = tmp_path / "broken.ttf"
    font.write_bytes(b"\x00\x01\x00\x00 not really a font")
    with pytest.raises(rustgan.DataError, match="broken.ttf"):
        data.emoji(font=font)
    with pytest.raises(rustgan.DataError, match="fonts-noto-color-emoji"):
        data.emoji(font=tmp_path / "missing.ttf")


@needs_clipart
def test_clipart_by_category_and_name(tmp_path):
    categories = data.clipart_categories()
    assert len(categories) == 22 and "animals" in categories
    x, y = data.clipart(size=32, category="containers")
    assert_images(x, 3, 32)
    assert (y == categories.index("containers")).all()
    birds, _ = data.clipart(size=16, category="animals/birds")
    named, _ = data.clipart(size=16, category="animals", name="penguin")
    assert 0 < len(named) < len(birds) + len(named)
    with pytest.raises(rustgan.InvalidArgumentError, match="no clipart category 'cats'.*animals"):
        data.clipart(category="cats")
    with pytest.raises(rustgan.DataError, match="whose name contains 'zzzz'"):
        data.clipart(category="containers", name="zzzz")
    # A damaged drawing is named.
    folder = tmp_path / "things"
    shutil.copytree(real_data.CLIPART_ROOT / "containers", folder)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(rustgan.DataError, match="broken.png"):
        data.clipart(root=tmp_path)


def test_clipart_leaves_out_drawings_too_large_to_decode(tmp_path, monkeypatch):
    from PIL import Image

    for folder, side in [("small", 20), ("huge", 100)]:
        (tmp_path / folder).mkdir()
        Image.new("RGBA", (side, side), (255, 0, 0, 255)).save(tmp_path / folder / f"{folder}.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 100 x 100 is over twice the guard
    x, y = data.clipart(size=16, root=tmp_path)
    assert x.shape == (1, 3, 16, 16) and y.tolist() == [data.clipart_categories(tmp_path).index("small")]
    with pytest.raises(rustgan.DataError, match="too large"):
        data.clipart(size=16, category="huge", root=tmp_path)


@needs_mri
def test_mri_slices_and_label_maps_share_a_grid():
    slices = data.mri(axis=2, size=32)
    assert_images(slices, 1, 32)
    labels, scans = data.mri(task="labels-to-mri", size=32)
    assert labels.shape == scans.shape and len(scans) > 300
    regions = data.mri_regions(labels)
    assert regions.max() == real_data.MRI_REGIONS and len(regions.unique()) > 100
    assert (scans[regions > 0] > -0.9).float().mean() > 0.95, "labelled pixels lie inside the head"
    means = data.mri_region_means(labels, scans)
    for region in (0, 42):
        assert means[region].item() == pytest.approx(scans[regions == region].mean().item(), abs=1e-3)
    painted = means[regions]
    with pytest.raises(rustgan.InvalidArgumentError, match="share a shape"):
        data.mri_region_means(labels[:2], scans[:3])
    assert rustgan.edit.psnr(painted, scans).mean() > rustgan.edit.psnr(scans.mean().expand_as(scans), scans).mean()
    with pytest.raises(rustgan.InvalidArgumentError, match="task"):
        data.mri(task="segmentation")
    with pytest.raises(rustgan.InvalidArgumentError, match="axis"):
        data.mri(axis=3)


@needs_mri
def test_a_damaged_nifti_file_is_named(tmp_path):
    shutil.copy(real_data.MRI_ROOT / "aal.nii.gz", tmp_path / "aal.nii.gz")
    (tmp_path / "ch2.nii.gz").write_bytes((real_data.MRI_ROOT / "ch2.nii.gz").read_bytes()[:5000])
    with pytest.raises(rustgan.DataError, match="ch2.nii.gz"):
        data.mri(root=tmp_path)


def test_photos_feed_patches():
    pytest.importorskip("skimage", reason="pip install scikit-image")
    photos = data.photos()
    assert len(photos) == len(real_data.PHOTOS)
    assert all(p.dim() == 3 and p.shape[0] == 3 and -1 <= p.min() and p.max() <= 1 for p in photos)
    crops = data.patches(photos, size=48, n=20)
    assert_images(crops, 3, 48)
    with pytest.raises(rustgan.InvalidArgumentError, match="'lena'"):
        data.photos(["lena"])
