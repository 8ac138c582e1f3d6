"""The session folder: every file name, the schema version, the lock, and the readers.

One module owns the layout of a session folder (see docs/session-folder.md). The
writer is :class:`neurofeed.recorder.SessionRecorder`; finalising is
:func:`neurofeed.finalise.finalise_session`. Everything else reads through here.

Schema versions (``schema_version`` in session.json):

1. (no ``schema_version`` key) ``eeg.f64`` holds samples x channels and
   ``eeg_times.f64`` one LSL timestamp per sample, with channel names and rate in
   ``eeg_info.json``. The two data files were flushed on different schedules.
2. ``eeg.f64`` holds one row per sample: its LSL timestamp, then one value per
   channel, all float64, so a sample and its time reach the disk together. Channel
   names and rate are session.json's ``eeg``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from neurofeed.errors import InvalidArgumentError, SessionFolderError, SessionLockedError, StorageError
from neurofeed.limits import MAX_CHANNELS, MAX_SFREQ_HZ, MIN_SFREQ_HZ

#: The layout this version writes; older ones are read, newer ones refused.
SCHEMA_VERSION = 2

SESSION_FILE = "session.json"
EEG_FILE = "eeg.f64"
EEG_TIMES_FILE = "eeg_times.f64"  # schema 1 only
EEG_INFO_FILE = "eeg_info.json"  # schema 1 only
LOCK_FILE = "session.lock"
RAW_FILE = "eeg_raw.fif"
#: Later parts of the FIF after a long acquisition gap: part 2, 3, ... (see finalise).
RAW_PART_FILE = "eeg_part-{}_raw.fif"
FEATURES_FILE = "features.tsv"
MUSIC_FILE = "music.tsv"
ARTIFACTS_FILE = "artifacts.tsv"
LATENCY_FILE = "latency.tsv"
MARKERS_FILE = "markers.tsv"
SCORE_NOTES_FILE = "score.tsv"
SCORE_CHANGES_FILE = "score_changes.tsv"
SCORE_MIDI_FILE = "score.mid"
BASELINE_FILE = "baseline.json"
#: A playlist session's tracks as the library analysed them; ``tracks.tsv`` says when each played.
PLAYLIST_FILE = "playlist.json"
TRACKS_FILE = "tracks.tsv"
AUDIO_FILE = "audio.wav"
REPORT_DIR = "report"

#: The tables a session appends to, by the name the recorder is given, and their files.
TABLE_FILES = {"features": FEATURES_FILE, "music": MUSIC_FILE, "artifacts": ARTIFACTS_FILE,
               "latency": LATENCY_FILE, "markers": MARKERS_FILE, "score": SCORE_NOTES_FILE,
               "score_changes": SCORE_CHANGES_FILE, "tracks": TRACKS_FILE}

STATUS_RUNNING = "running"
STATUS_FINALISED = "finalised"

#: A session.json or eeg_info.json larger than this is not one (they are a few kB).
MAX_JSON_BYTES = 16 * 2**20
#: Timestamps beyond this magnitude, in seconds (about 3000 years), are garbage.
MAX_TIMESTAMP_S = 1e11


def raw_part_file(number: int) -> str:
    """The FIF file of part ``number`` (1 is :data:`RAW_FILE`, the one readers open)."""
    return RAW_FILE if number == 1 else RAW_PART_FILE.format(number)


# -- writing --------------------------------------------------------------------------
def write_json(path: Path, content: dict) -> None:
    """Write JSON atomically (write a temporary file, then rename over the old one)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(content, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def storage_error(folder: Path, problem: str) -> StorageError:
    """The one-line error for a session folder that failed under a writer.

    ``problem`` completes "session folder FOLDER ...", e.g. ``"could not be written (No
    space left on device)"``.
    """
    return StorageError(f"session folder {str(folder)!r} {problem}; what reached the disk is kept: "
                        f"finish it with 'neurofeed recover {folder}'")


def why(err: OSError) -> str:
    """The cause of an OSError in a few words (its strerror)."""
    return err.strerror or str(err) or type(err).__name__


def check_output_folder(path, name: str = "--out") -> Path:
    """Return ``path`` as a Path once a folder can be written there, leaving no trace.

    Checked before any source opens: a file, a path below a file, a read-only folder or
    mount, or a folder without write permission is refused. Missing folders are created
    and a probe file written, since permission bits say nothing about read-only mounts
    (nor, as root, about anything); then both are removed again, so that whoever makes
    the folder later (the data home, private to its owner) chooses its permissions.

    Parameters
    ----------
    path : str or Path
        The folder.
    name : str
        The argument's name as the user sees it.

    Raises
    ------
    InvalidArgumentError
        Naming the path, what is wrong, and what is accepted.
    """
    folder, shown = Path(path), str(path)
    accepted = "accepted: a folder you can write to, or a new one in such a folder"
    created = []
    try:
        chain = [folder, *folder.parents]
        missing = [p for p in chain if not p.exists()]  # the leaf end of the chain
        existing = chain[len(missing)] if len(missing) < len(chain) else None
        if existing is not None and not existing.is_dir():
            where = "is a file" if existing == folder else f"is below {str(existing)!r}, which is a file"
            raise InvalidArgumentError(f"{name} {shown!r} {where}; {accepted}")
        for new in reversed(missing):
            new.mkdir()
            created.append(new)
        probe = folder / f".neurofeed-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise InvalidArgumentError(f"{name} {shown!r} cannot be written ({why(err)}); "
                                   f"{accepted}") from None
    finally:
        for new in reversed(created):
            with contextlib.suppress(OSError):
                new.rmdir()
    return folder


