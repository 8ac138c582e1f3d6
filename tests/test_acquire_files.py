"""File replay: every format written by its real writer, read back through FileSource."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _files_xdf import XdfStream, write_xdf
from pylsl import local_clock

from neurofeed.acquire import FileSource, read_recording
from neurofeed.acquire.files import MNE_SUFFIXES
from neurofeed.errors import FileFormatError, InvalidArgumentError

NAMES = ["Fz", "Cz", "Pz", "Oz"]
SFREQ = 256.0


def known_raw(sfreq=SFREQ, seconds=8.0, names=NAMES, first_samp=0,
              annotations=([1.0, 3.5], [0.0, 2.0], ["blink", "T1"])):
    """Sines plus noise of about 20 µV, by default with a blink and a 2 s annotation."""
    n = round(seconds * sfreq)
    t = np.arange(n) / sfreq
    rng = np.random.default_rng(7)
    freqs = np.arange(len(names))[:, None] * 3.0 + 6.0
    data = 20e-6 * np.sin(2 * np.pi * freqs * t) + rng.normal(scale=5e-6, size=(len(names), n))
    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, "eeg"),
                          first_samp=first_samp, verbose="error")
    raw.set_annotations(mne.Annotations(*annotations))
    return raw


def replay_all(source, limit=10**7):
    """Read a source at speed "max" until it finishes; return data, timestamps, sizes, events."""
    chunks, stamps, sizes = [], [], []
    with source:
        while not source.finished and sum(sizes) < limit:
            chunk = source.read()
            chunks.append(np.array(chunk.data))
            stamps.append(chunk.timestamps)
            sizes.append(chunk.timestamps.size)
        events = source.pop_events()
    return np.concatenate(chunks, axis=1), np.concatenate(stamps), sizes, events


def assert_live_timestamps(timestamps, sfreq):
    assert np.all(np.diff(timestamps) > 0)
    np.testing.assert_allclose(np.diff(timestamps), 1 / sfreq, rtol=0, atol=1e-9)


def write(raw, path):
    if path.suffix == ".fif":
        raw.save(path, fmt="double", verbose="error")
    else:
        raw.export(path, verbose="error")
    return path


# Absolute tolerance in volts per format: FIF doubles are exact; EDF stores 16-bit
# integers over each channel's range; BrainVision and EEGLAB store float32.
@pytest.mark.parametrize("suffix, tolerance", [
    ("_raw.fif", lambda data: 0.0),
    (".edf", lambda data: np.ptp(data, axis=1, keepdims=True) / 65535),
    (".vhdr", lambda data: 1e-7 * np.abs(data).max()),
    (".set", lambda data: 1e-7 * np.abs(data).max()),
])
def test_replay_at_max_returns_the_file_data(tmp_path, suffix, tolerance):
    raw = known_raw()
    path = write(raw, tmp_path / f"known{suffix}")
    source = FileSource(path, speed="max")
    assert source.info.ch_names == NAMES and source.sfreq == SFREQ
    assert source.duration_s == 8.0
    data, timestamps, sizes, events = replay_all(source)
    expected = raw.get_data()
    assert data.shape == expected.shape
    assert np.all(np.abs(data - expected) <= tolerance(expected))
    assert_live_timestamps(timestamps, SFREQ)
    assert sizes[:-1] == [round(0.1 * SFREQ)] * (len(sizes) - 1)
    prefix = "Comment/" if suffix == ".vhdr" else ""
    assert [e.description for e in events] == [f"{prefix}blink", f"{prefix}T1"]
    assert [e.onset for e in events] == [timestamps[256], timestamps[896]]
    assert [e.duration for e in events] == pytest.approx([0.0, 2.0], abs=1 / SFREQ)
    assert source.finished and source.n_samples == expected.shape[1]


def test_replay_hands_out_read_only_views(tmp_path):
    path = write(known_raw(), tmp_path / "view_raw.fif")
    with FileSource(path, speed="max") as source:
        chunk = source.read()
        assert not chunk.data.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            chunk.data[0, 0] = 1.0


def test_fif_keeps_eeg_and_eog_drops_stim_and_places_annotations_after_first_samp(tmp_path):
    eeg = known_raw(first_samp=1000)
    other = mne.io.RawArray(np.ones((2, eeg.n_times)),
                            mne.create_info(["EOG1", "STI"], SFREQ, ["eog", "stim"]),
                            first_samp=1000, verbose="error")
    raw = eeg.copy().add_channels([other])
    raw.set_meas_date(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    raw.set_annotations(mne.Annotations([2.0], [0.5], ["go"]))  # relative to the first sample
    path = write(raw, tmp_path / "mixed_raw.fif")
    source = FileSource(path, speed="max")
    assert source.info.get_channel_types() == ["eeg"] * 4 + ["eog"]
    data, timestamps, _, events = replay_all(source)
    np.testing.assert_array_equal(data, raw.get_data()[:5])
    assert events == [(timestamps[512], 0.5, "go")]


def test_loop_repeats_from_start_s_with_increasing_timestamps(tmp_path):
    raw = known_raw(sfreq=100.0, seconds=3.0,
                    annotations=([0.5, 2.0], [0.0, 0.0], ["before start", "b"]))
    path = write(raw, tmp_path / "loop_raw.fif")
    source = FileSource(path, speed="max", loop=True, start_s=1.0, chunk_s=0.07)
    data, timestamps, sizes, events = replay_all(source, limit=490)
    segment = raw.get_data()[:, 100:]
    np.testing.assert_array_equal(data, np.concatenate([segment, segment, segment], 1)[:, :490])
    assert_live_timestamps(timestamps, 100.0)
    assert set(sizes) == {7} and not source.finished
    assert [(e.onset, e.description) for e in events] == [(timestamps[100], "b"),
                                                         (timestamps[300], "b")]


def test_start_offset_without_loop_finishes_at_the_end(tmp_path):
    raw = known_raw(sfreq=100.0, seconds=3.0, annotations=([1.0], [0.0], ["before start"]))
    path = write(raw, tmp_path / "offset_raw.fif")
    source = FileSource(path, speed="max", start_s=2.5)
    data, _timestamps, sizes, events = replay_all(source)
    np.testing.assert_array_equal(data, raw.get_data()[:, 250:])
    assert sizes == [10, 10, 10, 10, 10] and events == []
    with source:
        assert source.read().timestamps.size == 10  # reopening starts the replay again


def test_reopened_replay_keeps_timestamps_increasing(tmp_path):
    path = write(known_raw(seconds=1.0, annotations=([], [], [])), tmp_path / "again_raw.fif")
    source = FileSource(path, speed="max")
    _, first, _, _ = replay_all(source)
    _, second, _, _ = replay_all(source)
    assert second[0] > first[-1] and source.n_dropped == 0
    assert source.n_samples == 2 * SFREQ


def test_description_and_repr(tmp_path):
    path = write(known_raw(), tmp_path / "describe_raw.fif")
    source = FileSource(path, speed=4, loop=True, start_s=1.5)
    assert source.description == {
        "kind": "file", "file": "describe_raw.fif", "speed": 4.0, "loop": True,
        "start_s": 1.5, "board": None, "stream": None, "duration_s": 8.0, "sfreq": SFREQ,
        "n_channels": 4,
        "channels": [{"label": name, "name": name, "type": "eeg"} for name in NAMES],
        "montage": {"name": None, "how": "the channel labels"}}
    assert repr(source) == "FileSource('describe_raw.fif', 4 ch, 256 Hz, speed 4x)"


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_realtime_read_returns_exactly_the_due_samples(tmp_path, speed):
    raw = known_raw(sfreq=200.0, seconds=10.0)
    path = write(raw, tmp_path / "rt_raw.fif")
    chunks, total = [], 0
    with FileSource(path, speed=speed) as source:
        deadline = local_clock() + 0.6
        while local_clock() < deadline:
            before = local_clock()
            chunk = source.read()
            after = local_clock()
            if total == 0:  # sample 0 is due at once: its timestamp is t0
                t0 = chunk.timestamps[0]
            total += chunk.timestamps.size
            chunks.append(np.array(chunk.data))
            # Sample k is due k / (speed * sfreq) seconds after t0.
            assert math.floor((before - t0) * speed * 200) + 1 <= total
            assert total <= math.floor((after - t0) * speed * 200) + 1
            if speed == 1.0 and chunk.timestamps.size:
                assert chunk.timestamps[-1] <= after
            time.sleep(0.03)
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), raw.get_data()[:, :total])


def test_4x_replay_takes_about_a_quarter_of_real_time(tmp_path):
    raw = known_raw(sfreq=100.0, seconds=4.0, annotations=([], [], []))
    path = write(raw, tmp_path / "fast_raw.fif")
    chunks = []
    with FileSource(path, speed=4) as source:
        start = time.perf_counter()
        while not source.finished:
            chunks.append(np.array(source.read().data))
            time.sleep(0.005)
        wall = time.perf_counter() - start
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), raw.get_data())
    # Never ahead of its pace (the last sample is due 399 / 400 s after the start); well short
    # of the 4 s that 1x would take, with room for a loaded machine.
    assert 0.9 <= wall < 3.0, wall


def test_finished_replay_is_not_stalled(tmp_path):
    path = write(known_raw(seconds=1.0, annotations=([], [], [])), tmp_path / "end_raw.fif")
    source = FileSource(path, speed="max", stall_timeout_s=0.05)
    with source:
        while not source.finished:
            source.read()
        time.sleep(0.1)
        chunk = source.read()
        assert chunk.data.shape == (4, 0) and chunk.timestamps.size == 0
        assert not source.stalled and source.gaps == []


# -- XDF, BrainFlow CSV, OpenBCI GUI text ---------------------------------------------


def eeg_stream(n=500, sfreq=250.0, t_start=1000.0, name="Amp", channels=None, seed=1):
    samples = np.random.default_rng(seed).normal(scale=20, size=(n, 5)).astype(np.float32)
    if channels is None:
        channels = [dict(label="Fz", unit="microvolts", type="EEG"),
                    dict(label="Cz", unit="\u00b5V", type="EEG"),
                    dict(label="Pz", unit="mV", type="EEG"),
                    dict(label="Oz", type="EEG"),
                    dict(label="AccX", unit="g", type="ACC")]
    return XdfStream(name, "EEG", sfreq, "float32", t_start + np.arange(n) / sfreq, samples,
                     channels)


def marker_stream(times, texts, name="Markers"):
    return XdfStream(name, "Markers", 0, "string", np.asarray(times, dtype=float),
                     [[text] for text in texts])


def test_xdf_replay_scales_units_and_turns_markers_into_events(tmp_path):
    eeg = eeg_stream()
    markers = marker_stream([999.0, 1000.4, 1001.0, 1003.0], ["early", "go", "stop", "late"])
    path = write_xdf(tmp_path / "session.xdf", [markers, eeg])
    source = FileSource(path, speed="max")
    assert source.info.ch_names == ["Fz", "Cz", "Pz", "Oz"] and source.sfreq == 250.0
    data, timestamps, _, events = replay_all(source)
    expected = eeg.samples[:, :4].T.astype(float) * np.array([[1e-6], [1e-6], [1e-3], [1e-6]])
    np.testing.assert_allclose(data, expected, rtol=1e-12)
    assert_live_timestamps(timestamps, 250.0)
    # Markers outside the EEG stream are dropped; the others land on their sample.
    assert [(e.onset, e.description) for e in events] == [(timestamps[100], "go"),
                                                         (timestamps[250], "stop")]


def test_xdf_without_channel_metadata_is_microvolts_with_numbered_names(tmp_path):
    eeg = eeg_stream(channels=[])
    path = write_xdf(tmp_path / "bare.xdf", [eeg])
    raw = read_recording(path)
    assert raw.ch_names == ["EEG001", "EEG002", "EEG003", "EEG004", "EEG005"]
    np.testing.assert_allclose(raw.get_data(), eeg.samples.T.astype(float) * 1e-6, rtol=1e-12)


def test_xdf_stream_is_chosen_by_name(tmp_path):
    first, second = eeg_stream(name="Left", seed=2), eeg_stream(name="Right", seed=3)
    path = write_xdf(tmp_path / "two.xdf", [first, second])
    raw = read_recording(path, stream="right")
    np.testing.assert_allclose(raw.get_data()[0], second.samples[:, 0].astype(float) * 1e-6,
                               rtol=1e-12)
    with pytest.raises(FileFormatError, match="2 matching streams; streams found: 'Left' "
                                              r"\(type 'EEG'\), 'Right' \(type 'EEG'\)"):
        read_recording(path)


def synthetic_board_recording(seconds=1.0):
    """Record from BrainFlow's synthetic board, with one marker, and return its table."""
    from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams

    BoardShim.disable_board_logger()
    board = BoardShim(BoardIds.SYNTHETIC_BOARD, BrainFlowInputParams())
    board.prepare_session()
    try:
        board.start_stream()
        time.sleep(seconds / 2)
        board.insert_marker(7)
        time.sleep(seconds / 2)
        board.stop_stream()
        table = board.get_board_data()
    finally:
        board.release_session()
        del board
    return table


