"""``neurofeed devices``: what can be used as input (and, later, output) on this machine."""

from __future__ import annotations

import argparse
import shutil

from neurofeed.cli import example_epilog
from neurofeed.cli._options import parse_duration
from neurofeed.cli._source_args import add_lsl_scope_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "devices", help="list BrainFlow boards, the LSL streams visible now, and audio outputs",
        description="List the BrainFlow board names and ids that --board accepts, and the "
                    "LSL streams visible on the network now, for --lsl.",
        epilog=example_epilog("neurofeed devices", "neurofeed devices --lsl-timeout 3"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lsl-timeout", default="1", metavar="T",
                        help="how long to search for LSL streams, e.g. 1 or 3s (at most 60s; default 1s)")
    add_lsl_scope_argument(parser)
    parser.set_defaults(func=run, command="devices")


def run(args: argparse.Namespace) -> int:
    # Check every argument before the first section prints anything.
    args.lsl_timeout = parse_duration(args.lsl_timeout, "--lsl-timeout", max_s=60)
    print("\n\n".join("\n".join(section(args)) for section in SECTIONS))
    return 0


def board_section(args: argparse.Namespace) -> list[str]:
    """Lines listing BrainFlow's boards as ``name (id)`` in columns."""
    from neurofeed.acquire import board_names

    entries = [f"{name} ({board_id})" for name, board_id in sorted(board_names().items())]
    width = max(map(len, entries)) + 2
    per_line = max(1, (shutil.get_terminal_size().columns - 2) // width)
    lines = ["BrainFlow boards, name (id), for --board:"]
    for start in range(0, len(entries), per_line):
        row = entries[start:start + per_line]
        lines.append("  " + "".join(entry.ljust(width) for entry in row).rstrip())
    return lines


def lsl_section(args: argparse.Namespace) -> list[str]:
    """Lines listing the LSL streams that answer within ``--lsl-timeout`` seconds."""
    from neurofeed.acquire.lsl import stream_summary, visible_streams

    streams = sorted(visible_streams(args.lsl_timeout), key=lambda s: (s.name(), s.type()))
    lines = [f"LSL streams visible now ({args.lsl_timeout:g} s search), for --lsl NAME:"]
    lines += [f"  {stream_summary(s)} source_id={s.source_id()!r} on {s.hostname()}"
              for s in streams]
    return lines if streams else [*lines, "  none"]


def audio_section(args: argparse.Namespace) -> list[str]:
    """Lines listing the audio outputs (found without booting an audio server)."""
    from neurofeed.synth.devices import list_audio_outputs

    outputs = list_audio_outputs()
    lines = ["Audio outputs, for --audio (* is what auto uses):"]
    for out in outputs:
        where = f"device {out.index}" if out.index is not None else out.backend
        rate = f", {out.sample_rate:g} Hz" if out.sample_rate else ""
        lines.append(f"  {'*' if out.default else ' '} {out.backend:<9} {where:<10} {out.name} "
                     f"({out.channels} ch{rate})")
    if not outputs:
        lines.append("  none: no sound card and no JACK server; sessions render the music to a WAV")
    return lines


#: Each section is a function of the parsed arguments that returns its lines.
SECTIONS = [board_section, lsl_section, audio_section]
