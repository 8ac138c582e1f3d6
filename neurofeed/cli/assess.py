"""``neurofeed assess``: record a validated questionnaire's answers for a subject, scored as published."""

from __future__ import annotations

import argparse
import sys

from neurofeed.cli import example_epilog
from neurofeed.cli._alerts import print_open_alerts


def register(subparsers) -> None:
    from neurofeed.outcomes import INSTRUMENTS

    parser = subparsers.add_parser(
        "assess", help="record a questionnaire's answers (PHQ-9, GAD-7, WHO-5, ...) for a subject",
        description="Record the answers of a validated instrument, scored and banded exactly as "
                    "published, for a subject (a pseudonym): asked one item at a time on the terminal "
                    "(back, correct, quit without saving), or from a paper form with --answers. "
                    "Entries are never overwritten: --supersedes records a correction beside the entry "
                    "it corrects. A PHQ-9 item 9 answer above 0 raises a safety alert, shown until a "
                    "clinician acknowledges it with a note. neurofeed makes no diagnosis.",
        epilog=example_epilog(
            "neurofeed assess --subject C01 --scale phq9",
            "neurofeed assess --subject C01 --scale phq9 --answers 1,2,1,0,1,2,1,0,0",
            "neurofeed assess --subject C01 --scale who5 --answers 3,2,3,2,3 --date 2026-11-24",
            "neurofeed assess --subject C01 --list",
            "neurofeed assess --subject C01 --acknowledge 3fa4c1d2e5f6 --note 'seen and safety plan made'"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", required=True, metavar="S", help="the subject's pseudonym")
    parser.add_argument("--scale", metavar="NAME", help=f"the instrument: {', '.join(INSTRUMENTS)}")
    parser.add_argument("--answers", metavar="LIST",
                        help="the item answers in order, comma-separated, from a filled-in form (a "
                             "clinician-rated scale: its total); without it, asked on the terminal")
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the day it was filled in (default today)")
    parser.add_argument("--supersedes", metavar="ENTRY", help="the entry this one corrects")
    parser.add_argument("--list", action="store_true", help="list the subject's entries and open alerts")
    parser.add_argument("--acknowledge", metavar="ALERT", help="acknowledge a safety alert (with --note)")
    parser.add_argument("--note", metavar="TEXT", help="the clinician's note for --acknowledge")
    parser.set_defaults(func=run, command="assess")


#: What the interactive entry accepts beside an answer.
_BACK, _QUIT = "b", "q"


def ask(scale) -> list[int] | None:
    """Ask ``scale``'s items one at a time on the terminal; return the answers, or None on quit.

    An answer out of range is asked again; ``b`` goes back an item; at the end the answers
    are shown with their total, and an item's number corrects that item before saving.
    """
    from neurofeed.outcomes import score

    low, high = scale.item_range
    answers: list[int] = []
    print(f"{scale.title}: answer each item from the form, {low}-{high} "
          f"('{_BACK}' back, '{_QUIT}' quit without saving)")
    while True:
        while len(answers) < scale.n_items:
            what = f"item {len(answers) + 1} of {scale.n_items}" if scale.n_items > 1 else "total"
            text = _read(f"{what} ({low}-{high}): ")
            if text is None or text == _QUIT:
                return None
            if text == _BACK:
                answers = answers[:-1]
                continue
            if text.isdigit() and low <= int(text) <= high:
                answers.append(int(text))
            else:
                print(f"  {text!r} is not accepted; accepted: a whole number from {low} to {high}")
        scored = score(scale.name, answers)
        band = f" ({scored.band})" if scored.band else ""
        print(f"answers {','.join(map(str, answers))}: total {scored.total}{band}")
        text = _read(f"save? y, an item's number to correct it, or '{_QUIT}': ")
        if text is None or text == _QUIT:
            return None
        if text == "y":
            return answers
        if text.isdigit() and 1 <= int(text) <= scale.n_items:
            answers = answers[:int(text) - 1]  # asked again from that item
            tail = scored.answers[int(text):]
            answer = None
            while answer is None:
                reply = _read(f"item {text} ({low}-{high}): ")
                if reply is None or reply == _QUIT:
                    return None
                answer = int(reply) if reply.isdigit() and low <= int(reply) <= high else None
            answers = [*answers, answer, *tail]


def _read(prompt: str) -> str | None:
    """One line from the terminal, stripped and lower-cased; None at its end (Ctrl-D)."""
    try:
        return input(prompt).strip().lower()
    except EOFError:
        return None


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.home import check_subject
    from neurofeed.outcomes import instrument, score, store

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
        if args.scale is None:
            raise InvalidArgumentError("assess needs --scale (or --list, or --acknowledge); accepted: e.g. "
                                       "--scale phq9, with --answers 1,2,1,0,1,2,1,0,0 from a paper form")
        scale = instrument(args.scale)
        day = store.parse_date(args.date)
        if args.answers is not None:
            answers = args.answers.split(",")
        elif sys.stdin.isatty():
            answers = ask(scale)
            if answers is None:
                print(f"quit: nothing stored for {subject}")
                return 0
        else:
            raise InvalidArgumentError("assess asks one item at a time on a terminal, and there is none; "
                                       "accepted: --answers LIST from the filled-in form")
        scored = score(scale.name, answers)
        entry, alert = store.record_assessment(subject, scored, day=day, supersedes=args.supersedes)
        band = f" ({scored.band})" if scored.band else ""
        print(f"{scored.instrument} for {subject} on {day}: {scored.total}{band}; entry {entry['entry_id']}")
    print_open_alerts(subject)
    return 0