def test_brainflow_csv_replay(tmp_path):
    from brainflow.board_shim import BoardShim
    from brainflow.data_filter import DataFilter

    table = synthetic_board_recording()
    path = tmp_path / "synthetic.csv"
    DataFilter.write_file(table, str(path), "w")
    descr = BoardShim.get_board_descr(-1)
    source = FileSource(path, speed="max", board="synthetic")
    assert source.info.ch_names == descr["eeg_names"].split(",")
    assert source.sfreq == 250.0
    data, timestamps, _, events = replay_all(source)
    # write_file keeps six decimals of microvolts.
    np.testing.assert_allclose(data, table[descr["eeg_channels"]] * 1e-6, rtol=0, atol=1e-12)
    marker_at = int(np.flatnonzero(table[descr["marker_channel"]])[0])
    assert [(e.onset, e.description) for e in events] == [(timestamps[marker_at], "7")]


OPENBCI_HEADER = """%OpenBCI Raw EXG Data
%Number of channels = 4
%Sample Rate = 200 Hz
%Board = OpenBCI_GUI$BoardGanglionBLE
Sample Index, EXG Channel 0, EXG Channel 1, EXG Channel 2, EXG Channel 3, Accel Channel 0, \
Accel Channel 1, Accel Channel 2, Timestamp, Marker Channel, Timestamp (Formatted)
"""


