"""CycleGAN on unpaired sets, each trained for the same wall-clock budget:

- digits: sklearn's 8x8 digits enlarged to 20 px and padded to 28 px, as MNIST frames its
  digits (a; `--digits-frame` picks the full 28 px instead), into MNIST's handwriting (b).
  The project's digit classifier reads the translations of 359 held-out sklearn digits,
  beside the plain enlargements (bilinear to 28 px, or to 20 px padded to 28 px); the
  b→a→b cycle PSNR is on 1,000 held-out MNIST digits.
- shapes: `data.shapes` in red, green and blue (a) into yellow, magenta and cyan (b),
  drawn independently. A translation passes when the renderer fits it (high quality),
  its colour is one of b's, its kind is the input's, and its shape's coverage overlaps
  the input's with soft IoU >= 0.8.
- photos: 64 px crops of china.jpg (a) take the look of flower.jpg (b), and back. The
  sliced Wasserstein distance of the translations to held-out crops of the target
  photograph, against the inputs' own distance to them.
- paintings: crops of the photographs that ship but the rocket at night (a; each crop
  spans half a photograph's short side) as Wesnoth's landscape paintings (b; a quarter of
  a painting's), and back. 500 other crops of the photographs and 500 crops of the two
  held-out paintings are translated and scored by their SWD to the other domain's
  held-out crops, against the inputs' own and the floor (training crops of the target
  domain against the same held-out crops), and by how well they keep the input's
  content: the correlation of the luminance edge maps (Sobel) of each input and its
  translation. The same scores with 500 held-out crops of the training paintings in
  place of the held-out paintings are keyed ", held-out crops".

No labels are used in training.

    python benches/cyclegan.py                                   # every task, 10 minutes each
    python benches/cyclegan.py --tasks digits --budget 60 --out runs/cyclegan
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import rustgan
import torch
from rustgan import data, metrics, plot
from rustgan import shapes as shape_renderer

TASKS = ("digits", "shapes", "photos", "paintings")
TARGETS = {
    "digits": "classifier reads >= 85% of translated held-out digits",
    "shapes": ">= 90% high quality in b's palette, same kind, mask IoU >= 0.8",
    "photos": "SWD of translations to the target below the inputs'",
    "paintings": "SWD of translations <= 0.6x the inputs' both ways, edge correlation >= 0.5",
}
# Images per step: 64 px photographs take 4x the time of 28-32 px images per item.
BATCH_SIZES = {"digits": 32, "shapes": 32, "photos": 8, "paintings": 8}
# A rocket against the night sky: nothing in the paintings resembles it.
NIGHT_PHOTO = "rocket"
SHOWN = 10
CHUNK = 50  # steps between checks of the clock


def train(cycle: rustgan.CycleGAN, a: torch.Tensor, b: torch.Tensor, args, task: str) -> dict:
    """Trains in chunks until the budget is spent, or for `--steps` steps; the steps and
    seconds taken."""
    started = time.perf_counter()

    def more() -> bool:
        if args.steps is not None:
            return cycle.steps_done < args.steps
        return time.perf_counter() - started < args.budget

    while more():
        steps = CHUNK if args.steps is None else min(CHUNK, args.steps - cycle.steps_done)
        cycle.fit(a, b, steps=steps, batch_size=BATCH_SIZES[task], progress=False, log_every=CHUNK)
    return {"steps": cycle.steps_done, "seconds": round(time.perf_counter() - started, 1)}


def options(args) -> dict:
    """CycleGAN options the command line changes from the defaults."""
    changed = {
        "lr_half_life": args.lr_half_life,
        "generator": args.generator,
        "identity_weight": args.identity_weight,
        "patch_layers": args.patch_layers,
    }
    return {name: value for name, value in changed.items() if value is not None}


def accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((metrics.digit_logits(images).argmax(1) == labels).double().mean())


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """In dB, for images in [-1, 1] (peak-to-peak 2)."""
    return float(10 * torch.log10(4 / ((x - y) ** 2).mean()))


def enlarged(small: torch.Tensor) -> dict[str, torch.Tensor]:
    """The plain enlargements of 8x8 digits in [-1, 1] that a translation must beat."""
    to28 = torch.nn.functional.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    to20 = torch.nn.functional.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False)
    return {
        "bilinear 28 px": to28.clamp(-1, 1),
        "bilinear 20 px, padded": torch.nn.functional.pad(to20, (4,) * 4, value=-1.0),
    }


def digits_task(args) -> dict:
    small, labels = data.digits()
    # Framed as MNIST frames its digits: a U-Net's skips keep where strokes are, so a
    # full-frame enlargement would come out as full-frame handwriting.
    a = enlarged(small)[args.digits_frame]
    a_train, _, a_test, test_labels = data.split(a, labels, held_out=0.2)
    mnist_train, mnist_test = data.split(data.mnist()[0], held_out=0.2)
    cycle = rustgan.CycleGAN(a.shape[1:], mnist_train.shape[1:], seed=args.seed, **options(args))
    row = train(cycle, a_train, mnist_train, args, "digits")
    translated = cycle.translate(a_test, to="b")
    row["accuracy"] = accuracy(translated, test_labels)
    _, _, small_test, _ = data.split(small, labels, held_out=0.2)
    for name, images in enlarged(small_test).items():
        row[f"accuracy, {name}"] = accuracy(images, test_labels)
    row["cycle PSNR b→a→b"] = psnr(cycle.translate(cycle.translate(mnist_test, to="a"), to="b"), mnist_test)
    shown = torch.cat([a_test[:SHOWN], translated[:SHOWN]])
    plot.grid(
        shown, nrow=SHOWN, path=args.out / "cyclegan_digits.png", title="sklearn digits (top) as MNIST handwriting"
    )
    return row


def palette_shapes(n: int, palette: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` shapes of `data.shapes` whose colours are in `palette` (colour indices)."""
    images, labels = data.shapes(4 * n, seed=seed)
    keep = torch.isin(labels % len(shape_renderer.COLOURS), torch.tensor(palette)).nonzero().view(-1)[:n]
    return images[keep], labels[keep]


