"""EEG from any BrainFlow board, the synthetic board by default."""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pylsl import local_clock

from neurofeed.acquire.base import Source, channel_names
from neurofeed.acquire.montage import OPENBCI_DEFAULTS, identify
from neurofeed.acquire.units import MICROVOLTS_TO_VOLTS
from neurofeed.errors import InvalidArgumentError, SourceError

_MIN_TIMESTAMP_STEP_S = 1e-6
#: What BrainFlow's synthetic board sends, said in every description of it so that the status
#: line and the report never present its signal as a person's EEG.
SYNTHETIC_SIGNAL = "synthetic test signal (sines 5-80 Hz), not EEG"


def board_names() -> dict[str, int]:
    """Return BrainFlow's boards as ``{name: board_id}``.

    Names are BrainFlow's ``BoardIds`` in lower case without the ``_board`` suffix,
    e.g. ``synthetic``, ``cyton``, ``ganglion``, ``muse_2``, ``playback_file``.
    """
    from brainflow.board_shim import BoardIds

    names = {}
    for member in BoardIds:
        if member.name == "NO_BOARD":
            continue
        name = member.name.lower()
        names[name.removesuffix("_board")] = member.value
    return names


def resolve_board(board: str | int) -> int:
    """Return the BrainFlow board id for a board name or id.

    Parameters
    ----------
    board : str | int
        A name from :func:`board_names` (case-insensitive, ``_board`` suffix
        optional) or a numeric BrainFlow board id.
    """
    names = board_names()
    if isinstance(board, (int, np.integer)) or (isinstance(board, str) and board.lstrip("-").isdigit()):
        board_id = int(board)
        if board_id not in names.values():
            raise InvalidArgumentError(
                f"board id {board_id} is not a BrainFlow board; accepted ids: "
                f"{min(names.values())} to {max(names.values())} (see 'neurofeed devices')")
        return board_id
    if not isinstance(board, str):
        raise InvalidArgumentError(f"board must be a board name or id, got {board!r}")
    key = board.strip().lower().removesuffix("_board")
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, names, n=4, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InvalidArgumentError(
        f"unknown board {board!r}; {hint}run 'neurofeed devices' for all {len(names)} names")


@dataclass(frozen=True)
class BoardLayout:
    """Where a BrainFlow board puts its data, from BrainFlow's board descriptor.

    Attributes
    ----------
    name : str
        The board's name as BrainFlow gives it (e.g. ``"Cyton"``).
    sfreq : float
        Sampling rate in Hz.
    num_rows : int
        Rows of ``get_board_data()`` (columns of a BrainFlow CSV).
    eeg_rows : tuple of int
        The rows holding EEG, in microvolts.
    ch_names : tuple of str
        EEG channel names (BrainFlow's where it has them, else ``EEG001``...).
    timestamp_row : int
        The row of unix timestamps in seconds.
    marker_row : int or None
        The row of markers, where the board has one.
    """

    name: str
    sfreq: float
    num_rows: int
    eeg_rows: tuple[int, ...]
    ch_names: tuple[str, ...]
    timestamp_row: int
    marker_row: int | None


def board_layout(board_id: int) -> BoardLayout:
    """Return the :class:`BoardLayout` of a BrainFlow board id."""
    from brainflow.board_shim import BoardShim

    BoardShim.disable_board_logger()
    descr = BoardShim.get_board_descr(board_id)
    rows = tuple(descr.get("eeg_channels", ()))
    names = descr.get("eeg_names", "")
    labels = names.split(",") if names else [""] * len(rows)
    return BoardLayout(name=descr.get("name", str(board_id)), sfreq=float(descr["sampling_rate"]),
                       num_rows=int(descr["num_rows"]), eeg_rows=rows,
                       ch_names=tuple(channel_names(labels, len(rows), origin=f"board {board_id}")),
                       timestamp_row=int(descr["timestamp_channel"]),
                       marker_row=descr.get("marker_channel"))


def openbci_default(board_id: int, n_channels: int) -> str | None:
    """Return the built-in OpenBCI montage for an OpenBCI board's channels, else None.

    Parameters
    ----------
    board_id : int
        A BrainFlow board id; Cyton, Cyton+Daisy and Ganglion boards (over any link) have
        a default.
    n_channels : int
        Its number of EEG channels.
    """
    name = board_layout(board_id).name.lower()
    if not name.startswith(("cyton", "ganglion")):
        return None
    return OPENBCI_DEFAULTS.get(n_channels)


