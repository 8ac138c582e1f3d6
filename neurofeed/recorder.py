"""Crash-safe session recording: everything is appended and pushed to the OS while it runs.

A live folder (schema :data:`neurofeed.folder.SCHEMA_VERSION`, see docs/session-folder.md)
holds ``session.json`` (``status`` ``running`` until finalised), ``eeg.f64`` (one row per
sample: its LSL timestamp, then one value per channel in volts, float64), one TSV per
table, and the lock file that :class:`neurofeed.folder.FolderLock` holds until
:meth:`SessionRecorder.close`.

EEG rows are written to the OS, where a SIGKILL cannot touch them, as soon as they are
handed over; table rows wait in memory at most ``flush_interval_s`` (0.25 s). A sample
and its time are in one row, so a torn write costs at most that row. Any failed write,
and a folder removed or made read-only under the session (checked at every flush),
raises :class:`neurofeed.errors.StorageError`.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np

from neurofeed._check import check_option, check_range
from neurofeed.errors import InvalidArgumentError, StorageError
from neurofeed.folder import (
    EEG_FILE,
    SCHEMA_VERSION,
    SESSION_FILE,
    STATUS_RUNNING,
    TABLE_FILES,
    FolderLock,
    storage_error,
    why,
    write_json,
)
from neurofeed.limits import MAX_SFREQ_HZ

#: The longest time appended table rows wait in memory before they are written to the OS, in s.
MAX_FLUSH_INTERVAL_S = 0.25


def format_value(value) -> str:
    """Format one TSV cell: floats in shortest round-trip form, so output is deterministic."""
    if type(value) is float or isinstance(value, np.floating):
        return "n/a" if value != value else repr(float(value))
    if value is None:
        return "n/a"
    if type(value) is int:
        return str(value)
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


class AppendFile:
    """A new file appended through a memory buffer, on a descriptor that can be read back.

    Reading back through the descriptor (:meth:`read_all`) still works when the file's
    folder was removed, which is how a removed session folder is restored.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        # Where the buffered bytes go in the file, and the bytes, replaced together in one
        # assignment: see :meth:`flush`.
        self._buffer: tuple[int, bytearray] = (0, bytearray())

    def write(self, data: bytes) -> None:
        """Append ``data`` to the buffer (written to the OS by :meth:`flush`)."""
        self._buffer[1].extend(data)

    def flush(self) -> None:
        """Write the buffer to the OS; what a failed write did not take stays buffered.

        The bytes go to their place in the file (``pwrite``), and the buffer forgets them
        in a single assignment: a stop signal raising KeyboardInterrupt between the write
        and that assignment leaves them buffered, and the next flush writes the same bytes
        at the same place again, so no row is ever written twice.
        """
        while True:
            offset, pending = self._buffer
            if not pending:
                return
            n = os.pwrite(self.fd, pending, offset)
            self._buffer = (offset + n, pending[n:])

    def read_all(self) -> bytes:
        """Everything written to the OS so far, read through the descriptor."""
        chunks, offset = [], 0
        while chunk := os.pread(self.fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the descriptor (after :meth:`flush`, or dropping the buffer)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class TableWriter:
    """Append rows of named values to a TSV file whose header is the first row's keys."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.file: AppendFile | None = None
        self._columns: tuple[str, ...] = ()

    def append(self, row: dict) -> None:
        """Append one row; its keys must equal the columns of the first row."""
        if self.file is None:
            self._columns = tuple(row)
            self.file = AppendFile(self.path)
            self.file.write(("\t".join(self._columns) + "\n").encode())
        elif tuple(row) != self._columns:
            raise InvalidArgumentError(
                f"{self.path.name}: row columns {list(row)} differ from the header {list(self._columns)}")
        self.file.write(("\t".join(map(format_value, row.values())) + "\n").encode())

    def flush(self) -> None:
        """Write the appended rows to the OS."""
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if self.file is not None:
            try:
                self.file.flush()
            finally:
                self.file.close()
                self.file = None


class SessionRecorder:
    """Append a session's EEG, tables and markers to one locked folder.

    Parameters
    ----------
    folder : path-like
        The session folder; created, and must not already hold a session.
    info : mne.Info or mapping
        The source's channels, their types and sampling rate (a mapping with ``ch_names``
        and ``sfreq`` records every channel as EEG).
    metadata : dict
        What ``session.json`` starts with (config, versions, source, subject, ...).
    flush_interval_s : float
        Longest time, in seconds, that appended table rows wait before they are written
        to the OS, up to :data:`MAX_FLUSH_INTERVAL_S` (EEG goes at once). The folder is
        checked at each flush.

    Raises
    ------
    StorageError
        From any method, when writing fails (disk full, read-only, folder removed).
    """

    def __init__(self, folder, info, metadata: dict, *, flush_interval_s: float = MAX_FLUSH_INTERVAL_S):
        self.folder = Path(folder)
        self.flush_interval_s = check_range("flush_interval_s", flush_interval_s, 0, MAX_FLUSH_INTERVAL_S,
                                            unit=" s", low_inclusive=False)
        ch_names = list(info["ch_names"])
        sfreq = check_range("info['sfreq']", info["sfreq"], 0, MAX_SFREQ_HZ, unit=" Hz", low_inclusive=False)
        if not ch_names:
            raise InvalidArgumentError("info has no channels; a session records at least one")
        if (self.folder / SESSION_FILE).exists():
            raise InvalidArgumentError(f"session folder {str(self.folder)!r} already holds a session; "
                                       "choose another --out or subject")
        self.n_channels = len(ch_names)
        self.n_samples = 0
        self._tables: dict[str, TableWriter] = {}
        self._failed: StorageError | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._identity = os.stat(self.folder)
        except OSError as err:
            raise storage_error(self.folder, f"could not be created ({why(err)})") from None
        self._lock = FolderLock(self.folder)
        try:
            self.metadata = {**metadata, "schema_version": SCHEMA_VERSION, "status": STATUS_RUNNING,
                             "eeg": {"ch_names": ch_names, "ch_types": _channel_types(info),
                                     "sfreq": sfreq,
                                     "layout": "rows of lsl_time_s then one value per channel (V), float64"},
                             "lsl_clock_utc_offset_s": _lsl_clock_utc_offset()}
            write_json(self.folder / SESSION_FILE, self.metadata)
            self._eeg = AppendFile(self.folder / EEG_FILE)
        except OSError as err:
            self._lock.release()
            raise storage_error(self.folder, f"could not be written ({why(err)})") from None
        self._last_flush = time.monotonic()

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write_eeg(self, data: np.ndarray, timestamps: np.ndarray) -> None:
        """Append samples: ``data`` (n_channels, n_samples) in volts, LSL timestamps in s."""
        self._raise_if_failed()
        timestamps = np.asarray(timestamps, dtype=np.float64)
        if timestamps.size:
            if np.shape(data) != (self.n_channels, timestamps.size):
                raise InvalidArgumentError(f"data must have shape ({self.n_channels}, {timestamps.size}) "
                                           f"(channels, samples), got {np.shape(data)}")
            rows = np.empty((timestamps.size, self.n_channels + 1))
            rows[:, 0] = timestamps
            rows[:, 1:] = np.asarray(data).T
            # Samples go to the OS at once (one write per chunk is cheap beside the
            # estimator): a SIGKILL loses none that were handed over.
            self._eeg.write(rows.tobytes())
            try:
                self._eeg.flush()
            except OSError as err:
                self._storage_failure(err)
            self.n_samples += timestamps.size
        self._maybe_flush()

    def write_row(self, table: str, row: dict) -> None:
        """Append one row to a table (its file is created with a header on first use).

        ``table`` is one of :data:`neurofeed.folder.TABLE_FILES`.
        """
        self._raise_if_failed()
        writer = self._tables.get(table)
        if writer is None:
            check_option("table", table, TABLE_FILES)
            writer = self._tables[table] = TableWriter(self.folder / TABLE_FILES[table])
        try:
            writer.append(row)  # the first row creates the file
        except OSError as err:
            self._storage_failure(err)
        self._maybe_flush()

    def write_marker(self, onset: float, duration: float, description: str) -> None:
        """Append a marker: onset on the LSL clock and duration in seconds."""
        self.write_row("markers", {"onset": onset, "duration": duration, "description": description})

    def update_metadata(self, **fields) -> None:
        """Merge ``fields`` into session.json and rewrite it atomically."""
        self.metadata.update(fields)
        self._raise_if_failed()
        try:
            write_json(self.folder / SESSION_FILE, self.metadata)
        except OSError as err:
            self._storage_failure(err)

    def flush(self) -> None:
        """Write everything appended so far to the OS, then check the folder is still there."""
        self._raise_if_failed()
        try:
            for file in self._files():
                file.flush()
        except OSError as err:
            self._storage_failure(err)
        self._check_folder()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush, close every file and release the lock (the folder stays ``running``).

        After a storage failure, which was raised already, what can still be written is,
        and nothing is raised again.
        """
        if self._eeg.fd < 0:
            return
        try:
            if self._failed is None:
                self.flush()
        finally:
            for file in self._files():
                with contextlib.suppress(OSError):  # a failure was raised once, naming recover
                    file.flush()
                file.close()
            self._lock.release()

    # -- internals ----------------------------------------------------------------------
    def _files(self) -> list[AppendFile]:
        return [self._eeg, *(w.file for w in self._tables.values() if w.file is not None)]

    def _storage_failure(self, err: OSError):
        """Raise the one-line error for a failed write (a removed folder is restored first)."""
        self._check_folder()
        self._fail(storage_error(self.folder, f"could not be written ({why(err)})"))

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _fail(self, error: StorageError):
        self._failed = error
        raise error

    def _check_folder(self) -> None:
        """Raise if the folder was removed, replaced or made read-only under the session.

        Writes through open descriptors keep working on a removed folder (Linux), so
        nothing else would notice: the recorded files are restored from the descriptors.
        """
        try:
            gone = not os.path.samestat(os.stat(self.folder), self._identity)
        except FileNotFoundError:
            gone = True
        except OSError as err:
            self._fail(storage_error(self.folder, f"is unreachable ({why(err)})"))
        if gone:
            self._fail(self._restore())
        if not os.access(self.folder, os.W_OK):
            self._fail(storage_error(self.folder, "became read-only"))

    def _restore(self) -> StorageError:
        """Recreate the removed folder with what was recorded; return the error to raise."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for file in self._files():
                with open(file.path, "xb") as copy:
                    copy.write(file.read_all())
            write_json(self.folder / SESSION_FILE, self.metadata)
        except OSError as err:
            return StorageError(f"session folder {str(self.folder)!r} was removed while the session ran "
                                f"and could not be restored ({why(err)}); what was recorded is lost")
        return storage_error(self.folder, "was removed while the session ran, and was restored "
                                          "with what was recorded")


def _lsl_clock_utc_offset() -> float:
    """UTC time minus LSL time, in seconds: maps sample timestamps to wall-clock time."""
    from pylsl import local_clock

    return time.time() - local_clock()


def _channel_types(info) -> list[str]:
    """MNE channel types of ``info``; a plain ``{"ch_names", "sfreq"}`` mapping is all EEG."""
    if hasattr(info, "get_channel_types"):
        return info.get_channel_types()
    return ["eeg"] * len(info["ch_names"])
