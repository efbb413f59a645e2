"""What the subcommands share: the data sets they train on, evaluate and edit (built-in
names or image folders), the record of which one a run used, output paths, and the flags
made from a model's option table."""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import time
from pathlib import Path
from typing import Callable, Mapping

import torch

from . import data, plot
from .errors import InvalidArgumentError
from .gan import GAN
from .zoo import pretrained

BUILTIN_DATA = ("mnist", "fashion", "digits", "shapes", "emoji", "clipart", "ring2d", "grid2d")
SHAPES = dict(n=10_000, size=32)  # `--data shapes`: the set its targets are measured on
MIXTURE_STD = {"ring2d": 0.01, "grid2d": 0.05}  # the loaders' defaults
MIXTURE_POINTS = 100_000  # PacGAN's training set size
RUN_FILE = "run.json"  # beside a run's checkpoint: what it trained on
HELD_OUT = 500  # most items a translation run keeps back, to show and score on


def load_data(name: str, image_size: int, channels: int, labelled: bool = False):
    """The training set for --data (a built-in name or an image folder) and its class
    labels, None where it has none. A folder has labels when `labelled`: one class per
    subfolder."""
    if name == "mnist":
        return data.mnist()
    if name == "fashion":
        return data.fashion_mnist("train")
    if name == "digits":
        return data.digits(size=32)
    if name == "emoji":
        return data.emoji(size=image_size), None
    if name == "clipart":
        return data.clipart(size=image_size)
    if name == "shapes":
        return data.shapes(**SHAPES)
    if name in MIXTURE_STD:
        return getattr(data, name)(MIXTURE_POINTS)[0], None
    if not Path(name).exists():
        close = difflib.get_close_matches(name.lower(), BUILTIN_DATA, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise FileNotFoundError(
            f"data '{name}' not found: neither a built-in set ({', '.join(BUILTIN_DATA)}) nor an image folder or file{hint}"
        )
    if labelled:
        return data.image_folder(name, size=image_size, channels=channels, labels="subfolders")
    return data.image_folder(name, size=image_size, channels=channels), None


def prepare_out(args, out: Path, outputs: tuple[str, ...]) -> None:
    """Refuses to mix a new run into the one in `out` (whose files are `outputs`) unless
    `--resume` continues it or `--overwrite` replaces it; replacing deletes them."""
    existing = [name for name in outputs if (out / name).exists()]
    if args.resume:
        if not (out / "checkpoint").is_dir():
            raise InvalidArgumentError(f"--resume: no checkpoint to continue in {out}")
        return
    if existing and not args.overwrite:
        raise InvalidArgumentError(
            f"{out} already holds a run ({', '.join(existing)}): pass --resume to continue it, "
            "--overwrite to replace it, or another --out"
        )
    for name in existing:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def print_written(paths: list[tuple[str, Path]]) -> None:
    """Prints the paths that exist, and only those."""
    for label, path in paths:
        if path.exists():
            print(f"{label + ':':<14}{path.resolve()}")


def fit_translation(model, items, other, args, out: Path, main_process: bool) -> tuple[int, float]:
    """Trains a translation run's `model` with its flags, checkpointing into
    `out`/checkpoint; the main process appends the log records to `out`/log.jsonl and
    plots them. Returns the steps trained and the seconds they took."""
    started, first_step = time.perf_counter(), model.steps_done
    history = model.fit(
        items,
        other,
        steps=args.steps,
        batch_size=args.batch_size,
        log_every=args.log_every,
        out=out / "checkpoint",
        checkpoint_every=args.checkpoint_every,
    )
    if main_process:
        with open(out / "log.jsonl", "a") as log:
            log.writelines(json.dumps(record) + "\n" for record in history)
        if history:
            plot.history(history, path=out / "loss.png")
    return model.steps_done - first_step, time.perf_counter() - started


def translation_outputs(out: Path, grid: Path) -> list[tuple[str, Path]]:
    """What a translation run writes, labelled for `print_written`."""
    return [
        ("translations", grid),
        ("loss plot", out / "loss.png"),
        ("log", out / "log.jsonl"),
        ("checkpoint", out / "checkpoint"),
    ]


def held_out_split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random split into (training, held-out) items, at most a fifth held out;
    data may come sorted."""
    held = min(HELD_OUT, len(x) // 5)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    return x[order[held:]], x[order[:held]]


def mixture_centers(name: str | None):
    """The modes of a built-in 2D mixture, None for other data."""
    return getattr(data, name)(1)[1] if name in MIXTURE_STD else None


def write_run_file(out: Path, data_name: str) -> None:
    (out / RUN_FILE).write_text(json.dumps({"data": data_name}) + "\n")


def run_data(checkpoint, required: str | None = None) -> str | None:
    """The --data a checkpoint's run trained on (from its run file). Where there is none,
    None, or with `required` (the flag to pass instead) an error naming it."""
    run_file = Path(checkpoint).resolve().parent / RUN_FILE
    try:
        return json.loads(run_file.read_text())["data"]
    except (OSError, ValueError, KeyError, TypeError):
        if required is None:
            return None
        raise InvalidArgumentError(
            f"no record of the data this checkpoint was trained on ({run_file} is missing or unreadable): "
            f"pass {required}"
        ) from None


def add_gan_source(parser: argparse.ArgumentParser) -> None:
    """--checkpoint or --pretrained: the GAN a command reads."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint directory, e.g. runs/x/checkpoint")
    source.add_argument("--pretrained", metavar="NAME", help="a GAN that ships with rustgan: mnist, fashion or shapes")


