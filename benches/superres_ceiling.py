"""How well can anything name a digit from its 7 px version? A ceiling for the accuracy of
super-resolved digits.

A translator followed by the digit classifier is one classifier of the 7 px inputs. This
trains a small CNN directly on those inputs with the labels (the 4,000 training digits of
the classifier's split, 4x area downsampling then bicubic enlargement, as
`rustgan.data.pairs(..., "superres")` makes them) and scores it on the 1,000 held out. The
same CNN trained on the full 28 px digits shows what it reaches when nothing is lost.

    python benches/superres_ceiling.py --seeds 0 1
"""

from __future__ import annotations

import argparse

import rustgan
import torch
import torch.nn.functional as F
from rustgan import metrics
from torch import nn


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 7 * 7, 128),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )


def accuracy_of_trained(train, train_labels, test, test_labels, seed: int, epochs: int) -> float:
    """Held-out accuracy of the CNN after `epochs` of Adam with 1 px random shifts."""
    torch.manual_seed(seed)
    net = small_cnn()
    optimiser = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(train))
        for start in range(0, len(train), 64):
            batch = order[start : start + 64]
            shift = tuple(int(s) for s in torch.randint(-1, 2, (2,)))
            loss = F.cross_entropy(net(train[batch].roll(shift, dims=(2, 3))), train_labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        return float((net(test).argmax(1) == test_labels).double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    rustgan.set_num_threads(2)
    (train, train_labels), (held_out, labels) = metrics.digit_split()
    small_train, _ = rustgan.data.pairs(train, "superres")
    small_held_out, _ = rustgan.data.pairs(held_out, "superres")
    print("| seed | CNN on 28 px digits | CNN on 7 px digits |")
    print("| --- | --- | --- |")
    for seed in args.seeds:
        full = accuracy_of_trained(train, train_labels, held_out, labels, seed, args.epochs)
        small = accuracy_of_trained(small_train, train_labels, small_held_out, labels, seed, args.epochs)
        print(f"| {seed} | {full:.1%} | {small:.1%} |", flush=True)


if __name__ == "__main__":
    main()
