"""Publish EEG from any Source as an LSL stream (what ``neurofeed stream`` runs)."""

from __future__ import annotations

import socket

import numpy as np
from pylsl import StreamInfo, StreamOutlet

# Imported for its side effect as well: liblsl's INFO lines stay off stderr.
from neurofeed.acquire.lsl import stream_summary
from neurofeed.acquire.units import VOLTS_TO_MICROVOLTS
from neurofeed.errors import InvalidArgumentError


class EEGOutlet:
    """An LSL outlet for chunks read from a :class:`~neurofeed.acquire.Source`.

    A context manager: the stream becomes visible on the network on :meth:`open`
    (or entering the ``with`` block) and disappears on :meth:`close`.

    Parameters
    ----------
    info : mne.Info
        The source's ``info``: channel names and types, and the sampling rate in Hz,
        which becomes the stream's nominal rate.
    name : str
        The stream's LSL name.
    type : str
        The stream's LSL content type.
    source_id : str | None
        The stream's LSL source_id. The default, ``NAME@HOSTNAME``, stays the same
        when the outlet is restarted, so that LSL inlets elsewhere (LabRecorder, another
        neurofeed) reconnect to it by themselves.

    Notes
    -----
    Samples go out as float32 in microvolts. The XML description lists every channel
    with its ``label``, ``unit`` (``microvolts``) and ``type`` (the MNE channel type in
    upper case, e.g. ``EEG``), which is what :class:`~neurofeed.acquire.LSLSource`
    reads back.
    """

    def __init__(self, info, *, name: str = "neurofeed", type: str = "EEG",
                 source_id: str | None = None):
        for key, value in (("name", name), ("type", type)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidArgumentError(f"the LSL stream {key} must be a non-empty string, "
                                           f"got {value!r}")
        if source_id is None:
            source_id = f"{name}@{socket.gethostname()}"
        self.name, self.type, self.source_id = name, type, str(source_id)
        self.ch_names = list(info["ch_names"])
        self.ch_types = [kind.upper() for kind in info.get_channel_types()]
        self.sfreq = float(info["sfreq"])
        self.n_pushed = 0
        self._outlet: StreamOutlet | None = None

    def __repr__(self) -> str:
        return (f"EEGOutlet(name={self.name!r}, type={self.type!r}, "
                f"{len(self.ch_names)} ch, {self.sfreq:g} Hz)")

    @property
    def stream_info(self) -> StreamInfo:
        """pylsl.StreamInfo: the description the outlet publishes (fresh copy)."""
        stream = StreamInfo(self.name, self.type, len(self.ch_names), self.sfreq, "float32",
                            self.source_id)
        channels = stream.desc().append_child("channels")
        for label, kind in zip(self.ch_names, self.ch_types):
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", "microvolts")
            channel.append_child_value("type", kind)
        stream.desc().append_child("acquisition").append_child_value("manufacturer", "neurofeed")
        return stream

    @property
    def summary(self) -> str:
        """str: ``'NAME' (TYPE, N ch at R Hz)``, as LSL tools list the stream."""
        return stream_summary(self.stream_info)

    def open(self) -> EEGOutlet:
        """Create the outlet, which makes the stream visible; a no-op when open."""
        if self._outlet is None:
            self._outlet = StreamOutlet(self.stream_info)
        return self

    def close(self) -> None:
        """Destroy the outlet: the stream disappears and inlets stop receiving."""
        # liblsl destroys the outlet when pylsl's object is collected, i.e. right here.
        self._outlet = None

    def __enter__(self) -> EEGOutlet:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def push(self, chunk) -> None:
        """Publish one chunk with its own timestamps.

        Parameters
        ----------
        chunk : Chunk
            ``data`` of shape ``(n_channels, n_samples)`` in volts and ``timestamps``
            of shape ``(n_samples,)`` on the LSL clock, in seconds, as
            :meth:`Source.read` returns them. An empty chunk is a no-op.
        """
        if self._outlet is None:
            raise RuntimeError(f"{self!r} is not open; use it as a context manager "
                               "or call open() first")
        data, timestamps = chunk
        n_channels = len(self.ch_names)
        if data.shape != (n_channels, len(timestamps)):
            raise InvalidArgumentError(
                f"{self!r} takes data of shape ({n_channels}, n) with n timestamps, "
                f"got data {data.shape} and {len(timestamps)} timestamps")
        if not len(timestamps):
            return
        # Scaled in float64 to microvolts (LSL's convention for EEG), rounded to float32 once.
        samples = np.empty((len(timestamps), n_channels), dtype=np.float32)
        np.multiply(data.T, VOLTS_TO_MICROVOLTS, out=samples, casting="same_kind")
        self._outlet.push_chunk(samples, np.asarray(timestamps, dtype=float).tolist())
        self.n_pushed += len(timestamps)
