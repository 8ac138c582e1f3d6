"""``neurofeed recover``: finalise a session folder left behind by a crash."""

from __future__ import annotations

import argparse

from neurofeed.cli import example_epilog


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "recover", help="finalise a crashed session folder into FIF and sidecars",
        description="Finalise a session folder whose run ended without finalising (a crash, "
                    "a power cut, kill -9, a full disk): every EEG sample that reached the disk "
                    "becomes eeg_raw.fif (continued in eeg_part-N_raw.fif after a long gap) with "
                    "markers and gaps as annotations, and session.json is completed. A folder whose "
                    "session still runs is refused; damaged sidecars are repaired where that is "
                    "unambiguous, and garbage marker rows are skipped and counted.",
        epilog=example_epilog("neurofeed recover recordings/sub-S01_20261121-101500_relax-alpha"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="DIR", help="the session folder")
    parser.add_argument("--force", action="store_true",
                        help="finalise a folder that is already finalised again, from its live files")
    parser.set_defaults(func=run, command="recover")


def run(args: argparse.Namespace) -> int:
    from neurofeed.finalise import finalise_session
    from neurofeed.folder import RAW_FILE, STATUS_FINALISED, read_session_json

    # A finalised folder's FIF and report are the record: rebuilding them from live files
    # that were cut or edited since would lose data without a word, so it takes --force.
    if read_session_json(args.folder).get("status") == STATUS_FINALISED and not args.force:
        print(f"{args.folder} is already finalised ({RAW_FILE}); nothing to recover "
              "(--force finalises it again from its live files)")
        return 0
    path = finalise_session(args.folder)
    meta = read_session_json(args.folder)
    notes = [f"{meta['n_samples']} samples", _count(meta["n_gaps"], "gap")]
    if len(meta["parts"]) > 1:
        notes.append(f"{len(meta['parts'])} parts after long gaps")
    if meta["n_markers_skipped"]:
        notes.append(f"{_count(meta['n_markers_skipped'], 'garbage marker row')} skipped")
    if meta["n_bad_timestamps"]:
        notes.append(f"{_count(meta['n_bad_timestamps'], 'sample')} without a valid time dropped")
    notes.extend(meta["repairs"])
    if "score_midi_error" in meta:
        notes.append(meta["score_midi_error"])
    print(f"recovered {meta['duration_s']:.2f} s ({', '.join(notes)}) -> {path}")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
