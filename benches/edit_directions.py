"""Latent directions on MNIST: what SeFa, GANSpace and InterFaceGAN boundaries do to a GAN
trained with the image recipe.

Trains `recipe("images")` on the 4,000 training digits of the classifier's split (or loads
`--checkpoint`), then, on `--n` latents not used for fitting:
- the mean pixel change of moving ±3 along the top 5 directions of each method, against
  5 random unit directions;
- a boundary of ink amount: the share of samples whose ink rises monotonically over
  amounts -3..3, and whose class (the digit classifier's) holds at ±1.5;
- boundaries between two classes: the share of class-a samples the classifier reads as b
  after a move of +3; on a self-conditioned GAN also after `class_swap` into the cluster
  that draws b most often.

    python benches/edit_directions.py --out runs/directions
    python benches/edit_directions.py --checkpoint runs/directions/checkpoint --n 200
    python benches/edit_directions.py --seed 1 --out runs/directions-seed1
    python benches/edit_directions.py --plain --out runs/plain
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import edit, metrics, plot

PAIRS = [(1, 7), (3, 8), (4, 9), (5, 6), (0, 6)]
INK_AMOUNTS = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]


def ink(images: torch.Tensor) -> torch.Tensor:
    """Share of the image covered by ink, per image."""
    return ((images + 1) / 2).mean((1, 2, 3))


def classes(images: torch.Tensor) -> torch.Tensor:
    return metrics.digit_logits(images).argmax(1)


def train(out: Path | None, seed: int, plain: bool) -> rustgan.GAN:
    settings = rustgan.recipe("images")
    steps, batch = settings.pop("steps"), settings.pop("batch_size")
    if plain:
        settings["clusters"] = 0
    (x, _), _ = metrics.digit_split()
    gan = rustgan.GAN((1, 28, 28), seed=seed, device="cpu", **settings)
    gan.fit(x, steps, batch, progress=True)
    if out is not None:
        gan.save(out / "checkpoint")
    return gan


def change_of_moves(gan: rustgan.GAN, z: torch.Tensor, vectors: torch.Tensor) -> float:
    """Mean absolute pixel change of moving each latent by ±3 along each direction."""
    base = gan.generate(z)
    moved = edit.move(gan, z, vectors, [-3.0, 3.0])  # [K, 2, N, 1, 28, 28]
    return (moved - base).abs().mean().item()


def swap_clusters(gan: rustgan.GAN, z: torch.Tensor, start_classes: torch.Tensor) -> dict:
    """A self-conditioned GAN changes the digit through its cluster: for each pair, the
    share of class-a samples read as b once `class_swap` moves them into the cluster that
    draws b most often."""
    probe = gan.latent(100, seed=4)
    drawn = torch.stack([torch.bincount(classes(images), minlength=10) for images in edit.class_swap(gan, probe)])
    swaps = {}
    for a, b in PAIRS:
        target, starts = int(drawn[:, b].argmax()), z[start_classes == a]
        if not len(starts):
            continue
        turned = (classes(edit.class_swap(gan, starts, classes=[target])[0]) == b).float().mean().item()
        swaps[f"{a}->{b}"] = {"turned": turned, "cluster": target}
        print(f"  {a} -> {b}: {turned:.1%} turned by class_swap into cluster {target}")
    if swaps:
        print(f"cluster swaps: {sum(s['turned'] for s in swaps.values()) / len(swaps):.1%} turned on average")
    return swaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="a trained GAN instead of training one")
    parser.add_argument("--seed", type=int, default=0, help="training seed of the GAN")
    parser.add_argument("--plain", action="store_true", help="train the recipe without self-conditioning")
    parser.add_argument("--n", type=int, default=1000, help="latents the moves are scored on")
    parser.add_argument("--out", type=Path, default=None, help="folder for the checkpoint, strips and results")
    args = parser.parse_args()
    rustgan.set_num_threads(2)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    gan = rustgan.GAN.load(args.checkpoint, device="cpu") if args.checkpoint else train(args.out, args.seed, args.plain)
    z = gan.latent(args.n, seed=1)
    results: dict = {}

    random = torch.randn(5, gan.latent_dim, generator=torch.Generator().manual_seed(0))
    if gan.config["clusters"]:
        random[:, 0] = 0  # in the style coordinates, like the directions found
    random_change = change_of_moves(gan, z, random / random.norm(dim=1, keepdim=True))
    results["random_change"] = random_change
    print(f"mean pixel change of moves of ±3, top 5 directions (random unit directions: {random_change:.4f})")
    found = {}
    for method in ("sefa", "pca"):
        started = time.perf_counter()
        found[method] = edit.directions(gan, k=5, method=method)
        seconds = time.perf_counter() - started
        change = change_of_moves(gan, z, found[method].vectors)
        results[method] = {"change": change, "ratio": change / random_change, "seconds": seconds}
        print(f"  {method}: {change:.4f}, {change / random_change:.2f}x random ({seconds:.1f} s to find)")

    ink_boundary = edit.boundary(gan, ink, n=4000, seed=2)
    strips = edit.move(gan, z, ink_boundary, INK_AMOUNTS)  # [A, N, 1, 28, 28]
    inks = torch.stack([ink(s) for s in strips])  # [A, N]
    monotone = (inks.diff(dim=0) > 0).all(0).float().mean().item()
    start_classes = classes(strips[INK_AMOUNTS.index(0.0)])
    lighter, heavier = (classes(s) for s in edit.move(gan, z, ink_boundary, [-1.5, 1.5]))
    kept = ((lighter == start_classes) & (heavier == start_classes)).float().mean().item()
    results["ink"] = {"monotone": monotone, "class_kept_at_1.5": kept, "accuracy": ink_boundary.accuracy}
    print(
        f"ink boundary (fit accuracy {ink_boundary.accuracy:.2f}): monotone in {monotone:.1%}, class kept at ±1.5 in {kept:.1%}"
    )

    fit_z = gan.latent(5000, seed=3)
    fit_classes = classes(gan.generate(fit_z))
    results["pairs"] = {}
    for a, b in PAIRS:
        chosen = (fit_classes == a) | (fit_classes == b)
        starts = z[start_classes == a]
        if not ((fit_classes == a).any() and (fit_classes == b).any() and len(starts)):
            print(f"  {a} -> {b}: skipped, the GAN draws too few of these digits")
            continue
        pair = edit.boundary(gan, (fit_classes[chosen] == b).float(), z=fit_z[chosen])
        turned = (classes(edit.move(gan, starts, pair, [3.0])[0]) == b).float().mean().item()
        results["pairs"][f"{a}->{b}"] = {"turned": turned, "samples": len(starts), "accuracy": pair.accuracy}
        print(f"  {a} -> {b}: {turned:.1%} of {len(starts)} samples turned (fit accuracy {pair.accuracy:.2f})")
    turned = [r["turned"] for r in results["pairs"].values()]
    if turned:
        print(f"class boundaries: {sum(turned) / len(turned):.1%} turned on average")
    if gan.config["clusters"]:
        results["cluster_swaps"] = swap_clusters(gan, z, start_classes)

    if args.out is not None:
        shown = z[:6]
        rows = [edit.move(gan, shown, found["sefa"].vectors[i], INK_AMOUNTS) for i in range(3)]
        rows.append(edit.move(gan, shown, ink_boundary, INK_AMOUNTS))
        grid = torch.cat([r.transpose(0, 1).flatten(0, 1) for r in rows])  # per latent: one strip
        path = args.out / "directions.png"
        plot.grid(grid, path=path, nrow=len(INK_AMOUNTS), title="SeFa 1-3 and ink, -3..3")
        (args.out / "directions.json").write_text(json.dumps(results, indent=2))
        print(path.resolve())


if __name__ == "__main__":
    main()
