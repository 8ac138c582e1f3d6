"""The feedback scale: the fed-back feature against its baseline, in the units it moves in.

The protocol smooths the feedback z-score with the preset's ``smoothing_s`` before it scores
and rewards it. A z-score against the spread of single 2 s windows was far too confident:
smoothing removes most of that spread, so an unchanged state gave a smoothed z of a
fraction of 1 and a real change one of tens (eyes closed against an eyes-open baseline:
about 24); the score pinned at 1 and reward at 100%. Measured on the real recordings of
``../shared/data/eeg`` (OpenBCI sample channels 7-8 eyes open 2-25 s, S001R01 eyes open,
UCI Eye State), the scale is:

**Logarithmic.** A feature not already in ln units (a power or a power ratio) is taken as
its natural log: power ratios are right-skewed (alpha/theta skewness 0.6-1.9 over the
windows of the three recordings, 0.2-0.4 logged), and a rise from 1x to 5x is as far as
from 5x to 25x. The built-ins' alpha and theta are log relative powers already (see
:mod:`neurofeed.registry`), and frontal asymmetry is a log ratio.

**In spreads of the smoothed baseline.** The spread is that of the baseline's values after
the same exponential smoothing the protocol applies (:meth:`FeedbackScale.from_series`),
so that on an unchanged state the smoothed z has a standard deviation of 1 and reward
above ``reward_z`` comes as often as the preset states (replaying S001R01 after calibrating
on it: mean 0.2-0.3, standard deviation 0.9-1.1 for all four built-ins). Smoothing over 2-4
s keeps 30-80% of the single windows' spread, depending on the feature and the recording
(overlapping windows are correlated, and real EEG wanders slowly): too varied for a
constant, so the ratio is measured on the baseline itself. A stored baseline keeps only
each feature's percentiles (:meth:`FeedbackScale.from_stats`): its windows' spread is then
scaled by ``sqrt(tau_c / (tau_c + smoothing_s))``, the ratio for a process with
correlation time :data:`CORRELATION_S`.

Eyes closed against the OpenBCI sample's eyes-open baseline then gives a smoothed z of
about 4-10 rather than 24: still far above any reward threshold, so the score is mapped on
a compressed scale (:func:`neurofeed.protocol.mapping.compress_z`) to keep a gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurofeed.bands.baseline import ExponentialSmoother, FeatureStats
from neurofeed.errors import InvalidArgumentError

#: The correlation time of a feature's series of 2 s windows every 0.1 s, in seconds: with
#: it, ``sqrt(tau_c / (tau_c + tau))`` is the median over the shared recordings and the
#: fed-back features of the spread kept by smoothing with ``tau`` = 2, 3 and 4 s (0.53,
#: 0.46, 0.41; measured 0.30-0.80).
CORRELATION_S = 0.8
#: A baseline series shorter than this many smoothing time constants gives too few
#: independent stretches to measure the smoothed spread; the model above is used instead.
MIN_SERIES_TAUS = 10.0


@dataclass(frozen=True)
class FeedbackScale:
    """Where a feature's baseline is, and how much its smoothed value wanders there.

    Attributes
    ----------
    center : float
        The baseline's mean, in the feature's unit, or of its natural log when ``log``.
    spread : float
        The standard deviation of the baseline's exponentially smoothed values, in the
        same unit (above 0).
    log : bool
        Whether the feature is taken as its natural log.
    """

    center: float
    spread: float
    log: bool

    def z(self, value: float | None) -> float | None:
        """Return ``value`` against the baseline, in smoothed spreads (None: None, or a
        non-positive value on a log scale)."""
        if value is None:
            return None
        if self.log:
            if not value > 0:
                return None
            value = math.log(value)
        return (value - self.center) / self.spread

    @classmethod
    def from_series(cls, values: Sequence[float], times: Sequence[float], smoothing_s: float,
                    log: bool) -> FeedbackScale | None:
        """Measure the scale on a baseline's series of windows.

        Parameters
        ----------
        values : sequence of float
            The feature's finite values, one per window, in time order.
        times : sequence of float
            Their times, in seconds.
        smoothing_s : float
            The protocol's smoothing time constant, in seconds.
        log : bool
            Take the natural log, where every value is above 0 (powers and ratios are).

        Returns
        -------
        scale : FeedbackScale or None
            None when the values have no spread. A series shorter than
            :data:`MIN_SERIES_TAUS` time constants gives :meth:`from_stats`'s model.
        """
        x = np.asarray(values, dtype=float)
        if x.size < 2:
            return None
        log = log and bool(np.all(x > 0))
        if times[-1] - times[0] < MIN_SERIES_TAUS * smoothing_s:
            return cls.from_stats(FeatureStats.of(x), smoothing_s, log)
        if log:
            x = np.log(x)
        smoother = ExponentialSmoother(smoothing_s)
        smoothed = np.array([smoother.update({"x": v}, t)["x"]
                             for v, t in zip(x.tolist(), times, strict=True)])
        center = float(np.mean(x))
        spread = float(np.sqrt(np.mean((smoothed - center) ** 2)))
        return cls(center, spread, log) if spread > 0 else None

    @classmethod
    def from_stats(cls, stats: FeatureStats, smoothing_s: float, log: bool) -> FeedbackScale | None:
        """The scale of a stored baseline, from its percentiles of single windows.

        The center is the median of the values (their natural log when ``log`` and every
        percentile is above 0), the spread half their 16th-84th percentile range, scaled to
        the smoothing by the model of :data:`CORRELATION_S`. None when there is no spread.
        """
        if not smoothing_s >= 0:
            raise InvalidArgumentError(f"smoothing_s must be >= 0 s, got {smoothing_s!r}")
        q = np.asarray(stats.percentiles, dtype=float)
        log = log and bool(np.all(q > 0))
        if log:
            q = np.log(q)
        # The median and half the 16th-84th percentile range: the standard deviation of a
        # normal distribution, but not pulled by the artifact windows a stored baseline
        # could not leave out.
        center = float(q[50])
        spread = float(np.interp([15.87, 84.13], np.arange(q.size), q) @ [-0.5, 0.5])
        spread *= math.sqrt(CORRELATION_S / (CORRELATION_S + smoothing_s))
        return cls(center, spread, log) if spread > 0 else None
