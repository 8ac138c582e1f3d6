"""`neurofeed report`: a session folder's report, checked against the folder's own files."""

from __future__ import annotations

import base64
import csv
import json
import re

import matplotlib.image
import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import CHANNELS, write_session

from neurofeed.bands import ARTIFACT_KINDS, DEFAULT_BANDS
from neurofeed.bands.features import NO_NAMES
from neurofeed.errors import SessionFolderError
from neurofeed.recorder import SessionRecorder
from neurofeed.registry import FEEDBACK
from neurofeed.report import SessionIncompleteError, build_report
from neurofeed.report.figures import BANDS_HZ
from neurofeed.report.spectra import phase_spectra, region_channels
from neurofeed.report.summary import read_session, summarise

FIGURES = ("features", "phases", "music", "spectra", "latency")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One session with posterior alpha 1.5x in amplitude in training, reported by the CLI."""
    folder = write_session(tmp_path_factory.mktemp("sessions"), alpha_gain=1.5)
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    page = folder / "report" / "report.html"
    assert result.stdout.strip() == f"report -> {page}"
    return folder


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _column(rows, name, where=lambda r: True) -> np.ndarray:
    return np.array([float(r[name]) for r in rows if where(r) and r[name] != "n/a"])


def test_page_embeds_every_figure_and_saves_it_as_png(session):
    page = (session / "report" / "report.html").read_text(encoding="utf-8")
    for name in FIGURES:
        png = (session / "report" / f"{name}.png").read_bytes()
        match = re.search(rf'<figure id="fig-{name}"><img src="data:image/png;base64,([^"]+)"', page)
        assert match, name
        assert base64.b64decode(match.group(1)) == png
        height, width = matplotlib.image.imread(session / "report" / f"{name}.png").shape[:2]
        assert width == 1500 and height >= 400
    assert page.count("<img ") == len(FIGURES)
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched


def test_summary_equals_numbers_computed_from_the_session_files(session):
    features = _rows(session / "features.tsv")
    in_phase = lambda phase: lambda r: r["phase"] == phase  # noqa: E731
    with_estimate = lambda phase: lambda r: r["phase"] == phase and r["estimate"] == "1"  # noqa: E731
    # alpha is fed back as log relative power: the change is that of relative power
    base = _column(features, "alpha_lnrel_posterior", with_estimate("baseline")).mean()
    train = _column(features, "alpha_lnrel_posterior", with_estimate("training")).mean()
    change = 100 * (np.exp(train - base) - 1)
    reward = 100 * np.mean(_column(features, "reward", in_phase("training")) == 1)
    training_rows = [r for r in features if r["phase"] == "training"]
    reward_z = json.loads((session / "session.json").read_text())["preset_config"]["feedback"]["reward_z"]
    in_target = 100 * np.mean([r["feedback_z"] != "n/a" and float(r["feedback_z"]) >= reward_z
                               for r in training_rows])
    estimate = 100 * np.mean([r["estimate"] == "1" for r in features])
    latency = _column(_rows(session / "latency.tsv"), "sample_to_engine_s") * 1e3
    artifacts = _rows(session / "artifacts.tsv")
    blinks = 100 * np.mean(["amplitude" in r["Fp1"].split("+") for r in artifacts])
    raw = mne.io.read_raw_fif(session / "eeg_raw.fif", verbose="error")

    summary = json.loads((session / "report" / "summary.json").read_text())
    training = next(p for p in summary["phases"] if p["name"] == "training")
    assert training["changes"]["alpha_posterior"] == pytest.approx(change, rel=1e-9)
    assert training["reward_pct"] == pytest.approx(reward)
    assert training["in_target_pct"] == pytest.approx(in_target)
    assert summary["estimate_pct"] == pytest.approx(estimate)
    assert summary["artifact_pct"]["Fp1"]["amplitude"] == pytest.approx(blinks)
    assert summary["latency_ms"]["sample_to_engine_ms"]["p50"] == pytest.approx(np.percentile(latency, 50),
                                                                                abs=1e-3)
    assert summary["duration_s"] == pytest.approx(raw.n_times / raw.info["sfreq"])
    # The fixture made posterior alpha rise and left frontal theta alone.
    assert change > 30
    assert abs(training["changes"]["theta_frontal"]) < 15
    assert 0 < estimate < 100 and summary["no_estimate_reasons"]

    page = (session / "report" / "report.html").read_text(encoding="utf-8")
    headline = re.search(r'<p class="headline">(.*?)</p>', page).group(1)
    assert summary["headline"].replace("&", "&amp;") == headline
    assert (f"Posterior alpha (relative) rose {change:.0f}% over baseline in training; "
            f"reward {reward:.0f}% of the time.") in headline
    assert f"{estimate:.0f}% of windows gave an estimate; artifacts flagged on 8 of 13 channels" in headline


def test_spectra_show_the_alpha_rise_in_the_posterior_region(session):
    data = read_session(session)
    summary = summarise(data)
    raw = mne.io.read_raw_fif(data.raw_path, preload=True, verbose="error")
    spectra = phase_spectra(raw, [(p.name, p.start_s, p.end_s) for p in summary.phases], summary.target,
                            data.meta["estimator"])
    assert spectra.channels == ("P3", "P4", "Pz", "O1", "O2")
    assert list(spectra.psd_uv2_per_hz) == ["baseline", "training", "cooldown"]
    at_10 = np.argmin(np.abs(spectra.freqs_hz - 10.0))
    assert spectra.freqs_hz[np.argmax(spectra.psd_uv2_per_hz["training"])] == pytest.approx(10.0)
    assert spectra.psd_uv2_per_hz["training"][at_10] > 1.8 * spectra.psd_uv2_per_hz["baseline"][at_10]


def test_region_from_the_estimator_else_by_the_estimator_rules():
    names = ["EEG Fp1", "F3", "F4", "Fz", "O1..", "POz", "P7"]
    estimator = {"posterior": ["P7", "O1.."]}
    assert region_channels(names, "alpha_posterior", estimator) == ("Posterior", ["P7", "O1.."])
    # Without the session's record, the channels the estimator would choose: standard sites first.
    assert region_channels(names, "alpha_posterior") == ("Posterior", ["O1.."])
    assert region_channels(["POz", "P7", "Cz"], "alpha_posterior") == ("Posterior", ["POz", "P7"])
    assert region_channels(names, "theta_frontal") == ("Frontal midline", ["Fz"])
    assert region_channels(names, "frontal_asymmetry") == ("Asymmetry pair", ["F4", "F3"])
    # The estimator measures alpha/theta over the posterior region, and averages every channel
    # when no channel is named like one.
    assert region_channels(["EXG1", "EXG2"], "alpha_theta_ratio") == ("Posterior", ["EXG1", "EXG2"])
    assert region_channels(["EXG1", "EXG2"], "frontal_asymmetry") == ("All channels", ["EXG1", "EXG2"])


def test_report_facts_come_from_the_estimator():
    # Band edges marked on the spectra are the estimator's (alpha 8-12 Hz, not BrainFlow's 8-13).
    assert BANDS_HZ == {"θ": (4.0, 8.0), "α": (DEFAULT_BANDS["alpha"].lo_hz, DEFAULT_BANDS["alpha"].hi_hz)}
    assert BANDS_HZ["α"] == (8.0, 12.0)
    assert FEEDBACK["frontal_asymmetry"].format_change(-0.123) == "-0.12 ln"
    assert FEEDBACK["alpha_posterior"].format_change(38.4) == "+38%"
    assert FEEDBACK["theta_frontal"].format_change(-0.3) == "0%"
    assert FEEDBACK["theta_frontal"].describe_change(-0.3) == "stayed at its baseline level"
    assert FEEDBACK["theta_frontal"].describe_change(-12.6) == "fell 13% below baseline"
    assert FEEDBACK["frontal_asymmetry"].describe_change(0.054) == "rose by 0.05 (ln ratio) from baseline"


def test_artifact_flags_are_listed_in_the_detector_order(session):
    # Only flags the detector raises (no 'railed'), in its order, then any other flag seen.
    summary = json.loads((session / "report" / "summary.json").read_text())
    flags = list(summary["artifact_pct"]["F3"])
    assert flags == [kind for kind in ARTIFACT_KINDS if kind in flags]
    assert set(flags) == {"flat", "amplitude", "muscle"}
    assert "railed" not in ARTIFACT_KINDS


def test_incomplete_session_suggests_recover(tmp_path):
    folder = tmp_path / "crashed"
    with SessionRecorder(folder, mne.create_info(CHANNELS, 250.0, "eeg"), {"subject": "S01"}) as recorder:
        recorder.write_eeg(np.zeros((len(CHANNELS), 250)), np.arange(250) / 250.0)
    result = run_cli("report", str(folder))
    assert_one_line_error(result, "is incomplete (the session did not finish)",
                          f"run 'neurofeed recover {folder}' first")


def test_finalised_folder_without_its_fif_is_incomplete(tmp_path):
    folder = write_session(tmp_path)
    (folder / "eeg_raw.fif").unlink()
    with pytest.raises(SessionIncompleteError, match="neurofeed recover"):
        build_report(folder)


def test_folder_that_is_not_a_session(tmp_path):
    with pytest.raises(SessionFolderError, match="is not a session folder"):
        build_report(tmp_path)


def test_spectra_leave_out_gaps_and_stretches_shorter_than_a_segment():
    from scipy.signal import welch

    sfreq, n = 250.0, 5000
    t = np.arange(n) / sfreq
    data = np.random.default_rng(1).normal(scale=1e-6, size=(2, n)) + 5e-6 * np.sin(2 * np.pi * 10 * t)
    data[:, 2500:3000] = data[:, 3075:3575] = 1.0  # inside the gaps: must not count
    raw = mne.io.RawArray(data, mne.create_info(["O1", "O2"], sfreq, "eeg"), verbose="error")
    # 10 s good, a 2 s gap, 0.3 s good (shorter than a segment's overlap), a 2 s gap, 5.7 s good.
    raw.set_annotations(mne.Annotations([10.0, 12.3], [2.0, 2.0], ["BAD_ACQ_SKIP"] * 2))
    spectra = phase_spectra(raw, [("training", 0.0, t[-1])], "alpha_posterior")
    freqs, first = welch(data[:, :2500], sfreq, window="hamming", nperseg=500, noverlap=250)
    _, last = welch(data[:, 3575:], sfreq, window="hamming", nperseg=500, noverlap=250)
    expected = (9 * first.mean(axis=0) + 4 * last.mean(axis=0)) / 13 * 1e12  # 2 s segments in each
    keep = (freqs >= spectra.freqs_hz[0]) & (freqs <= spectra.freqs_hz[-1])
    np.testing.assert_allclose(spectra.psd_uv2_per_hz["training"], expected[keep], rtol=1e-9)
    assert spectra.freqs_hz[np.argmax(spectra.psd_uv2_per_hz["training"])] == pytest.approx(10.0)


def test_headline_says_what_the_target_region_fell_back_to(session):
    data = read_session(session)
    assert summarise(data).region_fallbacks == {}
    assert "region:" not in summarise(data).headline()
    # as FeatureExtractor.settings records it in session.json's estimator
    data.meta["estimator"]["region_fallbacks"] = {"posterior": NO_NAMES,
                                                  "asymmetry_pair": "no F4/F3: F8/F7"}
    summary = summarise(data)
    assert summary.region_fallbacks["posterior"] == NO_NAMES
    headline = summary.headline()
    assert f"Posterior region: {NO_NAMES}. Posterior alpha (relative) rose" in headline
    assert "F8/F7" not in headline  # not a region of the target feature
