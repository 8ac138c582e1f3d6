"""Read an EEG recording of any supported format into an MNE Raw, in volts.

Formats: everything :func:`mne.io.read_raw` opens (FIF, EDF/BDF, BrainVision,
EEGLAB, ...), XDF (LabRecorder), BrainFlow CSV (``DataFilter.write_file``) and
OpenBCI GUI v5/v6 text. Every failure is a one-line
:class:`~neurofeed.errors.FileFormatError` that names the file.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from neurofeed.acquire.base import channel_names
from neurofeed.acquire.brainflow import board_layout, openbci_default, resolve_board
from neurofeed.acquire.channels import KEPT_TYPES
from neurofeed.acquire.headers import (
    bytes_on_disk,
    check_n_channels,
    check_samples_fit,
    check_sfreq,
    declared_truncation,
    warn_truncated,
)
from neurofeed.acquire.montage import OPENBCI_DEFAULTS, Identity, identify
from neurofeed.acquire.units import MICROVOLTS_TO_VOLTS, is_known_unit, volts_per_unit
from neurofeed.errors import FileFormatError, InvalidArgumentError

logger = logging.getLogger("neurofeed.acquire")

#: Suffixes that :func:`mne.io.read_raw` opens (MNE 1.13), EEG formats first. ``.txt``
#: is left out: MNE reads it as BOXY (optical imaging, no EEG), and here it is
#: OpenBCI GUI text or BrainFlow CSV.
MNE_SUFFIXES = (".fif", ".fif.gz", ".edf", ".bdf", ".gdf", ".vhdr", ".ahdr", ".set", ".cnt",
                ".mff", ".eeg", ".nxe", ".mefd", ".lay", ".data", ".ns3", ".nedf", ".dat",
                ".dap", ".rs3", ".cdt", ".cdt.dpa", ".cdt.cef", ".cef", ".mat", ".bin",
                ".ds", ".sqd", ".con", ".hdr", ".snirf", ".asc")
XDF_SUFFIXES = (".xdf", ".xdfz")
#: BrainFlow CSV or OpenBCI GUI text, told apart by their first line.
TEXT_SUFFIXES = (".csv", ".txt")
ACCEPTED_SUFFIXES = MNE_SUFFIXES + XDF_SUFFIXES + TEXT_SUFFIXES

_OPENBCI_RATE = re.compile(r"^%\s*Sample Rate\s*=\s*(\S+)", re.IGNORECASE)
_OPENBCI_EXG = re.compile(r"^EXG Channel (\d+)$", re.IGNORECASE)


class Recording(NamedTuple):
    """A recording as :func:`load_recording` reads it.

    Attributes
    ----------
    raw : mne.io.BaseRaw
        EEG channels and the physiological channels beside them, named and typed,
        preloaded, in volts (see :func:`load_recording`).
    truncated : dict or None
        ``{"declared_s": ..., "actual_s": ...}`` when the file holds less than it
        declares: lengths in seconds, ``declared_s`` None where the format marks its
        end but not its length (an XDF stream without its footer). None otherwise.
    identity : Identity
        Each channel of ``raw``: its label in the file, name and type, and the montage
        that named them (see :func:`~neurofeed.acquire.montage.identify`).
    """

    raw: object
    truncated: dict | None
    identity: Identity


def read_recording(path, *, board: str | int | None = None, stream: str | None = None,
                   montage: str | None = None):
    """Read the EEG channels of a recording, preloaded, in volts.

    The same as ``load_recording(path, board=board, stream=stream, montage=montage).raw``:
    see :func:`load_recording`.

    Returns
    -------
    raw : mne.io.BaseRaw
    """
    return load_recording(path, board=board, stream=stream, montage=montage).raw


def load_recording(path, *, board: str | int | None = None, stream: str | None = None,
                   montage: str | None = None) -> Recording:
    """Read the EEG channels of a recording, preloaded, in volts, and whether it is cut short.

    Parameters
    ----------
    path : str | Path
        The recording: a suffix from :data:`ACCEPTED_SUFFIXES`.
    board : str | int | None
        The BrainFlow board (name or id) that recorded a BrainFlow CSV file; required
        for those and refused for every other format, since the CSV does not say
        which board wrote it.
    stream : str | None
        The name of the XDF stream to read (case-insensitive). By default the one
        stream whose type is EEG. Refused for other formats.
    montage : str | None
        Names for channels without usable labels (``--montage``): see
        :func:`~neurofeed.acquire.montage.parse_montage`. Unnamed channels of OpenBCI GUI
        text, or of BrainFlow CSV from an OpenBCI board, get the OpenBCI default without it.

    Returns
    -------
    recording : Recording
        ``raw``: the EEG channels, and the ECG, EOG, EMG, respiration, bio and misc channels
        beside them (stimulus channels and other modalities are left out), data in volts,
        with the file's annotations (for XDF: its string marker streams; for BrainFlow CSV
        and OpenBCI text: non-zero markers). Channels are named and typed by
        :func:`~neurofeed.acquire.channels.standardize` (``"EEG O1-REF"`` becomes EEG
        ``"O1"``, ``"ECG ECG"`` an ECG channel, PhysioNet's ``"Fc5."`` ``"FC5"``), the file's
        own non-EEG types kept; ``identity`` records each label, name and type.
        ``truncated``: an EDF/BDF or BrainVision file that holds less than its header
        declares (see :func:`~neurofeed.acquire.headers.declared_truncation`), or an XDF
        stream without the footer that ends a recording, is read as far as it goes, with a
        warning on the ``neurofeed.acquire`` logger.

    Raises
    ------
    FileFormatError
        If the file is missing, has an unsupported suffix, cannot be read, or holds
        no EEG channels; or a BrainFlow CSV comes without ``board``; or an XDF file
        has no (or several) EEG streams; or the header declares a sampling rate,
        channel count or length out of range (see :mod:`neurofeed.acquire.headers`),
        or too large to read.
    InvalidArgumentError
        If ``board`` or ``stream`` is given for a format that has no use for it, or
        ``montage`` does not fit the channels.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"recording {str(path)!r} not found")
    kind = _detect_format(path)
    if board is not None and kind != "brainflow":
        raise InvalidArgumentError(f"a board (--master-board) applies only to BrainFlow CSV "
                                   f"recordings, not to {str(path)!r}")
    if stream is not None and kind != "xdf":
        raise InvalidArgumentError(f"a stream (--stream) applies only to XDF recordings, "
                                   f"not to {str(path)!r}")
    if kind == "brainflow":
        if board is None:
            raise FileFormatError(
                f"{str(path)!r} is a BrainFlow CSV recording, which does not say which board "
                "recorded it; pass --master-board NAME_OR_ID (board= in Python), e.g. cyton")
        board = resolve_board(board)
    truncated = None
    try:
        if kind == "mne":
            truncated = declared_truncation(path)
            raw = _read_mne(path)
        elif kind == "xdf":
            raw, truncated = _read_xdf(path, stream)
        elif kind == "openbci":
            raw = _read_openbci(path)
        else:
            raw = _read_brainflow_csv(path, board)
    except FileFormatError:
        raise
    except RecursionError:
        # The last guards: the checks above bound what a header can ask for, but a reader
        # may still nest (pyxdf's XML) or allocate beyond what this machine holds.
        raise FileFormatError(f"{str(path)!r} has a header nested too deeply to read; "
                              "accepted: a header of ordinary depth") from None
    except MemoryError:
        raise FileFormatError(f"{str(path)!r} is too large to read into this machine's "
                              "memory; accepted: a recording that fits in memory") from None
    except Exception as err:  # readers of corrupt files raise anything: struct, Unicode, EOF...
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise FileFormatError(f"{str(path)!r} is unreadable, corrupt or truncated "
                              f"({_FORMAT_LABELS[kind]}): {reason}") from None
    if kind == "openbci":
        default = OPENBCI_DEFAULTS.get(raw.info["nchan"])
    else:
        default = openbci_default(board, raw.info["nchan"]) if kind == "brainflow" else None
    raw, identity = _identified(raw, path, montage, default)
    if truncated:
        warn_truncated(path, truncated)
    return Recording(raw, truncated, identity)


