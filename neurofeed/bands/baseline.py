"""A subject's baseline (calibration) of the features, normalisation against it, and
exponential smoothing with a time constant in seconds."""

from __future__ import annotations

import datetime
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurofeed._check import check_option, check_range
from neurofeed.bands.features import Features
from neurofeed.errors import InvalidArgumentError
from neurofeed.home import check_subject
from neurofeed.registry import BY_KEY

_FORMAT = "neurofeed-baseline"
_VERSION = 1
#: The percentiles stored per feature: 0, 1, ..., 100.
PERCENTILES = tuple(range(101))
#: How features can be expressed against a baseline.
NORMALISATIONS = ("z", "percentile")


@dataclass(frozen=True)
class FeatureStats:
    """One feature's distribution over a baseline period, in the feature's unit.

    Attributes
    ----------
    n : int
        Windows that had a value.
    mean, std : float
        Mean and (population) standard deviation.
    percentiles : tuple of float
        The 0th, 1st, ..., 100th percentiles (linear interpolation).
    """

    n: int
    mean: float
    std: float
    percentiles: tuple[float, ...]

    @classmethod
    def of(cls, values: np.ndarray) -> FeatureStats:
        """Summarise finite values (at least one)."""
        return cls(int(values.size), float(np.mean(values)), float(np.std(values)),
                   tuple(float(q) for q in np.percentile(values, PERCENTILES)))


