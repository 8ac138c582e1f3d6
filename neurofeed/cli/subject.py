"""``neurofeed subject``: everything held about one subject, exported or erased."""

from __future__ import annotations

import argparse
import sys

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "subject", help="export or erase everything held about a subject",
        description="'export' copies a subject's session folders and data (baseline, music library, "
                    "outcomes, course, progress) from the data home into OUT/<S>/. 'erase' removes them "
                    "all after a typed confirmation (the subject id, on the terminal or as --confirm) "
                    "and says what it removed. Folders written elsewhere with --out are not touched.",
        epilog=example_epilog("neurofeed subject export C01 --out /media/usb",
                              "neurofeed subject erase C01",
                              "neurofeed subject erase C01 --confirm C01"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["export", "erase"], help="export or erase")
    parser.add_argument("subject", metavar="S", help="the subject's pseudonym")
    parser.add_argument("--out", metavar="DIR", help="where export puts <S>/")
    parser.add_argument("--confirm", metavar="S", help="erase without asking: the subject id again")
    parser.set_defaults(func=run, command="subject")


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.home import check_subject
    from neurofeed.subject_data import erase_subject, export_subject, subject_paths

    subject = check_subject(args.subject)
    if args.action == "export":
        if args.out is None:
            raise InvalidArgumentError("subject export needs --out DIR, the folder to copy into")
        copied = export_subject(subject, args.out)
        print(f"exported {len(copied)} folders about {subject} to {args.out}/{subject}")
        return 0
    paths = subject_paths(subject)
    if not paths:
        raise InvalidArgumentError(f"the data home holds nothing about subject {subject!r}")
    confirm = args.confirm
    if confirm is None:
        if not sys.stdin.isatty():
            raise InvalidArgumentError("subject erase asks for the subject id on a terminal, and there is "
                                       f"none; accepted: --confirm {subject}")
        print(f"this removes {len(paths)} folders about {subject} for good:")
        for path in paths:
            print(f"  {path}")
        try:
            confirm = input(f"type {subject} to confirm: ").strip()
        except EOFError:
            confirm = ""
    if confirm != subject:
        raise InvalidArgumentError(f"not confirmed ({confirm!r} is not {subject!r}); nothing was removed")
    for path in erase_subject(subject):
        print(f"removed {path}")
    return 0
