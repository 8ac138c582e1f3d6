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


@pytest.fixture(scope="session")
def library_home(tmp_path_factory, library_renders) -> Path:
    """A data home whose client c01 has the rendered tracks in a music library (analysed once,
    in this process)."""
    from _library_renders import PLAYLIST_SUBJECT

    from neurofeed.library import Library

    home = tmp_path_factory.mktemp("library_home")
    library = Library.open(PLAYLIST_SUBJECT, home)
    added = library.add([render[0] for render in library_renders], jobs=1)
    assert not added.failed, added.failed
    library.save()
    return home


@pytest.fixture(scope="session")
def playlist_session(library_home, shared_eeg, tmp_path_factory) -> Path:
    """The OpenBCI sample replayed by the CLI through iso-playlist over that library (90 s,
    10 s baseline), with its audio and report: the finalised session folder."""
    from _cli import run_cli
    from _library_renders import PLAYLIST_RECORDING, PLAYLIST_SUBJECT

    out = tmp_path_factory.mktemp("playlist_session")
    done = run_cli("replay", str(shared_eeg / PLAYLIST_RECORDING), "--preset", "iso-playlist",
                   "--subject", PLAYLIST_SUBJECT, "--duration", "90s", "--baseline", "10s", "--no-status",
                   "--out", str(out), env={"NEUROFEED_HOME": str(library_home)}, timeout=300)
    assert done.returncode == 0, done.stderr
    (folder,) = out.iterdir()
    return folder
