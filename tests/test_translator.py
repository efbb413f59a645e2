"""`rustgan.Translator` (pix2pix) and `rustgan.data.pairs`: the paired tasks are what they
say, training learns the task, checkpoints resume exactly, weights move to PyTorch and
back, replicas stay identical, and bad input is refused by name."""

import copy
import inspect
import textwrap

import pytest
import rustgan
import torch
from conftest import assert_trained_alike, differs_from, run_two_replicas
from rustgan import edit
from rustgan.translator import OPTIONS


def tiny(inputs, targets, **overrides) -> rustgan.Translator:
    options = dict(base_channels=8, seed=0, device="cpu")
    options.update(overrides)
    return rustgan.Translator(inputs.shape[1:], targets.shape[1:], **options)


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[0][:512]


# --- paired tasks ------------------------------------------------------------------------
def test_completion_pairs_hide_the_lower_half_and_carry_the_mask(digits):
    inputs, targets = rustgan.data.pairs(digits, "complete")
    assert inputs.shape == (512, 2, 28, 28) and torch.equal(targets, digits)
    assert torch.equal(inputs[:, 0, :14], digits[:, 0, :14]) and (inputs[:, 0, 14:] == 0).all()
    assert (inputs[:, 1, :14] == 1).all() and (inputs[:, 1, 14:] == 0).all()
    boxes, _ = rustgan.data.pairs(digits[:50], "complete", mask="box", seed=1)
    hidden = (boxes[:, 1] == 0).float().mean((1, 2))
    assert ((hidden >= 1 / 16 - 0.02) & (hidden <= 1 / 4 + 0.02)).all(), "boxes a quarter to a half of each side"
    again, _ = rustgan.data.pairs(digits[:50], "complete", mask="box", seed=1)
    assert torch.equal(boxes, again)
    given = torch.zeros(28, 28)
    given[:, :10] = 1
    left, _ = rustgan.data.pairs(digits[:3], "complete", mask=given)
    assert torch.equal(left[:, 1], given.expand(3, 28, 28))


def test_superres_inputs_are_the_bicubic_enlargement_of_4x_smaller_images(digits):
    inputs, targets = rustgan.data.pairs(digits[:8], "superres")
    small = torch.nn.functional.avg_pool2d(digits[:8], 4)
    assert small.shape[-1] == 7
    bicubic = torch.nn.functional.interpolate(small, size=(28, 28), mode="bicubic").clamp(-1, 1)
    assert torch.allclose(inputs, bicubic) and torch.equal(targets, digits[:8])


def test_edges_mark_the_outline_of_a_square():
    square = -torch.ones(1, 3, 32, 32)
    square[:, :, 8:24, 8:24] = 1
    edges, _ = rustgan.data.pairs(square, "edges")
    assert edges.shape == (1, 1, 32, 32) and set(edges.unique().tolist()) == {-1.0, 1.0}
    assert (edges[0, 0, 8, 8:24] == 1).all() and edges[0, 0, 16, 16] == -1 and edges[0, 0, 2, 2] == -1


# --- training ----------------------------------------------------------------------------
def test_training_learns_superresolution_beyond_bicubic(digits):
    inputs, targets = rustgan.data.pairs(digits, "superres")
    translator = tiny(inputs, targets, base_channels=16)
    history = translator.fit(inputs, targets, steps=300, batch_size=32, log_every=100, progress=False)
    assert [r["step"] for r in history] == [100, 200, 300]
    assert history[-1]["loss/g/l1"] < 0.6 * history[0]["loss/g/l1"]
    assert {"loss/d", "loss/d/real", "loss/d/fake", "loss/g", "loss/g/l1"} <= set(history[-1])
    outputs = translator.translate(inputs[:100])
    assert outputs.shape == (100, 1, 28, 28) and outputs.abs().max() <= 1
    gain = edit.psnr(outputs, targets[:100]).mean() - edit.psnr(inputs[:100], targets[:100]).mean()
    assert gain > 2.5, f"{gain:.2f} dB over bicubic"  # 3.5 dB after these 300 steps
    assert torch.equal(translator.translate(inputs[:4]), translator.translate(inputs[:4])), "no dropout when used"


def test_l1_only_and_step(digits):
    inputs, targets = rustgan.data.pairs(digits[:64], "edges")
    translator = tiny(inputs, targets, adversarial_weight=0.0)
    stats = translator.step(inputs[:16], targets[:16])
    assert stats["loss/g/l1"] > 0 and translator.steps_done == 1


