"""What a new user meets in the first hour: defaults that work, a command line that tells
the truth, and the inputs PyTorch and Jupyter users bring."""

import copy
import json
import pickle
import warnings

import numpy as np
import pytest
import rustgan
import torch
from conftest import tiny_dcgan
from PIL import Image
from rustgan import cli, data, metrics, plot, real_data


def run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- defaults that work ------------------------------------------------------------------
def test_ema_is_usable_from_the_first_steps(mnist):
    gan = tiny_dcgan(base_channels=16, ema=0.999)
    gan.fit(mnist[0], steps=150, batch_size=64, progress=False)
    averaged, raw = gan.sample(64, seed=1), gan.sample(64, seed=1, ema=False)
    # Without a warm-up the average would still be 86% the random initial generator.
    assert (averaged - raw).abs().mean() < 0.15
    assert averaged.std(dim=0).mean() > 0.1, "samples differ from each other"


@pytest.mark.slow
def test_cli_defaults_spread_over_the_grid_modes(tmp_path, capsys):
    # The command line's defaults for vectors, 600 of their 20,000 steps: an untrained G
    # covers 1 of the 25 modes (`make bench-2d` trains them in full on both mixtures).
    out = tmp_path / "grid2d"
    assert run(["train", "--data", "grid2d", "--steps", 600, "--out", out, "--device", "cpu"], capsys)[0] == 0
    code, printed, _ = run(["evaluate", "--checkpoint", out / "checkpoint", "--n", 2500], capsys)
    assert code == 0 and "against grid2d" in printed
    scores = json.loads((out / "metrics.json").read_text())
    assert scores["modes"] >= 10, scores


# --- a command line that tells the truth -------------------------------------------------
def train_args(out, *extra):
    return ["train", "--data", "ring2d", "--steps", 20, "--log-every", 10, "--out", out, "--device", "cpu", *extra]


def test_train_refuses_to_mix_runs_and_resume_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(train_args(out), capsys)[0] == 0
    code, _, err = run(train_args(out), capsys)
    assert code == 2 and "--resume" in err and "--overwrite" in err
    code, _, err = run(train_args(out, "--resume", "--lr", 0.5, "--pac", 1), capsys)
    assert code == 2 and "--lr 0.5" in err and "lr_g=0.001" in err
    assert rustgan.GAN.load(out / "checkpoint").steps_done == 20, "nothing was trained"
    code, _, err = run(train_args(out, "--resume", "--steps", 10), capsys)
    assert code == 0 and "trained 10 steps (resumed at step 20, now at 30)" in err
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [10, 20, 30]
    code, _, err = run(train_args(out, "--overwrite", "--steps", 10), capsys)
    assert code == 0 and "trained 10 steps in" in err
    assert [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()] == [10]


def test_cli_prints_only_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "run"
    code, printed, _ = run(train_args(out, "--steps", 0), capsys)
    assert code == 0
    paths = [line.split(":", 1)[1].strip() for line in printed.splitlines()]
    assert paths and all((tmp_path / p).exists() for p in paths)
    assert "checkpoint" not in printed and "loss plot" not in printed
    run(train_args(tmp_path / "trained"), capsys)
    (tmp_path / "grids").mkdir()
    code, printed, _ = run(
        ["sample", "--checkpoint", tmp_path / "trained" / "checkpoint", "--out", tmp_path / "grids"], capsys
    )
    assert code == 0 and printed.strip() == str((tmp_path / "grids" / "samples.png").resolve())
    assert (tmp_path / "grids" / "samples.png").stat().st_size > 0


def test_edit_and_evaluate_use_the_runs_own_data(tmp_path, capsys):
    run(train_args(tmp_path / "run"), capsys)
    checkpoint = tmp_path / "run" / "checkpoint"
    out = tmp_path / "path.png"
    assert run(["edit", "interpolate", "--checkpoint", checkpoint, "--out", out], capsys)[0] == 0
    assert out.stat().st_size > 0, "2D checkpoints interpolate into a scatter plot"
    code, printed, _ = run(["evaluate", "--checkpoint", checkpoint, "--n", 500], capsys)
    assert code == 0 and "against ring2d" in printed and "modes" in printed
    rustgan.GAN((1, 28, 28), latent_dim=8, base_channels=4, device="cpu").save(tmp_path / "bare")
    code, _, err = run(["edit", "project", "--checkpoint", tmp_path / "bare", "--steps", 2], capsys)
    assert code == 2 and "--data" in err


