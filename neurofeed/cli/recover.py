"""``neurofeed recover``: finalise a session folder left behind by a crash."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "recover", help="finalise a crashed session folder into FIF and sidecars",
        description="Finalise a session folder whose run ended without finalising (a crash, "
                    "a power cut, kill -9): the raw EEG appended while it ran becomes eeg_raw.fif "
                    "with markers and gaps as annotations, and session.json is completed.",
        epilog=example_epilog("neurofeed recover recordings/sub-S01_20261121-101500_relax-alpha"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="DIR", help="the session folder")
    parser.set_defaults(func=run, command="recover")


def run(args: argparse.Namespace) -> int:
    from neurofeed.finalise import finalise_session, read_session_json

    path = finalise_session(args.folder)
    meta = read_session_json(args.folder)
    print(f"recovered {meta['duration_s']:.2f} s ({meta['n_samples']} samples, "
          f"{meta['n_gaps']} gaps) -> {path}")
    return 0
