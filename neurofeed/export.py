"""Captured EEG to an MNE Raw, and a Raw to FIF, EDF or BrainVision by file suffix."""

from __future__ import annotations

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


def to_raw(info, data: np.ndarray, first_timestamp: float, events: Sequence = (),
           gaps: Sequence = (), meas_date=None):
    """Build an MNE Raw from captured samples, with events and stalls as annotations.

    Parameters
    ----------
    info : mne.Info
        The source's info.
    data : ndarray, shape (n_channels, n_samples)
        EEG in volts.
    first_timestamp : float
        LSL time of the first sample, in seconds; event and gap times are relative to it.
    events : sequence of neurofeed.acquire.Event
        Markers and file annotations, on the LSL clock.
    gaps : sequence of neurofeed.acquire.Gap
        Stalls; each becomes a ``BAD_stall`` annotation (unfinished ones end at the
        last sample).
    meas_date : datetime | None
        The wall-clock start of the recording (UTC).
    """
    import mne

    raw = mne.io.RawArray(data, info.copy(), verbose="error")
    if meas_date is not None:
        raw.set_meas_date(meas_date)
    duration = data.shape[1] / info["sfreq"]
    onsets, durations, descriptions = [], [], []
    for event in events:
        onsets.append(event.onset - first_timestamp)
        durations.append(event.duration)
        descriptions.append(event.description)
    for gap in gaps:
        end = duration + first_timestamp if gap.end is None else gap.end
        onsets.append(gap.start - first_timestamp)
        durations.append(max(end - gap.start, 0.0))
        descriptions.append("BAD_stall")
    if onsets:
        onsets = np.clip(onsets, 0.0, duration)
        raw.set_annotations(mne.Annotations(onsets, durations, descriptions,
                                            orig_time=raw.info["meas_date"]))
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