def test_the_learning_rates_halve_with_lr_half_life(digits):
    inputs, targets = rustgan.data.pairs(digits[:64], "edges")
    constant, halving = tiny(inputs, targets), tiny(inputs, targets, lr_half_life=1)
    for translator in (constant, halving):
        translator.fit(inputs, targets, steps=3, batch_size=16, progress=False)
    assert differs_from(halving, constant)


def test_complete_keeps_the_known_pixels(digits):
    inputs, targets = rustgan.data.pairs(digits[:64], "complete")
    translator = tiny(inputs, targets)
    translator.fit(inputs, targets, steps=3, batch_size=16, progress=False)
    filled = edit.complete(translator, digits[:5], "lower").images
    assert torch.equal(filled[:, :, :14], digits[:5, :, :14])
    assert torch.equal(filled[:, :, 14:], translator.translate(inputs[:5])[:, :, 14:])
    with pytest.raises(rustgan.InvalidArgumentError, match="completion"):
        edit.complete(tiny(*rustgan.data.pairs(digits[:4], "edges")), digits[:5])


# --- state -------------------------------------------------------------------------------
def test_checkpoints_resume_exactly_and_copies_are_independent(tmp_path, digits):
    inputs, targets = rustgan.data.pairs(digits[:128], "complete")
    straight = tiny(inputs, targets, ema=0.9)
    straight.fit(inputs, targets, steps=6, batch_size=32, progress=False)
    resumed = tiny(inputs, targets, ema=0.9)
    resumed.fit(inputs, targets, steps=3, batch_size=32, progress=False, out=tmp_path / "ck")
    resumed = rustgan.Translator.load(tmp_path / "ck", device="cpu")
    twin = copy.deepcopy(resumed)
    for translator in (resumed, twin):
        translator.fit(inputs, targets, steps=3, batch_size=32, progress=False)
        for network in ("generator", "discriminator"):
            for ema in (True, False):
                ours = getattr(translator, f"{network}_state_dict")(**({"ema": ema} if network == "generator" else {}))
                theirs = getattr(straight, f"{network}_state_dict")(**({"ema": ema} if network == "generator" else {}))
                for name, value in ours.items():
                    assert torch.equal(value, theirs[name]), (network, name)
    assert resumed.steps_done == 6 and resumed.config == straight.config


def test_a_gan_checkpoint_is_not_a_translator(tmp_path):
    rustgan.GAN((2,), arch="mlp", hidden_dim=8, device="cpu").save(tmp_path / "gan")
    with pytest.raises(rustgan.CheckpointError, match="config"):
        rustgan.Translator.load(tmp_path / "gan")
    with pytest.raises(rustgan.CheckpointError, match="no checkpoint"):
        rustgan.Translator.load(tmp_path / "missing")


def test_pytorch_twins_compute_the_same_function_both_ways(digits):
    inputs, targets = rustgan.data.pairs(digits[:64], "complete")
    translator = tiny(inputs, targets, ema=0.5)
    translator.fit(inputs, targets, steps=2, batch_size=32, progress=False)
    generator, discriminator = rustgan.export_torch(translator)
    assert isinstance(generator, rustgan.torch_modules.UNetGenerator)
    with torch.no_grad():
        assert torch.allclose(generator(inputs[:8]), translator.translate(inputs[:8]), atol=1e-5)
        assert discriminator(inputs[:8], targets[:8]).shape == (8, 1, 5, 5)
    fresh = tiny(inputs, targets, seed=5)
    rustgan.import_torch(fresh, generator, discriminator)
    assert torch.allclose(fresh.translate(inputs[:8]), translator.translate(inputs[:8]), atol=1e-6)
    with pytest.raises(rustgan.InvalidArgumentError, match="missing"):
        fresh.load_generator_state_dict({})


# --- options and bad input -----------------------------------------------------------------
def test_constructor_signature_is_the_native_definition():
    parameters = inspect.signature(rustgan.Translator.__init__).parameters
    assert [name for name in parameters if name in OPTIONS] == list(OPTIONS)
    assert set(parameters) - set(OPTIONS) == {"self", "device"}
    for name, spec in OPTIONS.items():
        assert parameters[name].default == spec.default, name
        assert name in rustgan.Translator.__doc__, name


