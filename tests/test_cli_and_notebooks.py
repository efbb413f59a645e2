import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import rustgan
import torch
from nbclient import NotebookClient
from rustgan import cli

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rustgan", *args], capture_output=True, text=True, timeout=600)


def test_cli_train_and_sample(tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "train", "--data", "ring2d", "--steps", "60", "--log-every", "10", "--out", str(out), "--device", "cpu"
    )
    assert result.returncode == 0, result.stderr
    assert (out / "checkpoint" / "config.json").is_file()
    assert (out / "samples.png").stat().st_size > 0
    assert (out / "loss.png").stat().st_size > 0
    assert len(list((out / "samples").glob("step_*.png"))) == 5
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [10, 20, 30, 40, 50, 60]
    assert rustgan.GAN.load(out / "checkpoint").steps_done == 60
    grid = tmp_path / "grid.png"
    assert cli.main(["sample", "--checkpoint", str(out / "checkpoint"), "--n", "100", "--out", str(grid)]) == 0
    assert grid.stat().st_size > 0


def test_cli_holds_out_items_to_calibrate_and_samples_with_a_guide(tmp_path, capsys):
    out, checkpoint = tmp_path / "run", str(tmp_path / "run" / "checkpoint")
    common = ("--data", "ring2d", "--steps", "40", "--out", str(out), "--device", "cpu")
    assert cli.main(["train", *common]) == 0
    assert cli.main(["sample", "--checkpoint", checkpoint, "--guide", "drs"]) != 0
    assert "rustgan train --hold-out N" in capsys.readouterr().err
    assert cli.main(["train", *common, "--overwrite", "--hold-out", "500"]) == 0
    assert "calibrated D on 500 held-out items" in capsys.readouterr().err
    assert (out / "checkpoint" / "calibration.json").is_file()
    assert rustgan.GAN.load(checkpoint).calibration["real_items"] == 500
    for guide in ("drs", "mh"):
        picture = tmp_path / f"{guide}.png"
        assert cli.main(["sample", "--checkpoint", checkpoint, "--guide", guide, "--out", str(picture)]) == 0
        assert picture.stat().st_size > 0
    assert cli.main(["evaluate", "--checkpoint", checkpoint, "--n", "200", "--guide", "mh"]) == 0
    assert "high_quality" in capsys.readouterr().out
    assert cli.main(["train", *common, "--overwrite", "--hold-out", "60000"]) != 0
    assert "--hold-out 60000 would leave" in capsys.readouterr().err


