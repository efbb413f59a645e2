"""DCGAN and the residual family side by side, on coloured shapes and on MNIST, with the
same wall-time budget on 2 threads.

Shapes: `data.shapes(10_000, size=32)`, scored exactly by `metrics.shapes_score` on
`--n` samples (high quality, modes of 18, reverse KL). MNIST: the 4,000 training digits of
the classifier's split, scored with its features (FID, precision / recall, classes, class
KL), as `mnist_recipe.py`. Both families train with the image recipe's options; the
"labels" runs condition on the data's classes instead of the recipe's clusters (in the
residual family: conditional batch norm in G, a projection head in D), and the "batch 32,
lr 1.6e-3" runs take twice the steps, half as large, at 8x the learning rate. The
"re-clustered" run re-clusters its data on D's features every 1,000 steps
(`recluster_every`) instead of keeping the clusters of pixels. The "colour recipe" runs
take `recipe("colour")` as shipped, with one lever changed each.

    python benches/families.py --data shapes --budget 600 --out runs/families
    python benches/families.py --data mnist --steps 100 --n 300   # smoke test
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rustgan
from mnist_recipe import R3GAN, RECIPE, train
from rustgan import data, metrics, plot

# The colour recipe's GAN options (`train` takes its batch size, the budget its steps).
COLOUR = {name: value for name, value in rustgan.recipe("colour").items() if name != "steps"}

# Each run: GAN options on top of the recipe.
RUNS: dict[str, dict] = {
    "dcgan": dict(RECIPE),
    "dcgan, labels, batch 32, lr 1.6e-3": dict(
        RECIPE, clusters=0, num_classes=True, batch_size=32, lr_g=1.6e-3, lr_d=1.6e-3
    ),
    "resnet, width 16": dict(RECIPE, arch="resnet", base_channels=16),
    "resnet, width 16, batch 32, lr 1.6e-3": dict(
        RECIPE, arch="resnet", base_channels=16, batch_size=32, lr_g=1.6e-3, lr_d=1.6e-3
    ),
    "resnet, width 16, batch 32, lr 1.6e-3, re-clustered": dict(
        RECIPE, arch="resnet", base_channels=16, batch_size=32, lr_g=1.6e-3, lr_d=1.6e-3, recluster_every=1000
    ),
    "colour recipe": COLOUR,
    "resnet, width 16, labels": dict(RECIPE, arch="resnet", base_channels=16, clusters=0, num_classes=True),
    "resnet, width 16, labels, batch 32": dict(
        RECIPE, arch="resnet", base_channels=16, clusters=0, num_classes=True, batch_size=32
    ),
    "resnet, width 16, labels, batch 32, lr 1.6e-3": dict(
        RECIPE, arch="resnet", base_channels=16, clusters=0, num_classes=True, batch_size=32, lr_g=1.6e-3, lr_d=1.6e-3
    ),
}

# One lever each on top of the colour recipe.
COLOUR_LEVERS: dict[str, dict] = {
    "R3GAN's loss": R3GAN,
    "adaptive augmentation": dict(augment=["color", "translation", "cutout"], augment_target=0.6),
    "adaptive translation": dict(augment=["translation"], augment_target=0.6),
    "top-k 0.5": dict(top_k=0.5),
    "lr half-life 3000": dict(lr_half_life=3000),
    "lr 2.4e-3": dict(lr_g=2.4e-3, lr_d=2.4e-3),
    "EfficientNet clusters": dict(cluster_features="efficientnet", recluster_every=0),
}
RUNS.update({f"colour recipe, {name}": COLOUR | lever for name, lever in COLOUR_LEVERS.items()})

TARGETS = {
    "shapes": "high quality >= 90%, 18/18 modes, reverse KL <= 0.05",
    "mnist": "as benches/mnist_recipe.py: FID <= 15, precision >= 0.75, recall >= 0.70, class KL <= 0.03",
}


def load(name: str):
    """Training items and their classes."""
    if name == "shapes":
        return data.shapes(10_000, size=32, seed=0)
    return metrics.digit_split()[0]


def scores_row(name: str, scores: dict) -> str:
    if name == "shapes":
        return f"{scores['high_quality']:.1%} | {scores['modes']}/18 | {scores['reverse_kl']:.3f}"
    return (
        f"FID {scores['fid']:.1f} | {scores['precision']:.2f} / {scores['recall']:.2f} | "
        f"{scores['classes_covered']}, {scores['class_kl']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["shapes", "mnist"], choices=["shapes", "mnist"])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of wall time per run")
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of to the budget")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--out", type=Path, default=None, help="folder for sample grids and the table (json)")
    args = parser.parse_args()

    rustgan.set_num_threads(2)
    results = []
    print(f"budget {args.budget:.0f} s of wall time per run, 2 threads, scored on {args.n} samples")
    print("| data | run | seed | steps | s | high quality or FID | modes or precision / recall | rKL or classes, KL |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for data_name in args.data:
        x, labels = load(data_name)
        for name in args.runs:
            for seed in args.seeds:
                options = {**RUNS[name], "seed": seed}
                conditional = options.pop("num_classes", 0)
                if conditional:
                    options["num_classes"] = int(labels.max()) + 1
                fit_labels = labels if conditional else None
                gan, steps, seconds = train(options, x, args.budget, args.chunk, args.steps, fit_labels)
                scores = metrics.evaluate(gan, x, n=args.n)
                results.append(
                    {"data": data_name, "run": name, "seed": seed, "steps": steps, "seconds": seconds}
                    | {k: v for k, v in scores.items() if k != "swd_levels"}
                )
                print(
                    f"| {data_name} | {name} | {seed} | {steps} | {seconds:.0f} | {scores_row(data_name, scores)} |",
                    flush=True,
                )
                if args.out is not None:
                    args.out.mkdir(parents=True, exist_ok=True)
                    stem = f"{data_name}_{name.replace(' ', '_').replace(',', '')}_seed{seed}"
                    plot.grid(gan.sample(100, seed=1), args.out / f"{stem}.png", nrow=10, title=f"{name}, {data_name}")
                    (args.out / "families.json").write_text(json.dumps(results, indent=2))
    for data_name in args.data:
        print(f"targets on {data_name}: {TARGETS[data_name]}")


if __name__ == "__main__":
    main()
