"""`rustgan edit ...`: the editing tools on a checkpoint, writing PNG grids."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from . import edit, plot
from .cli_common import add_gan_source, gan_data, image_path, load_data, load_gan, mixture_centers
from .errors import InvalidArgumentError
from .gan import GAN

HIDDEN_REGIONS = ("lower", "upper", "left", "right", "center")
MAX_SWAP_COLUMNS = 20  # swap draws at most this many classes unless --classes names more


def hiding_mask(shape, region: str) -> torch.Tensor:
    """A mask ``[1, H, W]`` with 1 on the known pixels and 0 on `region`."""
    _, height, width = shape
    mask = torch.ones(1, height, width)
    if region == "lower":
        mask[:, height // 2 :] = 0
    elif region == "upper":
        mask[:, : height // 2] = 0
    elif region == "left":
        mask[:, :, : width // 2] = 0
    elif region == "right":
        mask[:, :, width // 2 :] = 0
    else:
        mask[:, height // 4 : height - height // 4, width // 4 : width - width // 4] = 0
    return mask


def _targets(args, gan: GAN) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images to edit, with their labels when the GAN is conditional."""
    if len(gan.data_shape) != 3:
        raise InvalidArgumentError("projection and inpainting need an image GAN")
    channels, size, _ = gan.data_shape
    name = args.data or gan_data(args, required="--data (the images to edit)")
    x, labels = load_data(name, size, channels, labelled=bool(gan.num_classes))
    if gan.num_classes and labels is None:
        raise InvalidArgumentError(f"a conditional GAN edits labelled images (mnist or digits), not {name}")
    chosen = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[: args.n]  # data may be sorted
    return x[chosen], labels[chosen] if gan.num_classes else None


def _direction(args, gan: GAN) -> tuple[torch.Tensor, str]:
    """The direction of `--direction`: "sefa:I" or "pca:I" (the I-th, from 1), or a file
    holding one latent vector (torch.save or numpy .npy)."""
    method, _, index = args.direction.partition(":")
    if method in ("sefa", "pca"):
        if not index.isdigit() or int(index) < 1:
            raise InvalidArgumentError(f"--direction {args.direction}: write {method}:I with I = 1, 2, ...")
        found = edit.directions(gan, k=int(index), method=method)
        return found.vectors[-1], f"{method} direction {index}"
    path = Path(args.direction)
    if not path.is_file():
        raise InvalidArgumentError(f"--direction {args.direction}: neither sefa:I, pca:I nor a file")
    try:
        vector = np.load(path) if path.suffix == ".npy" else torch.load(path, weights_only=True)
    except Exception as error:  # unreadable: name the file, not the parser's internals
        raise InvalidArgumentError(f"--direction {path}: not a saved tensor ({error})") from None
    return torch.as_tensor(vector).float().flatten(), f"direction from {path.name}"


