"""Draws the README's gallery (docs/gallery/*.png) from models trained here with the
recipes as shipped and fixed seeds, on 2 CPU threads (about 40 minutes for all).

    .venv/bin/python scripts/gallery.py [--only mnist edit ...] [--out docs/gallery]
    .venv/bin/python scripts/gallery.py --steps 5 --out /tmp/gallery   # smoke test

mnist, edit and inpaint share one GAN, trained on the 4,000 training digits of the
classifier's split; the edits and fills are of held-out digits or fresh latents.
"""

from __future__ import annotations

import argparse
import time
from functools import cache
from pathlib import Path

import rustgan
import torch
from rustgan import data, edit, metrics, plot

F = torch.nn.functional

SEED = 0
MRI_SIZE, MRI_STEPS = 64, 600
# What 30 minutes of one core gave in benches/real_data.py and benches/cyclegan.py.
PORTRAIT_STEPS, STYLE_STEPS, STYLE_GENERATOR = 6000, 4450, "unet"
UNPAIRED_STEPS = 1500  # notebook 08's, for each of its two CycleGANs
STEPS_OVERRIDE: dict[str, int] = {}  # {"steps": n} trains every model n steps (a smoke test)


def trained(kind: str, x: torch.Tensor, steps: int | None = None, labels=None, **extra) -> rustgan.GAN:
    """A GAN of `recipe(kind)` (with `extra` options) trained on `x`."""
    options = rustgan.recipe(kind, len(x), x.shape[-1]) | extra
    recipe_steps, batch = options.pop("steps"), options.pop("batch_size")
    gan = rustgan.GAN(tuple(x.shape[1:]), seed=SEED, device="cpu", **options)
    gan.fit(x, STEPS_OVERRIDE.get("steps", steps or recipe_steps), batch, labels=labels)
    return gan


@cache
def digits_gan() -> rustgan.GAN:
    (train, _), _ = metrics.digit_split()
    return trained("images", train)


def held_out_digits(n: int) -> torch.Tensor:
    return metrics.digit_split()[1][0][:n]


def mnist(path: Path) -> None:
    plot.grid(digits_gan().sample(64, seed=1), path, nrow=8, title="MNIST, recipe('images')")


def fashion(path: Path) -> None:
    gan = rustgan.pretrained("fashion")  # recipe("images"), 10,000 steps (scripts/make_pretrained.py)
    plot.grid(gan.sample(64, seed=1), path, nrow=8, title="Fashion-MNIST, recipe('images')")


def shapes(path: Path) -> None:
    gan = rustgan.pretrained("shapes")  # recipe("colour"), 5,000 steps (scripts/make_pretrained.py)
    plot.grid(gan.sample(64, seed=1), path, nrow=8, title="shapes without labels, recipe('colour')")


def emoji(path: Path) -> None:
    gan = trained("colour", data.emoji(64))
    plot.grid(gan.sample(36, seed=1), path, nrow=6, title="Noto emoji, 64 px, recipe('colour')")


def portraits(path: Path) -> None:
    gan = trained("colour", data.portraits(64)[0], steps=PORTRAIT_STEPS)
    plot.grid(gan.sample(64, seed=1), path, nrow=8, title="Wesnoth's painted portraits, 64 px, recipe('colour')")


STYLE_PHOTOS = [name for name in data.PHOTOS if name != "rocket"]  # nothing painted resembles it


def style(path: Path) -> None:
    """Crops of photographs (not the ones trained on) as Wesnoth's landscape paintings."""
    a = data.photos(STYLE_PHOTOS, size=64, n=2000, crop_fraction=0.5, seed=SEED)
    b = data.paintings(64, n=2000, seed=SEED + 1)
    # Without the identity loss, as `rustgan train-cycle` trains colour folders.
    cycle = rustgan.CycleGAN(a.shape[1:], b.shape[1:], generator=STYLE_GENERATOR, identity_weight=0.0, seed=SEED)
    cycle.fit(a, b, steps=STEPS_OVERRIDE.get("steps", STYLE_STEPS), batch_size=8)
    draw_style(cycle, path)


def draw_style(cycle: rustgan.CycleGAN, path: Path) -> None:
    inputs = data.photos(STYLE_PHOTOS, size=64, n=10, crop_fraction=0.5, seed=SEED + 2)
    rows = torch.cat([inputs, cycle.translate(inputs, to="b")])
    plot.grid(rows, path, nrow=10, title="photograph crops / as Wesnoth's landscape paintings (CycleGAN)")


def shapes_in(colours: tuple[int, ...], n: int, seed: int) -> torch.Tensor:
    """`n` shapes of `data.shapes` drawn in `colours` (colour indices) only."""
    images, labels = data.shapes(4 * n, seed=seed)
    return images[torch.isin(labels % 6, torch.tensor(colours))][:n]


