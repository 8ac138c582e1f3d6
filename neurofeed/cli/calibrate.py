"""``neurofeed calibrate``: a baseline-only session that stores the subject's baseline."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog
from neurofeed.cli._session_args import add_session_arguments, run_from_args
from neurofeed.cli._source_args import add_source_arguments, source_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="record a baseline and store it for the subject",
        description="Record a baseline period (neutral music, or none) live or from a file, "
                    "and store the subject's baseline. Later 'run' and 'replay' sessions with the "
                    "same --subject use it and skip their own baseline phase (unless "
                    "--fresh-baseline).",
        epilog=example_epilog(
            "neurofeed calibrate --subject S01 --board synthetic --duration 60",
            "neurofeed calibrate --subject S01 --file eyes_closed.fif --speed max --audio none"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser)
    add_session_arguments(parser, preset_required=False)
    parser.add_argument("--audio", default="auto", metavar="auto|portaudio|jack|wav:PATH|none",
                        help="where the neutral baseline music goes (default auto)")
    parser.set_defaults(func=run, command="calibrate", preset="relax-alpha")


def run(args: argparse.Namespace) -> int:
    from neurofeed.session import AudioChoice

    return run_from_args(args, lambda: source_from_args(args), audio=AudioChoice.parse(args.audio),
                         calibrate=True)
