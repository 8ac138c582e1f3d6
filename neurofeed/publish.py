"""LSL outlets for a session's features, music and markers, for LabRecorder and other tools.

What the streams expose, and to whom, is written down in docs/privacy.md.
"""

from __future__ import annotations

import uuid

import numpy as np

from neurofeed.errors import InvalidArgumentError


def random_source_id() -> str:
    """Return an opaque, random LSL ``source_id``: ``neurofeed-`` and 32 hex digits.

    It says nothing about the person, the date or the preset, which every LSL client on
    the network can read; and it differs for every session, so that two sessions of one
    person cannot be linked by it.
    """
    return f"neurofeed-{uuid.uuid4().hex}"


class SessionOutlets:
    """Two LSL outlets: per-hop numbers as one float stream, and markers as a string stream.

    Parameters
    ----------
    name : str
        Stream name prefix: ``<name>-features`` (type ``neurofeed.features``) and
        ``<name>-markers`` (type ``Markers``). It is visible to every LSL client that
        can reach this machine: keep it free of names and dates.
    channels : sequence of (label, unit)
        The float stream's channels, in the order :meth:`push_values` receives them.
    rate_hz : float
        The nominal rate of the float stream (1 / hop), in Hz.

    Attributes
    ----------
    source_id : str
        The session's random id (:func:`random_source_id`). The streams carry
        ``<source_id>-features`` and ``<source_id>-markers``, so that an LSL recorder
        that lost them reconnects within the session, never across sessions.
    """

    def __init__(self, name: str, channels, rate_hz: float):
        from pylsl import StreamInfo, StreamOutlet

        # Imported for its side effect: liblsl's INFO lines stay off stderr.
        import neurofeed.acquire.lsl  # noqa: F401

        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(f"the LSL stream name must be a non-empty string, "
                                       f"got {name!r}")
        self.source_id = random_source_id()
        info = StreamInfo(f"{name}-features", "neurofeed.features", len(channels), rate_hz,
                          "float32", f"{self.source_id}-features")
        desc = info.desc().append_child("channels")
        for label, unit in channels:
            channel = desc.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
        self._values = StreamOutlet(info)
        self._markers = StreamOutlet(StreamInfo(f"{name}-markers", "Markers", 1, 0.0, "string",
                                                f"{self.source_id}-markers"))
        self.n_channels = len(channels)

    def push_values(self, values, timestamp: float) -> None:
        """Push one sample of per-hop values (NaN where missing) at an LSL time in seconds."""
        self._values.push_sample(np.asarray(values, dtype=np.float32), timestamp)

    def push_marker(self, text: str, timestamp: float) -> None:
        """Push one marker string at an LSL time in seconds."""
        self._markers.push_sample([text], timestamp)

    def close(self) -> None:
        """Drop both outlets (their consumers see the streams end)."""
        self._values = self._markers = None

    def __enter__(self) -> SessionOutlets:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
