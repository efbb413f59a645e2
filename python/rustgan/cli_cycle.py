"""`rustgan train-cycle`: CycleGAN between two unpaired sets (built-in names or image
folders), writing a checkpoint and grids of held-out translations both ways; and the
CycleGAN half of `rustgan translate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from . import distributed, plot
from .cli_common import (
    BUILTIN_DATA,
    RUN_FILE,
    add_option_flags,
    default_text,
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
from .cycle import DOMAINS, OPTIONS, CycleGAN
from .errors import InvalidArgumentError

SHOWN = 10  # held-out examples of each domain in the grid
RUN_OUTPUTS = ("checkpoint", "translations.png", "loss.png", "log.jsonl", RUN_FILE)
# About 10 minutes on 2 CPU cores at 28-32 px, the budget of the table in benches/README.md.
DEFAULT_STEPS = 3000
# Options of the CycleGAN that `train-cycle` takes no flag for, and where their values come from.
NOT_FLAGS = {
    "shape_a": "the images of --data-a (--image-size, --channels for folders)",
    "shape_b": "the images of --data-b, resized to a's size",
}
# Flags of `train-cycle` that set options of the CycleGAN: flag destination -> options it
# sets. One flag per option of the native table, beside `--lr`, which sets both rates.
CYCLE_FLAGS = option_flags(OPTIONS, NOT_FLAGS, extra={"lr": ("lr_g", "lr_d")})


def is_cycle_checkpoint(checkpoint) -> bool:
    """Whether `checkpoint` holds a CycleGAN (its config names two domains)."""
    try:
        return "shape_a" in json.loads((Path(checkpoint) / "config.json").read_text())
    except (OSError, ValueError):
        return False


def _images(name: str, args) -> torch.Tensor:
    x, _ = load_data(name, args.image_size, args.channels)
    if x.dim() != 4:
        raise InvalidArgumentError(f"CycleGAN translates images, not the points of {name}")
    return x


def _resized(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[2:]) == size:
        return x
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True).clamp(-1, 1)


def _psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """In dB, for images in [-1, 1]."""
    return float(10 * torch.log10(4 / ((x - y) ** 2).mean().clamp_min(1e-12)))


def _grid(cycle: CycleGAN, a: torch.Tensor, b: torch.Tensor, path: Path) -> None:
    """Rows: images of a, their translations to b, images of b, their translations to a.
    Grey rows are shown in colour beside colour ones."""
    rows = [a, cycle.translate(a, to="b"), b, cycle.translate(b, to="a")]
    channels = max(row.shape[1] for row in rows)
    rows = [row.expand(-1, channels, -1, -1) for row in rows]
    plot.grid(torch.cat(rows), nrow=len(a), path=path, title="a, a→b, b, b→a (held out)")


def _identity_for(a: torch.Tensor, b: torch.Tensor, options: dict) -> dict:
    """The identity loss `train-cycle` uses: none between domains of other channel counts,
    which it cannot compare, and none between colour domains unless --identity-weight
    asks, since it holds a's colours against b's (photographs to paintings in 30
    CPU-minutes: SWD to held-out painting crops 0.54 of the inputs' without it, 0.69 with
    it; benches/README.md)."""
    if options.get("identity_weight", OPTIONS["identity_weight"].default) == 0:
        return options
    if a.shape[1] != b.shape[1]:
        why = "the domains' channel counts differ: no identity loss"
    elif a.shape[1] == 3 and "identity_weight" not in options:
        why = "colour domains: no identity loss, which would hold a's colours against b's (--identity-weight sets one)"
    else:
        return options
    print(why, file=sys.stderr)
    return options | {"identity_weight": 0.0}


def _cycle_help(name: str, doc: str) -> str:
    """`doc` with the default `train-cycle` gives option `name` (see `_identity_for`)."""
    if name == "identity_weight":
        return f"{doc} (default: {default_text(OPTIONS[name].default)} between grey domains, 0 otherwise)"
    return f"{doc} (default: {default_text(OPTIONS[name].default)})"


def train(args) -> int:
    a, b = _images(args.data_a, args), _images(args.data_b, args)
    if a.shape[2:] != b.shape[2:]:
        print(f"resizing {args.data_b} from {tuple(b.shape[2:])} to {tuple(a.shape[2:])} px", file=sys.stderr)
        b = _resized(b, tuple(a.shape[2:]))
    (a_train, a_held), (b_train, b_held) = held_out_split(a), held_out_split(b)
    out = Path(args.out)
    args.device = distributed.init_from_environment(args.device)
    main_process = distributed.is_main_process()
    if main_process:
        prepare_out(args, out, RUN_OUTPUTS)
    options = given_options(args, CYCLE_FLAGS)
    if args.resume:
        cycle = CycleGAN.load(out / "checkpoint", device=args.device)
        refuse_conflicts(resume_conflicts(args, OPTIONS, CYCLE_FLAGS, cycle.config))
    else:
        options = _identity_for(a, b, options)
        cycle = CycleGAN(a.shape[1:], b.shape[1:], device=args.device, **options)
    if main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_FILE).write_text(json.dumps({"data_a": args.data_a, "data_b": args.data_b}) + "\n")
        print(f"{cycle} on {len(a_train)} images of {args.data_a} and {len(b_train)} of {args.data_b}", file=sys.stderr)
    steps, elapsed = fit_translation(cycle, a_train, b_train, args, out, main_process)
    if not main_process:
        return 0
    grid = out / "translations.png"
    _grid(cycle, a_held[:SHOWN], b_held[:SHOWN], grid)
    round_a = _psnr(cycle.translate(cycle.translate(a_held, to="b"), to="a"), a_held)
    round_b = _psnr(cycle.translate(cycle.translate(b_held, to="a"), to="b"), b_held)
    print(
        f"trained {steps} steps in {elapsed:.0f} s; round trips of held-out images: "
        f"a→b→a {round_a:.1f} dB, b→a→b {round_b:.1f} dB PSNR",
        file=sys.stderr,
    )
    print_written(translation_outputs(out, grid))
    return 0


def translate(args) -> int:
    """`rustgan translate` for a CycleGAN checkpoint: images of the other domain into
    domain --to, as a grid of inputs above outputs."""
    cycle = CycleGAN.load(args.checkpoint, device=args.device)
    to = args.to or "b"
    source = "a" if to == "b" else "b"
    name = args.data
    if name is None:
        try:
            settings = json.loads((Path(args.checkpoint).resolve().parent / RUN_FILE).read_text())
            name = settings[f"data_{source}"]
        except (OSError, ValueError, KeyError):
            raise InvalidArgumentError("no record of the data this checkpoint was trained on: pass --data") from None
    shape = cycle.shape(source)
    x = _resized(load_data(name, shape[1], shape[0])[0], tuple(shape[1:]))
    chosen = torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[: args.n]
    inputs = x[chosen]
    outputs = cycle.translate(inputs, to=to)
    channels = max(inputs.shape[1], outputs.shape[1])
    out = image_path(args.out, "translations.png")
    shown = torch.cat([inputs.expand(-1, channels, -1, -1), outputs.expand(-1, channels, -1, -1)])
    plot.grid(shown, nrow=len(inputs), path=out, title=f"{name} (top) into domain {to}")
    print(out.resolve())
    return 0


def add_parser(commands, formatter) -> None:
    p = commands.add_parser(
        "train-cycle",
        formatter_class=formatter,
        help="train a CycleGAN between two unpaired sets of images",
        description="Train a CycleGAN that translates between two sets of images without pairs; writes a "
        "checkpoint, a grid of held-out translations both ways, a loss plot and a jsonl log.",
    )
    sets = " | ".join(n for n in BUILTIN_DATA if "2d" not in n)
    p.add_argument("--data-a", required=True, help=f"domain a: {sets} | PATH")
    p.add_argument("--data-b", required=True, help=f"domain b: {sets} | PATH (resized to a's size)")
    p.add_argument("--out", default="runs/cycle", help="output directory")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="training steps of this run")
    p.add_argument("--batch-size", type=int, default=32, help="images of each domain per step")
    docs = {"lr": "learning rate of the generators and discriminators"}
    add_option_flags(p, OPTIONS, CYCLE_FLAGS, docs=docs, describe=_cycle_help)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--image-size", type=int, default=64, help="for image folders: side in px (a multiple of 4)")
    p.add_argument("--channels", type=int, default=3, help="for image folders: 1 or 3")
    p.add_argument("--log-every", type=int, default=50, help="steps per record of log.jsonl")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint with its own settings")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in OUT")
    p.set_defaults(run=train)


__all__ = ["CYCLE_FLAGS", "DOMAINS", "NOT_FLAGS", "add_parser", "is_cycle_checkpoint", "translate"]
