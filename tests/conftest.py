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
