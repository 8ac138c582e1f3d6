"""What a loop reports: the status after each hop, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from neurofeed.bands import Baseline
from neurofeed.loop.quality import ChannelQuality
from neurofeed.protocol import ProtocolStep


@dataclass
class HopStatus:
    """What the live status line shows after each hop.

    Attributes
    ----------
    time_s, remaining_s : float
        Session time and time left, in seconds.
    step : ProtocolStep
        The protocol's decision (phase, music, reward).
    alpha_z, theta_z : float or None
        Posterior alpha and frontal-midline theta against the baseline (z).
    artifact_percent : float
        Percentage of windows so far in which any channel was flagged.
    stalled : bool
        Whether the source is stalled.
    audio : str
        ``"on"``, ``"off"`` or ``"lost"``.
    quality : ChannelQuality or None
        Each channel's signal quality (good, poor, bad) over the last seconds; None
        before the first window.
    signal_lost : bool
        Whether the signal is lost now: no usable window for seconds (contact lost, a
        dead headset; see :mod:`neurofeed.loop.quality`).
    signal : str or None
        What the source says its signal is when it is not a person's EEG (a synthetic
        test signal, a simulated listener); None for EEG.
    artifact_window : bool
        Whether the newest window is an artifact window (no reward, the music holds).
    region_fallback : str or None
        What the feedback feature's region fell back to (its standard sites missing);
        None when they were found.
    track : str or None
        A playlist session's track leading now (its title); None for generative music.
    """

    time_s: float
    remaining_s: float
    step: ProtocolStep
    alpha_z: float | None
    theta_z: float | None
    artifact_percent: float
    stalled: bool
    audio: str
    quality: ChannelQuality | None = None
    signal_lost: bool = False
    signal: str | None = None
    artifact_window: bool = False
    region_fallback: str | None = None
    track: str | None = None


@dataclass
class LoopResult:
    """How a loop ended, and its counts.

    Attributes
    ----------
    ended : str
        ``"done"`` (the preset's phases ran out, or ``duration_s``), ``"source finished"``
        (the replay ended), or ``"interrupted"`` (Ctrl-C, or a stop signal).
    n_hops, n_windows, n_estimates, n_artifact_windows : int
        Hops run, windows estimated, windows whose feedback feature had a value (artifact
        windows not counted), and artifact windows (see :mod:`neurofeed.loop.artifact`).
    duration_s : float
        Session time reached, in seconds.
    baseline : Baseline or None
        The baseline the session used (calibrated in its baseline phase, or given).
    audio_lost : bool
        Whether the audio engine failed during the session.
    signal_lost_s : float
        Seconds the signal was lost (``signal:lost`` to ``signal:restored`` markers, or
        to the end), on the EEG's clock.
    markers : list of (onset, duration, description)
        The markers written, onsets on the LSL clock in seconds.
    """

    ended: str
    n_hops: int = 0
    n_windows: int = 0
    n_estimates: int = 0
    n_artifact_windows: int = 0
    duration_s: float = 0.0
    baseline: Baseline | None = None
    audio_lost: bool = False
    signal_lost_s: float = 0.0
    markers: list = field(default_factory=list)
