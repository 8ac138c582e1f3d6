"""What a recording's header declares, range-checked before anything is allocated.

A header is input like any other: a file may declare 99,999,999 Hz, a million channels,
or more records than it holds. Every reader checks the rate and channel count it is given
against the limits below (and so does the LSL source, for a stream's), and the number of
samples against what the file's bytes can hold, so that a hostile or damaged header is a
one-line :class:`~neurofeed.errors.FileFormatError` instead of a gigabyte allocation.
EDF/BDF and BrainVision headers are read here before MNE sees them, which also tells a
recording cut short from a shorter one.
"""

from __future__ import annotations

import glob
import logging
import math
from pathlib import Path

from neurofeed.errors import FileFormatError
from neurofeed.limits import MAX_CHANNELS, MAX_SFREQ_HZ, MIN_SFREQ_HZ

logger = logging.getLogger("neurofeed.acquire")

#: Deflate (gzip, zlib, MATLAB v7, compressed HDF5) never compresses beyond 1032:1, so a
#: compressed file of N bytes holds at most 1032 N bytes of samples.
DEFLATE_MAX_RATIO = 1032
#: Suffixes of MNE formats whose samples may be compressed: deflate for all but MEF3
#: (``.mefd``), whose range-encoded differences are assumed to compress no better.
COMPRESSED_SUFFIXES = (".fif.gz", ".set", ".mat", ".snirf", ".mefd")
#: At most this much of a text header is read (a BrainVision header for MAX_CHANNELS
#: channels is about 60 kB).
_MAX_HEADER_BYTES = 4 * 1024 * 1024
#: An EDF/BDF header: 256 bytes, then 256 bytes per signal.
_EDF_FIXED_BYTES = 256
_EDF_SIGNAL_BYTES = 256
_BRAINVISION_BYTES = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}


def check_sfreq(origin, sfreq, *, error=FileFormatError) -> float:
    """Return ``sfreq`` as a float, or raise unless it is a rate in [MIN_SFREQ_HZ, MAX_SFREQ_HZ] Hz.

    Parameters
    ----------
    origin : Path | str
        What declares the rate: a file (named, quoted, in the error) or a description
        such as ``"LSL stream 'Amp' (EEG, 8 ch at 250 Hz)"``.
    sfreq : float | str
        The rate as read, in Hz.
    error : type
        The exception raised: :class:`~neurofeed.errors.FileFormatError` for files.
    """
    try:
        value = float(sfreq)
    except (TypeError, ValueError):
        value = math.nan
    if not MIN_SFREQ_HZ <= value <= MAX_SFREQ_HZ:  # also refuses NaN
        raise error(f"{_named(origin)} declares a sampling rate of {sfreq!s} Hz; "
                    f"accepted: from {MIN_SFREQ_HZ:g} to {MAX_SFREQ_HZ:g} Hz")
    return value


def check_n_channels(origin, n_channels: int, *, error=FileFormatError) -> int:
    """Return ``n_channels``, or raise unless it is from 1 to :data:`MAX_CHANNELS`.

    ``origin`` and ``error`` are as for :func:`check_sfreq`.
    """
    if not 1 <= n_channels <= MAX_CHANNELS:
        raise error(f"{_named(origin)} declares {n_channels} channels; accepted: "
                    f"1 to {MAX_CHANNELS}")
    return n_channels


def _named(origin) -> str:
    return repr(str(origin)) if isinstance(origin, Path) else str(origin)


def check_samples_fit(path, n_values: int, n_bytes: int) -> None:
    """Raise unless ``n_values`` samples (all channels) fit in ``n_bytes`` on disk.

    Every format stores a value in at least one byte; those that may be deflate-compressed
    (:data:`COMPRESSED_SUFFIXES`) are allowed :data:`DEFLATE_MAX_RATIO` times more values.

    Parameters
    ----------
    path : str | Path
        The recording, named in the error.
    n_values : int
        Samples times channels, as the header declares them.
    n_bytes : int
        The bytes the recording occupies on disk (all its files, see :func:`bytes_on_disk`).
    """
    name = Path(path).name.lower()
    ratio = DEFLATE_MAX_RATIO if name.endswith(COMPRESSED_SUFFIXES) else 1
    if n_values > n_bytes * ratio:
        raise FileFormatError(f"{str(path)!r} declares {n_values} samples over all channels, "
                              f"more than its {n_bytes} bytes can hold; accepted: a header "
                              "that matches its data")


def bytes_on_disk(path: Path) -> int:
    """Return the bytes of a recording: the file or folder, and its companion files.

    Companions are the files beside it whose names start with its stem (FIF split parts,
    EEGLAB ``.fdt``, ``.dat`` data of ``.lay``), and a BrainVision header's data file.
    """
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    files = set(path.parent.glob(glob.escape(path.name.split(".")[0]) + "*"))
    if _is_brainvision(path):
        files.add(path.parent / _brainvision_fields(path).get("DataFile", path.name))
    return sum(p.stat().st_size for p in files if p.is_file())


def declared_truncation(path: Path) -> dict | None:
    """Read an EDF/BDF or BrainVision header and say whether the file holds less than it.

    The header's rate and channel count are checked on the way.

    Returns
    -------
    truncated : dict or None
        ``{"declared_s": ..., "actual_s": ...}``, the recording's length in seconds as the
        header declares it and as the file holds it, when the file holds less; None
        when it holds all of it, or its format declares no length.

    Raises
    ------
    FileFormatError
        If the header is out of range, or the file holds not even one sample.
    """
    name = path.name.lower()
    if name.endswith((".edf", ".bdf")):
        return _edf_truncation(path)
    if _is_brainvision(path):
        return _brainvision_truncation(path)
    return None


