"""Crash safety and storage faults on real files, real processes and real mounts.

SIGKILL at random moments, the folder lock against ``recover``, a full disk (a 1 MB
tmpfs) and a read-only folder (a read-only bind mount) in a private mount namespace,
a folder removed under a running session, and bad output folders.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _recorder_writer import INFO, expected

from neurofeed.errors import InvalidArgumentError, StorageError
from neurofeed.finalise import finalise_session
from neurofeed.folder import check_output_folder, read_live_eeg, read_markers
from neurofeed.recorder import SessionRecorder

WRITER = str(Path(__file__).with_name("_recorder_writer.py"))
ROW_BYTES = 8 * (1 + len(INFO["ch_names"]))  # the LSL time, then one value per channel


def _start_writer(folder: Path) -> tuple[subprocess.Popen, int]:
    """A writer recording in real time, once its first samples were handed over, and their count."""
    proc = subprocess.Popen([sys.executable, WRITER, "realtime", str(folder)], stdout=subprocess.PIPE,
                            text=True)
    return proc, int(proc.stdout.readline())


def _kill(proc: subprocess.Popen, handed: int) -> int:
    """SIGKILL the writer; return how many samples it had handed to the recorder (at least)."""
    proc.kill()
    proc.wait(timeout=10)
    return int(([str(handed), *proc.stdout.read().split()])[-1])


def test_sigkill_at_random_moments_loses_no_sample_handed_over(tmp_path):
    rng = np.random.default_rng(7)
    for k in range(10):
        folder = tmp_path / f"kill{k}"
        proc, handed = _start_writer(folder)
        try:
            time.sleep(rng.uniform(0.3, 0.9))
        finally:
            handed = _kill(proc, handed)
        on_disk = (folder / "eeg.f64").stat().st_size // ROW_BYTES  # whole rows only
        # Every sample handed to the recorder reached the OS (the promise is at most 0.5 s lost).
        assert on_disk >= handed, (k, handed, on_disk)

        fif = finalise_session(folder)
        meta = json.loads((folder / "session.json").read_text())
        assert meta["n_samples"] == on_disk and meta["status"] == "finalised"
        _, data, times = read_live_eeg(folder)
        want_data, want_times = expected(0, on_disk)
        assert np.array_equal(times, want_times) and np.array_equal(data, want_data)
        raw = mne.io.read_raw_fif(fif, preload=True, verbose="error")
        assert raw.n_times == on_disk
        np.testing.assert_allclose(raw.get_data(), want_data, rtol=1e-6, atol=1e-12)  # FIF is float32
        assert meta["parts"][0]["first_sample_lsl_s"] == 1000.0


def test_recover_refuses_a_folder_its_writer_still_writes(tmp_path):
    folder = tmp_path / "live"
    proc, handed = _start_writer(folder)
    try:
        result = run_cli("recover", str(folder))
    finally:
        _kill(proc, handed)
    assert_one_line_error(result, str(folder), f"still being written by process {proc.pid}",
                          "wait for it to end or stop it first")
    assert json.loads((folder / "session.json").read_text())["status"] == "running"

    # The kernel released the lock with the process: the folder is now recoverable.
    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recovered ") and len(result.stdout.splitlines()) == 1
    assert not (folder / "session.lock").exists()


@pytest.fixture
def namespace(tmp_path):
    """Run a shell script as root in a private mount namespace with a 1 MB tmpfs at ``mnt``.

    Skipped where unshare or mount is not allowed (not root, a container without
    CAP_SYS_ADMIN, no util-linux).
    """
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mount = f"mount -t tmpfs -o size=1m tmpfs {mnt}"
    try:
        probe = subprocess.run(["unshare", "-m", "sh", "-c", mount], capture_output=True, text=True,
                               timeout=30)
    except FileNotFoundError:
        pytest.skip("unshare (util-linux) is not installed")
    if probe.returncode:
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace: {probe.stderr.strip()}")

    def run(script: str) -> list[str]:
        result = subprocess.run(["unshare", "-m", "sh", "-c", f"{mount} && {script}"],
                                capture_output=True, text=True, timeout=60)
        assert "Traceback" not in result.stderr, result.stderr
        return result.stdout.splitlines()

    run.mnt = mnt
    return run


def _writer_until_failure(namespace, mode: str) -> tuple[str, int, int]:
    """Run the writer in ``mode`` inside the namespace; return (error line, handed, verified on disk)."""
    folder = namespace.mnt / "s"
    lines = namespace(f"{sys.executable} {WRITER} {mode} {folder}; {sys.executable} {WRITER} verify {folder}")
    assert len(lines) == 3 and lines[0].startswith("ERROR "), lines
    return lines[0].removeprefix("ERROR "), int(lines[1]), int(lines[2])


def test_disk_full_is_one_line_naming_the_folder_and_recover(namespace):
    message, handed, on_disk = _writer_until_failure(namespace, "fill")
    folder = namespace.mnt / "s"
    assert message == (f"session folder {str(folder)!r} could not be written (No space left on device); "
                       f"what reached the disk is kept: finish it with 'neurofeed recover {folder}'")
    # Nearly the whole megabyte holds whole, exact samples (verify checked every value and time).
    assert 20_000 < on_disk < handed


def test_a_folder_made_read_only_mid_session_stops_it_in_one_line(namespace):
    message, handed, on_disk = _writer_until_failure(namespace, "readonly")
    folder = namespace.mnt / "s"
    assert message == (f"session folder {str(folder)!r} became read-only; what reached the disk is kept: "
                       f"finish it with 'neurofeed recover {folder}'")
    assert on_disk == handed  # written through descriptors opened before the remount


def test_a_removed_folder_is_noticed_at_the_next_flush_and_restored(tmp_path):
    folder = tmp_path / "gone"
    recorder = SessionRecorder(folder, INFO, {"subject": "S01"})
    recorder.write_eeg(*expected(0, 500))
    recorder.write_marker(1001.0, 0.0, "phase:training")
    recorder.flush()
    shutil.rmtree(folder)
    recorder.write_eeg(*expected(500, 600))  # into the removed file: Linux does not object
    with pytest.raises(StorageError) as caught:
        recorder.flush()
    message = str(caught.value)
    assert "\n" not in message
    assert message == (f"session folder {str(folder)!r} was removed while the session ran, and was "
                       "restored with what was recorded; what reached the disk is kept: finish it "
                       f"with 'neurofeed recover {folder}'")
    with pytest.raises(StorageError):  # the session cannot go on
        recorder.write_eeg(*expected(600, 610))
    recorder.close()

    _, data, times = read_live_eeg(folder)
    want_data, want_times = expected(0, 600)
    assert np.array_equal(times, want_times) and np.array_equal(data, want_data)
    events, _ = read_markers(folder)
    assert [(e.onset, e.description) for e in events] == [(1001.0, "phase:training")]
    finalise_session(folder)
    assert json.loads((folder / "session.json").read_text())["subject"] == "S01"


def test_output_folder_is_checked_before_anything_starts(tmp_path, namespace):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(InvalidArgumentError, match=r"--out '.*notes.txt' is a file; accepted: a folder"):
        check_output_folder(a_file)
    with pytest.raises(InvalidArgumentError, match=r"--out '.*notes.txt/sessions' is below '.*notes.txt', "
                                                   r"which is a file; accepted: a folder"):
        check_output_folder(a_file / "sessions")
    new = tmp_path / "new" / "sessions"
    assert check_output_folder(new, name="--sessions") == new
    assert not (tmp_path / "new").exists()  # created, probed and removed: whoever writes there makes it
    assert check_output_folder(tmp_path) == tmp_path
    assert sorted(tmp_path.iterdir()) == [tmp_path / "mnt", a_file]  # no probe left

    # Root writes through permission bits: only a read-only mount is read-only for root.
    ro = namespace.mnt / "ro"
    lines = namespace(f"mkdir {ro} && mount --bind -o ro {ro} {ro} && {sys.executable} -c "
                      f"\"from neurofeed.folder import check_output_folder as c; c('{ro}/sessions')\" "
                      f"2>&1 | tail -1")
    assert lines == [f"neurofeed.errors.InvalidArgumentError: --out '{ro}/sessions' cannot be written "
                     "(Read-only file system); accepted: a folder you can write to, or a new one in "
                     "such a folder"]
