"""The session clock: what the session time is, and when the next hop is due.

Three ways to run, chosen by the source's speed (:attr:`neurofeed.acquire.Source.speed`):

- **real time** (live boards, LSL, a replay at 1x): a hop every ``hop_s`` of wall time,
  session time from the LSL clock, so that a session runs on through a stall;
- **N times real time** (a replay at N): a hop every ``hop_s / N`` of wall time, session
  time counted in EEG samples;
- **virtual** (a replay at ``"max"``): a hop per chunk read, without waiting, session time
  counted in EEG samples (the engine's ``manual`` backend is advanced in lockstep, so a
  session is a pure function of file, preset and seed).
"""

from __future__ import annotations

import math
import time

from pylsl import local_clock

from neurofeed._check import check_range
from neurofeed.errors import InvalidArgumentError


class SessionClock:
    """Session time and hop pacing for one session.

    Parameters
    ----------
    speed : float or "max"
        The source's speed: 1.0 (real time), N (a replay at N times real time) or
        ``"max"`` (the virtual clock).
    hop_s : float
        Session seconds between hops.
    total_s : float
        The preset's phases' total, in seconds.
    duration_s : float or None
        Stop after this much session time, in seconds; default ``total_s``.
    """

    def __init__(self, speed: float | str, hop_s: float, total_s: float,
                 duration_s: float | None = None):
        if speed != "max" and not (isinstance(speed, (int, float)) and speed > 0):
            raise InvalidArgumentError(f"speed must be a number over 0 or 'max', got {speed!r}")
        self.hop_s = check_range("hop_s", hop_s, 0, math.inf, unit=" s", low_inclusive=False)
        #: bool: Whether hops follow one another without waiting (a replay at "max").
        self.virtual = speed == "max"
        #: bool: Whether session time is counted in EEG samples (any replay faster than
        #: real time), so that sample times are synthetic and no latency can be claimed.
        self.eeg_time = speed != 1.0
        self._hop_wall_s = math.inf if self.virtual else hop_s / speed
        # Phases scaled to fit a duration add up to it only to rounding: ending at their
        # total, not a hair before, makes the last hop's phase "done".
        self.duration_s = (total_s if duration_s is None or duration_s > total_s - 1e-6
                           else duration_s)
        self._start_lsl = local_clock()
        self._next_hop = time.monotonic()

    def start(self) -> None:
        """Start counting: session time 0 and the first hop are now."""
        self._start_lsl = local_clock()
        self._next_hop = time.monotonic()

    def session_time(self, eeg_s: float, lsl_now: float) -> tuple[float, bool]:
        """Return the session time in seconds, and whether this is the last hop.

        Parameters
        ----------
        eeg_s : float
            Seconds of EEG read so far (samples over the sampling rate).
        lsl_now : float
            The LSL clock now, in seconds.

        Returns
        -------
        time_s : float
            Session time, at most :attr:`duration_s`.
        last : bool
            True once the session time reached :attr:`duration_s`.
        """
        time_s = eeg_s if self.eeg_time else lsl_now - self._start_lsl
        return min(time_s, self.duration_s), time_s >= self.duration_s

    def wait_for_next_hop(self) -> None:
        """Sleep until the next hop is due (no wait on the virtual clock)."""
        if self.virtual:
            return
        self._next_hop += self._hop_wall_s
        delay = self._next_hop - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self._next_hop = time.monotonic()  # behind: do not burst to catch up
