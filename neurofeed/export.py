"""Captured EEG to an MNE Raw, and a Raw to FIF, EDF or BrainVision by file suffix."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurofeed.errors import InvalidArgumentError, NeurofeedError

#: Output suffixes and the writer each one selects.
RAW_SUFFIXES = {".fif": "fif", ".fif.gz": "fif", ".edf": "edf", ".vhdr": "brainvision"}


def raw_format(path: str | Path) -> str:
    """Return the format a path's suffix selects, or raise naming the accepted suffixes."""
    name = Path(path).name.lower()
    for suffix, fmt in RAW_SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise InvalidArgumentError(f"--out {str(path)!r} has an unsupported suffix; accepted: "
                               f"{', '.join(RAW_SUFFIXES)}")


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
#: Zero-filled gaps may add at most this many samples per recorded one (hostile timestamps).
MAX_FILL_RATIO = 10


def split_parts(timestamps: np.ndarray) -> list[slice]:
    """Split a recording into parts at gaps longer than :data:`LONG_GAP_S` and backward steps.

    A backward step longer than :data:`GAP_THRESHOLD_S` (the host's wall clock stepped
    back under a board) also starts a part, so that every sample keeps its true time.

    Parameters
    ----------
    timestamps : ndarray, shape (n_samples,)
        LSL time of each sample, in seconds.

    Returns
    -------
    parts : list of slice
        The samples of each part, in recording order.
    """
    steps = np.diff(timestamps)
    breaks = np.flatnonzero((steps > LONG_GAP_S) | (steps < -GAP_THRESHOLD_S)) + 1
    edges = [0, *breaks.tolist(), timestamps.size]
    return [slice(start, stop) for start, stop in itertools.pairwise(edges)]


def to_raw(info, data: np.ndarray, timestamps: np.ndarray, events: Sequence = (), meas_date=None):
    """Build an MNE Raw from captured samples, with gaps and events as annotations.

    Acquisition gaps (timestamps jumping by more than :data:`GAP_THRESHOLD_S`) are
    filled with zeros and annotated ``BAD_ACQ_SKIP``, MNE's convention for skipped
    acquisition, so that time in the Raw stays aligned with the LSL clock. Gaps longer
    than :data:`LONG_GAP_S` are refused: split the recording with :func:`split_parts`.

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

    Returns
    -------
    raw : mne.io.RawArray
        The recording. ``raw.times`` plus ``timestamps[0]`` is LSL time.

    Raises
    ------
    InvalidArgumentError
        When a gap is longer than :data:`LONG_GAP_S`, or the gaps would take more than
        :data:`MAX_FILL_RATIO` zeros per recorded sample.
    """
    import mne

    sfreq = float(info["sfreq"])
    first = float(timestamps[0])
    steps = np.diff(timestamps)
    if steps.size and steps.max() > LONG_GAP_S:
        raise InvalidArgumentError(f"the timestamps jump by {steps.max():g} s, more than {LONG_GAP_S:g} s; "
                                   "split the recording at long gaps first (split_parts)")
    jumps = np.flatnonzero(steps > GAP_THRESHOLD_S)
    onsets, durations, descriptions = [], [], []
    if jumps.size:
        # Each run of samples goes where its first timestamp says; the gap between runs is
        # zero. A run after a small backward step follows the one before it.
        run_starts = np.concatenate(([0], jumps + 1))
        run_ends = np.concatenate((jumps + 1, [timestamps.size]))
        positions, end = [], 0
        for start, stop in zip(run_starts, run_ends):
            position = max(end, round((timestamps[start] - first) * sfreq))
            if positions:
                onsets.append(end / sfreq)
                durations.append((position - end) / sfreq)
                descriptions.append("BAD_ACQ_SKIP")
            positions.append(position)
            end = position + stop - start
        if end - timestamps.size > MAX_FILL_RATIO * timestamps.size:
            raise InvalidArgumentError(
                f"{len(positions) - 1} gaps would add {(end - timestamps.size) / sfreq:g} s of zeros to "
                f"{timestamps.size / sfreq:g} s of data; accepted: at most {MAX_FILL_RATIO} times the data")
        filled = np.zeros((data.shape[0], end))
        for start, stop, position in zip(run_starts, run_ends, positions):
            filled[:, position:position + stop - start] = data[:, start:stop]
        data = filled
    raw = mne.io.RawArray(data, info.copy(), verbose="error")
    if meas_date is not None:
        raw.set_meas_date(meas_date)
    for event in events:
        onsets.append(event.onset - first)
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


def write_raw(raw, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``raw`` to FIF, EDF or BrainVision, as the suffix of ``path`` says."""
    path = Path(path)
    fmt = raw_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "fif":
            raw.save(path, overwrite=overwrite, verbose="error")
        else:
            raw.export(path, fmt=fmt, overwrite=overwrite, verbose="error")
    except (OSError, ValueError, RuntimeError) as err:
        raise NeurofeedError(f"could not write {str(path)!r}: {err}".splitlines()[0]) from None
    return path
