"""The session's baseline: a stored one, or one calibrated from its baseline phase.

The calibrator is the one place a session expresses features against a baseline
(:meth:`neurofeed.bands.Baseline.normalise`). Without a stored baseline it collects the
windows of the baseline phase and, once the phase is over, calibrates from them. When they
do not hold enough values of the feedback feature (electrodes off, all artifacts, a short
phase), it says so once and keeps collecting, calibrating as soon as they do.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from neurofeed.bands import Baseline, Features
from neurofeed.errors import InvalidArgumentError
from neurofeed.registry import BY_KEY

logger = logging.getLogger(__name__)

#: A session's baseline needs at least this many windows with the feedback feature (2 s of hops).
MIN_BASELINE_WINDOWS = 20


def _shortfall(n: int, std: float, feedback: str) -> str | None:
    """Why ``n`` values of ``feedback`` with standard deviation ``std`` make no baseline, or None.

    Without :data:`MIN_BASELINE_WINDOWS` values with some spread, z-scores would be
    undefined or meaningless.
    """
    if n >= MIN_BASELINE_WINDOWS and std > 0:
        return None
    return (f"the baseline has {n} windows with {feedback}; at least {MIN_BASELINE_WINDOWS} "
            "with some spread are needed (a longer or cleaner baseline period)")


def check_baseline(baseline: Baseline, feedback: str) -> None:
    """Raise unless ``baseline`` can give z-scores of the feature ``feedback``.

    Parameters
    ----------
    baseline : Baseline
        A stored or calibrated baseline.
    feedback : str
        The estimator key of the feedback feature (:attr:`neurofeed.registry.FeatureDef.key`).

    Raises
    ------
    InvalidArgumentError
        Unless it has :data:`MIN_BASELINE_WINDOWS` values of the feature with some spread.
    """
    stats = baseline.stats.get(feedback)
    why = _shortfall(0, 0.0, feedback) if stats is None else _shortfall(stats.n, stats.std, feedback)
    if why is not None:
        raise InvalidArgumentError(why)


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

    Attributes
    ----------
    baseline : Baseline or None
        The baseline in use; None until one is calibrated.
    """

    def __init__(self, feedback: str, settings: Mapping[str, object], subject: str,
                 baseline: Baseline | None = None):
        if feedback not in BY_KEY:
            raise InvalidArgumentError(f"feedback must be a feature key ({', '.join(BY_KEY)}), "
                                       f"got {feedback!r}")
        self.feedback = feedback
        self.settings = settings
        self.subject = subject
        self.baseline = baseline
        self._windows: list[Features] = []
        self._values: list[float] = []  # the feedback feature's finite values among them
        self._said_insufficient = False

    def add(self, features: Features, phase: str) -> str | None:
        """Take one window's features; after the baseline phase, calibrate when possible.

        Parameters
        ----------
        features : Features
            The window's features.
        phase : str
            The protocol phase at this hop.

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
        if phase != "baseline":
            why = self._why_not()
            if why is None:
                self.baseline = self._calibrate("session baseline")
                self._windows, self._values = [], []
                return "baseline:calibrated"
            if not self._said_insufficient:
                self._said_insufficient = True
                logger.warning("baseline not yet usable: %s", why)
                marker = "baseline:insufficient"
        self._windows.append(features)
        value = getattr(features, self.feedback)
        if value is not None and math.isfinite(value):
            self._values.append(value)
        return marker

    def normalise(self, features: Features) -> dict[str, float | None] | None:
        """Return the window's z-scores by feature key, or None without a baseline yet."""
        return None if self.baseline is None else self.baseline.normalise(features)

    def finish(self) -> Baseline:
        """Return the baseline, calibrating it from every window so far if there is none
        (a baseline-only session).

        Raises
        ------
        InvalidArgumentError
            When the windows hold too few values of the feedback feature.
        """
        if self.baseline is None:
            why = self._why_not()
            if why is not None:
                raise InvalidArgumentError(why)
            self.baseline = self._calibrate("calibration")
        return self.baseline

    def _why_not(self) -> str | None:
        std = float(np.std(self._values)) if len(self._values) >= MIN_BASELINE_WINDOWS else 0.0
        return _shortfall(len(self._values), std, self.feedback)

    def _calibrate(self, condition: str) -> Baseline:
        return Baseline.calibrate(self._windows, subject=self.subject, condition=condition,
                                  settings=self.settings)
