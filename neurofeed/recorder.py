"""Crash-safe session recording: everything is appended and flushed while the session runs.

A session folder holds, while it runs:

- ``eeg.f64`` and ``eeg_times.f64``: raw EEG in volts (float64, one row of
  ``n_channels`` values per sample) and one LSL timestamp per sample, in seconds;
- ``eeg_info.json``: channel names and sampling rate, to read ``eeg.f64`` back;
- one TSV per table (``features.tsv``, ``music.tsv``, ``latency.tsv``,
  ``markers.tsv``, ``score.tsv``), a header line then one row per append;
- ``session.json``: configuration, library versions, source and device, and a
  ``status`` that is ``"running"`` until :func:`neurofeed.finalise.finalise_session`
  has turned the folder into FIF with annotations.

Files are flushed at least every ``flush_interval_s``, so a crash, even ``kill -9``,
loses at most that much.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurofeed._check import check_range
from neurofeed.errors import InvalidArgumentError

EEG_FILE = "eeg.f64"
EEG_TIMES_FILE = "eeg_times.f64"
EEG_INFO_FILE = "eeg_info.json"
SESSION_FILE = "session.json"
STATUS_RUNNING = "running"
STATUS_FINALISED = "finalised"


def format_value(value) -> str:
    """Format one TSV cell: floats in shortest round-trip form, so output is deterministic."""
    if type(value) is float or isinstance(value, np.floating):
        return "n/a" if value != value else repr(float(value))
    if value is None:
        return "n/a"
    if type(value) is int:
        return str(value)
    return str(value).replace("\t", " ").replace("\n", " ")


class TableWriter:
    """Append rows of named values to a TSV file whose header is the first row's keys."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = None
        self._columns: tuple[str, ...] = ()

    def append(self, row: dict) -> None:
        """Append one row; its keys must equal the columns of the first row."""
        if self._file is None:
            self._columns = tuple(row)
            self._file = open(self.path, "w", encoding="utf-8")
            self._file.write("\t".join(self._columns) + "\n")
        elif tuple(row) != self._columns:
            raise InvalidArgumentError(
                f"{self.path.name}: row columns {list(row)} differ from the header {list(self._columns)}")
        self._file.write("\t".join(map(format_value, row.values())) + "\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_json(path: Path, content: dict) -> None:
    """Write JSON atomically (write a temporary file, then rename over the old one)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(content, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


class SessionRecorder:
    """Append a session's EEG, tables and markers to one folder, flushing every second.

    Parameters
    ----------
    folder : path-like
        The session folder; created, and must not already hold a session.
    info : mne.Info
        The source's channels and sampling rate.
    metadata : dict
        What ``session.json`` starts with (config, versions, source, subject, ...).
    flush_interval_s : float
        Longest time, in seconds, that appended data waits before it is flushed.
    """

    def __init__(self, folder, info, metadata: dict, *, flush_interval_s: float = 1.0):
        self.folder = Path(folder)
        self.flush_interval_s = check_range("flush_interval_s", flush_interval_s, 0, 60, unit=" s",
                                            low_inclusive=False)
        if (self.folder / SESSION_FILE).exists():
            raise InvalidArgumentError(f"session folder {str(self.folder)!r} already holds a session; "
                                       "choose another --out or subject")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.n_channels = len(info["ch_names"])
        write_json(self.folder / EEG_INFO_FILE, {"ch_names": list(info["ch_names"]),
                                                 "sfreq": float(info["sfreq"]),
                                                 "dtype": "float64", "layout": "samples x channels"})
        self.metadata = {**metadata, "status": STATUS_RUNNING}
        write_json(self.folder / SESSION_FILE, self.metadata)
        self._eeg = open(self.folder / EEG_FILE, "wb")
        self._times = open(self.folder / EEG_TIMES_FILE, "wb")
        self._tables: dict[str, TableWriter] = {}
        self._last_flush = time.monotonic()
        self.n_samples = 0

    def __enter__(self) -> "SessionRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write_eeg(self, data: np.ndarray, timestamps: np.ndarray) -> None:
        """Append samples: ``data`` (n_channels, n_samples) in volts, LSL timestamps in s."""
        if timestamps.size:
            self._eeg.write(np.ascontiguousarray(data.T, dtype=np.float64).tobytes())
            self._times.write(np.ascontiguousarray(timestamps, dtype=np.float64).tobytes())
            self.n_samples += timestamps.size
        self._maybe_flush()

    def write_row(self, table: str, row: dict) -> None:
        """Append one row to ``<table>.tsv`` (created with a header on first use)."""
        writer = self._tables.get(table)
        if writer is None:
            writer = self._tables[table] = TableWriter(self.folder / f"{table}.tsv")
        writer.append(row)
        self._maybe_flush()

    def write_marker(self, onset: float, duration: float, description: str) -> None:
        """Append a marker: onset on the LSL clock and duration in seconds."""
        self.write_row("markers", {"onset": onset, "duration": duration, "description": description})

    def update_metadata(self, **fields) -> None:
        """Merge ``fields`` into session.json and rewrite it atomically."""
        self.metadata.update(fields)
        write_json(self.folder / SESSION_FILE, self.metadata)

    def flush(self) -> None:
        """Push everything appended so far to the operating system."""
        self._eeg.flush()
        self._times.flush()
        for writer in self._tables.values():
            writer.flush()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close every file (the folder stays ``running`` until finalised)."""
        if self._eeg.closed:
            return
        self.flush()
        self._eeg.close()
        self._times.close()
        for writer in self._tables.values():
            writer.close()

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()