@pytest.mark.parametrize(
    "task, options, error, match",
    [
        ("unknown", {}, rustgan.InvalidArgumentError, "unknown task 'unknown'"),
        ("complete", dict(mask=torch.full((28, 28), 0.5)), rustgan.InvalidArgumentError, "only 0"),
        ("complete", dict(mask=torch.ones(3, 28, 28)), rustgan.InvalidArgumentError, "broadcast"),
        ("complete", dict(mask="middle"), rustgan.InvalidArgumentError, "unknown mask"),
    ],
)
def test_bad_tasks_and_masks_are_named(digits, task, options, error, match):
    with pytest.raises(error, match=match):
        rustgan.data.pairs(digits[:5], task, **options)


def test_bad_shapes_counts_and_settings_are_named(digits):
    with pytest.raises(rustgan.InvalidArgumentError, match="divisible by 4"):
        rustgan.data.pairs(torch.zeros(2, 1, 30, 30), "superres")
    inputs, targets = rustgan.data.pairs(digits[:32], "complete")
    translator = tiny(inputs, targets)
    with pytest.raises(rustgan.InvalidArgumentError, match="32 inputs but 31 targets"):
        translator.fit(inputs, targets[:31], steps=1, progress=False)
    with pytest.raises(rustgan.DataError, match="training targets"):
        translator.fit(inputs, inputs, steps=1, progress=False)
    nan = targets.clone()
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(rustgan.DataError, match="NaN"):
        translator.step(inputs, nan)
    for options, match in [
        (dict(in_shape=(1, 28, 28), out_shape=(1, 32, 32)), "same height and width"),
        (dict(in_shape=(1, 8, 8), out_shape=(1, 8, 8)), r"\[16, 512\]"),
        (dict(loss="wgan-gp"), "wgan-gp"),
        (dict(l1_weight=0.0, adversarial_weight=0.0), "learn nothing"),
        (dict(dropout=1.0), "dropout"),
        (dict(patch_layers=5), "patch_layers"),
    ]:
        with pytest.raises(rustgan.InvalidArgumentError, match=match):
            rustgan.Translator(**{"device": "cpu", **options})
    with pytest.raises(rustgan.ArgumentTypeError):
        rustgan.Translator(base_channels=2.5)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, digits):
    inputs, targets = rustgan.data.pairs(digits[:32], "edges")
    translator = tiny(inputs, targets)
    translator.save(tmp_path / "ck")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(rustgan.CheckpointError, match="not a directory"):
        translator.save(tmp_path / "file")
    assert rustgan.Translator.load(tmp_path / "ck").steps_done == 0


# --- data parallelism ----------------------------------------------------------------------
REPLICA = textwrap.dedent(
    """
    import sys, datetime, torch, torch.distributed as dist, rustgan
    rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=60))
    rustgan.set_num_threads(1)
    inputs, targets = rustgan.data.pairs(rustgan.data.mnist()[0][:64], "edges")
    translator = rustgan.Translator((1, 28, 28), (1, 28, 28), base_channels=4, dropout=0.0, seed=3, device="cpu")
    translator.fit(inputs, targets, steps=4, batch_size=8, progress=False, out=out + "/ck")
    torch.save(translator.generator_state_dict(), f"{out}/rank{rank}.pt")
    dist.destroy_process_group()
    """
)


@pytest.mark.slow
def test_two_replicas_stay_identical(tmp_path):
    rank0, rank1 = run_two_replicas(REPLICA, tmp_path)
    start = rustgan.Translator((1, 28, 28), (1, 28, 28), base_channels=4, dropout=0.0, seed=3, device="cpu")
    assert_trained_alike(rank0, rank1, start.generator_state_dict())
    assert rustgan.Translator.load(tmp_path / "ck").steps_done == 4


# --- command line --------------------------------------------------------------------------
def test_cli_trains_and_translates(tmp_path, capsys):
    from rustgan import cli

    out = tmp_path / "run"
    args = ["train-translate", "--task", "superres", "--data", "digits", "--steps", "6", "--log-every", "3"]
    assert cli.main([*args, "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr()
    assert "trained 6 steps" in printed.err
    for name in ("translations.png", "loss.png", "log.jsonl", "checkpoint"):
        assert (out / name).exists() and str((out / name).resolve()) in printed.out, name
    assert rustgan.Translator.load(out / "checkpoint").steps_done == 6
    assert cli.main([*args, "--out", str(out), "--device", "cpu"]) == 2, "a run is never mixed into another"
    assert "already holds a run" in capsys.readouterr().err
    grid = tmp_path / "grid.png"
    assert cli.main(["translate", "--checkpoint", str(out / "checkpoint"), "--out", str(grid), "--n", "4"]) == 0
    assert grid.is_file() and str(grid.resolve()) in capsys.readouterr().out
