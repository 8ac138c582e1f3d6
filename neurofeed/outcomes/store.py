"""A subject's outcomes on disk: assessments and safety alerts, appended, never overwritten.

Under ``<data home>/subjects/<S>/outcomes/``:

- ``assessments.tsv``: one row per scored administration (:data:`ASSESSMENT_COLUMNS`). A
  correction is a new row naming the one it ``supersedes``; both are kept.
- ``alerts.tsv``: one row per safety alert raised (a PHQ-9 item 9 answer above 0).
- ``acknowledgements.tsv``: one row per clinician acknowledgement of an alert, with a note.
- ``course.json``: the course plan in force, and every plan it replaced.

Each row is written and flushed to the operating system at once, so a stop loses nothing
already entered. Plain TSV a therapist can back up by copying the folder.
"""

from __future__ import annotations

import csv
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from neurofeed.errors import InvalidArgumentError
from neurofeed.home import make_home, subject_dir
from neurofeed.outcomes.instruments import INSTRUMENTS, Score
from neurofeed.recorder import format_value

OUTCOMES_DIR = "outcomes"
ASSESSMENTS_FILE = "assessments.tsv"
ALERTS_FILE = "alerts.tsv"
ACKNOWLEDGEMENTS_FILE = "acknowledgements.tsv"
#: The course plan, with every plan it replaced (``plans``).
COURSE_FILE = "course.json"
ASSESSMENT_COLUMNS = ("entry_id", "recorded_utc", "date", "instrument", "reporter", "answers", "total",
                      "band", "safety_alert", "supersedes")
ALERT_COLUMNS = ("alert_id", "raised_utc", "entry_id", "instrument", "item", "answer")
ACKNOWLEDGEMENT_COLUMNS = ("alert_id", "acknowledged_utc", "note")


@dataclass(frozen=True)
class Alert:
    """A safety alert: which entry raised it, and its acknowledgement (None while open)."""

    alert_id: str
    raised_utc: str
    entry_id: str
    instrument: str
    item: int
    answer: int
    acknowledged_utc: str | None = None
    note: str | None = None


def outcomes_dir(subject: str, home: Path | None = None) -> Path:
    """The folder of a subject's outcomes under the data home."""
    return subject_dir(subject, home) / OUTCOMES_DIR


def append_row(path: Path, columns: tuple[str, ...], row: dict) -> None:
    """Append ``row`` to the TSV at ``path`` (its header first when new), on disk on return."""
    new = not path.exists()
    with open(path, "a", encoding="utf-8", newline="") as f:
        if new:
            f.write("\t".join(columns) + "\n")
        f.write("\t".join(format_value(row[c]) for c in columns) + "\n")
        f.flush()
        os.fsync(f.fileno())


def table_rows(path: Path) -> list[dict]:
    """The rows of an outcomes TSV as dicts ([] when it does not exist; a cut-short row left out)."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if None not in row.values()]


def utc_now() -> str:
    """Now, in UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_date(text: str | None) -> str:
    """``--date`` as ISO ``YYYY-MM-DD`` (today when None); not in the future."""
    if text is None:
        return date.today().isoformat()
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidArgumentError(f"--date {text!r} is not accepted; accepted: a date as "
                                   "YYYY-MM-DD") from None
    if day > date.today():
        raise InvalidArgumentError(f"--date {text!r} is in the future; accepted: today or a past date")
    return day.isoformat()


def record_assessment(subject: str, score: Score, *, day: str | None = None, supersedes: str | None = None,
                      home: Path | None = None) -> tuple[dict, Alert | None]:
    """Append a scored administration for ``subject``; raise its safety alert if any.

    Parameters
    ----------
    subject : str
        The subject's pseudonym.
    score : Score
        From :func:`neurofeed.outcomes.score`.
    day : str or None
        The day it was filled in (YYYY-MM-DD); today when None.
    supersedes : str or None
        The entry it corrects (an ``entry_id`` of the same subject and instrument).

    Returns
    -------
    entry : dict
        The row written.
    alert : Alert or None
        The safety alert raised.
    """
    folder = outcomes_dir(subject, home)
    if supersedes is not None and not any(
            row["entry_id"] == supersedes and row["instrument"] == score.instrument
            for row in table_rows(folder / ASSESSMENTS_FILE)):
        raise InvalidArgumentError(f"--supersedes {supersedes!r} is not a {score.instrument} entry of "
                                   f"subject {subject!r}; accepted: an entry id from 'neurofeed assess "
                                   f"--subject {subject} --list'")
    make_home(folder)
    entry = {"entry_id": uuid.uuid4().hex[:12], "recorded_utc": utc_now(),
             "date": day or date.today().isoformat(),
             "instrument": score.instrument, "reporter": INSTRUMENTS[score.instrument].reporter,
             "answers": ",".join(map(str, score.answers)), "total": score.total, "band": score.band,
             "safety_alert": int(score.safety_alert), "supersedes": supersedes}
    append_row(folder / ASSESSMENTS_FILE, ASSESSMENT_COLUMNS, entry)
    alert = None
    if score.safety_alert:
        item = INSTRUMENTS[score.instrument].safety_item
        alert = Alert(uuid.uuid4().hex[:12], entry["recorded_utc"], entry["entry_id"], score.instrument,
                      item, score.answers[item - 1])
        append_row(folder / ALERTS_FILE, ALERT_COLUMNS, {
            "alert_id": alert.alert_id, "raised_utc": alert.raised_utc, "entry_id": alert.entry_id,
            "instrument": alert.instrument, "item": alert.item, "answer": alert.answer})
    return entry, alert


