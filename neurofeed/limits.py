"""Bounds on what a signal may declare, shared by every reader and writer.

A rate or a channel count read from a header, a stream or a session folder is input like
any other; everything downstream allocates per channel and per second of signal, so these
are checked before anything is allocated.
"""

#: Highest sampling rate accepted, in Hz. EEG amplifiers sample at up to 20-50 kHz
#: (intracranial and evoked-potential systems).
MAX_SFREQ_HZ = 100_000.0
#: Most channels accepted. High-density EEG caps have 256 electrodes and MEG systems about
#: 300; 1024 leaves room for combined recordings while bounding per-channel allocations.
MAX_CHANNELS = 1024
#: Longest session (run, replay, calibrate, record, play) and longest preset, in seconds.
MAX_SESSION_S = 4 * 3600