# -- the lock -------------------------------------------------------------------------
class FolderLock:
    """An exclusive lock on a session folder, held while a process writes it.

    ``fcntl.flock`` on :data:`LOCK_FILE`, which holds the owner's process id. The
    kernel releases it when the process ends, even by SIGKILL, so a crashed session
    is never locked out of ``neurofeed recover``.

    Raises
    ------
    SessionLockedError
        When another process holds the lock.
    StorageError
        When the lock file cannot be written.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise self._cannot_lock(err) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise SessionLockedError(
                    f"session folder {str(self.folder)!r} is still being written by process {pid}; "
                    "wait for it to end or stop it first") from None
            except OSError as err:  # no locks on this file system (some network mounts)
                os.close(fd)
                raise self._cannot_lock(err) from None
            # The previous holder may have removed the file between our open and our lock:
            # then the lock is on an orphan, and we take a fresh file.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        # The id only names the holder in the refusal; a full disk may keep it out.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def _cannot_lock(self, err: OSError) -> StorageError:
        return StorageError(f"session folder {str(self.folder)!r} cannot be locked for writing "
                            f"({why(err)})")

    def release(self) -> None:
        """Remove the lock file and release the lock (once)."""
        if self._fd is None:
            return
        # A folder gone or read-only keeps its lock file; the lock dies with the descriptor.
        with contextlib.suppress(OSError):
            if os.path.samestat(os.fstat(self._fd), os.stat(self.path)):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# -- reading --------------------------------------------------------------------------
def _read_json(path: Path, what: str):
    """Parse a small JSON file, or raise one line naming it and what is wrong."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise SessionFolderError(f"{str(path)!r} is not a {what} (larger than "
                                     f"{MAX_JSON_BYTES // 2**20} MiB)")
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SessionFolderError(f"{str(path)!r} is damaged: not JSON ({err})".splitlines()[0]) from None
    except RecursionError:
        raise SessionFolderError(f"{str(path)!r} is damaged: nested too deeply") from None


