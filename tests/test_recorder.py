"""Crash-safe session recording and finalisation, on real files and a real killed process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pytest

from neurofeed.errors import InvalidArgumentError
from neurofeed.finalise import finalise_session, read_live_eeg, read_table
from neurofeed.recorder import SessionRecorder
from _cli import assert_one_line_error, run_cli

SFREQ = 100.0


def _info():
    return mne.create_info(["Fz", "Cz", "Pz"], SFREQ, "eeg")


def test_finalise_writes_fif_equal_to_what_was_recorded(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(scale=2e-5, size=(3, 1000))
    times = 50.0 + np.arange(1000) / SFREQ
    folder = tmp_path / "s"
    with SessionRecorder(folder, _info(), {"subject": "S01"}) as rec:
        for start in range(0, 1000, 37):
            rec.write_eeg(data[:, start:start + 37], times[start:start + 37])
        rec.write_marker(52.5, 0.0, "phase:training")
        for hop in range(10):
            rec.write_row("latency", {"hop": hop, "sample_to_engine_s": 0.001 * (hop + 1)})
    assert json.loads((folder / "session.json").read_text())["status"] == "running"

    path = finalise_session(folder)
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    np.testing.assert_allclose(raw.get_data(), data, rtol=1e-6, atol=1e-12)  # FIF stores float32
    assert list(raw.annotations.description) == ["phase:training"]
    assert raw.annotations.onset[0] == pytest.approx(2.5)
    meta = json.loads((folder / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["subject"] == "S01"
    assert meta["n_samples"] == 1000 and meta["duration_s"] == pytest.approx(10.0)
    assert meta["latency"]["sample_to_engine_ms"]["p50"] == pytest.approx(5.5)


def test_gap_is_zero_filled_and_annotated(tmp_path):
    data = np.ones((3, 300)) * 1e-5
    times = np.concatenate([np.arange(100), 250 + np.arange(200)]) / SFREQ  # 1.5 s lost after 1 s
    with SessionRecorder(tmp_path / "s", _info(), {}) as rec:
        rec.write_eeg(data, times)
    raw = mne.io.read_raw_fif(finalise_session(tmp_path / "s"), preload=True, verbose="error")
    assert raw.n_times == 450
    assert np.all(raw.get_data()[:, 100:250] == 0) and np.all(raw.get_data()[:, 250:] != 0)
    assert list(raw.annotations.description) == ["BAD_ACQ_SKIP"]
    assert raw.annotations.onset[0] == pytest.approx(1.0)
    assert raw.annotations.duration[0] == pytest.approx(1.5)


def test_torn_last_sample_is_dropped(tmp_path):
    with SessionRecorder(tmp_path / "s", _info(), {}) as rec:
        rec.write_eeg(np.ones((3, 10)), np.arange(10.0))
    with open(tmp_path / "s" / "eeg.f64", "ab") as f:
        f.write(b"\x00" * 12)  # a crash mid-write
    _, data, times = read_live_eeg(tmp_path / "s")
    assert data.shape == (3, 10) and times.size == 10


def test_table_rows_must_keep_their_columns(tmp_path):
    with SessionRecorder(tmp_path / "s", _info(), {}) as rec:
        rec.write_row("features", {"t": 1.0, "alpha": 2.0})
        with pytest.raises(InvalidArgumentError, match=r"features.tsv: row columns"):
            rec.write_row("features", {"t": 1.0})
    assert read_table(tmp_path / "s" / "features.tsv")["alpha"].tolist() == [2.0]


def test_existing_session_is_never_overwritten(tmp_path):
    SessionRecorder(tmp_path / "s", _info(), {}).close()
    with pytest.raises(InvalidArgumentError, match="already holds a session"):
        SessionRecorder(tmp_path / "s", _info(), {})


def test_kill_9_loses_at_most_about_a_second(tmp_path):
    folder = tmp_path / "crash"
    writer = Path(__file__).with_name("_recorder_writer.py")
    proc = subprocess.Popen([sys.executable, str(writer), str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(2.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    started = json.loads((folder / "session.json").read_text())
    assert started["status"] == "running"

    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    assert "recovered" in result.stdout
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", preload=True, verbose="error")
    n = raw.n_times
    i = np.arange(n)
    expected = np.sin(0.01 * i[None, :] + np.arange(3)[:, None]) * 1e-5
    np.testing.assert_allclose(raw.get_data(), expected, rtol=1e-6, atol=1e-12)
    # It ran for at least 3 s (1 s to READY, then 2 s); the flush interval is 0.5 s.
    assert n / 250.0 >= 3.0 - 0.5 - 0.2


def test_recover_bad_folder(tmp_path):
    result = run_cli("recover", str(tmp_path))
    assert_one_line_error(result, "is not a session folder", "session.json")
