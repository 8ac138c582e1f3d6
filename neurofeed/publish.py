"""LSL outlets for a session's features, music and markers, for LabRecorder and other tools."""

from __future__ import annotations

import numpy as np


class SessionOutlets:
    """Two LSL outlets: per-hop numbers as one float stream, and markers as a string stream.

    Parameters
    ----------
    name : str
        Stream name prefix: ``<name>-features`` (type ``neurofeed.features``) and
        ``<name>-markers`` (type ``Markers``).
    channels : sequence of (label, unit)
        The float stream's channels, in the order :meth:`push_values` receives them.
    rate_hz : float
        The nominal rate of the float stream (1 / hop), in Hz.
    source_id : str
        A stable id, so that LSL recorders reconnect to a restarted session.
    """

    def __init__(self, name: str, channels, rate_hz: float, source_id: str):
        from pylsl import StreamInfo, StreamOutlet

        from neurofeed.acquire.lsl import quiet_liblsl

        quiet_liblsl()
        info = StreamInfo(f"{name}-features", "neurofeed.features", len(channels), rate_hz,
                          "float32", f"{source_id}-features")
        desc = info.desc().append_child("channels")
        for label, unit in channels:
            channel = desc.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
        self._values = StreamOutlet(info)
        self._markers = StreamOutlet(StreamInfo(f"{name}-markers", "Markers", 1, 0.0, "string",
                                                f"{source_id}-markers"))
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

    def __enter__(self) -> "SessionOutlets":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
