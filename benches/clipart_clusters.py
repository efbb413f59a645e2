"""How well a self-conditioned GAN's clusters follow clipart's 22 categories, which it never
saw: cluster purity, GAN-train and GAN-test (`metrics.cluster_gan_train_test`, each cluster
standing for the commonest category of the training drawings in it; classifiers trained
from scratch on the 64 px drawings).

The GANs are those `benches/real_data.py --data clipart --save` writes, on the same split
(90% of the drawings trained, 10% held out for the classifiers' tests).

    python benches/clipart_clusters.py runs/c45/out/clipart64_colour_recipe_pixel_clusters_seed0 ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import rustgan
import torch
from rustgan import data, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--epochs", type=int, default=8, help="classifier epochs, as the shipped ones'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="the table as json")
    args = parser.parse_args()

    rustgan.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    images, labels = data.clipart(64)
    x_train, y_train, x_test, y_test = data.split(images, labels, held_out=0.1)
    print(f"clipart: {len(x_train)} training drawings, {len(x_test)} held out, {int(labels.max()) + 1} categories")
    print("| GAN | clusters of | purity | GAN-train | real-train | GAN-test |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for path in args.checkpoints:
        gan = rustgan.GAN.load(path)
        of = "D's features" if gan.config["recluster_every"] else gan.config["cluster_features"]
        found = metrics.cluster_gan_train_test(gan, x_train, y_train, x_test, y_test, epochs=args.epochs)
        rows.append({"checkpoint": str(path), "clusters_of": of} | found)
        print(
            f"| {path.name} | {of} | {found['purity']:.2f} | {found['gan_train']:.1%} "
            f"| {found['real_train']:.1%} | {found['gan_test']:.1%} |",
            flush=True,
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
