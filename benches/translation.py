"""pix2pix on MNIST: completion of the hidden lower half, 4x super-resolution (7 -> 28 px)
and edges to digit, each with the adversarial loss and with L1 alone.

Every translator trains on pairs made from the 4,000 training digits of the digit
classifier's split and is scored on the 1,000 held out:
- completion: PSNR on the hole over the training mean image (the first 100 held-out
  digits, the protocol of `benches/inpainting.py`), and the classifier's accuracy;
- super-resolution: PSNR over bicubic interpolation of the 7 px digits, and accuracy;
- edges: accuracy.
Sharpness is the mean gradient magnitude of the outputs over the truth's (1: as sharp).

    python benches/translation.py                       # every task, both losses: the table
    python benches/translation.py --tasks complete --steps 1000 --out runs/translation
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import edit, metrics, plot

TASKS = ("complete", "superres", "edges")
TARGETS = {
    "complete": "PSNR >= the training mean image's + 3 dB, accuracy >= 90%",
    "superres": "PSNR >= bicubic's + 3 dB, accuracy >= 97%",
    "edges": "accuracy >= 95%",
}


def sharpness(images: torch.Tensor) -> float:
    """Mean magnitude of the horizontal and vertical pixel differences."""
    dx, dy = images.diff(dim=-1), images.diff(dim=-2)
    return float((dx.abs().mean() + dy.abs().mean()) / 2)


def accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((metrics.digit_logits(images).argmax(1) == labels).double().mean())


def score(task: str, inputs, outputs, truth, labels, train) -> dict:
    row = {"accuracy": accuracy(outputs, labels), "sharpness": sharpness(outputs) / sharpness(truth)}
    if task == "complete":
        hole = torch.ones(1, 28, 28)
        hole[:, :14] = 0
        mean_image = train.mean(0, keepdim=True).expand(100, -1, -1, -1)
        baseline = edit.psnr(mean_image, truth[:100], hole).mean().item()
        row["psnr"] = edit.psnr(outputs[:100], truth[:100], hole).mean().item()
        row["baseline"] = ("training mean image", baseline)
    elif task == "superres":
        row["psnr"] = edit.psnr(outputs, truth).mean().item()
        row["baseline"] = ("bicubic", edit.psnr(inputs, truth).mean().item())
        row["baseline accuracy"] = accuracy(inputs, labels)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--adversarial", type=float, nargs="+", default=[1.0, 0.0], help="adversarial weights")
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--ema", type=float, default=0.999, help="EMA decay of G (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for the table (json) and pictures")
    args = parser.parse_args()
    rustgan.set_num_threads(2)
    (train, _), (held_out, labels) = metrics.digit_split()
    rows = []
    for task in args.tasks:
        train_in, train_out = rustgan.data.pairs(train, task)
        test_in, truth = rustgan.data.pairs(held_out, task)
        shown = [test_in[:12, :1], truth[:12]]
        for weight in args.adversarial:
            translator = rustgan.Translator(
                train_in.shape[1:],
                train_out.shape[1:],
                base_channels=args.base_channels,
                adversarial_weight=weight,
                ema=args.ema or None,
                seed=args.seed,
                device="cpu",
            )
            started = time.perf_counter()
            translator.fit(train_in, train_out, steps=args.steps, batch_size=args.batch_size, progress=False)
            seconds = time.perf_counter() - started
            if task == "complete":
                outputs = edit.complete(translator, held_out, "lower").images
            else:
                outputs = translator.translate(test_in)
            row = {"task": task, "adversarial_weight": weight, "train_s": seconds, "steps": args.steps}
            row.update(score(task, test_in, outputs, truth, labels, train))
            rows.append(row)
            shown.insert(-1, outputs[:12])
            print(json.dumps(row), flush=True)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            plot.grid(torch.cat(shown), nrow=12, path=args.out / f"{task}.png")
    print("\n| task | loss | PSNR (dB) | baseline | accuracy | sharpness | train s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        loss = "L1 + adversarial" if row["adversarial_weight"] else "L1 only"
        psnr = f"{row['psnr']:.2f}" if "psnr" in row else "-"
        baseline = f"{row['baseline'][0]} {row['baseline'][1]:.2f}" if "baseline" in row else "-"
        if "baseline accuracy" in row:
            baseline += f" (accuracy {row['baseline accuracy']:.3f})"
        print(
            f"| {row['task']} | {loss} | {psnr} | {baseline} | {row['accuracy']:.3f} | "
            f"{row['sharpness']:.2f} | {row['train_s']:.0f} |"
        )
    for task in args.tasks:
        print(f"targets, {task}: {TARGETS[task]}")
    if args.out is not None:
        (args.out / "translation.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
