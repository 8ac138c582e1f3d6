"""The bands stage on real recordings (../shared/data/eeg, see SOURCES.md there)."""

from __future__ import annotations

import functools
from pathlib import Path

import mne
import numpy as np
import pytest
from test_bands_welch import assert_exact

from neurofeed.bands import FeatureExtractor, StreamingWelch

OPENBCI = "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
UCI = "eeg_eye_state.arff"
EDF = "S001R01.edf"
UCI_CHANNELS = "AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4".split()


@functools.cache
def read_openbci(path: Path):
    """The 8 EXG channels of an OpenBCI GUI v6 text file, in volts, and the rate."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith(("%", "Sample Index")):
                rows.append(line.split(",")[1:9])
    return np.array(rows, dtype=float).T * 1e-6, 250.0


@functools.cache
def read_uci(path: Path):
    """The 14 channels of the UCI eye-state ARFF file, in volts, and the rate."""
    text = Path(path).read_text(encoding="utf-8")
    body = text[text.upper().index("@DATA") + len("@DATA"):]
    table = np.array([line.split(",") for line in body.split() if line], dtype=float)
    return table[:, :14].T * 1e-6, 128.0


@functools.cache
def read_edf(path: Path):
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    return raw.get_data(), raw.info["sfreq"], tuple(raw.ch_names)


def frames(extractor, data, hop):
    return [f for s in range(0, data.shape[1], hop) if (f := extractor.update(data[:, s:s + hop]))]


@pytest.mark.parametrize("method", ["fft", "dft"])
@pytest.mark.parametrize("name", [OPENBCI, UCI, EDF])
def test_equals_scipy_and_mne_on_real_recordings(shared_eeg, name, method):
    if name == EDF:
        data, sfreq, _ = read_edf(shared_eeg / name)
    else:
        data, sfreq = (read_openbci if name == OPENBCI else read_uci)(shared_eeg / name)
    welch = StreamingWelch(sfreq, data.shape[0], method=method)
    sizes = np.random.default_rng(0).integers(1, int(sfreq), size=500)
    start, i, checked = 0, 0, 0
    while start < data.shape[1]:
        if welch.update(data[:, start:start + sizes[i % 500]]) and welch.ready and i % 13 == 0:
            assert_exact(welch, data)
            checked += 1
        start, i = start + sizes[i % 500], i + 1
    assert checked >= 5


def test_alpha_doubles_with_eyes_closed_on_openbci(shared_eeg):
    data, sfreq = read_openbci(shared_eeg / OPENBCI)
    result = frames(FeatureExtractor([f"EXG Channel {i}" for i in range(8)], sfreq), data, 25)
    times = np.array([f.time for f in result])
    alpha = np.array([f.band("alpha", relative=True)[6:] for f in result])  # channels 7-8
    closed = (times - 2 >= 28) & (times <= 58)
    opened = times <= 25
    ratio = alpha[closed].mean() / alpha[opened].mean()
    assert ratio >= 2.0  # measured 5.0 over 0.1 s hops (5.0 and 4.6 by channel)


def test_alpha_peak_appears_with_eyes_closed_on_openbci(shared_eeg):
    data, sfreq = read_openbci(shared_eeg / OPENBCI)
    names = [f"EXG Channel {i}" for i in range(8)]
    result = frames(FeatureExtractor(names, sfreq, regions={"posterior": names[6:]}), data, 25)
    times = np.array([f.time for f in result])
    peaks = np.array([np.nan if f.features.iaf_hz is None else f.features.iaf_hz
                      for f in result])
    closed, opened = (times >= 35) & (times <= 58), (times >= 5) & (times <= 25)
    assert np.mean(~np.isnan(peaks[closed])) > 0.3  # measured 0.54
    assert 9.5 < np.nanmedian(peaks[closed]) < 12.0  # measured 11.05 Hz
    assert np.all(np.isnan(peaks[opened]))
    assert "no alpha peak" in result[int(np.argmax(opened))].features.reasons["iaf_hz"]


def test_jaw_clenches_raise_muscle_flags_on_openbci(shared_eeg):
    data, sfreq = read_openbci(shared_eeg / OPENBCI)
    result = frames(FeatureExtractor([f"EXG Channel {i}" for i in range(8)], sfreq), data, 25)
    times = np.array([f.time for f in result])
    muscle = np.array([f.artifacts.flags[:, 3] for f in result])
    clenching = (times > 7) & (times <= 14.5)
    assert muscle[clenching][:, 2:6].any(axis=0).all()  # channels 3-6, measured 23-40 frames
    eyes_closed = (times > 30) & (times <= 58)
    assert not muscle[eyes_closed].any()


def test_blinks_are_flagged_on_frontal_channels_of_s001r01(shared_eeg):
    data, sfreq, names = read_edf(shared_eeg / EDF)
    result = frames(FeatureExtractor(names, sfreq), data, 16)
    amplitude = np.array([f.artifacts.flags[:, 2] for f in result])
    frontal = [names.index(n) for n in ("Fp1", "Fpz", "Fp2")]
    occipital = [names.index(n) for n in ("O1", "Oz", "O2")]
    assert amplitude[:, frontal].any(axis=1).sum() >= 50  # measured 95 frames on Fp1 alone
    assert not amplitude[:, occipital].any()
    # the region averages carry on without them
    assert all(f.features.alpha_v2 is not None for f in result)


def test_spikes_are_flagged_on_uci_eye_state(shared_eeg):
    data, sfreq = read_uci(shared_eeg / UCI)
    result = frames(FeatureExtractor(UCI_CHANNELS, sfreq), data, 13)
    times = np.array([f.time for f in result])
    bad = np.array([f.artifacts.bad for f in result])
    deviation = np.abs(data - np.median(data, axis=1, keepdims=True))
    # 4 spikes: three of 0.1-0.7 V on 2-3 channels (with jumps of a few mV on most others)
    # and one of 3-4.5 mV
    spikes = np.flatnonzero((deviation > 2e-3).any(axis=0))
    assert len(spikes) == 4
    near = np.zeros(len(result), dtype=bool)
    for sample in spikes:
        at = sample / sfreq
        covers = (times >= at) & (times - result[0].window_s < at)
        near |= covers
        # well inside the window, not where the taper of every segment is near zero
        inside = (times - 0.1 >= at) & (times - result[0].window_s + 0.1 < at)
        assert inside.sum() >= 15 and bad[inside].any(axis=1).mean() >= 0.9
        assert bad[inside][:, deviation[:, sample] > 0.1].all()
    assert not bad[~near].any()
