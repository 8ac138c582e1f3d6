"""Bounds on what a signal may declare, and on how long commands run, written once.

A rate or a channel count read from a header, a stream or a session folder is input like
any other; everything downstream allocates per channel and per second of signal, so these
are checked before anything is allocated.
"""

#: Highest sampling rate accepted, in Hz. EEG amplifiers sample at up to 20-50 kHz
#: (intracranial and evoked-potential systems).
MAX_SFREQ_HZ = 100_000.0
#: Lowest sampling rate accepted, in Hz: a Welch segment of 1 s needs a few samples, and
#: time arithmetic on absurdly small rates overflows.
MIN_SFREQ_HZ = 1.0
#: Most channels accepted. High-density EEG caps have 256 electrodes and MEG systems about
#: 300; 1024 leaves room for combined recordings while bounding per-channel allocations.
MAX_CHANNELS = 1024
#: Longest session with music (run, replay, calibrate, play) and longest preset, in seconds.
MAX_SESSION_S = 4 * 3600
#: Longest raw recording (``record``), in seconds: a day.
MAX_RECORDING_S = 24 * 3600
#: Longest republishing (``stream``) and furthest replay offset (``--start``), in seconds.
MAX_STREAM_S = 7 * 24 * 3600
#: Longest wait for a stream or a stall, in seconds.
MAX_TIMEOUT_S = 3600
