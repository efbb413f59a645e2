"""The .pyi stubs describe the native module as it is."""

import ast
from pathlib import Path

from rustgan import _rustgan

STUBS = Path(_rustgan.__file__).parent / "_rustgan.pyi"


def stub_names():
    tree = ast.parse(STUBS.read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    nodes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def methods(node: ast.ClassDef) -> set[str]:
        inherited = set().union(*(methods(nodes[b.id]) for b in node.bases if b.id in nodes))
        return inherited | {m.name for m in node.body if isinstance(m, ast.FunctionDef)}

    classes = {name: methods(node) for name, node in nodes.items() if not name.startswith("_")}
    return functions, classes


def test_stubs_match_module():
    functions, classes = stub_names()
    public = {name for name in dir(_rustgan) if not name.startswith("_")}
    assert public == functions | set(classes) | {"NAN_POLICIES", "GUIDES"}
    for name, methods in classes.items():
        if name.endswith("Error"):
            continue  # exception classes: their methods are Exception's
        actual = {m for m in dir(getattr(_rustgan, name)) if not m.startswith("_")}
        assert actual == methods - {"__init__"}, name