def coverage(images: torch.Tensor) -> torch.Tensor:
    return ((images + 1) / 2).clamp(0, 1).amax(1)


def shapes_task(args) -> dict:
    a, _ = palette_shapes(5000, (0, 1, 2), seed=args.seed)
    b, _ = palette_shapes(5000, (3, 4, 5), seed=args.seed + 1)
    test, test_labels = palette_shapes(1000, (0, 1, 2), seed=args.seed + 2)
    cycle = rustgan.CycleGAN(a.shape[1:], b.shape[1:], seed=args.seed, **options(args))
    row = train(cycle, a, b, args, "shapes")
    translated = cycle.translate(test, to="b")
    fitted = shape_renderer.fit(translated)
    colours, kinds = fitted["labels"] % len(shape_renderer.COLOURS), fitted["labels"] // len(shape_renderer.COLOURS)
    cover_in, cover_out = coverage(test), coverage(translated)
    iou = torch.minimum(cover_in, cover_out).sum((1, 2)) / torch.maximum(cover_in, cover_out).sum((1, 2))
    checks = {
        "high quality": fitted["high_quality"],
        "in b's palette": colours >= 3,
        "same kind": kinds == test_labels // len(shape_renderer.COLOURS),
        "mask IoU >= 0.8": iou >= 0.8,
    }
    for name, passed in checks.items():
        row[name] = float(passed.double().mean())
    row["all four"] = float(torch.stack(list(checks.values())).all(0).double().mean())
    shown = torch.cat([test[:SHOWN], translated[:SHOWN]])
    plot.grid(
        shown, nrow=SHOWN, path=args.out / "cyclegan_shapes.png", title="red, green, blue shapes (top) in b's palette"
    )
    return row


def photos_task(args) -> dict:
    china, flower = data.photos(("china",)), data.photos(("flower",))
    a, b = data.patches(china, n=2000, seed=args.seed), data.patches(flower, n=2000, seed=args.seed + 1)
    a_test, b_test = data.patches(china, n=500, seed=args.seed + 2), data.patches(flower, n=500, seed=args.seed + 3)
    cycle = rustgan.CycleGAN(a.shape[1:], b.shape[1:], seed=args.seed, **options(args))
    row = train(cycle, a, b, args, "photos")
    to_b, to_a = cycle.translate(a_test, to="b"), cycle.translate(b_test, to="a")
    row["SWD a→b"] = metrics.swd(to_b, b_test)["mean"]
    row["SWD of the inputs a to b"] = metrics.swd(a_test, b_test)["mean"]
    row["SWD b→a"] = metrics.swd(to_a, a_test)["mean"]
    row["SWD of the inputs b to a"] = metrics.swd(b_test, a_test)["mean"]
    shown = torch.cat([a_test[:SHOWN], to_b[:SHOWN], b_test[:SHOWN], to_a[:SHOWN]])
    plot.grid(
        shown,
        nrow=SHOWN,
        path=args.out / "cyclegan_photos.png",
        title="china as flower (rows 1-2), flower as china (3-4)",
    )
    return row


