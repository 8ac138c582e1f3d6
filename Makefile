# Two commands do everything on a fresh machine: `make run` and `make test`.
# Each creates .venv when it is missing and installs the package into it first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# One BLAS thread: the estimator's matrix path is steadier, and it leaves the other core to audio.
export OPENBLAS_NUM_THREADS := 1
export PYO_GUI_WX := 0

.PHONY: run test setup system-deps bench clean

run: setup
	$(VENV)/bin/neurofeed record --board synthetic --duration 10 --out recordings/synthetic-$$(date +%Y%m%d-%H%M%S).fif

test: setup system-deps
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/bench_acquire.py

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# System packages the tests need (JACK's dummy driver for a real-time audio clock).
system-deps:
	@scripts/install-system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
