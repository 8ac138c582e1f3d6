"""One hop of the bands stage: estimator, artifact flags, features.

Normalising features against a baseline is not done here but by the loop's calibrator
(:meth:`neurofeed.bands.Baseline.normalise`), the one place a session does it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from neurofeed.bands.artifacts import ArtifactDetector, ArtifactFlags, ArtifactThresholds
from neurofeed.bands.bandset import DEFAULT_BANDS, DEFAULT_TOTAL, Band, BandSet
from neurofeed.bands.features import FeatureComputer, Features
from neurofeed.bands.welch import StreamingWelch
from neurofeed.errors import InvalidArgumentError


@dataclass(frozen=True)
class Frame:
    """What the bands stage gives the loop for one window. Arrays are the frame's own.

    Attributes
    ----------
    time : float
        LSL time of the newest sample the window covers, in seconds (when no timestamps
        were given: its index over the sampling rate, the first sample being at 0).
    window_s : float
        The duration the window covers, in seconds.
    ch_names : tuple of str
        The EEG channels' names, in row order (a source's other channels are not here).
    band_names : tuple of str
        Band names, in column order.
    power_v2 : ndarray, shape (n_channels, n_bands)
        Absolute band power per channel, in V².
    relative : ndarray, shape (n_channels, n_bands)
        Band power over the power of the total range (unitless; NaN where that is 0).
    total_v2 : ndarray, shape (n_channels,)
        Power over the total range, in V².
    artifacts : ArtifactFlags
        Artifact flags per channel.
    features : Features
        Named features of this window, each a number or None with a reason.
    """

    time: float
    window_s: float
    ch_names: tuple[str, ...]
    band_names: tuple[str, ...]
    power_v2: np.ndarray
    relative: np.ndarray
    total_v2: np.ndarray
    artifacts: ArtifactFlags
    features: Features

    def band(self, name: str, *, relative: bool = False) -> np.ndarray:
        """Return one band's power per channel (V², or relative)."""
        try:
            column = self.band_names.index(name)
        except ValueError:
            raise InvalidArgumentError(f"no band called {name!r}; the bands are "
                                       f"{', '.join(self.band_names)}") from None
        return (self.relative if relative else self.power_v2)[:, column]


