# Two commands do everything on a fresh machine: `make run` and `make test`.
# Each creates .venv when it is missing and installs the package into it first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# One BLAS thread: the estimator's matrix path is steadier, and it leaves the other core to audio.
export OPENBLAS_NUM_THREADS := 1
export PYO_GUI_WX := 0

.PHONY: run test setup system-deps bench clean verify verify-faults verify-music verify-playlist

# Inside the repository the data home is its recordings/ folder; the installed tool keeps
# sessions in a per-user data folder instead (neurofeed/home.py).
run test verify-music verify-playlist: export NEUROFEED_HOME := $(CURDIR)/recordings

# A 60 s relax-alpha session on BrainFlow's synthetic board: music to the sound card (or JACK)
# where there is one, else rendered to a WAV in the session folder; then the report.
# The synthetic board sends sines, not EEG (the status line says so): the hint after it
# names the simulated listener, whose alpha answers the music.
run: setup
	$(VENV)/bin/neurofeed run --preset relax-alpha --board synthetic --duration 60 --baseline 20s
	@echo "make run: the synthetic board sends test sines, not EEG; to hear the loop respond to a" \
	      "listener, try: $(VENV)/bin/neurofeed run --preset relax-alpha --simulate --duration 60 --baseline 20s"

test: setup system-deps
	$(PY) -m pytest

# The long acceptance checks; CI does not run them.
verify: verify-faults verify-music verify-playlist

# The fault matrix (scripts/fault_matrix): about 560 bad inputs, damaged folders, faults and stop
# signals against the CLI, one after the other (about half an hour).
# FAULTS=stop,lsl (classes or case ids) runs a part of it.
verify-faults: setup
	$(PY) scripts/fault_matrix $(FAULTS)

# 20-minute renders of every preset and palette, judged on their audio and score by the
# analysis kit in tests/ (scripts/music_verify.py; about 15 minutes).
verify-music: setup
	$(PY) scripts/music_verify.py

# The client's own music at full length: 15 rendered 3-minute tracks analysed by 'library add'
# (timed, scored against their known tempo and key) and a 20-minute iso-playlist session on
# the looped OpenBCI recording, judged on its audio (scripts/playlist_verify.py; about 2 minutes).
verify-playlist: setup
	$(PY) scripts/playlist_verify.py

bench: setup
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

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
