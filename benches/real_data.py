"""rustgan's recipes beside a PyTorch eager DCGAN on real data, each trained for the same
wall-time budget on 2 threads.

- Fashion-MNIST (28 px): trained on the 60,000 training images, scored on `--n` samples
  against the test split with the shipped Fashion-MNIST classifier's features; the
  reference row is the test split itself against `--n` training images.
- Emoji, clipart and Wesnoth's painted portraits (64 px): trained on 90% of the images,
  scored against them with
  EfficientNet-Lite0 features (not comparable with published Inception FIDs) and, in
  pixels, against the 10% held out: SWD beside its floor (held-out against training
  images) and the copy rate (`metrics.copy_rate`).

The eager peer is the DCGAN a PyTorch user writes (the same DCGAN networks at width 64,
non-saturating loss, Adam 2e-4 with beta1 0.5, batch 64).

    python benches/real_data.py --data fashion --budget 600 --out runs/bench/real
    python benches/real_data.py --data emoji --budget 600 --runs "colour recipe" "residual colour recipe"
    python benches/real_data.py --data fashion --steps 20 --n 200   # smoke test

With `--threads 1`, two runs started side by side on 2 cores each get one core for the
whole budget: the budget in CPU time.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import rustgan
import torch
from mnist_recipe import train
from reference import ReferenceGAN
from rustgan import data, metrics, plot


def load(name: str, size: int = 64):
    """(training images, the images FID compares against, held-out images or None, feature
    space)."""
    if name == "fashion":
        return data.fashion_mnist("train")[0], data.fashion_mnist("test")[0], None, "fashion"
    loaders = {
        "emoji": data.emoji,
        "clipart": lambda size: data.clipart(size)[0],
        "portraits": lambda size: data.portraits(size)[0],
    }
    images = loaders[name](size)
    train, held_out = data.split(images, held_out=0.1)
    return train, train, held_out, "efficientnet"


# rustgan's runs: the recipe they start from, the image size it is asked for (None: the
# data's, as `rustgan train` does) and options on top of it.
DIFF_AUGMENT = ["color", "translation", "cutout"]
PROJECTED = {"arch": "projected", "base_channels": 16, "clusters": 0, "betas_g": (0.0, 0.99), "betas_d": (0.0, 0.99)}
RUNS = {
    "images recipe": ("images", None, {}),
    "colour recipe": ("colour", None, {}),
    "colour recipe, adaptive augmentation": ("colour", None, {"augment_target": 0.6}),
    "colour recipe, pixel clusters": ("colour", None, {"cluster_features": "pixels"}),
    "colour recipe, EfficientNet clusters": ("colour", None, {"cluster_features": "efficientnet"}),
    "colour recipe, D-feature clusters": ("colour", None, {"recluster_every": 1000}),
    "projected": ("colour", None, PROJECTED),
    "projected, lr 1e-3": ("colour", None, PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3}),
    "projected, lr 1e-3, width 8, no pixel clusters": (
        "colour",
        None,
        PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "base_channels": 8},
    ),
    "projected, lr 1e-3, pixel head": ("colour", None, PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "pixel_head": True}),
    "projected, 128 px features": ("colour", None, PROJECTED | {"projected_size": 128}),
    "projected, lr 1e-3, pixel clusters": (
        "colour",
        None,
        PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "clusters": 50, "cluster_features": "pixels"},
    ),
    "projected, lr 1e-3, width 8": ("colour", None, PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "base_channels": 8}),
    "projected, lr 1e-3, width 8, no colour augmentation": (
        "colour",
        None,
        PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "base_channels": 8, "augment": ["translation", "cutout"]},
    ),
    "projected, lr 1e-3, no colour augmentation": (
        "colour",
        None,
        PROJECTED | {"lr_g": 1e-3, "lr_d": 1e-3, "augment": ["translation", "cutout"]},
    ),
    "colour recipe, residual family": ("colour", None, {"arch": "resnet"}),
    "residual colour recipe": ("colour", 32, {}),
    "residual colour recipe + DiffAugment": ("colour", 32, {"augment": DIFF_AUGMENT}),
}
EAGER = "PyTorch eager DCGAN"


def run_options(name: str, x) -> dict:
    """The GAN options and batch size of run `name` on training images `x`."""
    kind, size, extra = RUNS[name]
    options = rustgan.recipe(kind, len(x), size or x.shape[-1])
    options.pop("steps")
    return options | extra


class EagerDCGAN:
    """The PyTorch eager peer, with the `sample(n, seed)` that `metrics.evaluate` calls."""

    LATENT = 64

    def __init__(self, shape, seed: int):
        torch.manual_seed(seed)
        self.reference = ReferenceGAN(shape, "dcgan", latent_dim=self.LATENT, base_channels=64)

    def fit(self, x: torch.Tensor, steps: int, batch: int) -> None:
        self.reference.generator.train()
        for _ in range(steps):
            self.reference.step(x[torch.randint(len(x), (batch,))])

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        generator = self.reference.generator.eval()
        z = torch.randn(n, self.LATENT, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            return torch.cat([generator(part) for part in z.split(500)])


def train_eager(x, budget: float, chunk: int, steps: int | None, seed: int, after_chunk=None):
    """The eager peer as `mnist_recipe.train` trains rustgan's runs."""
    gan, started, done = EagerDCGAN(tuple(x.shape[1:]), seed), time.perf_counter(), 0
    while steps is None or done < steps:
        part = chunk if steps is None else min(chunk, steps - done)
        gan.fit(x, part, 64)
        done += part
        elapsed = time.perf_counter() - started
        if after_chunk is not None:
            paused = time.perf_counter()
            after_chunk(gan, done, elapsed)
            started += time.perf_counter() - paused
        if steps is None and elapsed * (done + chunk) / done > budget:
            break
    return gan, done, time.perf_counter() - started