def read_session_json(folder) -> dict:
    """Return session.json of ``folder``, or raise saying the folder is not a readable session.

    A folder without ``schema_version`` is schema 1. A newer schema than
    :data:`SCHEMA_VERSION` is refused, since its files may mean something else.

    Raises
    ------
    SessionFolderError
        When session.json is missing, damaged, not an object, or from a newer version.
    """
    folder = Path(folder)
    path = folder / SESSION_FILE
    try:
        meta = _read_json(path, "session.json")
    except FileNotFoundError:
        raise SessionFolderError(f"{str(folder)!r} is not a session folder (no {SESSION_FILE})") from None
    except OSError as err:
        raise SessionFolderError(f"{str(path)!r} is unreadable ({why(err)})") from None
    if not isinstance(meta, dict):
        raise SessionFolderError(f"{str(path)!r} is damaged: a JSON object was expected, "
                                 f"got {type(meta).__name__}")
    version = schema_version(meta)
    if version > SCHEMA_VERSION:
        raise SessionFolderError(f"{str(folder)!r} was written by a newer neurofeed (folder schema "
                                 f"{version}; this one reads up to {SCHEMA_VERSION}); upgrade neurofeed")
    if version < 1:
        raise SessionFolderError(f"{str(path)!r} is damaged: schema_version {version} is not accepted; "
                                 f"accepted: 1 to {SCHEMA_VERSION}")
    return meta


def schema_version(meta: dict) -> int:
    """The folder schema of a session.json's content (1 when it has no ``schema_version``)."""
    version = meta.get("schema_version", 1)
    if type(version) is not int:
        raise SessionFolderError(f"session.json is damaged: schema_version {version!r} is not "
                                 f"accepted; accepted: an integer from 1 to {SCHEMA_VERSION}")
    return version


def read_rows(path: Path) -> tuple[list[str], list[list[str]], int]:
    """Header, rows (each a list of text cells) and the number of rows skipped for a wrong
    cell count: for tables whose text columns must stay text (a title such as ``01``).

    A last line cut short by a crash (no line end) is ignored, not counted. Cells are
    split on tabs: the writer replaces tabs and line ends inside values, and quotes nothing.
    """
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return [], [], 0
    end = text.rfind("\n")
    lines = text[:end].split("\n") if end >= 0 else []  # only line feeds end rows
    if not lines:
        return [], [], 0
    header = lines[0].split("\t")
    body = [line.split("\t") for line in lines[1:]]
    rows = [row for row in body if len(row) == len(header)]
    return header, rows, len(body) - len(rows)


def read_table(path) -> dict[str, np.ndarray | list]:
    """Read a session TSV into columns: numeric columns as float arrays, others as lists.

    Rows with a wrong number of cells and a last line cut short by a crash are left out.
    """
    header, rows, _ = read_rows(Path(path))
    columns = {}
    for i, name in enumerate(header):
        values = [row[i] for row in rows]
        try:
            columns[name] = np.array([np.nan if v == "n/a" else float(v) for v in values])
        except ValueError:
            columns[name] = values
    return columns


def read_markers(folder) -> tuple[list, int]:
    """The markers of markers.tsv, and how many rows were skipped as garbage.

    Returns
    -------
    events : list of neurofeed.acquire.Event
        Onset on the LSL clock and duration, in seconds, and description.
    n_skipped : int
        Rows with a wrong cell count, or an onset or duration that is not a finite number
        (a duration below 0 too).
    """
    from neurofeed.acquire.base import Event

    header, rows, n_skipped = read_rows(Path(folder) / MARKERS_FILE)
    if not rows:
        return [], n_skipped
    if not {"onset", "duration", "description"} <= set(header):
        return [], n_skipped + len(rows)
    i_onset, i_duration, i_text = (header.index(k) for k in ("onset", "duration", "description"))
    events = []
    for row in rows:
        try:
            onset, duration = float(row[i_onset]), float(row[i_duration])
        except ValueError:
            onset = duration = math.nan
        if abs(onset) <= MAX_TIMESTAMP_S and 0 <= duration <= MAX_TIMESTAMP_S:
            events.append(Event(onset, duration, row[i_text]))
        else:
            n_skipped += 1
    return events, n_skipped


