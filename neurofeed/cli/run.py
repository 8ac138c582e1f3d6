"""``neurofeed run``: the live closed loop."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog
from neurofeed.cli._session_args import add_session_arguments, run_from_args
from neurofeed.cli._source_args import add_source_arguments, source_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run a live neurofeedback session",
        description="Run the closed loop live: EEG from a board, an LSL stream or a file "
                    "replayed in real time; music that follows it; everything recorded in one "
                    "session folder. Ctrl-C ends gracefully, with a fade-out and a finalised "
                    "recording.",
        epilog=example_epilog(
            "neurofeed run --preset relax-alpha --board synthetic --duration 60 --baseline 20",
            "neurofeed run --preset relax-alpha --board muse_2 --subject C01 --duration 20m --ratings",
            "neurofeed run --preset deep-theta --lsl type=EEG --subject S01 --duration 20m",
            "neurofeed run --preset relax-alpha --board cyton --serial-port /dev/ttyUSB0 --lsl-out"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser)
    add_session_arguments(parser)
    parser.add_argument("--audio", default="auto", metavar="auto|portaudio|jack|wav:PATH|none",
                        help="where the music goes; auto uses JACK or the sound card, and "
                             "renders a WAV into the session folder when there is none")
    parser.add_argument("--ratings", action="store_true",
                        help="ask the client's ratings (mood, relaxation, valence, arousal) before and after "
                             "the session on the terminal (skipped, saying so, without one)")
    parser.set_defaults(func=run, command="run")


def run(args: argparse.Namespace) -> int:
    from neurofeed.session import AudioChoice

    return run_from_args(args, lambda: source_from_args(args), audio=AudioChoice.parse(args.audio))
