"""Self-conditioning on k-means clusters of the training data (`clusters=k`)."""

import itertools

import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from rustgan import data, metrics


def test_clusters_lift_sample_quality_on_the_ring():
    # k-means finds the ring's 8 modes, and G conditioned on them leaves few samples between.
    points, centers = data.ring2d(20_000, seed=0)
    scores = {}
    for clusters in (0, 8):
        gan = rustgan.GAN((2,), arch="mlp", clusters=clusters, lr_g=1e-3, lr_d=1e-3, ema=0.99, seed=0, device="cpu")
        gan.fit(points, steps=1000, batch_size=256, progress=False)
        scores[clusters] = metrics.modes_2d(gan.sample(2500, seed=1), centers, 0.01)
    assert scores[8]["modes"] == 8 and scores[8]["reverse_kl"] < 0.05, scores
    assert scores[8]["high_quality"] > scores[0]["high_quality"] + 0.2, scores
    # Guided sampling resamples within each sample's cluster, so the shares stay near the
    # unguided ones (a guide blind to the clusters drifts to the modes D rates highest).
    gan.calibrate(data.ring2d(2000, seed=1)[0])
    for guide in ("drs", "mh"):
        guided = metrics.modes_2d(gan.sample(2500, seed=1, guide=guide), centers, 0.01)
        assert guided["modes"] == 8, (guide, guided)
        assert guided["reverse_kl"] < scores[8]["reverse_kl"] + 0.05, (guide, guided, scores[8])


def test_clusters_are_found_once_saved_and_follow_the_latent(mnist, tmp_path):
    x = mnist[0][:400]
    gan = tiny_dcgan(clusters=5)
    before = gan.sample(6, seed=0)  # untrained: equal shares, no clusters yet
    assert before.shape == (6, 1, 28, 28)
    with pytest.raises(rustgan.InvalidArgumentError, match="call fit"):
        gan.step(x[:32])
    gan.fit(x, steps=3, batch_size=32, progress=False)
    gan.step(x[:32])  # real items are assigned to the clusters fit found
    gan.save(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "clusters.safetensors").is_file()
    loaded = rustgan.GAN.load(tmp_path / "ckpt")
    assert torch.equal(loaded.sample(6, seed=0), gan.sample(6, seed=0))
    # Training on from the checkpoint goes on alike: the clusters are not found again.
    for g in (gan, loaded):
        g.fit(x, steps=2, batch_size=32, progress=False)
    assert torch.equal(loaded.sample(6, seed=0), gan.sample(6, seed=0))
    # The latent alone decides the image, as for any unconditional GAN.
    z = gan.latent(4, seed=2)
    assert torch.equal(gan.generate(z), gan.generate(z))
    assert rustgan.edit.project(gan, x[:2], steps=3).images.shape == (2, 1, 28, 28)
    # class_swap renders each code in every cluster: its own gives it back, the others differ.
    grid = rustgan.edit.class_swap(gan, z)
    assert grid.shape == (5, 4, 1, 28, 28)
    own = (grid - gan.generate(z)).abs().flatten(2).amax(2) < 1e-4  # [cluster, code]
    assert own.sum(0).tolist() == [1, 1, 1, 1]
    assert (grid[:, 0] - grid[0, 0]).abs().flatten(1).amax(1)[1:].gt(1e-3).all()
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[0, 5\)"):
        rustgan.edit.class_swap(gan, z, classes=[5])