def edges(images: torch.Tensor) -> torch.Tensor:
    """The Sobel gradient magnitude of each image's luminance, ``[N, H-2, W-2]``."""
    luminance = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = torch.stack([sobel, sobel.T])[:, None]
    return torch.nn.functional.conv2d(luminance, kernels).norm(dim=1)


def edge_correlation(inputs: torch.Tensor, outputs: torch.Tensor) -> float:
    """The mean, over pairs, of the Pearson correlation of their edge maps."""
    a, b = (edges(x).flatten(1) for x in (inputs, outputs))
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return float(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)).mean())


def paintings_task(args) -> dict:
    size = args.size
    photo_names = [name for name in data.PHOTOS if name != NIGHT_PHOTO]
    a = data.photos(photo_names, size=size, n=2000, crop_fraction=0.5, seed=args.seed)
    b = data.paintings(size, n=2000, seed=args.seed + 1)
    a_test = data.photos(photo_names, size=size, n=500, crop_fraction=0.5, seed=args.seed + 2)
    b_test = data.paintings(size, n=500, split="test", seed=args.seed + 3)
    if args.load is not None:
        cycle = rustgan.CycleGAN.load(args.load)
        row = {"loaded": str(args.load), "steps": cycle.steps_done}
    else:
        cycle = rustgan.CycleGAN(a.shape[1:], b.shape[1:], seed=args.seed, **options(args))
        row = train(cycle, a, b, args, "paintings")
    # Held-out crops of the training paintings, the other split: what they show overlaps
    # training crops, but they come from the paintings' own distribution.
    b_crops = data.paintings(size, n=500, seed=args.seed + 4)
    to_b = cycle.translate(a_test, to="b")
    for split, b_held in (("", b_test), (", held-out crops", b_crops)):
        to_a = cycle.translate(b_held, to="a")
        directions = (("a→b", to_b, a_test, b_held, b), ("b→a", to_a, b_held, a_test, a))
        for direction, translated, inputs, target, train_part in directions:
            name = direction + split
            swd, swd_inputs = metrics.swd(translated, target)["mean"], metrics.swd(inputs, target)["mean"]
            row[f"SWD {name}"], row[f"SWD of the inputs {name}"] = swd, swd_inputs
            row[f"SWD ratio {name}"] = swd / swd_inputs
            # The floor: training images of the target domain against the same held-out ones.
            row[f"SWD floor {name}"] = metrics.swd(train_part[: len(target)], target)["mean"]
            row[f"edge correlation {name}"] = edge_correlation(inputs, translated)
    shown = torch.cat([a_test[:SHOWN], to_b[:SHOWN], b_test[:SHOWN], cycle.translate(b_test[:SHOWN], to="a")])
    title = "photographs as paintings (rows 1-2), paintings as photographs (3-4)"
    plot.grid(shown, nrow=SHOWN, path=args.out / f"cyclegan_paintings_{size}.png", title=title)
    if args.save:
        cycle.save(args.out / f"paintings-{size}" / "checkpoint")
    return row


RUNS = {"digits": digits_task, "shapes": shapes_task, "photos": photos_task, "paintings": paintings_task}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--budget", type=float, default=600, help="training seconds per task")
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead (quick checks)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="crop size of the paintings task")
    parser.add_argument("--threads", type=int, default=2, help="1 runs the budget as CPU time, beside another bench")
    parser.add_argument("--save", action="store_true", help="save the paintings task's CycleGAN")
    parser.add_argument("--load", type=Path, default=None, help="score this saved CycleGAN on the paintings task")
    parser.add_argument("--lr-half-life", type=int, default=None, help="instead of CycleGAN's default")
    parser.add_argument("--generator", default=None, help="the generators' network, instead of CycleGAN's default")
    parser.add_argument("--identity-weight", type=float, default=None, help="instead of CycleGAN's default")
    parser.add_argument("--patch-layers", type=int, default=None, help="the PatchGANs' depth, instead of the default")
    parser.add_argument(
        "--digits-frame",
        choices=("bilinear 20 px, padded", "bilinear 28 px"),
        default="bilinear 20 px, padded",
        help="how domain a's 8x8 digits are enlarged to 28 px",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/cyclegan"))
    args = parser.parse_args()
    rustgan.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for task in args.tasks:
        rows[task] = RUNS[task](args)
        print(json.dumps({"task": task, "target": TARGETS[task], **rows[task]}), flush=True)
    (args.out / "cyclegan.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
