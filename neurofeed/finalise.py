"""Turn a session folder's live, append-only files into FIF with annotations.

Runs at the end of every session, and through ``neurofeed recover DIR`` after a crash:
it needs nothing but the folder, and it refuses a folder whose writer still runs.

A recording with gaps longer than :data:`neurofeed.export.LONG_GAP_S` (or a backward
clock step, or short gaps that would zero-fill beyond
:data:`neurofeed.export.MAX_FILL_RATIO`) is written as consecutive FIF parts,
``eeg_raw.fif`` then ``eeg_part-2_raw.fif``, ...: each part's ``meas_date`` is the
wall-clock time of its own first sample, so every sample keeps its true time, and
session.json's ``parts`` lists each part's file, first LSL timestamp and length. Beyond
:data:`MAX_PARTS` parts, the rest of the recording is joined into the last part (see
:func:`neurofeed.export.to_raw`'s ``join``): every sample that reached the disk reaches
a FIF, and the output stays bounded by the data. Each FIF is written under a temporary
name and renamed into place, so no partial FIF is left.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from neurofeed.errors import NeurofeedError, SessionFolderError, StorageError
from neurofeed.folder import (
    LATENCY_FILE,
    RAW_FILE,
    SCORE_CHANGES_FILE,
    SCORE_MIDI_FILE,
    SCORE_NOTES_FILE,
    SESSION_FILE,
    STATUS_FINALISED,
    FolderLock,
    raw_part_file,
    read_live_eeg,
    read_markers,
    read_session_json,
    read_table,
    storage_error,
    why,
    write_json,
)

__all__ = ["finalise_session", "latency_percentiles", "write_score_midi"]

LATENCY_PERCENTILES = (50, 90, 95, 99)
#: The most FIF parts a session is written as; the recording beyond part MAX_PARTS - 1 is
#: joined into the last one (its gaps annotated, not zero-filled), so every sample is kept.
MAX_PARTS = 100
#: The range of meas_date that FIF stores (seconds since 1970 in a signed 32-bit integer).
_FIF_DATES = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2038, 1, 19, tzinfo=UTC))


def latency_percentiles(latency: dict) -> dict:
    """Percentiles, in milliseconds, of each duration column (``*_to_*_s``) of latency.tsv."""
    stats = {}
    for name, values in latency.items():
        if "_to_" in name and name.endswith("_s") and isinstance(values, np.ndarray):
            finite = values[np.isfinite(values)]
            if finite.size:
                stats[name.removesuffix("_s") + "_ms"] = {
                    f"p{p}": round(float(np.percentile(finite, p)) * 1e3, 3) for p in LATENCY_PERCENTILES}
    return stats


def write_score_midi(folder: Path) -> Path | None:
    """Write ``score.mid`` from the score tables; return its path (None: no music was played).

    Rows that do not read as a note or a change (a damaged table) are left out.
    """
    from neurofeed.synth.score import Change, Note, ScoreLog

    notes = _records(read_table(folder / SCORE_NOTES_FILE),
                     ("time_s", "pitch", "velocity", "duration_s", "voice"),
                     lambda t, p, v, d, voice: Note(float(t), int(p), int(v), float(d), str(voice)))
    changes = _records(read_table(folder / SCORE_CHANGES_FILE), ("time_s", "name", "value"),
                       lambda t, name, value: Change(float(t), str(name), _number_or_text(value)))
    if not notes and not changes:
        return None
    return ScoreLog.from_records(notes, changes).to_midi(folder / SCORE_MIDI_FILE)


def _records(table: dict, columns: tuple[str, ...], build) -> list:
    """``build(*row)`` for each row of a table read by :func:`read_table`, skipping rows it refuses."""
    records = []
    for row in zip(*(table.get(name, []) for name in columns)):
        try:
            records.append(build(*row))
        except (ValueError, OverflowError):  # n/a, text or infinity where a number belongs
            continue
    return records


def _number_or_text(value) -> float | str:
    """A table cell as the engine logged it: a number where it reads as one, else the text."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return float(value)