class BrainFlowSource(Source):
    """EEG channels of a BrainFlow board, in volts on the LSL clock.

    Parameters
    ----------
    board : str | int
        Board name (``"synthetic"``, ``"cyton"``, ``"ganglion"``, ``"muse_2"``, ...) or
        BrainFlow board id. See :func:`board_names`.
    serial_port, mac_address, ip_address, serial_number, other_info : str
        Passed through to ``BrainFlowInputParams``.
    ip_port : int
        Passed through to ``BrainFlowInputParams``.
    file : str
        The recording to play back, for ``board="playback_file"``.
    master_board : str | int | None
        The board that recorded ``file``, for ``board="playback_file"`` or
        ``"streaming"``.
    timeout_s : int
        Device discovery timeout in seconds, for boards that scan (BLE).
    montage : str | None
        Names for channels without usable labels (``--montage``): see
        :func:`~neurofeed.acquire.montage.parse_montage`. An OpenBCI board whose channels
        BrainFlow does not name gets the OpenBCI GUI default without it.
    stall_timeout_s : float
        Seconds without data before the source reports itself stalled.

    Notes
    -----
    Only the board's EEG rows are read; channel names are BrainFlow's (see
    :func:`board_layout`), standardised by :mod:`neurofeed.acquire.channels`.

    Timestamps are BrainFlow's host receive times (unix seconds) moved onto the LSL
    clock by the offset measured when the stream starts. Where a board stamps several
    samples alike, they are spread 1 µs apart so that timestamps strictly increase
    and no sample is dropped.
    """

    def __init__(self, board: str | int = "synthetic", *, serial_port: str = "",
                 mac_address: str = "", ip_address: str = "", ip_port: int = 0,
                 serial_number: str = "", other_info: str = "", file: str = "",
                 master_board: str | int | None = None, timeout_s: int = 0,
                 montage: str | None = None, stall_timeout_s: float = 2.0):
        super().__init__(stall_timeout_s=stall_timeout_s)
        from brainflow.board_shim import BrainFlowInputParams

        self.board_id = resolve_board(board)
        params = BrainFlowInputParams()
        params.serial_port = str(serial_port)
        params.mac_address = str(mac_address)
        params.ip_address = str(ip_address)
        params.ip_port = int(ip_port)
        params.serial_number = str(serial_number)
        params.other_info = str(other_info)
        params.file = str(file)
        params.timeout = int(timeout_s)
        if master_board is not None:
            params.master_board = resolve_board(master_board)
        if self.board_id in (board_names()["playback_file"], board_names()["streaming"]):
            if master_board is None:
                raise InvalidArgumentError(
                    "master_board is required for the playback_file and streaming boards: "
                    "the name or id of the board that recorded the data")
            if self.board_id == board_names()["playback_file"] and not params.file:
                raise InvalidArgumentError("file is required for the playback_file board: "
                                           "the path of a BrainFlow CSV recording")
        self._params = params
        recorder = params.master_board if master_board is not None else self.board_id
        layout = board_layout(recorder)
        self._eeg_rows = list(layout.eeg_rows)
        self._timestamp_row = layout.timestamp_row
        self._board_name = layout.name
        identity = identify(layout.ch_names, montage=montage,
                            default=openbci_default(recorder, len(layout.ch_names)))
        channels = self._identified(identity, f"board {layout.name!r}")

        import mne

        self._info = mne.create_info([ch.name for ch in channels], layout.sfreq,
                                     [ch.type for ch in channels])
        self._board = None
        self._clock_offset = 0.0

    @property
    def info(self):
        """mne.Info: the board's EEG channels and nominal sampling rate in Hz."""
        return self._info

    @property
    def description(self) -> dict:
        """dict: Board name, id and the input parameters in use, for session metadata.

        A playback file is named without its folder, which may name the person or the date.

        For BrainFlow's synthetic board (or a recording of it played back), ``signal`` is
        :data:`SYNTHETIC_SIGNAL`: what it sends is sines from 5 to 80 Hz, not EEG.
        """
        description = {
            "kind": "brainflow", "board": self._board_name, "board_id": self.board_id,
            "master_board": self._params.master_board, "serial_port": self._params.serial_port,
            "mac_address": self._params.mac_address, "ip_address": self._params.ip_address,
            "ip_port": self._params.ip_port, "file": Path(self._params.file).name,
            "sfreq": self.sfreq, "n_channels": self.n_channels, **self.channel_description()}
        if board_names()["synthetic"] in (self.board_id, self._params.master_board):
            description["signal"] = SYNTHETIC_SIGNAL
        return description

    def __repr__(self) -> str:
        return f"BrainFlowSource({self._board_name!r}, {self.n_channels} ch, {self.sfreq:g} Hz)"

    def _open(self) -> None:
        from brainflow.board_shim import BoardShim, BrainFlowError

        board = BoardShim(self.board_id, self._params)
        try:
            board.prepare_session()
            board.start_stream()
        except BrainFlowError as err:
            try:
                board.release_session()
            except BrainFlowError:
                pass
            raise SourceError(self._prepare_failure(err)) from None
        self._board = board
        self._clock_offset = local_clock() - time.time()

    def _prepare_failure(self, err) -> str:
        given = {k: v for k, v in (("serial port", self._params.serial_port),
                                   ("MAC address", self._params.mac_address),
                                   ("IP address", self._params.ip_address),
                                   ("file", self._params.file)) if v}
        where = ", ".join(f"{k} {v!r}" for k, v in given.items()) or "no connection parameters"
        reason = str(err).split(" unable")[0]
        return (f"board {self._board_name!r} failed to prepare with {where} ({reason}); "
                "check that it is connected and pass --serial-port, --mac-address, "
                "--ip-address/--ip-port or --board-file as the board needs")

    def _close(self) -> None:
        from brainflow.board_shim import BrainFlowError

        board, self._board = self._board, None
        if board is None:
            return
        try:
            board.stop_stream()
        except BrainFlowError:
            pass
        try:
            board.release_session()
        except BrainFlowError:
            pass
        del board  # a BoardShim alive at interpreter exit can print a traceback

    def _pull(self):
        raw = self._board.get_board_data()
        data = raw[self._eeg_rows] * MICROVOLTS_TO_VOLTS
        timestamps = raw[self._timestamp_row] + self._clock_offset
        if timestamps.size and not (timestamps[0] > self._last_timestamp
                                    and np.all(np.diff(timestamps) > 0)):
            timestamps = _strictly_increasing(timestamps, self._last_timestamp)
        return data, timestamps


def _strictly_increasing(timestamps: np.ndarray, previous: float) -> np.ndarray:
    """Raise each timestamp to at least 1 µs after the one before it."""
    steps = np.arange(1, timestamps.size + 1) * _MIN_TIMESTAMP_STEP_S
    start = previous if np.isfinite(previous) else -np.inf
    floor = np.maximum.accumulate(np.concatenate(([start], timestamps - steps)))[1:]
    return floor + steps
