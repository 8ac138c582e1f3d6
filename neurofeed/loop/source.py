"""One source's state in the loop: its reading, estimator, baseline and signal quality.

The loop holds one :class:`SourceState` per EEG source. Today a session has one source
(one person); a session with several would hold one each, and everything here is already
that source's own: its samples and gaps, its windows, its baseline, its quality.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from neurofeed.acquire.base import Source
from neurofeed.bands import FeatureExtractor, Frame
from neurofeed.export import GAP_THRESHOLD_S
from neurofeed.loop.artifact import ArtifactGate
from neurofeed.loop.calibrator import BaselineCalibrator
from neurofeed.loop.quality import SignalQuality


class Window(NamedTuple):
    """What one source's new window gives a hop.

    Attributes
    ----------
    frame : Frame
        The window.
    bad : ndarray of bool, shape (n_channels,)
        Its flagged channels.
    z_scores : dict or None
        Its features against the baseline, by estimator key (None: no baseline yet).
    feedback_z : float or None
        The feedback feature on the protocol's scale
        (:meth:`~neurofeed.loop.calibrator.BaselineCalibrator.feedback_z`); None without a
        value, a baseline, or in an artifact window.
    artifact : str or None
        Why it is an artifact window (:class:`~neurofeed.loop.artifact.ArtifactGate`), or None.
    markers : list of (str, float)
        Markers this window caused (baseline, signal lost or restored), with their onsets
        on the LSL clock in seconds.
    """

    frame: Frame
    bad: np.ndarray
    z_scores: dict | None
    feedback_z: float | None
    artifact: str | None
    markers: list


class SourceState:
    """One source, read hop by hop, with everything the loop keeps about it.

    Parameters
    ----------
    source : neurofeed.acquire.Source
        The open source.
    extractor : FeatureExtractor
        Its estimator.
    calibrator : BaselineCalibrator
        Its baseline.
    quality : SignalQuality
        Its channel quality and lost-signal detection.

    Attributes
    ----------
    newest_time : float
        LSL time of the newest sample read, in seconds (0: none yet); markers that
        belong to no sample go there.
    n_samples, n_windows, n_flagged, n_estimates, n_artifact_windows : int
        Samples read; windows estimated; windows in which any channel was flagged;
        windows that gave the feedback feature a value (counted by the loop); and artifact
        windows (:mod:`~neurofeed.loop.artifact`).
    in_artifact : bool
        Whether the newest window is an artifact window (the protocol holds until a
        window that is not).
    latest_z : dict or None
        The newest window's z-scores (what the status line shows between windows).
    signal : str or None
        What the source says its signal is when it is not a person's EEG (its
        description's ``signal``, e.g. a synthetic test signal or a simulated listener).
    """

    def __init__(self, source: Source, extractor: FeatureExtractor,
                 calibrator: BaselineCalibrator, quality: SignalQuality):
        self.source = source
        self.extractor = extractor
        self.calibrator = calibrator
        self.quality = quality
        # Not every source describes itself (the Source contract does not require it).
        self.signal = getattr(source, "description", {}).get("signal")
        self.newest_time = 0.0
        self.n_samples = self.n_windows = self.n_flagged = self.n_estimates = 0
        self.n_artifact_windows = 0
        self.in_artifact = False
        self._gate = ArtifactGate(extractor.welch.window_s)
        self.latest_z: dict | None = None
        self._stalled = False

    def read(self, recorder) -> tuple[Frame | None, float]:
        """Read what arrived, record it, and feed the estimator.

        A chunk that starts more than :data:`~neurofeed.export.GAP_THRESHOLD_S` after the
        newest sample resets the estimator and the quality: no window spans a gap.

        Returns
        -------
        frame : Frame or None
            The new window, if the chunk completed one.
        estimator_s : float
            Seconds the estimator worked.
        """
        chunk = self.source.read()
        timestamps = chunk.timestamps
        if not timestamps.size:
            return None, 0.0
        recorder.write_eeg(chunk.data, timestamps)
        if self.newest_time and timestamps[0] - self.newest_time > GAP_THRESHOLD_S:
            self.extractor.reset()
            self.quality.reset()
            self._gate.reset()
        self.newest_time = float(timestamps[-1])
        self.n_samples += timestamps.size
        start = time.perf_counter()
        frame = self.extractor.update(chunk.data, timestamps)
        return frame, time.perf_counter() - start

    def source_markers(self) -> list[tuple[str, float, float]]:
        """Return the source's events, and a stall or resume since the last call, as
        (description, onset, duration) on the LSL clock."""
        markers = [(e.description, e.onset, e.duration) for e in self.source.pop_events()]
        if self.source.stalled != self._stalled:
            self._stalled = self.source.stalled
            gap = self.source.gaps[-1]
            markers.append(("stall", gap.start, 0.0) if self._stalled else ("resume", gap.end, 0.0))
        return markers

    @property
    def stalled(self) -> bool:
        """bool: Whether the source was stalled at the last read."""
        return self._stalled

    @property
    def eeg_s(self) -> float:
        """float: Seconds of EEG read so far (samples over the nominal rate)."""
        return self.n_samples / self.source.sfreq

    def window(self, frame: Frame, phase: str) -> Window:
        """Take a new window: count it, update the baseline and the quality, normalise it,
        and judge whether it is an artifact window."""
        bad = frame.artifacts.bad
        features = frame.features
        self.n_windows += 1
        self.n_flagged += bool(bad.any())
        markers = []
        baseline_marker = self.calibrator.add(features, phase, frame.time)
        if baseline_marker is not None:
            markers.append((baseline_marker, frame.time))
        signal_marker = self.quality.update(frame, bad)
        if signal_marker is not None:
            markers.append(signal_marker)
        calibrator = self.calibrator
        z_scores = calibrator.normalise(features)
        if z_scores is not None:
            self.latest_z = z_scores
        artifact = self._gate.judge(features, calibrator.baseline, frame.time)
        self.in_artifact = artifact is not None
        self.n_artifact_windows += self.in_artifact
        feedback_z = None if artifact is not None else calibrator.feedback_z(features)
        return Window(frame, bad, z_scores, feedback_z, artifact, markers)

    def listen(self, state) -> None:
        """Tell the source the music now playing (a simulated listener follows it)."""
        self.source.listen(state)
