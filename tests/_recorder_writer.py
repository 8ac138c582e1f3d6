"""Subprocess for the crash test: records a known signal in real time until killed.

Sample i of channel c is sin(0.01 * i + c) * 1e-5 V; it prints READY after the first flush.
"""

import sys
import time

import mne
import numpy as np

from neurofeed.recorder import SessionRecorder

folder, sfreq = sys.argv[1], 250.0
info = mne.create_info(["A", "B", "C"], sfreq, "eeg")
with SessionRecorder(folder, info, {"subject": "crash"}, flush_interval_s=0.5) as recorder:
    start, sent = time.monotonic(), 0
    while True:
        due = int((time.monotonic() - start) * sfreq)
        if due > sent:
            i = np.arange(sent, due)
            data = np.sin(0.01 * i[None, :] + np.arange(3)[:, None]) * 1e-5
            recorder.write_eeg(data, 1000.0 + i / sfreq)
            recorder.write_row("latency", {"hop_s": float(due)})
            sent = due
            if sent >= sfreq:
                print("READY", flush=True)
        time.sleep(0.02)
