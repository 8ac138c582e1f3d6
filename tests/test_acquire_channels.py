"""Channel identity on real recordings relabelled as clinical exports, and on an LSL stream."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid

import mne
import numpy as np
import pytest
from scipy.signal import welch

from neurofeed.acquire import FileSource, LSLSource, read_recording

RECORDINGS = ["S001R01.edf", "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"]
_OLD = {"T7": "T3", "T8": "T4", "P7": "T5", "P8": "T6"}
#: How clinical exports label a site; the first also uses the old 10-20 names.
CONVENTIONS = {
    "EEG X-REF": lambda name: f"EEG {_OLD.get(name, name)}-REF",
    "EEG X-LE": lambda name: f"EEG {name}-LE",
    "X-A1": lambda name: f"{name.upper()}-A1",
}
ECG_LABEL, REFERENCE_LABEL = "ECG ECG", "EEG A2-A1"


def qrs_like(n_times: int, sfreq: float) -> np.ndarray:
    """A 1 mV QRS-like spike train at 72 beats per minute, in volts."""
    t = np.arange(n_times) / sfreq
    beats = np.arange(0.3, t[-1], 60 / 72)
    spikes = np.exp(-0.5 * ((t[:, None] - beats[None, :]) / 0.012) ** 2).sum(axis=1)
    return 1e-3 * spikes


def alpha_power(data: np.ndarray, sfreq: float) -> np.ndarray:
    freqs, psd = welch(data, fs=sfreq, nperseg=int(2 * sfreq))
    return psd[:, (freqs >= 8) & (freqs <= 12)].sum(axis=1)


def relabelled_copy(original, convention: str):
    """The original's EEG with clinical labels, plus an ECG and an A2-A1 channel, all EEG-typed."""
    data = original.get_data()
    sfreq = original.info["sfreq"]
    ecg = qrs_like(original.n_times, sfreq)
    reference = np.random.default_rng(5).normal(scale=2e-6, size=original.n_times)
    labels = [CONVENTIONS[convention](name) for name in original.ch_names]
    info = mne.create_info([*labels, ECG_LABEL, REFERENCE_LABEL], sfreq, "eeg")  # a naive export
    return mne.io.RawArray(np.vstack([data, ecg, reference]), info, verbose="error")


@pytest.fixture
def originals(shared_eeg):
    """The real recordings as read, correctly labelled (S001R01) or named by default (OpenBCI)."""
    return {name: read_recording(shared_eeg / name) for name in RECORDINGS}


def test_the_ecg_outweighs_the_eeg_in_alpha(originals):
    original = originals["S001R01.edf"]
    sfreq = original.info["sfreq"]
    ecg = alpha_power(qrs_like(original.n_times, sfreq)[None], sfreq)[0]
    assert ecg > 20 * np.median(alpha_power(original.get_data(), sfreq))


@pytest.mark.parametrize("recording", RECORDINGS)
@pytest.mark.parametrize("convention, suffix", [(convention, "_raw.fif") for convention in CONVENTIONS]
                         + [("EEG X-REF", ".edf")])
def test_relabelled_copies_give_the_original_channels(tmp_path, originals, recording,
                                                      convention, suffix):
    original = originals[recording]
    copy = relabelled_copy(original, convention)
    path = tmp_path / f"copy{suffix}"
    if suffix == ".edf":
        copy.export(path, verbose="error")
    else:
        copy.save(path, fmt="double", verbose="error")
    source = FileSource(path, speed="max")
    n_eeg = len(original.ch_names)
    assert source.info.ch_names == [*original.ch_names, ECG_LABEL, "A2-A1"]
    assert source.info.get_channel_types() == ["eeg"] * n_eeg + ["ecg", "misc"]
    assert source.description["channels"][0] == {"label": copy.ch_names[0],
                                                 "name": original.ch_names[0], "type": "eeg"}
    assert source.description["montage"] == {"name": None, "how": "the channel labels"}
    data, expected = read_recording(path).get_data(), copy.get_data()
    if suffix == ".edf":
        # 16-bit integers over one physical range (MNE exports one per channel type, and the
        # copy types all EEG), in whole records of 1 s.
        step = np.ptp(expected) / 65535
        assert np.abs(data[:, :copy.n_times] - expected).max() <= step
    else:
        np.testing.assert_array_equal(data, expected)


def test_duplicate_names_keep_their_labels(tmp_path, caplog):
    data = np.random.default_rng(1).normal(scale=1e-5, size=(3, 256))
    raw = mne.io.RawArray(data, mne.create_info(["O1", "EEG O1-REF", "Cz"], 128.0, "eeg"),
                          verbose="error")
    path = tmp_path / "twice_raw.fif"
    raw.save(path, verbose="error")
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        source = FileSource(path)
    assert source.info.ch_names == ["O1", "EEG O1-REF", "Cz"]
    assert "'EEG O1-REF' as 'EEG O1-REF'" in caplog.text


_OUTLET = textwrap.dedent("""
    import sys, time
    import numpy as np
    from pylsl import StreamInfo, StreamOutlet, set_config_content
    set_config_content("[log]\\nlevel = -1\\n")
    channels = [("EEG O1-REF", "EEG"), ("EEG Fp1-LE", "EEG"), ("EEG T3-REF", "EEG"),
                ("ECG", "EEG"), ("EEG A2-A1", "EEG"), ("Ch6", "")]
    info = StreamInfo(sys.argv[1], "EEG", len(channels), 250.0, "float32", sys.argv[1])
    desc = info.desc().append_child("channels")
    for label, kind in channels:
        channel = desc.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("type", kind)
    outlet = StreamOutlet(info)
    print("ready", flush=True)
    while True:
        outlet.push_chunk(np.full((25, len(channels)), 10.0, dtype=np.float32))
        time.sleep(0.1)
""")


def test_lsl_labels_and_types_are_standardised():
    name = f"nf-channels-{uuid.uuid4().hex[:10]}"
    process = subprocess.Popen([sys.executable, "-c", _OUTLET, name], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        source = LSLSource(name=name, timeout_s=10)
        assert source.info.ch_names == ["O1", "Fp1", "T7", "ECG", "A2-A1", "Ch6"]
        assert source.info.get_channel_types() == ["eeg", "eeg", "eeg", "ecg", "misc", "eeg"]
        assert source.description["channels"][2] == {"label": "EEG T3-REF", "name": "T7",
                                                     "type": "eeg"}
        named = LSLSource(name=name, timeout_s=10, montage="Ch6=Oz")
        with named:
            deadline = time.monotonic() + 10
            while named.n_samples < 25 and time.monotonic() < deadline:
                named.read()
                time.sleep(0.02)
        assert named.info.ch_names[-1] == "Oz" and named.n_samples >= 25
        assert named.description["montage"] == {"name": "Ch6=Oz", "how": "--montage"}
    finally:
        process.kill()
        process.wait(timeout=10)
