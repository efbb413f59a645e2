"""The module graph: no cycles, and no module uses a layer above its own (the layers are
the table in CONTRIBUTING.md)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]

# Rust top-level modules of the core crate, bottom layer first.
RUST_LAYERS = [
    {
        "config",
        "option_table",
        "rng",
        "error",
        "batch",
        "weights",
        "replica",
        "calibration",
        "flat_params",
        "shared_options",
    },
    {"models", "network"},
    {"options"},
    {"losses", "augment", "optim"},
    {"train", "checkpoint"},
    {"gan"},
    {"edit", "guide", "metrics"},
    {"translate"},
    {"cycle"},
    {"python"},
]
# Each model is a folder of its own; the generic trainer and checkpoints know none of them.
MODELS = {"gan", "translate", "cycle"}
GENERIC = {"train", "checkpoint", "models"}
PYTHON_LAYERS = [
    {
        "errors",
        "_checks",
        "shapes",
        "convert",
        "pairs",
        "crops",
        "real_data",
        "painted",
        "data",
        "efficientnet",
        "_rustgan",
    },
    {"distributed", "native"},
    {"gan", "translator", "cycle", "metrics", "edit", "plot", "torch_modules"},
    {"widgets", "zoo"},
    {"cli_common", "cli_edit", "cli_translate", "cli_cycle", "cli", "__main__", "__init__"},
]


def layer_of(layers, module):
    return next(i for i, layer in enumerate(layers) if module in layer)


def rust_graph() -> dict[str, set[str]]:
    graph = {}
    for path in (ROOT / "src").rglob("*.rs"):
        parts = path.relative_to(ROOT / "src").with_suffix("").parts
        module = parts[0]
        if module in ("lib", "main"):
            continue
        uses = set(re.findall(r"crate::(\w+)", path.read_text())) - {module}
        graph.setdefault(module, set()).update(uses)
    return graph


def python_graph() -> dict[str, set[str]]:
    graph = {}
    for path in (ROOT / "python" / "rustgan").glob("*.py"):
        uses = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                uses |= {node.module} if node.module else {alias.name for alias in node.names}
        graph[path.stem] = uses - {path.stem}
    return graph


def assert_acyclic(graph):
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "cycle: " + " -> ".join(trail + [node])
        state[node] = "open"
        for used in sorted(graph.get(node, ())):
            visit(used, trail + [node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


def test_rust_modules_form_layers_without_cycles():
    graph = rust_graph()
    assert set(graph) == set().union(*RUST_LAYERS), "every module sits in a layer"
    assert_acyclic(graph)
    for module, uses in graph.items():
        for used in uses:
            assert layer_of(RUST_LAYERS, used) <= layer_of(RUST_LAYERS, module), f"{module} uses {used}, a layer above"


def test_the_trainer_checkpoints_and_networks_know_no_model():
    graph = rust_graph()
    for module in GENERIC:
        assert not graph[module] & MODELS, f"{module} uses {graph[module] & MODELS}"
    assert "translate" not in graph["cycle"], "CycleGAN stands beside pix2pix, not on it"


def test_python_modules_form_layers_without_cycles():
    graph = python_graph()
    assert set(graph) == set().union(*PYTHON_LAYERS) - {"_rustgan"}
    assert_acyclic(graph)
    for module, uses in graph.items():
        for used in uses:
            assert layer_of(PYTHON_LAYERS, used) <= layer_of(PYTHON_LAYERS, module), (
                f"{module} uses {used}, a layer above"
            )