def write_openbci(path, values_uv, markers):
    rows = [f"{i % 256}, " + ", ".join(f"{v:.2f}" for v in sample)
            + f", 0.0, 0.0, 0.0, {1557936053329 + 5 * i}, {marker:g}, 12:00:53.329"
            for i, (sample, marker) in enumerate(zip(values_uv.T, markers))]
    path.write_text(OPENBCI_HEADER + "\n".join(rows) + "\n")
    return path


def test_openbci_gui_text_replay(tmp_path):
    values = np.round(np.random.default_rng(4).normal(scale=3000, size=(4, 400)), 2)
    markers = np.zeros(400)
    markers[150] = 2
    path = write_openbci(tmp_path / "OpenBCI-RAW-2024.txt", values, markers)
    source = FileSource(path, speed="max")
    # Unnamed OpenBCI channels get the OpenBCI GUI default for a 4-channel (Ganglion) board.
    assert source.info.ch_names == ["Fp1", "Fp2", "C3", "C4"] and source.sfreq == 200.0
    assert [ch.label for ch in source.channel_map] == ["EXG1", "EXG2", "EXG3", "EXG4"]
    assert source.montage["name"] == "openbci-ganglion"
    data, timestamps, _, events = replay_all(source)
    np.testing.assert_allclose(data, values * 1e-6, rtol=1e-15)
    assert [(e.onset, e.description) for e in events] == [(timestamps[150], "2")]


