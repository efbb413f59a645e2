"""Numbers the docs quote from bench results. Each reference in
benches/results/quoted.json names a page, the one line of it that quotes the number, a
results file a bench wrote (`--out`) and the value's key; the line must show the value as
the reference formats it. A bench re-run that moves a number fails here until the page
quotes the new one.

Numbers without a results file of their own are still checked: every measurement the README
and docs/ show must appear in benches/README.md, where the bench that gave it is recorded."""

import json
import re
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


def shown(value, reference: dict) -> str:
    """`value` as the page writes it: one number, a list joined by `join`, or with
    ``"summary": "range"`` the list's lowest and highest as "low-high"."""
    form = reference["format"]
    if not isinstance(value, list):
        return form.format(value)
    if reference.get("summary") == "range":
        return f"{form.format(min(value))}-{form.format(max(value))}"
    return reference.get("join", " | ").join(form.format(v) for v in value)


def expected_text(reference: dict) -> str:
    value = lookup(json.loads((RESULTS / reference["source"]).read_text()), reference["key"])
    if "select" in reference:  # the items of a list the page quotes, by index
        value = [value[i] for i in reference["select"]]
    return shown(value, reference)


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: f"{r['page']}: {r['source']} {r['key']}")
def test_a_quoted_number_is_its_source(reference):
    lines = [line for line in (ROOT / reference["page"]).read_text().splitlines() if reference["line"] in line]
    assert len(lines) == 1, f"{len(lines)} lines of {reference['page']} hold {reference['line']!r}"
    expected = expected_text(reference)
    assert expected in lines[0], f"{reference['page']} quotes something else than {expected}: {lines[0]}"


def test_every_results_file_is_quoted():
    quoted = {reference["source"] for reference in REFERENCES}
    assert quoted == {path.name for path in RESULTS.glob("*.json")} - {"quoted.json"}


# A measurement as pages write one: a decimal, a percentage or a count with thousands
# separators. Plain integers are left out; they are mostly settings (steps, sizes, seeds).
MEASUREMENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?%|\d+\.\d+|\d{1,3}(?:,\d{3})+)(?![\d.,]\d)")
INLINE_CODE = re.compile(r"`[^`]*`")  # settings and calls, not measurements
# Numbers on the pages that are facts rather than results, so no bench records them.
NOT_MEASURED = {
    "3.10": "the oldest Python the package supports",
    "2.13": "the torch release the package builds against",
    "1,280": "the width of EfficientNet-Lite0's pooled features",
    "8,121": "the number of drawings the clipart package ships",
    "500,000": "ADA's adjustment speed, in images",
}


def prose(page: Path):
    """(line number, line) of `page` outside its code blocks."""
    in_code = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code:
            yield number, line


def test_every_measurement_the_docs_show_is_recorded_by_a_bench():
    record = (ROOT / "benches" / "README.md").read_text() + "\n".join(map(expected_text, REFERENCES))
    # A table may keep the % in its header, so a percentage counts as its number.
    recorded = {value.rstrip("%") for value in MEASUREMENT.findall(record)} | set(NOT_MEASURED)
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    unrecorded = [
        f"{page.relative_to(ROOT)}:{number}: {value}"
        for page in pages
        for number, line in prose(page)
        for value in MEASUREMENT.findall(INLINE_CODE.sub("", line))
        if value.rstrip("%") not in recorded
    ]
    assert not unrecorded, "numbers benches/README.md does not record:\n" + "\n".join(unrecorded)