def test_cli_trains_dcgan_on_image_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(6):
        Image.new("RGB", (40, 30), color=(40 * i, 0, 255 - 40 * i)).save(folder / f"{i}.png")
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--data",
            str(folder),
            "--image-size",
            "32",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--base-channels",
            "4",
            "--out",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    assert rustgan.GAN.load(out / "checkpoint").data_shape == (3, 32, 32)


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert cli.main(["sample", "--checkpoint", str(tmp_path / "missing")]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert cli.main(["train", "--data", str(tmp_path / "nowhere"), "--steps", "1"]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("operation", ["interpolate", "truncation", "project", "inpaint", "directions", "move"])
def test_cli_edit_writes_a_grid(operation, tmp_path):
    rustgan.GAN((1, 28, 28), latent_dim=8, base_channels=4, device="cpu").save(tmp_path / "ck")
    out = tmp_path / f"{operation}.png"
    code = cli.main(
        [
            "edit",
            operation,
            "--checkpoint",
            str(tmp_path / "ck"),
            "--n",
            "3",
            "--steps",
            "5",
            "--restarts",
            "2",
            "--data",
            "mnist",
            "--out",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0 and out.stat().st_size > 0


def test_cli_moves_projected_images_along_a_saved_direction(tmp_path, capsys):
    gan = rustgan.GAN((1, 28, 28), latent_dim=8, base_channels=4, device="cpu")
    gan.save(tmp_path / "ck")
    torch.save(torch.linspace(-1, 1, 8), tmp_path / "direction.pt")
    common = ["edit", "move", "--checkpoint", str(tmp_path / "ck"), "--device", "cpu", "--n", "2"]
    out = tmp_path / "move.png"
    extra = ["--real", "--data", "mnist", "--steps", "3", "--restarts", "1", "--amounts", "-1", "1", "--out", str(out)]
    assert cli.main([*common, "--direction", str(tmp_path / "direction.pt"), *extra]) == 0
    assert out.stat().st_size > 0 and str(out.resolve()) in capsys.readouterr().out
    assert cli.main([*common, "--direction", "sefa:0"]) == 2
    assert cli.main([*common, "--direction", str(tmp_path / "nowhere.pt")]) == 2
    torch.save(torch.ones(3), tmp_path / "short.pt")
    assert cli.main([*common, "--direction", str(tmp_path / "short.pt")]) == 2
    assert "[8]" in capsys.readouterr().err


def test_cli_trains_and_edits_a_conditional_gan_with_stabilisers(tmp_path):
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--data",
            "mnist",
            "--conditional",
            "--pac",
            "1",
            "--spectral-norm",
            "--r1-gamma",
            "1",
            "--r1-every",
            "2",
            "--augment",
            "translation",
            "--precision",
            "bf16",
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--base-channels",
            "4",
            "--out",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    gan = rustgan.GAN.load(out / "checkpoint")
    assert gan.num_classes == 10 and gan.config["spectral_norm"] and gan.config["augment"] == ["translation"]
    assert gan.config["precision"] == "bf16"
    for operation in ("interpolate", "inpaint"):
        code = cli.main(
            [
                "edit",
                operation,
                "--checkpoint",
                str(out / "checkpoint"),
                "--n",
                "3",
                "--steps",
                "3",
                "--restarts",
                "2",
                "--out",
                str(tmp_path / f"{operation}.png"),
                "--device",
                "cpu",
            ]
        )
        assert code == 0
    assert cli.main(["train", "--data", "ring2d", "--conditional", "--out", str(out)]) == 2


def test_cli_swap_renders_latents_in_each_cluster(tmp_path, mnist, capsys):
    gan = rustgan.GAN((1, 28, 28), latent_dim=8, base_channels=4, clusters=4, device="cpu")
    gan.fit(mnist[0][:200], steps=2, batch_size=32, progress=False)
    gan.save(tmp_path / "ck")
    args = ["edit", "swap", "--checkpoint", str(tmp_path / "ck"), "--n", "3", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    assert "a cluster per column: 0, 1, 2, 3" in capsys.readouterr().out
    assert cli.main([*args, "--classes", "0", "2"]) == 0
    assert Path(capsys.readouterr().out.split()[-1]) == (tmp_path / "swap.png").resolve()
    assert (tmp_path / "swap.png").stat().st_size > 0
    assert cli.main([*args, "--classes", "4"]) == 2
    assert "[0, 4)" in capsys.readouterr().err


def test_cli_edit_needs_an_image_gan(tmp_path, capsys):
    rustgan.GAN(2, arch="mlp", device="cpu").save(tmp_path / "ck")
    assert cli.main(["edit", "project", "--checkpoint", str(tmp_path / "ck"), "--data", "ring2d"]) == 2
    assert "image GAN" in capsys.readouterr().err


NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_shows_the_outputs_of_its_code(name):
    executed = load_script("execute_notebooks")
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), f"{name} is stored unexecuted: run make notebooks"
    digest = notebook.metadata.get("rustgan", {}).get(executed.DIGEST_KEY)
    assert digest == executed.code_digest(notebook), f"{name}'s code changed since it ran: run make notebooks"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
    # Few steps everywhere: the notebooks' own numbers at their defaults are what the
    # benches measure (notebook 03's 2D table: `make bench-2d`).
    monkeypatch.setenv("RUSTGAN_NOTEBOOK_STEPS", "20")
    monkeypatch.setenv("RUSTGAN_NOTEBOOK_STEPS_2D", "50")
    monkeypatch.setenv("RUSTGAN_NOTEBOOK_EDIT_STEPS", "5")
    monkeypatch.setenv("RUSTGAN_NOTEBOOK_SAMPLES", "50")
    monkeypatch.setenv("RUSTGAN_NOTEBOOK_ITEMS", "500")
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    streams = [o.text for o in outputs if o.output_type == "stream"]
    assert not [text for text in streams if "IProgress not found" in text], "progress bars need ipywidgets"
    assert len(streams) < 20, "progress is shown as a widget, not as hundreds of stderr lines"
    if name == "03_mode_collapse.ipynb":
        check_mode_table(outputs)


def check_mode_table(outputs):
    """Notebook 03's 2D table has a row per mixture and method, with modes out of the
    mixture's count."""
    table = next(o.data["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {}))
    rows = {}
    for line in table.splitlines()[2:]:
        mixture, method, modes, quality, reverse_kl = [cell.strip() for cell in line.strip("|").split("|")]
        covered, total = (int(n) for n in modes.split("/"))
        assert 0 <= covered <= total and 0 <= float(quality.rstrip("%")) <= 100 and float(reverse_kl) >= 0, line
        rows[mixture, method] = total
    methods = ["GAN", "PacGAN2", "PacGAN2 + R1", 'recipe("vectors")']
    assert rows == {**{("ring", m): 8 for m in methods}, **{("grid", m): 25 for m in methods}}, rows
