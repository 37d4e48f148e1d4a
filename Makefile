# imagevars: `make demo` and `make test` work on a fresh machine (Python 3.10+ and pip).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

# Data shipped beside the repository on the project's machines (MNIST); elsewhere it downloads.
SHARED := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED)/mnist),)
export IMAGEVARS_DATA ?= $(SHARED)
endif
export IMAGEVARS_THREADS ?= 2

.PHONY: setup browser slurm demo test lint typecheck wheel-check bench bench-tests bench-keras clean

$(STAMP): pyproject.toml constraints.txt
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt "torch==2.13.0"   # the CPU build first, so nothing pulls CUDA
	$(PIP) install -c constraints.txt -e ".[all,dev]"
	touch $@

setup: $(STAMP)

demo: setup
	$(BIN)/imagevars demo

# The coding page's test drives a real headless Chromium (Debian's chromium and chromium-driver).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "note: install chromium and chromium-driver (apt-get) for the coding page's test"

# The Slurm tests start a one-node cluster (munged, slurmctld, slurmd on 127.0.0.1) from Debian's slurm-wlm.
slurm:
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm >/dev/null; } || \
	  echo "note: install slurm-wlm (apt-get) for the Slurm job's end-to-end test"

test: setup browser slurm
	$(BIN)/python -m pytest

# ruff's lint and format checks (rules in pyproject.toml), and mypy on the public API.
lint: setup typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

PUBLIC_API := src/imagevars/__init__.py src/imagevars/io/table.py src/imagevars/models/card.py \
  src/imagevars/models/registry.py src/imagevars/pipeline/runner.py src/imagevars/tasks/__init__.py \
  src/imagevars/tasks/base.py src/imagevars/_env.py
typecheck: setup
	$(BIN)/mypy $(PUBLIC_API)

# The release files: sdist and wheel built in a clean folder, checked by twine, and the wheel installed
# into a fresh venv of each Python in WHEEL_PYTHONS and used there (tools/wheel_smoke.py). Python 3.10
# resolves its own versions from the wheel's ranges (the pins need 3.11: numpy 2.4, pandas 3).
WHEEL_PYTHONS ?= 3.10 3.11 3.12 3.13
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
wheel-check: setup
	rm -rf dist && $(BIN)/python -m build -q -o dist . >/dev/null
	$(BIN)/twine check --strict dist/*
	@for v in $(WHEEL_PYTHONS); do \
	  py=$$(ls $(PYENV_ROOT)/versions/$$v.*/bin/python$$v 2>/dev/null | tail -1); py=$${py:-$$(command -v python$$v)}; \
	  [ -n "$$py" ] || { echo "python$$v not found: install it, or set WHEEL_PYTHONS"; exit 1; }; \
	  pins=$$([ "$$v" = 3.10 ] || echo "--constraints constraints.txt"); \
	  echo "== wheel on Python $$v ($$py)"; \
	  $(BIN)/python tools/wheel_smoke.py dist/imagevars-*.whl --python $$py $$pins || exit 1; \
	done

# Slow tests (full training runs against the figures the issues set).
bench-tests: setup
	$(BIN)/python -m pytest -m slow -p no:cacheprovider -o addopts="--import-mode=importlib"

# Side-by-side with the lecture's Keras code; TensorFlow lives in its own environment.
.venv-bench-tf/bin/python:
	$(PYTHON) -m venv .venv-bench-tf
	.venv-bench-tf/bin/python -m pip -q install "tensorflow-cpu==2.21.0" "numpy==2.4.6"

bench-keras: setup .venv-bench-tf/bin/python
	$(BIN)/python bench/lecture_epoch.py --keras-python .venv-bench-tf/bin/python --rounds 3

bench: setup
	$(BIN)/python bench/mnist.py bundled
	$(BIN)/python bench/mnist.py fast --seeds 5
	$(BIN)/python bench/mnist.py lecture

clean:
	rm -rf $(VENV) .venv-bench-tf runs imagevars-demo .pytest_cache dist build
