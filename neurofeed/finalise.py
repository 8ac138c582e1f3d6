"""Turn a session folder's live, append-only files into FIF with annotations.

Runs at the end of every session, and through ``neurofeed recover DIR`` after a crash:
it needs nothing but the folder.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from neurofeed.errors import SessionFolderError
from neurofeed.recorder import (EEG_FILE, EEG_INFO_FILE, EEG_TIMES_FILE, SESSION_FILE,
                                STATUS_FINALISED, write_json)

RAW_FILE = "eeg_raw.fif"
SCORE_NOTES_FILE = "score.tsv"
SCORE_CHANGES_FILE = "score_changes.tsv"
SCORE_MIDI_FILE = "score.mid"
LATENCY_PERCENTILES = (50, 90, 95, 99)


def read_session_json(folder: Path) -> dict:
    """Return session.json of ``folder``, or raise saying the folder is not a session."""
    path = Path(folder) / SESSION_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionFolderError(f"{str(folder)!r} is not a session folder (no {SESSION_FILE})") from None
    except (OSError, json.JSONDecodeError) as err:
        raise SessionFolderError(f"{str(path)!r} is unreadable: {err}") from None


def read_table(path: Path) -> dict[str, np.ndarray | list]:
    """Read a session TSV into columns: numeric columns as float arrays, others as lists.

    A last line cut short by a crash (no line end) is ignored.
    """
    path = Path(path)
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text[:text.rfind("\n") + 1].splitlines(), delimiter="\t"))
    if not rows:
        return {}
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    columns = {}
    for i, name in enumerate(header):
        values = [r[i] for r in body]
        try:
            columns[name] = np.array([np.nan if v == "n/a" else float(v) for v in values])
        except ValueError:
            columns[name] = values
    return columns


def read_live_eeg(folder: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """Return ``(eeg_info, data, timestamps)`` from the live files, dropping a torn last sample.

    ``data`` is (n_channels, n_samples) in volts; ``timestamps`` are LSL seconds.
    """
    folder = Path(folder)
    try:
        eeg_info = json.loads((folder / EEG_INFO_FILE).read_text(encoding="utf-8"))
        raw_bytes = (folder / EEG_FILE).read_bytes()
        time_bytes = (folder / EEG_TIMES_FILE).read_bytes()
    except FileNotFoundError as err:
        raise SessionFolderError(f"{str(folder)!r} has no live EEG ({Path(err.filename).name} missing); "
                                 "it was not written by a neurofeed session") from None
    n_channels = len(eeg_info["ch_names"])
    n = min(len(raw_bytes) // (8 * n_channels), len(time_bytes) // 8)
    data = np.frombuffer(raw_bytes, dtype=np.float64, count=n * n_channels).reshape(n, n_channels).T
    timestamps = np.frombuffer(time_bytes, dtype=np.float64, count=n)
    return eeg_info, data, timestamps


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
    """Write ``score.mid`` from the score tables; return its path (None: no music was played)."""
    from neurofeed.synth.score import Change, Note, ScoreLog

    notes, changes = read_table(folder / SCORE_NOTES_FILE), read_table(folder / SCORE_CHANGES_FILE)
    if not len(notes.get("time_s", [])) and not len(changes.get("time_s", [])):
        return None
    score = ScoreLog.from_records(
        [Note(float(t), int(p), int(v), float(d), str(voice)) for t, p, v, d, voice in
         zip(*(notes.get(k, []) for k in ("time_s", "pitch", "velocity", "duration_s", "voice")))],
        [Change(float(t), str(name), _number_or_text(value)) for t, name, value in
         zip(*(changes.get(k, []) for k in ("time_s", "name", "value")))])
    return score.to_midi(folder / SCORE_MIDI_FILE)


def _number_or_text(value) -> float | str:
    """A table cell as the engine logged it: a number where it reads as one, else the text."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return float(value)


def finalise_session(folder) -> Path:
    """Write ``eeg_raw.fif`` with annotations, ``score.mid`` and complete session.json.

    Markers (``markers.tsv``) become annotations at their LSL onsets; acquisition
    gaps are zero-filled and annotated ``BAD_ACQ_SKIP``. The score tables, when the
    session played music, become a MIDI file. Safe to run again. Returns the FIF path.
    """
    import mne

    from neurofeed.acquire import Event
    from neurofeed.export import to_raw, write_raw

    folder = Path(folder)
    meta = read_session_json(folder)
    eeg_info, data, timestamps = read_live_eeg(folder)
    if timestamps.size == 0:
        raise SessionFolderError(f"{str(folder)!r} holds no EEG samples; nothing to finalise")
    markers = read_table(folder / "markers.tsv")
    events = [Event(float(o), float(d), str(t)) for o, d, t in
              zip(markers.get("onset", []), markers.get("duration", []), markers.get("description", []))]
    info = mne.create_info(eeg_info["ch_names"], eeg_info["sfreq"], "eeg")
    raw = to_raw(info, data, timestamps, events)
    raw.info["description"] = f"neurofeed session {meta.get('session_id', folder.name)}"
    path = write_raw(raw, folder / RAW_FILE, overwrite=True)
    write_score_midi(folder)
    meta.update(status=STATUS_FINALISED, n_samples=int(timestamps.size),
                duration_s=round(float(raw.times[-1] + 1 / raw.info["sfreq"]), 6),
                first_sample_lsl_s=float(timestamps[0]),
                n_gaps=int(sum(d == "BAD_ACQ_SKIP" for d in raw.annotations.description)),
                latency=latency_percentiles(read_table(folder / "latency.tsv")))
    write_json(folder / SESSION_FILE, meta)
    return path