_FORMAT_LABELS = {"mne": "read with MNE", "xdf": "XDF", "openbci": "OpenBCI GUI text",
                  "brainflow": "BrainFlow CSV"}


def _detect_format(path: Path) -> str:
    """Return ``"mne"``, ``"xdf"``, ``"openbci"`` or ``"brainflow"`` for ``path``."""
    name = path.name.lower()
    # Longest first, so that ".cdt.dpa" wins over ".dpa" and ".fif.gz" over ".gz".
    suffix = max((s for s in ACCEPTED_SUFFIXES if name.endswith(s)), key=len, default=None)
    if suffix is None:
        raise FileFormatError(f"{str(path)!r} has an unsupported suffix; accepted: "
                              f"{', '.join(ACCEPTED_SUFFIXES)}")
    if suffix in XDF_SUFFIXES:
        return "xdf"
    if suffix in MNE_SUFFIXES:
        return "mne"
    try:
        with open(path, "rb") as file:
            first = file.readline(4096).strip()
    except OSError as err:
        raise FileFormatError(f"{str(path)!r} cannot be read: {err.strerror}") from None
    if first.startswith(b"%"):
        return "openbci"
    try:
        fields = [float(field) for field in first.split(b"\t")]
    except ValueError:
        fields = []
    if len(fields) < 2:
        raise FileFormatError(
            f"{str(path)!r} is neither a BrainFlow CSV recording (tab-separated numbers) nor "
            "OpenBCI GUI text ('%' header lines); accepted text formats: those two")
    return "brainflow"


