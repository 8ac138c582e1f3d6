"""``neurofeed stream``: republish any EEG source as an LSL outlet."""

from __future__ import annotations

import argparse
import time

from neurofeed.cli import example_epilog
from neurofeed.cli._options import parse_duration
from neurofeed.cli._source_args import add_source_arguments, source_from_args
from neurofeed.limits import MAX_STREAM_S

# Polling the source this often bounds the latency the relay adds, at little CPU.
_IDLE_SLEEP_S = 0.002


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stream", help="publish EEG from a board, a file or another stream as an LSL outlet",
        description="Publish EEG from any source as an LSL stream (float32, microvolts, with "
                    "channel labels and the source's timestamps), so that neurofeed or "
                    "LabRecorder on another machine can read it: so can any LSL client on the "
                    "network, without authentication, unless --lsl-scope machine (docs/privacy.md). "
                    "Runs until Ctrl-C, SIGTERM or SIGHUP, the end of a file, or --duration.",
        epilog=example_epilog(
            "neurofeed stream --board synthetic",
            "neurofeed stream --board cyton --serial-port /dev/ttyUSB0 --name lab-eeg",
            "neurofeed stream run1.fif --loop --name replay --type EEG",
            "neurofeed stream --lsl type=EEG --name relayed --duration 600"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser, file_positional=True)
    outlet = parser.add_argument_group("LSL outlet")
    outlet.add_argument("--name", default="neurofeed", help="stream name (default neurofeed)")
    outlet.add_argument("--type", default="EEG", help="stream content type (default EEG)")
    outlet.add_argument("--source-id", default=None, metavar="ID",
                        help="stream source_id (default NAME@HOSTNAME, stable across restarts)")
    parser.add_argument("--duration", default=None, metavar="T",
                        help="stop after this long, e.g. 90s, 20m or 8h (at most 168h; default: "
                             "run until Ctrl-C, SIGTERM or SIGHUP)")
    parser.set_defaults(func=run, command="stream")


def run(args: argparse.Namespace) -> int:
    from neurofeed.acquire import EEGOutlet

    duration_s = None if args.duration is None else parse_duration(args.duration, max_s=MAX_STREAM_S)
    source = source_from_args(args)
    # Ctrl-C, SIGTERM (a service manager) and SIGHUP end the relay as a KeyboardInterrupt
    # (neurofeed.signals): the outlet and the source close on the way out.
    with source:
        outlet = EEGOutlet(source.info, name=args.name, type=args.type, source_id=args.source_id)
        with outlet:
            print(f"publishing {outlet.summary} source_id={outlet.source_id!r} from "
                  f"{source!r}; Ctrl-C stops", flush=True)
            _relay(source, outlet, duration_s)
    return 0


def _relay(source, outlet, duration_s: float | None) -> None:
    """Push every chunk the source delivers until it ends or ``duration_s`` passes."""
    end = None if duration_s is None else time.monotonic() + duration_s
    while not source.finished and (end is None or time.monotonic() < end):
        chunk = source.read()
        if chunk.timestamps.size:
            outlet.push(chunk)
        else:
            time.sleep(_IDLE_SLEEP_S)
