"""A course's plan and where a client stands: sessions against planned, missed weeks, assessments
due, the latest scores and open safety alerts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session

from neurofeed.errors import InvalidArgumentError
from neurofeed.outcomes.course import course_status, make_plan, parse_assess

PLAN = make_plan(10, 2, "relax-alpha", "2026-11-02", "phq9:weekly,gad7:start-end,who5:end")


def test_status_counts_sessions_weeks_and_assessments_due_by_hand():
    # Today is Wednesday of week 4: weeks 1-3 have ended.
    sessions = [date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 18), date(2026, 10, 30)]  # last: before
    assessed = {"phq9": [date(2026, 11, 2), date(2026, 11, 17)], "gad7": [date(2026, 11, 4)]}
    status = course_status(PLAN, sessions, assessed, date(2026, 11, 25))
    assert status.week == 4
    assert (status.sessions_done, status.sessions_planned, status.sessions_due) == (3, 20, 6)
    assert status.missed_weeks == (2,)
    assert status.assessments_due == (("phq9", 2), ("phq9", 4))  # gad7 and who5 not due yet
    after = course_status(PLAN, sessions, assessed, date(2027, 3, 1))
    assert after.week is None and after.sessions_due == 20 and ("who5", 10) in after.assessments_due
    assert ("gad7", 10) in after.assessments_due and after.missed_weeks == (2, 4, 5, 6, 7, 8, 9, 10)


@pytest.mark.parametrize(("text", "fragment"), [
    ("phq9:daily", "--assess 'phq9:daily'"), ("sf36:weekly", "--assess 'sf36:weekly'"),
    ("phq9", "--assess 'phq9'"), ("phq9:weekly,phq9:end", "--assess 'phq9:end'")])
def test_bad_assessment_schedules_are_refused(text, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        parse_assess(text)


def test_the_course_command_plans_and_shows_the_status_with_alerts(tmp_path):
    home = tmp_path / "home"
    env = {"NEUROFEED_HOME": str(home)}
    start = date.today().toordinal() - 15  # the course started 15 days ago: week 3
    start_day = date.fromordinal(start)
    done = run_cli("course", "plan", "--subject", "C01", "--weeks", "8", "--per-week", "1", "--preset",
                   "relax-alpha", "--assess", "phq9:weekly", "--start", start_day.isoformat(), env=env)
    assert done.returncode == 0, done.stderr
    first = datetime.fromordinal(start + 1).replace(hour=10, tzinfo=UTC)
    write_session(home, subject="C01", started=first)
    write_session(home, subject="S99", started=first)  # another subject's session does not count
    assert run_cli("assess", "--subject", "C01", "--scale", "phq9", "--answers", "2,2,2,2,2,2,2,2,1",
                   "--date", date.fromordinal(start + 1).isoformat(), env=env).returncode == 0
    status = run_cli("course", "status", "--subject", "C01", env=env)
    assert status.returncode == 0, status.stderr
    assert "today is week 3 of 8" in status.stdout
    assert "sessions: 1 done of 8 planned (2 due by the last whole week)" in status.stdout
    assert "weeks without a session: 2" in status.stdout
    assert "assessments due: phq9 (week 2), phq9 (week 3)" in status.stdout
    assert "latest phq9: 17 (moderately severe)" in status.stdout
    assert "SAFETY ALERT" in status.stderr and "not yet acknowledged" in status.stderr
    # A new plan keeps the one it replaces.
    assert run_cli("course", "plan", "--subject", "C01", "--weeks", "10", "--per-week", "2", "--preset",
                   "relax-alpha", "--start", start_day.isoformat(), env=env).returncode == 0
    stored = json.loads((home / "subjects" / "C01" / "outcomes" / "course.json").read_text())
    assert stored["plan"]["weeks"] == 10 and [p["weeks"] for p in stored["plans"]] == [8]


def test_course_errors_are_one_line(tmp_path):
    env = {"NEUROFEED_HOME": str(tmp_path / "home")}
    assert_one_line_error(run_cli("course", "status", "--subject", "C01", env=env), "has no course plan")
    assert_one_line_error(run_cli("course", "plan", "--subject", "C01", "--weeks", "10", env=env),
                          "course plan needs --per-week, --preset")
    assert_one_line_error(run_cli("course", "plan", "--subject", "C01", "--weeks", "10", "--per-week", "2",
                                  "--preset", "relax-alfa", env=env), "relax-alfa")
