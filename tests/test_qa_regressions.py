"""Regressions from a QA run, on the real command: non-ASCII channel labels (F4), ``record
--lsl`` whose outlet dies (F5), a stopped ``calibrate`` (F6), and SIGQUIT/SIGUSR1/SIGUSR2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mne
import numpy as np
import pytest
from _cli import run_cli
from pylsl import local_clock

from neurofeed import signals

SFREQ = 250.0
UNICODE_LABELS = ["Φz", "Ωz", "脑1", "😀"]
LSL_HELPER = Path(__file__).with_name("_lsl_outlet.py")
#: The longest name MNE's EDF export accepts (EDF's 16-character signal label).
EDF_LABEL_LENGTH = 16


def _env(home: Path) -> dict:
    return {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1", "NEUROFEED_HOME": str(home)}


def _meta(folder: Path) -> dict:
    return json.loads((folder / "session.json").read_text())


def _storable(names: list[str]) -> bool:
    """Printable ASCII, at most EDF_LABEL_LENGTH characters, distinct."""
    return (len(set(names)) == len(names)
            and all(name and name.isascii() and name.isprintable() and len(name) <= EDF_LABEL_LENGTH
                    for name in names))


def _wait_for_samples(process: subprocess.Popen, home: Path, seconds: float) -> Path:
    """Wait until the one session folder in ``home`` holds ``seconds`` of EEG; return it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for eeg in home.glob("**/sub-*/eeg.f64"):
            meta = _meta(eeg.parent)
            row_bytes = 8 * (1 + len(meta["eeg"]["ch_names"]))
            if eeg.stat().st_size >= seconds * meta["eeg"]["sfreq"] * row_bytes:
                return eeg.parent
        time.sleep(0.05)
    raise AssertionError(f"no session folder with {seconds} s of EEG in {home}")


# -- F4: non-ASCII channel labels ------------------------------------------------------------

@pytest.fixture(scope="module")
def unicode_file(tmp_path_factory) -> Path:
    """A 30 s BrainVision file written by MNE whose channel labels are not ASCII."""
    data = np.random.default_rng(0).normal(scale=20e-6, size=(len(UNICODE_LABELS), int(30 * SFREQ)))
    path = tmp_path_factory.mktemp("unicode") / "unicode.vhdr"
    raw = mne.io.RawArray(data, mne.create_info(UNICODE_LABELS, SFREQ, "eeg"), verbose="error")
    raw.export(path, verbose="error")
    return path


