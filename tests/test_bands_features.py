"""Bands, known sinusoids, regions of interest and the named features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurofeed.bands import DEFAULT_BANDS, Band, BandSet, FeatureExtractor, Features, resolve_region
from neurofeed.bands.features import ASYMMETRY_PAIRS, REGION_RULES
from neurofeed.errors import InvalidArgumentError
from neurofeed.registry import BY_KEY, FEATURES, REGIONS

SFREQ = 250.0


def tones(freqs_hz, amplitudes_v, *, seconds=4.0, noise_v=0.5e-6, seed=0):
    """One channel per tone: a sine plus a little white noise, in volts."""
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    rng = np.random.default_rng(seed)
    return np.array([a * np.sin(2 * np.pi * f * t + 0.3) + rng.normal(scale=noise_v, size=t.size)
                     for f, a in zip(freqs_hz, amplitudes_v)])


def last_frame(extractor, data, chunk=25):
    frame = None
    for start in range(0, data.shape[1], chunk):
        frame = extractor.update(data[:, start:start + chunk]) or frame
    return frame


# -- bands ---------------------------------------------------------------------------
def test_bands_are_half_open():
    alpha = Band("alpha", 8, 12)
    assert alpha.bins(1.0) == range(8, 12)  # 8, 9, 10, 11 Hz; not 12
    assert alpha.bins(0.5) == range(16, 24)  # 8.0 ... 11.5 Hz
    # 8 Hz as 80 * 0.1 is 8.000000000000002 or 7.999999999999999: still in alpha
    assert Band("b", 0.7, 0.8).bins(0.1) == range(7, 8)
    assert str(alpha) == "alpha [8, 12) Hz"


def test_band_matrix_sums_bins_times_width():
    bands = BandSet({"theta": (4, 8), "alpha": (8, 12)})
    bins = bands.bin_range(0.5)
    assert bins == range(8, 24)
    weights = bands.matrix(bins, 0.5)
    assert weights.shape == (16, 2)
    np.testing.assert_array_equal(weights[:8, 0], 0.5)
    np.testing.assert_array_equal(weights[8:, 0], 0)
    np.testing.assert_array_equal(weights.sum(axis=0), [4.0, 4.0])  # the widths in Hz


@pytest.mark.parametrize("make, match", [
    (lambda: Band("alpha", 12, 8), "upper edge"),
    (lambda: Band("alpha", -1, 8), "lower edge"),
    (lambda: Band("not a name", 1, 2), "identifier"),
    (lambda: BandSet({"a": (1, 2), "b": (2, 3)}) + BandSet({"a": (3, 4)}), "repeated"),
    (lambda: BandSet([]), "at least one"),
    (lambda: BandSet({"narrow": (8.2, 8.4)}).matrix(range(0, 20), 1.0), "no frequency bin"),
    (lambda: DEFAULT_BANDS.index("gamma"), "no band called 'gamma'"),
])
def test_bad_bands_are_named(make, match):
    with pytest.raises(InvalidArgumentError, match=match):
        make()


# -- known sinusoids ---------------------------------------------------------------------
def test_tones_land_in_their_bands_with_their_power():
    names = ["O1", "Fz"]
    extractor = FeatureExtractor(names, SFREQ)
    frame = last_frame(extractor, tones([10.0, 6.0], [20e-6, 30e-6]))
    alpha, theta = frame.band("alpha", relative=True), frame.band("theta", relative=True)
    assert alpha[0] > 0.99 and theta[1] > 0.99
    assert frame.power_v2[0].argmax() == DEFAULT_BANDS.index("alpha")
    assert frame.power_v2[1].argmax() == DEFAULT_BANDS.index("theta")
    # A sine of amplitude A has power A^2 / 2 (V^2), all within the band.
    np.testing.assert_allclose(frame.band("alpha")[0], (20e-6) ** 2 / 2, rtol=1e-2)
    np.testing.assert_allclose(frame.band("theta")[1], (30e-6) ** 2 / 2, rtol=1e-2)
    assert not frame.artifacts.bad.any()


def test_relative_powers_sum_to_one_over_the_total_range():
    tiling = BandSet({"delta": (1, 4), "theta": (4, 8), "alpha": (8, 12), "beta": (12, 30),
                      "gamma": (30, 40)})
    data = tones([3.0, 10.0, 35.0], [10e-6, 10e-6, 10e-6], noise_v=5e-6)
    frame = last_frame(FeatureExtractor(["a", "b", "c"], SFREQ, bands=tiling), data)
    np.testing.assert_allclose(frame.relative.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(frame.power_v2.sum(axis=1), frame.total_v2, rtol=1e-12)
    # With the default bands, 30-40 Hz is not in any band.
    frame = last_frame(FeatureExtractor(["a", "b", "c"], SFREQ), data)
    gamma = frame.total_v2 - frame.power_v2.sum(axis=1)
    np.testing.assert_allclose(frame.relative.sum(axis=1), 1 - gamma / frame.total_v2,
                               rtol=1e-12)
    assert frame.relative[2].sum() < 0.7


# -- regions ---------------------------------------------------------------------------
@pytest.mark.parametrize("ch_names, region, expected, how", [
    (["Fp1", "O1..", "Oz", "o2", "P7"], "posterior", ["O1..", "Oz", "o2"], "standard"),
    (["Fp1", "Fz", "PO7", "P8", "CP1"], "posterior", ["PO7", "P8"], "occipital or parietal"),
    (["T7", "T8"], "posterior", ["T7", "T8"], "nor occipital or parietal channels: all EEG"),
    (["Fp1", "Cz", "FCz", "F3"], "frontal_midline", ["FCz", "Cz"], "standard"),
    (["Fp1", "F3", "AF4", "O1"], "frontal_midline", ["F3", "AF4"], "frontal"),
    (["EXG Channel 0", "EXG Channel 1"], "frontal_midline", ["EXG Channel 0", "EXG Channel 1"],
     "no recognisable 10-05 channel names"),
])
def test_regions_fall_back_sensibly(ch_names, region, expected, how):
    found = resolve_region(region, ch_names)
    assert [ch_names[i] for i in found.channels] == expected
    assert how in found.how


def test_regions_can_be_chosen():
    found = resolve_region("posterior", ["a", "b", "c"], ["c", "a"])
    assert found.channels == (2, 0) and found.how == "chosen by the user"
    with pytest.raises(InvalidArgumentError, match="not in the montage"):
        resolve_region("posterior", ["a", "b"], ["O1"])
    with pytest.raises(InvalidArgumentError, match="regions"):
        FeatureExtractor(["a"], SFREQ, regions={"occipital": ["a"]})
    with pytest.raises(InvalidArgumentError, match="region='occipital'"):
        resolve_region("occipital", ["a"])


# -- features ----------------------------------------------------------------------------
def test_features_are_the_registrys():
    # Every field of Features is a registry key, in registry (features.tsv) order.
    assert list(Features().as_dict()) == [f.key for f in FEATURES]
    assert BY_KEY["alpha_v2"].unit == "V²" and BY_KEY["iaf_hz"].unit == "Hz"
    assert all(f.description for f in FEATURES)
    # The regions' standard sites are the registry's.
    assert REGION_RULES["posterior"][0] == REGIONS["posterior"][1]
    assert REGION_RULES["frontal_midline"][0] == REGIONS["frontal_midline"][1]
    assert ASYMMETRY_PAIRS[0] == REGIONS["asymmetry_pair"][1]


def test_region_features_ratio_and_asymmetry():
    names = ["O1", "O2", "Fz", "F3", "F4"]
    # O1/O2: alpha 20 and 10 uV plus theta 5 uV; Fz theta 30 uV; F4 has twice F3's alpha power
    t = np.arange(int(4 * SFREQ)) / SFREQ
    sine = lambda f, a: a * np.sin(2 * np.pi * f * t)  # noqa: E731
    data = np.array([sine(10, 20e-6) + sine(6, 5e-6), sine(10, 10e-6) + sine(6, 5e-6),
                     sine(6, 30e-6), sine(10, 10e-6), sine(10, 10e-6 * math.sqrt(2))])
    data += np.random.default_rng(1).normal(scale=0.3e-6, size=data.shape)
    frame = last_frame(FeatureExtractor(names, SFREQ), data)
    f = frame.features
    alpha, theta = frame.band("alpha"), frame.band("theta")
    assert f.alpha_v2 == pytest.approx(alpha[:2].mean())
    assert f.theta_v2 == pytest.approx(theta[2])
    assert f.alpha_rel == pytest.approx(frame.band("alpha", relative=True)[:2].mean())
    relative = frame.relative[:, [DEFAULT_BANDS.index("alpha"), DEFAULT_BANDS.index("theta")]]
    assert f.alpha_lnrel == pytest.approx(np.log(relative[:2, 0]).mean())
    assert f.theta_lnrel == pytest.approx(np.log(relative[2, 1]))
    # the geometric mean of each channel's ratio: 16 on O1, 4 on O2
    assert f.alpha_theta_ratio == pytest.approx(math.sqrt(np.prod(alpha[:2] / theta[:2])))
    assert f.alpha_theta_ratio == pytest.approx(math.sqrt(20 ** 2 / 5 ** 2 * 10 ** 2 / 5 ** 2),
                                                rel=0.02)
    # broadband power leaves out the rewarded 4-13 Hz: of these tones, only the noise counts
    assert f.broadband_v2 == pytest.approx(np.mean(frame.artifacts.outside_rms_v ** 2))
    assert f.broadband_v2 < 1e-3 * frame.total_v2.mean()
    assert f.faa == pytest.approx(math.log(2), abs=0.02)
    assert f.beta_alpha_ratio == pytest.approx(frame.band("beta")[2] / alpha[2])
    assert f.iaf_hz == pytest.approx(10.0, abs=0.05)
    assert dict(f.reasons) == {}


@pytest.mark.parametrize("peak_hz", [8.6, 10.3, 11.4])
def test_individual_alpha_peak_between_bins(peak_hz):
    frame = last_frame(FeatureExtractor(["Oz"], SFREQ), tones([peak_hz], [20e-6]))
    # 1 Hz bins; interpolation gets well within a bin
    assert frame.features.iaf_hz == pytest.approx(peak_hz, abs=0.2)


def test_missing_peak_and_pair_give_reasons():
    # Brown noise: power falling as 1/f^2, so the highest in 7-13 Hz is at 7 Hz.
    brown = np.cumsum(np.random.default_rng(2).normal(scale=1e-6, size=(2, 1000)), axis=1)
    frame = last_frame(FeatureExtractor(["Oz", "Cz"], SFREQ), brown)
    f = frame.features
    assert f.iaf_hz is None and "no alpha peak in" in f.reasons["iaf_hz"]
    assert f.faa is None and "F4/F3" in f.reasons["faa"]
    assert f.alpha_v2 is not None


def test_feature_settings_are_checked():
    with pytest.raises(InvalidArgumentError, match="alpha"):
        FeatureExtractor(["O1"], SFREQ, bands=BandSet({"smr": (12, 15), "theta": (4, 8)}))
    no_beta = FeatureExtractor(["O1"], SFREQ, bands=BandSet({"theta": (4, 8), "alpha": (8, 12)}))
    f = last_frame(no_beta, tones([10.0], [1e-5])).features
    assert f.beta_alpha_ratio is None
    assert f.reasons["beta_alpha_ratio"] == "the bands have no 'beta'"
    with pytest.raises(InvalidArgumentError, match="start with '_'"):
        FeatureExtractor(["O1"], SFREQ, bands=DEFAULT_BANDS + BandSet({"_x": (1, 2)}))
    with pytest.raises(InvalidArgumentError, match="iaf_range_hz"):
        FeatureExtractor(["O1"], SFREQ, iaf_range_hz=(9.5, 10.5))
    with pytest.raises(InvalidArgumentError, match="asymmetry pair"):
        FeatureExtractor(["O1"], SFREQ, asymmetry_pair=("F4", "F3"))
    with pytest.raises(InvalidArgumentError, match="min_good_channels"):
        FeatureExtractor(["O1"], SFREQ, min_good_channels=0)
    with pytest.raises(InvalidArgumentError, match="no band called"):
        last_frame(FeatureExtractor(["O1"], SFREQ), tones([10.0], [1e-5])).band("gamma")


def test_frames_carry_time_and_their_own_arrays():
    extractor = FeatureExtractor(["O1", "O2"], SFREQ)
    data = tones([10.0, 10.0], [1e-5, 1e-5], seconds=3.0)
    times = 5000.0 + np.arange(data.shape[1]) / SFREQ
    frames = [extractor.update(data[:, s:s + 25], times[s:s + 25])
              for s in range(0, data.shape[1], 25)]
    frames = [f for f in frames if f is not None]
    assert len(frames) == 11  # a window every 0.1 s once the first 2 s are in
    assert frames[0].time == times[499] and frames[-1].time == times[-1]
    assert frames[0].window_s == 2.0
    assert frames[0].power_v2 is not frames[1].power_v2
    assert not np.shares_memory(frames[0].power_v2, extractor.welch.band_power)
    assert frames[-1].features.alpha_v2 is not None
    assert extractor.update(data[:, :10], times[:10] + 100) is None  # less than a hop