def read_live_eeg(folder, meta: dict | None = None) -> tuple[dict, np.ndarray, np.ndarray]:
    """Return ``(eeg_info, data, timestamps)`` from the live files of any schema.

    A torn last sample is dropped, and so are samples whose timestamp is not finite
    (their count is ``eeg_info["n_bad_timestamps"]``). Damaged channel information is
    repaired where that is unambiguous (``eeg_info["repairs"]`` says how).

    Parameters
    ----------
    folder : path-like
        The session folder.
    meta : dict or None
        Its session.json, when already read.

    Returns
    -------
    eeg_info : dict
        ``ch_names``, ``ch_types`` (MNE channel types), ``sfreq`` (Hz), ``repairs`` (list of
        str), ``n_bad_timestamps``.
    data : ndarray, shape (n_channels, n_samples)
        EEG in volts (a view on the file's bytes).
    timestamps : ndarray, shape (n_samples,)
        LSL time of each sample, in seconds.

    Raises
    ------
    SessionFolderError
        One line naming the file and what is wrong, when the EEG cannot be read.
    """
    folder = Path(folder)
    meta = read_session_json(folder) if meta is None else meta
    try:
        if schema_version(meta) == 1:
            eeg_info, data, timestamps = _read_eeg_v1(folder, meta)
        else:
            eeg_info, data, timestamps = _read_eeg_v2(folder, meta)
    except FileNotFoundError as err:
        raise SessionFolderError(f"{str(folder)!r} has no live EEG ({Path(err.filename).name} missing); "
                                 "it was not written by a neurofeed session") from None
    except OSError as err:
        raise SessionFolderError(f"{str(folder)!r}: the EEG is unreadable "
                                 f"({why(err)})") from None
    good = np.abs(timestamps) <= MAX_TIMESTAMP_S  # False for NaN too
    eeg_info["n_bad_timestamps"] = int(good.size - np.count_nonzero(good))
    if eeg_info["n_bad_timestamps"]:
        data, timestamps = data[:, good], timestamps[good]
    return eeg_info, data, timestamps


