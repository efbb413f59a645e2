"""rustgan's fused step and fit loop against the PyTorch eager reference, side by side in
one process with the same thread count: ms/step (median of rounds, alternating), the
ratio, fit against back-to-back step calls, peak memory (each side in a fresh child),
and the FLOP rate of rustgan's step as a share of the CPU's attainable fp32 peak (that of
a large channels-last 3x3 convolution on the same threads).

Cases ending in -compile run the reference through torch.compile (inductor); the time
its first steps take to compile is printed apart.

Cases ending in -bf16 train rustgan with precision="bf16" against the fp32 reference;
-bf16-autocast runs the reference under torch.autocast(bfloat16) as well. Their share of
the fp32 peak can pass 100%: bf16 arithmetic has twice the peak.

    python benches/bench_step.py [--threads 2] [--rounds 7] [--steps 20] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
import rustgan  # noqa: E402
from reference import ReferenceCycleGAN, ReferenceGAN  # noqa: E402

CASES = {
    "mlp-2d-b64": dict(data_shape=(2,), arch="mlp", batch=64),
    "mlp-2d-b256": dict(data_shape=(2,), arch="mlp", batch=256),
    "dcgan-28x28x1-b64": dict(data_shape=(1, 28, 28), arch="dcgan", batch=64),
    "dcgan-64x64x3-b64": dict(data_shape=(3, 64, 64), arch="dcgan", batch=64),
    "dcgan-28x28x1-b64-bf16": dict(data_shape=(1, 28, 28), arch="dcgan", batch=64, precision="bf16"),
    "dcgan-28x28x1-b64-bf16-autocast": dict(
        data_shape=(1, 28, 28), arch="dcgan", batch=64, precision="bf16", autocast=True
    ),
    "resnet-32x32x3-b64": dict(data_shape=(3, 32, 32), arch="resnet", batch=64),
    "resnet-64x64x3-b32": dict(data_shape=(3, 64, 64), arch="resnet", batch=32),
    "resnet-32x32x3-b64-compile": dict(data_shape=(3, 32, 32), arch="resnet", batch=64, compile=True),
    "resnet-64x64x3-b32-compile": dict(data_shape=(3, 64, 64), arch="resnet", batch=32, compile=True),
    # The colour recipe's width: FastGAN's generator is 4x DCGAN's at the same base.
    "projected-64x64x3-b64": dict(data_shape=(3, 64, 64), arch="projected", batch=64, base_channels=16),
    "projected-64x64x3-b64-pixel-head": dict(
        data_shape=(3, 64, 64), arch="projected", batch=64, base_channels=16, pixel_head=True
    ),
    "cyclegan-28x28x1-b32": dict(data_shape=(1, 28, 28), arch="cyclegan", batch=32),
    "cyclegan-32x32x3-b32": dict(data_shape=(3, 32, 32), arch="cyclegan", batch=32),
    # Photographs as paintings (benches/cyclegan.py --tasks paintings).
    "cyclegan-64x64x3-b8": dict(data_shape=(3, 64, 64), arch="cyclegan", batch=8),
}
DEFAULT_CASES = [
    "mlp-2d-b64",
    "mlp-2d-b256",
    "dcgan-28x28x1-b64",
    "dcgan-64x64x3-b64",
    "dcgan-28x28x1-b64-bf16",
    "projected-64x64x3-b64",
    "cyclegan-28x28x1-b32",
]
# CycleGAN's networks are 32 wide at 28-64 px, as its defaults.
CYCLEGAN_CHANNELS = 32


class CycleSide:
    """rustgan's CycleGAN behind the GANs' interface: a batch ``[N, 2, C, H, W]`` holds
    an image of domain a and one of domain b per item."""

    def __init__(self, model: rustgan.CycleGAN):
        self.model = model

    def step(self, batch: torch.Tensor) -> dict:
        return self.model.step(batch[:, 0], batch[:, 1])

    def fit(self, data: torch.Tensor, **options) -> list:
        return self.model.fit(data[:, 0], data[:, 1], **options)


def make(case: dict, side: str, base_channels: int):
    base_channels = case.get("base_channels", base_channels)
    if case["arch"] == "cyclegan":
        shape, width = case["data_shape"], min(base_channels, CYCLEGAN_CHANNELS)
        torch.manual_seed(0)
        cycle = rustgan.CycleGAN(shape, shape, base_channels=width, device="cpu")
        # The reference builds the discriminators as deep as rustgan's default picks.
        return CycleSide(cycle) if side == "rustgan" else ReferenceCycleGAN(shape, width, cycle.config["patch_layers"])
    if side == "rustgan":
        precision = case.get("precision", "fp32")
        pixel_head = {"pixel_head": True} if case.get("pixel_head") else {}
        return rustgan.GAN(
            case["data_shape"],
            arch=case["arch"],
            base_channels=base_channels,
            precision=precision,
            device="cpu",
            **pixel_head,
        )
    torch.manual_seed(0)
    return ReferenceGAN(
        case["data_shape"],
        case["arch"],
        base_channels=base_channels,
        autocast=case.get("autocast", False),
        compile=case.get("compile", False),
        pixel_head=case.get("pixel_head", False),
    )


def data_for(case: dict, n: int) -> torch.Tensor:
    pair = (2,) if case["arch"] == "cyclegan" else ()
    return torch.rand(n, *pair, *case["data_shape"]) * 2 - 1


def step_flops(case: dict, base_channels: int) -> float:
    """Floating-point operations of one rustgan step (convolutions and matmuls, forward and
    backward), counted on the reference's modules. G's update takes gradients for G only."""
    if case["arch"] == "cyclegan":
        model = make(case, "torch", base_channels)
        with FlopCounterMode(display=False) as counter:
            model.step(data_for(case, case["batch"]))
        return counter.get_total_flops()
    model = make(case, "torch", base_channels)
    generator, discriminator = model.generator, model.discriminator
    real = data_for(case, case["batch"])
    with FlopCounterMode(display=False) as counter:
        fake = generator(torch.randn(len(real), model.latent_dim))
        d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
        torch.autograd.grad(d_loss, [p for p in discriminator.parameters() if p.requires_grad])
        g_loss = F.softplus(-discriminator(fake)).mean()
        torch.autograd.grad(g_loss, list(generator.parameters()))
    return counter.get_total_flops()


def attainable_flops(repeats: int = 5) -> float:
    """fp32 FLOP/s of a large channels-last 3x3 convolution (oneDNN at its best, on the
    CPU's widest vectors) on this process's threads: the practical peak of this CPU."""
    x = torch.randn(32, 256, 32, 32).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 256, 3, 3).contiguous(memory_format=torch.channels_last)
    for _ in range(2):
        F.conv2d(x, w, padding=1)
    start = time.perf_counter()
    for _ in range(repeats):
        F.conv2d(x, w, padding=1)
    return 2 * 32 * 32 * 32 * 256 * 256 * 9 * repeats / (time.perf_counter() - start)


def time_steps(model, batches) -> float:
    start = time.perf_counter()
    for batch in batches:
        model.step(batch)
    return (time.perf_counter() - start) * 1000 / len(batches)


def memory_child(name: str, side: str, steps: int, base_channels: int) -> None:
    case = CASES[name]
    model = make(case, side, base_channels)
    batches = [data_for(case, case["batch"]) for _ in range(4)]
    for i in range(steps):
        model.step(batches[i % 4])
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"max_rss_mib": peak_kib / 1024}))


def peak_memory(name: str, side: str, steps: int, threads: int, base_channels: int) -> float:
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        name,
        side,
        "--steps",
        str(steps),
        "--threads",
        str(threads),
        "--base-channels",
        str(base_channels),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])["max_rss_mib"]


def bench(name: str, rounds: int, steps: int, threads: int, base_channels: int, peak: float) -> dict:
    case = CASES[name]
    ours, theirs = make(case, "rustgan", base_channels), make(case, "torch", base_channels)
    batches = [data_for(case, case["batch"]) for _ in range(steps)]
    time_steps(ours, batches[:3])  # warm-up; the reference's includes torch.compile's compilation
    warm_up_s = time_steps(theirs, batches[:3]) * 3 / 1000
    ours_ms, theirs_ms, fit_ms = [], [], []
    data = torch.cat(batches)
    for _ in range(rounds):
        ours_ms.append(time_steps(ours, batches))
        theirs_ms.append(time_steps(theirs, batches))
        start = time.perf_counter()
        ours.fit(data, steps=steps, batch_size=case["batch"], log_every=steps, progress=False)
        fit_ms.append((time.perf_counter() - start) * 1000 / steps)
    ours_med, theirs_med, fit_med = (statistics.median(v) for v in (ours_ms, theirs_ms, fit_ms))
    return {
        "case": name,
        "rustgan_ms": ours_med,
        "torch_ms": theirs_med,
        "speedup": theirs_med / ours_med,
        "fit_vs_step": ours_med / fit_med,
        "gflops": step_flops(case, base_channels) / (ours_med / 1000) / 1e9,
        "rustgan_rss_mib": peak_memory(name, "rustgan", steps, threads, base_channels),
        "torch_rss_mib": peak_memory(name, "torch", steps, threads, base_channels),
        "compile_s": warm_up_s if case.get("compile") else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--base-channels", type=int, default=64)
    parser.add_argument("--cases", nargs="*", default=DEFAULT_CASES, choices=list(CASES))
    parser.add_argument("--tiny", action="store_true", help="a quick check that the benchmark runs")
    parser.add_argument("--memory-child", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(*args.memory_child, args.steps, args.base_channels)
        return
    if args.tiny:
        args.rounds, args.steps, args.base_channels = 1, 3, 4
        args.cases = [
            "mlp-2d-b64",
            "dcgan-28x28x1-b64",
            "dcgan-28x28x1-b64-bf16",
            "resnet-32x32x3-b64",
            "cyclegan-28x28x1-b32",
        ]
    peak = attainable_flops(repeats=1 if args.tiny else 5)
    print(
        f"torch {torch.__version__}, {args.threads} threads, median of {args.rounds} rounds x {args.steps} steps, "
        f"attainable fp32 peak {peak / 1e9:.0f} GFLOP/s"
    )
    header = (
        f"{'case':32} {'rustgan ms':>10} {'torch ms':>9} {'speedup':>8} {'fit/step':>9} {'GFLOP/s':>8} {'of peak':>8} "
        f"{'rustgan MiB':>12} {'torch MiB':>10}"
    )
    print(header)
    for name in args.cases:
        r = bench(name, args.rounds, args.steps, args.threads, args.base_channels, peak)
        compiled = f"  (compiled in {r['compile_s']:.0f} s)" if r["compile_s"] is not None else ""
        print(
            f"{r['case']:32} {r['rustgan_ms']:10.3f} {r['torch_ms']:9.3f} {r['speedup']:7.2f}x "
            f"{r['fit_vs_step']:8.2f}x {r['gflops']:8.3g} {r['gflops'] * 1e9 / peak:8.1%} {r['rustgan_rss_mib']:12.0f} "
            f"{r['torch_rss_mib']:10.0f}{compiled}",
            flush=True,
        )


if __name__ == "__main__":
    main()
