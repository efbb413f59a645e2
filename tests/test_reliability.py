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

import torch

import rustgan
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


def test_resume_in_a_new_process_is_bit_identical(tmp_path, mnist):
    data = tmp_path / "x.pt"
    torch.save(mnist[0][:100].clone(), data)  # 3 batches of 32 per epoch: resume mid-epoch
    run_python(TRAIN_SCRIPT, data, "new", 7, tmp_path / "first")
    run_python(TRAIN_SCRIPT, data, tmp_path / "first", 6, tmp_path / "resumed")
    run_python(TRAIN_SCRIPT, data, "new", 13, tmp_path / "straight")
    resumed, straight = checkpoint_files(tmp_path / "resumed"), checkpoint_files(tmp_path / "straight")
    assert set(resumed) == {
        "config.json", "state.json", "generator.safetensors", "generator_ema.safetensors",
        "discriminator.safetensors", "optimizer.safetensors",
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
