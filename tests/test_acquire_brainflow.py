"""BrainFlow source against BrainFlow's real synthetic and playback boards."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pylsl import local_clock

from neurofeed.acquire import BrainFlowSource, board_names, resolve_board
from neurofeed.errors import InvalidArgumentError, SourceError


def test_synthetic_board_streams_volts_with_increasing_timestamps():
    with BrainFlowSource("synthetic") as source:
        start = local_clock()
        time.sleep(2.0)
        chunk = source.read()
        now = local_clock()
    assert source.info["sfreq"] == 250
    assert source.info["ch_names"][:3] == ["Fz", "C3", "Cz"]
    assert chunk.data.shape[0] == 16
    assert 450 <= chunk.data.shape[1] <= 560
    assert chunk.data.dtype == np.float64
    # The synthetic board's channels are 10-160 µV sines: volts, not microvolts.
    rms = np.sqrt(np.mean(chunk.data ** 2, axis=1))
    assert np.all((rms > 1e-6) & (rms < 1e-3))
    assert np.all(np.diff(chunk.timestamps) > 0)
    assert start - 0.5 < chunk.timestamps[0] and chunk.timestamps[-1] <= now + 0.05
    assert source.n_samples == chunk.data.shape[1]
    assert not source.stalled


def test_reads_never_repeat_a_sample():
    with BrainFlowSource("synthetic") as source:
        stamps = []
        for _ in range(10):
            time.sleep(0.05)
            stamps.append(source.read().timestamps)
    joined = np.concatenate(stamps)
    assert joined.size > 100
    assert np.all(np.diff(joined) > 0)


@pytest.mark.parametrize("given, expected", [
    ("synthetic", -1), ("SYNTHETIC_BOARD", -1), (-1, -1), ("-1", -1),
    ("cyton", 0), ("muse_2", 38), ("playback_file", -3)])
def test_board_names_resolve(given, expected):
    assert resolve_board(given) == expected


def test_board_names_cover_brainflow():
    names = board_names()
    assert len(names) > 50
    assert {"synthetic", "cyton", "ganglion", "muse_2", "playback_file"} <= set(names)


def test_unknown_board_lists_close_matches():
    with pytest.raises(InvalidArgumentError, match=r"unknown board 'syntetic'; did you mean synthetic"):
        resolve_board("syntetic")
    with pytest.raises(InvalidArgumentError, match=r"board id 999 is not a BrainFlow board"):
        resolve_board(999)


def test_board_that_fails_to_prepare_names_port():
    source = BrainFlowSource("cyton", serial_port="/dev/ttyNEUROFEED0")
    with pytest.raises(SourceError, match=r"board 'Cyton' failed to prepare with serial port "
                                          r"'/dev/ttyNEUROFEED0' \(UNABLE_TO_OPEN_PORT_ERROR"):
        source.open()
    assert not source.is_open


def test_playback_file_board_replays_a_brainflow_recording(tmp_path):
    from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams
    from brainflow.data_filter import DataFilter

    BoardShim.disable_board_logger()
    board = BoardShim(BoardIds.SYNTHETIC_BOARD.value, BrainFlowInputParams())
    board.prepare_session()
    board.start_stream()
    time.sleep(1.0)
    recorded = board.get_board_data()
    board.stop_stream()
    board.release_session()
    del board
    path = tmp_path / "synthetic.csv"
    DataFilter.write_file(recorded, str(path), "w")

    with BrainFlowSource("playback_file", file=str(path), master_board="synthetic") as source:
        got = []
        deadline = time.monotonic() + 5
        while sum(c.shape[1] for c in got) < recorded.shape[1] // 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            got.append(source.read().data)
    data = np.concatenate(got, axis=1)
    eeg_rows = BoardShim.get_eeg_channels(BoardIds.SYNTHETIC_BOARD.value)
    assert source.info["ch_names"][0] == "Fz"
    # Playback delivers the file's own samples, converted to volts (the CSV stores 6 decimals).
    n = data.shape[1]
    start = _find_offset(recorded[eeg_rows[0]] * 1e-6, data[0])
    np.testing.assert_allclose(data, recorded[eeg_rows, start:start + n] * 1e-6, atol=1e-12)


def _find_offset(whole, part):
    """Index where ``part`` starts in ``whole`` (playback may skip the first samples)."""
    for start in range(whole.size - part.size + 1):
        if np.allclose(whole[start:start + 5], part[:5], atol=1e-12):
            return start
    raise AssertionError("played-back samples not found in the recording")


def test_playback_needs_master_board_and_file():
    with pytest.raises(InvalidArgumentError, match="master_board is required"):
        BrainFlowSource("playback_file", file="x.csv")
    with pytest.raises(InvalidArgumentError, match="file is required"):
        BrainFlowSource("playback_file", master_board="synthetic")
