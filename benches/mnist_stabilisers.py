"""DCGAN on MNIST 5k before and after the stabilisers, class-conditional, and in bf16.

Trains on the 4,000-digit half the project's digit classifier was trained on, and scores
1,000 samples against it with the classifier's features: FID, precision/recall, classes
covered and KL of the predicted-class histogram to uniform, and for the conditional GAN
the fraction of samples classified as the class they were asked for.

    python benches/mnist_stabilisers.py                       # about 10 min on 2 cores
    python benches/mnist_stabilisers.py --runs DCGAN "DCGAN bf16" --out runs/precision
    python benches/mnist_stabilisers.py --steps 200 --base-channels 16 --lr 1e-3 --n 300   # smoke test
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
from rustgan import metrics, plot

RUNS = {
    "DCGAN": dict(ema=0.995),
    "DCGAN + PacGAN2": dict(ema=0.995, pac=2),
    "conditional DCGAN": dict(ema=0.995, num_classes=10),
    "DCGAN bf16": dict(ema=0.995, precision="bf16"),
}


def run(steps: int, base_channels: int, n: int, out: Path | None, runs: list[str], lr: float | None = None) -> dict:
    rustgan.set_num_threads(2)
    (x, y), _ = metrics.digit_split()
    results = {}
    print(f"{steps} steps of batch 64, base_channels={base_channels}, scored on {n} samples")
    print("| run | FID | precision / recall | classes, class KL | class accuracy | CPU s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in runs:
        options = RUNS[name] if lr is None else {**RUNS[name], "lr_g": lr, "lr_d": lr}
        started = time.process_time()
        gan = rustgan.GAN((1, 28, 28), base_channels=base_channels, seed=0, device="cpu", **options)
        gan.fit(x, steps, 64, labels=y if gan.num_classes else None, log_every=steps, progress=False)
        cpu = time.process_time() - started
        scores = metrics.evaluate(gan, x, n=n)
        accuracy = scores.get("class_accuracy")
        results[name] = {
            **{k: v for k, v in scores.items() if k != "swd_levels"},
            "cpu_seconds": cpu,
            "options": options,
        }
        print(
            f"| {name} | {scores['fid']:.1f} | {scores['precision']:.2f} / {scores['recall']:.2f} | "
            f"{scores['classes_covered']}, {scores['class_kl']:.3f} | "
            f"{'' if accuracy is None else f'{100 * accuracy:.1f}%'} | {cpu:.0f} |",
            flush=True,
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            plot.grid(
                gan.sample(100, seed=1), out / f"{name.replace(' ', '_').replace('+', 'and')}.png", nrow=10, title=name
            )
    if out is not None:
        (out / "mnist_stabilisers.json").write_text(json.dumps(results, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None, help="folder for sample grids and the table (json)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--lr", type=float, default=None, help="learning rate of G and D (default: the GAN's)")
    args = parser.parse_args()
    run(args.steps, args.base_channels, args.n, args.out, args.runs, args.lr)


if __name__ == "__main__":
    main()
