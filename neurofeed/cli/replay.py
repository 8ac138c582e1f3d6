"""``neurofeed replay``: a recorded file through the closed loop, deterministically."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog
from neurofeed.cli._session_args import add_session_arguments, run_from_args
from neurofeed.cli._source_args import add_montage_argument, add_replay_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay a recording through the closed loop",
        description="Replay a recording through a preset. At --speed max (the default) the "
                    "loop runs on a virtual clock with the music rendered in lockstep: the same "
                    "file, preset and seed give the same features, music trace and WAV.",
        epilog=example_epilog(
            "neurofeed replay rest.fif --preset relax-alpha --wav rest.wav",
            "neurofeed replay S001R01.edf --preset iso-lift --duration 60 --baseline 20 --seed 3",
            "neurofeed replay session.xdf --preset deep-theta --speed 1 --audio auto"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", metavar="FILE", help="the recording (any format 'record' reads)")
    add_session_arguments(parser)
    add_replay_arguments(parser, default_speed="max")
    add_montage_argument(parser)
    parser.add_argument("--wav", default=None, metavar="PATH",
                        help="render the music here (default: audio.wav in the session folder)")
    parser.add_argument("--audio", default=None, metavar="auto|portaudio|jack|wav:PATH|none",
                        help="with --speed 1 or N: where the music goes (default auto)")
    parser.set_defaults(func=run, command="replay")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from neurofeed.acquire import FileSource
    from neurofeed.cli._source_args import parse_speed, parse_start
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.session import AudioChoice

    speed = parse_speed(args.speed)
    virtual = speed == "max"
    requested = AudioChoice.parse(args.audio) if args.audio else None
    if virtual:
        if requested is not None and requested.kind not in ("wav", "none"):
            raise InvalidArgumentError(f"--audio {args.audio} needs --speed 1 or N; at max speed "
                                       "the music is rendered to a WAV (--wav PATH) or none")
        audio = requested or AudioChoice("wav", Path(args.wav) if args.wav else None)
    else:
        audio = AudioChoice.parse(args.audio or (f"wav:{args.wav}" if args.wav else "auto"))
    # At max speed each read is one hop of samples: the virtual clock's tick.
    start_s = parse_start(args.start)
    return run_from_args(args, lambda: FileSource(args.file, speed=speed, loop=args.loop, start_s=start_s,
                                                  board=args.master_board, stream=args.stream, chunk_s=0.1,
                                                  montage=args.montage),
                         audio=audio)
