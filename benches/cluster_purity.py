"""How well k-means clusters follow the classes of coloured shapes (18 kinds), MNIST's
digits or clipart's categories, by what they cluster: pixels, or EfficientNet-Lite0's pooled ImageNet features
at several input sizes (purity: the share of images in a cluster whose commonest class is
their own).

    python benches/cluster_purity.py --n 2000
    python benches/cluster_purity.py --data clipart --n 2000 --sizes 64
    python benches/cluster_purity.py --data mnist --n 2000 --sizes 64
"""

import argparse
import time

import numpy as np
import rustgan
import torch
from rustgan import efficientnet
from sklearn.cluster import KMeans
from torch.nn import functional as F


def purity(features: np.ndarray, labels: np.ndarray, k: int) -> float:
    ids = KMeans(k, n_init=1, random_state=0).fit_predict(features)
    return sum(np.bincount(labels[ids == c]).max() for c in np.unique(ids)) / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 224])
    parser.add_argument("--data", choices=["shapes", "mnist", "clipart"], default="shapes")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.data == "shapes":
        x, y = rustgan.data.shapes(args.n, size=32, seed=0)
    elif args.data == "mnist":  # the training digits of the classifier's split
        (x, y), _ = rustgan.metrics.digit_split()
        x, y = x[: args.n], y[: args.n]
    else:  # a random draw of the drawings at 64 px, the size the colour recipe trains
        x, y = rustgan.data.clipart(64)
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[: args.n]
        x, y = x[keep], y[keep]
    labels = y.numpy()
    classes = len(np.unique(labels))
    print(f"| clustered on | s per 10,000 images | {classes} clusters | 100 clusters |")
    print("| --- | --- | --- | --- |")
    pixels = x.flatten(1).numpy()
    print(f"| pixels | - | {purity(pixels, labels, classes):.2f} | {purity(pixels, labels, 100):.2f} |")
    for size in args.sizes:
        started = time.perf_counter()
        features = F.normalize(efficientnet.features(x, size=size), dim=1).numpy()
        seconds = (time.perf_counter() - started) * 10_000 / args.n
        found = [purity(features, labels, k) for k in (classes, 100)]
        print(f"| EfficientNet-Lite0 at {size} px | {seconds:.0f} | {found[0]:.2f} | {found[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
