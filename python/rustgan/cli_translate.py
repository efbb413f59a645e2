"""`rustgan train-translate` and `rustgan translate`: pix2pix on paired tasks built from
a data set (completion, 4x super-resolution, edges to image), writing PNG grids;
`translate` hands CycleGAN checkpoints to `cli_cycle`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from . import cli_cycle, distributed, edit, plot
from .cli_common import (
    BUILTIN_DATA,
    RUN_FILE,
    add_option_flags,
    fit_translation,
    given_options,
    held_out_split,
    image_path,
    load_data,
    option_flags,
    prepare_out,
    print_written,
    refuse_conflicts,
    resume_conflicts,
    translation_outputs,
)
from .data import pairs
from .errors import InvalidArgumentError
from .pairs import MASKS, TASKS
from .translator import OPTIONS, Translator

SHOWN = 12  # held-out examples in each grid
RUN_OUTPUTS = ("checkpoint", "translations.png", "loss.png", "log.jsonl", RUN_FILE)
# What a run trains for unless told otherwise: about 6 minutes on 2 CPU cores at 28 px,
# the setting of the table in benches/README.md.
DEFAULT_STEPS = 2500
# Options of the Translator that `train-translate` takes no flag for, and where their values come from.
NOT_FLAGS = {
    "in_shape": "--task's inputs, made from the data (--data, --image-size, --channels)",
    "out_shape": "the data (--data, --image-size, --channels)",
}
# Flags of `train-translate` that set options of the Translator: flag destination -> options
# it sets. One flag per option of the native table, beside `--lr`, which sets both rates.
TRANSLATOR_FLAGS = option_flags(OPTIONS, NOT_FLAGS, extra={"lr": ("lr_g", "lr_d")})


def _grid(translator: Translator, task: str, images: torch.Tensor, mask: str, path: Path, title: str) -> None:
    """Rows of inputs, outputs and the truth (the images) at `path`."""
    inputs, truth = pairs(images, task, mask=mask)
    if task == "complete":
        outputs = edit.complete(translator, images, mask).images
        shown_inputs = inputs[:, :-1]  # hidden pixels grey
    else:
        outputs = translator.translate(inputs)
        shown_inputs = inputs.expand_as(truth) if inputs.shape[1] == 1 else inputs
    plot.grid(torch.cat([shown_inputs, outputs, truth]), nrow=len(images), path=path, title=title)


def train(args) -> int:
    x, _ = load_data(args.data, args.image_size, args.channels)
    if x.dim() != 4:
        raise InvalidArgumentError(f"translation works on images, not on {args.data}")
    train_images, held_out = held_out_split(x)
    options = given_options(args, TRANSLATOR_FLAGS)
    # --seed also draws the boxes of --mask box.
    inputs, targets = pairs(train_images, args.task, mask=args.mask, seed=options.get("seed", OPTIONS["seed"].default))
    out = Path(args.out)
    args.device = distributed.init_from_environment(args.device)
    main_process = distributed.is_main_process()
    if main_process:
        prepare_out(args, out, RUN_OUTPUTS)
    if args.resume:
        translator = Translator.load(out / "checkpoint", device=args.device)
        refuse_conflicts(resume_conflicts(args, OPTIONS, TRANSLATOR_FLAGS, translator.config))
    else:
        translator = Translator(inputs.shape[1:], targets.shape[1:], device=args.device, **options)
    if main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_FILE).write_text(json.dumps({"data": args.data, "task": args.task, "mask": args.mask}) + "\n")
        print(f"{translator} on {len(inputs)} {args.task} pairs from {args.data}", file=sys.stderr)
    steps, elapsed = fit_translation(translator, inputs, targets, args, out, main_process)
    if not main_process:
        return 0
    grid = out / "translations.png"
    _grid(translator, args.task, held_out[:SHOWN], args.mask, grid, f"{args.task}: input, output, truth (held out)")
    test_inputs, truth = pairs(held_out, args.task, mask=args.mask)
    error = (translator.translate(test_inputs) - truth).abs().mean().item()
    print(
        f"trained {steps} steps in {elapsed:.0f} s; mean absolute error on {len(held_out)} held-out items: {error:.3f}",
        file=sys.stderr,
    )
    print_written(translation_outputs(out, grid))
    return 0


def _run_settings(checkpoint: str) -> dict:
    try:
        return json.loads((Path(checkpoint).resolve().parent / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}


def translate(args) -> int:
    if cli_cycle.is_cycle_checkpoint(args.checkpoint):
        return cli_cycle.translate(args)
    if args.to is not None:
        raise InvalidArgumentError("--to picks a CycleGAN's direction; this checkpoint is a pix2pix translator")
    translator = Translator.load(args.checkpoint, device=args.device)
    settings = _run_settings(args.checkpoint)
    task = args.task or settings.get("task")
    if task is None:
        raise InvalidArgumentError(f"no record of the task {args.checkpoint} was trained for: pass --task")
    name = args.data or settings.get("data")
    if name is None:
        raise InvalidArgumentError("no record of the data this checkpoint was trained on: pass --data")
    channels, size = translator.out_shape[0], translator.out_shape[1]
    x, _ = load_data(name, size, channels)
    chosen = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[: args.n]
    mask = args.mask or settings.get("mask", "lower")
    out = image_path(args.out, "translations.png")
    _grid(translator, task, x[chosen], mask, out, f"{task}: input, output, original")
    print(out.resolve())
    return 0


def add_parser(commands, formatter) -> None:
    p = commands.add_parser(
        "train-translate",
        formatter_class=formatter,
        help="train a pix2pix translator for completion, super-resolution or edges to image",
        description="Train a pix2pix Translator on pairs made from a data set; writes a checkpoint, a grid of "
        "held-out inputs, outputs and truth, a loss plot and a jsonl log.",
    )
    p.add_argument("--task", choices=TASKS, default="complete", help="the paired task (rustgan.data.pairs)")
    p.add_argument("--data", default="mnist", help=f"{' | '.join(n for n in BUILTIN_DATA if '2d' not in n)} | PATH")
    p.add_argument("--mask", choices=MASKS, default="lower", help="the hidden region of --task complete")
    p.add_argument("--out", default="runs/translate", help="output directory")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps of this run")
    p.add_argument("--batch-size", type=int, default=64, help="pairs per step")
    docs = {"lr": "learning rate of G and D", "seed": OPTIONS["seed"].doc + "; with --mask box, the boxes too"}
    add_option_flags(p, OPTIONS, TRANSLATOR_FLAGS, docs=docs)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--image-size", type=int, default=64, help="for image folders: side in px (a multiple of 4)")
    p.add_argument("--channels", type=int, default=3, help="for image folders: 1 or 3")
    p.add_argument("--log-every", type=int, default=50, help="steps per record of log.jsonl")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint with its own settings")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in OUT")
    p.set_defaults(run=train)

    p = commands.add_parser(
        "translate",
        formatter_class=formatter,
        help="translate images with a trained translator or CycleGAN into a PNG grid",
        description="pix2pix: make the inputs of the translator's task from images, translate them, and write a "
        "grid of inputs, outputs and originals. CycleGAN: translate images of one domain into the other (--to).",
    )
    p.add_argument(
        "--checkpoint", required=True, help="a translator or CycleGAN checkpoint, e.g. runs/translate/checkpoint"
    )
    p.add_argument(
        "--to", choices=cli_cycle.DOMAINS, default=None, help="CycleGAN: the domain to translate into (default: b)"
    )
    p.add_argument("--data", default=None, help="images to translate (default: the data the run trained on)")
    p.add_argument("--task", choices=TASKS, default=None, help="default: the task the run trained for")
    p.add_argument("--mask", choices=MASKS, default=None, help="for completion (default: the run's)")
    p.add_argument("--n", type=int, default=SHOWN, help="images to translate")
    p.add_argument("--seed", type=int, default=0, help="which images: a seeded random choice")
    p.add_argument("--out", default="translations.png", help="PNG file, or a directory to write it into")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.set_defaults(run=translate)