def unpaired(path: Path) -> None:
    """Notebook 08's two CycleGANs: sklearn's 8x8 digits, framed as MNIST frames its
    digits, as MNIST handwriting; red, green and blue shapes in yellow, magenta and cyan."""
    steps, shown = STEPS_OVERRIDE.get("steps", UNPAIRED_STEPS), 10
    small, _ = data.digits()
    framed = F.pad(F.interpolate(small, size=(20, 20), mode="bilinear").clamp(-1, 1), (4, 4, 4, 4), value=-1.0)
    a_train, a_test = data.split(framed)
    digits = rustgan.CycleGAN((1, 28, 28), (1, 28, 28), seed=SEED)
    digits.fit(a_train, data.split(data.mnist()[0])[0], steps=steps, batch_size=32)
    recolour = rustgan.CycleGAN((3, 32, 32), (3, 32, 32), seed=SEED)
    recolour.fit(shapes_in((0, 1, 2), 5000, seed=0), shapes_in((3, 4, 5), 5000, seed=1), steps=steps, batch_size=32)
    inputs = a_test[:shown]
    as_colour = F.pad(torch.cat([inputs, digits.translate(inputs, to="b")]), (2, 2, 2, 2), value=-1.0).expand(
        -1, 3, -1, -1
    )
    shapes = shapes_in((0, 1, 2), shown, seed=2)
    rows = torch.cat([as_colour, shapes, recolour.translate(shapes, to="b")])
    plot.grid(rows, path, nrow=shown, title="sklearn digits / as MNIST handwriting / shapes / in another palette")


def edit_strip(path: Path) -> None:
    """Six fresh latents moved along an ink boundary, one row each, -3..3."""
    gan = digits_gan()
    ink = edit.boundary(gan, lambda images: (images > 0).float().mean((1, 2, 3)), n=4000, seed=2)
    moved = edit.move(gan, gan.latent(6, seed=3), ink)  # [amounts, latents, ...]
    plot.grid(moved.transpose(0, 1).flatten(0, 1), path, nrow=moved.shape[0], title="less ink  <->  more ink")


def inpaint(path: Path) -> None:
    """Held-out digits with the lower half hidden: input, the posterior mean, the truth."""
    targets = held_out_digits(8)
    mask = torch.ones(28, 28)
    mask[14:] = 0
    filled = edit.inpaint(digits_gan(), targets, mask, method="posterior", seed=SEED).images
    rows = torch.cat([targets * mask, filled, targets])  # the hole shows as grey
    plot.grid(rows, path, nrow=8, title="hidden lower half / posterior mean / truth")


def translation(path: Path) -> None:
    """pix2pix from AAL region maps to T1 MRI slices, shown on axial slices left out of
    training (every eighth); region maps drawn in random colours."""
    parts = [data.mri(task="labels-to-mri", axis=axis, size=MRI_SIZE) for axis in (0, 1, 2)]
    labels, scans = parts[2]
    held_out = torch.arange(len(scans)) % 8 == 4
    train_labels = torch.cat([parts[0][0], parts[1][0], labels[~held_out]])
    train_scans = torch.cat([parts[0][1], parts[1][1], scans[~held_out]])
    translator = rustgan.Translator(train_labels.shape[1:], train_scans.shape[1:], seed=SEED)
    translator.fit(train_labels, train_scans, steps=STEPS_OVERRIDE.get("steps", MRI_STEPS), batch_size=32)
    pick = torch.nonzero(held_out).flatten()[1:7]
    palette = torch.rand(rustgan.real_data.MRI_REGIONS + 1, 3, generator=torch.Generator().manual_seed(SEED)) * 2 - 1
    palette[0] = -1
    regions = palette[data.mri_regions(labels[pick])[:, 0]].permute(0, 3, 1, 2)
    grey = torch.cat([translator.translate(labels[pick]), scans[pick]]).expand(-1, 3, -1, -1)
    plot.grid(torch.cat([regions, grey]), path, nrow=len(pick), title="region map / pix2pix / MRI slice")


PICTURES = {
    "mnist": mnist,
    "fashion": fashion,
    "shapes": shapes,
    "emoji": emoji,
    "portraits": portraits,
    "style": style,
    "unpaired": unpaired,
    "edit": edit_strip,
    "inpaint": inpaint,
    "translation": translation,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PICTURES, default=list(PICTURES))
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs" / "gallery")
    parser.add_argument("--steps", type=int, default=None, help="train every model this many steps (a smoke test)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    args = parser.parse_args()
    if args.steps is not None:
        STEPS_OVERRIDE["steps"] = args.steps
    rustgan.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        started = time.perf_counter()
        path = args.out / f"{name}.png"
        PICTURES[name](path)
        print(f"wrote {path} ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