def finalise_session(folder) -> Path:
    """Write the FIF part(s) with annotations, ``score.mid`` and complete session.json.

    Markers (``markers.tsv``) become annotations at their LSL onsets, in the part they
    fall in; rows that are not markers are skipped and counted (``n_markers_skipped``).
    Acquisition gaps up to :data:`neurofeed.export.LONG_GAP_S` are zero-filled and
    annotated ``BAD_ACQ_SKIP`` (within :data:`neurofeed.export.MAX_FILL_RATIO`); a longer
    one ends the part with a ``BAD_ACQ_SKIP`` of duration 0 and starts the next. The score
    tables, when the session played music, become a MIDI file. Safe to run again. Returns
    the path of the first part.

    Raises
    ------
    SessionLockedError
        When another process still writes the folder.
    SessionFolderError
        When the folder is not a readable session, naming the file and what is wrong.
    StorageError
        When a FIF cannot be written (a full disk), naming the folder and ``recover``;
        no partial FIF is left.
    """
    folder = Path(folder)
    meta = read_session_json(folder)
    with FolderLock(folder):
        eeg_info, data, timestamps = read_live_eeg(folder, meta)
        if timestamps.size == 0:
            raise SessionFolderError(f"{str(folder)!r} holds no EEG samples; nothing to finalise")
        events, n_skipped = read_markers(folder)
        parts = _write_parts(folder, meta, eeg_info, data, timestamps, events)
        meta.pop("score_midi_error", None)  # from an earlier finalise
        try:
            write_score_midi(folder)
        except OSError as err:
            raise StorageError(f"could not write {str(folder / SCORE_MIDI_FILE)!r} ({why(err)})") from None
        except (ValueError, TypeError, KeyError, ZeroDivisionError) as err:
            # Values out of MIDI's range in damaged score tables: the EEG matters more.
            reason = " ".join(str(err).split())  # one line
            meta["score_midi_error"] = f"{SCORE_MIDI_FILE} not written, its tables are damaged ({reason})"
        meta.update(status=STATUS_FINALISED, n_samples=int(timestamps.size),
                    duration_s=round(sum(p["duration_s"] for p in parts), 6),
                    first_sample_lsl_s=float(timestamps[0]), n_gaps=sum(p["n_gaps"] for p in parts),
                    parts=parts, n_markers_skipped=n_skipped,
                    n_bad_timestamps=eeg_info["n_bad_timestamps"], repairs=eeg_info["repairs"],
                    latency=latency_percentiles(read_table(folder / LATENCY_FILE)))
        try:
            write_json(folder / SESSION_FILE, meta)
        except OSError as err:
            raise StorageError(f"could not write {str(folder / SESSION_FILE)!r} ({why(err)})") from None
    return folder / RAW_FILE


