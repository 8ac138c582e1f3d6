"""A scripted in-memory Source: the Source contract, fed numpy arrays in chunks."""

from __future__ import annotations

import mne
import numpy as np

from neurofeed.acquire.base import Source


class ScriptedSource(Source):
    """Delivers ``data`` chunk by chunk, one chunk per :meth:`read`.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        The EEG in volts.
    ch_names : list of str
        Channel names.
    sfreq : float
        Nominal sampling rate in Hz.
    timestamps : ndarray, shape (n_samples,), optional
        LSL times of the samples; default ``start + arange(n) / sfreq``.
    chunk_s : float
        Seconds of samples per read.
    speed : float or "max"
        The clock the loop runs on ("max": virtual).
    signal : str or None
        The description's ``signal`` (what the source sends, when not EEG).

    Attributes
    ----------
    heard : list of MusicState
        The states passed to :meth:`listen`, one per hop.
    """

    def __init__(self, data, ch_names, sfreq=250.0, *, timestamps=None, start=1000.0,
                 chunk_s=0.1, speed="max", signal=None):
        super().__init__()
        self.data = np.asarray(data, dtype=float)
        self._info = mne.create_info(list(ch_names), sfreq, "eeg")
        n = self.data.shape[1]
        self.timestamps = (start + np.arange(n) / sfreq if timestamps is None
                           else np.asarray(timestamps, dtype=float))
        self.chunk = round(chunk_s * sfreq)
        self.speed = speed
        self.signal = signal
        self.position = 0
        self.heard = []

    @property
    def info(self):
        return self._info

    @property
    def description(self) -> dict:
        return {"kind": "scripted", **({"signal": self.signal} if self.signal else {})}

    @property
    def finished(self) -> bool:
        return self.position >= self.data.shape[1]

    def listen(self, state) -> None:
        self.heard.append(state)

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def _pull(self):
        stop = min(self.position + self.chunk, self.data.shape[1])
        data, times = self.data[:, self.position:stop], self.timestamps[self.position:stop]
        self.position = stop
        return data, times