def test_a_latent_carries_its_cluster_as_a_code(mnist):
    x = mnist[0][:400]
    gan = tiny_dcgan(clusters=5)
    gan.fit(x, steps=3, batch_size=32, progress=False)
    z = gan.latent(2000, seed=0)
    assert gan.latent_width == 16 + 5 and z.shape == (2000, 21)
    codes = z[:, 16:]
    assert torch.equal(codes.sum(1), torch.ones(2000)) and set(codes.unique().tolist()) == {0.0, 1.0}
    # Clusters are drawn at the data's shares, apart from z.
    assert codes.mean(0).sum() == pytest.approx(1.0) and codes.mean(0).min() > 0
    # z alone still renders, its first coordinate picking the cluster; a soft code blends two.
    assert gan.generate(z[:4, :16]).shape == (4, 1, 28, 28)
    blend = torch.cat([z[:1, :16], torch.tensor([[0.5, 0.5, 0.0, 0.0, 0.0]])], 1)
    assert gan.generate(blend).shape == (1, 1, 28, 28)
    for code, message in [([0.5, 0.6, 0, 0, 0], "distributions"), ([1.5, -0.5, 0, 0, 0], "distributions")]:
        with pytest.raises(rustgan.InvalidArgumentError, match=message):
            gan.generate(torch.cat([z[:1, :16], torch.tensor([code])], 1))
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[N, 16 or 21\]"):
        gan.generate(torch.zeros(2, 18))
    # Directions move z and keep the code; the swap sets the code and keeps z.
    moved = rustgan.edit.move(gan, z[:3], rustgan.edit.directions(gan, k=2), [1.0])
    assert moved.shape == (2, 1, 3, 1, 28, 28)
    with pytest.raises(rustgan.InvalidArgumentError, match=r"\[16\] or \[K, 16\] \(latent_dim\)"):
        rustgan.edit.move(gan, z[:3], torch.ones(18))
    swapped = rustgan.edit.class_swap(gan, z[:3], classes=[2])[0]
    code_2 = torch.nn.functional.one_hot(torch.full((3,), 2), 5).float()
    assert torch.equal(swapped, gan.generate(torch.cat([z[:3, :16], code_2], 1)))
    # Between two clusters the code passes through soft codes.
    start, end = torch.cat([z[0, :16], code_2[0]]), torch.cat([z[0, :16], code_2[1].roll(1)])
    between = rustgan.edit.interpolate(gan, start, end, steps=3)
    halfway = torch.cat([z[0, :16], (code_2[0] + code_2[1].roll(1)) / 2])
    assert torch.allclose(between[1], gan.generate(halfway.unsqueeze(0))[0], atol=1e-5)


def test_projection_searches_the_cluster_code_and_returns_latents_that_render_its_images(mnist):
    x = mnist[0][:400]
    gan = tiny_dcgan(clusters=5, ema=0.9)
    gan.fit(x, steps=20, batch_size=32, progress=False)
    drawn = gan.generate(gan.latent(10, seed=3))
    found = rustgan.edit.project(gan, drawn, steps=100, restarts=5)
    assert found.latents.shape == (10, 21)
    assert torch.equal(found.latents[:, 16:].sum(1), torch.ones(10))  # hardened: one-hot codes
    # Projected into the generator `generate` renders with, so edits start from the fit.
    assert torch.allclose(gan.generate(found.latents), found.images, atol=1e-5)
    assert rustgan.edit.psnr(found.images, drawn).min() > 30


def test_reclustering_on_features_is_matched_saved_and_resumed_exactly(mnist, tmp_path):
    x = mnist[0][:400]
    gan = tiny_dcgan(clusters=5, recluster_every=2)
    gan.fit(x, steps=1, batch_size=32, progress=False)
    on_pixels = gan.clusters_of(x)
    gan.fit(x, steps=1, batch_size=32, progress=False)  # re-clusters after the second step
    on_features = gan.clusters_of(x)
    assert on_features.shape == (400,) and on_features.dtype == torch.int64
    assert 0 <= int(on_features.min()) and int(on_features.max()) < 5
    # New clusters take the numbers of the old ones they share most items with: more
    # items keep their number than under any other numbering of the same clusters.
    overlap = torch.zeros(5, 5)
    overlap.index_put_((on_pixels, on_features), torch.ones(400), accumulate=True)
    kept = int(overlap.diagonal().sum())
    best = max(int(overlap[:, list(perm)].diagonal().sum()) for perm in itertools.permutations(range(5)))
    assert kept == best, overlap
    # A save holds the clusters G trains with; the resumed run re-clusters alike.
    gan.save(tmp_path / "ckpt")
    loaded = rustgan.GAN.load(tmp_path / "ckpt")
    assert torch.equal(loaded.clusters_of(x), on_features)
    for g in (gan, loaded):
        g.fit(x, steps=3, batch_size=32, progress=False)
    assert torch.equal(loaded.sample(6, seed=0), gan.sample(6, seed=0))
    assert torch.equal(loaded.clusters_of(x), gan.clusters_of(x))
    with pytest.raises(rustgan.InvalidArgumentError, match="clusters=0"):
        tiny_dcgan().clusters_of(x)


