"""``neurofeed record``: write raw EEG from any source to FIF, EDF or BrainVision."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone

from neurofeed._check import check_range
from neurofeed.cli import example_epilog
from neurofeed.cli._source_args import add_source_arguments, source_from_args

#: Longest recording `record` accepts, in seconds.
MAX_DURATION_S = 24 * 3600
_IDLE_SLEEP_S = 0.01


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "record", help="record raw EEG from a board, an LSL stream or a file",
        description="Record raw EEG from any source and write it to FIF, EDF or BrainVision "
                    "(chosen by the suffix of --out). Markers, file annotations and stalls "
                    "become annotations. Ctrl-C stops early and still writes what was recorded.",
        epilog=example_epilog(
            "neurofeed record --board synthetic --duration 60 --out rest.fif",
            "neurofeed record --lsl type=EEG --duration 300 --out s01.edf",
            "neurofeed record --file run1.xdf --speed max --duration 30 --out run1_raw.fif"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser)
    parser.add_argument("--duration", type=float, default=60.0, metavar="S",
                        help=f"seconds to record (0 < S <= {MAX_DURATION_S}; default 60)")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="output file: .fif, .fif.gz, .edf or .vhdr")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    parser.set_defaults(func=run, command="record")


def run(args: argparse.Namespace) -> int:
    from neurofeed.export import check_output_path

    duration_s = check_range("--duration", args.duration, 0, MAX_DURATION_S, unit=" s",
                             low_inclusive=False)
    out = check_output_path(args.out, overwrite=args.overwrite)
    source = source_from_args(args)
    with source:
        data, timestamps, interrupted = _capture(source, duration_s, progress=not args.no_progress)
        events, n_gaps = source.pop_events(), len(source.gaps)
    if data.shape[1] == 0:
        print(f"neurofeed record: nothing recorded from {source!r}; {out} not written", file=sys.stderr)
        return 1

    from neurofeed.export import to_raw, write_raw

    start = datetime.now(timezone.utc).timestamp() - data.shape[1] / source.sfreq
    raw = to_raw(source.info, data, timestamps, events,
                 meas_date=datetime.fromtimestamp(start, timezone.utc))
    write_raw(raw, out, overwrite=args.overwrite)
    seconds = data.shape[1] / source.sfreq
    note = " (interrupted)" if interrupted else ""
    extra = f", {source.n_nonfinite} non-finite values" if source.n_nonfinite else ""
    extra += f", {n_gaps} stalls (annotated BAD_ACQ_SKIP)" if n_gaps else ""
    print(f"recorded {seconds:.2f} s{note}, {source.n_channels} channels at {source.sfreq:g} Hz"
          f"{extra} -> {out}")
    return 130 if interrupted else 0


def _capture(source, duration_s: float, *, progress: bool):
    """Read until ``duration_s`` of samples arrived, the source ends, or Ctrl-C."""
    import numpy as np
    from tqdm import tqdm

    target = int(round(duration_s * source.sfreq))
    chunks, timestamps, have = [], [], 0
    interrupted = False
    # disable=None lets tqdm hide the bar when stderr is not a terminal (logs, CI).
    bar = tqdm(total=round(duration_s, 1), unit="s", disable=None if progress else True, file=sys.stderr,
               bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}", leave=False)
    try:
        while have < target and not source.finished:
            chunk = source.read()
            if chunk.timestamps.size == 0:
                bar.set_postfix_str("stalled" if source.stalled else "", refresh=False)
                time.sleep(_IDLE_SLEEP_S)
                continue
            take = min(chunk.timestamps.size, target - have)
            chunks.append(np.array(chunk.data[:, :take]))
            timestamps.append(chunk.timestamps[:take])
            have += take
            bar.update(round(have / source.sfreq, 1) - bar.n)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    if not chunks:
        return np.empty((source.n_channels, 0)), np.empty(0), interrupted
    return np.concatenate(chunks, axis=1), np.concatenate(timestamps), interrupted