def _read_mne(path: Path):
    import mne

    # The header first, checked before the samples it declares are allocated.
    raw = mne.io.read_raw(path, preload=False, verbose="error")
    check_sfreq(path, raw.info["sfreq"])
    check_n_channels(path, raw.info["nchan"])
    check_samples_fit(path, raw.n_times * raw.info["nchan"], bytes_on_disk(path))
    raw.load_data(verbose="error")
    return raw


def _read_xdf(path: Path, stream: str | None):
    import pyxdf

    with _pyxdf_errors() as errors:
        streams, _ = pyxdf.load_xdf(str(path))
    if errors:
        # pyxdf skips what it cannot parse; a partial replay would silently lose data.
        raise FileFormatError(f"{str(path)!r} is corrupt or truncated (XDF): {errors[0]}")
    eeg = _pick_xdf_stream(streams, stream, path)
    info = eeg["info"]
    name = _xml_text(info, "name")
    if _xml_text(info, "channel_format") == "string":
        raise FileFormatError(f"XDF stream {name!r} in {str(path)!r} holds text markers, not "
                              "EEG samples; pass --stream with the name of an EEG stream")
    sfreq = float(_xml_text(info, "nominal_srate") or 0)
    times = np.asarray(eeg["time_stamps"], dtype=float)
    if sfreq <= 0 or times.size == 0:
        raise FileFormatError(f"XDF stream {name!r} in {str(path)!r} has no regularly sampled "
                              f"data (nominal rate {sfreq:g} Hz, {times.size} samples)")
    check_sfreq(path, sfreq)
    check_n_channels(path, np.shape(eeg["time_series"])[1])
    labels, scales, keep, types = _xdf_channels(info, np.shape(eeg["time_series"])[1], path)
    if not keep:
        raise FileFormatError(f"XDF stream {name!r} in {str(path)!r} has no EEG channels "
                              "(every channel declares another type)")
    data = np.asarray(eeg["time_series"], dtype=float).T[keep] * scales[keep, None]
    marker_times, descriptions = [], []
    for other in streams:
        if other is not eeg and _xml_text(other["info"], "channel_format") == "string":
            marker_times.extend(other["time_stamps"])
            descriptions.extend("/".join(sample) for sample in other["time_series"])
    marker_times = np.asarray(marker_times, dtype=float)
    inside = (marker_times >= times[0]) & (marker_times <= times[-1])
    # A marker goes to the first EEG sample at or after it, so that dropouts in the EEG
    # stream do not shift the markers that follow them.
    onsets = np.searchsorted(times, marker_times[inside]) / sfreq
    descriptions = [text for text, keep_it in zip(descriptions, inside) if keep_it]
    # LabRecorder closes every stream with a footer; a file cut between chunks has none,
    # and pyxdf reads it without a word.
    truncated = None if eeg.get("footer") else {"declared_s": None, "actual_s": times.size / sfreq}
    raw = _raw_array(data, [labels[i] for i in keep], sfreq, onsets, descriptions)
    # The declared types, for the channel rules (an empty type is decided from the label).
    raw.set_channel_types(dict(zip(raw.ch_names, (t or "eeg" for t in types))),
                          on_unit_change="ignore", verbose="error")
    return raw, truncated


