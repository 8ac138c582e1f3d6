"""A minimal writer of the XDF container format, for tests (pyxdf only reads).

It follows the XDF 1.0 specification: the magic ``XDF:``, then chunks of
``[NumLengthBytes][Length][Tag][Content]``, all little-endian. Each stream gets a
StreamHeader (tag 2), Samples chunks (tag 3) with an explicit timestamp per sample,
a ClockOffset (tag 4) and a StreamFooter (tag 6).
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_NUMERIC = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}
_SAMPLES_PER_CHUNK = 100


@dataclass
class XdfStream:
    """One stream to write.

    ``samples`` is ``(n_samples, n_channels)`` numbers, or a list of lists of str for
    ``channel_format="string"``. ``channels`` holds one dict per channel with any of
    ``label``, ``unit`` and ``type``; empty writes no per-channel metadata.
    ``desc_xml`` is written as it is at the end of the header's ``desc`` element.
    """

    name: str
    type: str
    nominal_srate: float
    channel_format: str
    timestamps: np.ndarray
    samples: object
    channels: list[dict] = field(default_factory=list)
    desc_xml: bytes = b""


def write_xdf(path: str | Path, streams: list[XdfStream]) -> Path:
    """Write ``streams`` to an XDF file at ``path`` and return the path."""
    body = bytearray(b"XDF:")
    body += _chunk(1, _xml("info", {"version": "1.0"}))
    for stream_id, stream in enumerate(streams, start=1):
        body += _chunk(2, struct.pack("<I", stream_id) + _header(stream))
    for stream_id, stream in enumerate(streams, start=1):
        n = len(stream.timestamps)
        for start in range(0, n, _SAMPLES_PER_CHUNK):
            stop = min(n, start + _SAMPLES_PER_CHUNK)
            content = struct.pack("<I", stream_id) + _varlen(stop - start)
            for i in range(start, stop):
                content += b"\x08" + struct.pack("<d", stream.timestamps[i])
                content += _sample(stream, stream.samples[i])
            body += _chunk(3, content)
        if n:
            body += _chunk(4, struct.pack("<Idd", stream_id, stream.timestamps[-1], 0.0))
    for stream_id, stream in enumerate(streams, start=1):
        stamps = stream.timestamps
        footer = _xml("info", {"first_timestamp": repr(float(stamps[0])) if len(stamps) else "0",
                               "last_timestamp": repr(float(stamps[-1])) if len(stamps) else "0",
                               "sample_count": str(len(stamps))})
        body += _chunk(6, struct.pack("<I", stream_id) + footer)
    path = Path(path)
    path.write_bytes(bytes(body))
    return path


def _header(stream: XdfStream) -> bytes:
    info = ET.Element("info")
    for key, value in (("name", stream.name), ("type", stream.type),
                       ("channel_count", str(_n_channels(stream))),
                       ("nominal_srate", repr(float(stream.nominal_srate))),
                       ("channel_format", stream.channel_format),
                       ("source_id", f"test-{stream.name}"), ("version", "1.1"),
                       ("created_at", "0"), ("uid", f"uid-{stream.name}"),
                       ("session_id", "default"), ("hostname", "localhost")):
        ET.SubElement(info, key).text = value
    desc = ET.SubElement(info, "desc")
    if stream.channels:
        channels = ET.SubElement(desc, "channels")
        for channel in stream.channels:
            node = ET.SubElement(channels, "channel")
            for key, value in channel.items():
                ET.SubElement(node, key).text = value
    ET.SubElement(desc, "end")  # where desc_xml goes: ET cannot hold XML of any depth
    text = ET.tostring(info, encoding="utf-8").replace(b"<end />", stream.desc_xml)
    return b'<?xml version="1.0"?>' + text


def _n_channels(stream: XdfStream) -> int:
    if stream.channel_format == "string":
        return len(stream.samples[0]) if len(stream.samples) else 1
    return np.shape(stream.samples)[1]


def _sample(stream: XdfStream, values) -> bytes:
    if stream.channel_format == "string":
        return b"".join(_varlen(len(v.encode())) + v.encode() for v in values)
    return np.asarray(values, dtype=_NUMERIC[stream.channel_format]).tobytes()


def _xml(tag: str, children: dict) -> bytes:
    root = ET.Element(tag)
    for key, value in children.items():
        ET.SubElement(root, key).text = value
    return b'<?xml version="1.0"?>' + ET.tostring(root, encoding="utf-8")


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content
