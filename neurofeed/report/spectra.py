"""Power spectra of a session's region of interest, one per phase, from eeg_raw.fif."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: The spectra's frequency range, in Hz.
FMIN_HZ, FMAX_HZ = 1.0, 40.0
#: Welch segment length, in seconds (0.5 Hz resolution), with 50% overlap.
SEGMENT_S = 2.0

_POSTERIOR = re.compile(r"^(P|PO|O|I)(\d+|Z)$")
_FRONTAL = re.compile(r"^(AF|F|FC)(\d+|Z)$")


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


def _plain(name: str) -> str:
    # EDF labels look like "EEG O1" or "O1..": compare the bare 10-20 name.
    return name.upper().removeprefix("EEG").strip(" .-")


#: For each target feature: its region's name, and the lists of session.json's
#: ``estimator`` that hold the region's channels.
_REGIONS = {
    "alpha_posterior": ("Posterior", ("posterior",)),
    "theta_frontal": ("Frontal midline", ("frontal_midline",)),
    "frontal_asymmetry": ("Asymmetry pair", ("asymmetry_pair",)),
    "alpha_theta_ratio": ("Posterior and frontal midline", ("posterior", "frontal_midline")),
}


def _by_name(ch_names: list[str], target: str) -> list[str]:
    posterior = [c for c in ch_names if _POSTERIOR.match(_plain(c))]
    frontal = [c for c in ch_names if _FRONTAL.match(_plain(c))]
    f3f4 = [c for c in ch_names if _plain(c) in ("F3", "F4")]
    return {"alpha_posterior": posterior, "theta_frontal": frontal, "frontal_asymmetry": f3f4,
            "alpha_theta_ratio": posterior + frontal}[target]


def region_channels(ch_names: list[str], target: str, estimator: dict | None = None) -> tuple[str, list[str]]:
    """The region of interest of a target feature.

    The channels the session's estimator used (session.json ``estimator``: ``posterior``,
    ``frontal_midline``, ``asymmetry_pair``) when it recorded them; otherwise by 10-20/10-10
    name: P, PO, O and I channels for posterior, AF, F and FC for frontal, F3 and F4 for
    the asymmetry pair. When neither gives a channel of ``ch_names``, every channel.

    Returns
    -------
    region : str
        Its name, for titles.
    channels : list of str
        The channels of ``ch_names`` in it, without repeats.
    """
    region, keys = _REGIONS[target]
    listed = [c for key in keys for c in ((estimator or {}).get(key) or [])]
    channels = list(dict.fromkeys(c for c in (listed or _by_name(ch_names, target)) if c in ch_names))
    return (region, channels) if channels else ("All channels", list(ch_names))


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
    n_fft = int(round(SEGMENT_S * sfreq))
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