def _moved_latents(args, gan: GAN) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Random latents, or with `--real` those of projected images, and their labels."""
    if not args.real:
        labels = torch.arange(args.n) % gan.num_classes if gan.num_classes else None
        return gan.latent(args.n, seed=args.seed), labels
    targets, labels = _targets(args, gan)
    return edit.project(gan, targets, steps=args.steps, restarts=args.restarts, labels=labels).latents, labels


def run(args: argparse.Namespace) -> int:
    if args.steps is None:
        args.steps = 10 if args.operation == "interpolate" else 500
    gan = load_gan(args)
    out = image_path(args.out, f"{args.operation}.png")
    if args.operation == "interpolate":
        z0, z1 = gan.latent(args.n, seed=args.seed), gan.latent(args.n, seed=args.seed + 1)
        labels = torch.arange(args.n) % gan.num_classes if gan.num_classes else None
        strips = edit.interpolate(gan, z0, z1, steps=args.steps, method=args.method, labels=labels)  # [steps, n, ...]
        title = f"{args.method} interpolation"
        if len(gan.data_shape) == 3:
            plot.grid(strips.transpose(0, 1).flatten(0, 1), path=out, nrow=args.steps, title=title)
        else:  # vectors: the points along every path
            plot.scatter2d(strips.flatten(0, 1), mixture_centers(gan_data(args)), path=out, title=title)
    elif args.operation == "truncation":
        rows = [gan.sample(args.n, seed=args.seed, truncation=psi) for psi in args.psi]
        plot.grid(torch.cat(rows), path=out, nrow=args.n, title="truncation " + " / ".join(map(str, args.psi)))
    elif args.operation in ("directions", "move"):
        if len(gan.data_shape) != 3:
            raise InvalidArgumentError("directions and moves are drawn for image GANs")
        z, labels = _moved_latents(args, gan)
        if args.operation == "directions":
            found = edit.directions(gan, k=args.k, method=args.by)
            strips = edit.move(gan, z, found, args.amounts, labels=labels)  # [K, A, N, ...]
            images = strips.permute(0, 2, 1, *range(3, strips.dim())).flatten(0, 2)  # strip per row
            shares = ", ".join(f"{share:.1%}" for share in found.explained.tolist())
            print(f"{args.by} directions 1-{args.k} explain {shares}")
            title = f"{args.by} directions 1-{args.k}, {args.n} latents each"
        else:
            direction, title = _direction(args, gan)
            strips = edit.move(gan, z, direction, args.amounts, labels=labels)  # [A, N, ...]
            images = strips.transpose(0, 1).flatten(0, 1)
        span = f"{args.amounts[0]:g} to {args.amounts[-1]:g}"  # the whole list would overflow a narrow grid
        plot.grid(images, path=out, nrow=len(args.amounts), title=f"{title}, {span}")
    elif args.operation == "swap":
        if len(gan.data_shape) != 3:
            raise InvalidArgumentError("class swaps are drawn for image GANs")
        count = gan.num_classes or gan.config["clusters"]
        classes = args.classes or (list(range(0, count, -(-count // MAX_SWAP_COLUMNS))) if count else None)
        grid = edit.class_swap(gan, gan.latent(args.n, seed=args.seed), classes=classes)  # [C, n, ...]
        kind = "class" if gan.num_classes else "cluster"
        print(f"a {kind} per column: {', '.join(map(str, classes))}")
        plot.grid(
            grid.transpose(0, 1).flatten(0, 1),
            path=out,
            nrow=len(grid),
            title=f"one latent per row, a {kind} per column",
        )
    elif args.operation == "project":
        targets, labels = _targets(args, gan)
        result = edit.project(gan, targets, steps=args.steps, restarts=args.restarts, labels=labels)
        print(f"PSNR {edit.psnr(result.images, targets).mean():.2f} dB over {len(targets)} images")
        plot.grid(torch.cat([targets, result.images.cpu()]), path=out, nrow=len(targets), title="targets / projections")
    else:
        targets, labels = _targets(args, gan)
        mask = hiding_mask(gan.data_shape, args.hide)
        result = edit.inpaint(gan, targets, mask, steps=args.steps, restarts=args.restarts, labels=labels)
        hidden = 1 - mask
        print(
            f"PSNR on the hidden pixels {edit.psnr(result.images, targets, hidden).mean():.2f} dB over {len(targets)} images"
        )
        inputs = targets * mask - hidden  # hidden pixels shown as background
        plot.grid(
            torch.cat([inputs, result.images, targets]), path=out, nrow=len(targets), title="input / inpainted / truth"
        )
    print(out.resolve())
    return 0


def add_parser(commands, formatter) -> None:
    p = commands.add_parser(
        "edit",
        formatter_class=formatter,
        help="interpolate, truncate, project, inpaint, move along directions or swap classes with a checkpoint; writes a PNG grid",
    )
    p.add_argument(
        "operation", choices=("interpolate", "truncation", "project", "inpaint", "directions", "move", "swap")
    )
    add_gan_source(p)
    p.add_argument("--out", default="edit.png", help="PNG file, or a directory to write OPERATION.png into")
    p.add_argument("--n", type=int, default=8, help="rows of interpolation, images to edit, or latents moved")
    p.add_argument("--seed", type=int, default=0, help="seed of the latents and of the chosen images")
    p.add_argument(
        "--data",
        default=None,
        help="images to project or inpaint: a built-in set, a folder or one image file (default: the data the GAN trained on)",
    )
    p.add_argument("--steps", type=int, default=None, help="interpolation frames (10) or optimisation steps (500)")
    p.add_argument("--method", choices=("slerp", "lerp"), default="slerp", help="interpolation path")
    p.add_argument("--psi", type=float, nargs="+", default=[1.0, 0.7, 0.4], help="truncation values, one row each")
    p.add_argument("--restarts", type=int, default=4, help="random starts of projection and inpainting")
    p.add_argument("--hide", choices=HIDDEN_REGIONS, default="lower", help="region inpainting fills")
    p.add_argument("--k", type=int, default=5, help="directions drawn, one block of strips each")
    p.add_argument("--by", choices=("sefa", "pca"), default="sefa", help="how directions finds its directions")
    p.add_argument(
        "--direction", default="sefa:1", help="what move follows: sefa:I, pca:I, or a file with a latent vector"
    )
    p.add_argument("--amounts", type=float, nargs="+", default=[-3, -2, -1, 0, 1, 2, 3], help="steps along a direction")
    p.add_argument(
        "--classes",
        type=int,
        nargs="+",
        default=None,
        help=f"classes (or clusters) swap renders (default: all, or {MAX_SWAP_COLUMNS} spread over them)",
    )
    p.add_argument("--real", action="store_true", help="move projected images of --data instead of random latents")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(run=run)
