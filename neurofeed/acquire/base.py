"""The Source contract that every EEG input (board, LSL stream, file replay) fulfils."""

from __future__ import annotations

import abc
import logging
from typing import NamedTuple

import numpy as np
from pylsl import local_clock

from neurofeed._check import check_range
from neurofeed.acquire.channels import DUPLICATE_NOTE, Channel, default_name
from neurofeed.acquire.montage import Identity
from neurofeed.errors import SourceError

logger = logging.getLogger("neurofeed.acquire")


class Chunk(NamedTuple):
    """Samples returned by one :meth:`Source.read`.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_samples)
        EEG in volts, float64. Treat it as read-only: a source may hand out views.
    timestamps : ndarray, shape (n_samples,)
        Acquisition time of each sample on the LSL clock (``pylsl.local_clock()``),
        in seconds, strictly increasing across all reads of one source.
    """

    data: np.ndarray
    timestamps: np.ndarray


class Event(NamedTuple):
    """A marker or annotation, on the LSL clock.

    Attributes
    ----------
    onset : float
        Start time on the LSL clock, in seconds.
    duration : float
        Duration in seconds (0 for an instantaneous marker).
    description : str
        The annotation text.
    """

    onset: float
    duration: float
    description: str


class Gap(NamedTuple):
    """A period in which the source delivered nothing for longer than its stall timeout.

    Attributes
    ----------
    start : float
        LSL time of the last sample before the stall, in seconds.
    end : float or None
        LSL time of the first sample after it, or None while still stalled.
    """

    start: float
    end: float | None


def channel_names(labels, n: int, *, origin: str = "") -> list[str]:
    """Return ``n`` channel names from a file's or stream's labels.

    Parameters
    ----------
    labels : sequence of str
        The labels as the file or stream gives them, one per channel.
    n : int
        The number of channels.
    origin : str
        What the labels come from (a file or stream), named in the warning below.

    Returns
    -------
    names : list of str
        Each label stripped, with ``EEG001``, ``EEG002``, ... (numbered from 1 by
        position) where a label is empty. If the labels are not one per channel, or a
        name repeats, every channel is numbered, with a warning.
    """
    labels = [str(label).strip() for label in labels]
    names = [label or default_name(i) for i, label in enumerate(labels)]
    if len(names) == n and len(set(names)) == n:
        return names
    if any(labels):
        logger.warning("%s: %d channel labels for %d channels, or repeated labels; naming the "
                       "channels %s to %s", origin or "channel labels", len(labels), n,
                       default_name(0), default_name(n - 1))
    return [default_name(i) for i in range(n)]


