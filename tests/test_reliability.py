"""Exact resume across processes, checkpoints that survive SIGKILL, and GANs trained in
parallel threads."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import rustgan
import torch
from conftest import tiny_dcgan

# Runs in a fresh interpreter: trains a tiny DCGAN with EMA (from scratch or from a
# checkpoint) and saves it.
TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch, rustgan
    data, source, steps, target = sys.argv[1:]
    rustgan.set_num_threads(1)
    x = torch.load(data)
    if source == "new":
        gan = rustgan.GAN((1, 28, 28), latent_dim=16, base_channels=8, ema=0.9, seed=5, device="cpu")
    else:
        gan = rustgan.GAN.load(source, device="cpu")
    gan.fit(x, steps=int(steps), batch_size=32, progress=False)
    gan.save(target)
    """
)


def run_python(code: str, *args) -> None:
    subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, timeout=300)


def checkpoint_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.slow
def test_resume_in_a_new_process_is_bit_identical(tmp_path, mnist):
    data = tmp_path / "x.pt"
    torch.save(mnist[0][:100].clone(), data)  # 3 batches of 32 per epoch: resume mid-epoch
    run_python(TRAIN_SCRIPT, data, "new", 7, tmp_path / "first")
    run_python(TRAIN_SCRIPT, data, tmp_path / "first", 6, tmp_path / "resumed")
    run_python(TRAIN_SCRIPT, data, "new", 13, tmp_path / "straight")
    resumed, straight = checkpoint_files(tmp_path / "resumed"), checkpoint_files(tmp_path / "straight")
    assert set(resumed) == {
        "config.json",
        "state.json",
        "generator.safetensors",
        "generator_ema.safetensors",
        "discriminator.safetensors",
        "optimizer.safetensors",
    }
    for name in resumed:
        assert resumed[name] == straight[name], name


# Resumes (or starts) and trains forever, saving after every step: saving takes most of
# the time, so kills land in the middle of saves.
KILLED_SCRIPT = textwrap.dedent(
    """
    import os, sys, torch, rustgan
    out = sys.argv[1]
    if os.path.isdir(out):
        gan = rustgan.GAN.load(out, device="cpu")
    else:
        gan = rustgan.GAN((3, 64, 64), latent_dim=32, base_channels=32, ema=0.99, device="cpu")
        gan.save(out)
    x = torch.rand(64, 3, 64, 64) * 2 - 1
    print("ready", flush=True)
    gan.fit(x, steps=10**9, batch_size=2, checkpoint_every=1, out=out, progress=False)
    """
)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "ck"
    rng = random.Random(0)
    last_step = 0
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", KILLED_SCRIPT, str(out)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.5))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        gan = rustgan.GAN.load(out, device="cpu")  # never raises: the old or the new checkpoint
        assert gan.steps_done >= last_step  # each run resumed where the previous one got to
        last_step = gan.steps_done
        gan.sample(2, seed=0)
    assert last_step > 0, "no checkpoint was ever written after the first: kill delays too short"
    gan.save(out)  # a complete save clears what the killed ones left behind
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_fit_keeps_checkpoints_while_training(tmp_path, mnist):
    gan = tiny_dcgan()
    gan.fit(mnist[0][:128], steps=7, batch_size=32, checkpoint_every=3, out=tmp_path / "ck", progress=False)
    assert rustgan.GAN.load(tmp_path / "ck").steps_done == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


@pytest.mark.slow
def test_two_threads_train_two_gans_like_one_after_the_other(mnist):
    x = mnist[0][:256]

    def train(gan):
        gan.fit(x, steps=15, batch_size=32, progress=False)

    sequential = [tiny_dcgan(seed=1), tiny_dcgan(seed=2)]
    for gan in sequential:
        train(gan)
    parallel = [tiny_dcgan(seed=1), tiny_dcgan(seed=2)]
    threads = [threading.Thread(target=train, args=(gan,)) for gan in parallel]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for one, other in zip(sequential, parallel):
        assert one.steps_done == other.steps_done == 15
        for name, tensor in one.generator_state_dict().items():
            assert torch.equal(tensor, other.generator_state_dict()[name]), name


