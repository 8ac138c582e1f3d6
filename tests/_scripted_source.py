"""A scripted in-memory Source: the Source contract, fed numpy arrays in chunks; and a
session of the real loop on one."""

from __future__ import annotations

import mne
import numpy as np

from neurofeed.acquire.base import Source
from neurofeed.loop import ClosedLoop
from neurofeed.loop.calibrator import baseline_means
from neurofeed.protocol import Protocol
from neurofeed.recorder import SessionRecorder


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

    @classmethod
    def from_raw(cls, raw: mne.io.BaseRaw, **kwargs) -> ScriptedSource:
        """Deliver a recording read with MNE (its EEG channels, in volts)."""
        raw = raw.copy().pick("eeg")
        return cls(raw.get_data(), raw.ch_names, raw.info["sfreq"], **kwargs)

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



def run_scripted(folder, source, preset, *, baseline=None, flush_interval_s=0.25, **loop_kwargs):
    """Run one session of ``preset`` on ``source`` through the real ClosedLoop and recorder,
    into ``folder``; return (result, loop)."""
    with source, SessionRecorder(folder, source.info, {"subject": "T01"},
                                 flush_interval_s=flush_interval_s) as recorder:
        protocol = Protocol(preset)
        if baseline is not None:  # as the session does, before its engine starts
            protocol.calibrate(baseline_means(baseline))
        loop = ClosedLoop(source, protocol, recorder, baseline=baseline, subject="T01", **loop_kwargs)
        result = loop.run()
        loop.record_score()
    return result, loop


#: A small 10-20 montage with a posterior region, a frontal midline and an F4/F3 pair.
MONTAGE = ["Fz", "F3", "F4", "Cz", "Pz", "O1", "Oz", "O2"]


def read_s001(shared_eeg) -> mne.io.BaseRaw:
    """PhysioNet S001R01 (../shared/data/eeg): 61 s resting with eyes open, 64 channels
    (F3/F4, Fz, O1/Oz/O2 ...), 160 Hz, named as MNE's eegbci standardize names them."""
    raw = mne.io.read_raw_edf(shared_eeg / "S001R01.edf", preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    return raw


def stationary_eeg(seconds: float, *, sfreq: float = 250.0, alpha_uv: float = 6.0,
                   beta_uv: float = 1.5, seed: int = 0) -> np.ndarray:
    """A stationary EEG-like signal on :data:`MONTAGE`, in volts.

    A 1/f background (about 10 uV RMS per channel), 10 Hz alpha (posterior at
    ``alpha_uv``, frontal midline at half of it, as volume conduction carries it), frontal
    6 Hz theta, 20 Hz beta, and an alpha on F3 and F4 each; every rhythm's amplitude
    wanders as the exponential of a slow random process (correlation time about 2 s, as
    real alpha waxes and wanes), the same statistics throughout.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    t = np.arange(n) / sfreq
    freqs = np.fft.rfftfreq(n, 1 / sfreq)
    shape = 1 / np.sqrt(np.maximum(freqs, 0.5))  # 1/f power
    pink = np.fft.irfft(np.fft.rfft(rng.normal(size=(len(MONTAGE), n))) * shape, n)
    data = 10e-6 * pink / pink.std(axis=1, keepdims=True)

    def wandering(scale_uv: float) -> np.ndarray:
        # An AR(1) process with a 2 s correlation time, sampled at 10 Hz and interpolated.
        slow = np.zeros(int(seconds * 10) + 2)
        a = np.exp(-0.1 / 2.0)
        for i in range(1, slow.size):
            slow[i] = a * slow[i - 1] + np.sqrt(1 - a * a) * rng.normal()
        return scale_uv * 1e-6 * np.exp(0.4 * np.interp(t, np.arange(slow.size) / 10, slow))

    def rhythm(hz: float, scale_uv: float) -> np.ndarray:
        return wandering(scale_uv) * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi))

    alpha = rhythm(10.0, alpha_uv)
    for name in ("Pz", "O1", "Oz", "O2"):
        data[MONTAGE.index(name)] += alpha
    for name in ("Fz", "Cz"):
        data[MONTAGE.index(name)] += alpha / 2
    theta = rhythm(6.0, 3.0)
    for name in ("Fz", "F3", "F4", "Cz"):
        data[MONTAGE.index(name)] += theta
    data += rhythm(20.0, beta_uv)
    for name in ("F3", "F4"):
        data[MONTAGE.index(name)] += rhythm(10.0, 3.0)
    return data
