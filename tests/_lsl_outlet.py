"""A test outlet in its own process: a counter channel and known voltages in mixed units.

Usage: python _lsl_outlet.py NAME TYPE SOURCE_ID ORIGIN [FORMAT [RATE]]

Sample k carries the timestamp ORIGIN + k / RATE on the LSL clock and the value k in its
"Counter" channel, so that two processes started with the same ORIGIN continue one
sequence. Every other channel holds 50 µV, written in the unit its description gives
(the last has no description at all). Prints "ready" once the outlet is visible, then
publishes in real time until killed. With NEUROFEED_TEST_LSL_SCOPE=machine in the
environment, the outlet is created after neurofeed's use_machine_scope().
"""

import os
import sys
import time

import numpy as np
from pylsl import StreamInfo, StreamOutlet, local_clock, set_config_content

if os.environ.get("NEUROFEED_TEST_LSL_SCOPE") == "machine":
    from neurofeed.acquire.lsl import use_machine_scope

    use_machine_scope()
else:
    set_config_content("[log]\nlevel = -1\n")  # keep liblsl's INFO lines out of the test output

CHUNK = 10
#: (label, type, unit, value): every EEG channel is 50 µV.
CHANNELS = [("Counter", "MISC", "none", None), ("Fz", "EEG", "microvolts", 50.0),
            ("Cz", "EEG", "mV", 0.05), ("Pz", "EEG", "", 50.0), ("O1", "EEG", "volts", 5e-5)]
N_CHANNELS = len(CHANNELS) + 1

name, kind, source_id, origin = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
fmt = sys.argv[5] if len(sys.argv) > 5 else "float32"
RATE = float(sys.argv[6]) if len(sys.argv) > 6 else 250.0
info = StreamInfo(name, kind, N_CHANNELS, RATE, fmt, source_id)
channels = info.desc().append_child("channels")
for label, ch_type, unit, _ in CHANNELS:
    channel = channels.append_child("channel")
    channel.append_child_value("label", label)
    channel.append_child_value("type", ch_type)
    if unit:
        channel.append_child_value("unit", unit)
outlet = StreamOutlet(info)
print("ready", flush=True)

values = np.array([0.0] + [value for *_, value in CHANNELS[1:]] + [50.0])
k = int(np.ceil((local_clock() - origin) * RATE))
while True:
    index = np.arange(k, k + CHUNK)
    stamps = origin + index / RATE
    wait = stamps[-1] - local_clock()
    if wait > 0:
        time.sleep(wait)
    block = np.tile(values, (CHUNK, 1))
    block[:, 0] = index
    outlet.push_chunk(block, stamps.tolist())
    k += CHUNK
