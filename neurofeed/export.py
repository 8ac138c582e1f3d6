"""Captured EEG to an MNE Raw, and a Raw to FIF, EDF or BrainVision by file suffix."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurofeed.errors import InvalidArgumentError, NeurofeedError

#: Output suffixes and the writer each one selects.
RAW_SUFFIXES = {".fif": "fif", ".fif.gz": "fif", ".edf": "edf", ".vhdr": "brainvision"}


def raw_format(path: str | Path) -> str:
    """Return the format a path's suffix selects, or raise naming the accepted suffixes.

    ``.edf`` is accepted in any case; ``.fif``, ``.fif.gz`` and ``.vhdr`` only in lower
    case, since MNE refuses to write FIF, and to read BrainVision, under another spelling.
    """
    name = Path(path).name
    for suffix, fmt in RAW_SUFFIXES.items():
        if name.endswith(suffix) or (fmt == "edf" and name.lower().endswith(suffix)):
            return fmt
    raise InvalidArgumentError(f"--out {str(path)!r} has an unsupported suffix; accepted: "
                               f"{', '.join(RAW_SUFFIXES)} (all but .edf in lower case)")


def check_output_path(path: str | Path, *, overwrite: bool = False) -> Path:
    """Check an output path before anything is recorded: suffix, folder, existing file."""
    path = Path(path)
    raw_format(path)
    if path.exists() and not overwrite:
        raise InvalidArgumentError(f"--out {str(path)!r} exists; pass --overwrite or choose a new path")
    if path.parent.exists() and not path.parent.is_dir():
        raise InvalidArgumentError(f"--out {str(path)!r}: {str(path.parent)!r} is not a folder")
    return path


#: A jump between consecutive timestamps longer than this is an acquisition gap, in seconds.
#: Shorter irregularities are host-clock jitter and USB/Bluetooth bursts, not lost data.
GAP_THRESHOLD_S = 0.25
#: A gap longer than this, in seconds, is not zero-filled: the recording continues in a new
#: part with its own start time (see :func:`split_parts`), so output stays the size of the data.
LONG_GAP_S = 10.0
#: Zero-filled gaps may add at most this many samples per recorded one: a gap that would
#: take a part beyond it starts a new part instead (see :func:`split_parts`), so that
#: output stays bounded by the data recorded.
MAX_FILL_RATIO = 10


def _plan(timestamps: np.ndarray, sfreq: float) -> list[tuple[int, int, int, bool]]:
    """Lay out the runs of a recording (samples between acquisition gaps) in parts.

    Returns ``(start, stop, position, new_part)`` per run: its samples, where it starts in
    its part (in samples from the part's first one), and whether it starts a new part.
    A run starts a new part after a gap longer than :data:`LONG_GAP_S`, after a step back
    longer than :data:`GAP_THRESHOLD_S`, and where zero-filling the gap before it would
    take the part's zeros beyond :data:`MAX_FILL_RATIO` times the samples before the gap.
    Shorter gaps are zero-filled; a run after a small backward step follows the one before.
    """
    steps = np.diff(timestamps)
    jumps = np.flatnonzero((steps > GAP_THRESHOLD_S) | (steps < -GAP_THRESHOLD_S))
    run_starts = np.concatenate(([0], jumps + 1)).tolist()
    run_ends = np.concatenate((jumps + 1, [timestamps.size])).tolist()
    runs, first, end, n_data, n_fill = [], float(timestamps[0]), 0, 0, 0
    for start, stop in zip(run_starts, run_ends):
        new_part = False
        if runs:
            step = float(timestamps[start] - timestamps[start - 1])
            position = max(end, round((float(timestamps[start]) - first) * sfreq))
            fill = position - end
            new_part = (step > LONG_GAP_S or step < -GAP_THRESHOLD_S
                        or n_fill + fill > MAX_FILL_RATIO * n_data)
        else:
            position = 0
        if new_part:
            first, position, n_data, n_fill = float(timestamps[start]), 0, 0, 0
        else:
            n_fill += position - end
        runs.append((start, stop, position, new_part))
        end = position + stop - start
        n_data += stop - start
    return runs


def split_parts(timestamps: np.ndarray, sfreq: float) -> list[slice]:
    """Split a recording into parts that :func:`to_raw` writes without refusing.

    A part ends at a gap longer than :data:`LONG_GAP_S`, at a backward step longer
    than :data:`GAP_THRESHOLD_S` (the host's wall clock stepped back under a board), and
    at a shorter gap whose zero-filling would take the part beyond :data:`MAX_FILL_RATIO`
    zeros per recorded sample (a headset dropping in and out), so that every sample keeps
    its true time and output stays bounded by the data.

    Parameters
    ----------
    timestamps : ndarray, shape (n_samples,)
        LSL time of each sample, in seconds.
    sfreq : float
        The sampling rate, in Hz.

    Returns
    -------
    parts : list of slice
        The samples of each part, in recording order.
    """
    if timestamps.size == 0:
        return [slice(0, 0)]
    edges = [start for start, _, _, new_part in _plan(timestamps, sfreq) if new_part]
    edges = [0, *edges, timestamps.size]
    return [slice(start, stop) for start, stop in itertools.pairwise(edges)]


def to_raw(info, data: np.ndarray, timestamps: np.ndarray, events: Sequence = (), meas_date=None, *,
           join: bool = False):
    """Build an MNE Raw from captured samples, with gaps and events as annotations.

    Acquisition gaps (timestamps jumping by more than :data:`GAP_THRESHOLD_S`) are
    filled with zeros and annotated ``BAD_ACQ_SKIP``, MNE's convention for skipped
    acquisition, so that time in the Raw stays aligned with the LSL clock. Where
    :func:`split_parts` would start a new part (a gap longer than :data:`LONG_GAP_S`, a
    step back, or zeros beyond :data:`MAX_FILL_RATIO` per sample), the recording is
    refused, or with ``join`` the runs are joined end to end with a ``BAD_ACQ_SKIP`` of
    duration 0 at each join: from there on, time in the Raw is LSL time minus the gaps
    joined (an event goes with the samples around it).

    Parameters
    ----------
    info : mne.Info
        The source's info.
    data : ndarray, shape (n_channels, n_samples)
        EEG in volts.
    timestamps : ndarray, shape (n_samples,)
        LSL time of each sample, in seconds; the Raw starts at ``timestamps[0]``.
    events : sequence of neurofeed.acquire.Event
        Markers and file annotations, on the LSL clock.
    meas_date : datetime | None
        The wall-clock time of the first sample (UTC).
    join : bool
        Join the parts :func:`split_parts` would make instead of refusing.

    Returns
    -------
    raw : mne.io.RawArray
        The recording. ``raw.times`` plus ``timestamps[0]`` is LSL time (up to the first join).

    Raises
    ------
    InvalidArgumentError
        Without ``join``, when the recording needs more than one part (:func:`split_parts`).
    """
    import mne

    sfreq = float(info["sfreq"])
    runs = _plan(timestamps, sfreq)
    onsets, durations, descriptions = [], [], []
    # Each segment (runs between joins) starts at a sample position and an LSL time.
    segments, positions, base, end = [(0, float(timestamps[0]))], [], 0, 0
    for i, (start, stop, position, new_part) in enumerate(runs):
        if new_part:
            if not join:
                step = float(timestamps[start] - timestamps[start - 1])
                raise InvalidArgumentError(
                    f"the timestamps jump by {step:g} s after {start / sfreq:g} s of data (more than "
                    f"{LONG_GAP_S:g} s, a step back, or zeros beyond {MAX_FILL_RATIO} times the data); "
                    "split the recording first (split_parts)")
            base = end
            segments.append((base, float(timestamps[start])))
        if i:
            onsets.append(end / sfreq)
            durations.append(0.0 if new_part else (base + position - end) / sfreq)
            descriptions.append("BAD_ACQ_SKIP")
        positions.append(base + position)
        end = base + position + stop - start
    if len(runs) > 1:
        filled = np.zeros((data.shape[0], end))
        for (start, stop, _, _), position in zip(runs, positions):
            filled[:, position:position + stop - start] = data[:, start:stop]
        data = filled
    raw = mne.io.RawArray(data, info.copy(), verbose="error")
    if meas_date is not None:
        raw.set_meas_date(meas_date)
    seg_lsl = np.array([lsl for _, lsl in segments])
    for event in events:
        # The last segment starting at or before the event (the first for earlier ones).
        before = np.flatnonzero(seg_lsl <= event.onset)
        k = int(before[-1]) if before.size else 0
        onsets.append(segments[k][0] / sfreq + event.onset - segments[k][1])
        durations.append(event.duration)
        descriptions.append(event.description)
    if onsets:
        # An event at the newest sample (a session's last marker) may land a hair past the
        # last sample time when the device's clock runs fast of its nominal rate: MNE would
        # drop it, so it is kept on the last sample.
        onsets = np.clip(onsets, 0.0, (data.shape[1] - 1) / sfreq)
        # An annotation running past the last sample (a file event cut by --duration) is
        # cropped by MNE; that is what we want, so its warning is not shown.
        raw.set_annotations(mne.Annotations(onsets, durations, descriptions,
                                            orig_time=raw.info["meas_date"]), verbose="error")
    return raw


def save_raw(raw, path: str | Path, *, overwrite: bool = False, split_size: str = "2GB") -> Path:
    """Write ``raw`` as :func:`write_raw` does, letting an OSError through.

    A FIF is written into a temporary folder beside ``path`` (``.writing-`` before its
    name), pushed to the disk and renamed into place, its split files (``-1.fif``, ...,
    for a FIF over ``split_size``) first: a failed or interrupted write leaves no partial
    file under ``path``.
    """
    path = Path(path)
    fmt = raw_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt != "fif":
        raw.export(path, fmt=fmt, overwrite=overwrite, verbose="error")
        return path
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists")
    tmp = path.with_name(f".writing-{path.name}")
    shutil.rmtree(tmp, ignore_errors=True)  # left by a write that was killed
    try:
        tmp.mkdir()
        raw.save(tmp / path.name, overwrite=True, split_size=split_size,
                 buffer_size_sec=_buffer_size_sec(raw), verbose="error")
        written = sorted(tmp.iterdir(), key=lambda f: f.name == path.name)  # the first file last
        for file in written:
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for file in written:
            file.replace(path.parent / file.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _buffer_size_sec(raw) -> float:
    """A FIF buffer length, in seconds, on which the ``BAD_ACQ_SKIP`` spans do not all align.

    MNE writes the zeros of skip spans that all start and end on buffer boundaries as
    FIFF data skips, which it reads back shorter (mne-tools/mne-python#10037): a 5 s gap
    after 2 s of data at 250 Hz came back as 2 s. One span off the boundaries makes it
    write them as zeros, so the file reads back sample for sample.
    """
    sfreq = float(raw.info["sfreq"])
    skips = raw.annotations[raw.annotations.description == "BAD_ACQ_SKIP"]
    starts = [round((onset - raw.first_time) * sfreq) for onset in skips.onset]
    starts = [start for start in starts if start > 0]
    seconds = float(raw.buffer_size_sec)
    if starts:
        while int(np.ceil(seconds * sfreq)) > 0 and starts[0] % int(np.ceil(seconds * sfreq)) == 0:
            seconds += 1 / sfreq
    return seconds


def write_raw(raw, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``raw`` to FIF, EDF or BrainVision, as the suffix of ``path`` says."""
    try:
        return save_raw(raw, path, overwrite=overwrite)
    except (OSError, ValueError, RuntimeError) as err:
        raise NeurofeedError(f"could not write {str(path)!r}: {err}".splitlines()[0]) from None
