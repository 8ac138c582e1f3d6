"""``neurofeed rate``: a client's ratings before and after a session, added to it later."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    from neurofeed.outcomes.ratings import SCALES

    scales = ", ".join(f"{name} {low}-{high}" for name, (low, high) in SCALES.items())
    parser = subparsers.add_parser(
        "rate", help="add a client's ratings before and after a session",
        description="Record the client's ratings before (--pre) and after (--post) a session, "
                    f"given afterwards: {scales} (mood and relaxation from low to high, valence from "
                    "unpleasant to pleasant, arousal from calm to excited). Stored with the subject's "
                    "outcomes; a later entry for the same session supersedes, and both are kept.",
        epilog=example_epilog(
            "neurofeed rate ~/.local/share/neurofeed/sub-C01_20261201-101500_relax-alpha "
            "--pre mood=3,relax=4 --post mood=6,relax=7",
            "neurofeed rate SESSION_FOLDER --post valence=7,arousal=3"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("session", metavar="SESSION", help="the session folder")
    parser.add_argument("--pre", metavar="LIST", help="ratings before the session, e.g. mood=3,relax=4")
    parser.add_argument("--post", metavar="LIST", help="ratings after the session, e.g. mood=6,relax=7")
    parser.set_defaults(func=run, command="rate")


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.folder import read_session_json
    from neurofeed.outcomes.ratings import parse_ratings, record_ratings

    if args.pre is None and args.post is None:
        raise InvalidArgumentError("rate needs --pre or --post (or both); accepted: e.g. "
                                   "--pre mood=3,relax=4")
    texts = {"pre": args.pre, "post": args.post}
    given = {moment: parse_ratings(text, f"--{moment}") for moment, text in texts.items() if text}
    meta = read_session_json(args.session)  # before anything is written: a folder that is no session
    subject, session_id = meta["subject"], meta["session_id"]
    for moment, values in given.items():
        record_ratings(subject, session_id, moment, values)
        shown = ", ".join(f"{name} {value}" for name, value in values.items())
        print(f"{session_id}: {moment} {shown}")
    return 0
