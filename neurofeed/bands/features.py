"""Named features with units: region powers, ratios, frontal asymmetry, alpha peak.

Each feature is a number or None. None always comes with a reason (for example, every
channel of the region was flagged), never with a made-up value.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from neurofeed._check import check_option, check_range
from neurofeed.bands.artifacts import ArtifactFlags
from neurofeed.errors import InvalidArgumentError
from neurofeed.registry import BY_KEY, REGIONS


@dataclass(frozen=True)
class Features:
    """The features of one window. :data:`neurofeed.registry.FEATURES` gives each one's
    unit, definition and names elsewhere (its fields are the registry's keys).

    Attributes
    ----------
    alpha_lnrel, theta_lnrel : float or None
        Region log relative powers, ln(band power / total-range power) averaged over the
        region's good channels (the fed-back alpha and theta).
    alpha_v2, theta_v2 : float or None
        Region powers in V².
    alpha_rel, theta_rel : float or None
        Region relative powers (unitless, 0-1).
    alpha_theta_ratio : float or None
        Posterior alpha power over theta power, geometric mean over the good channels.
    faa : float or None
        Frontal alpha asymmetry, ln(V²) difference.
    iaf_hz : float or None
        Individual alpha peak frequency in Hz.
    beta_alpha_ratio : float or None
        Frontal-midline beta power over frontal-midline alpha power.
    broadband_v2 : float or None
        Total-range power outside the amplitude flag's excluded band (4-13 Hz) in V², mean
        over the EEG channels that are not dead (flat or non-finite).
    reasons : mapping of str to str
        For each feature that is None, why.
    """

    alpha_lnrel: float | None = None
    theta_lnrel: float | None = None
    alpha_v2: float | None = None
    theta_v2: float | None = None
    alpha_rel: float | None = None
    theta_rel: float | None = None
    alpha_theta_ratio: float | None = None
    faa: float | None = None
    iaf_hz: float | None = None
    beta_alpha_ratio: float | None = None
    broadband_v2: float | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | None]:
        """Return ``{key: value}`` for every feature, in registry order."""
        return {key: getattr(self, key) for key in BY_KEY}


def _key(name: str) -> str:
    # "O1..", "o1" and " O1" are the same site (EDF labels pad with dots).
    return re.sub(r"[.\s]", "", name).casefold()


@functools.cache
def _standard_names() -> frozenset[str]:
    """The 10-05 system's site names (an MNE standard montage's), normalised by :func:`_key`."""
    import mne  # only when a montage is resolved, not to import the package

    # MNE 1.13 renamed standard_1005 (the same 343 sites) to colin27_1005.
    name = next(m for m in ("colin27_1005", "standard_1005")
                if m in mne.channels.get_builtin_montages())
    return frozenset(map(_key, mne.channels.make_standard_montage(name).ch_names))


#: A region's fallback when no channel has a 10-05 name (``EXG1``, ``Ch1``, ``EEG001``).
NO_NAMES = ("no recognisable 10-05 channel names: all EEG channels, fed back as relative "
            "power; pass --montage or --region")


@dataclass(frozen=True)
class Region:
    """Channels that a region feature averages over, and how they were chosen.

    Attributes
    ----------
    name : str
        The region's name, e.g. ``"posterior"``.
    channels : tuple of int
        Channel indices.
    fallback : str or None
        What the region fell back to, and why, when none of its standard sites is
        present: for people (session.json's ``estimator.region_fallbacks``, the report's
        headline, the status line). None when standard sites or the user chose it.
    chosen : bool
        Whether the user chose its channels.
    """

    name: str
    channels: tuple[int, ...]
    fallback: str | None = None
    chosen: bool = False

    @functools.cached_property
    def picks(self) -> np.ndarray:
        """ndarray of int: :attr:`channels` as an index array (made once, used every hop)."""
        return np.array(self.channels, dtype=np.intp)

    @property
    def how(self) -> str:
        """str: Which rule chose the channels, for messages."""
        if self.chosen:
            return "chosen by the user"
        return self.fallback or "standard sites"


#: Sites looked for first (the registry's), then name patterns, then every channel.
REGION_RULES = {
    "posterior": (REGIONS["posterior"][1], r"(po|o|p|i)(\d+|z)", "occipital or parietal"),
    "frontal_midline": (REGIONS["frontal_midline"][1], r"(af|f|fc)(\d+|z)", "frontal"),
}

#: Right/left pairs for frontal alpha asymmetry, the first pair present is used: the
#: registry's pair, then its neighbours outward and inward.
ASYMMETRY_PAIRS = (REGIONS["asymmetry_pair"][1], ("F8", "F7"), ("AF4", "AF3"), ("FC4", "FC3"))


def _shown(ch_names: Sequence[str], picks: Sequence[int], limit: int = 8) -> str:
    names = [ch_names[i] for i in picks]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def resolve_region(name: str, ch_names: Sequence[str],
                   channels: Sequence[str] | None = None) -> Region:
    """Choose the channels of a region in a montage.

    Parameters
    ----------
    name : {"posterior", "frontal_midline"}
        The region.
    ch_names : sequence of str
        The montage's channel names (EEG channels only).
    channels : sequence of str, optional
        Use exactly these channels instead of the rules.

    Returns
    -------
    region : Region
        The standard sites present (posterior: O1, Oz, O2, P3, Pz, P4; frontal-midline:
        Fz, FCz, Cz); or, if none is, every channel named like the region's 10-20 family
        (posterior: O, PO, P, I; frontal: AF, F, FC); or else every channel. Each
        fallback says so in :attr:`Region.fallback`, :data:`NO_NAMES` when no channel
        has a 10-05 name at all.
    """
    check_option("region", name, REGION_RULES)
    keys = [_key(ch) for ch in ch_names]
    if channels is not None:
        missing = [ch for ch in channels if _key(ch) not in keys]
        if missing or not channels:
            raise InvalidArgumentError(
                f"{name} region channels {missing or list(channels)} are not in the montage "
                f"({', '.join(ch_names)})")
        return Region(name, tuple(keys.index(_key(ch)) for ch in channels), chosen=True)
    sites, pattern, family = REGION_RULES[name]
    picks = tuple(keys.index(_key(s)) for s in sites if _key(s) in keys)
    if picks:
        return Region(name, picks)
    everything = tuple(range(len(ch_names)))
    if _standard_names().isdisjoint(keys):
        return Region(name, everything, NO_NAMES)
    picks = tuple(i for i, k in enumerate(keys) if re.fullmatch(pattern, k))
    if picks:
        return Region(name, picks, f"no {'/'.join(sites)}: every {family} channel "
                                   f"({_shown(ch_names, picks)})")
    return Region(name, everything, f"no {'/'.join(sites)} nor {family} channels: all EEG "
                                    f"channels ({_shown(ch_names, everything)})")


def resolve_asymmetry_pair(ch_names: Sequence[str],
                           pair: tuple[str, str] | None = None) -> tuple[int, int] | None:
    """Return the (right, left) channel indices for frontal asymmetry, or None.

    ``pair`` names them explicitly; otherwise the first of :data:`ASYMMETRY_PAIRS` whose
    two channels are both present is used.
    """
    keys = [_key(ch) for ch in ch_names]
    candidates = [pair] if pair is not None else ASYMMETRY_PAIRS
    for right, left in candidates:
        if _key(right) in keys and _key(left) in keys:
            return keys.index(_key(right)), keys.index(_key(left))
    if pair is not None:
        raise InvalidArgumentError(f"asymmetry pair {pair} is not in the montage "
                                   f"({', '.join(ch_names)})")
    return None


#: The features measured over each region, None together when it has too few good channels.
_POSTERIOR_KEYS = ("alpha_lnrel", "alpha_v2", "alpha_rel", "alpha_theta_ratio", "iaf_hz")
_FRONTAL_KEYS = ("theta_lnrel", "theta_v2", "theta_rel", "beta_alpha_ratio")


def _finite(values: dict, reasons: dict, name: str, value: float, why: str) -> None:
    """Set ``values[name]`` to ``value`` if it is finite, else ``reasons[name]`` to ``why``."""
    if math.isfinite(value):
        values[name] = float(value)
    else:
        reasons[name] = why


class FeatureComputer:
    """Computes :class:`Features` from one window's band powers and PSD.

    Parameters
    ----------
    ch_names : sequence of str
        Channel names.
    band_names : sequence of str
        The band columns of the powers it is given; must include alpha and theta (and
        beta for ``beta_alpha_ratio``).
    freqs : ndarray
        Frequencies of the PSD columns it is given, in Hz.
    regions : mapping of str to list of str, optional
        Channels for ``"posterior"`` and/or ``"frontal_midline"``, overriding the rules
        of :func:`resolve_region`.
    asymmetry_pair : (str, str), optional
        The (right, left) channels of frontal asymmetry; by default the first of
        :data:`ASYMMETRY_PAIRS` present.
    iaf_range_hz : (float, float)
        Half-open search range of the alpha peak, in Hz.
    iaf_tau_s : float
        Time constant in seconds of the exponential average of the posterior PSD that the
        peak is searched in. One 2 s window's 1 Hz bins are too noisy for a peak: on brown
        noise (a 1/f² spectrum, no peak), a search in single windows found one in 26% of
        them; in a 10 s average, in 4%. 0 searches each window alone.
    min_peak_ratio : float
        How many times the highest bin must exceed the 1/f background (the line between
        the search range's ends, in log power over log frequency) to count as a peak.
    min_good_channels : int
        A region with fewer good channels gives no estimate.
    """

    def __init__(self, ch_names: Sequence[str], band_names: Sequence[str], freqs: np.ndarray,
                 *, regions: Mapping[str, Sequence[str]] | None = None,
                 asymmetry_pair: tuple[str, str] | None = None,
                 iaf_range_hz: tuple[float, float] = (7.0, 13.0), iaf_tau_s: float = 10.0,
                 min_peak_ratio: float = 1.5, min_good_channels: int = 1):
        self.ch_names = tuple(ch_names)
        regions = dict(regions or {})
        unknown = set(regions) - set(REGION_RULES)
        if unknown:
            raise InvalidArgumentError(f"regions {sorted(unknown)} are not known; "
                                       f"accepted: {', '.join(REGION_RULES)}")
        self.posterior = resolve_region("posterior", self.ch_names, regions.get("posterior"))
        self.frontal_midline = resolve_region("frontal_midline", self.ch_names,
                                              regions.get("frontal_midline"))
        self.asymmetry = resolve_asymmetry_pair(self.ch_names, asymmetry_pair)
        self._pair_chosen = asymmetry_pair is not None
        missing = {"alpha", "theta"} - set(band_names)
        if missing:
            raise InvalidArgumentError(f"the bands must include {sorted(missing)} for the "
                                       f"features; got {', '.join(band_names)}")
        self._alpha_theta = [list(band_names).index("alpha"), list(band_names).index("theta")]
        self._every = tuple(range(len(self.ch_names)))
        self._beta = list(band_names).index("beta") if "beta" in band_names else None
        if not (isinstance(min_good_channels, int) and min_good_channels >= 1):
            raise InvalidArgumentError(
                f"min_good_channels must be a whole number >= 1, got {min_good_channels!r}")
        self.min_good_channels = min_good_channels
        lo, hi = iaf_range_hz
        self._iaf_bins = np.flatnonzero((freqs >= lo) & (freqs < hi))
        if len(self._iaf_bins) < 3:
            raise InvalidArgumentError(
                f"iaf_range_hz={iaf_range_hz} holds {len(self._iaf_bins)} frequency bins; a "
                "peak needs at least 3 (widen it or lengthen the segments)")
        self.iaf_range_hz = (float(lo), float(hi))
        self._iaf_freqs = np.asarray(freqs, dtype=float)[self._iaf_bins]
        self.iaf_tau_s = check_range("iaf_tau_s", iaf_tau_s, 0, 3600, unit=" s")
        self.min_peak_ratio = check_range("min_peak_ratio", min_peak_ratio, 1, math.inf)
        self._alpha_psd = np.empty(len(self._iaf_bins))
        self.reset()

    def reset(self) -> None:
        """Forget the averaged spectrum of the alpha peak search."""
        self._alpha_psd_time: float | None = None

    @property
    def fallbacks(self) -> dict[str, str]:
        """dict: ``{region: what it fell back to}`` for each region or pair that fell back
        (see :attr:`Region.fallback`); empty when every one found its standard sites."""
        found = {r.name: r.fallback for r in (self.posterior, self.frontal_midline) if r.fallback}
        standard = REGIONS["asymmetry_pair"][1]
        if self.asymmetry is not None and not self._pair_chosen:
            used = [self.ch_names[i] for i in self.asymmetry]
            if [_key(ch) for ch in used] != [_key(ch) for ch in standard]:
                found["asymmetry_pair"] = f"no {'/'.join(standard)}: {'/'.join(used)}"
        return found

    def compute(self, power_v2: np.ndarray, relative: np.ndarray, psd: np.ndarray,
                artifacts: ArtifactFlags, time_s: float) -> Features:
        """Return the features of one window.

        Parameters
        ----------
        power_v2, relative : ndarray, shape (n_channels, n_bands)
            Band powers in V², and over the total range (NaN where that is 0).
        psd : ndarray, shape (n_channels, n_freqs)
            The window's PSD in V²/Hz.
        artifacts : ArtifactFlags
            The window's artifact flags: flagged channels are left out of the regions.
        time_s : float
            The window's time in seconds (for the averaging of the alpha peak's PSD).
        """
        values: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        bad, describe = artifacts.bad, artifacts.describe
        a, th = self._alpha_theta
        n_bands = power_v2.shape[1]
        # Every per-channel value a region averages, side by side, so that a region's
        # averages are one sum over its good rows: band powers, relative powers, and log
        # relative alpha and theta. Log relative power is scale-free per channel: a
        # channel with three times the others' power, flagged in or out of a region,
        # moves the average by its own deviation in spectral shape only, not by its
        # amplitude. A zero band power gives -inf, a zero total NaN: a non-finite
        # average is reported, never used.
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.concatenate([power_v2, relative, np.log(relative[:, [a, th]])], axis=1)
        ln_alpha, ln_theta = 2 * n_bands, 2 * n_bands + 1

        posterior = self._good(self.posterior, bad, describe, reasons, _POSTERIOR_KEYS)
        if posterior is not None:
            mean = np.add.reduce(table[posterior]) / posterior.size
            values["alpha_v2"] = float(mean[a])
            values["alpha_rel"] = float(mean[n_bands + a])
            _finite(values, reasons, "alpha_lnrel", mean[ln_alpha],
                    "posterior alpha or total-range power is zero")
            _finite(values, reasons, "alpha_theta_ratio",
                    math.exp(mean[ln_alpha] - mean[ln_theta])
                    if math.isfinite(mean[ln_alpha] - mean[ln_theta]) else math.nan,
                    "posterior alpha or theta power is zero")
            spectrum = np.add.reduce(psd[posterior][:, self._iaf_bins]) / posterior.size
            values["iaf_hz"] = self._peak(spectrum, time_s, reasons)
        frontal = self._good(self.frontal_midline, bad, describe, reasons, _FRONTAL_KEYS)
        if frontal is not None:
            mean = np.add.reduce(table[frontal]) / frontal.size
            values["theta_v2"] = float(mean[th])
            values["theta_rel"] = float(mean[n_bands + th])
            _finite(values, reasons, "theta_lnrel", mean[ln_theta],
                    "frontal-midline theta or total-range power is zero")
            if self._beta is None:
                reasons["beta_alpha_ratio"] = "the bands have no 'beta'"
            elif mean[a] > 0:
                values["beta_alpha_ratio"] = float(mean[self._beta] / mean[a])
            else:
                reasons["beta_alpha_ratio"] = "frontal-midline alpha power is zero"
        # Broadband power counts the channels flagged for artifacts (they are what it is
        # there to show) but not dead ones, and leaves out the rewarded band as the
        # amplitude flag does: strong alpha must not make an artifact window.
        outside = artifacts.outside_rms_v[~artifacts.dead]
        if outside.size:
            values["broadband_v2"] = float(outside @ outside) / outside.size
        else:
            reasons["broadband_v2"] = f"every EEG channel is dead: {describe(self._every)}"
        values["faa"] = self._asymmetry(power_v2[:, a], bad, describe, reasons)
        return Features(**values, reasons=MappingProxyType(reasons))

    def _good(self, region: Region, bad: np.ndarray, describe, reasons: dict,
              names: tuple[str, ...]) -> np.ndarray | None:
        """The region's good channels (indices), or None, with the reason for ``names``."""
        good = region.picks[~bad[region.picks]]
        if good.size >= self.min_good_channels:
            return good
        flagged = describe(region.channels)
        why = (f"{good.size} good channel(s) in the {region.name} region ({region.how}), "
               f"{self.min_good_channels} needed" + (f"; flagged: {flagged}" if flagged else ""))
        reasons.update(dict.fromkeys(names, why))
        return None

    def _asymmetry(self, alpha: np.ndarray, bad, describe, reasons) -> float | None:
        if self.asymmetry is None:
            pairs = ", ".join("/".join(p) for p in ASYMMETRY_PAIRS)
            reasons["faa"] = f"the montage has none of the pairs {pairs}"
            return None
        right, left = self.asymmetry
        if bad[right] or bad[left]:
            reasons["faa"] = f"flagged: {describe((right, left))}"
            return None
        if not (alpha[right] > 0 and alpha[left] > 0):
            reasons["faa"] = "alpha power is zero on an asymmetry channel"
            return None
        return math.log(alpha[right]) - math.log(alpha[left])

    def _peak(self, window_psd: np.ndarray, time_s: float, reasons) -> float | None:
        lo, hi = self.iaf_range_hz
        spectrum = self._alpha_psd
        if self._alpha_psd_time is None or self.iaf_tau_s == 0:
            spectrum[:] = window_psd
        else:
            weight = 1.0 - math.exp(-(time_s - self._alpha_psd_time) / self.iaf_tau_s)
            spectrum += weight * (window_psd - spectrum)
        self._alpha_psd_time = time_s
        if not np.all(spectrum > 0):
            reasons["iaf_hz"] = "no power in the alpha peak's search range"
            return None
        j = int(np.argmax(spectrum))
        freqs = self._iaf_freqs
        # The background under the peak: the straight line between the range's ends in
        # log power over log frequency (a 1/f spectrum is straight there). A random bump
        # of a noisy spectrum, with no real alpha, rarely stands this far above it.
        background = np.exp(np.interp(np.log(freqs[j]), np.log(freqs[[0, -1]]),
                                       np.log(spectrum[[0, -1]])))
        if j == 0 or j == len(spectrum) - 1 or spectrum[j] < self.min_peak_ratio * background:
            reasons["iaf_hz"] = (f"no alpha peak in [{lo:g}, {hi:g}) Hz standing "
                                 f"{self.min_peak_ratio:g} times above the 1/f background")
            return None
        # The vertex of the parabola through the highest bin and its neighbours.
        a, b, c = spectrum[j - 1:j + 2]
        offset = 0.5 * (a - c) / (a - 2 * b + c)
        return float(freqs[j] + offset * (freqs[1] - freqs[0]))