def warn_truncated(path, truncated: dict) -> None:
    """Log, on the ``neurofeed.acquire`` logger, that ``path`` holds less than it declares.

    ``truncated`` is ``{"declared_s": ..., "actual_s": ...}`` in seconds; ``declared_s``
    is None when the format marks its end but not its length.
    """
    if truncated["declared_s"] is None:
        logger.warning("%s may be truncated: it ends without the footer that closes a recording; "
                       "the %.3f s it holds are read", path, truncated["actual_s"])
    else:
        logger.warning("%s is truncated: its header declares %.3f s, the file holds %.3f s; "
                       "only those are read", path, truncated["declared_s"],
                       truncated["actual_s"])


def _edf_truncation(path: Path) -> dict | None:
    with open(path, "rb") as file:
        head = file.read(_EDF_FIXED_BYTES)
        if len(head) < _EDF_FIXED_BYTES:
            raise FileFormatError(f"{str(path)!r} is shorter than an EDF/BDF header "
                                  f"({_EDF_FIXED_BYTES} bytes)")
        n_signals = check_n_channels(path, _header_int(path, head[252:256], "signal count"))
        n_records = _header_int(path, head[236:244], "record count")
        record_s = _header_float(path, head[244:252], "record duration")
        # Each signal's samples per record follow 216 bytes per signal of other fields
        # (label, transducer, dimension, ranges, prefiltering).
        file.seek(_EDF_FIXED_BYTES + 216 * n_signals)
        block = file.read(8 * n_signals)
    if len(block) < 8 * n_signals:
        raise FileFormatError(f"{str(path)!r} ends inside its EDF/BDF header")
    per_record = [_header_int(path, block[8 * i:8 * i + 8], "samples per record")
                  for i in range(n_signals)]
    if not record_s > 0 or min(per_record) < 0 or sum(per_record) == 0:
        raise FileFormatError(f"{str(path)!r} declares data records of {record_s:g} s with "
                              f"{sum(per_record)} samples; accepted: records longer than 0 s "
                              "holding samples")
    check_sfreq(path, max(per_record) / record_s)
    if n_records < -1:
        raise FileFormatError(f"{str(path)!r} declares {n_records} data records; accepted: a "
                              "count, or -1 (unknown)")
    bytes_per_sample = 3 if head[:1] == b"\xff" else 2  # BDF is 24-bit, EDF 16-bit
    record_bytes = sum(per_record) * bytes_per_sample
    data_bytes = path.stat().st_size - _EDF_FIXED_BYTES - _EDF_SIGNAL_BYTES * n_signals
    held = max(0, data_bytes) // record_bytes
    if held == 0:
        raise FileFormatError(f"{str(path)!r} holds no complete data record of {record_s:g} s "
                              f"(its header declares {n_records}); accepted: a recording with "
                              "at least one")
    if n_records != -1 and held < n_records:  # -1: EDF+ 'unknown', a recording still running
        return {"declared_s": n_records * record_s, "actual_s": held * record_s}
    return None


def _brainvision_truncation(path: Path) -> dict | None:
    fields = _brainvision_fields(path)
    n_channels = check_n_channels(path, _header_int(path, fields.get("NumberOfChannels", ""),
                                                    "NumberOfChannels"))
    interval_us = _header_float(path, fields.get("SamplingInterval", ""), "SamplingInterval")
    sfreq = check_sfreq(path, 1e6 / interval_us if interval_us > 0 else interval_us)
    data = path.parent / fields.get("DataFile", "")
    value_bytes = _BRAINVISION_BYTES.get(fields.get("BinaryFormat", "").upper())
    if fields.get("DataFormat", "BINARY").upper() != "BINARY" or not value_bytes \
            or not data.is_file():
        return None  # ASCII data, or no data file: MNE reports what it finds
    held = data.stat().st_size // (n_channels * value_bytes)
    if held == 0:
        raise FileFormatError(f"{str(path)!r}: its data file {data.name!r} holds no complete "
                              "sample; accepted: a recording with at least one")
    if "DataPoints" in fields:  # optional; BrainVision Analyzer writes it
        declared = _header_int(path, fields["DataPoints"], "DataPoints")
        if held < declared:
            return {"declared_s": declared / sfreq, "actual_s": held / sfreq}
    return None


def _is_brainvision(path: Path) -> bool:
    return path.name.lower().endswith((".vhdr", ".ahdr"))


def _brainvision_fields(path: Path) -> dict[str, str]:
    """Return the ``key=value`` lines of a BrainVision header's first sections."""
    with open(path, "rb") as file:
        text = file.read(_MAX_HEADER_BYTES).decode("utf-8", errors="replace")
    fields = {}
    for line in text.splitlines():
        if line.startswith("[Channel Infos]"):
            break
        key, sep, value = line.partition("=")
        if sep and not key.startswith(";"):
            fields.setdefault(key.strip(), value.strip())
    return fields


def _header_int(path, raw, field: str) -> int:
    text = _field_text(raw)
    try:
        return int(text)
    except ValueError:
        raise _unreadable(path, field, text, "a whole number") from None


def _header_float(path, raw, field: str) -> float:
    text = _field_text(raw)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _unreadable(path, field, text, "a finite number")
    return value


def _field_text(raw) -> str:
    return (raw.decode("ascii", errors="replace") if isinstance(raw, bytes) else raw).strip()


def _unreadable(path, field: str, text: str, wanted: str) -> FileFormatError:
    kind = "BrainVision" if _is_brainvision(Path(path)) else "EDF/BDF"
    return FileFormatError(f"{str(path)!r} is unreadable, corrupt or truncated ({kind} header): "
                           f"its {field} {text[:20]!r} is not {wanted}")
