import socket
import subprocess
import sys

import pytest
import rustgan
import torch


@pytest.fixture(scope="session")
def mnist():
    return rustgan.data.mnist()


@pytest.fixture(scope="session")
def ring():
    return rustgan.data.ring2d(2500)


def tiny_dcgan(**overrides) -> rustgan.GAN:
    """A small DCGAN for fast tests."""
    options = dict(data_shape=(1, 28, 28), arch="dcgan", latent_dim=16, base_channels=8, seed=0, device="cpu")
    options.update(overrides)
    return rustgan.GAN(**options)


def modes_covered(samples: torch.Tensor, centers: torch.Tensor, std: float) -> int:
    """Modes with at least one sample within 3 std of them (and nearest to them)."""
    distance, nearest = torch.cdist(samples, centers).min(dim=1)
    return len(set(nearest[distance < 3 * std].tolist()))


def differs_from(gan: rustgan.GAN, baseline: rustgan.GAN) -> bool:
    """Whether two GANs trained alike but for one option ended with different generators."""
    a = torch.cat([t.flatten() for _, t in sorted(gan.generator_state_dict(ema=False).items())])
    b = torch.cat([t.flatten() for _, t in sorted(baseline.generator_state_dict(ema=False).items())])
    return a.shape != b.shape or not torch.allclose(a, b, atol=1e-6)


def run_two_replicas(script: str, tmp_path) -> tuple[dict, dict]:
    """Runs `script` as ranks 0 and 1 of a gloo group (argv: rank, port, tmp_path); each
    saves a state dict to tmp_path/rank{rank}.pt, which are returned."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(rank), str(port), str(tmp_path)], stderr=subprocess.PIPE)
        for rank in range(2)
    ]
    for process in processes:
        assert process.wait(timeout=240) == 0, process.stderr.read().decode()
    return torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")


def assert_trained_alike(rank0: dict, rank1: dict, start: dict) -> None:
    """Both replicas hold the same weights, and every weight moved from `start`."""
    for name, value in start.items():
        if "running" in name or "num_batches" in name:
            continue  # batch statistics stay per process, as for GANs
        assert torch.equal(rank0[name], rank1[name]), name
        assert not torch.equal(rank0[name], value), f"{name} was trained"
