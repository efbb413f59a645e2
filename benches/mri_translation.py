"""pix2pix from brain-region label maps to T1 MRI slices (Colin27 and the AAL atlas of
mricron-data), scored on held-out slices against the per-region mean intensity.

Each axis's slices are split by position: a contiguous block (from 55% to 75% of the way
through the axis) is held out, and the 3 slices on either side of it are dropped from
training, so that no training slice is a near-copy of a held-out one. The baseline paints
every pixel with the mean training intensity of its AAL region (0: outside every region,
which holds the background, white matter and the ventricles alike).

    python benches/mri_translation.py --budget 600 --out runs/bench/mri
    python benches/mri_translation.py --steps 20     # smoke test
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import data, edit, plot

HELD_OUT = (0.55, 0.75)  # of each axis's slices
GAP = 3  # slices dropped on either side of the held-out block
TARGET = "PSNR >= the per-region mean's + 3 dB"


def split_slices(size: int):
    """(training labels, training slices, held-out labels, held-out slices)."""
    parts = [[], [], [], []]
    for axis in (0, 1, 2):
        labels, scans = data.mri(task="labels-to-mri", axis=axis, size=size)
        n = len(scans)
        start, stop = int(HELD_OUT[0] * n), int(HELD_OUT[1] * n)
        train = [i for i in range(n) if i < start - GAP or i >= stop + GAP]
        for part, tensor in zip(parts, (labels[train], scans[train], labels[start:stop], scans[start:stop])):
            part.append(tensor)
    return [torch.cat(part) for part in parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of wall time to train")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of to the budget")
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for the strip and the table (json)")
    args = parser.parse_args()

    rustgan.set_num_threads(2)
    train_labels, train_scans, test_labels, test_scans = split_slices(args.size)
    print(f"{len(train_scans)} training slices, {len(test_scans)} held out, {args.size} px")
    translator = rustgan.Translator(train_labels.shape[1:], train_scans.shape[1:], seed=args.seed)
    started, steps = time.perf_counter(), 0
    while args.steps is None or steps < args.steps:
        chunk = args.chunk if args.steps is None else min(args.chunk, args.steps - steps)
        translator.fit(train_labels, train_scans, steps=chunk, batch_size=args.batch_size, progress=False)
        steps += chunk
        elapsed = time.perf_counter() - started
        if args.steps is None and elapsed * (steps + args.chunk) / steps > args.budget:
            break
    seconds = time.perf_counter() - started
    outputs = translator.translate(test_labels)
    baseline = data.mri_region_means(train_labels, train_scans)[data.mri_regions(test_labels)]
    rows = {
        "per-region mean": edit.psnr(baseline, test_scans).mean().item(),
        "pix2pix": edit.psnr(outputs, test_scans).mean().item(),
    }
    print("| method | steps | s | PSNR (dB) |")
    print("| --- | --- | --- | --- |")
    print(f"| per-region mean | - | - | {rows['per-region mean']:.2f} |")
    print(f"| pix2pix (Translator defaults) | {steps} | {seconds:.0f} | {rows['pix2pix']:.2f} |")
    print(f"gain {rows['pix2pix'] - rows['per-region mean']:+.2f} dB; target: {TARGET}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        pick = torch.linspace(0, len(test_scans) - 1, 8).long()
        strip = torch.cat([test_labels[pick], baseline[pick], outputs[pick], test_scans[pick]])
        plot.grid(strip, args.out / "mri_strip.png", nrow=8, exact=True)
        (args.out / "mri.json").write_text(json.dumps(rows | {"steps": steps, "seconds": seconds}, indent=2))
        print(f"wrote {args.out / 'mri_strip.png'} (rows: label map, per-region mean, pix2pix, truth)")


if __name__ == "__main__":
    main()
