"""--montage: names for channels without usable labels, and the OpenBCI defaults."""

from __future__ import annotations

import logging

import mne
import numpy as np
import pytest

from neurofeed.acquire import BrainFlowSource, FileSource
from neurofeed.acquire.montage import (
    BUILTIN_MONTAGES,
    NO_POSITIONS,
    OPENBCI_DEFAULTS,
    identify,
    parse_montage,
)
from neurofeed.errors import InvalidArgumentError

EXG = ["EXG1", "EXG2", "EXG3", "EXG4"]
OPENBCI = "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
CYTON_DEFAULT_HOW = "the OpenBCI GUI default for 8 channels; pass --montage to override"


def one_line_error(text, n_channels=4, labels=EXG) -> str:
    with pytest.raises(InvalidArgumentError) as excinfo:
        parse_montage(text, n_channels, labels)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("text, expected", [
    ("EXG1=Fp1,EXG2=fp2", ["Fp1", "Fp2", "EXG3", "EXG4"]),
    ("exg3 = OZ , EXG4=O2,", ["EXG1", "EXG2", "Oz", "O2"]),
    ("1=Fp1,2=Fp2,3=O1,4=O2", ["Fp1", "Fp2", "O1", "O2"]),
    ("4=T3", ["EXG1", "EXG2", "EXG3", "T7"]),
    ("openbci-ganglion", list(BUILTIN_MONTAGES["openbci-ganglion"])),
    ("OpenBCI-Ganglion", list(BUILTIN_MONTAGES["openbci-ganglion"])),
])
def test_maps_and_builtins(text, expected):
    assert parse_montage(text, 4, EXG) == expected


def test_builtin_openbci_defaults():
    # BrainFlow's descriptors name the Cyton and Cyton+Daisy channels in the same order.
    from brainflow.board_shim import BoardIds, BoardShim

    BoardShim.disable_board_logger()
    for board, montage in ((BoardIds.CYTON_BOARD, "openbci-cyton"),
                           (BoardIds.CYTON_DAISY_BOARD, "openbci-cyton-daisy")):
        names = BoardShim.get_board_descr(board)["eeg_names"].split(",")
        assert tuple(names) == BUILTIN_MONTAGES[montage]
    assert OPENBCI_DEFAULTS == {8: "openbci-cyton", 16: "openbci-cyton-daisy",
                                4: "openbci-ganglion"}