def assessments(subject: str, home: Path | None = None, *, current: bool = True) -> list[dict]:
    """A subject's entries in the order recorded; with ``current``, those not superseded."""
    rows = table_rows(outcomes_dir(subject, home) / ASSESSMENTS_FILE)
    if not current:
        return rows
    superseded = {row["supersedes"] for row in rows if row["supersedes"] not in ("", "n/a")}
    return [row for row in rows if row["entry_id"] not in superseded]


def alerts(subject: str, home: Path | None = None) -> list[Alert]:
    """Every safety alert of ``subject``, each with its acknowledgement if it has one."""
    folder = outcomes_dir(subject, home)
    acknowledged = {row["alert_id"]: row for row in table_rows(folder / ACKNOWLEDGEMENTS_FILE)}
    out = []
    for row in table_rows(folder / ALERTS_FILE):
        ack = acknowledged.get(row["alert_id"])
        out.append(Alert(row["alert_id"], row["raised_utc"], row["entry_id"], row["instrument"],
                         int(row["item"]), int(row["answer"]),
                         None if ack is None else ack["acknowledged_utc"],
                         None if ack is None else ack["note"]))
    return out


def open_alerts(subject: str, home: Path | None = None) -> list[Alert]:
    """The safety alerts no clinician has acknowledged yet."""
    return [alert for alert in alerts(subject, home) if alert.acknowledged_utc is None]


def acknowledge(subject: str, alert_id: str, note: str, home: Path | None = None) -> Alert:
    """Log a clinician's acknowledgement of an open alert, with a note (the log keeps both)."""
    note = " ".join(str(note).split())
    if not note:
        raise InvalidArgumentError("--note is empty; accepted: a clinician's note of what was done")
    found = [a for a in open_alerts(subject, home) if a.alert_id == alert_id]
    if not found:
        ids = ", ".join(a.alert_id for a in open_alerts(subject, home)) or "none"
        raise InvalidArgumentError(f"alert {alert_id!r} is not an open alert of subject {subject!r}; "
                                   f"open: {ids}")
    stamp = utc_now()
    append_row(outcomes_dir(subject, home) / ACKNOWLEDGEMENTS_FILE, ACKNOWLEDGEMENT_COLUMNS,
            {"alert_id": alert_id, "acknowledged_utc": stamp, "note": note})
    alert = found[0]
    return Alert(alert.alert_id, alert.raised_utc, alert.entry_id, alert.instrument, alert.item, alert.answer,
                 stamp, note)


def save_plan(subject: str, plan, home: Path | None = None) -> None:
    """Make ``plan`` (a :class:`neurofeed.outcomes.course.CoursePlan`) the subject's course,
    keeping the one it replaces in ``plans`` (written atomically)."""
    from neurofeed.folder import write_json

    folder = make_home(outcomes_dir(subject, home))
    stored = _course_file(folder)
    history = stored.get("plans", []) + ([stored["plan"]] if "plan" in stored else [])
    write_json(folder / COURSE_FILE, {"plan": {**plan.to_dict(), "saved_utc": utc_now()}, "plans": history})


def load_plan(subject: str, home: Path | None = None):
    """The subject's course plan in force, or None."""
    from neurofeed.outcomes.course import CoursePlan

    stored = _course_file(outcomes_dir(subject, home))
    return CoursePlan.from_dict(stored["plan"]) if "plan" in stored else None


def _course_file(folder: Path) -> dict:
    import json

    path = folder / COURSE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
