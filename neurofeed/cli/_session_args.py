"""Options and the live status line shared by run, replay and calibrate."""

from __future__ import annotations

import argparse
import contextlib
import sys

from neurofeed import signals
from neurofeed.cli._options import parse_duration
from neurofeed.cli._source_args import add_lsl_scope_argument
from neurofeed.cli._status import StatusPrinter
from neurofeed.errors import InvalidArgumentError


def add_session_arguments(parser: argparse.ArgumentParser, *, preset_required: bool = True) -> None:
    """Add the preset, subject, timing, audio, output and LSL options."""
    group = parser.add_argument_group("session")
    group.add_argument("--preset", required=preset_required, metavar="P",
                       help="preset name (see 'neurofeed presets') or a .toml path")
    group.add_argument("--subject", default="anonymous", metavar="S",
                       help="subject identifier: letters, digits, - and _ (default anonymous)")
    group.add_argument("--duration", default=None, metavar="T",
                       help="session length, e.g. 20m or 90s; the preset's phases are scaled "
                            "to fit (default: the preset's own length)")
    group.add_argument("--baseline", default=None, metavar="T",
                       help="length of the baseline phase, e.g. 60s; given, the session calibrates its "
                            "own baseline even if the subject has a stored one (default: the "
                            "preset's share, or none with a stored baseline)")
    group.add_argument("--fresh-baseline", action="store_true",
                       help="calibrate a baseline in this session even if the subject has a "
                            "stored one (from 'neurofeed calibrate')")
    group.add_argument("--seed", type=int, default=0, metavar="N",
                       help="seed for the music: the same file, preset and seed replay identically")
    group.add_argument("--out", default=None, metavar="DIR",
                       help="the folder the session folder goes in (default: the data home, "
                            "$NEUROFEED_HOME or the per-user data folder)")
    group.add_argument("--lsl-out", nargs="?", const="neurofeed", default=None, metavar="NAME",
                       help="publish features, music and markers as LSL streams NAME-features and "
                            "NAME-markers (default name: neurofeed), with a random source_id. They "
                            "are this person's brain measures: any LSL client on the network can "
                            "find and read them unless --lsl-scope machine (docs/privacy.md)")
    add_lsl_scope_argument(group)
    group.add_argument("--region", action="append", default=[], metavar="NAME=CH,CH",
                       help="channels of a region of interest, for montages without standard "
                            "10-20 names: posterior=... (alpha) or frontal_midline=... (theta); "
                            "repeat for both")
    add_palette_argument(group)
    group.add_argument("--no-ear-check", action="store_true",
                       help="skip the left/right headphone check a binaural preset starts with")
    group.add_argument("--no-status", action="store_true", help="do not print the live status line")
    group.add_argument("--no-report", action="store_true",
                       help="do not build the HTML report at the end (build it later with "
                            "'neurofeed report DIR')")


def add_palette_argument(group, default: str | None = None) -> None:
    """Add ``--palette NAME``, its help listing every palette and what it sounds like.

    Without ``default`` the option is None unless given (a session then plays its preset's).
    """
    from neurofeed.synth.palettes import PALETTES

    listed = "; ".join(f"{name}: {palette.description}" for name, palette in PALETTES.items())
    shown = default if default is not None else "the preset's"
    group.add_argument("--palette", default=default, metavar="NAME",
                       help=f"the instruments the music is played on (default {shown}): {listed}")


def parse_regions(texts: list[str]) -> dict[str, list[str]]:
    """``["posterior=O1,O2"]`` to ``{"posterior": ["O1", "O2"]}``."""
    regions = {}
    for text in texts:
        name, sep, channels = text.partition("=")
        picks = [c.strip() for c in channels.split(",") if c.strip()]
        if not sep or name not in ("posterior", "frontal_midline") or not picks:
            raise InvalidArgumentError(f"--region {text!r} is not accepted; accepted: "
                                       "posterior=CH,CH,... or frontal_midline=CH,CH,...")
        regions[name] = picks
    return regions


