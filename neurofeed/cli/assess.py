"""``neurofeed assess``: record a validated questionnaire's answers for a subject, scored as published."""

from __future__ import annotations

import argparse
import sys

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    from neurofeed.outcomes import INSTRUMENTS

    parser = subparsers.add_parser(
        "assess", help="record a questionnaire's answers (PHQ-9, GAD-7, WHO-5, ...) for a subject",
        description="Record the answers of a validated instrument filled in on its form, scored and "
                    "banded exactly as published, for a subject (a pseudonym). Entries are never "
                    "overwritten: --supersedes records a correction beside the entry it corrects. A PHQ-9 "
                    "item 9 answer above 0 raises a safety alert, shown until a clinician acknowledges "
                    "it with a note. neurofeed makes no diagnosis.",
        epilog=example_epilog(
            "neurofeed assess --subject C01 --scale phq9 --answers 1,2,1,0,1,2,1,0,0",
            "neurofeed assess --subject C01 --scale who5 --answers 3,2,3,2,3 --date 2026-11-24",
            "neurofeed assess --subject C01 --list",
            "neurofeed assess --subject C01 --acknowledge 3fa4c1d2e5f6 --note 'seen and safety plan made'"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", required=True, metavar="S", help="the subject's pseudonym")
    parser.add_argument("--scale", metavar="NAME", help=f"the instrument: {', '.join(INSTRUMENTS)}")
    parser.add_argument("--answers", metavar="LIST",
                        help="the item answers in order, comma-separated (a clinician-rated scale: "
                             "its total)")
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the day it was filled in (default today)")
    parser.add_argument("--supersedes", metavar="ENTRY", help="the entry this one corrects")
    parser.add_argument("--list", action="store_true", help="list the subject's entries and open alerts")
    parser.add_argument("--acknowledge", metavar="ALERT", help="acknowledge a safety alert (with --note)")
    parser.add_argument("--note", metavar="TEXT", help="the clinician's note for --acknowledge")
    parser.set_defaults(func=run, command="assess")


def _alert_line(subject: str, alert) -> str:
    return (f"SAFETY ALERT {alert.alert_id}: {alert.instrument.upper()} item {alert.item} answered "
            f"{alert.answer} (thoughts of self-harm) on {alert.raised_utc}; a clinician must see this. "
            f"Acknowledge with: neurofeed assess --subject {subject} --acknowledge {alert.alert_id} "
            "--note '...'")


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.home import check_subject
    from neurofeed.outcomes import score, store

    subject = check_subject(args.subject)
    if args.acknowledge:
        if args.note is None:
            raise InvalidArgumentError("--acknowledge needs --note: what the clinician saw and did")
        alert = store.acknowledge(subject, args.acknowledge, args.note)
        print(f"alert {alert.alert_id} acknowledged on {alert.acknowledged_utc}: {alert.note}")
    elif args.list:
        for row in store.assessments(subject):
            band = "" if row["band"] in ("", "n/a") else f" ({row['band']})"
            print(f"{row['date']}  {row['instrument']:<7} {row['total']:>4}{band}  entry {row['entry_id']}")
    else:
        if args.scale is None or args.answers is None:
            raise InvalidArgumentError("assess needs --scale and --answers (or --list, or --acknowledge); "
                                       "accepted: e.g. --scale phq9 --answers 1,2,1,0,1,2,1,0,0")
        day = store.parse_date(args.date)
        scored = score(args.scale, [a for a in args.answers.split(",")])
        entry, alert = store.record_assessment(subject, scored, day=day, supersedes=args.supersedes)
        band = f" ({scored.band})" if scored.band else ""
        print(f"{scored.instrument} for {subject} on {day}: {scored.total}{band}; entry {entry['entry_id']}")
    for alert in store.open_alerts(subject):
        print(_alert_line(subject, alert), file=sys.stderr)
    return 0
