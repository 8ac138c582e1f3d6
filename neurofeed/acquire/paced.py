"""Sources that make their own samples and hand them out at a set pace (replays, simulations)."""

from __future__ import annotations

import abc
import math

import numpy as np
from pylsl import local_clock

from neurofeed._check import check_range
from neurofeed.acquire.base import Source


class PacedSource(Source):
    """A source whose samples are due on the LSL clock at 1x, Nx, or as fast as they are read.

    Sample ``k`` (counting from the first sample delivered since :meth:`open`) carries
    the timestamp ``t0 + k / sfreq``, where ``t0`` is ``pylsl.local_clock()`` when the
    source opens. At ``speed`` N, sample ``k`` becomes due ``k / (N * sfreq)`` seconds
    after ``t0``: timestamps keep the nominal spacing and run ahead of the clock when
    N > 1. Subclasses implement :attr:`info` and :meth:`_samples`, and may limit what is
    delivered (the end of a recording) with :meth:`_limit`.

    Parameters
    ----------
    speed : float | "max"
        1.0 is real time, N is N times real time; each :meth:`read` returns the
        samples due by then. ``"max"`` returns the next ``chunk_s`` of samples on
        every read, as fast as the caller reads (a session then runs on the virtual
        clock).
    chunk_s : float
        Seconds of samples per read at ``speed="max"`` (at least one sample).
    stall_timeout_s : float
        Seconds without a sample before the source reports itself stalled.
    """

    def __init__(self, *, speed: float | str = 1.0, chunk_s: float = 0.1,
                 stall_timeout_s: float = 2.0):
        super().__init__(stall_timeout_s=stall_timeout_s)
        if not (isinstance(speed, str) and speed.strip().lower() == "max"):
            speed = check_range("speed", speed, 0, math.inf, low_inclusive=False,
                                unit=" (or 'max')")
        self.speed = "max" if isinstance(speed, str) else speed
        self.chunk_s = check_range("chunk_s", chunk_s, 0, 3600, unit=" s", low_inclusive=False)
        self._t0 = 0.0
        self._k = 0

    @abc.abstractmethod
    def _samples(self, first: int, count: int) -> np.ndarray:
        """Return samples ``first`` to ``first + count`` (since open), in volts.

        Returns
        -------
        data : ndarray, shape (n_channels, count)
        """

    def _limit(self, count: int) -> int:
        """Return how many of the ``count`` samples due are delivered (all, by default)."""
        return count

    def _open(self) -> None:
        # After a reopen, start no earlier than the last timestamp handed out, which at
        # speeds above 1x lies in the future; the base class drops non-increasing ones.
        self._t0 = max(local_clock(), self._last_timestamp + 1 / self.sfreq)
        self._k = 0

    def _close(self) -> None:
        pass

    def _pull(self):
        if self.speed == "max":
            count = max(1, round(self.chunk_s * self.sfreq))
        else:
            elapsed = local_clock() - self._t0
            count = max(0, math.floor(elapsed * self.speed * self.sfreq) + 1 - self._k)
        count = self._limit(count)
        first, self._k = self._k, self._k + count
        return (self._samples(first, count),
                self._t0 + np.arange(first, first + count) / self.sfreq)