def run_from_args(args: argparse.Namespace, make_source, *, audio, calibrate: bool = False) -> int:
    """Validate the session options, run the session, and print where everything went.

    Every option, the output folder included, is checked before ``make_source()`` builds
    the source (and well before the session opens it). A calibration from a file at max
    speed has no music unless it is rendered to a WAV. The
    exit status is the session's: 0, or ``128 + signal`` when a signal stopped it. A
    report that cannot be built is one line on stderr, not a failed session.
    """
    from neurofeed._check import check_writable_file
    from neurofeed.bands import Baseline
    from neurofeed.folder import check_output_folder
    from neurofeed.home import check_home, check_subject
    from neurofeed.protocol import fit_phases, load_preset, with_palette
    from neurofeed.session import (
        AudioChoice,
        check_stored_baseline,
        playlist_tracks,
        run_session,
        stored_baseline_path,
    )

    subject = check_subject(args.subject)
    regions = parse_regions(args.region)
    preset = load_preset(args.preset)
    duration_s = None if args.duration is None else parse_duration(args.duration)
    baseline_s = None if args.baseline is None else parse_duration(args.baseline, "--baseline")
    if args.out is not None:
        check_output_folder(args.out)
    else:
        check_home()
    stored = stored_baseline_path(subject)
    baseline = None
    if calibrate:
        duration_s = baseline_s or duration_s or preset.phases.baseline_s
        baseline_s = duration_s
    elif stored.exists() and not args.fresh_baseline and baseline_s is None:
        baseline = Baseline.load(stored)
        # Before any source opens: a baseline of an older version or other settings is
        # refused now, naming its file and what to do.
        check_stored_baseline(baseline, preset, stored)
        baseline_s = 0.0
    preset = fit_phases(preset, duration_s, baseline_s)
    if args.palette is not None:
        if preset.playlist is not None:
            raise InvalidArgumentError(f"--palette does not apply to preset {preset.name!r}: it plays the "
                                       "client's own tracks; accepted: a preset of kind feedback or iso")
        preset = with_palette(preset, args.palette)
    tracks = None if calibrate else playlist_tracks(preset, subject)
    ratings = getattr(args, "ratings", False)
    pre_ratings = None
    if ratings and not sys.stdin.isatty():
        print("neurofeed: --ratings skipped: no terminal to ask them on; add them later with "
              "'neurofeed rate SESSION --pre ... --post ...'", file=sys.stderr)
        ratings = False
    elif ratings:
        from neurofeed.cli._ratings import ask_ratings

        pre_ratings = ask_ratings("before the session")
    source = make_source()
    if calibrate and source.speed == "max" and audio.kind not in ("wav", "none"):
        audio = AudioChoice("none")
    if audio.path is not None:
        check_writable_file("audio file", audio.path, (".wav",))
    printer = None if args.no_status else StatusPrinter()
    # Once run_session returns, the session is saved: from there to the report, a signal is
    # remembered for the exit status, not raised (the lines and the report still come).
    stopping = contextlib.ExitStack()
    try:
        outcome = run_session(source, preset, subject=subject, out=args.out, audio=audio,
                              seed=args.seed, baseline=baseline,
                              lsl_out=args.lsl_out, on_hop=printer, calibrate=calibrate,
                              regions=regions, baseline_file=stored if baseline is not None else None,
                              ear_check=not args.no_ear_check, tracks=tracks, pre_ratings=pre_ratings)
        stopping.enter_context(signals.deferred())
    finally:
        if printer is not None:
            with signals.deferred():
                printer.close()
    with stopping:
        if ratings:
            _record_ratings(subject, outcome.folder, pre_ratings)
        return _report_outcome(outcome, args, subject=subject, stored=stored, baseline=baseline,
                               calibrate=calibrate, wav=audio.path)


def _record_ratings(subject: str, folder, pre: dict) -> None:
    """Ask the ratings after the session and store both with the subject's outcomes."""
    from neurofeed.cli._ratings import ask_ratings
    from neurofeed.outcomes.ratings import record_ratings

    post = ask_ratings("after the session")
    for moment, values in (("pre", pre), ("post", post)):
        if values:
            record_ratings(subject, folder.name, moment, values)


def _report_outcome(outcome, args, *, subject, stored, baseline, calibrate: bool, wav) -> int:
    """Print where the session went, store its summary and build its report."""
    result = outcome.result
    stopped = f" by {signals.received()}" if result.ended == "interrupted" and signals.received() else ""
    # session.json names a WAV by its name only; the user is told where it is.
    used = f"wav:{wav}" if wav is not None and outcome.audio.startswith("wav:") else outcome.audio
    print(f"session {result.ended}{stopped} after {result.duration_s:.1f} s: {result.n_windows} windows, "
          f"audio {used}" + (" (lost during the session)" if result.audio_lost else ""))
    if baseline is not None:
        print(f"used the stored baseline {stored}")
    if calibrate and outcome.baseline_not_stored:
        # A stopped calibration is not a failure: its folder is kept, and this is said once.
        print(f"neurofeed: no baseline stored for {subject}: {outcome.baseline_not_stored}",
              file=sys.stderr)
    elif calibrate:
        print(f"baseline for {subject} stored in {stored}")
    print(f"session folder: {outcome.folder}")
    _summarise(outcome.folder, report=not (calibrate or args.no_report))
    return signals.exit_status(130 if result.ended == "interrupted" else 0)


def _summarise(folder, *, report: bool) -> None:
    """Store the session's summary and build its report; a failure is one line on stderr."""
    # The session is saved: a signal now is remembered for the exit status, and the
    # summary and report still finish.
    with signals.deferred():
        try:
            from neurofeed.report import build_report
            from neurofeed.session import store_summary

            store_summary(folder)
            if report:
                print(f"report: {build_report(folder)}")
        except Exception as err:
            message = f"{type(err).__name__}: {err}".splitlines()[0]
            what = "report" if report else "summary (for 'neurofeed progress')"
            print(f"neurofeed: the session's {what} could not be built ({message}); the session is "
                  f"saved; retry with 'neurofeed report {folder}'", file=sys.stderr)