class Source(abc.ABC):
    """An EEG source: a context manager whose :meth:`read` never blocks.

    Subclasses implement :attr:`info`, :meth:`_open`, :meth:`_close` and
    :meth:`_pull`. This class enforces the contract on top of them: samples in volts
    with strictly increasing LSL timestamps, never a sample twice, non-finite values
    counted but passed through, and stall detection with automatic resume.

    Parameters
    ----------
    stall_timeout_s : float
        Seconds without a new sample after which the source reports itself stalled.

    Notes
    -----
    Every source names and types its channels by the rules of
    :mod:`neurofeed.acquire.channels`, once, when its :attr:`info` is made, and keeps how in
    :attr:`channel_map` and :attr:`montage`. Channels without usable labels are named by a
    ``montage=`` given to the source's constructor (``--montage``, see
    :func:`~neurofeed.acquire.montage.parse_montage`).
    """

    #: How fast the source delivers: 1.0 (real time) for live sources; a file replay sets N
    #: times real time or ``"max"`` (as fast as it is read, which runs a session on the
    #: virtual clock).
    speed: float | str = 1.0

    def __init__(self, *, stall_timeout_s: float = 2.0):
        self.stall_timeout_s = check_range("stall_timeout_s", stall_timeout_s, 0, 3600,
                                           unit=" s", low_inclusive=False)
        self._is_open = False
        self._last_timestamp = -np.inf
        self._last_data_clock = 0.0
        self._stalled = False
        self._events: list[Event] = []
        #: Total samples delivered per channel.
        self.n_samples = 0
        #: Non-finite (NaN or inf) values delivered, over all channels.
        self.n_nonfinite = 0
        #: Samples discarded because their timestamp did not increase.
        self.n_dropped = 0
        #: Stalls seen so far, oldest first.
        self.gaps: list[Gap] = []
        #: list of Channel: each channel's label as the source gave it, its name and type
        #: (and how they were found), in the order of :attr:`info`.
        self.channel_map: list[Channel] = []
        #: dict: ``{"name", "how"}``: the montage that named the channels (name None when
        #: their labels did, or when nothing gives positions, which ``how`` then says).
        self.montage: dict = {}

    # -- what subclasses provide -------------------------------------------------
    @property
    @abc.abstractmethod
    def info(self):
        """mne.Info: channel names and types, and the nominal sampling rate in Hz."""

    @abc.abstractmethod
    def _open(self) -> None:
        """Acquire the device, stream or file. Raise a SourceError on failure."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release everything :meth:`_open` acquired. Must not raise."""

    @abc.abstractmethod
    def _pull(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(data_volts, lsl_timestamps)`` that arrived since the last pull."""

    # -- the contract --------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """bool: Whether the source is open."""
        return self._is_open

    @property
    def finished(self) -> bool:
        """bool: True once the source will never deliver again (the end of a replay)."""
        return False

    @property
    def stalled(self) -> bool:
        """bool: True while no sample has arrived for more than ``stall_timeout_s``.

        Updated by :meth:`read`; it clears itself when data returns.
        """
        return self._stalled

    @property
    def sfreq(self) -> float:
        """float: The nominal sampling rate in Hz."""
        return float(self.info["sfreq"])

    @property
    def n_channels(self) -> int:
        """int: The number of channels: EEG, and any others the source keeps (see info's types)."""
        return len(self.info["ch_names"])

    def open(self) -> Source:
        """Open the source; a no-op when it is already open."""
        if not self._is_open:
            self._open()
            self._is_open = True
            self._last_data_clock = local_clock()
        return self

    def close(self) -> None:
        """Close the source; a no-op when it is already closed."""
        if self._is_open:
            self._is_open = False
            self._close()

    def __enter__(self) -> Source:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self) -> Chunk:
        """Return the samples that arrived since the last call, without blocking.

        Returns
        -------
        chunk : Chunk
            ``data`` of shape ``(n_channels, n_samples)`` in volts and one LSL
            timestamp per sample. ``n_samples`` may be 0.
        """
        if not self._is_open:
            raise SourceError(f"{self!r} is not open; use it as a context manager "
                              "('with source: ...') or call open() first")
        data, timestamps = self._pull()
        if timestamps.size and not (timestamps[0] > self._last_timestamp
                                    and np.all(timestamps[1:] > timestamps[:-1])):
            data, timestamps = self._drop_non_increasing(data, timestamps)
        now = local_clock()
        n = timestamps.size
        if n:
            if self._stalled:
                self._stalled = False
                self.gaps[-1] = Gap(self.gaps[-1].start, float(timestamps[0]))
                logger.warning("%r resumed after %.2f s", self,
                               timestamps[0] - self.gaps[-1].start)
            self._last_timestamp = float(timestamps[-1])
            self._last_data_clock = now
            self.n_samples += n
            self.n_nonfinite += int(data.size - np.count_nonzero(np.isfinite(data)))
        elif (not self._stalled and not self.finished
              and now - self._last_data_clock > self.stall_timeout_s):
            self._stalled = True
            start = self._last_timestamp if np.isfinite(self._last_timestamp) else now
            self.gaps.append(Gap(float(start), None))
            logger.warning("%r stalled: no data for %.1f s", self, now - self._last_data_clock)
        return Chunk(data, timestamps)

    def channel_description(self) -> dict:
        """Return ``{"channels": [...], "montage": {...}}`` for :attr:`description`.

        ``channels`` lists ``{"label", "name", "type"}`` per channel, in channel order, so
        that session.json records what each label became.
        """
        return {"channels": [channel.as_dict() for channel in self.channel_map],
                "montage": dict(self.montage)}

    def _identified(self, identity: Identity, origin: str) -> list[Channel]:
        """Keep ``identity`` as this source's channels; warn where it needs saying.

        Returns the channels. ``origin`` names the source in the warnings.
        """
        self.channel_map, self.montage = list(identity.channels), dict(identity.montage)
        if identity.warning:
            logger.warning("%s: %s", origin, identity.warning)
        renamed = [ch for ch in identity.channels if DUPLICATE_NOTE in ch.how]
        if renamed:
            logger.warning("%s: channels whose names repeat keep their labels: %s", origin,
                           ", ".join(f"{ch.label!r} as {ch.name!r}" for ch in renamed))
        return self.channel_map

    def listen(self, state) -> None:  # noqa: B027 (a hook; most sources ignore the music)
        """Hear the music being played; by default, nothing happens.

        Called by the loop on every hop with the :class:`~neurofeed.synth.MusicState`
        being played. A simulated source (:class:`~neurofeed.acquire.SimulatedListener`)
        responds to it; a person's EEG source has nothing to do.

        Parameters
        ----------
        state : neurofeed.synth.MusicState
            The music's parameters at this hop.
        """

    def pop_events(self) -> list[Event]:
        """Return the events (annotations, markers) that became due since the last call."""
        events, self._events = self._events, []
        return events

    def _drop_non_increasing(self, data, timestamps):
        previous = np.maximum.accumulate(np.concatenate(([self._last_timestamp], timestamps)))
        keep = timestamps > previous[:-1]
        self.n_dropped += int(timestamps.size - np.count_nonzero(keep))
        logger.warning("%r: dropped %d samples whose timestamps did not increase",
                       self, timestamps.size - np.count_nonzero(keep))
        return data[:, keep], timestamps[keep]
