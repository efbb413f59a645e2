"""The `rustgan` command line: `rustgan train | sample | evaluate | edit ... | train-translate | translate |
train-cycle`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import cli_cycle, cli_edit, cli_translate, distributed, plot
from .cli_common import (
    BUILTIN_DATA,
    FLAG_TYPES,
    MIXTURE_STD,
    RUN_FILE,
    HelpFormatter,
    add_gan_source,
    add_option_flags,
    default_text,
    gan_data,
    given_options,
    image_path,
    load_data,
    load_gan,
    mixture_centers,
    option_flags,
    prepare_out,
    print_written,
    refuse_conflicts,
    resume_conflicts,
    run_data,
    write_run_file,
)
from .errors import InvalidArgumentError, RustganError
from .gan import GAN, GUIDES, OPTIONS, recipe

GUIDE_HELP = "resample with the calibrated discriminator (train with --hold-out): rejection or Metropolis-Hastings"
# The network family of each kind of data, where neither the recipe nor a flag names one.
KIND_ARCH = {"images": "dcgan", "colour": "dcgan", "vectors": "mlp"}
# How `train` and `--help` name the kind of data each recipe was measured on.
KIND_NAMES = {"images": "grey images", "colour": "colour images", "vectors": "vectors"}
FIXED_NOISE_SEED = 1234  # the same latents for every sample grid of a run
# What `train --overwrite` removes: everything `train` writes into OUT, nothing else.
RUN_OUTPUTS = ("checkpoint", "samples", "samples.png", "loss.png", "log.jsonl", RUN_FILE)

# Options of the GAN that `train` takes no flag for, and where their values come from.
NOT_FLAGS = {
    "data_shape": "the data (--data, --image-size, --channels)",
    "num_classes": "--conditional and the data's labels",
}
# Flags of `train` that set options of the GAN: flag destination -> options it sets. One
# flag per option of the native table, beside `--lr`, which sets both rates.
GAN_FLAGS = option_flags(OPTIONS, NOT_FLAGS, extra={"lr": ("lr_g", "lr_d")})


def save_samples(gan: GAN, path: Path, centers=None) -> None:
    """The run's sample grid (images) or scatter plot (vectors), always from the same noise."""
    if len(gan.data_shape) == 3:
        n = 8 * gan.num_classes if gan.num_classes else 64  # conditional: one column per class
        plot.grid(
            gan.sample(n, seed=FIXED_NOISE_SEED),
            path=path,
            nrow=gan.num_classes or None,
            title=f"step {gan.steps_done}",
        )
    else:
        plot.scatter2d(gan.sample(2500, seed=FIXED_NOISE_SEED), centers, path=path, title=f"step {gan.steps_done}")


def training_settings(args, kind: str, items: int | None = None, size: int | None = None) -> tuple[dict, int, int]:
    """The GAN options, batch size and steps of a run on `kind` data ("images", "colour"
    or "vectors") of `items` items of `size` pixels: the recommended recipe, overridden by
    the flags given on the command line."""
    options = recipe(kind, items, size)
    batch_size, steps = options.pop("batch_size"), options.pop("steps")
    given = given_options(args, GAN_FLAGS)
    if given.get("arch", options.get("arch")) != "projected" and "pixel_head" not in given:
        options.pop("pixel_head", None)  # only the projected family has one
    options.update(given)
    return options, args.batch_size or batch_size, steps if args.steps is None else args.steps


def _recipe_call(kind: str, size: int | None) -> str:
    """How `train` names the recipe it started from; only colour recipes depend on size."""
    return f"recipe({kind!r}, size={size})" if kind == "colour" else f"recipe({kind!r})"


# What each kind of self-conditioning clusters is fitted on, as `train` says it.
CLUSTER_SPACES = {
    "pixels": "the images' pixels",
    "efficientnet": "EfficientNet-Lite0's pretrained ImageNet features",
}


def _clusters_said(config: dict, args) -> str:
    """Which clusters the run conditions on, on what, and why."""
    if not config["clusters"]:
        return "no self-conditioning clusters" + (": the data's classes instead" if config["num_classes"] else "")
    space = CLUSTER_SPACES[config["cluster_features"]]
    if config["recluster_every"]:
        space += f", re-clustered on D's features every {config['recluster_every']} steps"
    flagged = args.clusters is not None or args.cluster_features is not None
    why = "as the flags ask" if flagged else "as the recipe does"
    return f"self-conditioning on {config['clusters']} clusters of {space}, {why}"


def _resume_conflicts(args, gan: GAN) -> list[str]:
    """Flags given with --resume whose values differ from the checkpoint's settings."""
    conflicts = resume_conflicts(args, OPTIONS, GAN_FLAGS, gan.config)
    if args.conditional and not gan.num_classes:
        conflicts.append("--conditional (the checkpoint is unconditional)")
    return conflicts


def _hold_out(x, labels, n: int):
    """Splits off `n` items (a fixed random subset) to calibrate D on after training:
    (training items, their labels, (held-out items, their labels) or None)."""
    if n <= 0:
        return x, labels, None
    if n > len(x) // 2:
        raise InvalidArgumentError(f"--hold-out {n} would leave fewer items for training than it holds back")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, held = order[:-n], order[-n:]
    pick = (lambda idx: None) if labels is None else (lambda idx: labels[idx])
    return x[train], pick(train), (x[held], pick(held))


