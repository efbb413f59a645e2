"""Executes the notebooks in place at their default settings, so that the repository shows
what they make (`make notebooks`; the longest take tens of minutes on 2 CPU cores). Each
notebook records a digest of the code it ran, by which the tests tell a notebook whose
code changed since from one whose outputs are current.

    .venv/bin/python scripts/execute_notebooks.py [notebooks/02_editing.ipynb ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
DIGEST_KEY = "executed_code_sha256"


def code_digest(notebook) -> str:
    """SHA-256 of the notebook's code cells, in order."""
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps would change every run
    notebook.metadata.setdefault("rustgan", {})[DIGEST_KEY] = code_digest(notebook)
    nbformat.write(notebook, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=sorted((ROOT / "notebooks").glob("*.ipynb")))
    args = parser.parse_args()
    for name in [name for name in os.environ if name.startswith("RUSTGAN_NOTEBOOK_")]:
        del os.environ[name]  # the notebooks' own defaults, not a test's small settings
    for path in args.paths:
        started = time.perf_counter()
        execute(path)
        print(f"executed {path} ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
