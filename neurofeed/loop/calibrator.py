"""The session's baseline: a stored one, or one calibrated from its baseline phase.

The calibrator is the one place a session expresses features against a baseline
(:meth:`neurofeed.bands.Baseline.normalise`, and the feedback feature on the scale the
protocol smooths, :class:`~neurofeed.loop.scale.FeedbackScale`). Without a stored
baseline it collects the windows of the baseline phase and, once the phase is over,
calibrates from them. When they do not hold enough values of the feedback feature
(electrodes off, all artifacts, a short phase), it says so once and keeps collecting,
calibrating as soon as they do. Meanwhile it keeps the running means of the windows so far
(:meth:`BaselineCalibrator.running_means`): an iso preset's music follows them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from neurofeed.bands import Baseline, Features
from neurofeed.errors import InvalidArgumentError
from neurofeed.loop.artifact import ArtifactGate
from neurofeed.loop.scale import FeedbackScale
from neurofeed.registry import BY_KEY

logger = logging.getLogger(__name__)

#: A session's baseline needs at least this many windows with the feedback feature (2 s of hops).
MIN_BASELINE_WINDOWS = 20


#: What to do about a calibrated baseline's shortfall.
SHORTFALL_ADVICE = "a longer or cleaner baseline period"


def _shortfall(n: int, std: float, feedback: str) -> str | None:
    """Why ``n`` values of ``feedback`` with standard deviation ``std`` make no baseline, or None.

    Without :data:`MIN_BASELINE_WINDOWS` values with some spread, z-scores would be
    undefined or meaningless. The reason says what is missing, not what to do about it.
    """
    if n >= MIN_BASELINE_WINDOWS and std > 0:
        return None
    return (f"the baseline has {n} windows with {feedback}; at least {MIN_BASELINE_WINDOWS} "
            "with some spread are needed")


def baseline_shortfall(baseline: Baseline, feedback: str) -> str | None:
    """Why ``baseline`` cannot give z-scores of the feature ``feedback``, or None when it can.

    Parameters
    ----------
    baseline : Baseline
        A stored or calibrated baseline.
    feedback : str
        The estimator key of the feedback feature (:attr:`neurofeed.registry.FeatureDef.key`).

    Returns
    -------
    why : str or None
        Unless it has :data:`MIN_BASELINE_WINDOWS` values of the feature with some spread,
        what it has (a baseline without the feature at all has 0 windows of it).
    """
    stats = baseline.stats.get(feedback)
    return _shortfall(0, 0.0, feedback) if stats is None else _shortfall(stats.n, stats.std, feedback)


def check_baseline(baseline: Baseline, feedback: str) -> None:
    """Raise unless ``baseline`` can give z-scores of the feature ``feedback``.

    Raises
    ------
    InvalidArgumentError
        Unless it has :data:`MIN_BASELINE_WINDOWS` values of the feature with some spread
        (see :func:`baseline_shortfall`).
    """
    why = baseline_shortfall(baseline, feedback)
    if why is not None:
        raise InvalidArgumentError(f"{why} ({SHORTFALL_ADVICE})")


def baseline_means(baseline: Baseline) -> dict[str, float]:
    """Return each feature's baseline mean by its features.tsv column (what
    :meth:`neurofeed.protocol.Protocol.calibrate` starts an iso preset from)."""
    return {BY_KEY[key].column: stats.mean for key, stats in baseline.stats.items()}


class BaselineCalibrator:
    """One source's baseline during a session.

    Parameters
    ----------
    feedback : str
        The estimator key of the preset's feedback feature.
    settings : mapping
        The estimator settings (:attr:`neurofeed.bands.FeatureExtractor.settings`),
        stored with a calibrated baseline.
    subject : str
        The subject, for a calibrated baseline.
    baseline : Baseline or None
        A stored baseline, used as it is; None to calibrate one.
    smoothing_s : float
        The protocol's smoothing time constant, in seconds (the preset's
        ``[feedback].smoothing_s``): the feedback scale's spread is that of the baseline
        smoothed so.
    window_s : float
        The windows' length, in seconds (artifact windows are judged as the loop judges
        them, :class:`~neurofeed.loop.artifact.ArtifactGate`).

    Attributes
    ----------
    baseline : Baseline or None
        The baseline in use; None until one is calibrated.
    scale : FeedbackScale or None
        The feedback feature's scale against it; None until then.
    """

    def __init__(self, feedback: str, settings: Mapping[str, object], subject: str,
                 baseline: Baseline | None = None, smoothing_s: float = 0.0,
                 window_s: float = 2.0):
        if feedback not in BY_KEY:
            raise InvalidArgumentError(f"feedback must be a feature key ({', '.join(BY_KEY)}), "
                                       f"got {feedback!r}")
        self.feedback = feedback
        self.settings = settings
        self.subject = subject
        self.smoothing_s = smoothing_s
        self.window_s = window_s
        # Powers and ratios on a log scale; features already in ln as they are.
        self._log = BY_KEY[feedback].unit != "ln"
        self.baseline = baseline
        self.scale = (None if baseline is None or feedback not in baseline.stats else
                      FeedbackScale.from_stats(baseline.stats[feedback], smoothing_s, self._log))
        self._windows: list[Features] = []
        self._times: list[float] = []  # their times
        self._values: list[float] = []  # the feedback feature's finite values among them
        self._sums = dict.fromkeys(BY_KEY, 0.0)  # of each feature's finite values, and counts
        self._counts = dict.fromkeys(BY_KEY, 0)
        self._said_insufficient = False

    def add(self, features: Features, phase: str, time_s: float) -> str | None:
        """Take one window's features; in training and cool-down, calibrate when possible.

        In the ``done`` phase (the session's last hop) the window is only collected: a
        baseline-only session calibrates in :meth:`finish`, which says why if it cannot.

        Parameters
        ----------
        features : Features
            The window's features.
        phase : str
            The protocol phase at this hop.
        time_s : float
            The window's time, in seconds.

        Returns
        -------
        marker : str or None
            ``"baseline:calibrated"`` when this window's turn calibrated the baseline,
            ``"baseline:insufficient"`` the first time the windows so far were not enough,
            else None.
        """
        if self.baseline is not None:
            return None
        marker = None
        if phase in ("training", "cooldown"):
            why = self._why_not()
            if why is None:
                self._calibrate("session baseline")
                self._windows, self._values, self._times = [], [], []
                return "baseline:calibrated"
            if not self._said_insufficient:
                self._said_insufficient = True
                # The marker and the status line say it; a warning line on stderr would sit
                # beside the one-line error of a session that then fails for another reason.
                logger.info("baseline not yet usable: %s", why)
                marker = "baseline:insufficient"
        self._windows.append(features)
        self._times.append(time_s)
        for key, value in features.as_dict().items():
            if value is not None and math.isfinite(value):
                self._sums[key] += value
                self._counts[key] += 1
                if key == self.feedback:
                    self._values.append(value)
        return marker

    def running_means(self) -> dict[str, float]:
        """Return each feature's mean over the windows so far, by its features.tsv column
        (features without a value yet are left out), as :func:`baseline_means` does for a
        baseline: an iso preset's match during the baseline phase."""
        return {BY_KEY[key].column: total / self._counts[key]
                for key, total in self._sums.items() if self._counts[key]}

    def normalise(self, features: Features) -> dict[str, float | None] | None:
        """Return the window's z-scores by feature key, or None without a baseline yet."""
        return None if self.baseline is None else self.baseline.normalise(features)

    def feedback_z(self, features: Features) -> float | None:
        """Return the feedback feature on its scale (:class:`FeedbackScale`: in spreads of the
        baseline's smoothed values), or None without a value or a baseline yet."""
        return None if self.scale is None else self.scale.z(getattr(features, self.feedback))

    def shortfall(self) -> str | None:
        """Why :meth:`finish` could not calibrate a baseline now (the windows so far hold too
        few values of the feedback feature), or None when it can or a baseline is in use."""
        return None if self.baseline is not None else self._why_not()

    def finish(self) -> Baseline:
        """Return the baseline, calibrating it from every window so far if there is none
        (a baseline-only session).

        Raises
        ------
        InvalidArgumentError
            When the windows hold too few values of the feedback feature
            (:meth:`shortfall` says why, without advice).
        """
        if self.baseline is None:
            why = self._why_not()
            if why is not None:
                raise InvalidArgumentError(f"{why} ({SHORTFALL_ADVICE})")
            self._calibrate("calibration")
        return self.baseline

    def _why_not(self) -> str | None:
        std = float(np.std(self._values)) if len(self._values) >= MIN_BASELINE_WINDOWS else 0.0
        return _shortfall(len(self._values), std, self.feedback)

    def _calibrate(self, condition: str) -> None:
        """Calibrate the baseline, and the feedback scale from the series of its windows.

        The scale is measured on the windows the protocol would have been given: artifact
        windows (judged against this baseline) left out, as the loop leaves them out of
        the feedback; too few left, the baseline's statistics give it.
        """
        baseline = Baseline.calibrate(self._windows, subject=self.subject, condition=condition,
                                      settings=self.settings)
        gate = ArtifactGate(self.window_s)
        values, times = [], []
        for features, time_s in zip(self._windows, self._times, strict=True):
            value = getattr(features, self.feedback)
            if (gate.judge(features, baseline, time_s) is None and value is not None
                    and math.isfinite(value)):
                values.append(value)
                times.append(time_s)
        self.baseline = baseline
        self.scale = (FeedbackScale.from_series(values, times, self.smoothing_s, self._log)
                      or FeedbackScale.from_stats(baseline.stats[self.feedback], self.smoothing_s,
                                                  self._log))
