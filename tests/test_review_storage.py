"""Regressions from the session-folder review: recoverable data is never refused, a disk that
fills while finalising names recover and leaves no partial FIF, damaged channel types and
rates are repaired or refused in one line, a stop signal during a flush writes no row twice,
and an output suffix MNE would refuse is refused before anything is recorded."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli, run_in_mount_namespace

from neurofeed import signals
from neurofeed.errors import InvalidArgumentError
from neurofeed.export import check_output_path, save_raw, write_raw
from neurofeed.finalise import MAX_PARTS, finalise_session
from neurofeed.recorder import SessionRecorder

CHANNELS = ["Fz", "Cz", "Pz"]
SFREQ = 250.0


def _signal(n: int) -> np.ndarray:
    return np.sin(0.01 * np.arange(n)[None, :] + np.arange(3)[:, None]) * 1e-5


def _session(folder: Path, times: np.ndarray, markers=()) -> Path:
    """A schema-2 folder as a crashed session leaves it, with samples at ``times``."""
    with SessionRecorder(folder, {"ch_names": CHANNELS, "sfreq": SFREQ}, {"subject": "S01"}) as recorder:
        recorder.write_eeg(_signal(times.size), times)
        for onset, description in markers:
            recorder.write_marker(onset, 0.0, description)
    return folder


def _runs(*runs: tuple[float, int]) -> np.ndarray:
    """Timestamps of runs of samples: (gap in s before the run, number of samples)."""
    times, t = [], 1000.0
    for gap, n in runs:
        t += gap
        times.append(t + np.arange(n) / SFREQ)
        t = times[-1][-1] + 1 / SFREQ
    return np.concatenate(times)


def _parts(folder: Path) -> tuple[dict, list[mne.io.Raw]]:
    meta = json.loads((folder / "session.json").read_text())
    return meta, [mne.io.read_raw_fif(folder / p["file"], preload=True, verbose="error")
                  for p in meta["parts"]]


# -- 1. recoverable data is never refused ------------------------------------------------
def test_a_headset_dropping_in_and_out_is_recovered_with_every_sample(tmp_path):
    # 600 s, a 15 s gap (a new part), 0.5 s, an 8.5 s gap (17 times the 0.5 s: a new part), 0.3 s.
    times = _runs((0, 150_000), (15.0, 125), (8.5, 75))
    folder = _session(tmp_path / "s", times)
    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recovered ") and "Traceback" not in result.stderr
    meta, raws = _parts(folder)
    assert meta["status"] == "finalised"
    assert [p["n_samples"] for p in meta["parts"]] == [150_000, 125, 75]
    assert [r.n_times for r in raws] == [150_000, 125, 75]  # no zeros: the size of the data
    assert [p["first_sample_lsl_s"] for p in meta["parts"]] == [times[0], times[150_000], times[150_125]]
    # Each part starts at its own first sample's wall-clock time.
    dates = [r.info["meas_date"] for r in raws]
    assert abs((dates[2] - dates[1]).total_seconds() - (times[150_125] - times[150_000])) < 2e-6
    recovered = np.concatenate([r.get_data() for r in raws], axis=1)
    np.testing.assert_allclose(recovered, _signal(times.size), rtol=1e-6, atol=1e-12)


def test_short_gaps_within_the_ratio_stay_zero_filled_in_one_part(tmp_path):
    # 500 samples then a 5 s gap: 1250 zeros, within 10 per sample. (The gap starts on a 1 s
    # FIF buffer boundary, which MNE would write as a data skip and read back 3 s short.)
    times = _runs((0, 500), (5.0, 100))
    folder = _session(tmp_path / "s", times)
    finalise_session(folder)
    meta, raws = _parts(folder)
    assert len(raws) == 1 and raws[0].n_times == 500 + 1250 + 100
    data = raws[0].get_data()
    np.testing.assert_allclose(data[:, :500], _signal(600)[:, :500], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(data[:, 1750:], _signal(600)[:, 500:], rtol=1e-6, atol=1e-12)
    assert not data[:, 500:1750].any()
    assert meta["n_gaps"] == 1 and list(raws[0].annotations.description) == ["BAD_ACQ_SKIP"]
    np.testing.assert_allclose(raws[0].annotations.duration, [5.0])


def test_beyond_max_parts_the_rest_is_joined_into_the_last_part(tmp_path):
    n_runs = MAX_PARTS + 50
    times = _runs(*[(20.0, 2)] * n_runs)  # a 20 s gap after every 2 samples
    marked = times[2 * (MAX_PARTS - 1 + 21)]  # run 21 of the last part
    folder = _session(tmp_path / "s", times, markers=[(marked, "here")])
    finalise_session(folder)
    meta, raws = _parts(folder)
    assert len(raws) == MAX_PARTS and sum(r.n_times for r in raws) == 2 * n_runs  # every sample, no zeros
    last = raws[-1]
    assert meta["parts"][-1]["n_joins"] == 50 and last.n_times == 2 * 51
    joins = last.annotations[last.annotations.description == "BAD_ACQ_SKIP"]
    assert len(joins) == 50 and np.all(joins.duration == 0)
    np.testing.assert_allclose(joins.onset, np.arange(1, 51) * 2 / SFREQ)
    here = last.annotations[last.annotations.description == "here"]
    np.testing.assert_allclose(here.onset, [21 * 2 / SFREQ])
    np.testing.assert_allclose(last.get_data(), _signal(times.size)[:, -102:], rtol=1e-6, atol=1e-12)


# -- 2. a disk that fills while finalising -------------------------------------------------
def test_a_disk_full_while_finalising_names_recover_and_leaves_no_partial_fif(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    folder = mnt / "s"
    # 28 000 samples: 896 kB of eeg.f64 fit in 1 MB, the 336 kB FIF does not.
    writer = tmp_path / "write_session.py"
    writer.write_text(f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                      "import numpy as np\nimport test_review_storage as t\n"
                      f"t._session(t.Path({str(folder)!r}), 1000 + np.arange(28_000) / t.SFREQ)\n")
    script = (f"{sys.executable} {writer} || exit 98\n"
              f"{sys.executable} -m neurofeed recover {folder}; echo \"exit $?\" >&2; ls -a {folder} >&2")
    done = run_in_mount_namespace(f"mount -t tmpfs -o size=1m tmpfs {mnt}", script)
    assert done.returncode != 98, done.stderr
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert lines[0].endswith(f"session folder {str(folder)!r} could not be finalised: eeg_raw.fif not "
                             f"written (No space left on device); what reached the disk is kept: finish "
                             f"it with 'neurofeed recover {folder}'"), lines
    assert lines[1] == "exit 2"
    left = set(lines[2:]) - {".", ".."}
    assert "eeg.f64" in left and "session.json" in left
    assert not [name for name in left if name.endswith(".fif")], left  # no partial FIF, no temporary


# -- 3. damaged channel types and rates ------------------------------------------------------
def _edit_eeg(folder: Path, **changes) -> None:
    path = folder / "session.json"
    meta = json.loads(path.read_text())
    meta["eeg"].update(changes)
    path.write_text(json.dumps(meta))


def test_an_unknown_channel_type_is_read_as_eeg_and_noted(tmp_path):
    folder = _session(tmp_path / "s", 1000 + np.arange(500) / SFREQ)
    _edit_eeg(folder, ch_types=["eeg", "bogus", "ecg"])
    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    meta, raws = _parts(folder)
    assert raws[0].get_channel_types() == ["eeg", "eeg", "ecg"]
    assert meta["repairs"] == ["session.json eeg.ch_types: 1 channel(s) of a type MNE does not know "
                               "('bogus') read as eeg"]


@pytest.mark.parametrize("sfreq", [1e-300, 0.5, 0])
def test_a_rate_below_one_hz_is_refused_in_one_line(tmp_path, sfreq):
    folder = _session(tmp_path / "s", 1000 + np.arange(500) / SFREQ)
    _edit_eeg(folder, sfreq=sfreq)
    assert_one_line_error(run_cli("recover", str(folder)),
                          f"gives a sampling rate of {sfreq!r}; accepted: a number from 1 to 100000 Hz")


# -- 4. a stop signal during a flush ---------------------------------------------------------
def test_a_stop_signal_right_after_the_write_duplicates_no_row(tmp_path):
    folder = tmp_path / "s"
    recorder = SessionRecorder(folder, {"ch_names": CHANNELS, "sfreq": SFREQ}, {"subject": "S01"})
    times = 1000 + np.arange(100) / SFREQ
    armed = [True]

    def hook(frame, event, arg):
        # SIGTERM the moment the bytes reach the OS, before the buffer forgets them.
        if event == "c_return" and armed[0] and arg in (os.write, os.pwrite):
            armed[0] = False
            signal.raise_signal(signal.SIGTERM)

    interrupted = False
    with signals.stop_on_signals():
        try:
            sys.setprofile(hook)
            try:
                recorder.write_eeg(_signal(100), times)
                recorder.flush()
            finally:
                sys.setprofile(None)
        except KeyboardInterrupt:
            interrupted = True
        recorder.close()  # what the stopping session does next
    assert interrupted and not armed[0] and signals.received() == "SIGTERM"
    rows = np.fromfile(folder / "eeg.f64").reshape(-1, 4)
    np.testing.assert_array_equal(rows[:, 0], times)  # each row once, in order
    np.testing.assert_array_equal(rows[:, 1:].T, _signal(100))


# -- 5. output suffixes MNE refuses ----------------------------------------------------------
@pytest.mark.parametrize("name", ["x.FIF", "x.Fif", "x.fif.GZ", "x_raw.FIF", "x.VHDR"])
def test_an_upper_case_fif_suffix_is_refused_before_recording(tmp_path, name):
    with pytest.raises(InvalidArgumentError, match=r"unsupported suffix; accepted: \.fif, \.fif\.gz, \.edf, "
                                                   r"\.vhdr \(all but \.edf in lower case\)"):
        check_output_path(tmp_path / name)
    result = run_cli("record", "--board", "synthetic", "--duration", "1", "--out", str(tmp_path / name))
    assert_one_line_error(result, f"{str(tmp_path / name)!r} has an unsupported suffix",
                          "(all but .edf in lower case)")
    assert not list(tmp_path.iterdir())  # refused before anything was recorded


@pytest.mark.parametrize("name", ["x.EDF", "x.Edf"])
def test_edf_suffixes_are_written_in_any_case(tmp_path, name):
    raw = mne.io.RawArray(_signal(500), mne.create_info(CHANNELS, SFREQ, "eeg"), verbose="error")
    path = write_raw(raw, tmp_path / name)
    read = mne.io.read_raw(path, preload=True, verbose="error")
    np.testing.assert_allclose(read.get_data(), raw.get_data(), atol=1e-8)


def test_a_split_fif_is_renamed_into_place_whole(tmp_path):
    # A FIF over split_size (2 GB in finalise) is written as eeg_raw.fif + eeg_raw-1.fif.
    data = np.random.default_rng(0).standard_normal((4, 250 * 600)) * 1e-5
    raw = mne.io.RawArray(data, mne.create_info(4, SFREQ, "eeg"), verbose="error")
    save_raw(raw, tmp_path / "eeg_raw.fif", split_size="3MB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eeg_raw-1.fif", "eeg_raw.fif"]
    read = mne.io.read_raw_fif(tmp_path / "eeg_raw.fif", preload=True, verbose="error")
    np.testing.assert_allclose(read.get_data(), data, rtol=1e-6)
