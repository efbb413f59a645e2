"""GAN-train and GAN-test (Shmelkov et al. 2018, "How good is my GAN?") on Fashion-MNIST:
how well a class-conditional GAN's samples stand in for real training data.

- GAN-train: a classifier trained on the GAN's labelled samples (as many as the real
  training split, the classes in equal shares), tested on the real test split. Beside it,
  the same network trained as long on the real training split: the gap between the two
  is what synthetic training data costs.
- GAN-test: the shipped Fashion-MNIST classifier (trained on the real training split)
  reading the GAN's samples as the class they were asked for.

The GAN is `recipe("images")` made class-conditional (`num_classes=10`, no clusters),
trained for `--budget` seconds of wall time on 2 threads.

    python benches/gan_train_test.py --budget 600 --out runs/bench/gan-train-test
    python benches/gan_train_test.py --steps 20 --samples 2000 --epochs 1   # smoke test
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rustgan
import torch
from mnist_recipe import train
from rustgan import data, metrics, plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of wall time to train the GAN")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead of to the budget")
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument(
        "--samples", type=int, default=None, help="GAN samples to train on (default: the real split's size)"
    )
    parser.add_argument("--epochs", type=int, default=8, help="classifier epochs, as the shipped one's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for a sample grid and the table (json)")
    args = parser.parse_args()

    rustgan.set_num_threads(2)
    torch.set_num_threads(2)
    (x_train, y_train), (x_test, y_test) = data.fashion_mnist("train"), data.fashion_mnist("test")
    options = rustgan.recipe("images", len(x_train)) | {"num_classes": 10, "clusters": 0, "seed": args.seed}
    options.pop("steps")
    gan, steps, seconds = train(options, x_train, args.budget, args.chunk, args.steps, labels=y_train)
    print(f"conditional GAN: {steps} steps in {seconds:.0f} s")

    n = args.samples or len(x_train)
    labels = torch.arange(n) % 10
    samples = torch.cat(
        [gan.sample(len(part), seed=args.seed + i, labels=part) for i, part in enumerate(labels.split(5000))]
    )
    scratch = metrics.gan_train_test(samples, labels, x_train[:n], y_train[:n], x_test, y_test, args.epochs, args.seed)
    gan_train, real_train = scratch["gan_train"], scratch["real_train"]
    gan_test = metrics.conditional_accuracy(
        gan, n=len(x_test), seed=args.seed + 1000, weights=metrics.FASHION_CLASSIFIER
    )

    rows = [
        ("trained on real images, tested on the real test split", real_train),
        ("GAN-train: trained on GAN samples, tested on the real test split", gan_train),
        ("GAN-test: the shipped classifier on GAN samples", gan_test),
        ("GAN-test: the classifier trained above on real images, on GAN samples", scratch["gan_test"]),
    ]
    epochs = f"{args.epochs} epoch" + "s" * (args.epochs != 1)
    print(f"| {n:,} training images, {epochs} | accuracy |")
    print("| --- | --- |")
    for name, accuracy in rows:
        print(f"| {name} | {100 * accuracy:.1f}% |")
    print(f"gap (real - GAN-train): {100 * (real_train - gan_train):.1f} points")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        table = {"steps": steps, "seconds": seconds, "samples": n, "epochs": args.epochs}
        table |= {"real_train": real_train, "gan_train": gan_train, "gan_test": gan_test}
        (args.out / "gan_train_test.json").write_text(json.dumps(table, indent=2))
        rows_of_classes = gan.sample(80, seed=1, labels=torch.arange(80) // 8)
        plot.grid(rows_of_classes, args.out / "fashion_conditional.png", nrow=8, title="one class per row")
        print(f"wrote {args.out / 'gan_train_test.json'} and {args.out / 'fashion_conditional.png'}")


if __name__ == "__main__":
    main()
