"""``neurofeed import``: bring session folders written to ./recordings into the data home."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import", help="bring sessions from an old ./recordings folder into the data home",
        description="Copy (or --move) the session folders in DIR, and the subjects' stored "
                    "baselines in DIR/subjects, into the data home ($NEUROFEED_HOME, or the "
                    "per-user data folder), where 'progress' finds a subject's whole course. "
                    "Versions before the data home wrote them to ./recordings of wherever they "
                    "ran. Nothing in the home is replaced: a session already there is left out "
                    "and listed, as is a session still being written.",
        epilog=example_epilog("neurofeed import recordings",
                              "neurofeed import ~/old-project/recordings --move"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="DIR", help="a folder of session folders, such as ./recordings")
    parser.add_argument("--move", action="store_true", help="move the folders instead of copying them")
    parser.set_defaults(func=run, command="import")


def run(args: argparse.Namespace) -> int:
    from neurofeed.home import data_home, import_sessions

    home = data_home()
    done = import_sessions(args.folder, home, move=args.move)
    verb = "moved" if args.move else "copied"
    print(f"{verb} {_count(done.sessions, 'session')} and {_count(done.baselines, 'stored baseline')} "
          f"from {args.folder} to {home}")
    if done.existing:
        print(f"left out {len(done.existing)} already in the home: {', '.join(done.existing)}")
    if done.running:
        print(f"left out {len(done.running)} still being written (import them once they end): "
              f"{', '.join(done.running)}")
    return 0


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
