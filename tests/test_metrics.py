"""Evaluation metrics with known answers, the shipped digit classifier, and FID that
separates real held-out digits from a briefly trained GAN."""

import json
import math

import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from rustgan import cli, metrics, real_data


def test_modes_2d_on_the_true_mixture_and_on_collapse():
    points, centers = rustgan.data.ring2d(2500, std=0.01, seed=1)
    scores = metrics.modes_2d(points, centers, std=0.01)
    assert scores["modes"] == 8 and scores["high_quality"] > 0.98 and scores["reverse_kl"] < 0.01
    collapsed = metrics.modes_2d(centers[3].expand(500, 2), centers, std=0.01)
    assert collapsed["modes"] == 1 and collapsed["high_quality"] == 1.0
    assert collapsed["reverse_kl"] == pytest.approx(math.log(8))


def test_feature_distances_are_zero_on_identical_sets_and_grow_with_noise():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(600, 16, generator=generator)
    assert abs(metrics.frechet_distance(features, features)) < 1e-6
    noisy = [features + s * torch.randn(600, 16, generator=generator) for s in (0.1, 0.5, 1.0)]
    distances = [metrics.frechet_distance(features, x) for x in noisy]
    assert distances == sorted(distances) and distances[0] > 0
    assert metrics.precision_recall(features, features) == (1.0, 1.0)
    # KID is unbiased: ~0 between two samples of one distribution, positive after a shift.
    fresh = torch.randn(600, 16, generator=generator)
    kid_same, _ = metrics.kid(features, fresh, subset_size=200)
    kid_shifted, _ = metrics.kid(features, fresh + 0.3, subset_size=200)
    assert abs(kid_same) < 0.05 < 0.25 < kid_shifted


def test_swd_is_zero_on_identical_sets_and_deterministic():
    x = rustgan.data.mnist()[0][:16]
    assert metrics.swd(x, x)["mean"] == 0.0
    other = rustgan.data.mnist()[0][-16:]
    first, again = metrics.swd(x, other, seed=3), metrics.swd(x, other, seed=3)
    assert first == again and first["mean"] > 0
    assert len(first["per_level"]) == 2  # 28 px padded to 32: levels 32 and 16


def test_shipped_digit_classifier_accuracy():
    _, (x_test, y_test) = metrics.digit_split()
    accuracy = (metrics.digit_logits(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy >= 0.97
    assert metrics.digit_features(x_test[:5]).shape == (5, 128)


@pytest.mark.skipif(not real_data.FASHION_ROOT.exists(), reason="apt-get install dataset-fashion-mnist")
def test_shipped_fashion_classifier_accuracy():
    x, y = rustgan.data.fashion_mnist("test")
    accuracy = (metrics.digit_logits(x[:2000], metrics.FASHION_CLASSIFIER).argmax(1) == y[:2000]).float().mean()
    assert accuracy >= 0.89  # 91.0% on the whole test split
    assert metrics.image_features(x[:5], "fashion").shape == (5, 128)


def test_efficientnet_features_tell_photographs_from_noise():
    pytest.importorskip("efficientnet_lite_pytorch", reason="pip install efficientnet-lite-pytorch")
    photos = rustgan.data.photos()
    crops, other = (rustgan.data.patches(photos, size=48, n=32, seed=seed) for seed in (0, 1))
    noise = torch.rand(32, 3, 48, 48) * 2 - 1
    a, b, c = (metrics.efficientnet_features(x) for x in (crops, other, noise))
    assert a.shape == (32, 1280) and torch.equal(a, metrics.image_features(crops, "efficientnet"))
    # 32 items leave FID dominated by its bias in 1280 dimensions; the means still part.
    assert metrics.frechet_distance(a, b) < metrics.frechet_distance(a, c)
    assert (a.mean(0) - b.mean(0)).norm() < 0.5 * (a.mean(0) - c.mean(0)).norm()
    grey = metrics.efficientnet_features(crops[:4, :1])  # one channel is read as grey
    assert grey.shape == (4, 1280) and torch.isfinite(grey).all()


def test_class_coverage():
    one_hot = torch.eye(10).repeat(30, 1) * 5
    assert metrics.class_coverage(one_hot) == {"classes_covered": 10, "class_kl": pytest.approx(0.0, abs=1e-12)}
    collapsed = metrics.class_coverage(one_hot[:1].repeat(300, 1))
    assert collapsed["classes_covered"] == 1 and collapsed["class_kl"] == pytest.approx(math.log(10))


class HeldOut:
    """Stands in for a GAN whose samples are real held-out digits."""

    def __init__(self, images):
        self.images = images

    def sample(self, n, seed=None):
        return self.images[:n]


@pytest.mark.slow
def test_fid_separates_held_out_digits_from_a_briefly_trained_gan(mnist):
    (x_train, _), (x_test, _) = metrics.digit_split()
    real_scores = metrics.evaluate(HeldOut(x_test), x_train, n=500)
    gan = tiny_dcgan(base_channels=16)
    gan.fit(x_train, steps=150, batch_size=64, progress=False)
    gan_scores = gan.evaluate(x_train, n=500)
    assert gan_scores == gan.evaluate(x_train, n=500)  # fixed seeds: same numbers
    assert real_scores["fid"] < 10 and gan_scores["fid"] > 10 * real_scores["fid"]
    assert real_scores["classes_covered"] == 10 and real_scores["class_kl"] < 0.05
    assert real_scores["precision"] > 0.6 and real_scores["recall"] > 0.6
    assert gan_scores["swd"] > real_scores["swd"]


def test_torchscript_feature_extractor(tmp_path):
    torch.manual_seed(0)
    extractor = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.Tanh()))
    extractor.save(str(tmp_path / "extractor.pt"))
    x = rustgan.data.mnist()[0][:100]
    features = metrics.torchscript_features(x, tmp_path / "extractor.pt", batch_size=64)
    with torch.no_grad():
        assert torch.allclose(features, extractor(x), atol=1e-6)
    gan = tiny_dcgan()
    scores = gan.evaluate(x, n=100, feature_extractor=tmp_path / "extractor.pt")
    with torch.no_grad():
        expected = metrics.frechet_distance(extractor(x), extractor(gan.sample(100, seed=0)))
    assert scores["fid"] == pytest.approx(expected, rel=1e-6)
    assert "classes_covered" not in scores
    (tmp_path / "broken.pt").write_bytes(b"not torchscript")
    with pytest.raises(rustgan.InvalidArgumentError, match="TorchScript"):
        metrics.torchscript_features(x, tmp_path / "broken.pt")


