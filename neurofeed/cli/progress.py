"""``neurofeed progress``: a subject's course of sessions, in order, with the trend."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog
from neurofeed.registry import FEEDBACK


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "progress", help="write a subject's progress across sessions: HTML, PNG and TSV",
        description="Find every finished session of one subject in the data home ($NEUROFEED_HOME, "
                    "or the per-user data folder) and any --sessions folders, and write, in session "
                    "order: the change "
                    "of the target feature from baseline in training, time in target, reward and data "
                    "quality, with the trend across sessions (least-squares slope and its 95% "
                    "confidence interval). Output: progress.html, progress.png and progress.tsv in "
                    "subjects/<subject>/progress under the data home, or --out.",
        epilog=example_epilog("neurofeed progress --subject S01",
                              "neurofeed progress --subject S01 --sessions /data/clinic "
                              "--feature theta_frontal",
                              "neurofeed progress --subject S01 --out /tmp/s01-progress"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", required=True, metavar="S",
                        help="the subject, as given to 'neurofeed run'")
    parser.add_argument("--sessions", action="append", default=[], metavar="DIR",
                        help="also search this folder of session folders (as given to 'neurofeed run "
                             "--out'); repeatable")
    parser.add_argument("--feature", choices=tuple(FEEDBACK), metavar="F",
                        help=f"feature to trend: {', '.join(FEEDBACK)} "
                             "(default: the one most sessions targeted)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the output (default: <data home>/subjects/<subject>/progress)")
    parser.set_defaults(func=run, command="progress")


def run(args: argparse.Namespace) -> int:
    from neurofeed.folder import check_output_folder
    from neurofeed.report import build_progress

    if args.out is not None:
        check_output_folder(args.out)
    path = build_progress(args.subject, extra=args.sessions, feature=args.feature, out_dir=args.out)
    print(f"progress -> {path}")
    return 0
