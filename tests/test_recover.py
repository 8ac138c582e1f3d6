"""``neurofeed recover`` on damaged, old, newer and gap-ridden session folders.

Every outcome is one line: exit 0 where the folder was repaired, exit 2 where it was
refused, never a traceback. Long gaps become FIF parts with their own start times.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import mido
import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli

from neurofeed.errors import SessionFolderError
from neurofeed.export import LONG_GAP_S
from neurofeed.finalise import finalise_session
from neurofeed.folder import SCHEMA_VERSION
from neurofeed.recorder import SessionRecorder

CHANNELS = ["Fz", "Cz", "Pz"]
SFREQ = 250.0


def _signal(n: int) -> np.ndarray:
    return np.sin(0.01 * np.arange(n)[None, :] + np.arange(3)[:, None]) * 1e-5


def _session(folder: Path, times: np.ndarray, markers=()) -> Path:
    """A schema-2 folder as a crashed session leaves it, with samples at ``times``."""
    meta = {"subject": "S01", "source": {"kind": "file", "sfreq": SFREQ, "n_channels": 3}}
    with SessionRecorder(folder, {"ch_names": CHANNELS, "sfreq": SFREQ}, meta) as recorder:
        recorder.write_eeg(_signal(times.size), times)
        for onset, description in markers:
            recorder.write_marker(onset, 0.0, description)
    return folder


def _schema_1(folder: Path, n: int = 500) -> Path:
    """A folder as neurofeed wrote it before schema 2: data and times in separate files."""
    folder.mkdir()
    (folder / "session.json").write_text(json.dumps({
        "subject": "S01", "status": "running", "started_utc": "2026-11-21T10:15:00+00:00",
        "source": {"kind": "brainflow", "sfreq": SFREQ, "n_channels": 3}, "estimator": {"sfreq": SFREQ}}))
    (folder / "eeg_info.json").write_text(json.dumps(
        {"ch_names": CHANNELS, "sfreq": SFREQ, "dtype": "float64", "layout": "samples x channels"}, indent=2))
    _signal(n).T.tofile(folder / "eeg.f64")
    (50.0 + np.arange(n) / SFREQ).tofile(folder / "eeg_times.f64")
    return folder


def _edit_session_json(folder: Path, **changes) -> None:
    path = folder / "session.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _recovered(folder: Path, *options: str) -> tuple[str, dict, mne.io.Raw]:
    result = run_cli("recover", *options, str(folder))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and len(result.stdout.splitlines()) == 1
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", preload=True, verbose="error")
    return result.stdout.strip(), json.loads((folder / "session.json").read_text()), raw


def test_an_older_folder_is_read(tmp_path):
    line, meta, raw = _recovered(_schema_1(tmp_path / "v1"))
    assert line == f"recovered 2.00 s (500 samples, 0 gaps) -> {tmp_path / 'v1' / 'eeg_raw.fif'}"
    assert raw.ch_names == CHANNELS and meta["first_sample_lsl_s"] == 50.0
    np.testing.assert_allclose(raw.get_data(), _signal(500), rtol=1e-6, atol=1e-12)
    # The wall clock of the first sample comes from started_utc in an older folder.
    assert raw.info["meas_date"].isoformat() == "2026-11-21T10:15:00+00:00"


def test_a_cut_eeg_info_keeping_the_names_is_repaired(tmp_path):
    folder = _schema_1(tmp_path / "v1")
    text = (folder / "eeg_info.json").read_text()
    (folder / "eeg_info.json").write_text(text[:text.index('"sfreq"') + 10])
    line, meta, raw = _recovered(folder)
    assert "eeg_info.json repaired: 3 channels at 250.0 Hz from session.json" in line
    assert raw.ch_names == CHANNELS and raw.n_times == 500
    assert meta["repairs"] == ["eeg_info.json repaired: 3 channels at 250.0 Hz from session.json"]


def test_a_cut_eeg_info_losing_the_names_is_repaired_with_numbered_names(tmp_path):
    folder = _schema_1(tmp_path / "v1")
    (folder / "eeg_info.json").write_text('{\n  "ch_names": [\n    "Fz",\n    "C')
    line, _, raw = _recovered(folder)
    assert "names lost (numbered EEG001-EEG003)" in line
    assert raw.ch_names == ["EEG001", "EEG002", "EEG003"]
    np.testing.assert_allclose(raw.get_data(), _signal(500), rtol=1e-6, atol=1e-12)


def test_a_garbled_eeg_info_without_a_rate_anywhere_is_refused(tmp_path):
    folder = _schema_1(tmp_path / "v1")
    (folder / "eeg_info.json").write_bytes(b"\x00\xff garbage")
    _edit_session_json(folder, source={"kind": "brainflow"}, estimator={})
    assert_one_line_error(run_cli("recover", str(folder)), "eeg_info.json' is damaged",
                          "does not give the sampling rate")


BAD_EEG = [
    ({"ch_names": [], "sfreq": SFREQ}, "lists no channels"),
    ({"ch_names": CHANNELS, "sfreq": 0},
     "gives a sampling rate of 0; accepted: a number from 1 to 100000 Hz"),
    (None, "its 'eeg' entry (channel names and rate) is missing"),
    ({"ch_names": CHANNELS, "sfreq": -250.0}, "gives a sampling rate of -250.0"),
    ({"ch_names": CHANNELS, "sfreq": float("nan")}, "gives a sampling rate of nan"),
    ({"ch_names": CHANNELS, "sfreq": 99_999_999}, "gives a sampling rate of 99999999"),
    ({"ch_names": ["Fz", "Fz", "Pz"], "sfreq": SFREQ}, "channel names must be distinct"),
    ({"ch_names": "Fz", "sfreq": SFREQ}, "lists no channels"),
]


@pytest.mark.parametrize(("eeg", "fragment"), BAD_EEG[:3])
def test_bad_channel_information_is_refused_in_one_line(tmp_path, eeg, fragment):
    folder = _session(tmp_path / "s", 1000 + np.arange(100) / SFREQ)
    _edit_session_json(folder, eeg=eeg)
    assert_one_line_error(run_cli("recover", str(folder)), str(folder / "session.json"), fragment)


@pytest.mark.parametrize(("eeg", "fragment"), BAD_EEG[3:])
def test_more_bad_channel_information_is_refused(tmp_path, eeg, fragment):
    """As above, in this process (the CLI's one-line path is the same)."""
    folder = _session(tmp_path / "s", 1000 + np.arange(100) / SFREQ)
    _edit_session_json(folder, eeg=eeg)
    with pytest.raises(SessionFolderError, match=re.escape(fragment)):
        finalise_session(folder)


def test_garbage_marker_rows_are_skipped_and_counted(tmp_path):
    folder = _session(tmp_path / "s", 1000 + np.arange(1000) / SFREQ, [(1001.0, "phase:training")])
    with open(folder / "markers.tsv", "a") as markers:
        markers.write("1002.0\t0.0\n")  # a cell short
        markers.write("soon\t0.0\tstall\n")  # not a number
        markers.write("nan\t0.0\tresume\n")  # not finite
        markers.write("1003.0\t0.0\tphase:cooldown\n")
        markers.write("1003.5\t0.0\tphase:do")  # torn by the crash: ignored, not counted
    line, meta, raw = _recovered(folder)
    assert "3 garbage marker rows skipped" in line and meta["n_markers_skipped"] == 3
    assert list(raw.annotations.description) == ["phase:training", "phase:cooldown"]
    np.testing.assert_allclose(raw.annotations.onset, [1.0, 3.0])


@pytest.mark.parametrize(("damage", "fragment", "via_cli"), [
    ("empty", "holds no EEG samples; nothing to finalise", True),
    ("garbage", "session.json' is damaged: not JSON", True),
    ("newer", f"was written by a newer neurofeed (folder schema {SCHEMA_VERSION + 1}; this one reads up "
              f"to {SCHEMA_VERSION}); upgrade neurofeed", True),
    # The same one-line path through the CLI; in this process to keep the tests fast.
    ("no data", "has no live EEG (eeg.f64 missing)", False),
    ("nested", "session.json' is damaged: nested too deeply", False),
    ("a list", "session.json' is damaged: a JSON object was expected, got list", False),
    ("bad version", "schema_version 'two' is not accepted", False),
])
def test_a_damaged_folder_is_refused_in_one_line(tmp_path, damage, fragment, via_cli):
    folder = _session(tmp_path / "s", 1000 + np.arange(100) / SFREQ)
    session = folder / "session.json"
    if damage == "empty":
        (folder / "eeg.f64").write_bytes(b"\x01" * 20)  # less than one row
    elif damage == "no data":
        (folder / "eeg.f64").unlink()
    elif damage == "garbage":
        session.write_bytes(b"\x00\x13garbage{")
    elif damage == "nested":
        session.write_text("[" * 100_000 + "]" * 100_000)
    elif damage == "a list":
        session.write_text("[1, 2]")
    else:
        _edit_session_json(folder, schema_version=SCHEMA_VERSION + 1 if damage == "newer" else "two")
    if via_cli:
        assert_one_line_error(run_cli("recover", str(folder)), fragment)
    else:
        with pytest.raises(SessionFolderError, match=re.escape(fragment)):
            finalise_session(folder)


def test_a_huge_timestamp_jump_is_two_parts_each_at_its_true_time(tmp_path):
    n, jump = 3200, 1e6  # 100 kB of EEG (4 float64 per row)
    times = 1000 + np.arange(n) / SFREQ
    times[n // 2:] += jump
    folder = _session(tmp_path / "s", times, [(1001.0, "phase:training"), (times[-100], "phase:done")])
    first = finalise_session(folder)
    meta = json.loads((folder / "session.json").read_text())
    assert [p["file"] for p in meta["parts"]] == ["eeg_raw.fif", "eeg_part-2_raw.fif"]
    assert [p["first_sample_lsl_s"] for p in meta["parts"]] == [times[0], times[n // 2]]
    assert meta["n_samples"] == n and meta["duration_s"] == pytest.approx(n / SFREQ)
    fif_bytes = sum((folder / p["file"]).stat().st_size for p in meta["parts"])
    assert fif_bytes < 2 * (folder / "eeg.f64").stat().st_size

    parts = [mne.io.read_raw_fif(folder / p["file"], preload=True, verbose="error") for p in meta["parts"]]
    assert first == folder / "eeg_raw.fif"
    for raw, part in zip(parts, (slice(0, n // 2), slice(n // 2, n))):
        np.testing.assert_allclose(raw.get_data(), _signal(n)[:, part], rtol=1e-6, atol=1e-12)
    # Every sample's wall-clock time is meas_date + its time in the part: part 2 starts
    # exactly (to FIF's microsecond) as much later as its LSL timestamps say.
    start_gap = parts[1].info["meas_date"] - parts[0].info["meas_date"]
    assert start_gap == timedelta(seconds=times[n // 2] - times[0])
    offset = meta["lsl_clock_utc_offset_s"]
    assert parts[0].info["meas_date"].timestamp() == pytest.approx(offset + times[0], abs=1e-6)
    # The gap is annotated at the end of part 1; each marker is in its own part.
    assert list(parts[0].annotations.description) == ["phase:training", "BAD_ACQ_SKIP"]
    assert parts[0].annotations.onset[1] == pytest.approx((n // 2 - 1) / SFREQ)
    assert list(parts[1].annotations.description) == ["phase:done"]
    assert parts[1].annotations.onset[0] == pytest.approx((n // 2 - 100) / SFREQ)

    # Recovering again (the folder now has one part) leaves no stale part behind.
    times[n // 2:] -= jump
    (folder / "eeg.f64").unlink()
    _session(tmp_path / "t", times).joinpath("eeg.f64").rename(folder / "eeg.f64")
    finalise_session(folder)
    assert not (folder / "eeg_part-2_raw.fif").exists()


def test_a_backward_clock_step_starts_a_part_without_a_huge_allocation(tmp_path):
    times = 1000 + np.arange(1000) / SFREQ
    times[500:] -= 1e9  # the wall clock stepped back under a board
    times[700:] += 5.0  # then a short stall, zero-filled in the second part
    times[999] = np.nan  # and a garbage time
    folder = _session(tmp_path / "s", times)
    line, meta, raw = _recovered(folder)
    assert line == (f"recovered 9.00 s (999 samples, 2 gaps, 2 parts after long gaps, 1 sample without "
                    f"a valid time dropped) -> {folder / 'eeg_raw.fif'}")
    assert [p["n_samples"] for p in meta["parts"]] == [500, 499]
    part2 = mne.io.read_raw_fif(folder / "eeg_part-2_raw.fif", verbose="error")
    assert part2.n_times == 499 + 5 * SFREQ
    assert list(part2.annotations.description) == ["BAD_ACQ_SKIP"]
    assert raw.n_times == 500 and meta["n_gaps"] == 2


def test_gaps_adding_more_zeros_than_the_data_split_and_keep_every_sample(tmp_path):
    steps = np.full(200, 1 / SFREQ)
    steps[::2] = LONG_GAP_S - 1  # a 9 s gap after every other sample: garbage timestamps
    folder = _session(tmp_path / "s", 1000 + np.cumsum(steps))
    finalise_session(folder)
    meta = json.loads((folder / "session.json").read_text())
    # Zero-filling 9 s after 2 samples would exceed 10 zeros per sample: each gap starts a part.
    assert len(meta["parts"]) == 100 and [p["n_samples"] for p in meta["parts"]] == [2] * 100
    assert sum(mne.io.read_raw_fif(folder / p["file"], verbose="error").n_times
               for p in meta["parts"]) == 200  # no zeros: the output is the size of the data


def test_non_finite_timestamps_are_dropped_and_counted(tmp_path):
    times = 1000 + np.arange(300) / SFREQ
    times[[10, 20]] = [np.nan, np.inf]
    raw = mne.io.read_raw_fif(finalise_session(_session(tmp_path / "s", times)), verbose="error")
    assert json.loads((tmp_path / "s" / "session.json").read_text())["n_bad_timestamps"] == 2
    assert raw.n_times == 298  # 8 ms without samples is jitter, not a gap to fill


def test_damaged_score_tables_never_stop_the_eeg_being_recovered(tmp_path):
    folder = _session(tmp_path / "s", 1000 + np.arange(300) / SFREQ)
    (folder / "score.tsv").write_text("time_s\tpitch\tvelocity\tduration_s\tvoice\n"
                                      "0.5\t60\t80\t0.5\tpad\n"
                                      "soon\t62\t80\t0.5\tpad\n"  # skipped: not a time
                                      "1.0\tn/a\t80\t0.5\tpad\n")  # skipped: no pitch
    finalise_session(folder)
    midi = mido.MidiFile(folder / "score.mid")
    assert [m.note for m in midi if m.type == "note_on" and m.velocity] == [60]

    with open(folder / "score.tsv", "a") as score:
        score.write("2.0\t999\t80\t0.5\tpad\n")  # beyond MIDI's 0-127
    line, meta, raw = _recovered(folder, "--force")  # finalised above: only --force redoes it
    assert "score.mid not written, its tables are damaged (data byte must be in range 0..127)" in line
    assert meta["score_midi_error"].startswith("score.mid not written") and raw.n_times == 300
