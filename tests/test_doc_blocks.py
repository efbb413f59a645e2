"""Every Python block of the README and of docs/ runs as pasted. The blocks of a page run
in order in one namespace, so a block may use what an earlier block of its page made;
training, projection, inpainting and evaluation are cut short, so that a page takes
seconds instead of minutes, on a tenth of MNIST 5k (and shapes for clipart). A block that raises fails the test, naming its page and line."""

import functools
import inspect
import re
import socket
from pathlib import Path

import pytest
import rustgan
import torch
from rustgan import edit, metrics
from rustgan.native import NativeModel

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[tuple[int, str]]:
    """The Python blocks of `page`, each with the line it starts on."""
    text = page.read_text()
    return [(text.count("\n", 0, match.start()) + 2, match.group(1)) for match in BLOCK.finditer(text)]


def capped(function, **caps):
    """`function` with each argument named in `caps` at most its cap, however it is given
    (a `None` becomes the cap)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, cap in caps.items():
            given = bound.arguments[name]
            bound.arguments[name] = cap if given is None else min(given, cap)
        return function(*bound.args, **bound.kwargs)

    return call


@pytest.fixture
def short_runs(monkeypatch, tmp_path):
    """Files the blocks write go to `tmp_path`; long calls run a few steps; torchrun's
    environment is that of one process."""
    monkeypatch.chdir(tmp_path)
    original_fit = NativeModel._fit

    def short_fit(self, items, other, steps, batch_size, **kwargs):
        return original_fit(self, items, other, min(steps, 3), min(batch_size, 16), **kwargs)

    monkeypatch.setattr(NativeModel, "_fit", short_fit)
    # A seeded tenth of MNIST 5k, every class in it: clustering and scoring take seconds.
    digits, labels = rustgan.data.mnist()
    tenth = torch.randperm(len(digits), generator=torch.Generator().manual_seed(0))[:500]
    monkeypatch.setattr(rustgan.data, "mnist", lambda: (digits[tenth], labels[tenth]))
    # Clipart's 8,118 drawings take minutes to decode (`data.clipart` has tests of its own):
    # the blocks get 500 labelled shapes of the size they ask for.
    monkeypatch.setattr(rustgan.data, "clipart", lambda size=64, **_: rustgan.data.shapes(500, size))
    monkeypatch.setattr(metrics, "gan_train_test", capped(metrics.gan_train_test, epochs=1))
    monkeypatch.setattr(edit, "boundary", capped(edit.boundary, n=200))
    monkeypatch.setattr(edit, "project", capped(edit.project, steps=3, restarts=2))
    monkeypatch.setattr(edit, "inpaint", capped(edit.inpaint, steps=3, restarts=2, samples=2, candidates=50))
    monkeypatch.setattr(metrics, "evaluate", capped(metrics.evaluate, n=64))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name, value in dict(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)).items():
        monkeypatch.setenv(name, value)
    yield
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_every_block_of_a_page_runs(page, short_runs):
    namespace = {"__name__": "__main__"}
    for line, code in blocks(page):
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"the block at {page.relative_to(ROOT)}:{line} fails: {error!r}") from error


def test_the_blocks_are_found():
    found = {page.name: len(blocks(page)) for page in PAGES}
    assert found["README.md"] >= 1 and found["training.md"] >= 3 and found["editing.md"] >= 1, found
    assert rustgan.__doc__ and "recipe" in rustgan.__doc__, "the package docstring starts from the recipe"