def test_physionet_style_labels_are_standardised(tmp_path):
    raw = known_raw(names=["Fc5.", "Fpz.", "Oz..", "Iz.."], annotations=([], [], []))
    path = write(raw, tmp_path / "physionet.edf")
    assert read_recording(path).ch_names == ["FC5", "Fpz", "Oz", "Iz"]


def test_truncated_edf_loads_its_complete_records_with_a_warning(tmp_path, caplog):
    raw = known_raw()
    path = write(raw, tmp_path / "crashed.edf")
    path.write_bytes(path.read_bytes()[:-3000])
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        source = FileSource(path, speed="max")
    held = source.duration_s
    assert 0 < held < 8.0 and held == int(held)  # whole records of 1 s
    assert source.description["truncated"] == {"declared_s": 8.0, "actual_s": held}
    assert (f"crashed.edf is truncated: its header declares 8.000 s, the file holds "
            f"{held:.3f} s" in caplog.text)
    loaded = read_recording(path)
    np.testing.assert_allclose(loaded.get_data(), raw.get_data()[:, :loaded.n_times],
                               atol=np.ptp(raw.get_data()) / 65535)


def test_accepted_suffixes_cover_every_mne_reader():
    from mne.io._read_raw import _get_supported  # private: a tripwire for new MNE formats

    assert set(MNE_SUFFIXES) == set(_get_supported()) - {".txt"}


