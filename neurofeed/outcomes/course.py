"""A course of sessions: its plan, and where a client stands against it (pure).

A plan is so many weeks of so many sessions a week of one preset, from a start date, with
instruments assessed on a schedule: ``weekly``, ``start-end`` (the first and the last
week), ``start`` or ``end``. The status compares it with the sessions held and the
assessments entered up to a day: sessions done against planned (in all, and due by then),
the weeks that passed without a session, and the assessments due and not entered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from neurofeed.errors import InvalidArgumentError

#: When an instrument is assessed in a course.
SCHEDULES = ("weekly", "start-end", "start", "end")
#: The longest course accepted, in weeks, and the most sessions a week.
MAX_WEEKS = 104
MAX_PER_WEEK = 14


@dataclass(frozen=True)
class CoursePlan:
    """A course: ``weeks`` weeks of ``per_week`` sessions of ``preset`` from ``start`` (ISO date),
    assessing each instrument on its schedule (``assess``: instrument name to schedule)."""

    weeks: int
    per_week: int
    preset: str
    start: str
    assess: dict[str, str]

    def to_dict(self) -> dict:
        """The plan as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CoursePlan:
        """The plan stored by :meth:`to_dict`."""
        return cls(int(d["weeks"]), int(d["per_week"]), str(d["preset"]), str(d["start"]),
                   {str(k): str(v) for k, v in d["assess"].items()})

    def week_of(self, day: date) -> int | None:
        """The course week (1-based) ``day`` falls in; None before the start or after the end."""
        index = (day - date.fromisoformat(self.start)).days // 7
        return index + 1 if 0 <= index < self.weeks else None

    def assessment_weeks(self, name: str) -> list[int]:
        """The weeks in which instrument ``name`` is due."""
        schedule = self.assess[name]
        return {"weekly": list(range(1, self.weeks + 1)), "start-end": sorted({1, self.weeks}),
                "start": [1], "end": [self.weeks]}[schedule]


def parse_assess(text: str) -> dict[str, str]:
    """``phq9:weekly,gad7:start-end`` as ``{"phq9": "weekly", "gad7": "start-end"}``.

    Raises
    ------
    InvalidArgumentError
        Naming ``--assess``, the offending part, and the accepted instruments and schedules.
    """
    from neurofeed.outcomes.instruments import INSTRUMENTS

    accepted = (f"NAME:SCHEDULE, NAME one of {', '.join(INSTRUMENTS)}, SCHEDULE one of "
                f"{', '.join(SCHEDULES)}")
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        name, sep, schedule = part.lower().partition(":")
        if not sep or name not in INSTRUMENTS or schedule not in SCHEDULES or name in out:
            raise InvalidArgumentError(f"--assess {part!r} is not accepted; accepted: {accepted} (each "
                                       "instrument once)")
        out[name] = schedule
    return out


def make_plan(weeks: int, per_week: int, preset: str, start: str, assess: str) -> CoursePlan:
    """A checked :class:`CoursePlan` from the command line's values."""
    if not 1 <= int(weeks) <= MAX_WEEKS:
        raise InvalidArgumentError(f"--weeks {weeks} is not accepted; accepted: 1 to {MAX_WEEKS}")
    if not 1 <= int(per_week) <= MAX_PER_WEEK:
        raise InvalidArgumentError(f"--per-week {per_week} is not accepted; accepted: 1 to {MAX_PER_WEEK}")
    try:
        day = date.fromisoformat(str(start))
    except ValueError:
        raise InvalidArgumentError(f"--start {start!r} is not accepted; accepted: a date as "
                                   "YYYY-MM-DD") from None
    return CoursePlan(int(weeks), int(per_week), str(preset), day.isoformat(), parse_assess(assess))


@dataclass(frozen=True)
class CourseStatus:
    """Where a client stands on a day (see :func:`course_status`)."""

    week: int | None
    sessions_done: int
    sessions_planned: int
    sessions_due: int
    missed_weeks: tuple[int, ...]
    assessments_due: tuple[tuple[str, int], ...]


def course_status(plan: CoursePlan, session_days: list[date], assessed: dict[str, list[date]],
                  today: date) -> CourseStatus:
    """Sessions and assessments against the plan, on ``today``.

    Parameters
    ----------
    session_days : list of date
        The days the client's sessions started.
    assessed : dict
        The days each instrument was entered, by name.

    Returns
    -------
    CourseStatus
        The course week of ``today`` (None outside the course); sessions in the course, in
        all planned and due by the end of the last whole week; weeks that ended without any
        session; and ``(instrument, week)`` assessments due by ``today`` and not entered in
        that week.
    """
    start = date.fromisoformat(plan.start)
    elapsed = min(max((today - start).days // 7, 0), plan.weeks)  # whole weeks ended
    weeks_held = [plan.week_of(day) for day in session_days]
    held = [w for w in weeks_held if w is not None]
    missed = tuple(w for w in range(1, elapsed + 1) if w not in held)
    current = plan.week_of(today)
    due_by = current if current is not None else (plan.weeks if today >= start else 0)
    assessments_due = []
    for name in plan.assess:
        entered = {plan.week_of(day) for day in assessed.get(name, [])}
        assessments_due += [(name, w) for w in plan.assessment_weeks(name)
                            if w <= due_by and w not in entered]
    return CourseStatus(current, len(held), plan.weeks * plan.per_week, elapsed * plan.per_week, missed,
                        tuple(assessments_due))