def score_curve(curve: list, x, held_out, args, gan, steps: int, seconds: float) -> None:
    """Every `args.curve` chunks, the pixel SWD to the held-out images and the copy rate."""
    if (steps // args.chunk) % args.curve:
        return
    samples = gan.sample(args.n, seed=1)
    point = {
        "steps": steps,
        "seconds": round(seconds),
        "swd_held_out": metrics.swd_held_out(samples, held_out, x)["swd"],
    }
    point["copy_rate"] = metrics.copy_rate(samples, x, held_out)["rate"]
    curve.append(point)
    print(
        f"  {steps} steps, {seconds:.0f} s: SWD {point['swd_held_out']:.1f}, copy rate {point['copy_rate']:.1%}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["fashion", "emoji", "clipart", "portraits"], default="fashion")
    parser.add_argument("--size", type=int, default=64, help="image size of emoji, clipart and portraits")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of wall time per run")
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of to the budget")
    parser.add_argument("--n", type=int, default=1000, help="samples scored (and real images, at most)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=2, help="1 runs the budget as CPU time, two benches side by side on 2 cores"
    )
    runs = [*RUNS, EAGER]
    parser.add_argument("--runs", nargs="+", choices=runs, default=["images recipe", "colour recipe", EAGER])
    parser.add_argument("--out", type=Path, default=None, help="folder for sample grids and the table (json)")
    parser.add_argument(
        "--curve", type=int, default=0, help="every this many chunks, score SWD and the copy rate (memorisation)"
    )
    parser.add_argument("--save", action="store_true", help="save each rustgan run's GAN beside its results (--out)")
    args = parser.parse_args()

    rustgan.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    x, reference, held_out, features = load(args.data, args.size)
    print(f"{args.data}: {len(x)} training images, scored on {features} features with {args.n} samples")
    pixels = "" if held_out is None else " SWD to held-out (floor) | copy rate |"
    print(f"| run | steps | s | FID | precision | recall |{pixels}")
    print("| --- " * (6 if held_out is None else 8) + "|")
    floor_rows = []
    if args.data == "fashion":  # how far real images lie from each other: the floor
        train_part = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[: args.n]]
        a, b = (metrics.image_features(part, "fashion") for part in (train_part, reference[: args.n]))
        precision, recall = metrics.precision_recall(a, b)
        floor = {"run": "test split vs training images", "fid": metrics.frechet_distance(a, b)}
        floor_rows.append(floor | {"precision": precision, "recall": recall})
        print(f"| {floor['run']} | - | - | {floor['fid']:.2f} | {precision:.3f} | {recall:.3f} |", flush=True)
    for name in args.runs:
        curve, after_chunk = [], None
        if args.curve and held_out is not None:
            after_chunk = functools.partial(score_curve, curve, x, held_out, args)
        if name == EAGER:
            gan, steps, seconds = train_eager(x, args.budget, args.chunk, args.steps, args.seed, after_chunk)
        else:
            options = dict(run_options(name, x), seed=args.seed)
            gan, steps, seconds = train(options, x, args.budget, args.chunk, args.steps, after_chunk=after_chunk)
        scores = metrics.evaluate(gan, reference, n=args.n, features=features, held_out=held_out)
        adapted = {"augment_p": gan.augment_probability} if name != EAGER else {}
        adapted |= {"curve": curve} if curve else {}
        result = {"run": name, "steps": steps, "seconds": seconds, "seed": args.seed} | scores | adapted
        row = f"{scores['fid']:.2f} | {scores['precision']:.3f} | {scores['recall']:.3f}"
        if held_out is not None:
            row += f" | {scores['swd_held_out']:.1f} ({scores['swd_floor']:.1f}) | {scores['copy_rate']:.1%}"
        print(f"| {name} | {steps} | {seconds:.0f} | {row} |", flush=True)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            stem = f"{args.data}{args.size}_{name.replace(' ', '_').replace(',', '')}_seed{args.seed}"
            plot.grid(gan.sample(64, seed=1), args.out / f"{stem}.png", nrow=8, title=f"{name}, {args.data}")
            # One file per run, so runs side by side into one folder keep each other's results.
            (args.out / f"{stem}.json").write_text(json.dumps([*floor_rows, result], indent=2))
            if args.save and name != EAGER:
                gan.save(args.out / stem)
    print(f"features: {metrics.FEATURE_NAMES[features]}")


if __name__ == "__main__":
    main()