# Saves a checkpoint of a model (GAN, Translator or CycleGAN), takes a step, then tries to
# save again with writes capped at `limit` bytes per file (as a full disk would cut them
# off), and reports what the second save raised.
FAILING_SAVE_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys, rustgan, torch
    target, limit, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    if kind == "GAN":
        model = rustgan.GAN((1, 28, 28), latent_dim=16, base_channels=8, seed=0, device="cpu")
        step = lambda: model.step(x)
    else:
        model = getattr(rustgan, kind)((1, 28, 28), (1, 28, 28), base_channels=8, seed=0, device="cpu")
        step = lambda: model.step(x, -x)
    model.save(target)
    step()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        model.save(target)
    except rustgan.CheckpointError as error:
        print("CheckpointError:", error)
    """
)
# The GAN's run in the quick tier; the others share its save path.
MODELS = ["GAN", pytest.param("Translator", marks=pytest.mark.slow), pytest.param("CycleGAN", marks=pytest.mark.slow)]


def assert_failed_save_left_no_trace(directory: Path, output: str, kind: str = "GAN") -> None:
    assert "CheckpointError" in output, output
    assert [p.name for p in directory.parent.iterdir()] == [directory.name], "the staging directory is removed"
    loaded = getattr(rustgan, kind).load(directory, device="cpu")
    assert loaded.steps_done == 0, "the previous checkpoint stays loadable"


@pytest.mark.parametrize("kind", MODELS)
def test_a_save_cut_off_by_a_file_size_limit_cleans_up(tmp_path, kind):
    target = tmp_path / "run" / "checkpoint"
    result = subprocess.run(
        [sys.executable, "-c", FAILING_SAVE_SCRIPT, str(target), "20000", kind],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert_failed_save_left_no_trace(target, result.stdout + result.stderr, kind)


def test_a_save_onto_a_full_disk_cleans_up(tmp_path):
    """On a 1 MiB tmpfs (where the test may mount one) the second save runs out of space."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]).returncode:
        pytest.skip("mounting a tmpfs needs root; the file-size-limit test covers the same path")
    try:
        target = disk / "checkpoint"
        code = FAILING_SAVE_SCRIPT.replace("resource.setrlimit", "(lambda *a: None)")  # the disk is the limit
        filler = "open(sys.argv[1] + '-filler', 'wb').write(bytes(700_000))\n"
        code = code.replace("signal.signal(", filler + "signal.signal(")
        result = subprocess.run(
            [sys.executable, "-c", code, str(target), "0", "GAN"], capture_output=True, text=True, timeout=300
        )
        (disk / "checkpoint-filler").unlink()
        assert "No space left on device" in result.stdout, result.stdout + result.stderr
        assert_failed_save_left_no_trace(target, result.stdout)
    finally:
        subprocess.run(["umount", disk])


# Trains each model again and again in a fresh interpreter, while another process keeps a
# CPU busy, and sends itself SIGINT at a random moment of each `fit` (the first steps
# and the clustering before them included). Prints, per model, the longest wait from the
# signal to `fit` returning, and what each interrupted model had trained.
SIGINT_SCRIPT = textwrap.dedent(
    """
    import os, random, signal, threading, time, warnings
    import rustgan, torch
    warnings.simplefilter("ignore")
    random.seed(int(os.environ["SIGINT_SEED"]))
    x = rustgan.data.mnist()[0][:256]
    points, _ = rustgan.data.ring2d(100_000)
    inputs, targets = rustgan.data.pairs(x, "superres")

    def vectors():
        options = rustgan.recipe("vectors", len(points))
        options.pop("steps"), options.pop("batch_size")
        gan = rustgan.GAN((2,), arch="mlp", **options, device="cpu")
        return gan, lambda: gan.fit(points, steps=100_000, batch_size=100, progress=False)

    def images():
        gan = rustgan.GAN((1, 28, 28), base_channels=8, clusters=10, ema=0.99, device="cpu")
        return gan, lambda: gan.fit(x, steps=100_000, batch_size=32, progress=False)

    def translator():
        model = rustgan.Translator(inputs.shape[1:], targets.shape[1:], base_channels=8, device="cpu")
        return model, lambda: model.fit(inputs, targets, steps=100_000, batch_size=32, progress=False)

    def cycle():
        model = rustgan.CycleGAN((1, 28, 28), (1, 28, 28), base_channels=8, device="cpu")
        return model, lambda: model.fit(x[:128], -x[128:], steps=100_000, batch_size=16, progress=False)

    for name, build in [("vectors", vectors), ("images", images), ("translator", translator), ("cycle", cycle)]:
        longest = 0.0
        for trial in range(4):
            model, fit = build()
            sent = []
            def interrupt(delay=random.uniform(0.0, 1.5)):
                time.sleep(delay)
                sent.append(time.perf_counter())
                os.kill(os.getpid(), signal.SIGINT)
            threading.Thread(target=interrupt, daemon=True).start()
            history = fit()
            longest = max(longest, time.perf_counter() - sent[0])
            assert model.steps_done < 100_000 and model.steps_done >= 0, name
        print(name, round(longest, 3), flush=True)
    """
)


@pytest.mark.slow
def test_ctrl_c_during_fit_returns_quickly_on_a_busy_machine():
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])]
    try:
        run = subprocess.run(
            [sys.executable, "-c", SIGINT_SCRIPT],
            capture_output=True,
            text=True,
            timeout=600,
            env=os.environ | {"SIGINT_SEED": str(random.randrange(1000))},
        )
    finally:
        for process in busy:
            process.kill()
    assert run.returncode == 0, run.stderr[-3000:]
    waits = dict(line.split() for line in run.stdout.splitlines())
    assert set(waits) == {"vectors", "images", "translator", "cycle"}, run.stdout
    for name, wait in waits.items():
        assert float(wait) < 2.0, f"{name}: fit returned {wait} s after SIGINT"
