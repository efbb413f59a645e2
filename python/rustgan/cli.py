"""The `rustgan` command line: `rustgan train | sample | evaluate | edit ...`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from . import cli_edit, data, distributed, plot
from .errors import InvalidArgumentError, RustganError
from .gan import GAN, LOSSES, PRECISIONS

BUILTIN_DATA = ("mnist", "digits", "ring2d", "grid2d")
MIXTURE_STD = {"ring2d": 0.01, "grid2d": 0.05}  # the loaders' defaults
FIXED_NOISE_SEED = 1234  # the same latents for every sample grid of a run


def load_data(name: str, image_size: int, channels: int):
    """The training set for --data (a built-in name or an image folder) and its class
    labels, None where it has none."""
    if name == "mnist":
        return data.mnist()
    if name == "digits":
        return data.digits(size=32)
    if name == "ring2d":
        return data.ring2d()[0], None
    if name == "grid2d":
        return data.grid2d()[0], None
    return data.image_folder(name, size=image_size, channels=channels), None


def save_samples(gan: GAN, path: Path, n: int = 64) -> None:
    if gan.num_classes:
        n = 8 * gan.num_classes  # classes in turn: one column per class
    samples = gan.sample(n if len(gan.data_shape) == 3 else 2500, seed=FIXED_NOISE_SEED)
    if len(gan.data_shape) == 3:
        plot.grid(samples, path=path, nrow=gan.num_classes or None, title=f"step {gan.steps_done}")
    else:
        plot.scatter2d(samples, path=path, title=f"step {gan.steps_done}")


def train(args) -> int:
    x, labels = load_data(args.data, args.image_size, args.channels)
    if args.conditional and labels is None:
        raise InvalidArgumentError(f"--conditional needs labelled data (mnist or digits), not {args.data}")
    out = Path(args.out)
    args.device = distributed.init_from_environment(args.device)
    main_process = distributed.is_main_process()  # the one that reports and writes
    is_image = x.dim() == 4
    if args.resume:
        gan = GAN.load(out / "checkpoint", device=args.device)
    else:
        gan = GAN(
            data_shape=tuple(x.shape[1:]),
            arch="dcgan" if is_image else "mlp",
            latent_dim=args.latent_dim,
            loss=args.loss,
            base_channels=args.base_channels,
            lr_g=args.lr,
            lr_d=args.lr,
            ema=args.ema,
            pac=args.pac,
            spectral_norm=args.spectral_norm,
            r1_gamma=args.r1_gamma,
            r1_every=args.r1_every,
            augment=args.augment,
            num_classes=int(labels.max()) + 1 if args.conditional else 0,
            precision=args.precision,
            seed=args.seed,
            device=args.device,
        )
    labels = labels if gan.num_classes else None
    world_size = distributed.world()[1]
    if main_process:
        (out / "samples").mkdir(parents=True, exist_ok=True)
        processes = f" in {world_size} processes" if world_size > 1 else ""
        print(f"{gan} on {len(x)} items from {args.data}{processes}", file=sys.stderr)
    sample_every = args.sample_every or max(1, args.steps // 5)
    history = []
    started = time.perf_counter()
    with tqdm(total=args.steps, desc="training", unit="step", dynamic_ncols=True, disable=not main_process) as bar:
        done = 0
        while done < args.steps:
            chunk = min(sample_every, args.steps - done)
            before = gan.steps_done
            # Saving the checkpoint with every chunk: a kill loses at most one; --resume continues.
            records = gan.fit(
                x, chunk, args.batch_size, labels=labels, log_every=args.log_every, progress=bar, out=out / "checkpoint"
            )
            done += gan.steps_done - before
            history += records
            if main_process:
                with open(out / "log.jsonl", "a") as log:
                    log.writelines(json.dumps(record) + "\n" for record in records)
                save_samples(gan, out / "samples" / f"step_{gan.steps_done:06d}.png")
            if gan.steps_done - before < chunk:  # interrupted by Ctrl-C
                break
    if not main_process:
        return 0
    elapsed = time.perf_counter() - started
    final = out / "samples.png"
    save_samples(gan, final)
    if history:
        plot.history(history, path=out / "loss.png")
    print(f"trained {gan.steps_done} steps in {elapsed:.0f} s", file=sys.stderr)
    print(f"samples:    {final.resolve()}")
    print(f"loss plot:  {(out / 'loss.png').resolve()}")
    print(f"log:        {(out / 'log.jsonl').resolve()}")
    print(f"checkpoint: {(out / 'checkpoint').resolve()}")
    return 0


def sample(args) -> int:
    gan = GAN.load(args.checkpoint, device=args.device)
    images = gan.sample(args.n, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(gan.data_shape) == 3:
        plot.grid(images, path=out)
    else:
        plot.scatter2d(images, path=out)
    print(out.resolve())
    return 0


def evaluate(args) -> int:
    gan = GAN.load(args.checkpoint, device=args.device)
    shape = gan.data_shape
    options = {"feature_extractor": args.feature_extractor}
    if args.data in MIXTURE_STD:
        x, options["centers"] = getattr(data, args.data)()
        options["std"] = MIXTURE_STD[args.data]
    else:
        x = load_data(args.data, shape[-1], shape[0])[0]
    scores = gan.evaluate(x, n=args.n, seed=args.seed, **options)
    print(f"{gan} against {args.data}")
    for name, value in scores.items():
        shown = ", ".join(f"{v:.2f}" for v in value) if isinstance(value, list) else f"{value:.4g}"
        print(f"  {name:<16} {shown}")
    out = Path(args.out) if args.out else Path(args.checkpoint).resolve().parent / "metrics.json"
    out.write_text(json.dumps(scores, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rustgan", description="Train GANs and sample from them.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train a GAN; writes a checkpoint, sample grids, a loss plot and a jsonl log")
    p.add_argument("--data", default="mnist", help=f"{' | '.join(BUILTIN_DATA)} | PATH to an image folder")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--out", default="runs/train", help="output directory")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--loss", choices=LOSSES, default="bce")
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--base-channels", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--ema", type=float, default=None, help="EMA decay of G, e.g. 0.999")
    p.add_argument("--pac", type=int, default=1, help="PacGAN: D judges this many samples at once")
    p.add_argument("--spectral-norm", action="store_true", help="spectrally normalised D")
    p.add_argument("--r1-gamma", type=float, default=0.0, help="R1 penalty weight (0: off)")
    p.add_argument("--r1-every", type=int, default=1, help="lazy R1: apply it every N steps")
    p.add_argument("--augment", default="", help="DiffAugment policy, e.g. translation,cutout,color")
    p.add_argument("--conditional", action="store_true", help="class-conditional GAN on the data's labels")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="bf16: mixed-precision convolutions and matmuls")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--image-size", type=int, default=64, help="for image folders: 28, 32 or 64")
    p.add_argument("--channels", type=int, default=3, help="for image folders: 1 or 3")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--sample-every", type=int, default=None, help="steps between sample grids and checkpoints (default steps/5)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.set_defaults(run=train)

    p = commands.add_parser("sample", help="draw samples from a checkpoint into a PNG")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="samples.png")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=sample)

    p = commands.add_parser("evaluate", help="score a checkpoint against data: FID, KID, precision/recall, SWD, modes")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", default="mnist", help=f"{' | '.join(BUILTIN_DATA)} | PATH to an image folder")
    p.add_argument("--n", type=int, default=2000, help="samples to score (and real items, at most)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--feature-extractor", default=None, help="TorchScript model whose outputs replace the digit features")
    p.add_argument("--out", default=None, help="JSON file (default: metrics.json beside the checkpoint)")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=evaluate)

    cli_edit.add_parser(commands)
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
