"""``neurofeed library``: analyse audio files into the clinic's or a client's music library, and
list, show, remove or rate its tracks."""

from __future__ import annotations

import argparse
import json
import sys

from neurofeed.cli import EXIT_USAGE, example_epilog


def register(subparsers) -> None:
    from neurofeed.library.track import RATINGS

    parser = subparsers.add_parser(
        "library", help="the music library: add, list, show, remove or rate tracks",
        description="A music library of recorded tracks for the playlist preset: 'add' analyses audio "
                    "files (tempo, key, loudness, brightness, arousal) in parallel, only what changed "
                    "since the last run; the audio stays where it is and is named by its path relative "
                    "to the library. Without --subject the clinic's library, with it the client's.",
        epilog=example_epilog("neurofeed library add ~/Music/calm --subject S01",
                              "neurofeed library list --subject S01",
                              "neurofeed library rate 3fa4c1 liked --subject S01"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--subject", metavar="S", help="the client's library (default: the clinic's)")
        return sub

    add = action("add", "analyse audio files and folders (searched recursively) into the library")
    add.add_argument("paths", nargs="+", metavar="PATH", help="audio files (WAV, FLAC, OGG, MP3, AIFF) "
                     "or folders")
    add.add_argument("--jobs", type=int, metavar="N", help="parallel analyses (default: the CPU count)")
    listing = action("list", "list the tracks")
    listing.add_argument("--json", action="store_true", help="every field as JSON")
    action("show", "show every field of one track").add_argument(
        "track", metavar="TRACK", help="id (or its first 6+ digits), path or title")
    action("remove", "remove a track (its file is left alone)").add_argument("track", metavar="TRACK")
    rate = action("rate", "rate a track for a client (the clinic's tracks too)")
    rate.add_argument("track", metavar="TRACK")
    rate.add_argument("rating", choices=RATINGS)
    parser.set_defaults(func=run, command="library")


def run(args: argparse.Namespace) -> int:
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.home import check_subject
    from neurofeed.library import Library

    subject = check_subject(args.subject) if args.subject is not None else None
    if args.action == "rate" and subject is None:
        raise InvalidArgumentError("library rate needs --subject: ratings are a client's")
    library = Library.open(subject)
    return {"add": _add, "list": _list, "show": _show, "remove": _remove, "rate": _rate}[args.action](
        library, args)


def _add(library, args) -> int:
    from neurofeed._check import check_range

    jobs = None if args.jobs is None else int(check_range("--jobs", args.jobs, 1, 256))
    report = library.add(args.paths, jobs=jobs, progress=True)
    library.save()
    for path, reason in report.failed:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
          f"{len(report.failed)} skipped -> {library.folder}")
    return EXIT_USAGE if report.failed else 0


def _tonality(a) -> str:
    return f"{a.key} {a.mode or a.quality}"


def _list(library, args) -> int:
    tracks = library.tracks
    if args.json:
        print(json.dumps([t.to_dict() for t in tracks], indent=2))
        return 0
    if not tracks:
        print(f"no tracks in {library.folder} (add some with 'neurofeed library add PATH')")
        return 0
    print(f"{'id':<16}  {'title':<28} {'BPM':>6}  {'key':<14} {'LUFS':>6} {'LRA':>5} {'arousal':>7} "
          f"{'valence':>7}  {'rating':<8} {'duration':>8}")
    for t in tracks:
        a = t.analysis
        print(f"{t.track_id:<16}  {t.title[:28]:<28} {a.tempo_bpm:6.1f}  {_tonality(a):<14} "
              f"{a.loudness_lufs:6.1f} {a.loudness_range_lu:5.1f} {a.arousal:7.2f} {a.valence:7.2f}  "
              f"{t.rating:<8} {a.duration_s:7.1f}s")
    return 0


def _show(library, args) -> int:
    track = library.find(args.track)
    print(f"path: {track.path}  ({library.resolve(track)})")
    for name, value in track.to_dict().items():
        if name == "analysis":
            for key, item in value.items():
                print(f"{key}: {_shown(key, item)}")
        elif name != "path":
            print(f"{name}: {value}")
    return 0


def _shown(name: str, value) -> str:
    if name == "beat_times_s":
        return f"{len(value)} beats from {value[0]:.2f} s" if value else "none"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _remove(library, args) -> int:
    track = library.remove(args.track)
    library.save()
    print(f"removed {track.track_id} {track.title} (its file is left alone)")
    return 0


def _rate(library, args) -> int:
    track = library.rate(args.track, args.rating)
    library.save()
    print(f"rated {track.track_id} {track.title}: {track.rating} for {library.subject}")
    return 0
