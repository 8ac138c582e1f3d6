"""Replay a recorded file as if it were a live source, at 1x, Nx or as fast as it is read."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pylsl import local_clock

from neurofeed._check import check_range
from neurofeed.acquire.base import Event, Source
from neurofeed.acquire.files import read_recording


class FileSource(Source):
    """A recording replayed with live-looking timestamps on the LSL clock.

    Sample ``k`` of the replay (counting from the first sample delivered, across
    loops) carries the timestamp ``t0 + k / sfreq``, where ``t0`` is
    ``pylsl.local_clock()`` when the source opens. At ``speed`` N, sample ``k`` becomes
    due ``k / (N * sfreq)`` seconds after ``t0``: timestamps keep the file's spacing
    and run ahead of the clock when N > 1.

    Parameters
    ----------
    file : str | Path
        The recording; any format :func:`~neurofeed.acquire.read_recording` reads.
    speed : float | "max"
        1.0 is real time, N is N times real time; each :meth:`read` returns the
        samples due by then. ``"max"`` returns the next ``chunk_s`` of samples on
        every read, as fast as the caller reads.
    loop : bool
        Start again at ``start_s`` after the last sample, with timestamps still
        increasing, instead of finishing.
    start_s : float
        Seconds into the recording at which the replay (and each loop) starts,
        0 <= start_s < the recording's duration.
    chunk_s : float
        Seconds of samples per read at ``speed="max"`` (at least one sample).
    board : str | int | None
        The BrainFlow board that recorded a BrainFlow CSV file.
    stream : str | None
        The XDF stream to replay; by default the one of type EEG.
    stall_timeout_s : float
        Seconds without a sample before the source reports itself stalled. A
        finished replay is not stalled.

    Notes
    -----
    The recording is read into memory when the source is created, so errors in the
    file surface at once. :meth:`read` returns read-only views of that array except
    where a read spans the loop point. Each annotation of the file becomes an
    :class:`~neurofeed.acquire.Event` (see :meth:`pop_events`) when its onset sample
    is delivered, with that sample's timestamp as its onset; annotations before
    ``start_s`` are never delivered.
    """

    def __init__(self, file, *, speed: float | str = 1.0, loop: bool = False,
                 start_s: float = 0.0, chunk_s: float = 0.1, board: str | int | None = None,
                 stream: str | None = None, stall_timeout_s: float = 2.0):
        super().__init__(stall_timeout_s=stall_timeout_s)
        if not (isinstance(speed, str) and speed.strip().lower() == "max"):
            speed = check_range("speed", speed, 0, math.inf, low_inclusive=False,
                                unit=" (or 'max')")
        self.speed = "max" if isinstance(speed, str) else speed
        self.loop = bool(loop)
        self.path = Path(file)
        raw = read_recording(self.path, board=board, stream=stream)
        self._info = raw.info
        sfreq = self.sfreq
        self.duration_s = raw.n_times / sfreq
        self.start_s = check_range("start_s", start_s, 0, self.duration_s, unit=" s",
                                   high_inclusive=False)
        chunk_s = check_range("chunk_s", chunk_s, 0, 3600, unit=" s", low_inclusive=False)
        self._chunk = max(1, round(chunk_s * sfreq))
        self._board, self._stream = board, stream
        # The preloaded array itself: raw.get_data() would copy the whole recording.
        self._data = raw._data
        self._data.flags.writeable = False
        self._start = min(round(self.start_s * sfreq), raw.n_times - 1)
        self._length = raw.n_times - self._start
        annotations = raw.annotations
        onsets = raw.time_as_index(annotations.onset, use_rounding=True,
                                   origin=annotations.orig_time)
        order = np.argsort(onsets, kind="stable")
        self._event_index = onsets[order]
        self._event_duration = annotations.duration[order]
        self._event_text = annotations.description[order]
        self._t0 = 0.0
        self._k = 0

    @property
    def info(self):
        """mne.Info: the recording's EEG channels and sampling rate in Hz."""
        return self._info

    @property
    def finished(self) -> bool:
        """bool: True once every sample was delivered (never when looping)."""
        return not self.loop and self._k >= self._length

    @property
    def description(self) -> dict:
        """dict: The file and replay settings, for session metadata."""
        return {"kind": "file", "file": str(self.path.resolve()), "speed": self.speed,
                "loop": self.loop, "start_s": self.start_s, "board": self._board,
                "stream": self._stream, "duration_s": self.duration_s, "sfreq": self.sfreq,
                "n_channels": self.n_channels}

    def __repr__(self) -> str:
        speed = "max" if self.speed == "max" else f"{self.speed:g}x"
        return (f"FileSource({self.path.name!r}, {self.n_channels} ch, {self.sfreq:g} Hz, "
                f"speed {speed})")

    def _open(self) -> None:
        # After a reopen, start no earlier than the last timestamp handed out, which at
        # speeds above 1x lies in the future; the base class drops non-increasing ones.
        self._t0 = max(local_clock(), self._last_timestamp + 1 / self.sfreq)
        self._k = 0

    def _close(self) -> None:
        pass

    def _pull(self):
        if self.speed == "max":
            count = self._chunk
        else:
            elapsed = local_clock() - self._t0
            count = max(0, math.floor(elapsed * self.speed * self.sfreq) + 1 - self._k)
        if not self.loop:
            count = min(count, self._length - self._k)
        first, self._k = self._k, self._k + count
        offset = first % self._length
        if offset + count <= self._length:
            data = self._data[:, self._start + offset:self._start + offset + count]
        else:
            data = self._data[:, self._start + np.arange(first, first + count) % self._length]
        timestamps = self._t0 + np.arange(first, first + count) / self.sfreq
        if count and self._event_index.size:
            self._queue_events(first, first + count)
        return data, timestamps

    def _queue_events(self, first: int, stop: int) -> None:
        """Queue the events whose onset sample is among replay samples [first, stop)."""
        for loop_index in range(first // self._length, (stop - 1) // self._length + 1):
            # Replay sample k of this pass is file sample k - shift.
            shift = loop_index * self._length - self._start
            low, high = np.searchsorted(self._event_index,
                                        [max(first, loop_index * self._length) - shift,
                                         min(stop, (loop_index + 1) * self._length) - shift])
            for i in range(low, high):
                onset = self._t0 + (self._event_index[i] + shift) / self.sfreq
                self._events.append(Event(float(onset), float(self._event_duration[i]),
                                          str(self._event_text[i])))
