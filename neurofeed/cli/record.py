"""``neurofeed record``: raw EEG from any source, as a session without music, to a file.

The samples are appended to a crash-safe session folder in the data home while they
arrive, exactly as in ``run``; at the end, or on any stop (Ctrl-C, SIGTERM, SIGHUP), the
folder is finalised and written to ``--out``. After ``kill -9`` or a power cut,
``neurofeed recover`` finalises the folder.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from neurofeed import signals
from neurofeed.cli import example_epilog
from neurofeed.cli._options import parse_duration
from neurofeed.cli._source_args import add_source_arguments, source_from_args
from neurofeed.limits import MAX_RECORDING_S

_IDLE_SLEEP_S = 0.01


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "record", help="record raw EEG from a board, an LSL stream or a file",
        description="Record raw EEG from any source and write it to FIF, EDF or BrainVision "
                    "(chosen by the suffix of --out). Markers, file annotations and stalls "
                    "become annotations. While it records, the samples are kept in a session "
                    "folder in the data home (printed at the start), so Ctrl-C, SIGTERM or "
                    "SIGHUP still write what was recorded, and after a crash 'neurofeed "
                    "recover' finalises that folder.",
        epilog=example_epilog(
            "neurofeed record --board synthetic --duration 60 --out rest.fif",
            "neurofeed record --lsl type=EEG --duration 5m --subject S01 --out s01.edf",
            "neurofeed record --file run1.xdf --speed max --duration 30 --out run1_raw.fif"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser)
    parser.add_argument("--duration", default="60", metavar="T",
                        help="how long to record, e.g. 90, 90s, 20m or 1.5h (at most 24h; default "
                             "60s): wall time for a live source, so a stall counts; a file at "
                             "--speed max, that much of its samples")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="the output file: .fif, .fif.gz, .edf or .vhdr")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument("--subject", default="anonymous", metavar="S",
                        help="subject identifier, for the session folder's name (default anonymous)")
    parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    parser.set_defaults(func=run, command="record")


def run(args: argparse.Namespace) -> int:
    from neurofeed._check import check_writable_file
    from neurofeed.errors import SourceError
    from neurofeed.export import check_output_path
    from neurofeed.home import check_home, check_subject
    from neurofeed.session import recording

    duration_s = parse_duration(args.duration, max_s=MAX_RECORDING_S)
    out = check_writable_file("--out", check_output_path(args.out, overwrite=args.overwrite))
    subject = check_subject(args.subject)
    check_home()
    source = source_from_args(args)
    with contextlib.ExitStack() as stopping:
        with source, recording(source, subject=subject, label="record", kind="record",
                               duration_requested_s=duration_s) as recorder:
            print(f"session folder: {recorder.folder}", flush=True)
            ended = _capture(source, recorder, duration_s, progress=not args.no_progress)
            # From here on everything is the stopping (the metadata, releasing the source,
            # which BrainFlow can make slow, finalising, the export): a signal now is
            # remembered for the exit status, and --out is still written.
            stopping.enter_context(signals.deferred())
            silent_s = _silent_s(source)
            if recorder.n_samples == 0:
                if ended == "interrupted":
                    raise KeyboardInterrupt  # nothing to keep: stop as an interrupted command does
                raise SourceError(f"nothing recorded from {source!r}; {out} not written")
            recorder.update_metadata(ended=ended, source_stats={
                "n_samples": source.n_samples, "n_nonfinite": source.n_nonfinite,
                "n_dropped": source.n_dropped, "n_stalls": len(source.gaps)})
        n_parts = _export(recorder.folder, out, overwrite=args.overwrite)
    seconds = recorder.n_samples / source.sfreq
    short = recorder.n_samples < round(duration_s * source.sfreq)
    asked = f" of the {duration_s:g} s asked for" if short else ""
    by = f" by {signals.received()}" if signals.received() else ""
    note = f" ({ended}{by})" if ended != "done" else ""
    if ended == "source stalled":
        note = (f" (the source stalled: nothing arrived in its last {silent_s:.1f} s{by})"
                if silent_s is not None else f" (the source stalled{by})")
    resumed = sum(gap.end is not None for gap in source.gaps)
    extra = f", {source.n_nonfinite} non-finite values" if source.n_nonfinite else ""
    extra += f", {resumed} stalls (annotated BAD_ACQ_SKIP)" if resumed else ""
    extra += f"; part 1 of {n_parts} (the others are in the session folder)" if n_parts > 1 else ""
    print(f"recorded {seconds:.2f} s{asked}{note}, {source.n_channels} channels at {source.sfreq:g} Hz"
          f"{extra} -> {out}")
    return signals.exit_status(130 if ended == "interrupted" else 0)


def _capture(source, recorder, duration_s: float, *, progress: bool) -> str:
    """Append samples, events and stalls until the recording is over; return how it ended.

    A file replayed at max speed ends after ``duration_s`` of its samples. A source paced
    in time (a board, an LSL stream, a simulation, a file at ``--speed N``) ends after
    ``duration_s`` (``/ N``) of wall time, or as soon as its samples fill ``duration_s``: a
    stall counts as time, so a source that stops sending does not keep the recording
    open. When one has stalled, the recording ends on time with what arrived; when none
    has (a device a little slower than its nominal rate, the last samples in flight), it
    waits up to ``stall_timeout_s`` longer for the rest.

    Returns ``done``, ``source finished``, ``source stalled`` (the time was up with
    samples missing after a stall) or ``interrupted``.
    """
    from tqdm import tqdm

    target = round(duration_s * source.sfreq)
    paced = source.speed != "max"
    started = time.monotonic()
    wall_s = duration_s / source.speed if paced else None
    stalled = False
    # disable=None lets tqdm hide the bar when stderr is not a terminal (logs, CI).
    bar = tqdm(total=round(duration_s, 1), unit="s", disable=None if progress else True, file=sys.stderr,
               bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}", leave=False)
    try:
        while recorder.n_samples < target:
            if source.finished:
                return "source finished"
            if paced:
                late_s = time.monotonic() - started - wall_s
                if late_s >= 0 and (source.gaps or source.stalled):
                    return "source stalled"
                if late_s >= source.stall_timeout_s:
                    return "done"
            chunk = source.read()
            take = min(chunk.timestamps.size, target - recorder.n_samples)
            recorder.write_eeg(chunk.data[:, :take], chunk.timestamps[:take])
            for event in source.pop_events():
                recorder.write_marker(event.onset, event.duration, event.description)
            if source.stalled != stalled:
                stalled, gap = source.stalled, source.gaps[-1]
                recorder.write_marker(gap.start if stalled else gap.end, 0.0,
                                      "stall" if stalled else "resume")
                bar.set_postfix_str("stalled" if stalled else "", refresh=False)
            if take:
                bar.update(round(recorder.n_samples / source.sfreq, 1) - bar.n)
            else:
                time.sleep(_IDLE_SLEEP_S)
        return "done"
    except KeyboardInterrupt:
        return "interrupted"
    finally:
        bar.close()


def _silent_s(source) -> float | None:
    """Seconds since the last sample of a source still stalled at the end, else None."""
    if not (source.stalled and source.gaps):
        return None
    from pylsl import local_clock

    return max(0.0, local_clock() - source.gaps[-1].start)


def _export(folder, out, *, overwrite: bool) -> int:
    """Write the finalised session's EEG, with its annotations, to ``out``.

    Returns the number of FIF parts of the session (a gap of more than
    :data:`neurofeed.export.LONG_GAP_S` starts a new one): ``out`` holds the first.
    """
    import mne

    from neurofeed.export import write_raw
    from neurofeed.folder import RAW_FILE, read_session_json

    raw = mne.io.read_raw_fif(folder / RAW_FILE, preload=True, verbose="error")
    write_raw(raw, out, overwrite=overwrite)
    return len(read_session_json(folder).get("parts") or [RAW_FILE])
