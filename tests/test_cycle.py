"""`rustgan.CycleGAN`: training learns a translation from unpaired sets, checkpoints
resume exactly, weights move to PyTorch and back, replicas stay identical, the command
line trains and translates, and bad input is refused by name."""

import copy
import inspect
import json
import textwrap

import pytest
import rustgan
import torch
from conftest import assert_trained_alike, run_two_replicas
from rustgan.cycle import OPTIONS


def tiny(shape_a=(1, 16, 16), shape_b=(1, 16, 16), **overrides) -> rustgan.CycleGAN:
    options = dict(base_channels=4, pool_size=8, seed=0, device="cpu")
    options.update(overrides)
    return rustgan.CycleGAN(shape_a, shape_b, **options)


@pytest.fixture(scope="module")
def digits(mnist):
    return torch.nn.functional.interpolate(mnist[0][:256], size=16, mode="bilinear", antialias=True)


@pytest.mark.parametrize("generator", ["unet", "resnet6"])
def test_training_learns_to_invert_from_unpaired_sets(digits, generator):
    """Domain b is domain a with ink and paper swapped, shuffled: no pair is given, yet the
    translations come out inverted and the round trip comes back."""
    a, b = digits[:128], -digits[128:]
    cycle = tiny(base_channels=8, identity_weight=0.0, generator=generator)
    history = cycle.fit(a, b, steps=150, batch_size=16, log_every=50, progress=False)
    held_out = digits[200:]
    translated = cycle.translate(held_out, to="b")
    # After 150 steps: about 0.5 from the inverted digits against 1.2 from the inputs, and
    # round trips 0.55 from where they started (an untrained pair: 0.85).
    assert (translated - -held_out).abs().mean() < 0.6 * (translated - held_out).abs().mean()
    assert (cycle.translate(translated, to="a") - held_out).abs().mean() < 0.65
    assert history[-1]["loss/g/cycle"] < 0.8 * history[0]["loss/g/cycle"]
    assert {"loss/d", "loss/g", "loss/g/cycle"} <= set(history[-1]) and "loss/g/identity" not in history[-1]


def test_checkpoints_resume_exactly_and_copies_are_independent(tmp_path, digits):
    a, b = digits[:64], -digits[64:100]

    def go_on(cycle):
        assert cycle.step(a[:8], b[:8])["loss/g/identity"] > 0
        cycle.fit(a, b, steps=2, batch_size=8, progress=False)

    straight = tiny(ema=0.9)
    straight.fit(a, b, steps=3, batch_size=8, progress=False)
    go_on(straight)
    resumed = tiny(ema=0.9)
    resumed.fit(a, b, steps=3, batch_size=8, progress=False, out=tmp_path / "ck")
    resumed = rustgan.CycleGAN.load(tmp_path / "ck", device="cpu")
    twin = copy.deepcopy(resumed)
    for cycle in (resumed, twin):
        go_on(cycle)
        for to, images in (("a", b[:4]), ("b", a[:4])):
            assert torch.equal(cycle.translate(images, to=to), straight.translate(images, to=to)), to
            for ema in (True, False):
                ours, theirs = cycle.generator_state_dict(ema, to=to), straight.generator_state_dict(ema, to=to)
                assert all(torch.equal(value, theirs[name]) for name, value in ours.items()), (to, ema)
            ours, theirs = cycle.discriminator_state_dict(to), straight.discriminator_state_dict(to)
            assert all(torch.equal(value, theirs[name]) for name, value in ours.items()), to
    assert resumed.steps_done == 6 and resumed.config == straight.config
    with pytest.raises(rustgan.CheckpointError, match="config"):
        rustgan.Translator.load(tmp_path / "ck")


def test_pytorch_twins_compute_the_same_function_both_ways(digits):
    colour = digits[:32].expand(-1, 3, -1, -1).flip(2)
    cycle = tiny((1, 16, 16), (3, 16, 16), identity_weight=0.0, ema=0.5)
    cycle.fit(digits[:32], colour, steps=2, batch_size=8, progress=False)
    to_b, to_a, judge_a, judge_b = rustgan.export_torch(cycle)
    assert isinstance(to_b, rustgan.torch_modules.UNetGenerator)
    with torch.no_grad():
        assert torch.allclose(to_b(digits[:8]), cycle.translate(digits[:8], to="b"), atol=1e-5)
        assert torch.allclose(to_a(colour[:8]), cycle.translate(colour[:8], to="a"), atol=1e-5)
        assert judge_a(digits[:8]).shape == judge_b(colour[:8]).shape == (8, 1, 6, 6), "16 px patches of 16 px"
    fresh = tiny((1, 16, 16), (3, 16, 16), identity_weight=0.0, seed=5)
    fresh.load_generator_state_dict(to_b.state_dict(), to="b")
    fresh.load_discriminator_state_dict(judge_a.state_dict(), domain="a")
    assert torch.allclose(fresh.translate(digits[:8], to="b"), cycle.translate(digits[:8], to="b"), atol=1e-6)
    with pytest.raises(rustgan.InvalidArgumentError, match="missing"):
        fresh.load_generator_state_dict({}, to="a")


