"""The whole loop in real time: BrainFlow's synthetic board, the music through a JACK server.

JACK runs on its dummy driver (see _jack.py): a real-time audio clock with no sound card.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import mido
import mne
import numpy as np
import pytest
from _cli import run_cli
from _jack import jack_server  # noqa: F401

from neurofeed.folder import read_table
from neurofeed.synth.entrainment import EAR_CHECK_S


def _folder(out):
    folders = [p for p in out.iterdir() if p.is_dir() and p.name.startswith("sub-")]
    assert len(folders) == 1, folders
    return folders[0]


@pytest.mark.realtime
@pytest.mark.slow
def test_synthetic_board_through_jack_for_20_s(jack_server, tmp_path):  # noqa: F811
    result = run_cli("run", "--board", "synthetic", "--preset", "deep-theta", "--duration", "20",
                     "--baseline", "6s", "--audio", "jack", "--no-status", "--no-report",
                     "--out", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    folder = _folder(tmp_path)
    meta = json.loads((folder / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["ended"] == "done"
    assert meta["audio"] == "jack" and meta["clock"] == "real time" and not meta["audio_lost"]

    # 20 s of the board's 250 Hz EEG, all of it, with the phases annotated.
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    assert raw.info["sfreq"] == 250 and raw.times[-1] == pytest.approx(20.0, abs=0.5)
    assert {"phase:baseline", "phase:training", "phase:cooldown", "phase:done"} <= \
        set(raw.annotations.description)
    assert "BAD_ACQ_SKIP" not in raw.annotations.description

    # Latency: every window after the first has its hand-over to the audio thread timed, and
    # the percentiles are in session.json. The estimate is ready within one hop of the newest
    # sample it used (plus a board chunk's age); the hand-over follows within milliseconds.
    latency = meta["latency"]
    for column in ("sample_to_estimate_ms", "sample_to_engine_ms"):
        assert set(latency[column]) == {"p50", "p90", "p95", "p99"}
        assert 0 < latency[column]["p50"] <= latency[column]["p99"] < 250
    table = read_table(folder / "latency.tsv")
    handed = table["sample_to_engine_s"] - table["sample_to_estimate_s"]
    assert np.isfinite(handed).mean() > 0.95
    assert np.nanpercentile(handed, 50) < 0.005

    # The music played in real time: after the 4 s headphone check a binaural preset starts
    # with, the first beat; the theta entrainment came on after the baseline, and the score
    # covers the session.
    music = read_table(folder / "music.tsv")
    assert set(music["entrainment_kind"]) == {"binaural"} and set(music["entrainment_hz"]) == {6.0}
    level = music["entrainment_level"]
    assert level[music["time_s"] < 6.0].max() == 0.0 and level[music["time_s"] > 12.0].min() > 0.0
    notes = read_table(folder / "score.tsv")
    assert EAR_CHECK_S <= notes["time_s"].min() < EAR_CHECK_S + 2.0 and notes["time_s"].max() > 18.0
    midi = mido.MidiFile(folder / "score.mid")
    assert sum(m.type == "note_on" for track in midi.tracks for m in track) == notes["pitch"].size


@pytest.mark.slow
def test_ctrl_c_ends_a_live_session_gracefully(tmp_path):
    env = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "neurofeed", "run", "--board", "synthetic",
                             "--preset", "relax-alpha", "--duration", "60", "--baseline", "4s",
                             "--audio", "none", "--no-status", "--no-report", "--out", str(tmp_path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "session interrupted" in out
    meta = json.loads((_folder(tmp_path) / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["ended"] == "interrupted"
    raw = mne.io.read_raw_fif(_folder(tmp_path) / "eeg_raw.fif", verbose="error")
    assert 4.0 < raw.times[-1] < 12.0