# -- bad input ------------------------------------------------------------------------


def _no_eeg(tmp_path):
    raw = mne.io.RawArray(np.zeros((3, 100)), mne.create_info(["M1", "M2", "STI"], 100.0,
                                                              ["misc", "misc", "stim"]),
                          verbose="error")
    return write(raw, tmp_path / "noeeg_raw.fif")


def _garbage(name):
    def make(tmp_path):
        path = tmp_path / name
        path.write_bytes(np.random.default_rng(0).bytes(5000))
        return path
    return make


def _truncated(make, keep):
    def truncate(tmp_path):
        path = make(tmp_path)
        path.write_bytes(path.read_bytes()[:keep(path.stat().st_size)])
        return path
    return truncate


def _text(name, text):
    def make(tmp_path):
        path = tmp_path / name
        path.write_text(text)
        return path
    return make


def _fif(tmp_path):
    return write(known_raw(), tmp_path / "short_raw.fif")


def _xdf(tmp_path, streams=None):
    streams = streams or [eeg_stream(), marker_stream([1000.2], ["go"])]
    return write_xdf(tmp_path / "rec.xdf", streams)


def _brainflow_cyton_csv(tmp_path):
    from brainflow.data_filter import DataFilter

    path = tmp_path / "cyton.csv"
    DataFilter.write_file(np.zeros((24, 50)), str(path), "w")
    return path


def _openbci_rows(rows):
    return _text("openbci.txt", OPENBCI_HEADER + rows)


