"""A clinical EDF export of a real recording replays exactly as the correctly labelled original.

Clinical exports label channels ``EEG O1-REF`` and carry an ECG and a reference derivation,
all typed EEG. The copies here are written by the test from S001R01 (64 channels, eyes
open), with a QRS-like ECG whose alpha-band power is tens of times an EEG channel's: the
ECG must not enter a feature, so features, reward and music equal the original's.
"""

from __future__ import annotations

import csv

import mne
import numpy as np
import pytest
from _cli import run_cli
from conftest import SHARED_EEG
from scipy.signal import welch

S001 = "S001R01.edf"
SECONDS = 40.0


def _original(shared_eeg) -> mne.io.Raw:
    raw = mne.io.read_raw_edf(shared_eeg / S001, preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    return raw.crop(0, SECONDS - 1 / raw.info["sfreq"])


def _ecg(n_times: int, sfreq: float) -> np.ndarray:
    """A 1 mV QRS-like spike train at 72 beats a minute, in volts."""
    t = np.arange(n_times) / sfreq
    beats = np.arange(0.4, t[-1], 60 / 72)
    return 1e-3 * np.exp(-(((t[:, None] - beats[None, :]) / 0.012) ** 2)).sum(axis=1)


def _clinical(raw: mne.io.Raw, convention: str) -> mne.io.RawArray:
    """``raw`` relabelled as a naive clinical export: every channel typed EEG."""
    data = raw.get_data()
    ecg = _ecg(raw.n_times, raw.info["sfreq"])
    names = [convention.format(name.upper() if name.lower().startswith("fp") else name)
             for name in raw.ch_names]
    info = mne.create_info([*names, "ECG ECG", "EEG A2-A1"], raw.info["sfreq"], "eeg")
    return mne.io.RawArray(np.vstack([data, ecg, data[0] - data[1]]), info, verbose="error")


def _replay(path, out, preset: str = "relax-alpha") -> tuple[list[dict], list[dict]]:
    result = run_cli("replay", str(path), "--preset", preset, "--duration", f"{SECONDS:g}",
                     "--baseline", "15", "--audio", "none", "--no-status", "--no-report",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (folder,) = out.iterdir()
    tables = []
    for name in ("features.tsv", "music.tsv"):
        with open(folder / name, encoding="utf-8", newline="") as f:
            tables.append(list(csv.DictReader(f, delimiter="\t")))
    return tables[0], tables[1]


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    if not SHARED_EEG.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_EEG} "
                    "(a fresh clone has no ../shared/data/eeg)")
    folder = tmp_path_factory.mktemp("original")
    raw = _original(SHARED_EEG)
    path = folder / "original_raw.fif"
    raw.save(path, verbose="error")
    return raw, _replay(path, folder / "out")


def test_the_ecg_has_tens_of_times_an_eeg_channels_alpha(shared_eeg):
    raw = _original(shared_eeg)
    freqs, psd = welch(np.vstack([raw.get_data(), _ecg(raw.n_times, raw.info["sfreq"])]),
                       raw.info["sfreq"], nperseg=int(2 * raw.info["sfreq"]))
    alpha = psd[:, (freqs >= 8) & (freqs < 12)].sum(axis=1)
    assert alpha[-1] > 20 * np.median(alpha[:-1])


@pytest.mark.parametrize("convention", ["EEG {}-REF", "EEG {}-LE", "{}-A1"])
def test_clinical_fif_copies_replay_exactly_as_the_original(original, tmp_path, convention):
    raw, (features, music) = original
    path = tmp_path / "clinical_raw.fif"
    _clinical(raw, convention).save(path, verbose="error")
    copy_features, copy_music = _replay(path, tmp_path / "out")
    assert copy_music == music
    assert len(copy_features) == len(features)
    for ours, theirs in zip(copy_features, features):
        assert ours.keys() == theirs.keys()
        for key in ours.keys() - {"lsl_time_s"}:  # a replay's LSL times start at its own clock
            if ours[key] in ("n/a", theirs[key]) or key == "reason":
                assert ours[key] == theirs[key], key
            else:
                assert float(ours[key]) == pytest.approx(float(theirs[key]), rel=1e-12, abs=1e-300), key
    assert any(row["reward"] == "1" for row in features)  # the comparison is not vacuous


def test_a_clinical_edf_copy_replays_within_its_quantisation(original, tmp_path):
    raw, (features, _) = original
    path = tmp_path / "clinical.edf"
    _clinical(raw, "EEG {}-REF").export(path, verbose="error")
    copy_features, _ = _replay(path, tmp_path / "out")
    column = "alpha_lnrel_posterior"
    ours = np.array([float(r[column]) for r in copy_features if r[column] != "n/a"])
    theirs = np.array([float(r[column]) for r in features if r[column] != "n/a"])
    assert ours.shape == theirs.shape
    # EDF stores 16 bits over each channel type's range: a log relative power moves by far
    # less than its spread across windows.
    assert np.max(np.abs(ours - theirs)) < 0.01 * np.std(theirs)


def test_mood_asymmetry_runs_on_a_clinical_copy(original, tmp_path):
    raw, _ = original
    path = tmp_path / "clinical_raw.fif"
    _clinical(raw, "EEG {}-REF").save(path, verbose="error")
    features, _ = _replay(path, tmp_path / "out", preset="mood-asymmetry")
    assert any(r["frontal_asymmetry"] != "n/a" for r in features)
