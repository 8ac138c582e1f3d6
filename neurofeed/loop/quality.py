"""Signal quality per channel, and a lost signal (contact lost, a dead headset).

Both come from the artifact flags the estimator raises on every window
(:mod:`neurofeed.bands.artifacts`), so they cost a few array operations per hop.

**Channel quality** is judged over the windows of the last :data:`QUALITY_SPAN_S`:

- ``bad``: flagged in more than half of them, or ``flat`` or ``nonfinite`` in the newest
  one. A window spans 2 s, so one blink flags about 2 s of windows: more than half of
  5 s means the channel is mostly unusable, not briefly disturbed. A flat or non-finite
  channel is a lost contact or a dead amplifier input right now, whatever came before.
- ``poor``: flagged in some of them (a blink, a jaw clench): usable, but disturbed.
- ``good``: flagged in none.

**A lost signal** is :data:`LOST_AFTER_S` of windows without one value of the feedback
feature, because every channel it is measured on was flagged (with the default of one
good channel per region: every channel of its region; either channel of an asymmetry
pair). The feedback then has nothing to follow and the music drifts to neutral, which
the session must say rather than play on in silence. It is marked ``signal:lost`` at the
first unusable window and ``signal:restored`` at the first usable one; the time between
them is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurofeed._check import check_range
from neurofeed.bands import ARTIFACT_KINDS, Frame

#: Seconds of windows that channel quality is judged over.
QUALITY_SPAN_S = 5.0
#: Seconds without a usable window after which the signal counts as lost.
LOST_AFTER_S = 10.0
#: The quality levels, best first.
QUALITY_LEVELS = ("good", "poor", "bad")

_DEAD_KINDS = [ARTIFACT_KINDS.index("flat"), ARTIFACT_KINDS.index("nonfinite")]


@dataclass(frozen=True)
class ChannelQuality:
    """The quality of each channel at one hop.

    Attributes
    ----------
    ch_names : tuple of str
        The channels.
    levels : tuple of str
        One of :data:`QUALITY_LEVELS` per channel.
    """

    ch_names: tuple[str, ...]
    levels: tuple[str, ...]

    def count(self, level: str) -> int:
        """Return how many channels have ``level``."""
        return self.levels.count(level)

    def counts(self) -> dict[str, int]:
        """Return how many channels have each level, best first (:data:`QUALITY_LEVELS`)."""
        return {level: self.levels.count(level) for level in QUALITY_LEVELS}

    def names(self, level: str) -> tuple[str, ...]:
        """Return the channels that have ``level``, in montage order."""
        return tuple(name for name, have in zip(self.ch_names, self.levels, strict=True)
                     if have == level)


class SignalQuality:
    """Tracks the channel quality and a lost signal of one source.

    Parameters
    ----------
    ch_names : sequence of str
        The source's channels, in row order.
    hop_s : float
        Seconds between windows.
    feedback : str
        The estimator key of the feedback feature.

    Attributes
    ----------
    lost : bool
        Whether the signal is lost now.
    """

    def __init__(self, ch_names: Sequence[str], hop_s: float, feedback: str):
        self.ch_names = tuple(ch_names)
        hop_s = check_range("hop_s", hop_s, 0, QUALITY_SPAN_S, unit=" s", low_inclusive=False)
        self.feedback = feedback
        self._history = np.zeros((max(round(QUALITY_SPAN_S / hop_s), 1), len(self.ch_names)),
                                 dtype=bool)
        self._flags: np.ndarray | None = None  # the newest window's flags
        self.lost = False
        self._unusable_since: float | None = None  # time of the first unusable window in a row
        self._lost_onset = 0.0  # while lost: when it began
        self._newest_time = 0.0
        self._lost_s = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget the windows judged so far (after a gap in the stream).

        A lost signal stays lost until a usable window arrives.
        """
        self._n_seen = 0
        self._flags = None

    def update(self, frame: Frame, bad: np.ndarray) -> tuple[str, float] | None:
        """Take one window.

        Parameters
        ----------
        frame : Frame
            The window.
        bad : ndarray of bool, shape (n_channels,)
            Its flagged channels (``frame.artifacts.bad``).

        Returns
        -------
        marker : (str, float) or None
            ``("signal:lost", onset)`` or ``("signal:restored", onset)`` when the signal
            was lost or came back with this window, the onset on the LSL clock in seconds;
            else None.
        """
        # Only the ring is kept up to date: counting is left to channel_quality(), called
        # only when a status is wanted (not in --no-status sessions nor benchmarks).
        self._history[self._n_seen % len(self._history)] = bad
        self._n_seen += 1
        self._flags = frame.artifacts.flags
        self._newest_time = frame.time
        if getattr(frame.features, self.feedback) is not None:
            self._unusable_since = None
            if self.lost:
                self.lost = False
                self._lost_s += frame.time - self._lost_onset
                return "signal:restored", frame.time
            return None
        if self._unusable_since is None:
            self._unusable_since = frame.time
        if not self.lost and frame.time - self._unusable_since >= LOST_AFTER_S:
            self.lost = True
            self._lost_onset = self._unusable_since
            return "signal:lost", self._lost_onset
        return None

    @property
    def lost_s(self) -> float:
        """float: Seconds the signal was lost so far, up to the newest window."""
        return self._lost_s + (self._newest_time - self._lost_onset if self.lost else 0.0)

    def channel_quality(self) -> ChannelQuality | None:
        """Return each channel's quality now, or None before the first window (or a gap's)."""
        if self._flags is None:
            return None
        n = min(self._n_seen, len(self._history))
        counts = self._history[:n].sum(axis=0)  # the ring's first n rows are the n newest
        bad = (2 * counts > n) | self._flags[:, _DEAD_KINDS].any(axis=1)
        levels = np.where(bad, "bad", np.where(counts > 0, "poor", "good"))
        return ChannelQuality(self.ch_names, tuple(levels.tolist()))
