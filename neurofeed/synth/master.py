"""The master section: volume, fades, limiter and a true-peak ceiling.

Order: volume (rate-capped glide) x fade -> look-ahead limiter under the clip -> a hard clip
:data:`TRUE_PEAK_MARGIN_DB` under the ceiling. The limiter does the work without audible
distortion; the clip is the guarantee that no sample exceeds the ceiling, whatever the
limiter's overshoot, and its margin that no true peak does either: between samples, the
waveform a converter rebuilds (BS.1770-4's 4x oversampled true peak) rises above the samples.

Measured on 15 s renders at the loudest settings (intensity 1, brightness 1, volume 1,
loudness -14 LUFS, ceiling -3 dBFS, binaural 10 Hz or isochronic 40 Hz at level 1), every
palette, at 8, 16, 22.05, 32, 44.1, 48 and 96 kHz: at most 0.0002% of the samples reach the
clip (a 2 ms rise and a 0.3 knee let 1.2-2% reach it at 44.1 kHz), and the
true peak is -3.43 to -4.25 dBFS, at most 0.07 dB over the clip and 0.29 dB over the highest
sample (at 8 kHz, where true peaks rise most above the samples).
"""

from __future__ import annotations

import numpy as np

from neurofeed._check import check_range

#: The ceiling may be set no higher than this (dBFS).
MAX_CEILING_DBFS = -1.0
#: The ceiling may be set no lower than this (dBFS): below it the music is inaudible.
MIN_CEILING_DBFS = -60.0
#: The clip's level under the ceiling (dB). The true peak of the output rises above the clip
#: level by at most 0.07 dB (measured, see the module's notes), so it stays under the ceiling.
TRUE_PEAK_MARGIN_DB = 0.5
# The limiter starts this far below the clip, so the clip rarely has anything to do.
_LIMITER_HEADROOM_DB = 1.5
# pyo's Compress follows each channel's peak with a one-pole rise of _LIMITER_RISE_S (falling
# over 0.25 s) and brings it to 1/_LIMITER_RATIO of its excess over the threshold. A soft knee
# would raise the threshold (by 3 dB x knee), so the knee is hard. The follower climbs only
# while a sample exceeds it, a little at each: with a 2 ms rise it stays under a waveform's
# peaks, which then reach the clip; with 0.1 ms it catches them within the look-ahead.
_LIMITER_RISE_S = 0.0001
_LIMITER_RATIO = 100
# The limiter's look-ahead delays the whole output by this much (pyo truncates it to whole samples).
_LOOKAHEAD_MS = 5.0


#: A fade-in's shape: its power rises from silence to FADE_IN_FLOOR_DB over the first
#: FADE_IN_START share of the fade, then evenly in dB to 0 dB (1.2 dB/s over a 20 s fade).
FADE_IN_FLOOR_DB = -22.0
FADE_IN_START = 0.1
_FADE_POINTS = 2048


def fade_in_gains(points: int = _FADE_POINTS) -> np.ndarray:
    """The gain of a fade-in at ``points`` even steps of its progress, from 0 to 1.

    Loudness should rise at most 3 LU/s once the music is more than 20 LU under its level
    (how tests/musickit judges a fade-in). A linear gain rises at 20 log10((t + 1) / t) dB in
    the second after t seconds whatever the fade's length, and with the pads' own slow
    attacks went over 3 LU/s 3-5 s in (linear power too); a fade even in dB from under that
    quiet level does not.
    """
    progress = np.linspace(0.0, 1.0, points)
    rest = (progress - FADE_IN_START) / (1.0 - FADE_IN_START)
    floor = db_to_amp(FADE_IN_FLOOR_DB)
    return np.where(progress < FADE_IN_START, floor * np.sqrt(np.clip(progress / FADE_IN_START, 0, 1)),
                    db_to_amp(FADE_IN_FLOOR_DB * (1.0 - rest)))


