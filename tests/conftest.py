"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYO_GUI_WX", "0")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: Real EEG recordings live beside the checkout, never inside it (see SOURCES.md there).
SHARED_EEG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eeg"


@pytest.fixture(scope="session")
def shared_eeg() -> Path:
    """Path of ../shared/data/eeg; skips the test, saying why, where it is absent."""
    if not SHARED_EEG.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_EEG} "
                    "(a fresh clone has no ../shared/data/eeg)")
    return SHARED_EEG


@pytest.fixture(scope="session")
def library_renders(tmp_path_factory) -> list[tuple[Path, float, str, str]]:
    """12 tracks rendered once per session by the engine, an iso ladder from 48 to 100 BPM in
    mixed keys and modes (tests/_library_renders.py): ``(path, tempo_bpm, key, mode)`` each."""
    from _library_renders import render_tracks

    return [(r.path, r.tempo_bpm, r.key, r.mode)
            for r in render_tracks(tmp_path_factory.mktemp("library_renders"))]
