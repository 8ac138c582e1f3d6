"""Artifact windows: broadband power far above the subject's own baseline.

A blink, a jaw clench or a movement puts power into every band, the rewarded one too: on
the OpenBCI sample a burst at 87-90 s drove posterior alpha power to 30 z over an eyes-open
baseline (full reward). Such a window is told apart by its broadband power (the
``broadband_v2`` feature: 1-40 Hz outside the rewarded 4-13 Hz) set against the same
subject's baseline: above :data:`BROADBAND_LIMIT` times the baseline's median it is an
artifact window. Its samples stay in the windows that follow for one window length
(``window_s``), so those are artifact windows too. The loop gives the protocol no feedback
value for an artifact window (no reward, the music holds:
:meth:`neurofeed.protocol.Protocol.step`), writes the reason in ``features.tsv`` and counts
it. Without a baseline, or without ``broadband_v2`` in the window or the baseline, no
window is judged.
"""

from __future__ import annotations

import math

from neurofeed.bands import Baseline, Features
from neurofeed.registry import BROADBAND

#: The registry key of the feature that makes an artifact window, as features and
#: baselines carry it.
BROADBAND_KEY = BROADBAND.key
#: Broadband power above this many times the baseline's median makes an artifact window.
#: Measured on the OpenBCI sample (8 channels, Cyton montage) against its eyes-open first
#: 25 s: the baseline's windows have a 90th percentile of 1.7 times their median and exceed
#: 3 in 1.3% of windows (its largest blinks); the 87-90 s burst exceeds 3 from 87.2 s to
#: 89.2 s (peak 4.6); eyes closed stays at 0.2-0.4. Eyes-open recordings with frequent
#: blinks have heavier tails: above 3 in 11% of S001R01's windows, 20% of UCI Eye State's.
BROADBAND_LIMIT = 3.0


class ArtifactGate:
    """Judges one source's windows against its baseline's broadband power.

    Parameters
    ----------
    window_s : float
        The windows' length, in seconds: how long an artifact's samples stay in them.
    """

    def __init__(self, window_s: float):
        self.window_s = window_s
        self._last_time = -math.inf  # the newest artifact window's time
        self._last_ratio = 0.0  # and its broadband power over the baseline's median

    def reset(self) -> None:
        """Forget the last artifact window (after a gap, no window holds its samples)."""
        self._last_time = -math.inf

    def judge(self, features: Features, baseline: Baseline | None, time_s: float) -> str | None:
        """Return why the window is an artifact window, or None when it is not one.

        Parameters
        ----------
        features : Features
            The window's features.
        baseline : Baseline or None
            The subject's baseline.
        time_s : float
            The window's time (its newest sample), in seconds.

        Returns
        -------
        reason : str or None
            ``"artifact window: broadband power N x baseline"`` (N to 0.1), or, for a window
            still holding an earlier artifact window's samples, ``"... x baseline T s
            before"``; None when it is not an artifact window.
        """
        value = getattr(features, BROADBAND_KEY, None)
        stats = None if baseline is None else baseline.stats.get(BROADBAND_KEY)
        median = 0.0 if stats is None else stats.percentiles[50]
        if value is not None and median > 0 and value > BROADBAND_LIMIT * median:
            self._last_time, self._last_ratio = time_s, value / median
            return f"artifact window: broadband power {self._last_ratio:.1f} x baseline"
        since = time_s - self._last_time
        if since < self.window_s:
            return (f"artifact window: broadband power {self._last_ratio:.1f} x baseline "
                    f"{since:.1f} s before")
        return None
