"""Numbers the docs quote from bench results. Each reference in
benches/results/quoted.json names a page, the one line of it that quotes the number, a
results file a bench wrote (`--out`) and the value's key; the line must show the value as
the reference formats it. A bench re-run that moves a number fails here until the page
quotes the new one."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benches" / "results"
REFERENCES = json.loads((RESULTS / "quoted.json").read_text())


def lookup(value, key: list):
    """`value` at `key`, a path of names and indices; ``"*"`` maps the rest over a list."""
    for i, part in enumerate(key):
        if part == "*":
            return [lookup(item, key[i + 1 :]) for item in value]
        value = value[part]
    return value


def shown(value, form: str) -> str:
    return " | ".join(form.format(v) for v in value) if isinstance(value, list) else form.format(value)


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: f"{r['page']}: {r['source']} {r['key']}")
def test_a_quoted_number_is_its_source(reference):
    lines = [line for line in (ROOT / reference["page"]).read_text().splitlines() if reference["line"] in line]
    assert len(lines) == 1, f"{len(lines)} lines of {reference['page']} hold {reference['line']!r}"
    expected = shown(
        lookup(json.loads((RESULTS / reference["source"]).read_text()), reference["key"]), reference["format"]
    )
    assert expected in lines[0], f"{reference['page']} quotes something else than {expected}: {lines[0]}"


def test_every_results_file_is_quoted():
    quoted = {reference["source"] for reference in REFERENCES}
    assert quoted == {path.name for path in RESULTS.glob("*.json")} - {"quoted.json"}
