"""Trains the digit classifier shipped with rustgan (python/rustgan/weights/) and reports
its held-out accuracy. Deterministic: the same seed gives the same weights on CPU.

    .venv/bin/python scripts/train_digit_classifier.py [--epochs 15] [--out PATH]
"""

import argparse
import time

from rustgan import _rustgan, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(metrics.DIGIT_CLASSIFIER))
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = metrics.digit_split()
    started = time.perf_counter()
    records = _rustgan.train_digit_classifier(x_train, y_train, args.epochs, args.seed, args.out)
    for epoch, (loss, accuracy) in enumerate(records, 1):
        print(f"epoch {epoch:2d}  loss {loss:.4f}  train accuracy {accuracy:.4f}")
    predicted = metrics.digit_logits(x_test, weights=args.out).argmax(1)
    accuracy = (predicted == y_test).float().mean().item()
    print(
        f"held-out accuracy {accuracy:.4f} on {len(y_test)} digits; {time.perf_counter() - started:.0f} s; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
