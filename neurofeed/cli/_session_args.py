"""Options and the live status line shared by run, replay and calibrate."""

from __future__ import annotations

import argparse
import re
import sys

from neurofeed.cli._status import StatusPrinter
from neurofeed.errors import InvalidArgumentError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(h|m|min|s)?\s*$")
_UNIT_S = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, None: 1.0}
#: Longest session, in seconds.
MAX_SESSION_S = 4 * 3600


def parse_duration(text: str, name: str = "--duration") -> float:
    """Seconds from ``90``, ``90s``, ``20m`` or ``1.5h``; must be over 0 and at most 4 h."""
    match = _DURATION.match(str(text))
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)] if match else -1.0
    if not 0 < seconds <= MAX_SESSION_S:
        raise InvalidArgumentError(f"{name} {text!r} is not accepted; accepted: a time over 0 and "
                                   "up to 4h, such as 90, 90s, 20m or 1.5h")
    return seconds


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
                       help="where the session folder goes (default: recordings/, or $NEUROFEED_HOME)")
    group.add_argument("--lsl-out", nargs="?", const="neurofeed", default=None, metavar="NAME",
                       help="publish features, music and markers as LSL streams NAME-features and "
                            "NAME-markers (default name: neurofeed)")
    group.add_argument("--region", action="append", default=[], metavar="NAME=CH,CH",
                       help="channels of a region of interest, for montages without standard "
                            "10-20 names: posterior=... (alpha) or frontal_midline=... (theta); "
                            "repeat for both")
    group.add_argument("--no-status", action="store_true", help="do not print the live status line")
    group.add_argument("--no-report", action="store_true",
                       help="do not build the HTML report at the end (build it later with "
                            "'neurofeed report DIR')")


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


def run_from_args(args: argparse.Namespace, source, *, audio, calibrate: bool = False) -> int:
    """Validate the session options, run the session, and print where everything went.

    A file replayed at "max" runs on the virtual clock; at N times real time, on EEG time.
    """
    from neurofeed._check import check_writable_file
    from neurofeed.bands import Baseline
    from neurofeed.home import check_subject
    from neurofeed.protocol import fit_phases, load_preset
    from neurofeed.session import run_session, stored_baseline_path

    subject = check_subject(args.subject)
    regions = parse_regions(args.region)
    preset = load_preset(args.preset)
    duration_s = None if args.duration is None else parse_duration(args.duration)
    baseline_s = None if args.baseline is None else parse_duration(args.baseline, "--baseline")
    stored = stored_baseline_path(subject)
    baseline = None
    if calibrate:
        duration_s = baseline_s or duration_s or preset.phases.baseline_s
        baseline_s = duration_s
    elif stored.exists() and not args.fresh_baseline and baseline_s is None:
        baseline = Baseline.load(stored)
        baseline_s = 0.0
    preset = fit_phases(preset, duration_s, baseline_s)
    if audio.path is not None:
        check_writable_file("audio file", audio.path, (".wav",))
    printer = None if args.no_status else StatusPrinter()
    try:
        outcome = run_session(source, preset, subject=subject, out=args.out, audio=audio,
                              seed=args.seed, baseline=baseline,
                              lsl_out=args.lsl_out, on_hop=printer, calibrate=calibrate,
                              regions=regions)
    finally:
        if printer is not None:
            printer.close()
    result = outcome.result
    print(f"session {result.ended} after {result.duration_s:.1f} s: {result.n_windows} windows, "
          f"audio {outcome.audio}" + (" (lost during the session)" if result.audio_lost else ""))
    if baseline is not None:
        print(f"used the stored baseline {stored}")
    if calibrate:
        print(f"baseline for {subject} stored in {stored}")
    print(f"session folder: {outcome.folder}")
    if not (calibrate or args.no_report):
        from neurofeed.report import build_report

        try:
            print(f"report: {build_report(outcome.folder)}")
        except Exception as err:
            print(f"neurofeed: the report could not be built ({type(err).__name__}: {err}); the "
                  f"session is saved; retry with 'neurofeed report {outcome.folder}'", file=sys.stderr)
            return 1
    return 130 if result.ended == "interrupted" else 0
