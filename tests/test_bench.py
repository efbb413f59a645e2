"""The benchmarks run (their numbers are recorded in benches/README.md, not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHES = Path(__file__).resolve().parent.parent / "benches"
BENCH = BENCHES / "bench_step.py"


def table_lines(script: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, str(BENCHES / script), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("| ")]


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_setting():
    result = subprocess.run([sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("mlp", "dcgan", "resnet"))]
    assert [row[0] for row in rows] == [
        "mlp-2d-b64",
        "dcgan-28x28x1-b64",
        "dcgan-28x28x1-b64-bf16",
        "resnet-32x32x3-b64",
    ]
    for row in rows:  # GFLOP/s is printed to 3 significant digits: positive however slow the machine
        assert (
            float(row[1]) > 0
            and float(row[2]) > 0
            and row[3].endswith("x")
            and float(row[5]) > 0
            and row[6].endswith("%")
        )


@pytest.mark.slow
def test_pacgan_table_runs_on_a_tiny_setting(tmp_path):
    lines = table_lines(
        "pacgan_2d.py", "--seeds", "2", "--steps", "5", "--batch-size", "32", "--methods", "GAN", "--out", str(tmp_path)
    )
    rows = [line for line in lines if line.startswith("| rustgan")]
    assert len(rows) == 2 and all(row.count("±") == 3 for row in rows)
    assert (tmp_path / "pacgan_2d_ring_grid.json").is_file()


@pytest.mark.slow
def test_pacgan_table_scores_guided_sampling(tmp_path):
    lines = table_lines(
        "pacgan_2d.py", "--seeds", "1", "--steps", "5", "--batch-size", "32", "--methods", "PacGAN2",
        "--mixtures", "ring", "--guides", "none", "drs", "mh",
    )  # fmt: skip
    rows = [line.split("|")[1].strip() for line in lines if line.startswith("| rustgan")]
    assert rows == ["rustgan PacGAN2", "rustgan PacGAN2, guide drs", "rustgan PacGAN2, guide mh"]


@pytest.mark.slow
def test_mnist_recipe_table_runs_on_a_tiny_setting(tmp_path):
    rows = table_lines(
        "mnist_recipe.py", "--steps", "2", "--n", "100", "--runs", "width 32", "width 32, clusters 20",
        "--guides", "none", "drs", "--out", str(tmp_path),
    )[2:]  # fmt: skip
    assert [row.split("|")[1:3] for row in rows] == [
        [" width 32 ", " none "], [" width 32 ", " drs "],
        [" width 32, clusters 20 ", " none "], [" width 32, clusters 20 ", " drs "],
    ]  # fmt: skip
    assert len(list(tmp_path.glob("*.png"))) == 2


@pytest.mark.slow
def test_mnist_stabiliser_table_runs_on_a_tiny_setting(tmp_path):
    rows = table_lines(
        "mnist_stabilisers.py", "--steps", "2", "--base-channels", "4", "--n", "100", "--out", str(tmp_path)
    )[2:]
    assert [row.split("|")[1].strip() for row in rows] == [
        "DCGAN",
        "DCGAN + PacGAN2",
        "conditional DCGAN",
        "DCGAN bf16",
    ]
    assert rows[2].split("|")[5].strip().endswith("%")  # the conditional GAN's class accuracy
    assert len(list(tmp_path.glob("*.png"))) == 4


@pytest.mark.slow
def test_family_table_runs_on_a_tiny_setting(tmp_path):
    rows = table_lines(
        "families.py",
        "--data",
        "shapes",
        "mnist",
        "--budget",
        "1",
        "--chunk",
        "2",
        "--n",
        "100",
        "--out",
        str(tmp_path),
    )[2:]
    labelled = " resnet, width 16, labels"
    fast = "batch 32, lr 1.6e-3"
    runs = [" dcgan ", f" dcgan, labels, {fast} ", " resnet, width 16 ", f" resnet, width 16, {fast} "]
    runs += [f"{labelled} ", f"{labelled}, batch 32 ", f"{labelled}, {fast} "]
    assert [row.split("|")[1:3] for row in rows] == [[f" {data} ", run] for data in ("shapes", "mnist") for run in runs]
    assert rows[0].split("|")[7].strip().endswith("/18") and rows[7].split("|")[6].strip().startswith("FID")
    assert len(list(tmp_path.glob("*.png"))) == 14


@pytest.mark.slow
def test_translation_table_runs_on_a_tiny_setting(tmp_path):
    rows = table_lines(
        "translation.py", "--tasks", "superres", "edges", "--steps", "2", "--base-channels", "4", "--out", str(tmp_path)
    )[2:]
    assert [row.split("|")[1:3] for row in rows] == [
        [" superres ", " L1 + adversarial "], [" superres ", " L1 only "],
        [" edges ", " L1 + adversarial "], [" edges ", " L1 only "],
    ]  # fmt: skip
    assert rows[0].split("|")[4].strip().startswith("bicubic")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edges.png", "superres.png", "translation.json"]


@pytest.mark.slow
def test_superres_ceiling_runs_on_a_tiny_setting():
    rows = table_lines("superres_ceiling.py", "--seeds", "0", "--epochs", "1")[2:]
    assert len(rows) == 1
    full, small = (float(cell.strip().rstrip("%")) for cell in rows[0].split("|")[2:4])
    assert 50 < small <= full  # one epoch already reads digits well above chance, 7 px ones worse


@pytest.mark.slow
def test_directions_table_runs_on_a_small_checkpoint(tmp_path):
    import rustgan
    import torch

    gan = rustgan.GAN((1, 28, 28), latent_dim=16, base_channels=8, clusters=3, seed=0)
    gan.fit(torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1, steps=20, batch_size=32)
    gan.save(tmp_path / "checkpoint")
    result = subprocess.run(
        [sys.executable, str(BENCHES / "edit_directions.py"), "--checkpoint", str(tmp_path / "checkpoint"),
         "--n", "100", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "directions.json").read_text())
    assert results["sefa"]["ratio"] > 0 and results["pca"]["ratio"] > 0
    assert 0 <= results["ink"]["monotone"] <= 1 and 0.5 <= results["ink"]["accuracy"] <= 1
    swaps = results["cluster_swaps"].values()
    assert swaps and all(0 <= swap["turned"] <= 1 and 0 <= swap["cluster"] < 3 for swap in swaps)
    assert (tmp_path / "directions.png").is_file()
