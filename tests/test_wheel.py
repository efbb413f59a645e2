"""The distributable wheel: `maturin build --release` makes one, and installed into a
clean virtual env with only the runtime dependencies (torch from the package registry,
no Rust, no maturin) it imports and trains."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# Kept between runs, so that only the first one downloads torch.
PIP_CACHE = ROOT / "target" / "pip-cache"

SMOKE = """
import importlib.util, rustgan
assert importlib.util.find_spec("maturin") is None, "the clean env must not hold build tools"
x, _ = rustgan.data.mnist()
gan = rustgan.GAN(base_channels=8, latent_dim=16, seed=0, device="cpu")
history = gan.fit(x[:512], steps=20, batch_size=32, log_every=10, progress=False)
assert [r["step"] for r in history] == [10, 20] and gan.sample(4, seed=1).shape == (4, 1, 28, 28)
print("trained", gan.steps_done, "steps from", rustgan.__file__)
"""


def run(*command, **options):
    return subprocess.run(command, check=True, capture_output=True, text=True, **options)


@pytest.mark.slow
def test_wheel_installs_and_trains_in_a_clean_env(tmp_path):
    dist = tmp_path / "dist"
    maturin = Path(sys.executable).parent / "maturin"
    # No auditwheel repair: the wheel links the libtorch of the torch package it runs with.
    run(str(maturin), "build", "--release", "--auditwheel", "skip", "--out", str(dist), cwd=ROOT)
    (wheel,) = dist.glob("rustgan-*.whl")
    assert wheel.stat().st_size < 50 * 2**20, "libtorch must not be copied into the wheel"

    env = tmp_path / "env"
    started = time.perf_counter()
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(env))
    run(str(env / "bin" / "pip"), "install", "--quiet", "--no-compile", "--cache-dir", str(PIP_CACHE), str(wheel))
    installed = time.perf_counter() - started
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "LD_LIBRARY_PATH")}
    result = run(str(env / "bin" / "python"), "-c", SMOKE, cwd=tmp_path, env=clean)
    print(f"wheel {wheel.name}: installed in {installed:.0f} s; {result.stdout.strip()}")
    assert "trained 20 steps" in result.stdout and str(env) in result.stdout
