"""The levers of the image recipe, alone and combined, on MNIST within a fixed time budget.

Each run trains an unconditional GAN on the 4,000 training digits of the classifier's split
for at most `--budget` seconds of wall time (2 threads), in chunks of `--chunk` steps, and
scores 1,000 samples against the training digits with the digit classifier's features:
FID, precision / recall, classes covered and the class histogram's KL to uniform.

    python benches/mnist_recipe.py --runs baseline recipe --seeds 0 1 2 --out runs/recipe
    python benches/mnist_recipe.py --budget 10 --n 200 --runs recipe   # smoke test
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
from rustgan import metrics, plot

BATCH = 64
TARGETS = "targets: FID <= 15, precision >= 0.75, recall >= 0.70, 10 classes, class KL <= 0.03, in 5 minutes"

# The GAN options of the image recipe.
RECIPE = {k: v for k, v in rustgan.recipe("images").items() if k not in ("batch_size", "steps")}
# The recipe before hinge loss and spectral norm joined it: the levers "clusters recipe + ..."
# were measured on top of it.
CLUSTERS_RECIPE = dict(RECIPE, loss="bce", spectral_norm=False)
# R3GAN's loss (Huang et al. 2024): relativistic pairing with R1 and R2, lazily every 4 steps.
R3GAN = dict(loss="relativistic", r1_gamma=0.1, r2_gamma=0.1, r1_every=4)
# Each run: GAN options, and the batch size when it is not 64.
RUNS: dict[str, dict] = {
    "baseline": dict(ema=None),
    "EMA 0.999": dict(ema=0.999),
    "TTUR": dict(ema=0.999, lr_d=4e-4, lr_g=1e-4),
    "hinge": dict(ema=0.999, loss="hinge"),
    "R1": dict(ema=0.999, r1_gamma=1.0),
    "spectral norm": dict(ema=0.999, spectral_norm=True),
    "hinge + SN": dict(ema=0.999, loss="hinge", spectral_norm=True),
    "DiffAugment": dict(ema=0.999, augment=["translation"]),
    "width 32": dict(ema=0.999, base_channels=32),
    "width 96": dict(ema=0.999, base_channels=96),
    "latent 32": dict(ema=0.999, latent_dim=32),
    "batch 32": dict(ema=0.999, batch_size=32),
    "batch 128": dict(ema=0.999, batch_size=128),
    "pac 2": dict(ema=0.999, pac=2),
    "width 32, clusters 20": dict(ema=0.999, base_channels=32, clusters=20),
    "width 32, clusters 50": dict(ema=0.999, base_channels=32, clusters=50),
    "width 32, clusters 100": dict(ema=0.999, base_channels=32, clusters=100),
    "recipe": RECIPE,
    "recipe, re-clustered on D's features": dict(RECIPE, recluster_every=1000),
    "recipe with R3GAN's loss": dict(RECIPE, **R3GAN),
    "clusters recipe": CLUSTERS_RECIPE,
    "clusters recipe + top-k 0.5": dict(CLUSTERS_RECIPE, top_k=0.5),
    "clusters recipe + TTUR": dict(CLUSTERS_RECIPE, lr_d=4e-4, lr_g=1e-4),
    "clusters recipe + DiffAugment": dict(CLUSTERS_RECIPE, augment=["translation"]),
    "clusters recipe + lr half-life 2500": dict(CLUSTERS_RECIPE, lr_half_life=2500),
}


def train(
    options: dict, x, budget: float, chunk: int, steps: int | None, labels=None, after_chunk=None
) -> tuple[rustgan.GAN, int, float]:
    """Trains `steps` steps, or without them in chunks until the next chunk would overrun
    `budget` seconds of wall time; `labels` for a conditional GAN. `after_chunk(gan, steps,
    seconds)` is called after each chunk, its time not counted."""
    options = dict(options)
    batch = options.pop("batch_size", BATCH)
    gan = rustgan.GAN(tuple(x.shape[1:]), device="cpu", **options)
    started = time.perf_counter()
    if steps is not None:
        gan.fit(x, steps, batch, labels=labels, log_every=steps, progress=False)
        return gan, steps, time.perf_counter() - started
    steps, elapsed = 0, 0.0
    while True:
        gan.fit(x, chunk, batch, labels=labels, log_every=chunk, progress=False)
        steps += chunk
        elapsed = time.perf_counter() - started
        if after_chunk is not None:
            paused = time.perf_counter()
            after_chunk(gan, steps, elapsed)
            started += time.perf_counter() - paused
        if elapsed * (steps + chunk) / steps > budget:
            return gan, steps, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="seconds of wall time per run")
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of to the budget")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for sample grids and the table (json)")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument(
        "--guides", nargs="+", default=["none"], choices=["none", "drs", "mh"], help="sampling, after calibration"
    )
    args = parser.parse_args()

    rustgan.set_num_threads(2)
    (x, _), (held_out, _) = metrics.digit_split()
    results = []
    print(f"budget {args.budget:.0f} s of wall time per run, 2 threads, scored on {args.n} samples")
    print("| run | guide | seed | steps | s | FID | precision / recall | classes, class KL |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.runs:
        for seed in args.seeds:
            gan, steps, seconds = train({**RUNS[name], "seed": seed}, x, args.budget, args.chunk, args.steps)
            if args.guides != ["none"]:
                gan.calibrate(held_out)  # the classifier's held-out digits, never trained on
            for guide in args.guides:
                scores = metrics.evaluate(gan, x, n=args.n, guide=None if guide == "none" else guide)
                results.append(
                    {"run": name, "guide": guide, "seed": seed, "steps": steps, "seconds": seconds}
                    | {"options": RUNS[name]}
                    | {k: v for k, v in scores.items() if k != "swd_levels"}
                )
                print(
                    f"| {name} | {guide} | {seed} | {steps} | {seconds:.0f} | {scores['fid']:.1f} | "
                    f"{scores['precision']:.2f} / {scores['recall']:.2f} | "
                    f"{scores['classes_covered']}, {scores['class_kl']:.3f} |",
                    flush=True,
                )
            if args.out is not None:
                args.out.mkdir(parents=True, exist_ok=True)
                stem = name.replace(" ", "_").replace("+", "and")
                plot.grid(gan.sample(100, seed=1), args.out / f"{stem}_seed{seed}.png", nrow=10, title=name)
                (args.out / "mnist_recipe.json").write_text(json.dumps(results, indent=2))
    print(TARGETS)


if __name__ == "__main__":
    main()