@pytest.mark.parametrize("suffix", [".fif", ".edf", ".vhdr"])
def test_record_of_non_ascii_labels_writes_every_format(tmp_path, unicode_file, suffix):
    out = tmp_path / f"x{suffix}"
    result = run_cli("record", "--file", str(unicode_file), "--duration", "5", "--speed", "max",
                     "--no-progress", "--out", str(out), env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    folder = next((tmp_path / "home").glob("sub-*_record"))
    meta = _meta(folder)
    assert meta["status"] == "finalised"
    # The labels as given stay in session.json; the names are what every format stores.
    channels = meta["source"]["channels"]
    assert [ch["label"] for ch in channels] == UNICODE_LABELS
    names = [ch["name"] for ch in channels]
    assert _storable(names), names
    assert names[3] == "EEG004"  # nothing of an emoji is left: named by its position
    written = mne.io.read_raw(out, preload=True, verbose="error")
    assert written.ch_names == names
    assert written.n_times == 5 * SFREQ
    given = mne.io.read_raw(unicode_file, preload=True, verbose="error").get_data()[:, :written.n_times]
    np.testing.assert_allclose(written.get_data(), given, rtol=0, atol=1e-8)  # 20 µV signals


def test_replay_of_non_ascii_labels_is_finalised(tmp_path, unicode_file):
    result = run_cli("replay", str(unicode_file), "--preset", "relax-alpha", "--duration", "20",
                     "--audio", "none", "--no-status", "--no-report", "--out", str(tmp_path / "o"),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    folder = next((tmp_path / "o").glob("sub-*"))
    meta = _meta(folder)
    assert meta["status"] == "finalised" and meta["ended"] == "done"
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    assert _storable(raw.ch_names), raw.ch_names
    assert raw.n_times == meta["n_samples"] == 20 * SFREQ
    assert [ch["label"] for ch in meta["source"]["channels"]] == UNICODE_LABELS


def test_an_old_folder_with_non_ascii_names_is_recovered(tmp_path, unicode_file):
    """A folder written before names were made ASCII (its eeg names are the labels)."""
    home = tmp_path / "home"
    result = run_cli("record", "--file", str(unicode_file), "--duration", "2", "--speed", "max",
                     "--no-progress", "--out", str(tmp_path / "x.fif"), env={"NEUROFEED_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    folder = next(home.glob("sub-*_record"))
    meta = _meta(folder)
    meta["eeg"]["ch_names"] = UNICODE_LABELS
    meta["status"] = "running"
    (folder / "session.json").write_text(json.dumps(meta))
    (folder / "eeg_raw.fif").unlink()
    result = run_cli("recover", str(folder), env={"NEUROFEED_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert _meta(folder)["status"] == "finalised"
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    assert _storable(raw.ch_names) and raw.n_times == 2 * SFREQ


# -- F5: record --lsl whose outlet dies ----------------------------------------------------

def test_record_lsl_ends_on_time_when_its_outlet_dies(tmp_path):
    """``--duration`` is wall time for a live source: a dead outlet does not keep it open."""
    name = f"nf-qa-{uuid.uuid4().hex[:10]}"
    outlet = subprocess.Popen([sys.executable, str(LSL_HELPER), name, "EEG", f"sid-{name}",
                               repr(local_clock())], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "NEUROFEED_TEST_LSL_SCOPE": "machine"})
    try:
        assert outlet.stdout.readline().strip() == "ready"
        out = tmp_path / "x.fif"
        record = subprocess.Popen(
            ["timeout", "60", sys.executable, "-m", "neurofeed", "record", "--lsl", name,
             "--lsl-scope", "machine", "--duration", "6", "--no-progress", "--out", str(out)],
            env=_env(tmp_path / "home"), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        folder = _wait_for_samples(record, tmp_path / "home", 1.5)
    finally:
        outlet.kill()
        outlet.wait(timeout=10)
    stdout, stderr = record.communicate(timeout=90)
    assert record.returncode != 124, "record still ran after 60 s: its outlet's death kept it open"
    assert record.returncode == 0, (record.returncode, stdout, stderr)
    meta = _meta(folder)
    assert meta["status"] == "finalised" and meta["ended"] == "source stalled"
    raw = mne.io.read_raw_fif(out, verbose="error")
    recorded_s = raw.n_times / SFREQ
    # What arrived before the outlet died: at least what was seen, less than asked for.
    assert 1.5 <= recorded_s < 6, recorded_s
    assert raw.n_times == meta["n_samples"]
    assert "stall" in raw.annotations.description
    summary = next(line for line in stdout.splitlines() if line.startswith("recorded"))
    assert f"recorded {recorded_s:.2f} s of the 6 s asked for (the source stalled" in summary


# -- F6: a stopped calibrate ---------------------------------------------------------------

def test_calibrate_stopped_before_enough_windows_keeps_its_folder(tmp_path):
    home = tmp_path / "home"
    process = subprocess.Popen(
        [sys.executable, "-m", "neurofeed", "calibrate", "--board", "synthetic", "--subject", "cal",
         "--duration", "30", "--audio", "none", "--no-status", "--out", str(tmp_path / "c")],
        env=_env(home), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    folder = _wait_for_samples(process, tmp_path / "c", 0.5)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, (stdout, stderr)
    assert "error" not in stderr and "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if "no baseline stored" in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("neurofeed: no baseline stored for cal: the recording was too short "
                               "(the baseline has "), lines
    assert lines[0].endswith("windows with alpha_lnrel; at least 20 with some spread are needed)")
    meta = _meta(folder)
    assert meta["status"] == "finalised" and meta["ended"] == "interrupted"
    assert meta["n_windows"] < 20
    assert not (home / "subjects" / "cal" / "baseline.json").exists()
    assert mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error").n_times == meta["n_samples"]


def test_calibrate_that_ran_its_course_with_too_few_windows_is_an_error(tmp_path, unicode_file):
    result = run_cli("calibrate", "--file", str(unicode_file), "--speed", "max", "--duration", "2",
                     "--subject", "cal", "--audio", "none", "--no-status", "--out", str(tmp_path / "c"),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stderr
    assert "neurofeed calibrate: error: the baseline has" in result.stderr
    assert not (tmp_path / "home" / "subjects" / "cal" / "baseline.json").exists()


# -- SIGQUIT, SIGUSR1, SIGUSR2 ---------------------------------------------------------------

def test_sigquit_stops_a_session_like_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "neurofeed", "run", "--board", "synthetic", "--preset", "relax-alpha",
         "--duration", "60", "--baseline", "5s", "--audio", "none", "--no-status", "--no-report"],
        env=_env(tmp_path / "home"), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    folder = _wait_for_samples(process, tmp_path / "home", 1.0)
    process.send_signal(signal.SIGQUIT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 131, (process.returncode, stdout, stderr)
    assert "Traceback" not in stderr
    assert "session interrupted by SIGQUIT" in stdout
    meta = _meta(folder)
    assert meta["status"] == "finalised" and meta["ended"] == "interrupted"
    assert mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error").n_times == meta["n_samples"]


@pytest.mark.parametrize("signum", [signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2],
                         ids=["SIGQUIT", "SIGUSR1", "SIGUSR2"])
def test_quit_and_user_signals_stop_like_ctrl_c(signum):
    before = signal.getsignal(signum)
    with signals.stop_on_signals():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler raises at the next bytecode, well before this ends
        assert signals.received() == signal.Signals(signum).name
        assert signals.exit_status(130) == 128 + signum
    assert signal.getsignal(signum) == before


@pytest.mark.parametrize("signum", [signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2],
                         ids=["SIGQUIT", "SIGUSR1", "SIGUSR2"])
def test_quit_and_user_signals_ignored_by_the_parent_stay_ignored(signum):
    previous = signal.signal(signum, signal.SIG_IGN)
    try:
        with signals.stop_on_signals():
            assert signal.getsignal(signum) is signal.SIG_IGN
            os.kill(os.getpid(), signum)
        assert signals.received() is None
    finally:
        signal.signal(signum, previous)