def train(args) -> int:
    x, labels = load_data(args.data, args.image_size, args.channels, labelled=args.conditional)
    if args.conditional and labels is None:
        raise InvalidArgumentError(
            f"--conditional needs labelled data (mnist, digits, or an image folder with one subfolder per class), "
            f"not {args.data}"
        )
    x, labels, held_out = _hold_out(x, labels, args.hold_out)
    out = Path(args.out)
    args.device = distributed.init_from_environment(args.device)
    main_process = distributed.is_main_process()  # the one that reports and writes
    kind = "vectors" if x.dim() == 2 else "colour" if x.shape[1] == 3 else "images"
    size = x.shape[-1] if kind != "vectors" else None
    options, batch_size, steps = training_settings(args, kind, len(x), size)
    if main_process:
        prepare_out(args, out, RUN_OUTPUTS)
    if args.resume:
        gan = GAN.load(out / "checkpoint", device=args.device)
        refuse_conflicts(_resume_conflicts(args, gan))
    else:
        if args.conditional:
            options["num_classes"] = int(labels.max()) + 1
            if args.clusters is None:
                options["clusters"] = 0  # the classes take the clusters' place
        if not options.get("clusters"):
            # What the recipe sets about its clusters needs clusters.
            for name in ("recluster_every", "cluster_features"):
                if getattr(args, name) is None:
                    options.pop(name, None)
        options.setdefault("arch", KIND_ARCH[kind])
        gan = GAN(data_shape=tuple(x.shape[1:]), device=args.device, **options)
    labels = labels if gan.num_classes else None
    centers = mixture_centers(args.data)
    world_size = distributed.world()[1]
    if main_process:
        (out / "samples").mkdir(parents=True, exist_ok=True)
        write_run_file(out, args.data)
        processes = f" in {world_size} processes" if world_size > 1 else ""
        print(
            f"{gan} on {len(x)} items from {args.data}{processes}, batch size {batch_size}; "
            f"{_recipe_call(kind, size)}, measured on {KIND_NAMES[kind]}, under the flags given",
            file=sys.stderr,
        )
        print(_clusters_said(gan.config, args), file=sys.stderr)
    sample_every = args.sample_every or max(1, steps // 5)
    history = []
    started, first_step = time.perf_counter(), gan.steps_done
    with tqdm(total=steps, desc="training", unit="step", dynamic_ncols=True, disable=not main_process) as bar:
        done = 0
        while done < steps:
            chunk = min(sample_every, steps - done)
            before = gan.steps_done
            # Saving the checkpoint with every chunk: a kill loses at most one; --resume continues.
            records = gan.fit(
                x,
                chunk,
                batch_size,
                labels=labels,
                log_every=args.log_every,
                progress=bar,
                out=out / "checkpoint",
                log_partial=done + chunk >= steps,
            )
            done += gan.steps_done - before
            history += records
            if main_process:
                with open(out / "log.jsonl", "a") as log:
                    log.writelines(json.dumps(record) + "\n" for record in records)
                save_samples(gan, out / "samples" / f"step_{gan.steps_done:06d}.png", centers)
            if gan.steps_done - before < chunk:  # interrupted by Ctrl-C
                break
    if not main_process:
        return 0
    elapsed = time.perf_counter() - started
    final = out / "samples.png"
    save_samples(gan, final, centers)
    if history:
        plot.history(history, path=out / "loss.png")
    if held_out is not None:
        calibration = gan.calibrate(*held_out)
        gan.save(out / "checkpoint")
        print(
            f"calibrated D on {len(held_out[0])} held-out items for --guide: "
            f"rejection sampling keeps {100 * calibration['acceptance_rate']:.0f}% of samples",
            file=sys.stderr,
        )
    resumed = f" (resumed at step {first_step}, now at {gan.steps_done})" if first_step else ""
    print(f"trained {gan.steps_done - first_step} steps{resumed} in {elapsed:.0f} s", file=sys.stderr)
    print_written(
        [
            ("samples", final),
            ("loss plot", out / "loss.png"),
            ("log", out / "log.jsonl"),
            ("checkpoint", out / "checkpoint"),
        ]
    )
    return 0


def sample(args) -> int:
    gan = load_gan(args)
    images = gan.sample(args.n, seed=args.seed, guide=args.guide)
    out = image_path(args.out, "samples.png")
    if len(gan.data_shape) == 3:
        plot.grid(images, path=out)
    else:
        plot.scatter2d(images, mixture_centers(gan_data(args)), path=out)
    print(out.resolve())
    return 0


def evaluate(args) -> int:
    gan = GAN.load(args.checkpoint, device=args.device)
    shape = gan.data_shape
    name = args.data or run_data(args.checkpoint, required="--data")
    # Fashion-MNIST has its own classifier; other data take evaluate's default by channels.
    options = {"features": args.features or ("fashion" if name == "fashion" else None)}
    x = load_data(name, shape[-1], shape[0])[0]
    if name in MIXTURE_STD:
        options["centers"], options["std"] = mixture_centers(name), MIXTURE_STD[name]
    scores = gan.evaluate(x, n=args.n, seed=args.seed, guide=args.guide, **options)
    print(f"{gan} against {name}")
    for key, value in scores.items():
        if isinstance(value, list):
            shown = ", ".join(f"{v:.2f}" for v in value)
        else:
            shown = value if isinstance(value, str) else f"{value:.4g}"
        print(f"  {key:<16} {shown}")
    out = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent / "metrics.json"
    out.write_text(json.dumps(scores, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def _recipe_help(name: str, description: str) -> str:
    """`description` with the defaults the recipes give `name` for each kind of data."""
    default = OPTIONS[name].default if name in OPTIONS else None  # batch_size, steps: in every recipe
    values = {kind: recipe(kind).get(name, {"arch": arch}.get(name, default)) for kind, arch in KIND_ARCH.items()}
    values = {kind: default_text(value) for kind, value in values.items()}
    if len(set(values.values())) == 1:
        return f"{description} (default: {values['images']})"
    return f"{description} (default: {', '.join(f'{v} for {KIND_NAMES[k]}' for k, v in values.items())})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rustgan", description="Train GANs and sample from them.")
    commands = parser.add_subparsers(dest="command", required=True)
    formatter = HelpFormatter

    p = commands.add_parser(
        "train",
        formatter_class=formatter,
        help="train a GAN; writes a checkpoint, sample grids, a loss plot and a jsonl log",
        description="Train a GAN. Options not given come from the recommended recipe for the data "
        "(rustgan.recipe('images') for grey images, recipe('colour', size=...) for colour ones, "
        "recipe('vectors') for points).",
    )
    p.add_argument("--data", default="mnist", help=f"{' | '.join(BUILTIN_DATA)} | PATH to an image folder")
    p.add_argument("--steps", type=int, default=None, help=_recipe_help("steps", "training steps of this run"))
    p.add_argument("--out", default="runs/train", help="output directory")
    p.add_argument("--batch-size", type=int, default=None, help=_recipe_help("batch_size", "items per step"))
    # A flag not given leaves the recipe's value.
    add_option_flags(p, OPTIONS, GAN_FLAGS, docs={"lr": "learning rate of G and D"}, describe=_recipe_help)
    p.add_argument("--conditional", action="store_true", help="class-conditional GAN on the data's labels")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument(
        "--image-size",
        type=int,
        default=64,
        help="for image folders, emoji and clipart: 28-256 px (the colour recipe picks the family that takes it)",
    )
    p.add_argument("--channels", type=int, default=3, help="for image folders: 1 or 3")
    p.add_argument("--log-every", type=int, default=50, help="steps per record of log.jsonl")
    p.add_argument(
        "--sample-every", type=int, default=None, help="steps between sample grids and checkpoints (steps/5)"
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint with its own settings")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in OUT")
    p.add_argument(
        "--hold-out",
        type=int,
        default=0,
        metavar="N",
        help="hold N items back from training and calibrate D on them at the end, for sample --guide",
    )
    p.set_defaults(run=train)

    p = commands.add_parser(
        "sample", formatter_class=formatter, help="draw samples from a checkpoint or a shipped GAN into a PNG"
    )
    add_gan_source(p)
    p.add_argument("--n", type=int, default=64, help="samples to draw")
    p.add_argument("--seed", type=int, default=0, help="seed of the latents")
    p.add_argument("--guide", choices=GUIDES, default=None, help=GUIDE_HELP)
    p.add_argument("--out", default="samples.png", help="PNG file, or a directory to write samples.png into")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(run=sample)

    p = commands.add_parser(
        "evaluate",
        formatter_class=formatter,
        help="score a checkpoint against data: FID, KID, precision/recall, SWD, modes",
    )
    p.add_argument("--checkpoint", required=True, help="a checkpoint directory, e.g. runs/x/checkpoint")
    p.add_argument("--data", default=None, help="the data to score against (default: the data the run trained on)")
    p.add_argument("--n", type=int, default=2000, help="samples to score (and real items, at most)")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples and of the real subset")
    p.add_argument("--guide", choices=GUIDES, default=None, help=GUIDE_HELP)
    p.add_argument(
        "--features",
        "--feature-extractor",
        default=None,
        help="feature space of FID, KID and precision/recall: digits, fashion, efficientnet or a TorchScript "
        "model (default: fashion for --data fashion, else digits for 1-channel images, efficientnet for colour)",
    )
    p.add_argument("--out", default=None, help="JSON file (default: metrics.json beside the checkpoint)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(run=evaluate)

    cli_edit.add_parser(commands, formatter)
    cli_translate.add_parser(commands, formatter)
    cli_cycle.add_parser(commands, formatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (RustganError, FileNotFoundError, ValueError, TypeError) as error:
        print(f"rustgan: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rustgan: interrupted", file=sys.stderr)
        return 130


__all__ = ["FLAG_TYPES", "GAN_FLAGS", "NOT_FLAGS", "build_parser", "main", "training_settings"]
