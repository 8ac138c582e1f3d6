"""An LSL outlet for the fault matrix: NAME [--unicode]; 4 EEG channels of noise at 250 Hz until killed.

With --unicode the channel labels are not ASCII (Φz, Ωz, 脑1, O2).
"""
import sys
import time

import numpy as np
import pylsl

unicode_labels = "--unicode" in sys.argv[2:]
info = pylsl.StreamInfo(sys.argv[1], "EEG", 4, 250, "float32", "qau" if unicode_labels else "qa1")
if unicode_labels:
    chs = info.desc().append_child("channels")
    for lab in ["Φz", "Ωz", "脑1", "O2"]:
        ch = chs.append_child("channel")
        ch.append_child_value("label", lab)
        ch.append_child_value("unit", "volts")
outlet = pylsl.StreamOutlet(info)
print("ready", flush=True)
while True:
    outlet.push_chunk((np.random.randn(25, 4) * 2e-5).astype("float32"))
    time.sleep(0.1)