def purity(ids: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of items in their cluster's commonest class."""
    return sum(int(torch.bincount(labels[ids == c]).max()) for c in ids.unique()) / len(labels)


@pytest.mark.slow
def test_clusters_of_pretrained_features_follow_the_kinds_pixels_miss(tmp_path):
    pytest.importorskip("efficientnet_lite_pytorch")
    x, y = rustgan.data.shapes(600, size=32, seed=0)
    options = dict(data_shape=(3, 32, 32), base_channels=8, clusters=30, seed=0, device="cpu")
    on_features = rustgan.GAN(**options, cluster_features="efficientnet")
    on_pixels = rustgan.GAN(**options)
    for gan in (on_features, on_pixels):
        gan.fit(x, steps=2, batch_size=32, progress=False)
    # 18 kinds of coloured shapes: pixels group colours and places, features the kinds.
    assert purity(on_features.clusters_of(x), y) > 0.85 > 0.6 > purity(on_pixels.clusters_of(x), y)
    # Saved with the clusters G trains with; resumed without computing features again.
    on_features.save(tmp_path / "ckpt")
    loaded = rustgan.GAN.load(tmp_path / "ckpt")
    assert not loaded._core.needs_cluster_features
    assert torch.equal(loaded.clusters_of(x), on_features.clusters_of(x))
    for gan in (on_features, loaded):
        gan.fit(x, steps=2, batch_size=32, progress=False)
    assert torch.equal(loaded.sample(4, seed=0), on_features.sample(4, seed=0))
    # New images take the cluster of their nearest mean image; the FID on these features says it flatters.
    assert on_features.clusters_of(x[:5] * 0.9).shape == (5,)
    scores = on_features.evaluate(x, n=50, features="efficientnet")
    assert "flatters" in scores["features"]


def test_pretrained_cluster_features_are_checked():
    gan = tiny_dcgan(clusters=4, cluster_features="efficientnet")
    assert gan._core.needs_cluster_features
    with pytest.raises(rustgan.InvalidArgumentError, match="NaN or infinite"):
        gan._core.stage_cluster_features(torch.full((10, 8), float("nan")))
    with pytest.raises(rustgan.InvalidArgumentError, match="staged for training data of 64"):
        gan._core.stage_cluster_features(torch.randn(10, 8))
        gan._core.fit(torch.zeros(64, 1, 28, 28), None, 1, 32, 1, "raise", lambda *a: None)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(clusters=-1), "clusters must be at least 0"),
        (dict(data_shape=(2,), arch="mlp", clusters=3, cluster_features="efficientnet"), "images of 1 or 3"),
        (dict(clusters=3, cluster_features="efficientnet", recluster_every=5), "use one of the two"),
        (dict(clusters=3, cluster_features="inception"), "unknown cluster_features 'inception'"),
        (dict(clusters=3, num_classes=3), "use it with num_classes=0 and pac=1"),
        (dict(clusters=3, pac=2), "use it with num_classes=0 and pac=1"),
        (dict(recluster_every=10), "use it with clusters > 0"),
    ],
)
def test_bad_cluster_settings_are_named(options, message):
    with pytest.raises(rustgan.InvalidArgumentError, match=message):
        tiny_dcgan(**options)


def test_clusters_refuse_labels_and_too_little_data(mnist):
    x, y = mnist
    gan = tiny_dcgan(clusters=4)
    with pytest.raises(rustgan.InvalidArgumentError, match="conditions on its own clusters"):
        gan.fit(x[:64], steps=1, batch_size=32, labels=y[:64], progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match="at least 50 items"):
        tiny_dcgan(clusters=50).fit(x[:40], steps=1, batch_size=8, progress=False)
