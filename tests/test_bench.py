"""The benchmark runs (its numbers are recorded in benches/README.md, not asserted)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benches" / "bench_step.py"


def test_benchmark_runs_on_a_tiny_setting():
    result = subprocess.run([sys.executable, str(BENCH), "--tiny"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("mlp", "dcgan"))]
    assert [row[0] for row in rows] == ["mlp-2d-b64", "dcgan-28x28x1-b64"]
    for row in rows:
        assert float(row[1]) > 0 and float(row[2]) > 0 and row[3].endswith("x")
