"""How well k-means clusters follow the classes of coloured shapes, by what they cluster:
pixels, or EfficientNet-Lite0's pooled ImageNet features at several input sizes (purity:
the share of images in a cluster whose commonest class is their own).

    python benches/cluster_purity.py --n 2000
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
    args = parser.parse_args()
    torch.set_num_threads(2)
    x, y = rustgan.data.shapes(args.n, size=32, seed=0)
    labels = y.numpy()
    print("| clustered on | s per 10,000 images | 18 clusters | 100 clusters |")
    print("| --- | --- | --- | --- |")
    pixels = x.flatten(1).numpy()
    print(f"| pixels | - | {purity(pixels, labels, 18):.2f} | {purity(pixels, labels, 100):.2f} |")
    for size in args.sizes:
        started = time.perf_counter()
        features = F.normalize(efficientnet.features(x, size=size), dim=1).numpy()
        seconds = (time.perf_counter() - started) * 10_000 / args.n
        found = [purity(features, labels, k) for k in (18, 100)]
        print(f"| EfficientNet-Lite0 at {size} px | {seconds:.0f} | {found[0]:.2f} | {found[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
