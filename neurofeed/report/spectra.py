"""Power spectra of a session's region of interest, one per phase, from eeg_raw.fif."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurofeed.bands.features import resolve_asymmetry_pair, resolve_region
from neurofeed.registry import FEEDBACK, REGIONS

#: The spectra's frequency range, in Hz.
FMIN_HZ, FMAX_HZ = 1.0, 40.0
#: Welch segment length, in seconds (0.5 Hz resolution), with 50% overlap.
SEGMENT_S = 2.0


@dataclass(frozen=True)
class Spectra:
    """Mean power spectral density over the region's channels, per phase.

    Attributes
    ----------
    region : str
        What the region is called (``"Posterior"``, ``"Frontal"``, ...).
    channels : tuple of str
        The channels averaged.
    freqs_hz : ndarray
        Frequencies in Hz.
    psd_uv2_per_hz : dict
        ``{phase: ndarray}``, in µV²/Hz.
    """

    region: str
    channels: tuple
    freqs_hz: np.ndarray
    psd_uv2_per_hz: dict


def _resolved(region: str, ch_names: list[str]) -> list[str]:
    """The channels the estimator's own rules choose for ``region`` (see neurofeed.bands.features)."""
    if region == "asymmetry_pair":
        pair = resolve_asymmetry_pair(ch_names)
        return [] if pair is None else [ch_names[i] for i in pair]
    return [ch_names[i] for i in resolve_region(region, ch_names).channels]


def region_channels(ch_names: list[str], target: str, estimator: dict | None = None) -> tuple[str, list[str]]:
    """The region of interest of a target feature: the regions the registry measures it over.

    The channels the session's estimator used (session.json ``estimator``, one list per
    region of :data:`neurofeed.registry.REGIONS`) when it recorded them; otherwise those
    the estimator's rules choose in ``ch_names``
    (:func:`~neurofeed.bands.features.resolve_region`,
    :func:`~neurofeed.bands.features.resolve_asymmetry_pair`). When neither gives a
    channel of ``ch_names``, every channel.

    Returns
    -------
    region : str
        Its name, for titles.
    channels : list of str
        The channels of ``ch_names`` in it, without repeats.
    """
    regions = FEEDBACK[target].regions
    label = " and ".join(REGIONS[r][0] if i == 0 else REGIONS[r][0].lower() for i, r in enumerate(regions))
    listed = [c for r in regions for c in ((estimator or {}).get(r) or [])]
    if not listed:
        listed = [c for r in regions for c in _resolved(r, ch_names)]
    channels = list(dict.fromkeys(c for c in listed if c in ch_names))
    return (label, channels) if channels else ("All channels", list(ch_names))


def phase_spectra(raw, spans, target: str, estimator: dict | None = None) -> Spectra:
    """Welch PSD of the target's region in each phase span of ``raw``.

    Stretches annotated ``BAD_...`` (acquisition gaps) are left out; a phase shorter
    than one Welch segment (:data:`SEGMENT_S`) gets no spectrum.

    Parameters
    ----------
    raw : mne.io.Raw
        The session's EEG in volts; its time 0 is session time 0.
    spans : list of (phase, start_s, end_s)
        Phases in session seconds (see :func:`neurofeed.report.summary.phase_spans`).
    target : str
        The session's feedback feature, which picks the region.
    estimator : dict, optional
        session.json's ``estimator``, naming the region's channels (see :func:`region_channels`).
    """
    from mne.time_frequency import psd_array_welch

    region, channels = region_channels(raw.ch_names, target, estimator)
    sfreq = raw.info["sfreq"]
    n_fft = round(SEGMENT_S * sfreq)
    n_step = n_fft - n_fft // 2
    freqs, psds = np.empty(0), {}
    for name, start, end in spans:
        end = min(end, raw.times[-1])
        if end - start < SEGMENT_S:
            continue
        data = raw.get_data(picks=channels, tmin=start, tmax=end, reject_by_annotation="NaN")
        # Each stretch between gaps is its own Welch estimate, weighted by its segments. (MNE
        # splits at gaps too, but fails on a stretch not longer than the overlap.)
        good = np.concatenate(([False], np.isfinite(data).all(axis=0), [False]))
        edges = np.flatnonzero(np.diff(good.astype(np.int8)))
        estimates, weights = [], []
        for a, b in zip(edges[::2], edges[1::2]):
            if b - a >= n_fft:
                psd, freqs = psd_array_welch(data[:, a:b], sfreq, fmin=FMIN_HZ, fmax=FMAX_HZ,
                                             n_fft=n_fft, n_overlap=n_fft // 2, verbose="error")
                estimates.append(psd.mean(axis=0))
                weights.append(1 + (b - a - n_fft) // n_step)
        if estimates:
            psds[name] = np.average(estimates, axis=0, weights=weights) * 1e12
    return Spectra(region, tuple(channels), freqs, psds)
