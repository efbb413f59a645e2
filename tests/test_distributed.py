"""Data-parallel training with torch.distributed (gloo on localhost): replicas stay
identical, match one process with the concatenated batches, and fail fast when a peer dies."""

import socket
import subprocess
import sys
import textwrap
import time

import pytest
import rustgan
import torch

# One replica: MLP GAN without batch norm, trained `steps` steps of 16 items per process
# (continuing OUT/ck with "resume"; with "adaptive" a DCGAN with adaptive augmentation on
# digits; with "projected" a projected GAN on colour noise), then saves its weights; with
# "die" rank 1 exits in the middle of training.
REPLICA = textwrap.dedent(
    """
    import os, sys, datetime, torch, torch.distributed as dist, rustgan
    weights = lambda gan: {**gan.generator_state_dict(), **{"D." + k: v for k, v in gan.discriminator_state_dict().items()}}
    rank, port, out, mode, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=60))
    rustgan.set_num_threads(1)
    x, _ = rustgan.data.ring2d(256, seed=0)
    gan = rustgan.GAN(2, arch="mlp", latent_dim=4, hidden_dim=32, depth=2, loss="hinge", seed=3, device="cpu")
    if mode == "resume":
        gan = rustgan.GAN.load(out + "/ck", device="cpu")
    if mode == "adaptive":  # digits, each replica augmenting as often as the other
        x = rustgan.data.mnist()[0][:64]
        gan = rustgan.GAN((1, 28, 28), arch="dcgan", latent_dim=16, base_channels=4, seed=3, device="cpu",
                          augment="translation,cutout", augment_target=0.6)
    if mode == "projected":  # the frozen feature network loads in each replica
        x = torch.rand(64, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
        gan = rustgan.GAN((3, 32, 32), arch="projected", latent_dim=8, base_channels=4, seed=3, device="cpu")
    if mode == "die":
        gan.fit(x, steps=steps, batch_size=16, progress=False)
        if rank == 1:
            os._exit(1)
        try:
            gan.fit(x, steps=1000, batch_size=16, progress=False)
        except rustgan.DistributedError as error:
            print("DistributedError:", error, flush=True)
            os._exit(3)
        os._exit(0)
    gan.fit(x, steps=steps, batch_size=16, progress=False, out=out + "/ck")
    torch.save(weights(gan), f"{out}/{mode}{rank}.pt")
    torch.save(gan.augment_probability, f"{out}/{mode}{rank}.p")
    dist.destroy_process_group()  # gloo's threads must stop before the interpreter exits
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp_path, mode: str, steps: int = 12):
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, str(rank), str(port), str(tmp_path), mode, str(steps)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]


def run_replicas(tmp_path, mode: str, steps: int = 12) -> None:
    for process in launch(tmp_path, mode, steps):
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr


@pytest.mark.slow
def test_two_replicas_match_each_other_and_one_process(tmp_path):
    run_replicas(tmp_path, "train")
    rank0, rank1 = torch.load(tmp_path / "train0.pt"), torch.load(tmp_path / "train1.pt")
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    # Rank 0 alone wrote the checkpoint.
    assert rustgan.GAN.load(tmp_path / "ck").steps_done == 12
    # One process with batches of 32 (both slices concatenated) takes the same steps.
    x, _ = rustgan.data.ring2d(256, seed=0)
    single = rustgan.GAN(2, arch="mlp", latent_dim=4, hidden_dim=32, depth=2, loss="hinge", seed=3, device="cpu")
    single.fit(x, steps=12, batch_size=32, progress=False)
    alone = {**single.generator_state_dict(), **{"D." + k: v for k, v in single.discriminator_state_dict().items()}}
    # Equal up to rounding, which Adam's first steps amplify where a gradient nearly
    # cancels (an update of up to lr = 2e-4 for |g| near eps): a few entries may differ by
    # a fraction of a step, while training on other data would move most entries by steps.
    for name in rank0:
        difference = (rank0[name] - alone[name]).abs()
        assert difference.max() < 2e-4 and difference.mean() < 1e-5, (name, difference.max(), difference.mean())


@pytest.mark.slow
def test_resume_with_the_same_world_size(tmp_path):
    run_replicas(tmp_path / "straight", "train", 12)
    run_replicas(tmp_path / "resumed", "train", 5)
    run_replicas(tmp_path / "resumed", "resume", 7)
    straight, resumed = torch.load(tmp_path / "straight" / "train0.pt"), torch.load(tmp_path / "resumed" / "resume1.pt")
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name


@pytest.mark.slow
def test_replicas_adapt_their_augmentation_alike(tmp_path):
    """D's certainty on real images is averaged across replicas, so p moves in step."""
    run_replicas(tmp_path, "adaptive")
    p0, p1 = (torch.load(tmp_path / f"adaptive{rank}.p") for rank in (0, 1))
    assert p0 == p1 > 0
    rank0, rank1 = torch.load(tmp_path / "adaptive0.pt"), torch.load(tmp_path / "adaptive1.pt")
    for name in [name for name in rank0 if "running" not in name]:  # batch norm's own slices
        assert torch.equal(rank0[name], rank1[name]), name


@pytest.mark.slow
def test_projected_replicas_stay_identical(tmp_path):
    run_replicas(tmp_path, "projected", 4)
    rank0, rank1 = torch.load(tmp_path / "projected0.pt"), torch.load(tmp_path / "projected1.pt")
    for name in [name for name in rank0 if "running" not in name]:  # batch norm's own slices
        assert torch.equal(rank0[name], rank1[name]), name


@pytest.mark.slow
def test_a_dead_replica_makes_the_others_fail_clearly(tmp_path):
    started = time.monotonic()
    survivor, dead = launch(tmp_path, "die", 3)
    dead.wait(timeout=120)
    stdout, stderr = survivor.communicate(timeout=120)
    assert survivor.returncode == 3, stdout + stderr
    assert "averaging gradients across processes failed" in stdout
    assert time.monotonic() - started < 120


def test_one_process_without_a_group_is_unchanged():
    assert rustgan.distributed.world() == (0, 1) and rustgan.distributed.is_main_process()


@pytest.mark.slow
def test_torchrun_cli(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            f"--master_port={free_port()}",
            "-m",
            "rustgan",
            "train",
            "--data",
            "ring2d",
            "--steps",
            "20",
            "--log-every",
            "10",
            "--out",
            str(out),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "in 2 processes" in result.stderr
    assert rustgan.GAN.load(out / "checkpoint").steps_done == 20
    assert len((out / "log.jsonl").read_text().splitlines()) == 2  # one writer
