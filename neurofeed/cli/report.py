"""``neurofeed report``: one session's report, as HTML with its figures as PNG."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="write a session's report: HTML with figures, also as PNG",
        description="Write the report of a finished session folder: a summary in plain words, the "
                    "session facts and data quality, features and music over time, spectra per phase "
                    "and latency. The HTML page embeds its figures, so it is complete on its own; the "
                    "figures are also saved as PNG, and every number in summary.json. 'neurofeed run' "
                    "and 'replay' write this report at the end of every session.",
        epilog=example_epilog(
            "neurofeed report recordings/sub-S01_20261121-101500_relax-alpha",
            "neurofeed report recordings/sub-S01_20261121-101500_relax-alpha --out /tmp/s01"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="SESSION_DIR", help="a session folder")
    parser.add_argument("--out", metavar="DIR", help="folder for the report (default: SESSION_DIR/report)")
    parser.set_defaults(func=run, command="report")


def run(args: argparse.Namespace) -> int:
    from neurofeed.folder import check_output_folder
    from neurofeed.report import build_report

    if args.out is not None:
        check_output_folder(args.out)
    print(f"report -> {build_report(args.folder, out_dir=args.out)}")
    return 0
