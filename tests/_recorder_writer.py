"""Subprocess for the crash and storage tests: a SessionRecorder writing a known signal.

Usage: ``python _recorder_writer.py MODE FOLDER``. Sample i of channel c is
sin(0.01 * i + c) * 1e-5 V at LSL time 1000 + i / 250 s (see :func:`expected`).

- ``realtime``: write in real time until killed; after each write, print the number of
  samples handed to the recorder so far.
- ``fill``: write as fast as possible until the disk is full.
- ``readonly``: write 1 s, make the folder read-only (a read-only bind mount over it: run
  inside a private mount namespace), then write until the recorder notices.

``fill`` and ``readonly`` print ``ERROR <message>`` and the number of samples handed to
the recorder before it failed. ``verify`` prints the number of samples on disk once they
are checked to be exactly the first ones written.
"""

import subprocess
import sys
import time

import numpy as np

from neurofeed.errors import StorageError
from neurofeed.recorder import SessionRecorder

SFREQ = 250.0
INFO = {"ch_names": ["A", "B", "C"], "sfreq": SFREQ}


def expected(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``start`` to ``stop``: data (3, n) in volts and LSL timestamps in seconds."""
    i = np.arange(start, stop)
    return np.sin(0.01 * i[None, :] + np.arange(3)[:, None]) * 1e-5, 1000.0 + i / SFREQ


def realtime(recorder: SessionRecorder) -> None:
    started, sent = time.monotonic(), 0
    while True:
        due = int((time.monotonic() - started) * SFREQ)
        if due > sent:
            recorder.write_eeg(*expected(sent, due))
            recorder.write_row("latency", {"hop_s": float(due)})
            sent = due
            print(sent, flush=True)
        time.sleep(0.01)


def until_failure(recorder: SessionRecorder, folder: str, readonly: bool) -> None:
    sent = 0
    try:
        while True:
            sent += 25  # counted first: the call that fails has handed its samples over
            recorder.write_eeg(*expected(sent - 25, sent))
            recorder.write_marker(float(sent), 0.0, "tick")
            if readonly and sent == SFREQ:
                recorder.flush()
                subprocess.run(["mount", "--bind", "-o", "ro", folder, folder], check=True)
            if readonly:
                time.sleep(0.01)
    except StorageError as err:
        print("ERROR", err, flush=True)
    print(sent, flush=True)


def verify(folder: str) -> None:
    from neurofeed.folder import read_live_eeg

    _, data, times = read_live_eeg(folder)
    want_data, want_times = expected(0, times.size)
    assert np.array_equal(data, want_data) and np.array_equal(times, want_times)
    print(times.size, flush=True)


def main(mode: str, folder: str) -> None:
    if mode == "verify":
        return verify(folder)
    with SessionRecorder(folder, INFO, {"subject": "crash"}) as recorder:
        if mode == "realtime":
            realtime(recorder)
        else:
            until_failure(recorder, folder, readonly=mode == "readonly")


if __name__ == "__main__":
    main(*sys.argv[1:])