def test_resnet_generators_export_and_resume(tmp_path, digits):
    a, b = digits[:64], -digits[64:128]
    cycle = tiny(generator="resnet6", ema=0.5)
    cycle.fit(a, b, steps=3, batch_size=8, progress=False, out=tmp_path / "ck")
    to_b, to_a, _, _ = rustgan.export_torch(cycle)
    assert isinstance(to_b, rustgan.torch_modules.ResnetTranslator) and len(to_b.blocks) == 6
    with torch.no_grad():
        assert torch.allclose(to_b(a[:8]), cycle.translate(a[:8], to="b"), atol=1e-5)
        assert torch.allclose(to_a(b[:8]), cycle.translate(b[:8], to="a"), atol=1e-5)
    loaded = rustgan.CycleGAN.load(tmp_path / "ck")
    assert loaded.config["generator"] == "resnet6"
    assert torch.equal(loaded.translate(b[:4], to="a"), cycle.translate(b[:4], to="a"))
    with pytest.raises(rustgan.InvalidArgumentError, match=r"divide by 4; got \[18, 18\]"):
        tiny((1, 18, 18), (1, 18, 18), generator="resnet9")
    with pytest.raises(rustgan.InvalidArgumentError, match="generator"):
        tiny(generator="vgg")


def test_patches_by_size_and_checkpoints_that_stored_zero(tmp_path, digits):
    """A new CycleGAN takes the deepest PatchGAN (up to 3 layers) whose patches fit in its
    images; a checkpoint whose config says 0 keeps the discriminators it was built with."""
    for side, layers in {16: 1, 28: 1, 32: 1, 64: 2, 128: 3, 256: 3}.items():
        assert tiny((1, side, side), (1, side, side)).config["patch_layers"] == layers, side
    assert tiny(patch_layers=2).config["patch_layers"] == 2
    old = tiny(patch_layers=2)
    old.fit(digits[:32], -digits[32:64], steps=2, batch_size=8, progress=False)
    old.save(tmp_path / "old")
    config_path = tmp_path / "old" / "config.json"
    config = json.loads(config_path.read_text())
    config["patch_layers"] = 0
    config_path.write_text(json.dumps(config))
    loaded = rustgan.CycleGAN.load(tmp_path / "old")
    assert loaded.discriminator_state_dict("a").keys() == old.discriminator_state_dict("a").keys()
    assert torch.equal(loaded.translate(digits[:4], to="b"), old.translate(digits[:4], to="b"))


# --- options and bad input -----------------------------------------------------------------
def test_constructor_signature_is_the_native_definition():
    parameters = inspect.signature(rustgan.CycleGAN.__init__).parameters
    assert [name for name in parameters if name in OPTIONS] == list(OPTIONS)
    assert set(parameters) - set(OPTIONS) == {"self", "device"}
    for name, spec in OPTIONS.items():
        assert parameters[name].default == spec.default, name
        assert name in rustgan.CycleGAN.__doc__, name


def test_bad_sets_directions_and_weights_are_named(tmp_path, digits):
    cycle = tiny()
    a, b = digits[:16], -digits[16:32]
    with pytest.raises(rustgan.DataError, match="images_b"):
        cycle.fit(a, b.expand(-1, 3, -1, -1), steps=1, progress=False)
    with pytest.raises(rustgan.DataError, match="images_a"):
        cycle.fit(torch.zeros(16, 1, 20, 20), b, steps=1, progress=False)
    with pytest.raises(rustgan.DataError, match="empty"):
        cycle.fit(a[:0], b, steps=1, progress=False)
    with pytest.raises(rustgan.InvalidArgumentError, match="larger than the data"):
        cycle.fit(a, b[:4], steps=1, batch_size=8, progress=False)
    nan = a.clone()
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(rustgan.DataError, match="NaN"):
        cycle.step(nan, b)
    for to in ("c", "B"):
        with pytest.raises(rustgan.InvalidArgumentError, match="'a' or 'b'"):
            cycle.translate(a, to=to)
    for options, match in [
        (dict(cycle_weight=-1.0), "cycle_weight"),
        (dict(identity_weight=-0.5), "identity_weight"),
        (dict(shape_b=(3, 16, 16)), "identity_weight=0"),
        (dict(shape_b=(1, 32, 32)), "same height and width"),
        (dict(cycle_weight=0.0, adversarial_weight=0.0), "nothing to learn"),
        (dict(pool_size=-1), "pool_size"),
        (dict(loss="wgan-gp"), "wgan-gp"),
    ]:
        with pytest.raises(rustgan.InvalidArgumentError, match=match):
            rustgan.CycleGAN(**{"shape_a": (1, 16, 16), "shape_b": (1, 16, 16), "device": "cpu", **options})
    cycle.save(tmp_path / "ck")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(rustgan.CheckpointError, match="not a directory"):
        cycle.save(tmp_path / "file")
    assert rustgan.CycleGAN.load(tmp_path / "ck").steps_done == 0


