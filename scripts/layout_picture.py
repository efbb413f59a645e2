"""Draws docs/gallery/layout.png: the Rust modules in their layers, bottom layer at the
bottom, from the list that tests/test_layout.py enforces. Run after changing the layers."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_layout import GENERIC, MODELS, RUST_LAYERS  # noqa: E402

# What each layer is, as docs/layout.md and CONTRIBUTING.md name it.
LAYER_NAMES = [
    "basics",
    "networks",
    "options",
    "training pieces",
    "trainer and checkpoints",
    "the GAN",
    "tools",
    "pix2pix",
    "CycleGAN",
    "bindings",
]
PER_LINE = 6  # boxes on one line of a row
COLOURS = {"model": "#f6c28b", "generic": "#a9cce3", "other": "#e5e8e8"}


def colour(module: str) -> str:
    if module in MODELS:
        return COLOURS["model"]
    return COLOURS["generic"] if module in GENERIC else COLOURS["other"]


def main(out: Path) -> None:
    assert len(LAYER_NAMES) == len(RUST_LAYERS), "a name for every layer"
    fig, ax = plt.subplots(figsize=(11, 0.62 * len(RUST_LAYERS) + 0.8))
    for row, (name, layer) in enumerate(zip(LAYER_NAMES, RUST_LAYERS)):
        ax.text(-0.2, row, name, ha="right", va="center", fontsize=10, style="italic")
        modules = sorted(layer)
        # A crowded layer takes two lines of boxes within its row.
        lines = [modules] if len(modules) <= PER_LINE else [modules[: len(modules) // 2], modules[len(modules) // 2 :]]
        height = 0.64 / len(lines)
        for line_number, line in enumerate(lines):
            y = row + 0.32 - (line_number + 1) * height
            width = 10 / len(line)
            for i, module in enumerate(line):
                box = plt.Rectangle(
                    (i * width + 0.05, y + 0.02), width - 0.1, height - 0.04, facecolor=colour(module), edgecolor="#555"
                )
                ax.add_patch(box)
                ax.text(
                    i * width + width / 2,
                    y + height / 2,
                    module,
                    ha="center",
                    va="center",
                    fontsize=9,
                    family="monospace",
                )
    for row in range(len(RUST_LAYERS) - 1):
        ax.annotate("", (10.35, row + 0.3), (10.35, row + 0.7), arrowprops=dict(arrowstyle="->", color="#555"))
    ax.text(10.5, (len(RUST_LAYERS) - 1) / 2, "uses only\nlayers below", va="center", fontsize=9)
    legend = [
        plt.Rectangle((0, 0), 1, 1, facecolor=COLOURS["model"], edgecolor="#555", label="a model's own folder"),
        plt.Rectangle((0, 0), 1, 1, facecolor=COLOURS["generic"], edgecolor="#555", label="knows no model"),
    ]
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.45, 0.0), ncol=2, frameon=False)
    ax.set_xlim(-3, 12)
    ax.set_ylim(-0.7, len(RUST_LAYERS) - 0.3)
    ax.axis("off")
    ax.set_title("rustgan's Rust modules (src/), by layer", fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main(ROOT / "docs" / "gallery" / "layout.png")