def test_names_file_and_bids_tsv(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("# my headband\nfp1\nFP2\n\nO1\nO2\n")
    assert parse_montage(str(names), 4, EXG) == ["Fp1", "Fp2", "O1", "O2"]
    electrodes = tmp_path / "sub-01_electrodes.tsv"
    electrodes.write_text("name\tx\ty\tz\nC3\t-0.05\t0\t0.08\nCz\t0\t0\t0.1\nC4\t0.05\t0\t0.08\n"
                          "Pz\t0\t-0.06\t0.08\n")
    assert parse_montage(str(electrodes), 4, EXG) == ["C3", "Cz", "C4", "Pz"]
    channels = tmp_path / "sub-01_channels.tsv"
    channels.write_text("name\ttype\tunits\nFz\tEEG\tuV\nCz\tEEG\tuV\nPz\tEEG\tuV\nECG\tECG\tuV\n")
    # A non-EEG row of channels.tsv keeps the channel's own name.
    assert parse_montage(str(channels), 4, EXG) == ["Fz", "Cz", "Pz", "EXG4"]
    identity = identify(EXG, montage=str(electrodes))
    assert identity.montage == {"name": "sub-01_electrodes.tsv", "how": "--montage"}
    short = tmp_path / "short.txt"
    short.write_text("Fz\nCz\n")
    assert one_line_error(str(short)) == (f"montage {str(short)!r} names 2 channels, but the "
                                          "source has 4 (EXG1, EXG2, EXG3, EXG4)")


def test_an_mne_standard_montage_checks_names_it_cannot_order():
    assert parse_montage("standard_1020", 3, ["Fz", "Cz", "Pz"]) == ["Fz", "Cz", "Pz"]
    message = one_line_error("standard_1020")
    assert "gives positions, not an order" in message and "EXG1" in message


@pytest.mark.parametrize("text, n_channels, fragments", [
    ("openbci-cyton", 4, ["'openbci-cyton' names 8 channels, but the source has 4"]),
    ("EXG1=Foo,EXG2=Fp2", 4, ["'Foo' not 10-05 site names", "Fp1, Fz, O1"]),
    ("EXG9=O1", 4, ["'EXG9' is not a channel", "positions 1 to 4"]),
    ("5=O1", 4, ["'5' is not a channel"]),
    ("EXG1=", 4, ["'EXG1=' names no site", "LABEL=NAME"]),
    ("1=O1,2=O1", 4, ["gives O1 to more than one channel"]),
    ("nonsense", 4, ["'nonsense' is neither a known name nor an existing file",
                     "openbci-cyton, openbci-cyton-daisy, openbci-ganglion", "electrodes.tsv",
                     "EXG1=Fp1,EXG2=Fp2"]),
    ("  ", 4, ["montage must be a name, a file or a map"]),
])
def test_bad_montages_are_one_line_errors(text, n_channels, fragments):
    message = one_line_error(text, n_channels, EXG[:n_channels])
    for fragment in fragments:
        assert fragment in message


def test_identify_says_when_nothing_gives_positions():
    unnamed = identify(["Ch1", "Ch2", "ECG"])
    assert unnamed.montage == {"name": None, "how": NO_POSITIONS}
    assert unnamed.warning == NO_POSITIONS
    named = identify(["EEG O1-REF", "Ch2"])
    assert named.montage == {"name": None, "how": "the channel labels"}
    assert named.warning is None
    # A default applies only where no channel has a position; a montage given always does.
    kept = identify(["O1", "X"], default="openbci-ganglion")
    assert [ch.name for ch in kept.channels] == ["O1", "X"] and kept.montage["name"] is None
    given = identify(["Ch1", "Ch2"], montage="1=O1,2=O2")
    assert [(ch.label, ch.name, ch.type) for ch in given.channels] == [("Ch1", "O1", "eeg"),
                                                                      ("Ch2", "O2", "eeg")]
    assert given.montage == {"name": "1=O1,2=O2", "how": "--montage"} and given.warning is None


def _write_fif(path, names):
    data = np.random.default_rng(0).normal(scale=10e-6, size=(len(names), 512))
    raw = mne.io.RawArray(data, mne.create_info(names, 256.0, "eeg"), verbose="error")
    raw.save(path, fmt="double", verbose="error")
    return path


def test_file_without_positions_warns_and_says_so(tmp_path, caplog):
    path = _write_fif(tmp_path / "unnamed_raw.fif", ["Ch1", "Ch2", "Ch3"])
    with caplog.at_level(logging.WARNING, logger="neurofeed.acquire"):
        source = FileSource(path, speed="max")
    assert source.description["montage"] == {"name": None, "how": NO_POSITIONS}
    assert f"{path}: {NO_POSITIONS}" in caplog.text
    named = FileSource(path, speed="max", montage="Ch1=O1,Ch3=O2")
    assert named.info.ch_names == ["O1", "Ch2", "O2"]
    assert named.description["channels"][2] == {"label": "Ch3", "name": "O2", "type": "eeg"}
    with pytest.raises(InvalidArgumentError, match="names 8 channels, but the source has 3"):
        FileSource(path, speed="max", montage="openbci-cyton")


def test_openbci_sample_gets_the_cyton_default(shared_eeg, caplog):
    with caplog.at_level(logging.WARNING, logger="neurofeed.acquire"):
        source = FileSource(shared_eeg / OPENBCI, speed="max")
    assert source.info.ch_names == list(BUILTIN_MONTAGES["openbci-cyton"])
    assert source.description["montage"] == {"name": "openbci-cyton", "how": CYTON_DEFAULT_HOW}
    assert [c["label"] for c in source.description["channels"]] == [f"EXG{i}" for i in range(1, 9)]
    assert f"channels named by montage openbci-cyton: {CYTON_DEFAULT_HOW}" in caplog.text
    override = FileSource(shared_eeg / OPENBCI, speed="max", montage="EXG7=O1,EXG8=O2")
    assert override.info.ch_names == [f"EXG{i}" for i in range(1, 7)] + ["O1", "O2"]
    assert override.description["montage"] == {"name": "EXG7=O1,EXG8=O2", "how": "--montage"}


@pytest.mark.parametrize("board, names, montage", [
    ("ganglion", list(BUILTIN_MONTAGES["openbci-ganglion"]), "openbci-ganglion"),
    ("cyton_wifi", list(BUILTIN_MONTAGES["openbci-cyton"]), "openbci-cyton"),
    ("cyton", list(BUILTIN_MONTAGES["openbci-cyton"]), None),
    ("synthetic", ["Fz", "C3", "Cz"], None),
])
def test_boards_name_their_channels(board, names, montage):
    # The constructor reads BrainFlow's board descriptor only: no hardware is touched.
    source = BrainFlowSource(board)
    assert source.info.ch_names[:len(names)] == names
    assert source.montage["name"] == montage
    assert source.description["channels"][0]["type"] == "eeg"


def test_board_montage_overrides_the_default():
    source = BrainFlowSource("ganglion", montage="1=O1,2=O2,3=P3,4=P4")
    assert source.info.ch_names == ["O1", "O2", "P3", "P4"]
    assert source.montage == {"name": "1=O1,2=O2,3=P3,4=P4", "how": "--montage"}


def test_brainflow_csv_from_a_ganglion_gets_its_default(tmp_path):
    from brainflow.board_shim import BoardIds, BoardShim
    from brainflow.data_filter import DataFilter

    descr = BoardShim.get_board_descr(BoardIds.GANGLION_BOARD)
    table = np.zeros((descr["num_rows"], 200))
    table[descr["eeg_channels"]] = np.random.default_rng(3).normal(scale=20, size=(4, 200))
    table[descr["timestamp_channel"]] = 1.7e9 + np.arange(200) / descr["sampling_rate"]
    path = tmp_path / "ganglion.csv"
    DataFilter.write_file(table, str(path), "w")
    source = FileSource(path, speed="max", board="ganglion")
    assert source.info.ch_names == list(BUILTIN_MONTAGES["openbci-ganglion"])
    assert source.description["montage"]["name"] == "openbci-ganglion"