def test_bad_metric_inputs_are_named():
    with pytest.raises(rustgan.InvalidArgumentError, match=r"a must be \[N, F\] with N >= 2, got \(5,\)"):
        metrics.frechet_distance(torch.randn(5), torch.randn(5, 2))
    with pytest.raises(rustgan.InvalidArgumentError, match="NaN"):
        metrics.frechet_distance(torch.full((5, 2), math.nan), torch.randn(5, 2))
    with pytest.raises(rustgan.InvalidArgumentError, match="1-channel"):
        metrics.digit_features(torch.zeros(2, 3, 28, 28))
    with pytest.raises(rustgan.InvalidArgumentError, match="centers"):
        rustgan.GAN(2, arch="mlp").evaluate(torch.randn(10, 2), n=10)


def test_cli_evaluate_prints_a_table_and_writes_json(tmp_path, capsys):
    gan = tiny_dcgan()
    gan.save(tmp_path / "ck")
    code = cli.main(
        [
            "evaluate",
            "--checkpoint",
            str(tmp_path / "ck"),
            "--data",
            "mnist",
            "--n",
            "100",
            "--out",
            str(tmp_path / "scores.json"),
        ]
    )
    assert code == 0
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert {"fid", "kid", "precision", "recall", "swd", "classes_covered"} <= set(scores)
    assert "fid" in capsys.readouterr().out


class Copier:
    """A 'GAN' that returns training images with faint noise: a perfect memoriser."""

    def __init__(self, images):
        self.images = images

    def sample(self, n, seed=0):
        noise = torch.randn(n, *self.images.shape[1:], generator=torch.Generator().manual_seed(seed))
        return (self.images[:n] + 0.01 * noise).clamp(-1, 1)


