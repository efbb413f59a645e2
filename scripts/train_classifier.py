"""Trains a classifier shipped with rustgan (python/rustgan/weights/), whose features the
metrics use, and reports its held-out accuracy: the digit classifier on MNIST 5k's
4,000-digit part, or the Fashion-MNIST classifier on Fashion-MNIST's training split.
Deterministic: the same seed gives the same weights on CPU.

    .venv/bin/python scripts/train_classifier.py [--data mnist|fashion] [--epochs N] [--out PATH]
"""

import argparse
import time

from rustgan import _rustgan, data, metrics

# data -> (train and held-out sets, default epochs, shipped weights)
SETS = {
    "mnist": (metrics.digit_split, 15, metrics.DIGIT_CLASSIFIER),
    "fashion": (lambda: (data.fashion_mnist("train"), data.fashion_mnist("test")), 8, metrics.FASHION_CLASSIFIER),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=SETS, default="mnist")
    parser.add_argument("--epochs", type=int, default=None, help="default: 15 for mnist, 8 for fashion")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="default: the shipped weights")
    args = parser.parse_args()
    load, epochs, weights = SETS[args.data]
    out = args.out or str(weights)
    (x_train, y_train), (x_test, y_test) = load()
    started = time.perf_counter()
    records = _rustgan.train_digit_classifier(x_train, y_train, args.epochs or epochs, args.seed, out)
    for epoch, (loss, accuracy) in enumerate(records, 1):
        print(f"epoch {epoch:2d}  loss {loss:.4f}  train accuracy {accuracy:.4f}")
    predicted = metrics.digit_logits(x_test, weights=out).argmax(1)
    accuracy = (predicted == y_test).float().mean().item()
    print(
        f"held-out accuracy {accuracy:.4f} on {len(y_test)} images; {time.perf_counter() - started:.0f} s; wrote {out}"
    )


if __name__ == "__main__":
    main()
