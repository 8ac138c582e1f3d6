"""Crash-safe session recording and finalisation, on real files and a real killed process."""

from __future__ import annotations

import json

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli

from neurofeed.errors import InvalidArgumentError
from neurofeed.finalise import finalise_session
from neurofeed.folder import SCHEMA_VERSION, read_live_eeg, read_table
from neurofeed.recorder import SessionRecorder

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
    started = json.loads((folder / "session.json").read_text())
    assert started["status"] == "running" and started["schema_version"] == SCHEMA_VERSION
    assert not (folder / "session.lock").exists()  # released on close

    path = finalise_session(folder)
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    np.testing.assert_allclose(raw.get_data(), data, rtol=1e-6, atol=1e-12)  # FIF stores float32
    assert list(raw.annotations.description) == ["phase:training"]
    assert raw.annotations.onset[0] == pytest.approx(2.5)
    meta = json.loads((folder / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["subject"] == "S01"
    assert meta["n_samples"] == 1000 and meta["duration_s"] == pytest.approx(10.0)
    assert meta["latency"]["sample_to_engine_ms"]["p50"] == pytest.approx(5.5)


def test_channel_types_survive_finalising(tmp_path):
    # An ECG or EOG channel recorded beside the EEG stays what it is in the FIF.
    info = mne.create_info(["O1", "O2", "ECG", "HEOG"], SFREQ, ["eeg", "eeg", "ecg", "eog"])
    data = np.random.default_rng(1).normal(scale=1e-5, size=(4, 200))
    with SessionRecorder(tmp_path / "s", info, {}) as rec:
        rec.write_eeg(data, 10.0 + np.arange(200) / SFREQ)
    raw = mne.io.read_raw_fif(finalise_session(tmp_path / "s"), verbose="error")
    assert raw.get_channel_types() == ["eeg", "eeg", "ecg", "eog"]
    assert raw.ch_names == ["O1", "O2", "ECG", "HEOG"]


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
    assert data.shape == (3, 10) and times.tolist() == list(range(10))
    assert np.all(data == 1.0)


def test_a_sample_and_its_time_are_one_row(tmp_path):
    """Schema 2: one float64 row per sample, its LSL time then its values."""
    data = np.arange(6.0).reshape(3, 2)
    with SessionRecorder(tmp_path / "s", _info(), {}) as rec:
        rec.write_eeg(data, np.array([7.5, 7.51]))
    rows = np.fromfile(tmp_path / "s" / "eeg.f64").reshape(-1, 4)
    assert rows.tolist() == [[7.5, 0.0, 2.0, 4.0], [7.51, 1.0, 3.0, 5.0]]


def test_bad_arguments_are_refused_naming_them(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"flush_interval_s must be in \(0, 0.25\] s"):
        SessionRecorder(tmp_path / "a", _info(), {}, flush_interval_s=1.0)
    with SessionRecorder(tmp_path / "b", _info(), {}) as rec:
        with pytest.raises(InvalidArgumentError, match=r"data must have shape \(3, 2\)"):
            rec.write_eeg(np.zeros((2, 2)), np.zeros(2))
        with pytest.raises(InvalidArgumentError, match=r"table=.featurs. is not accepted.*features"):
            rec.write_row("featurs", {"t": 1.0})


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


def test_recover_bad_folder(tmp_path):
    result = run_cli("recover", str(tmp_path))
    assert_one_line_error(result, "is not a session folder", "session.json")


def test_a_cell_with_line_breaks_stays_one_cell(tmp_path):
    with SessionRecorder(tmp_path / "s", _info(), {}) as rec:
        rec.write_marker(1.0, 0.0, 'file "a"\tb\nc\rd\u2028e')
    assert read_table(tmp_path / "s" / "markers.tsv")["description"] == ['file "a" b c d\u2028e']
