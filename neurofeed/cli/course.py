"""``neurofeed course``: plan a client's course of sessions and assessments, and see where it stands."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog
from neurofeed.cli._alerts import print_open_alerts


def register(subparsers) -> None:
    from neurofeed.outcomes.course import SCHEDULES

    parser = subparsers.add_parser(
        "course", help="plan a client's course, or show where it stands",
        description="'plan' stores a course: weeks of sessions of one preset, and the instruments to "
                    f"assess on a schedule ({', '.join(SCHEDULES)}); a new plan keeps the one it replaces. "
                    "'status' shows sessions done against planned, weeks without a session, "
                    "assessments due, the latest scores with their bands, and open safety alerts.",
        epilog=example_epilog(
            "neurofeed course plan --subject C01 --weeks 10 --per-week 2 --preset relax-alpha "
            "--assess phq9:weekly,gad7:start-end",
            "neurofeed course status --subject C01"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["plan", "status"], help="plan or status")
    parser.add_argument("--subject", required=True, metavar="S", help="the subject's pseudonym")
    parser.add_argument("--weeks", type=int, metavar="N", help="the course's length in weeks (plan)")
    parser.add_argument("--per-week", type=int, metavar="N", help="sessions a week (plan)")
    parser.add_argument("--preset", metavar="P", help="the preset of its sessions (plan)")
    parser.add_argument("--assess", default="", metavar="LIST",
                        help="instruments and when, e.g. phq9:weekly,gad7:start-end (plan)")
    parser.add_argument("--start", metavar="YYYY-MM-DD", help="the course's first day (plan; default today)")
    parser.set_defaults(func=run, command="course")


def run(args: argparse.Namespace) -> int:
    from datetime import date

    from neurofeed.errors import InvalidArgumentError
    from neurofeed.home import check_subject
    from neurofeed.outcomes import store
    from neurofeed.outcomes.course import make_plan

    subject = check_subject(args.subject)
    if args.action == "plan":
        missing = [flag for flag, value in (("--weeks", args.weeks), ("--per-week", args.per_week),
                                            ("--preset", args.preset)) if value is None]
        if missing:
            raise InvalidArgumentError(f"course plan needs {', '.join(missing)}; accepted: e.g. --weeks 10 "
                                       "--per-week 2 --preset relax-alpha --assess phq9:weekly")
        from neurofeed.protocol import load_preset

        preset = load_preset(args.preset).name
        start = args.start or date.today().isoformat()
        plan = make_plan(args.weeks, args.per_week, preset, start, args.assess)
        store.save_plan(subject, plan)
        assessed = ", ".join(f"{name} {when}" for name, when in plan.assess.items()) or "no instruments"
        print(f"course for {subject}: {plan.weeks} weeks x {plan.per_week} sessions of {plan.preset} from "
              f"{plan.start}; {assessed}")
    else:
        _status(subject, date.today())
    print_open_alerts(subject)
    return 0


def _status(subject: str, today) -> None:
    from datetime import date

    from neurofeed.errors import InvalidArgumentError
    from neurofeed.outcomes import INSTRUMENTS, store
    from neurofeed.outcomes.course import course_status
    from neurofeed.subject_data import subject_sessions

    plan = store.load_plan(subject)
    if plan is None:
        raise InvalidArgumentError(f"subject {subject!r} has no course plan; accepted: first 'neurofeed "
                                   f"course plan --subject {subject} --weeks N --per-week N --preset P'")
    days = [date.fromisoformat(meta["started_utc"][:10]) for _, meta in subject_sessions(subject)
            if meta and meta.get("kind") == "session" and meta.get("started_utc")]
    entries = store.assessments(subject)
    assessed: dict = {}
    for row in entries:
        assessed.setdefault(row["instrument"], []).append(date.fromisoformat(row["date"]))
    status = course_status(plan, days, assessed, today)
    week = f"week {status.week} of {plan.weeks}" if status.week else "outside the course's weeks"
    print(f"course for {subject}: {plan.weeks} weeks x {plan.per_week} of {plan.preset} from {plan.start}; "
          f"today is {week}")
    print(f"sessions: {status.sessions_done} done of {status.sessions_planned} planned "
          f"({status.sessions_due} due by the last whole week)")
    print("weeks without a session: " + (", ".join(map(str, status.missed_weeks)) or "none"))
    due = ", ".join(f"{name} (week {w})" for name, w in status.assessments_due)
    print("assessments due: " + (due or "none"))
    for name in plan.assess:
        latest = [row for row in entries if row["instrument"] == name]
        if latest:
            row = latest[-1]
            band = "" if row["band"] in ("", "n/a") else f" ({row['band']})"
            print(f"latest {INSTRUMENTS[name].name}: {row['total']}{band} on {row['date']}")
