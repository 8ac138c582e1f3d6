"""Outlet process for bench_acquire: pushes 16-channel, 25-sample chunks stamped at push time.

Usage: python _lsl_outlet.py NAME N_CHUNKS INTERVAL_S
"""

import sys
import time

import numpy as np
from pylsl import StreamInfo, StreamOutlet, local_clock, set_config_content

set_config_content("[log]\nlevel = -3\n")  # keep liblsl's INFO lines out of the table
name, n_chunks, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
outlet = StreamOutlet(StreamInfo(name, "EEG", 16, 250.0, "float32", name))
chunk = np.random.default_rng(0).normal(size=(25, 16)).astype(np.float32)
offsets = (np.arange(25) - 24) / 250.0
time.sleep(1.5)  # let the inlet connect
for _ in range(n_chunks):
    # The newest sample carries the push time, so arrival minus its timestamp is transport latency.
    outlet.push_chunk(chunk, (local_clock() + offsets).tolist())
    time.sleep(interval)
time.sleep(0.5)
