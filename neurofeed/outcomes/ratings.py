"""Ratings before and after a session: mood and relaxation 0-10, valence and arousal 1-9 (text scales).

Stored per subject in ``subjects/<S>/outcomes/ratings.tsv``, one row per entry (a session's
ratings before or after it), appended and never overwritten: a later entry for the same
session and moment supersedes the earlier one, and both are kept.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from neurofeed.errors import InvalidArgumentError
from neurofeed.home import make_home
from neurofeed.outcomes.store import append_row, outcomes_dir, table_rows, utc_now

#: Each rating's range, low to high: mood (0 very low, 10 very good), relaxation (0 not at
#: all, 10 completely), valence (1 unpleasant, 9 pleasant) and arousal (1 calm, 9 excited),
#: the last two the Self-Assessment Manikin's 9-point scales in words, without pictograms.
SCALES: dict[str, tuple[int, int]] = {"mood": (0, 10), "relax": (0, 10), "valence": (1, 9), "arousal": (1, 9)}
#: When a rating is given.
MOMENTS = ("pre", "post")
RATINGS_FILE = "ratings.tsv"
RATING_COLUMNS = ("entry_id", "recorded_utc", "session_id", "moment", *SCALES)


def parse_ratings(text: str, flag: str) -> dict[str, int]:
    """``mood=3,relax=4`` as ``{"mood": 3, "relax": 4}``, each checked against :data:`SCALES`.

    Raises
    ------
    InvalidArgumentError
        Naming ``flag``, the rating and what is accepted.
    """
    accepted = ", ".join(f"{name}={low}-{high}" for name, (low, high) in SCALES.items())
    values: dict[str, int] = {}
    for part in str(text).split(","):
        name, sep, value = part.strip().partition("=")
        name = name.strip().lower()
        if not sep or name not in SCALES:
            raise InvalidArgumentError(f"{flag} {text!r}: {part.strip()!r} is not a rating; accepted: "
                                       f"{accepted}")
        low, high = SCALES[name]
        value = value.strip()
        if not value.isdigit() or not low <= int(value) <= high:
            raise InvalidArgumentError(f"{flag} {name}={value!r} is not accepted; accepted: a whole number "
                                       f"from {low} to {high}")
        if name in values:
            raise InvalidArgumentError(f"{flag} {text!r} gives {name} twice; accepted: each rating once")
        values[name] = int(value)
    return values


def record_ratings(subject: str, session_id: str, moment: str, values: dict[str, int],
                   home: Path | None = None) -> dict:
    """Append one entry of ratings for ``session_id`` at ``moment`` (``pre`` or ``post``)."""
    if moment not in MOMENTS:
        raise InvalidArgumentError(f"moment {moment!r} is not accepted; accepted: {', '.join(MOMENTS)}")
    folder = make_home(outcomes_dir(subject, home))
    row = {"entry_id": uuid.uuid4().hex[:12], "recorded_utc": utc_now(), "session_id": session_id,
           "moment": moment, **{name: values.get(name) for name in SCALES}}
    append_row(folder / RATINGS_FILE, RATING_COLUMNS, row)
    return row


def session_ratings(subject: str, home: Path | None = None) -> dict[tuple[str, str], dict]:
    """The ratings in force, by ``(session_id, moment)``: the latest entry of each."""
    latest: dict[tuple[str, str], dict] = {}
    for row in table_rows(outcomes_dir(subject, home) / RATINGS_FILE):
        latest[(row["session_id"], row["moment"])] = row
    return latest
