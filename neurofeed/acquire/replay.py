"""Replay a recorded file as if it were a live source, at 1x, Nx or as fast as it is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurofeed._check import check_range
from neurofeed.acquire.base import Event
from neurofeed.acquire.files import load_recording
from neurofeed.acquire.paced import PacedSource


class FileSource(PacedSource):
    """A recording replayed with live-looking timestamps on the LSL clock.

    Paced as :class:`~neurofeed.acquire.paced.PacedSource` describes: sample ``k`` of
    the replay (counting from the first sample delivered, across loops) carries the
    timestamp ``t0 + k / sfreq``, where ``t0`` is ``pylsl.local_clock()`` when the
    source opens.

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
    montage : str | None
        Names for channels without usable labels (``--montage``): see
        :func:`~neurofeed.acquire.montage.parse_montage`.
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
                 stream: str | None = None, montage: str | None = None,
                 stall_timeout_s: float = 2.0):
        super().__init__(speed=speed, chunk_s=chunk_s, stall_timeout_s=stall_timeout_s)
        self.loop = bool(loop)
        self.path = Path(file)
        raw, truncated, identity = load_recording(self.path, board=board, stream=stream,
                                                  montage=montage)
        self._identified(identity, str(self.path))
        #: dict or None: ``{"declared_s", "actual_s"}`` when the file holds less than it
        #: declares (see :class:`~neurofeed.acquire.files.Recording`).
        self.truncated = truncated
        self._info = raw.info
        sfreq = self.sfreq
        self.duration_s = raw.n_times / sfreq
        self.start_s = check_range("start_s", start_s, 0, self.duration_s, unit=" s",
                                   high_inclusive=False)
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
        """dict: The file and replay settings, for session metadata.

        The file is named without its folder, which may name the person or the date;
        ``truncated`` (present only then) holds the length in seconds that the file
        declares (None if it marks only its end) and that it holds, when it holds less.
        """
        description = {"kind": "file", "file": self.path.name, "speed": self.speed,
                       "loop": self.loop, "start_s": self.start_s, "board": self._board,
                       "stream": self._stream, "duration_s": self.duration_s,
                       "sfreq": self.sfreq, "n_channels": self.n_channels,
                       **self.channel_description()}
        if self.truncated:
            description["truncated"] = dict(self.truncated)
        return description

    def __repr__(self) -> str:
        speed = "max" if self.speed == "max" else f"{self.speed:g}x"
        return (f"FileSource({self.path.name!r}, {self.n_channels} ch, {self.sfreq:g} Hz, "
                f"speed {speed})")

    def _limit(self, count: int) -> int:
        return count if self.loop else min(count, self._length - self._k)

    def _samples(self, first: int, count: int) -> np.ndarray:
        offset = first % self._length
        if offset + count <= self._length:
            data = self._data[:, self._start + offset:self._start + offset + count]
        else:
            data = self._data[:, self._start + np.arange(first, first + count) % self._length]
        if count and self._event_index.size:
            self._queue_events(first, first + count)
        return data

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
