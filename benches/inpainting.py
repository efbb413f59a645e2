"""Inpainting on MNIST: the hidden lower half of 100 held-out digits, filled by a GAN trained
with the image recipe, against the training mean image and the 10 nearest training digits.

The GAN trains on the 4,000 training digits of the classifier's split (or comes from
`--checkpoint`); the targets are the first 100 of the 1,000 held out. Mask: 1 = known
pixel, the lower 14 rows hidden. Score: PSNR on the hidden pixels, mean over the images.

    python benches/inpainting.py --checkpoint runs/directions/checkpoint
    python benches/inpainting.py --checkpoint CK --methods posterior --steps 0 50 150
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import edit, metrics, plot


def nearest_training_mean(train: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, k: int = 10) -> torch.Tensor:
    """The mean of the `k` training digits nearest to each target on its known pixels."""
    distances = torch.cdist((targets * mask).flatten(1), (train * mask).flatten(1))
    return train[distances.topk(k, largest=False).indices].mean(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="a trained GAN instead of training one")
    parser.add_argument(
        "--methods", nargs="+", default=["projection", "posterior"], choices=["projection", "posterior"]
    )
    parser.add_argument("--steps", type=int, nargs="+", default=[50], help="Langevin steps of the posterior runs")
    parser.add_argument("--out", type=Path, default=None, help="folder for the table (json) and a picture")
    args = parser.parse_args()
    rustgan.set_num_threads(2)
    (train, _), (held_out, _) = metrics.digit_split()
    targets = held_out[:100]
    mask = torch.ones(1, 28, 28)
    mask[:, 14:] = 0
    hole = 1 - mask
    if args.checkpoint is not None:
        gan = rustgan.GAN.load(args.checkpoint, device="cpu")
    else:
        settings = rustgan.recipe("images")
        steps, batch = settings.pop("steps"), settings.pop("batch_size")
        gan = rustgan.GAN((1, 28, 28), seed=0, device="cpu", **settings)
        gan.fit(train, steps, batch)

    def score(images: torch.Tensor) -> float:
        return edit.psnr(images, targets, hole).mean().item()

    baseline = score(train.mean(0, keepdim=True).expand_as(targets))
    rows = {
        "training mean image": (baseline, 0.0),
        "10 nearest training digits": (score(nearest_training_mean(train, targets, mask)), 0.0),
    }
    fills = {}
    for method in args.methods:
        for steps in args.steps if method == "posterior" else [None]:
            started = time.perf_counter()
            result = edit.inpaint(gan, targets, mask, method=method, steps=steps)
            name = method if steps is None else f"{method}, {steps} Langevin steps"
            rows[name] = (score(result.images), time.perf_counter() - started)
            fills[name] = result
            if result.samples is not None:
                rows[f"{name}: one sample"] = (score(result.samples[0]), 0.0)
    print("| fill | PSNR on the hole (dB) | over the mean image | s |\n| --- | --- | --- | --- |")
    for name, (psnr, seconds) in rows.items():
        print(f"| {name} | {psnr:.2f} | {psnr - baseline:+.2f} | {seconds:.0f} |")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "inpainting.json").write_text(
            json.dumps({k: {"psnr": p, "seconds": s} for k, (p, s) in rows.items()}, indent=2)
        )
        shown, names = [targets[:12] * mask - hole], ["input"]
        for name, result in fills.items():
            shown.append(result.images[:12])
            names.append(name)
            if result.samples is not None:
                shown += [result.samples[0, :12], result.std[:12] / result.std.max() * 2 - 1]
                names += ["one sample", "spread"]
        shown.append(targets[:12])
        names.append("truth")
        path = args.out / "inpainting.png"
        plot.grid(torch.cat(shown), path=path, nrow=12, title=" / ".join(names))
        print(path.resolve())


if __name__ == "__main__":
    main()