BAD_FILES = {
    "missing": (lambda tmp_path: tmp_path / "absent.edf", {},
                ["recording", "absent.edf' not found"]),
    "suffix": (_text("notes.wav", "RIFF"), {},
               ["notes.wav' has an unsupported suffix; accepted: .fif, .fif.gz, .edf",
                ".xdf, .xdfz, .csv, .txt"]),
    "garbage edf": (_garbage("noise.edf"), {},
                    ["noise.edf' is unreadable, corrupt or truncated (EDF/BDF header): its "]),
    "garbage fif": (_garbage("noise_raw.fif"), {}, ["noise_raw.fif' is unreadable"]),
    "garbage set": (_garbage("noise.set"), {}, ["noise.set' is unreadable"]),
    "truncated fif": (_truncated(_fif, lambda size: size // 2), {},
                      ["short_raw.fif' is unreadable, corrupt or truncated"]),
    "no eeg": (_no_eeg, {}, ["noeeg_raw.fif' has no EEG channels (found: 2 misc, 1 stim)"]),
    "csv without board": (_brainflow_cyton_csv, {},
                          ["cyton.csv' is a BrainFlow CSV recording", "--master-board"]),
    "csv of another board": (_brainflow_cyton_csv, {"board": "synthetic"},
                             ["cyton.csv' has 24 columns per sample",
                              "board 'Synthetic' has 32; check --master-board"]),
    "unknown text": (_text("table.csv", "time,Fz\n0,1\n"), {},
                     ["table.csv' is neither a BrainFlow CSV", "nor OpenBCI GUI text"]),
    "openbci truncated row": (_openbci_rows("0, 1.0, 2.0, 3.0, 4.0, 0, 0, 0, 1, 0, x\n1, 1.0, 2"),
                              {}, ["openbci.txt' is unreadable, corrupt or truncated "
                                   "(OpenBCI GUI text)"]),
    "openbci no rate": (_text("norate.txt", "%OpenBCI Raw EXG Data\nSample Index, EXG Channel 0\n"),
                        {}, ["norate.txt' lacks the '%Sample Rate = N Hz' header"]),
    "openbci empty": (_openbci_rows(""), {}, ["openbci.txt' has no samples"]),
    "xdf bad magic": (_text("fake.xdf", "not an xdf file"), {},
                      ["fake.xdf' is unreadable, corrupt or truncated (XDF): Invalid XDF file"]),
    "xdf truncated": (_truncated(_xdf, lambda size: size - 3000), {},
                      ["rec.xdf' is corrupt or truncated (XDF)"]),
    "xdf no eeg stream": (lambda tmp_path: _xdf(tmp_path, [marker_stream([1.0], ["go"])]), {},
                          ["rec.xdf' has no EEG stream; streams found: 'Markers' (type "
                           "'Markers'); choose one with --stream NAME"]),
    "xdf unknown stream": (_xdf, {"stream": "EEG-2"},
                           ["rec.xdf' has no stream named 'EEG-2'; streams found: 'Amp' "
                            "(type 'EEG'), 'Markers' (type 'Markers')"]),
    "xdf marker stream": (_xdf, {"stream": "Markers"},
                          ["XDF stream 'Markers' in", "holds text markers, not EEG samples"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_raise_one_line_file_format_errors(tmp_path, case):
    make, kwargs, fragments = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(FileFormatError) as caught:
        FileSource(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("kwargs, fragments", [
    ({"board": "cyton"}, ["a board (--master-board) applies only to BrainFlow CSV"]),
    ({"stream": "EEG"}, ["a stream (--stream) applies only to XDF"]),
    ({"speed": 0}, ["speed must be in (0, inf] (or 'max'), got 0"]),
    ({"speed": "fast"}, ["speed must be a number", "got 'fast'"]),
    ({"start_s": 8.0}, ["start_s must be in [0, 8) s, got 8.0"]),
    ({"start_s": -1}, ["start_s must be in [0, 8) s"]),
    ({"chunk_s": 0}, ["chunk_s must be in (0, 3600] s"]),
])
def test_bad_arguments(tmp_path, kwargs, fragments):
    path = write(known_raw(), tmp_path / "args_raw.fif")
    with pytest.raises(InvalidArgumentError) as caught:
        FileSource(path, **kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("case", ["missing", "suffix", "garbage edf", "no eeg",
                                  "csv without board", "openbci truncated row", "xdf truncated",
                                  "xdf no eeg stream"])
def test_cli_record_reports_bad_files_on_one_line(tmp_path, case):
    make, kwargs, fragments = BAD_FILES[case]
    extra = ["--stream", kwargs["stream"]] if "stream" in kwargs else []
    result = run_cli("record", "--file", str(make(tmp_path)), *extra, "--duration", "1",
                     "--out", str(tmp_path / "out.fif"),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "out.fif").exists()


def test_cli_record_replays_a_file(tmp_path):
    raw = known_raw()
    path = write(raw, tmp_path / "in_raw.fif")
    out = tmp_path / "out_raw.fif"
    result = run_cli("record", "--file", str(path), "--speed", "max", "--start", "0.5",
                     "--duration", "2", "--out", str(out),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    copy = mne.io.read_raw_fif(out, preload=True, verbose="error")
    # `record` writes FIF in single precision.
    np.testing.assert_allclose(copy.get_data(), raw.get_data()[:, 128:640], rtol=1e-7)
    assert list(copy.annotations.description) == ["blink"]
    assert copy.annotations.onset[0] == pytest.approx(0.5, abs=1 / SFREQ)