class FeatureExtractor:
    """Streaming EEG in, one :class:`Frame` per hop out.

    Call :meth:`update` with each chunk from the source. Whenever the chunk completes a
    segment (every ``hop_s``) and the window is full, it returns the window's frame.

    Only EEG channels are estimated: channels of other types (ECG, EOG, EMG,
    respiration, stimulus, misc) are left out of everything, regions, features, artifact
    flags and frames, and cost nothing. An ECG's alpha-band power, tens of times an EEG
    channel's, would otherwise decide "posterior alpha".

    Parameters
    ----------
    ch_names : sequence of str
        The source's channel names, one per row of its chunks. Those of the EEG channels
        choose the regions (see :func:`resolve_region`).
    sfreq : float
        Sampling rate in Hz.
    ch_types : sequence of str, optional
        The channels' MNE types (``"eeg"``, ``"ecg"``, ``"eog"``, ...); only ``"eeg"``
        channels are estimated. Default: every channel is EEG.
    bands : BandSet
        The bands reported; must include ``alpha`` and ``theta``. Default delta 1-4,
        theta 4-8, alpha 8-12, beta 12-30 Hz, all half-open.
    total : Band
        The range relative power is taken over; default ``[1, 40)`` Hz.
    window_s, segment_s, hop_s, window, detrend
        Welch settings, see :class:`StreamingWelch`.
    thresholds : ArtifactThresholds or None
        Artifact thresholds; None for the defaults.
    regions, asymmetry_pair, iaf_range_hz, iaf_tau_s, min_peak_ratio, min_good_channels
        Feature settings, see :class:`FeatureComputer`.
    """

    def __init__(self, ch_names: Sequence[str], sfreq: float, *,
                 ch_types: Sequence[str] | None = None,
                 bands: BandSet = DEFAULT_BANDS, total: Band = DEFAULT_TOTAL,
                 window_s: float = 2.0, segment_s: float = 1.0, hop_s: float = 0.1,
                 window="hann", detrend="constant",
                 thresholds: ArtifactThresholds | None = None,
                 regions: Mapping[str, Sequence[str]] | None = None,
                 asymmetry_pair: tuple[str, str] | None = None,
                 iaf_range_hz: tuple[float, float] = (7.0, 13.0), iaf_tau_s: float = 10.0,
                 min_peak_ratio: float = 1.5, min_good_channels: int = 1):
        source_names = tuple(ch_names)
        ch_types = ["eeg"] * len(source_names) if ch_types is None else list(ch_types)
        if len(ch_types) != len(source_names):
            raise InvalidArgumentError(f"ch_types must give one type per channel "
                                       f"({len(source_names)}), got {len(ch_types)}")
        picks = [i for i, kind in enumerate(ch_types) if kind == "eeg"]
        if not picks:
            raise InvalidArgumentError(
                "no channel is of type 'eeg' (types: "
                f"{', '.join(sorted(set(ch_types)))}); the estimator needs EEG channels")
        self.n_source_channels = len(source_names)
        #: The EEG channels estimated, in the row order of frames.
        self.ch_names = tuple(source_names[i] for i in picks)
        # Rows of a chunk to estimate: all of them (no copy), a contiguous block (a view),
        # or an index (one copy of the chunk's EEG rows).
        if len(picks) == len(source_names):
            self._picks = None
        elif picks[-1] - picks[0] + 1 == len(picks):
            self._picks = slice(picks[0], picks[-1] + 1)
        else:
            self._picks = np.array(picks, dtype=np.intp)
        if not isinstance(bands, BandSet) or any(n.startswith("_") for n in bands.names):
            raise InvalidArgumentError(
                f"bands must be a BandSet whose names do not start with '_', got {bands!r}")
        if not isinstance(total, Band):
            raise InvalidArgumentError(f"total must be a Band, got {total!r}")
        self.bands = bands
        self.total = total
        self._detector = ArtifactDetector(ArtifactThresholds() if thresholds is None else thresholds,
                                         sfreq)
        lo, hi = iaf_range_hz
        # Every power the hop needs, in one matrix product: the bands, the total range,
        # the artifact bands, and a band that keeps the alpha peak's bins in the PSD.
        measured = (bands + BandSet([Band("_total", total.lo_hz, total.hi_hz)])
                    + self._detector.bands + BandSet([Band("_iaf", lo, hi)]))
        self._artifact_columns = slice(len(bands) + 1,
                                       len(bands) + 1 + len(self._detector.bands))
        self._window = window if isinstance(window, (str, tuple)) else "custom values"
        self.welch = StreamingWelch(sfreq, len(self.ch_names), measured, window_s=window_s,
                                    segment_s=segment_s, hop_s=hop_s, window=window,
                                    detrend=detrend)
        self._computer = FeatureComputer(
            self.ch_names, bands.names, self.welch.freqs, regions=regions,
            asymmetry_pair=asymmetry_pair, iaf_range_hz=iaf_range_hz, iaf_tau_s=iaf_tau_s,
            min_peak_ratio=min_peak_ratio, min_good_channels=min_good_channels)

    @classmethod
    def from_info(cls, info, **kwargs) -> FeatureExtractor:
        """Build one for a source's ``mne.Info``: its channel names, types and sampling rate."""
        return cls(info["ch_names"], info["sfreq"], ch_types=info.get_channel_types(), **kwargs)

    @property
    def settings(self) -> dict[str, object]:
        """dict: What the features depend on, as plain JSON values (stored in baselines
        and in session.json's ``estimator``).

        ``channels`` are the EEG channels estimated; ``posterior``, ``frontal_midline``
        and ``asymmetry_pair`` the channels of each region; ``region_fallbacks`` says, for
        each region that did not find its standard sites, what it fell back to (see
        :attr:`Region.fallback`), and is empty when none did.
        """
        w, c = self.welch, self._computer
        settings = {
            "sfreq": w.sfreq, "bands": {b.name: [b.lo_hz, b.hi_hz] for b in self.bands},
            "total": [self.total.lo_hz, self.total.hi_hz], "n_per_seg": w.n_per_seg,
            "n_hop": w.n_hop, "n_segments": w.n_segments, "window": self._window,
            "detrend": w.detrend, "channels": list(self.ch_names),
            "posterior": [self.ch_names[i] for i in c.posterior.channels],
            "frontal_midline": [self.ch_names[i] for i in c.frontal_midline.channels],
            "asymmetry_pair": ([self.ch_names[i] for i in c.asymmetry]
                               if c.asymmetry else None),
            "iaf_range_hz": list(c.iaf_range_hz), "iaf_tau_s": c.iaf_tau_s,
            "min_peak_ratio": c.min_peak_ratio, "region_fallbacks": c.fallbacks,
        }
        return json.loads(json.dumps(settings))

    @property
    def regions(self):
        """tuple: The posterior and frontal-midline :class:`Region` in use."""
        return self._computer.posterior, self._computer.frontal_midline

    def reset(self) -> None:
        """Forget the stream (after a gap): the next frame comes once a window refills."""
        self.welch.reset()
        self._computer.reset()

    def update(self, data: np.ndarray, timestamps: np.ndarray | None = None) -> Frame | None:
        """Feed one chunk.

        Parameters
        ----------
        data : ndarray, shape (n_channels, n_samples)
            New samples in volts, every channel of the source (``ch_names``).
        timestamps : ndarray, shape (n_samples,), optional
            Their LSL times in seconds.

        Returns
        -------
        frame : Frame or None
            The newest window's frame if this chunk completed a segment and the window is
            full, else None (still filling, or less than a hop arrived).
        """
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[0] != self.n_source_channels:
            raise InvalidArgumentError(
                f"data must have shape (n_channels={self.n_source_channels}, n_samples), "
                f"got {data.shape}")
        if self._picks is not None:
            data = data[self._picks]
        if not (self.welch.update(data, timestamps) and self.welch.ready):
            return None
        w = self.welch
        n_bands = len(self.bands)
        powers = w.band_power
        power_v2 = powers[:, :n_bands].copy()
        total_v2 = powers[:, n_bands].copy()
        relative = np.full_like(power_v2, np.nan)
        np.divide(power_v2, total_v2[:, None], out=relative, where=total_v2[:, None] > 0)
        artifacts = self._detector.flags(self.ch_names, total_v2,
                                         powers[:, self._artifact_columns])
        time = w.time if w.time is not None else (w.stop - 1) / w.sfreq
        features = self._computer.compute(power_v2, relative, w.psd(), artifacts, time)
        return Frame(time, w.window_s, self.ch_names, self.bands.names, power_v2, relative,
                     total_v2, artifacts, features)