def test_evaluate_scores_colour_images_on_efficientnet_features():
    gan = rustgan.GAN((3, 32, 32), latent_dim=8, base_channels=4, device="cpu")
    real = torch.rand(24, 3, 32, 32) * 2 - 1
    scores = gan.evaluate(real, n=24)
    assert scores["features"].startswith("EfficientNet-Lite0 (not comparable with Inception FID)")
    assert scores["fid"] > 0 and 0 <= scores["precision"] <= 1 and scores["swd"] > 0
    assert "classes_covered" not in scores, "ImageNet classes say nothing of these images"
    with pytest.raises(rustgan.InvalidArgumentError, match='features="efficientnet"'):
        gan.evaluate(real, n=24, features="digits")
    with pytest.raises(rustgan.InvalidArgumentError, match="'inception'"):
        gan.evaluate(real, n=24, features="inception")


def test_colour_data_trains_with_the_colour_recipe_and_says_so(tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, colour in enumerate(["red", "green", "blue", "yellow"] * 10):
        Image.new("RGB", (40, 40), colour).save(folder / f"{i}.png")
    argv = [
        "train",
        "--data",
        folder,
        "--image-size",
        32,
        "--steps",
        2,
        "--base-channels",
        4,
        "--out",
        tmp_path / "run",
    ]
    code, _, err = run(argv, capsys)
    assert code == 0 and "recipe('colour', size=32), measured on colour images" in err
    assert "self-conditioning on 2 clusters of EfficientNet-Lite0's pretrained ImageNet features" in err
    config = rustgan.GAN.load(tmp_path / "run" / "checkpoint").config
    colour = rustgan.recipe("colour", size=32)
    assert config["arch"] == "resnet" and config["lr_g"] == colour["lr_g"] and config["base_channels"] == 4
    assert config["clusters"] == 2, "40 images carry two clusters of the recipe's 100"
    assert config["cluster_features"] == colour["cluster_features"] == "efficientnet"
    code, _, err = run([*argv[:-1], tmp_path / "unclustered", "--clusters", 0], capsys)
    config = rustgan.GAN.load(tmp_path / "unclustered" / "checkpoint").config
    assert code == 0 and config["clusters"] == 0 and config["cluster_features"] == "pixels", "nothing to cluster"
    assert "no self-conditioning clusters" in err


def test_large_colour_images_get_a_dcgan_with_diffaugment():
    assert rustgan.recipe("colour") == rustgan.recipe("colour", size=32)
    large = rustgan.recipe("colour", items=1282, size=64)
    assert large["arch"] == "dcgan" and large["augment"] == ("color", "translation", "cutout")
    assert large["clusters"] == 50 and rustgan.recipe("images", size=64) == rustgan.recipe("images")
    assert "cluster_features" not in large and "cluster_features" not in rustgan.recipe("colour", items=30)
    assert rustgan.recipe("colour", items=2_000)["clusters"] == 100, "20 items per cluster"
    assert rustgan.recipe("colour", items=1_000)["clusters"] == 50
    with pytest.raises(rustgan.InvalidArgumentError, match="size must be at least 1"):
        rustgan.recipe("colour", size=0)


@pytest.mark.skipif(not real_data.FASHION_ROOT.exists(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_trains_and_evaluates_on_its_own_classifier(tmp_path, capsys):
    argv = ["train", "--data", "fashion", "--steps", 2, "--base-channels", 4, "--clusters", 0, "--out", tmp_path]
    code, _, err = run(argv, capsys)
    assert code == 0 and "recipe('images'), measured on grey images" in err
    code, printed, _ = run(["evaluate", "--checkpoint", tmp_path / "checkpoint", "--n", 50], capsys)
    assert code == 0 and "Fashion-MNIST classifier" in printed and "against fashion" in printed


def test_help_and_names(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert (
        "(default: 50)" in helped
        and "(default: 5000 for grey images, 5000 for colour images, 20000 for vectors)" in helped
    )
    code, _, err = run(["train", "--data", "MNIST", "--steps", 1, "--out", tmp_path], capsys)
    assert code == 2 and "did you mean 'mnist'" in err
    (tmp_path / "file").write_text("")
    with pytest.raises(rustgan.CheckpointError, match=str(tmp_path / "file")):
        tiny_dcgan().save(tmp_path / "file")


# --- what PyTorch and Jupyter users expect -----------------------------------------------
class Pairs(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_datasets_devices_and_numpy_scalars(mnist):
    x, y = mnist[0][:64], mnist[1][:64]
    gan = tiny_dcgan(num_classes=10, device=torch.device("cpu"))
    history = gan.fit(Pairs(x, y), steps=np.int64(3), batch_size=np.int32(16), log_every=2, progress=False)
    assert gan.steps_done == 3 and [r["step"] for r in history] == [2, 3], "the partial window is logged"
    gan.fit(torch.utils.data.DataLoader(Pairs(x, y), batch_size=8), steps=1, batch_size=16, progress=False)
    sevens = gan.sample(4, seed=np.int64(0), labels=7)
    assert torch.equal(sevens, gan.sample(4, seed=0, labels=[7] * 4))
    assert tiny_dcgan(latent_dim=np.int64(8)).latent_dim == 8
    with pytest.raises(rustgan.InvalidArgumentError, match="device='cuda:0' but no CUDA device"):
        if rustgan.cuda_is_available():
            pytest.skip("this machine has CUDA")
        tiny_dcgan(device="cuda:0")


def test_float_images_must_lie_in_the_generators_range():
    gan = tiny_dcgan()
    with pytest.raises(rustgan.DataError, match=r"\[-1, 1\].*x / 127.5 - 1"):
        gan.step(torch.rand(8, 1, 28, 28) * 255)
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        gan.step(torch.rand(8, 1, 28, 28))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gan.step(torch.rand(8, 1, 28, 28) * 2 - 1)


def test_pixel_exact_images(tmp_path):
    from PIL import Image

    images = torch.randint(0, 256, (3, 28, 28, 3), dtype=torch.uint8)  # NHWC, as fit takes it
    paths = plot.save_images(images, tmp_path / "out")
    assert [p.name for p in paths] == ["000000.png", "000001.png", "000002.png"]
    assert np.array_equal(np.asarray(Image.open(paths[1])), images[1].numpy())
    tiled = plot.grid(images, path=tmp_path / "grid.png", nrow=3, exact=True)
    assert tiled.shape == (28 + 4, 3 * 28 + 8, 3)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "grid.png")), tiled)
    assert np.array_equal(tiled[2:30, 2:30], images[0].numpy())


def test_labelled_image_folders(tmp_path):
    from PIL import Image

    for name, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (32, 32), colour).save(tmp_path / name / f"{i}.png")
    x, y = data.image_folder(tmp_path, size=32, labels="subfolders")
    assert x.shape == (6, 3, 32, 32) and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert x[0, 0].mean() > 0.9 and x[3, 2].mean() > 0.9


def test_copies_and_pickling(mnist):
    gan = tiny_dcgan(ema=0.99)
    gan.fit(mnist[0][:64], steps=2, batch_size=16, progress=False)
    twin = copy.deepcopy(gan)
    for g in (gan, twin):
        g.fit(mnist[0][:64], steps=2, batch_size=16, progress=False)
    assert torch.equal(gan.sample(4, seed=1), twin.sample(4, seed=1)), "the copy is in the same state"
    with pytest.raises(rustgan.RustganError, match="save"):
        pickle.dumps(gan)


def test_small_things_say_what_they_do():
    with pytest.warns(UserWarning, match="subset_size"):
        metrics.kid(torch.randn(50, 4), torch.randn(50, 4), subset_size=1000)
    with pytest.raises(rustgan.InvalidArgumentError, match=r"digits\(size=32\)"):
        rustgan.GAN(data.digits()[0].shape[1:])


@pytest.mark.parametrize("size", [28, 32, 64, 128, 256])
def test_the_colour_recipe_builds_at_every_size_it_takes(size):
    """The family each size gets can build it: residual below 64 px, DCGAN at 64, projected beyond."""
    options = rustgan.recipe("colour", items=1000, size=size)
    options.pop("steps"), options.pop("batch_size")
    gan = rustgan.GAN((3, size, size), device="cpu", **options | {"base_channels": 4})
    assert gan.generate(gan.latent(2, seed=0)).shape == (2, 3, size, size)
    assert options["arch"] == {28: "resnet", 32: "resnet", 64: "dcgan", 128: "projected", 256: "projected"}[size]