class FadeIn:
    """A fade-in gain (:attr:`gain`, a pyo signal) shaped by :func:`fade_in_gains`.

    Parameters
    ----------
    pyo : module
        The pyo module.
    on : bool
        Start at full gain (True) or silent (False).
    """

    def __init__(self, pyo, on: bool = False):
        self._progress = pyo.SigTo(float(on), time=0.0, init=float(on))
        self._table = pyo.DataTable(_FADE_POINTS, init=fade_in_gains().tolist())
        # Lookup reads its table over an index from -1 to 1.
        self.gain = pyo.Lookup(self._table, self._progress * 2.0 - 1.0)

    def start(self, seconds: float) -> None:
        """Fade in from where the gain is to full over ``seconds``."""
        self._progress.time = seconds
        self._progress.value = 1.0


def db_to_amp(db: float) -> float:
    """Linear amplitude of a level in dB (0 dB = 1.0)."""
    return 10.0 ** (db / 20.0)


class Master:
    """Volume, fade, limiter and ceiling applied to a stereo signal.

    Parameters
    ----------
    pyo : module
        The pyo module.
    source : PyoObject
        The stereo mix.
    sample_rate : float
        Hz.
    ceiling_dbfs : float
        Output ceiling in dBFS, at most :data:`MAX_CEILING_DBFS`, for samples and true peaks.
    volume : float
        Starting master volume, 0-1.
    glide_s : float
        Shortest time (seconds) a volume change takes.
    max_volume_rate_per_s : float
        The most the volume may change per second (full scale is 1.0).
    """

    def __init__(self, pyo, source, *, sample_rate: float, ceiling_dbfs: float, volume: float,
                 glide_s: float, max_volume_rate_per_s: float):
        self.ceiling = db_to_amp(check_range("ceiling_dbfs", ceiling_dbfs, MIN_CEILING_DBFS, MAX_CEILING_DBFS,
                                             unit=" dBFS"))
        self._glide_s = glide_s
        self._max_rate = check_range("max_volume_rate_per_s", max_volume_rate_per_s, 0.0, 1000.0,
                                     unit=" per s", low_inclusive=False)
        self._volume = pyo.SigTo(volume, time=glide_s, init=volume)
        # A fade-out lowers the gain linearly, which falls faster in dB at its end, so a stopped
        # session ends promptly.
        self._fade_in = FadeIn(pyo)
        self._fade_out = pyo.SigTo(1.0, time=0.0, init=1.0)
        self._gain = self._volume * self._fade_in.gain * self._fade_out
        self._pre = source * self._gain
        threshold_dbfs = ceiling_dbfs - TRUE_PEAK_MARGIN_DB - _LIMITER_HEADROOM_DB
        self._limiter = pyo.Compress(self._pre, thresh=threshold_dbfs, ratio=_LIMITER_RATIO,
                                     risetime=_LIMITER_RISE_S, falltime=0.25, lookahead=_LOOKAHEAD_MS,
                                     knee=0.0)
        #: Samples by which the output lags the graph (the look-ahead).
        self.latency_samples = int(_LOOKAHEAD_MS * sample_rate / 1000.0)
        clip = self.ceiling * db_to_amp(-TRUE_PEAK_MARGIN_DB)
        self.output = pyo.Clip(self._limiter, min=-clip, max=clip)

    def set_volume(self, volume: float) -> None:
        """Glide to ``volume`` over ``glide_s``, or slower if the rate cap demands it."""
        step = abs(volume - self._volume.get())
        self._volume.time = max(self._glide_s, step / self._max_rate)
        self._volume.value = volume

    def fade_in(self, seconds: float) -> None:
        """Fade in from silence over ``seconds`` (:func:`fade_in_gains`)."""
        self._fade_in.start(seconds)

    def fade_out(self, seconds: float) -> None:
        """Fade out to silence over ``seconds``, the gain falling linearly in time."""
        self._fade_out.time = seconds
        self._fade_out.value = 0.0
