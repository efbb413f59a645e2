"""Projection of real digits into a GAN trained with the image recipe: how well `edit.project`
reconstructs 100 held-out MNIST digits, and whether the digit classifier still reads the
reconstruction as the same digit. With `--data emoji`, 100 of the emoji that
`benches/real_data.py --data emoji --save` held out, projected into its 64 px GANs, beside
the PSNR of each emoji's nearest training image (a GAN that generalises beats it; one that
recalls its training set cannot).

Each GAN trains on the 4,000 training digits of the classifier's split with
`recipe("images")` and a training seed (or comes from `--checkpoints`); the targets are the
first 100 of the 1,000 held out. Rows: `project` with its defaults (500 steps, 4 starts)
and with 300 steps, per GAN.

    python benches/projection.py --seeds 0 1 2 --out runs/projection
    python benches/projection.py --checkpoints runs/projection/seed-0/checkpoint
    python benches/projection.py --data emoji --checkpoints runs/c45/out/emoji64_colour_recipe_pixel_clusters_seed0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import edit, metrics, plot

SETTINGS = {"defaults (500 steps, 4 starts)": {}, "300 steps, 4 starts": {"steps": 300}}


def recipe_gan(seed: int, train: torch.Tensor, out: Path | None, cluster_features: str | None) -> rustgan.GAN:
    settings = rustgan.recipe("images")
    steps, batch = settings.pop("steps"), settings.pop("batch_size")
    if cluster_features is not None:
        settings["cluster_features"] = cluster_features
    gan = rustgan.GAN((1, 28, 28), seed=seed, device="cpu", **settings)
    gan.fit(train, steps, batch)
    if out is not None:
        gan.save(out / f"seed-{seed}" / "checkpoint")
    return gan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds of the recipe GANs")
    parser.add_argument("--checkpoints", type=Path, nargs="+", default=None, help="trained GANs instead")
    parser.add_argument("--cluster-features", default=None, help="what the recipe's clusters are fitted on instead")
    parser.add_argument("--data", choices=["mnist", "emoji"], default="mnist")
    parser.add_argument("--n", type=int, default=100, help="held-out images projected")
    parser.add_argument("--out", type=Path, default=None, help="folder for checkpoints, the table and a picture")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rustgan.set_num_threads(args.threads)
    if args.data == "emoji":
        return project_emoji(args)
    (train, _), (held_out, held_out_labels) = metrics.digit_split()
    targets, labels = held_out[: args.n], held_out_labels[: args.n]
    if args.checkpoints:
        gans = {str(path): rustgan.GAN.load(path, device="cpu") for path in args.checkpoints}
    else:
        gans = {f"seed {seed}": recipe_gan(seed, train, args.out, args.cluster_features) for seed in args.seeds}
    rows, shown = [], [targets[:12]]
    print("| GAN | projection | PSNR (dB) | digits kept | s |\n| --- | --- | --- | --- | --- |")
    for name, gan in gans.items():
        for setting, options in SETTINGS.items():
            started = time.perf_counter()
            found = edit.project(gan, targets, **options)
            seconds = time.perf_counter() - started
            psnr = edit.psnr(found.images, targets).mean().item()
            kept = (metrics.digit_logits(found.images).argmax(1) == labels).float().mean().item()
            rows.append({"gan": name, "projection": setting, "psnr": psnr, "kept": kept, "seconds": seconds})
            print(f"| {name} | {setting} | {psnr:.2f} | {kept:.1%} | {seconds:.0f} |", flush=True)
            if not options:
                shown.append(found.images[:12])
    print("targets: PSNR >= 26 dB, digits kept >= 95%, on every seed")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "projection.json").write_text(json.dumps(rows, indent=2))
        path = args.out / "projection.png"
        plot.grid(torch.cat(shown), path=path, nrow=12, title="held-out digits / their projections, a row per GAN")
        print(path.resolve())


def nearest_training_psnr(targets: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Each target's PSNR to the training image nearest it in pixels."""
    nearest = torch.cdist(targets.flatten(1), train.flatten(1)).argmin(1)
    return edit.psnr(train[nearest], targets)


def project_emoji(args) -> None:
    if not args.checkpoints:
        raise SystemExit("--data emoji projects into saved GANs: pass --checkpoints")
    train, held_out = rustgan.data.split(rustgan.data.emoji(64), held_out=0.1)
    targets = held_out[: args.n]
    recalled = nearest_training_psnr(targets, train).mean().item()
    print(f"nearest training image: {recalled:.2f} dB")
    print("| GAN | PSNR (dB) | over the nearest training image (dB) | s |\n| --- | --- | --- | --- |")
    rows, shown = [], [targets[:12]]
    for path in args.checkpoints:
        started = time.perf_counter()
        found = edit.project(rustgan.GAN.load(path, device="cpu"), targets)
        seconds = time.perf_counter() - started
        psnr = edit.psnr(found.images, targets).mean().item()
        rows.append({"gan": str(path), "psnr": psnr, "nearest_training_psnr": recalled, "seconds": seconds})
        print(f"| {path.name} | {psnr:.2f} | {psnr - recalled:+.2f} | {seconds:.0f} |", flush=True)
        shown.append(found.images[:12])
    print("targets: PSNR >= 20 dB, and >= 3 dB over the nearest training image")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "projection_emoji.json").write_text(json.dumps(rows, indent=2))
        path = args.out / "projection_emoji.png"
        plot.grid(torch.cat(shown), path=path, nrow=12, title="held-out emoji / their projections, a row per GAN")
        print(path.resolve())


if __name__ == "__main__":
    main()
