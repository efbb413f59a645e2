"""PacGAN's Table 1 protocol (Lin et al. 2018) with rustgan, beside the published rows.

Two 2D mixtures: a ring of 8 Gaussians (std 0.01) and a 5x5 grid of 25 (std 0.05). Each
method trains one MLP GAN per seed on 100,000 points and draws 2,500 samples from it. A
sample is high quality within 3 std of its nearest center; a mode is covered when a
high-quality sample is nearest to it; reverse KL compares the modes' histogram with the
uniform one. Rows are mean ± standard error over the seeds.

    python benches/pacgan_2d.py                          # 10 seeds, all methods
    python benches/pacgan_2d.py --methods GAN "PacGAN2 + R1"
    python benches/pacgan_2d.py --methods "PacGAN2 + R1" --guides none drs mh
    python benches/pacgan_2d.py --seeds 1 --steps 300 --points 5000   # smoke test
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import rustgan
import torch
from rustgan import data, metrics

MIXTURES = {"ring": (data.ring2d, 0.01), "grid": (data.grid2d, 0.05)}

# Means reported in PacGAN's Table 1: (modes, high quality %, reverse KL).
# What a method should reach on each mixture: (modes, high quality %, reverse KL), from
# PacGAN's best published rows.
TARGETS = {"ring": (8.0, 97.0, 0.05), "grid": (24.8, 95.0, 0.04)}

PUBLISHED = {
    "ring": {"GAN": (6.3, 98.2, 0.45), "PacGAN2": (7.9, 95.6, 0.07)},
    "grid": {"GAN": (17.3, 94.8, 0.70), "PacGAN4": (24.8, 93.6, 0.04)},
}

COMMON = dict(arch="mlp", lr_g=1e-3, lr_d=1e-3, ema=0.999)
# PacGAN's own networks and optimiser, with the batch size of its runs.
PUBLISHED_NETWORKS = {k: v for k, v in rustgan.recipe("pacgan").items() if k != "steps"}
# Stands for the number of the mixture's components in a method's `clusters`.
PER_MODE = "one per mode"
# The methods trained here: the plain GAN, packing alone, packing with a light R1 penalty
# (which makes the game converge to the data, Mescheder et al. 2018), self-conditioning on
# k-means clusters with a 2D latent (and learning rates that settle late in the run), and
# PacGAN2 with the published networks.
METHODS = {
    "GAN": COMMON,
    "PacGAN2": {**COMMON, "pac": 2},
    "PacGAN4": {**COMMON, "pac": 4},
    "PacGAN2 + R1": {**COMMON, "pac": 2, "r1_gamma": 0.1},
    "PacGAN4 + R1": {**COMMON, "pac": 4, "r1_gamma": 0.1},
    "clusters + R1, latent 2": {**COMMON, "clusters": PER_MODE, "r1_gamma": 0.1, "latent_dim": 2},
    "clusters + R1, latent 2, lr half-life 2000": {
        **COMMON,
        "clusters": PER_MODE,
        "r1_gamma": 0.1,
        "latent_dim": 2,
        "lr_half_life": 2000,
    },
    "PacGAN2, published networks": PUBLISHED_NETWORKS,
    # What `rustgan.recipe("vectors")` ships: 50 clusters whatever the mixture, with its own
    # batch size and steps.
    'recipe("vectors")': {"arch": "mlp", **rustgan.recipe("vectors")},
}


def train_and_score(
    mixture: str, method: str, seed: int, steps: int, batch_size: int, guides: list[str], points: int = 100_000
) -> dict:
    """Scores per guide ("none", "drs", "mh") of one trained GAN on `points` points of the
    mixture; guided sampling first calibrates D on 10,000 fresh points."""
    make, std = MIXTURES[mixture]
    points, centers = make(points, seed=seed)
    options = dict(METHODS[method])
    if options.get("clusters") == PER_MODE:
        options["clusters"] = len(centers)
    batch_size, steps = options.pop("batch_size", batch_size), options.pop("steps", steps)
    gan = rustgan.GAN((2,), seed=seed, device="cpu", **options)
    gan.fit(points, steps, batch_size, log_every=steps, progress=False)
    if guides != ["none"]:
        gan.calibrate(make(10_000, seed=20_000 + seed)[0])
    scores = {}
    for guide in guides:
        samples = gan.sample(2500, seed=10_000 + seed, guide=None if guide == "none" else guide)
        scores[guide] = {"samples": samples, **metrics.modes_2d(samples, centers, std)}
    return scores


def mean_and_error(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float("nan")
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def format_row(name: str, summary: dict, cpu_seconds: float) -> str:
    cells = [f"{m:.3f} ± {e:.3f}" if key == "reverse_kl" else f"{m:.1f} ± {e:.1f}" for key, (m, e) in summary.items()]
    return f"| {name} | " + " | ".join(cells) + f" | {cpu_seconds:.0f} |"


def run(
    seeds: int,
    steps: int,
    batch_size: int,
    methods: list[str],
    mixtures: list[str],
    guides: list[str],
    out: Path | None,
    points: int = 100_000,
) -> dict:
    rustgan.set_num_threads(2)
    results = {}
    for mixture in mixtures:
        print(f"\n{mixture}: {seeds} seeds, {steps} steps of batch {batch_size} (the published networks: 100)")
        print("| method | modes | high quality % | reverse KL | CPU s per seed |")
        print("| --- | --- | --- | --- | --- |")
        for name, (modes, quality, kl) in PUBLISHED[mixture].items():
            print(f"| {name} (published) | {modes} | {quality} | {kl} | |")
        for method in methods:
            started = time.process_time()
            per_seed = [
                train_and_score(mixture, method, seed, steps, batch_size, guides, points) for seed in range(seeds)
            ]
            cpu = (time.process_time() - started) / seeds
            for guide in guides:
                scores = [s[guide] for s in per_seed]
                summary = {
                    "modes": mean_and_error([s["modes"] for s in scores]),
                    "high_quality": mean_and_error([100 * s["high_quality"] for s in scores]),
                    "reverse_kl": mean_and_error([s["reverse_kl"] for s in scores]),
                }
                name = method if guide == "none" else f"{method}, guide {guide}"
                print(format_row(f"rustgan {name}", summary, cpu), flush=True)
                results.setdefault(mixture, {})[name] = {
                    **summary,
                    "modes_per_seed": [s["modes"] for s in scores],
                    "high_quality_per_seed": [s["high_quality"] for s in scores],
                    "cpu_seconds_per_seed": cpu,
                    "samples_seed0": scores[0]["samples"],
                }
        modes, quality, kl = TARGETS[mixture]
        print(f"targets: {modes} modes, high quality >= {quality}%, reverse KL <= {kl}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        names = "_".join(mixtures)
        torch.save(results, out / f"pacgan_2d_{names}.pt")
        tables = {
            m: {k: {f: v for f, v in r.items() if f != "samples_seed0"} for k, r in rows.items()}
            for m, rows in results.items()
        }
        (out / f"pacgan_2d_{names}.json").write_text(json.dumps(tables, indent=2))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=512, help="except for methods with their own")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS), metavar="METHOD")
    parser.add_argument("--mixtures", nargs="+", default=list(MIXTURES), choices=list(MIXTURES))
    parser.add_argument(
        "--guides", nargs="+", default=["none"], choices=["none", "drs", "mh"], help="sampling, after calibration"
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the table (json) and seed-0 samples")
    parser.add_argument("--points", type=int, default=100_000, help="training points per seed")
    args = parser.parse_args()
    run(args.seeds, args.steps, args.batch_size, args.methods, args.mixtures, args.guides, args.out, args.points)


if __name__ == "__main__":
    main()