@contextlib.contextmanager
def _pyxdf_errors():
    """Collect pyxdf's logged errors instead of letting them reach stderr."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    pyxdf_logger = logging.getLogger("pyxdf")
    handler = Collect(logging.ERROR)
    propagate, pyxdf_logger.propagate = pyxdf_logger.propagate, False
    pyxdf_logger.addHandler(handler)
    try:
        yield messages
    finally:
        pyxdf_logger.removeHandler(handler)
        pyxdf_logger.propagate = propagate


def _pick_xdf_stream(streams: list[dict], wanted: str | None, path: Path) -> dict:
    """Return the stream named ``wanted``, or else the one stream of type EEG."""
    if wanted is None:
        matches = [s for s in streams if _xml_text(s["info"], "type").casefold() == "eeg"]
        missing = "no EEG stream"
    else:
        matches = [s for s in streams
                   if _xml_text(s["info"], "name").casefold() == wanted.casefold()]
        missing = f"no stream named {wanted!r}"
    if len(matches) == 1:
        return matches[0]
    found = ", ".join(f"{_xml_text(s['info'], 'name')!r} (type {_xml_text(s['info'], 'type')!r})"
                      for s in streams) or "none"
    problem = missing if not matches else f"{len(matches)} matching streams"
    raise FileFormatError(f"{str(path)!r} has {problem}; streams found: {found}; "
                          "choose one with --stream NAME")


def _xdf_channels(info: dict, n_channels: int, path: Path):
    """Return labels, scales to volts, and the indices and declared types of the channels kept.

    Kept: channels declaring no type or one of :data:`KEPT_TYPES`.
    """
    try:
        channels = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):  # no per-channel metadata in the header
        channels = []
    if len(channels) != n_channels:
        channels = [{}] * n_channels
    labels = channel_names([_xml_text(ch, "label") for ch in channels], n_channels,
                           origin=str(path))
    scales, keep, types = np.ones(n_channels), [], []
    for index, channel in enumerate(channels):
        # Declared types other than those a source keeps (accelerometers, markers) stay out.
        kind = _xml_text(channel, "type").strip().casefold()
        if kind not in ("", *KEPT_TYPES):
            continue
        keep.append(index)
        types.append(kind)
        unit = _xml_text(channel, "unit")
        if not is_known_unit(unit):
            logger.warning("%s: channel %s has unknown unit %r; read as microvolts",
                           path, labels[index], unit)
        scales[index] = volts_per_unit(unit)
    return labels, scales, keep, types


def _xml_text(node, key: str) -> str:
    """Return the text of pyxdf's parsed XML element ``key`` under ``node``, or ''."""
    try:
        value = node[key][0]
    except (KeyError, IndexError, TypeError):
        return ""
    return value if isinstance(value, str) else ""