def _read_eeg_v2(folder: Path, meta: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    eeg = meta.get("eeg")
    if not isinstance(eeg, dict):
        raise SessionFolderError(f"{str(folder / SESSION_FILE)!r} is damaged: its 'eeg' entry "
                                 "(channel names and rate) is missing")
    eeg_info = _check_eeg_info(folder / SESSION_FILE, eeg.get("ch_names"), eeg.get("sfreq"))
    types = eeg.get("ch_types")
    # Types are kept where there is one per channel; folders written before types were
    # stored read every channel as EEG, and so does a channel whose type MNE does not know.
    if (isinstance(types, list) and len(types) == len(eeg_info["ch_names"])
            and all(isinstance(t, str) for t in types)):
        known = _mne_channel_types(set(types))
        eeg_info["ch_types"] = [t if t in known else "eeg" for t in types]
        unknown = sorted(set(types) - known)
        if unknown:
            n = sum(t not in known for t in types)
            shown = ", ".join(repr(t[:40]) for t in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            eeg_info["repairs"].append(f"{SESSION_FILE} eeg.ch_types: {n} channel(s) of a type MNE "
                                       f"does not know ({shown}) read as eeg")
    width = len(eeg_info["ch_names"]) + 1
    rows = np.fromfile(folder / EEG_FILE, dtype=np.float64)
    rows = rows[:rows.size // width * width].reshape(-1, width)
    return eeg_info, rows[:, 1:].T, rows[:, 0]


def _mne_channel_types(types: set[str]) -> set[str]:
    """Those of ``types`` that MNE accepts as a channel type (asking MNE itself)."""
    import mne

    known = set()
    for kind in types:
        try:
            mne.create_info(["x"], 100.0, kind, verbose="error")
        except (ValueError, TypeError, KeyError):
            continue
        known.add(kind)
    return known


def _read_eeg_v1(folder: Path, meta: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    raw_bytes = (folder / EEG_FILE).read_bytes()
    time_bytes = (folder / EEG_TIMES_FILE).read_bytes()
    n_times = len(time_bytes) // 8
    ch_names, sfreq, repairs = _v1_channels(folder / EEG_INFO_FILE, meta,
                                            len(raw_bytes) // 8, n_times)
    eeg_info = _check_eeg_info(folder / EEG_INFO_FILE, ch_names, sfreq)
    eeg_info["repairs"] = repairs
    n_channels = len(ch_names)
    n = min(len(raw_bytes) // (8 * n_channels), n_times)
    data = np.frombuffer(raw_bytes, dtype=np.float64, count=n * n_channels).reshape(n, n_channels).T
    return eeg_info, data, np.frombuffer(time_bytes, dtype=np.float64, count=n)


def _v1_channels(path: Path, meta: dict, n_values: int, n_times: int) -> tuple[list, float, list]:
    """Channel names and rate of a schema-1 folder, repairing a damaged eeg_info.json.

    The rate falls back to session.json's ``source``/``estimator`` ``sfreq``, the
    channel count to ``source.n_channels`` or, when both data files are whole, to the
    values per timestamp. Names cut off are numbered ``EEG001``...; a complete name list
    is taken from the intact start of a cut file.
    """
    try:
        info = _read_json(path, EEG_INFO_FILE)
        if isinstance(info, dict) and "ch_names" in info and "sfreq" in info:
            return info["ch_names"], info["sfreq"], []
    except (SessionFolderError, FileNotFoundError):
        pass
    text = path.read_bytes()[:MAX_JSON_BYTES].decode("utf-8", "replace") if path.exists() else ""
    names = None
    listed = re.search(r'"ch_names"\s*:\s*(\[[^\]]*\])', text)
    if listed:
        try:
            names = json.loads(listed.group(1))
        except json.JSONDecodeError:
            names = None
    source = meta.get("source") if isinstance(meta.get("source"), dict) else {}
    estimator = meta.get("estimator") if isinstance(meta.get("estimator"), dict) else {}
    sfreq = next((s for s in (source.get("sfreq"), estimator.get("sfreq")) if s is not None), None)
    if sfreq is None:
        raise SessionFolderError(f"{str(path)!r} is damaged and session.json does not give the "
                                 "sampling rate; it cannot be recovered")
    n_channels = len(names) if isinstance(names, list) else source.get("n_channels")
    if n_channels is None and n_times and n_values % n_times == 0:
        n_channels = n_values // n_times
    if type(n_channels) is not int or not 1 <= n_channels <= MAX_CHANNELS:
        raise SessionFolderError(f"{str(path)!r} is damaged and the channel count cannot be told "
                                 "from session.json or the data files; it cannot be recovered")
    repair = f"{EEG_INFO_FILE} repaired: {n_channels} channels at {sfreq} Hz from session.json"
    if not isinstance(names, list):
        from neurofeed.acquire.channels import default_name

        names = [default_name(i) for i in range(n_channels)]
        repair += f", names lost (numbered EEG001-{names[-1]})"
    return names, sfreq, [repair]


def _check_eeg_info(path: Path, ch_names, sfreq) -> dict:
    """Return ``{"ch_names", "ch_types", "sfreq", "repairs"}`` (every channel typed EEG) once
    names and rate are usable, else refuse naming ``path``."""
    where = str(path)
    if not isinstance(ch_names, list) or not ch_names:
        raise SessionFolderError(f"{where!r} lists no channels; a session has at least one")
    if len(ch_names) > MAX_CHANNELS:
        raise SessionFolderError(f"{where!r} lists {len(ch_names)} channels; accepted: 1 to {MAX_CHANNELS}")
    if not all(isinstance(n, str) and n for n in ch_names) or len(set(ch_names)) != len(ch_names):
        raise SessionFolderError(f"{where!r} is damaged: channel names must be distinct, non-empty text")
    if (isinstance(sfreq, bool) or not isinstance(sfreq, (int, float))
            or not MIN_SFREQ_HZ <= sfreq <= MAX_SFREQ_HZ):
        raise SessionFolderError(f"{where!r} gives a sampling rate of {sfreq!r}; accepted: a number "
                                 f"from {MIN_SFREQ_HZ:g} to {MAX_SFREQ_HZ:g} Hz")
    return {"ch_names": list(ch_names), "ch_types": ["eeg"] * len(ch_names), "sfreq": float(sfreq),
            "repairs": []}