@pytest.mark.slow
def test_the_pixel_judges_tell_copies_from_new_images():
    (x_train, _), (x_test, _) = metrics.digit_split()
    held_out, new = x_test[:400], x_test[400:800]
    copies = Copier(x_train).sample(400)
    assert metrics.copy_rate(copies, x_train, held_out)["rate"] == 1.0
    assert metrics.copy_rate(new, x_train, held_out)["rate"] < 0.05
    assert metrics.copy_rate(held_out, x_train, held_out)["rate"] == pytest.approx(0.01, abs=0.005)
    noise = torch.rand(400, 1, 28, 28) * 2 - 1
    judged = metrics.swd_held_out(noise, held_out, x_train)
    assert judged["floor"] < metrics.swd_held_out(new, held_out, x_train)["swd"] * 1.5 < judged["swd"]
    scores = metrics.evaluate(Copier(x_train), x_train, n=200, held_out=held_out)
    assert scores["copy_rate"] == 1.0 and scores["swd_floor"] > 0
    with pytest.raises(rustgan.InvalidArgumentError, match="held-out images have shape"):
        metrics.evaluate(Copier(x_train), x_train, n=300, held_out=torch.zeros(10, 3, 28, 28))
    with pytest.raises(rustgan.InvalidArgumentError, match="quantile"):
        metrics.copy_rate(new, x_train, held_out, quantile=1.5)


@pytest.mark.slow
def test_gan_train_test_tells_real_labels_from_shuffled_ones(mnist):
    x, y = mnist
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = order[:1000], order[1000:1500]
    # Real images stand in for samples: with their own labels they train and read as well
    # as real data; with shuffled labels neither way works.
    honest = metrics.gan_train_test(x[train], y[train], x[train], y[train], x[test], y[test], epochs=3)
    assert honest["gan_train"] > 0.7 and honest["gan_test"] > 0.7 and honest["real_train"] > 0.7
    shuffled = y[train][torch.randperm(1000, generator=torch.Generator().manual_seed(1))]
    lying = metrics.gan_train_test(x[train], shuffled, x[train], y[train], x[test], y[test], epochs=3)
    assert lying["gan_train"] < 0.4 and lying["gan_test"] < 0.4
    with pytest.raises(rustgan.InvalidArgumentError, match="one label per image"):
        metrics.gan_train_test(x[train], y[:5], x[train], y[train], x[test], y[test])
    with pytest.raises(rustgan.InvalidArgumentError, match="must not be negative"):
        metrics.classifier_accuracy(x[train], y[train] - 5, x[test], y[test], epochs=1)
    with pytest.raises(rustgan.InvalidArgumentError, match=r"cannot read \(1, 32, 32\)"):
        metrics.classifier_accuracy(x[train], y[train], torch.zeros(4, 1, 32, 32), y[:4], epochs=1)


@pytest.mark.slow
def test_a_classifier_from_scratch_reads_colour_images_of_more_than_ten_classes():
    x, y = rustgan.data.shapes(1500, size=32, seed=0)
    accuracy = metrics.classifier_accuracy(x[:1200], y[:1200], x[1200:], y[1200:], epochs=3)
    shuffled = y[:1200][torch.randperm(1200, generator=torch.Generator().manual_seed(0))]
    chance = metrics.classifier_accuracy(x[:1200], shuffled, x[1200:], y[1200:], epochs=3)
    assert accuracy > 0.3 > 0.15 > chance, (accuracy, chance)  # 18 classes: chance is 0.06
    with pytest.raises(rustgan.InvalidArgumentError, match="multiple of 4"):
        metrics.classifier_accuracy(x[:10, :, :30, :30], y[:10], x[:10, :, :30, :30], y[:10], epochs=1)


@pytest.mark.slow
def test_cluster_gan_train_test_labels_samples_by_their_cluster():
    # Red and blue images: pixel clusters are the two labels, which the GAN never sees.
    labels = torch.arange(400) % 2
    colours = torch.tensor([[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]])[labels]
    noise = 0.1 * torch.randn(400, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    x = (colours[:, :, None, None] + noise).clamp(-1, 1)
    gan = rustgan.GAN((3, 32, 32), latent_dim=8, base_channels=8, clusters=2, lr_g=1e-3, lr_d=1e-3, seed=0)
    gan.fit(x, steps=100, batch_size=32, progress=False)
    found = metrics.cluster_gan_train_test(gan, x, labels, x[:100], labels[:100], n=400, epochs=2)
    assert found["purity"] == 1.0 and found["gan_test"] > 0.95 and found["gan_train"] > 0.95, found
    # Labels that the clusters do not follow: half of each cluster is the other label.
    unrelated = (torch.arange(400) // 2) % 2
    found = metrics.cluster_gan_train_test(gan, x, unrelated, x[:100], unrelated[:100], n=400, epochs=2)
    assert found["purity"] == 0.5 and found["gan_test"] < 0.7, found
    with pytest.raises(rustgan.InvalidArgumentError, match="self-conditioned"):
        metrics.cluster_gan_train_test(rustgan.GAN((3, 32, 32), base_channels=8), x, labels, x[:100], labels[:100])
