"""Each artifact raises its flag; flagged channels leave the region averages."""

from __future__ import annotations

import numpy as np
import pytest

from neurofeed.bands import ARTIFACT_KINDS, ArtifactThresholds, FeatureExtractor
from neurofeed.errors import InvalidArgumentError

SFREQ = 250.0
NAMES = ["Fp1", "Fp2", "F3", "F4", "Fz", "Cz", "O1", "Oz", "O2", "Pz"]
SECONDS = 6.0
N = int(SECONDS * SFREQ)
T = np.arange(N) / SFREQ


def band_noise(lo_hz, hi_hz, rms_v, seed):
    """Gaussian noise with all its power in [lo_hz, hi_hz)."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=N))
    freqs = np.fft.rfftfreq(N, 1 / SFREQ)
    spectrum[(freqs < lo_hz) | (freqs >= hi_hz)] = 0
    noise = np.fft.irfft(spectrum, n=N)
    return noise * rms_v / noise.std()


def eeg(seed=0):
    """Ten channels of plausible resting EEG: 12 uV in 1-40 Hz with a 10 Hz rhythm."""
    rows = [band_noise(1, 40, 10e-6, seed * 100 + c) + 5e-6 * np.sin(2 * np.pi * 10 * T + c)
            for c in range(len(NAMES))]
    return np.array(rows)


def frames(data, **kwargs):
    extractor = FeatureExtractor(NAMES, SFREQ, **kwargs)
    return [f for s in range(0, data.shape[1], 25) if (f := extractor.update(data[:, s:s + 25]))]


def flagged(frame, channel):
    return set(frame.artifacts.kinds(channel))


def blink():
    """A 400 uV, 0.5 s blink at 4 s."""
    wave = np.zeros(N)
    at = int(4 * SFREQ)
    wave[at:at + int(0.5 * SFREQ)] = 400e-6 * np.sin(np.pi * np.arange(int(0.5 * SFREQ))
                                                     / (0.5 * SFREQ))
    return wave


def with_nan(row):
    row = row.copy()
    row[900] = np.nan
    return row


def with_inf(row):
    row = row.copy()
    row[900] = -np.inf
    return row


ARTIFACTS = {
    "nan": (with_nan, "nonfinite"),
    "inf": (with_inf, "nonfinite"),
    "flat": (lambda row: np.zeros(N), "flat"),
    # stuck at the Cyton's rail, +187.5 mV, with 1 nV of quantisation noise
    "railed": (lambda row: 0.1875 + band_noise(0, 125, 1e-9, 9), "flat"),
    "blink": (lambda row: row + blink(), "amplitude"),
    "jaw clench": (lambda row: row + band_noise(30, 120, 60e-6, 7), "muscle"),
    "50 Hz": (lambda row: row + 5e-3 * np.sin(2 * np.pi * 50 * T), "line"),
    "60 Hz": (lambda row: row + 5e-3 * np.sin(2 * np.pi * 60 * T), "line"),
}


def test_clean_eeg_raises_no_flag():
    result = frames(eeg())
    assert len(result) == 41
    assert not any(f.artifacts.flags.any() for f in result)
    rms = result[-1].artifacts.rms_v
    assert np.all((rms > 8e-6) & (rms < 20e-6))


@pytest.mark.parametrize("name", ARTIFACTS)
def test_each_artifact_raises_its_flag_on_its_channel_only(name):
    make, kind = ARTIFACTS[name]
    data = eeg()
    data[0] = make(data[0])
    result = frames(data)
    raised = set().union(*(flagged(f, 0) for f in result))
    assert raised == {kind}
    assert not any(f.artifacts.flags[1:].any() for f in result)


def test_a_blink_is_flagged_while_in_the_window_only():
    data = eeg()
    data[0] += blink()
    result = frames(data)
    on = [f.time for f in result if "amplitude" in flagged(f, 0)]
    assert on and min(on) > 4.0 and max(on) < 4.5 + 2.0 + 0.01


def test_strong_alpha_is_not_an_amplitude_artifact_unless_beyond_any_eeg():
    # 150 uV alpha on O1: a 1-40 Hz RMS of 107 uV, which the amplitude flag once took for
    # an artifact; outside 4-13 Hz it is the 12 uV of the background.
    data = eeg()
    data[6] += 150e-6 * np.sin(2 * np.pi * 10 * T)
    result = frames(data)
    assert all(f.artifacts.rms_v[6] > 100e-6 and f.artifacts.outside_rms_v[6] < 15e-6
               for f in result)
    assert not any(f.artifacts.flags.any() for f in result)
    assert result[-1].features.alpha_rel > frames(eeg())[-1].features.alpha_rel
    # 400 uV of 10 Hz, a 1-40 Hz RMS of 283 uV, is beyond any rhythm: max_total_rms_v
    data[6] += 250e-6 * np.sin(2 * np.pi * 10 * T)
    assert all(flagged(f, 6) == {"amplitude"} for f in frames(data))


def test_a_nan_leaves_with_the_window_and_the_channel_recovers():
    data = eeg()
    data[6, 900] = np.nan  # O1, at 3.6 s
    result = frames(data)
    for f in result:
        covers = f.time - f.window_s < 3.6 <= f.time
        assert (flagged(f, 6) == {"nonfinite"}) == covers
        assert np.isfinite(f.features.alpha_v2)
    clean = frames(eeg())
    np.testing.assert_array_equal(result[-1].power_v2, clean[-1].power_v2)


def test_flagged_channels_leave_the_region_average():
    data = eeg()
    data[6] += blink()  # O1
    last = [f for f in frames(data) if "amplitude" in flagged(f, 6)][-1]
    good = [7, 8, 9]  # Oz, O2, Pz
    assert last.features.alpha_v2 == pytest.approx(last.band("alpha")[good].mean())


def test_a_region_with_every_channel_bad_gives_no_estimate_and_says_why():
    data = eeg()
    data[6] = np.zeros(N)  # O1 flat
    data[7, 1000] = np.nan  # Oz
    data[8] += band_noise(30, 120, 60e-6, 3)  # O2 muscle
    data[9] += blink()  # Pz
    frame = [f for f in frames(data) if f.artifacts.bad[[6, 7, 8, 9]].all()][-1]
    f = frame.features
    for name in ("alpha_v2", "alpha_rel", "alpha_theta_ratio", "iaf_hz"):
        assert getattr(f, name) is None
        reason = f.reasons[name]
        assert "0 good channel(s) in the posterior region" in reason
        for part in ("O1 (flat)", "Oz (nonfinite)", "O2 (muscle)", "Pz (amplitude)"):
            assert part in reason
    assert f.theta_v2 is not None and f.faa is not None


def test_a_flagged_asymmetry_channel_gives_no_asymmetry():
    data = eeg()
    data[3] = np.zeros(N)  # F4
    f = frames(data)[-1].features
    assert f.faa is None and f.reasons["faa"] == "flagged: F4 (flat)"


def test_min_good_channels():
    data = eeg()
    data[6] = np.zeros(N)
    f = frames(data, regions={"posterior": ["O1", "O2"]}, min_good_channels=2)[-1].features
    assert f.alpha_v2 is None
    assert f.reasons["alpha_v2"].startswith("1 good channel(s) in the posterior region "
                                            "(chosen by the user), 2 needed; flagged: O1")


def test_thresholds_are_configurable_and_checked():
    data = eeg()
    result = frames(data, thresholds=ArtifactThresholds(max_rms_v=5e-6))
    assert all(flagged(f, c) == {"amplitude"} for f in result for c in range(len(NAMES)))
    assert result[-1].features.alpha_v2 is None
    for bad, match in [(dict(max_rms_v=0.1e-6), "max_rms_v"), (dict(min_rms_v=-1), "min_rms_v"),
                       (dict(muscle_band_hz=(45, 30)), "upper edge"),
                       (dict(excluded_hz=(13, 4)), "upper edge"), (dict(excluded_hz=(4,)), "excluded_hz"),
                       (dict(max_total_rms_v=50e-6), "max_total_rms_v"),
                       (dict(line_hz=(1.0,)), "line_hz"), (dict(max_line_ratio=0), "ratio")]:
        with pytest.raises(InvalidArgumentError, match=match):
            ArtifactThresholds(**bad)


def test_line_frequencies_above_nyquist_are_skipped():
    # 100 Hz: 50 Hz is the Nyquist frequency, 60 Hz is beyond it; the other flags still work
    extractor = FeatureExtractor(["O1"], 100.0)
    data = np.random.default_rng(1).normal(scale=10e-6, size=(1, 300))
    data[0, 250] = np.nan
    frame = [f for s in range(0, 300, 10) if (f := extractor.update(data[:, s:s + 10]))][-1]
    assert np.isnan(frame.artifacts.line_ratio).all()
    assert frame.artifacts.kinds(0) == ("nonfinite",)
    assert ARTIFACT_KINDS == ("nonfinite", "flat", "amplitude", "muscle", "line")