def load_gan(args):
    """The GAN of --checkpoint or --pretrained."""
    if args.pretrained is not None:
        return pretrained(args.pretrained, device=args.device)
    return GAN.load(args.checkpoint, device=args.device)


def gan_data(args, required: str | None = None) -> str | None:
    """The --data the GAN of --checkpoint or --pretrained trained on: a shipped GAN's is
    the built-in set of its name."""
    if args.pretrained is not None:
        return args.pretrained
    return run_data(args.checkpoint, required)


def image_path(out: str, default_name: str) -> Path:
    """`out` as a PNG path: a directory (existing, or written with a trailing slash) gets
    `default_name` inside it. Creates the parent directory."""
    path = Path(out)
    if path.is_dir() or out.endswith(("/", "\\")):
        path = path / default_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` with each default, except where there is none or the help states it."""

    def _get_help_string(self, action):
        if action.default is None or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


# --- flags from a model's option table -----------------------------------------------
def flag_name(dest: str) -> str:
    """How the command line spells a flag: lr_half_life -> --lr-half-life."""
    return "--" + dest.replace("_", "-")


def pair(text: str) -> list[float]:
    """Two numbers written "A,B" (Adam's betas)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two numbers as A,B, got {text!r}")
    return [float(part) for part in parts]


# How a flag reads each kind of option; the model checks the values.
FLAG_TYPES = {"int": int, "seed": int, "float": float, "optional float": float, "pair": pair, "choices": str}


def option_flags(
    options: Mapping, not_flags: Mapping[str, str], extra: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Flag destination -> the options it sets: one flag per option of a model's table but
    those in `not_flags` (whose values come from elsewhere), then the `extra` flags, each
    setting several options at once."""
    return {name: (name,) for name in options if name not in not_flags} | dict(extra or {})


def default_text(value) -> str:
    """An option's default as `--help` shows it."""
    return "none" if value in (None, ()) else str(value)


def add_option_flags(
    parser: argparse.ArgumentParser,
    options: Mapping,
    flags: Mapping[str, tuple[str, ...]],
    docs: Mapping[str, str] | None = None,
    describe: Callable[[str, str], str] | None = None,
) -> None:
    """A flag for each entry of `flags` (see `option_flags`), typed and with choices from
    the option table `options`. None is each flag's default, so a flag not given leaves
    its options to the model (or a recipe). The help is the option's doc, or `docs[dest]`
    (needed by flags setting several options), passed through `describe(option, doc)`;
    by default the doc and the table's default."""
    if describe is None:

        def describe(name: str, doc: str) -> str:
            return f"{doc} (default: {default_text(options[name].default)})"

    for dest, names in flags.items():
        spec = options[names[0]]
        doc = (docs or {}).get(dest, spec.doc)
        if spec.kind == "choices":
            doc += f": any of {','.join(spec.choices)}"
        kwargs = dict(default=None, help=describe(names[0], doc))
        if spec.kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["type"] = FLAG_TYPES[spec.kind]
        parser.add_argument(flag_name(dest), **kwargs)


def given_options(args, flags: Mapping[str, tuple[str, ...]]) -> dict:
    """The options set by the flags of `flags` given on the command line; in the order of
    `flags`, so a later flag overrides an earlier one (--lr over --lr-g)."""
    options = {}
    for dest, names in flags.items():
        value = getattr(args, dest)
        if value is not None:
            options.update(dict.fromkeys(names, value))
    return options


def resume_conflicts(args, options: Mapping, flags: Mapping[str, tuple[str, ...]], config: Mapping) -> list[str]:
    """Flags of `flags` given with --resume whose values differ from the checkpoint's
    `config`, each with the checkpoint's values."""
    conflicts = []
    for dest, names in flags.items():
        value = getattr(args, dest)
        if value is None:
            continue
        multiple = options[names[0]].kind == "choices"
        wanted = [part.strip() for part in value.split(",") if part.strip()] if multiple else value
        if any(config[name] != wanted for name in names):
            stored = ", ".join(f"{name}={config[name]!r}" for name in names)
            conflicts.append(f"{flag_name(dest)} {value} (checkpoint: {stored})")
    return conflicts


def refuse_conflicts(conflicts: list[str]) -> None:
    """Raises unless `conflicts` (from `resume_conflicts`) is empty."""
    if conflicts:
        raise InvalidArgumentError(
            "--resume continues the checkpoint with its own settings, but these flags differ from them: "
            + "; ".join(conflicts)
            + ". Drop them, or start a new run with --overwrite"
        )