def _write_parts(folder: Path, meta: dict, eeg_info: dict, data: np.ndarray, timestamps: np.ndarray,
                 events: list) -> list[dict]:
    """Write one FIF per part (see the module's docstring); return session.json's ``parts``."""
    import mne

    from neurofeed.acquire.base import Event
    from neurofeed.acquire.channels import storable_names
    from neurofeed.export import save_raw, split_parts, to_raw

    slices = split_parts(timestamps, float(eeg_info["sfreq"]))
    n_joins = max(len(slices) - MAX_PARTS, 0)
    if n_joins:
        slices = [*slices[:MAX_PARTS - 1], slice(slices[MAX_PARTS - 1].start, timestamps.size)]
    try:
        info = mne.create_info(storable_names(eeg_info["ch_names"]), eeg_info["sfreq"], eeg_info["ch_types"])
    except (ValueError, TypeError) as err:
        raise SessionFolderError(f"{str(folder)!r}: its channels are not accepted by MNE ({err})") from None
    starts = [float(timestamps[part.start]) for part in slices]
    dates = _meas_dates(_utc_offset(meta, starts[0]), starts)
    parts = []
    for number, part in enumerate(slices, start=1):
        # A marker goes to the last part starting at or before it (the first part for earlier ones).
        mine = [e for e in events if _part_of(e.onset, starts) == number - 1]
        if number < len(slices):
            mine.append(Event(float(timestamps[part.stop - 1]), 0.0, "BAD_ACQ_SKIP"))
        try:
            raw = to_raw(info, data[:, part], timestamps[part], mine,
                         meas_date=dates[number - 1], join=number == MAX_PARTS)
        except NeurofeedError as err:
            raise SessionFolderError(f"{str(folder)!r}: {err}") from None
        except MemoryError:
            raise SessionFolderError(f"{str(folder)!r}: not enough memory for part {number} "
                                     f"({part.stop - part.start} samples)") from None
        raw.info["description"] = f"neurofeed session {meta.get('session_id', folder.name)}"
        name = raw_part_file(number)
        try:
            with np.errstate(over="ignore"):  # FIF is float32: a garbage value beyond it becomes inf
                save_raw(raw, folder / name, overwrite=True)
        except OSError as err:
            raise storage_error(folder, f"could not be finalised: {name} not written ({why(err)})") from None
        except (ValueError, RuntimeError) as err:
            reason = " ".join(str(err).split())
            raise SessionFolderError(f"{str(folder)!r}: {name} could not be written ({reason})") from None
        parts.append({"file": name, "first_sample_lsl_s": starts[number - 1],
                      "n_samples": int(part.stop - part.start),
                      "duration_s": round(raw.n_times / raw.info["sfreq"], 6),
                      "n_gaps": int(sum(d == "BAD_ACQ_SKIP" for d in raw.annotations.description))})
        if number == MAX_PARTS:
            parts[-1]["n_joins"] = n_joins  # from here on, its time is LSL time minus the gaps joined
    # Parts left by an earlier finalise of the same folder (safe to run again).
    for number in range(len(slices) + 1, MAX_PARTS + 1):
        (folder / raw_part_file(number)).unlink(missing_ok=True)
    for number in range(1, MAX_PARTS + 1):  # from a finalise killed while writing
        shutil.rmtree(folder / f".writing-{raw_part_file(number)}", ignore_errors=True)
    return parts


def _part_of(onset: float, starts: list[float]) -> int:
    """Index of the last part that starts at or before ``onset`` (0 before the first)."""
    return max((i for i, start in enumerate(starts) if start <= onset), default=0)


def _utc_offset(meta: dict, first_lsl_s: float) -> float | None:
    """UTC minus LSL time, in seconds: recorded by the writer (schema 2), else estimated
    from ``started_utc`` (the first sample came shortly after), else unknown (None)."""
    offset = meta.get("lsl_clock_utc_offset_s")
    if isinstance(offset, (int, float)) and not isinstance(offset, bool):
        return float(offset)
    try:
        return datetime.fromisoformat(str(meta["started_utc"])).timestamp() - first_lsl_s
    except (KeyError, ValueError, OverflowError):
        return None


def _meas_dates(offset: float | None, starts: list[float]) -> list[datetime | None]:
    """The UTC time of each part's first sample, None where unknown or beyond what FIF stores.

    Later parts are the first one plus their distance in LSL time, so that the
    distance between parts is exact to the microsecond whatever the offset's rounding.
    """
    if offset is None:
        return [None] * len(starts)
    try:
        first = _FIF_DATES[0] + timedelta(seconds=offset + starts[0])
        dates = [first + timedelta(seconds=start - starts[0]) for start in starts]
    except OverflowError:
        return [None] * len(starts)
    return [date if _FIF_DATES[0] <= date < _FIF_DATES[1] else None for date in dates]
