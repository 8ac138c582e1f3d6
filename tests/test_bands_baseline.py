"""Baseline calibration, z-scores and percentiles, the JSON file, and smoothing."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neurofeed.bands import Baseline, ExponentialSmoother, FeatureExtractor, Features
from neurofeed.errors import InvalidArgumentError


def windows(n=200, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        alpha = float(rng.lognormal(mean=-23, sigma=0.5))
        out.append(Features(alpha_v2=alpha, alpha_rel=float(rng.uniform(0.1, 0.4)),
                            faa=None if i % 4 == 0 else float(rng.normal(0.1, 0.2)),
                            reasons={} if i % 4 else {"faa": "flagged: F4 (amplitude)"}))
    return out


def test_calibration_summarises_each_feature():
    period = windows()
    baseline = Baseline.calibrate(period, subject="S01", condition="eyes closed")
    alpha = np.array([w.alpha_v2 for w in period])
    stats = baseline.stats["alpha_v2"]
    assert stats.n == 200
    assert stats.mean == pytest.approx(alpha.mean()) and stats.std == pytest.approx(alpha.std())
    assert stats.percentiles[50] == pytest.approx(np.median(alpha))
    assert stats.percentiles[0] == alpha.min() and stats.percentiles[100] == alpha.max()
    assert baseline.stats["faa"].n == 150  # windows without an estimate are left out
    assert "theta_v2" not in baseline.stats  # never had a value
    assert baseline.subject == "S01" and baseline.condition == "eyes closed"


def test_z_scores_and_percentiles():
    period = windows()
    baseline = Baseline.calibrate(period, subject="S01")
    s = baseline.stats["alpha_v2"]
    probe = Features(alpha_v2=s.mean + 2 * s.std, alpha_rel=s.mean, faa=None)
    z = baseline.normalise(probe, "z")
    assert z["alpha_v2"] == pytest.approx(2.0)
    assert z["faa"] is None and z["theta_v2"] is None
    median = Features(alpha_v2=s.percentiles[50], alpha_rel=-1.0, faa=10.0)
    p = baseline.normalise(median, "percentile")
    assert p["alpha_v2"] == pytest.approx(50.0)
    assert p["alpha_rel"] == 0.0 and p["faa"] == 100.0  # clamped
    with pytest.raises(InvalidArgumentError, match="method"):
        baseline.normalise(probe, "zscore")


def test_a_constant_feature_has_no_z_score():
    period = [Features(iaf_hz=10.0)] * 20
    baseline = Baseline.calibrate(period, subject="S01")
    assert baseline.normalise(Features(iaf_hz=10.5))["iaf_hz"] is None
    assert baseline.normalise(Features(iaf_hz=10.5), "percentile")["iaf_hz"] == 100.0


def test_save_and_load_in_a_later_session(tmp_path):
    baseline = Baseline.calibrate(windows(), subject="S01", condition="eyes open",
                                  settings={"n_per_seg": 250, "bands": {"alpha": (8, 12)}})
    path = baseline.save(tmp_path / "S01.baseline.json")
    assert path.name == "S01.baseline.json" and path.stat().st_size < 20_000
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["features"]["alpha_v2"]["unit"] == "V²"
    loaded = Baseline.load(path)
    assert loaded == baseline
    probe = windows(seed=1)[3]
    assert loaded.normalise(probe) == baseline.normalise(probe)


@pytest.mark.parametrize("corrupt, match", [
    (lambda d: "not json", "unreadable"),
    (lambda d: json.dumps(d | {"format": "other"}), "not a valid"),
    (lambda d: json.dumps(d | {"version": 99}), "version"),
    (lambda d: json.dumps({k: v for k, v in d.items() if k != "subject"}), "subject"),
    (lambda d: json.dumps(d | {"features": {"alpha_v2": {}}}), "not a valid"),
    (lambda d: json.dumps(d | {"features": {"beta_v9": d["features"]["alpha_v2"]}}), "beta_v9"),
    (lambda d: json.dumps(d | {"features": {"alpha_v2": d["features"]["alpha_v2"]
                                            | {"percentiles": [3.0, 2.0] * 50 + [1.0]}}}),
     "invalid statistics"),
])
def test_a_bad_baseline_file_is_named(tmp_path, corrupt, match):
    path = Baseline.calibrate(windows(), subject="S01").save(tmp_path / "b.json")
    path.write_text(corrupt(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match=match) as err:
        Baseline.load(path)
    assert str(path) in str(err.value)


def test_bad_calibrations_are_named(tmp_path):
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        Baseline.load(tmp_path / "missing.json")
    with pytest.raises(InvalidArgumentError, match="subject"):
        Baseline.calibrate(windows(), subject="../etc")
    with pytest.raises(InvalidArgumentError, match="no feature values"):
        Baseline.calibrate([Features()] * 5, subject="S01")


def test_a_baseline_normalises_extractor_features_and_checks_settings(tmp_path):
    t = np.arange(2500) / 250.0
    rng = np.random.default_rng(3)
    calm = np.array([10e-6 * np.sin(2 * np.pi * 10 * t) + rng.normal(scale=3e-6, size=t.size)
                     for _ in range(2)])
    names = ["O1", "Fz"]
    extractor = FeatureExtractor(names, 250.0)
    period = [f.features for s in range(0, 2500, 25) if (f := extractor.update(calm[:, s:s + 25]))]
    baseline = Baseline.calibrate(period, subject="S01", settings=extractor.settings)
    baseline = Baseline.load(baseline.save(tmp_path / "S01.json"))

    extractor = FeatureExtractor(names, 250.0)
    baseline.check_settings(extractor.settings)
    strong = 3 * calm
    frame = [f for s in range(0, 2500, 25) if (f := extractor.update(strong[:, s:s + 25]))][-1]
    z = baseline.normalise(frame.features, "z")
    stats = baseline.stats["alpha_v2"]
    assert z["alpha_v2"] == pytest.approx((frame.features.alpha_v2 - stats.mean) / stats.std)
    assert z["alpha_v2"] > 10

    with pytest.raises(InvalidArgumentError, match="n_per_seg: baseline 250, now 500"):
        baseline.check_settings(FeatureExtractor(names, 250.0, segment_s=2.0, window_s=4.0).settings)


def test_smoothing_follows_a_step_by_63_percent_after_tau_whatever_the_hop():
    for hop in (0.1, 0.25):
        smoother = ExponentialSmoother(tau_s=2.0)
        smoother.update({"x": 0.0}, 100.0)
        t = 100.0
        while t < 102.0 - 1e-9:
            t += hop
            out = smoother.update({"x": 1.0}, t)
        assert out["x"] == pytest.approx(1 - math.exp(-1))


def test_smoothing_passes_none_and_keeps_its_state():
    smoother = ExponentialSmoother(tau_s=1.0)
    assert smoother.update({"x": 2.0, "y": None}, 0.0) == {"x": 2.0, "y": None}
    assert smoother.update({"x": None}, 0.5) == {"x": None}
    out = smoother.update({"x": 4.0}, 1.0)["x"]
    assert out == pytest.approx(2.0 + 2.0 * (1 - math.exp(-1.0)))
    smoother.reset()
    assert smoother.update({"x": 7.0}, 2.0) == {"x": 7.0}
    assert ExponentialSmoother(0).update({"x": 1.0}, 0)["x"] == 1.0
    with pytest.raises(InvalidArgumentError, match="tau_s"):
        ExponentialSmoother(-1)