def _read_openbci(path: Path):
    """Read OpenBCI GUI v5/v6 text: '%' header lines, a column header, EXG in µV."""
    n_header, sfreq, columns = 0, None, None
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            if not line.startswith("%"):
                columns = [name.strip() for name in line.split(",")]
                break
            n_header += 1
            match = _OPENBCI_RATE.match(line)
            if match:
                sfreq = check_sfreq(path, match.group(1))
    if sfreq is None or columns is None:
        raise FileFormatError(f"{str(path)!r} lacks the '%Sample Rate = N Hz' header or the "
                              "column header line of OpenBCI GUI v5/v6 text")
    exg = [(i, int(m.group(1))) for i, m in enumerate(map(_OPENBCI_EXG.match, columns)) if m]
    if not exg:
        raise FileFormatError(f"{str(path)!r} has no EEG channels: no 'EXG Channel N' column "
                              "in its OpenBCI column header")
    check_n_channels(path, len(exg))
    marker = columns.index("Marker Channel") if "Marker Channel" in columns else None
    usecols = [i for i, _ in exg] + ([marker] if marker is not None else [])
    with warnings.catch_warnings():  # "input contained no data": reported below as no samples
        warnings.simplefilter("ignore", UserWarning)
        table = np.loadtxt(path, delimiter=",", skiprows=n_header + 1, usecols=usecols,
                           ndmin=2, encoding="utf-8")
    data = table[:, :len(exg)].T * MICROVOLTS_TO_VOLTS
    names = [f"EXG{number + 1}" for _, number in exg]
    markers = table[:, -1] if marker is not None else np.zeros(0)
    return _raw_array(data, names, sfreq, *_marker_annotations(markers, sfreq))


def _read_brainflow_csv(path: Path, board_id: int):
    """Read ``DataFilter.write_file`` output: one row per sample, one column per board row."""
    from brainflow.data_filter import DataFilter

    DataFilter.disable_data_logger()
    layout = board_layout(board_id)
    if not layout.eeg_rows:
        raise FileFormatError(f"{str(path)!r}: board {layout.name!r} records no EEG channels; "
                              "pass the --master-board that recorded this file")
    table = DataFilter.read_file(str(path))
    if table.shape[0] != layout.num_rows:
        raise FileFormatError(
            f"{str(path)!r} has {table.shape[0]} columns per sample, but BrainFlow CSV from "
            f"board {layout.name!r} has {layout.num_rows}; check --master-board")
    names, sfreq = layout.ch_names, layout.sfreq
    data = table[list(layout.eeg_rows)] * MICROVOLTS_TO_VOLTS
    markers = table[layout.marker_row] if layout.marker_row is not None else np.zeros(0)
    return _raw_array(data, names, sfreq, *_marker_annotations(markers, sfreq))


def _marker_annotations(markers: np.ndarray, sfreq: float):
    """Return onsets in seconds and descriptions of a marker row's non-zero values."""
    where = np.flatnonzero(markers)
    return where / sfreq, [f"{value:g}" for value in markers[where]]


def _raw_array(data, ch_names, sfreq, onsets, descriptions):
    """Build a RawArray of EEG in volts, with instantaneous annotations at ``onsets`` (s)."""
    import mne

    raw = mne.io.RawArray(data, mne.create_info(list(ch_names), sfreq, "eeg"), verbose="error")
    if len(onsets):
        raw.set_annotations(mne.Annotations(onsets, 0.0, descriptions), verbose="error")
    return raw


def _identified(raw, path: Path, montage: str | None, default: str | None):
    """Name and type ``raw``'s channels, keep the :data:`KEPT_TYPES`, and check what is left.

    Returns ``(raw, identity)``; raises if no EEG channel or no sample is left.
    """
    identity = identify(raw.ch_names, raw.get_channel_types(), montage=montage, default=default)
    types = [ch.type for ch in identity.channels]
    if "eeg" not in types:
        found = ", ".join(f"{n} {t}" for t, n in Counter(types).items()) or "no channels"
        raise FileFormatError(f"{str(path)!r} has no EEG channels (found: {found}); "
                              "accepted: a recording with at least one EEG channel")
    if raw.n_times == 0:
        raise FileFormatError(f"{str(path)!r} has no samples; accepted: a recording with at "
                              "least one sample")
    kept = [i for i, kind in enumerate(types) if kind in KEPT_TYPES]
    raw.pick(kept, verbose="error")
    channels = [identity.channels[i] for i in kept]
    # Types first: MNE refuses some renames across types (a stim channel named like an EEG).
    raw.set_channel_types({raw.ch_names[i]: ch.type for i, ch in enumerate(channels)},
                          on_unit_change="ignore", verbose="error")
    raw.rename_channels({raw.ch_names[i]: ch.name for i, ch in enumerate(channels)},
                        verbose="error")
    return raw, identity._replace(channels=channels)