# --- data parallelism ----------------------------------------------------------------------
REPLICA = textwrap.dedent(
    """
    import sys, datetime, torch, torch.distributed as dist, rustgan
    rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=60))
    rustgan.set_num_threads(1)
    a = torch.nn.functional.interpolate(rustgan.data.mnist()[0][:64], size=16, mode="bilinear", antialias=True)
    cycle = rustgan.CycleGAN((1, 16, 16), (1, 16, 16), base_channels=4, pool_size=4, seed=3, device="cpu")
    cycle.fit(a, -a.flip(0), steps=4, batch_size=8, progress=False, out=out + "/ck")
    torch.save(cycle.generator_state_dict(to="a"), f"{out}/rank{rank}.pt")
    dist.destroy_process_group()
    """
)


@pytest.mark.slow
def test_two_replicas_stay_identical(tmp_path):
    rank0, rank1 = run_two_replicas(REPLICA, tmp_path)
    start = rustgan.CycleGAN((1, 16, 16), (1, 16, 16), base_channels=4, pool_size=4, seed=3, device="cpu")
    assert_trained_alike(rank0, rank1, start.generator_state_dict(to="a"))
    assert rustgan.CycleGAN.load(tmp_path / "ck").steps_done == 4


# --- command line --------------------------------------------------------------------------
def test_cli_trains_and_translates(tmp_path, capsys):
    from rustgan import cli

    out = tmp_path / "run"
    args = ["train-cycle", "--data-a", "digits", "--data-b", "mnist", "--steps", "4", "--log-every", "2"]
    assert cli.main([*args, "--base-channels", "4", "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr()
    assert "trained 4 steps" in printed.err and "resizing mnist from (28, 28) to (32, 32)" in printed.err
    for name in ("translations.png", "loss.png", "log.jsonl", "checkpoint"):
        assert (out / name).exists() and str((out / name).resolve()) in printed.out, name
    assert rustgan.CycleGAN.load(out / "checkpoint").steps_done == 4
    assert cli.main([*args, "--out", str(out), "--device", "cpu"]) == 2, "a run is never mixed into another"
    assert "already holds a run" in capsys.readouterr().err
    grid = tmp_path / "grid.png"
    command = ["translate", "--checkpoint", str(out / "checkpoint"), "--out", str(grid), "--n", "4"]
    assert cli.main([*command, "--to", "a"]) == 0
    assert grid.is_file() and str(grid.resolve()) in capsys.readouterr().out


def test_cli_drops_the_identity_loss_between_colour_domains(tmp_path, capsys):
    from PIL import Image
    from rustgan import cli

    generator = torch.Generator().manual_seed(0)
    for domain in ("a", "b"):
        (tmp_path / domain).mkdir()
        for i in range(6):
            pixels = torch.randint(0, 256, (16, 16, 3), dtype=torch.uint8, generator=generator)
            Image.fromarray(pixels.numpy()).save(tmp_path / domain / f"{i}.png")
    common = ["train-cycle", "--data-a", str(tmp_path / "a"), "--data-b", str(tmp_path / "b"), "--image-size", "16"]
    common += ["--steps", "1", "--batch-size", "2", "--base-channels", "4", "--device", "cpu"]
    assert cli.main([*common, "--out", str(tmp_path / "default")]) == 0
    assert "colour domains: no identity loss" in capsys.readouterr().err
    assert rustgan.CycleGAN.load(tmp_path / "default" / "checkpoint").config["identity_weight"] == 0.0
    assert cli.main([*common, "--identity-weight", "2", "--out", str(tmp_path / "asked")]) == 0
    assert "no identity loss" not in capsys.readouterr().err
    assert rustgan.CycleGAN.load(tmp_path / "asked" / "checkpoint").config["identity_weight"] == 2.0