@dataclass(frozen=True)
class Baseline:
    """Features of one subject during a calibration period (e.g. 60 s eyes closed).

    Build it with :meth:`calibrate`, keep it with :meth:`save` and :meth:`load`, and
    express later features against it with :meth:`normalise`.

    Attributes
    ----------
    subject : str
        The subject's identifier.
    condition : str
        What the subject did, e.g. ``"eyes closed"``.
    created : str
        When it was calibrated, ISO 8601 in UTC.
    stats : mapping of str to FeatureStats
        Per feature; features that never had a value in the period are absent.
    settings : mapping
        The estimator settings the features were computed with; normalising features
        computed otherwise would be meaningless (see :meth:`check_settings`).
    """

    subject: str
    condition: str
    created: str
    stats: Mapping[str, FeatureStats]
    settings: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def calibrate(cls, features: Iterable[Features], *, subject: str, condition: str = "",
                  settings: Mapping[str, object] | None = None) -> Baseline:
        """Summarise the features of a baseline period.

        Parameters
        ----------
        features : iterable of Features
            One per window of the period (e.g. ``[frame.features for frame in frames]``).
            Windows where a feature is None are left out of that feature's statistics.
        subject : str
            The subject's identifier: letters, digits, ``-`` and ``_``.
        condition : str
            What the subject did during the period.
        settings : mapping, optional
            The estimator settings (:attr:`FeatureExtractor.settings`).
        """
        check_subject(subject)
        columns: dict[str, list[float]] = {key: [] for key in BY_KEY}
        n_windows = 0
        for window in features:
            n_windows += 1
            for name, value in window.as_dict().items():
                if value is not None and math.isfinite(value):
                    columns[name].append(value)
        if not any(columns.values()):
            raise InvalidArgumentError(
                f"the baseline period has no feature values ({n_windows} windows, all "
                "without an estimate); record a longer or cleaner period")
        stats = {name: FeatureStats.of(np.asarray(values))
                 for name, values in columns.items() if values}
        created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        try:  # as they will read back from the file: tuples become lists
            settings = json.loads(json.dumps(dict(settings or {})))
        except (TypeError, ValueError) as err:
            raise InvalidArgumentError(f"settings must be plain JSON values: {err}") from None
        return cls(subject, condition, created, stats, settings)

    def normalise(self, features: Features, method: str = "z") -> dict[str, float | None]:
        """Express features against the baseline.

        Parameters
        ----------
        features : Features
            The features of one window.
        method : {"z", "percentile"}
            ``"z"``: ``(value - mean) / std``. ``"percentile"``: the percentage of the
            baseline's values below it (0-100, interpolated between stored percentiles).

        Returns
        -------
        normalised : dict of str to float or None
            None where the feature is None, has no baseline, or (for z) the baseline's
            standard deviation is 0.
        """
        check_option("method", method, NORMALISATIONS)
        out: dict[str, float | None] = {}
        for name, value in features.as_dict().items():
            stats = self.stats.get(name)
            if value is None or stats is None:
                out[name] = None
            elif method == "z":
                out[name] = (value - stats.mean) / stats.std if stats.std > 0 else None
            else:
                out[name] = float(np.interp(value, stats.percentiles, PERCENTILES))
        return out

    def check_settings(self, settings: Mapping[str, object]) -> None:
        """Raise if ``settings`` differ from those the baseline was calibrated with."""
        differing = sorted(key for key in set(self.settings) | set(settings)
                           if self.settings.get(key) != settings.get(key))
        if differing:
            shown = "; ".join(f"{key}: baseline {self.settings.get(key)!r}, "
                              f"now {settings.get(key)!r}" for key in differing)
            raise InvalidArgumentError(
                f"the baseline of {self.subject!r} was calibrated with other settings "
                f"({shown}); calibrate again or use the same settings")

    # -- files ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the baseline as a small JSON file and return its path."""
        document = {
            "format": _FORMAT, "version": _VERSION, "subject": self.subject,
            "condition": self.condition, "created": self.created,
            "settings": dict(self.settings),
            "features": {name: {"unit": BY_KEY[name].unit, "n": s.n, "mean": s.mean,
                                "std": s.std, "percentiles": list(s.percentiles)}
                         for name, s in self.stats.items()},
        }
        path = Path(path)
        path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Read a baseline written by :meth:`save`."""
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidArgumentError(f"baseline file {path} does not exist") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InvalidArgumentError(f"baseline file {path} is unreadable: {err}") from None
        try:
            if document["format"] != _FORMAT or document["version"] != _VERSION:
                raise ValueError(f"it is {document['format']!r} version "
                                 f"{document['version']!r}, not {_FORMAT!r} {_VERSION}")
            stats = {}
            for name, entry in document["features"].items():
                if name not in BY_KEY:
                    raise ValueError(f"unknown feature {name!r}")
                percentiles = tuple(float(q) for q in entry["percentiles"])
                numbers = (entry["mean"], entry["std"], *percentiles)
                if (len(percentiles) != len(PERCENTILES)
                        or not all(math.isfinite(v) for v in numbers)
                        or any(b < a for a, b in itertools.pairwise(percentiles))
                        or entry["std"] < 0 or int(entry["n"]) < 1):
                    raise ValueError(f"feature {name!r} has invalid statistics")
                stats[name] = FeatureStats(int(entry["n"]), float(entry["mean"]),
                                           float(entry["std"]), percentiles)
            baseline = cls(str(document["subject"]), str(document["condition"]),
                           str(document["created"]), stats, dict(document["settings"]))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InvalidArgumentError(
                f"baseline file {path} is not a valid neurofeed baseline: {err}") from None
        return baseline


class ExponentialSmoother:
    """Exponential smoothing of named values, with a time constant in seconds.

    Each update moves the smoothed value a fraction ``1 - exp(-dt / tau_s)`` of the way
    to the new one, ``dt`` being the time since the previous value: after ``tau_s``
    seconds a step has been followed 63%, whatever the hop. A None passes through as None
    and leaves the state as it was.

    Parameters
    ----------
    tau_s : float
        The time constant in seconds; 0 passes values through unchanged.
    """

    def __init__(self, tau_s: float):
        self.tau_s = check_range("tau_s", tau_s, 0, 3600, unit=" s")
        self._state: dict[str, tuple[float, float]] = {}

    def update(self, values: Mapping[str, float | None], time_s: float
               ) -> dict[str, float | None]:
        """Smooth ``values`` observed at ``time_s`` (seconds, increasing) and return them."""
        out: dict[str, float | None] = {}
        for name, value in values.items():
            if value is None:
                out[name] = None
                continue
            previous = self._state.get(name)
            if previous is not None and self.tau_s > 0:
                last, last_time = previous
                value = last + (1.0 - math.exp(-(time_s - last_time) / self.tau_s)) * (
                    value - last)
            self._state[name] = (value, time_s)
            out[name] = value
        return out

    def reset(self) -> None:
        """Forget the state: the next values pass through unchanged."""
        self._state.clear()
