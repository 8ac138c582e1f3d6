"""Artifact flags per channel and window, from the window's band powers.

Every flag is computed from powers the estimator already has (no second pass over the
samples), so it costs a few comparisons per channel and hop:

========== ==================================================================== =========
flag       raised when                                                          default
========== ==================================================================== =========
nonfinite  a sample in the window is NaN or inf (its spectrum is then not       -
           finite, in every bin)
flat       RMS amplitude over the total range (1-40 Hz) below ``min_rms_v``:    0.5 µV
           a dead, disconnected, flat or railed (stuck at the amplifier's
           limit) channel
amplitude  RMS amplitude over the total range *outside* ``excluded_hz``         100 µV,
           (4-13 Hz, the rewarded theta and alpha) above ``max_rms_v``:         250 µV
           blinks, eye or head movement, electrode pops; or RMS amplitude
           over the whole total range above ``max_total_rms_v``, which no
           EEG rhythm reaches
muscle     RMS amplitude in ``muscle_band_hz`` (30-45 Hz) above                 15 µV
           ``max_muscle_rms_v``: jaw clenching, frowning, neck tension
line       power within ±1.5 Hz of 50 or 60 Hz more than ``max_line_ratio``     1000
           times the total-range power: a loose or unscreened electrode
========== ==================================================================== =========

RMS amplitudes are band-limited: the square root of the band's power (Parseval), so
slow drift, DC offsets and line noise outside the band do not count. Measured on the
recordings in ``../shared/data/eeg`` (2 s windows): clean EEG has a 1-40 Hz RMS of
15-40 µV (99th percentile 84-89 µV off the frontal channels of S001R01, where lateral eye
movements reach 150 µV on F7), blinks on Fp channels 90-260 µV; 30-45 Hz RMS is 5-10 µV
at rest and 15-47 µV during jaw clenches. Unnotched consumer recordings routinely carry
10-500 times more power at the line frequency than in 1-40 Hz without harming the bands
(a Hann taper leaks at most -70 dB ten bins away: at the default ratio, 50 Hz adds under
1e-4 of the total-range power to the bins near 40 Hz), hence the high default.

**Why the amplitude flag leaves 4-13 Hz out.** The flag exists to catch what is not
brain activity; counting the band a preset rewards would flag a channel for the very
alpha (or theta) it should reward, at its peak: a channel with relative alpha 0.6 and a
1-40 Hz RMS of 110 µV has only 70 µV outside 4-13 Hz. A blink's power is below 4 Hz,
so it is still caught: on S001R01 the Fp channels are flagged in 75 windows (96 when
4-13 Hz counted) and O1/Oz/O2 in none. ``max_total_rms_v`` keeps a last check on the
whole range for artifacts inside 4-13 Hz: alpha reaches 30 µV RMS on the OpenBCI
sample's O1/O2 with eyes closed and 70-80 µV in the strongest recordings, far from
250 µV (blinks and the sample's jaw-clench burst reach 120-260 µV). See
docs/artifact-feedback-policy.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurofeed._check import check_range
from neurofeed.bands.bandset import Band, BandSet
from neurofeed.errors import InvalidArgumentError

#: The flags, in the column order of :attr:`ArtifactFlags.flags`; the first two mark a
#: dead channel (:attr:`ArtifactFlags.dead`).
ARTIFACT_KINDS = ("nonfinite", "flat", "amplitude", "muscle", "line")

_LINE_HALF_WIDTH_HZ = 1.5


@dataclass(frozen=True)
class ArtifactThresholds:
    """Thresholds of the artifact flags (see the module's table).

    Attributes
    ----------
    min_rms_v : float
        Below this RMS amplitude over the total range (V), a channel is ``flat``.
    max_rms_v : float
        Above this RMS amplitude over the total range outside ``excluded_hz`` (V), a
        channel has ``amplitude``.
    excluded_hz : tuple of float
        The half-open band ``[lo, hi)`` in Hz, within the total range, that
        ``max_rms_v`` does not count: the rhythms presets reward (theta and alpha, with
        the alpha peak's range).
    max_total_rms_v : float
        Above this RMS amplitude over the whole total range (V), a channel has
        ``amplitude`` too; at least ``max_rms_v``.
    muscle_band_hz : tuple of float
        The half-open band ``[lo, hi)`` in Hz where muscle activity is measured; below 50
        Hz by default so that line noise does not count.
    max_muscle_rms_v : float
        Above this RMS amplitude in ``muscle_band_hz`` (V), a channel has ``muscle``.
    line_hz : tuple of float
        The mains frequencies checked, in Hz. Those within 1.5 Hz of the Nyquist
        frequency or above it are skipped.
    max_line_ratio : float
        Above this ratio of line power (within ±1.5 Hz) to total-range power, a channel
        has ``line``.
    """

    min_rms_v: float = 0.5e-6
    max_rms_v: float = 100e-6
    excluded_hz: tuple[float, float] = (4.0, 13.0)
    max_total_rms_v: float = 250e-6
    muscle_band_hz: tuple[float, float] = (30.0, 45.0)
    max_muscle_rms_v: float = 15e-6
    line_hz: tuple[float, ...] = (50.0, 60.0)
    max_line_ratio: float = 1000.0

    def __post_init__(self):
        check_range("min_rms_v", self.min_rms_v, 0, math.inf, unit=" V")
        check_range("max_rms_v", self.max_rms_v, self.min_rms_v, math.inf,
                    unit=" V (above min_rms_v)", low_inclusive=False)
        check_range("max_total_rms_v", self.max_total_rms_v, self.max_rms_v, math.inf,
                    unit=" V (at least max_rms_v)")
        check_range("max_muscle_rms_v", self.max_muscle_rms_v, 0, math.inf, unit=" V",
                    low_inclusive=False)
        check_range("max_line_ratio", self.max_line_ratio, 0, math.inf, low_inclusive=False)
        for name in ("muscle_band_hz", "excluded_hz"):
            edges = getattr(self, name)
            if len(edges) != 2:
                raise InvalidArgumentError(f"{name} must be (lo, hi) in Hz, got {edges!r}")
            Band(name.removesuffix("_hz"), *edges)
        for f in self.line_hz:
            check_range("line_hz", f, _LINE_HALF_WIDTH_HZ, math.inf, unit=" Hz",
                        low_inclusive=False)


@dataclass(frozen=True)
class ArtifactFlags:
    """The artifact flags of one window, per channel.

    Attributes
    ----------
    ch_names : tuple of str
        The channels, in row order.
    flags : ndarray of bool, shape (n_channels, len(ARTIFACT_KINDS))
        ``flags[c, k]`` is True when channel c has artifact ``ARTIFACT_KINDS[k]``.
    rms_v : ndarray, shape (n_channels,)
        RMS amplitude over the total range, in V.
    outside_rms_v : ndarray, shape (n_channels,)
        RMS amplitude over the total range outside the excluded band, in V.
    muscle_rms_v : ndarray, shape (n_channels,)
        RMS amplitude in the muscle band, in V.
    line_ratio : ndarray, shape (n_channels,)
        The largest ratio of line power to total-range power (NaN when no line
        frequency lies below the Nyquist frequency).
    """

    ch_names: tuple[str, ...]
    flags: np.ndarray
    rms_v: np.ndarray
    outside_rms_v: np.ndarray
    muscle_rms_v: np.ndarray
    line_ratio: np.ndarray

    @property
    def bad(self) -> np.ndarray:
        """ndarray of bool, shape (n_channels,): channels with any flag."""
        return self.flags.any(axis=1)

    @property
    def dead(self) -> np.ndarray:
        """ndarray of bool, shape (n_channels,): channels with no signal to measure,
        ``nonfinite`` or ``flat``."""
        return self.flags[:, :2].any(axis=1)

    def kinds(self, channel: int) -> tuple[str, ...]:
        """Return the flags raised on one channel (by index), in ``ARTIFACT_KINDS`` order."""
        return tuple(k for k, on in zip(ARTIFACT_KINDS, self.flags[channel]) if on)

    def describe(self, channels: Sequence[int]) -> str:
        """Return e.g. ``"O1 (amplitude), O2 (muscle, line)"`` for the flagged ones."""
        return ", ".join(f"{self.ch_names[c]} ({', '.join(self.kinds(c))})"
                         for c in channels if self.flags[c].any())


class ArtifactDetector:
    """Flags channels of a window from its band powers.

    Parameters
    ----------
    thresholds : ArtifactThresholds
        The thresholds.
    sfreq : float
        The sampling rate in Hz; it decides which line frequencies can be checked.
    """

    def __init__(self, thresholds: ArtifactThresholds, sfreq: float):
        if not isinstance(thresholds, ArtifactThresholds):
            raise InvalidArgumentError(
                f"thresholds must be an ArtifactThresholds, got {thresholds!r}")
        self.thresholds = thresholds
        lines = [f for f in thresholds.line_hz if f + _LINE_HALF_WIDTH_HZ <= sfreq / 2]
        #: The bands whose powers :meth:`flags` needs after the total range's, in order.
        self.bands = BandSet(
            [Band("_excluded", *thresholds.excluded_hz), Band("_muscle", *thresholds.muscle_band_hz)]
            + [Band(f"_line{i}", f - _LINE_HALF_WIDTH_HZ, f + _LINE_HALF_WIDTH_HZ)
               for i, f in enumerate(lines)])

    def flags(self, ch_names: tuple[str, ...], total_v2: np.ndarray,
              band_v2: np.ndarray) -> ArtifactFlags:
        """Flag each channel of one window.

        Parameters
        ----------
        ch_names : tuple of str
            Channel names, in row order.
        total_v2 : ndarray, shape (n_channels,)
            Power over the total range, in V².
        band_v2 : ndarray, shape (n_channels, len(self.bands))
            Powers of :attr:`bands`, in V².
        """
        t = self.thresholds
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(total_v2)
            # The excluded band lies within the total range; rounding must not make the
            # difference negative.
            outside_rms = np.sqrt(np.maximum(total_v2 - band_v2[:, 0], 0.0))
            muscle_rms = np.sqrt(band_v2[:, 1])
            lines = band_v2[:, 2:]
            line_ratio = (lines.max(axis=1) / total_v2 if lines.shape[1]
                          else np.full(len(total_v2), np.nan))
            nonfinite = ~(np.isfinite(total_v2) & np.isfinite(band_v2).all(axis=1))
            flags = np.column_stack([
                nonfinite,
                rms < t.min_rms_v,
                (outside_rms > t.max_rms_v) | (rms > t.max_total_rms_v),
                muscle_rms > t.max_muscle_rms_v,
                line_ratio > t.max_line_ratio,
            ])
        return ArtifactFlags(ch_names, flags, rms, outside_rms, muscle_rms, line_ratio)
