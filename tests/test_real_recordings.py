"""Real recordings made by others (../shared/data/eeg, see SOURCES.md there) load and replay."""

from __future__ import annotations

import numpy as np

from neurofeed.acquire import FileSource, read_recording

OPENBCI = "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"


def test_physionet_edf_loads_with_standard_names(shared_eeg):
    raw = read_recording(shared_eeg / "S001R01.edf")
    assert len(raw.ch_names) == 64 and raw.info["sfreq"] == 160.0
    assert raw.n_times == 9760  # 61 s
    assert raw.ch_names[:3] == ["FC5", "FC3", "FC1"]
    assert {"Fp1", "Fpz", "O1", "Oz", "O2", "Iz"} <= set(raw.ch_names)
    rms = np.sqrt(np.mean(raw.get_data() ** 2, axis=1))
    assert np.all((rms > 1e-6) & (rms < 2e-4))  # scalp EEG in volts, not microvolts
    assert list(raw.annotations.description) == ["T0"]


def test_physionet_edf_replays_every_sample(shared_eeg):
    path = shared_eeg / "S001R01.edf"
    expected = read_recording(path).get_data()
    with FileSource(path, speed="max", chunk_s=1.0) as source:
        chunks = [source.read()]
        while not source.finished:
            chunks.append(source.read())
        events = source.pop_events()
    np.testing.assert_array_equal(np.concatenate([c.data for c in chunks], axis=1), expected)
    # The file's one annotation: resting baseline from its first sample, 60.2 s long.
    assert events == [(chunks[0].timestamps[0], 60.2, "T0")]


def test_openbci_gui_recording_loads_in_volts(shared_eeg):
    raw = read_recording(shared_eeg / OPENBCI)
    # Its EXG1..EXG8 carry no positions: the OpenBCI GUI's Cyton default names them.
    assert raw.ch_names == ["Fp1", "Fp2", "C3", "C4", "P7", "P8", "O1", "O2"]
    assert raw.info["sfreq"] == 250.0
    assert raw.n_times == 22490  # 89.96 s
    # The first data row of the file, in microvolts.
    first_uv = [61379.36, 49492.89, -16597.06, -21309.75, 6703.91, -3284.86, 7223.10, 1740.11]
    np.testing.assert_allclose(raw.get_data()[:, 0], np.array(first_uv) * 1e-6, rtol=1e-12)
    assert len(raw.annotations) == 0  # its marker column is all zeros


def test_openbci_gui_recording_replays_from_an_offset(shared_eeg):
    with FileSource(shared_eeg / OPENBCI, speed="max", start_s=30.0) as source:
        first = source.read()
    assert first.data.shape == (8, 25)
    expected = read_recording(shared_eeg / OPENBCI).get_data()[:, 7500:7525]
    np.testing.assert_array_equal(first.data, expected)
