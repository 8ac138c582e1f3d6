"""`neurofeed progress`: a subject's sessions in order, with the trend of the target feature."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session
from scipy import stats

from neurofeed.errors import SessionFolderError
from neurofeed.recorder import SessionRecorder
from neurofeed.report import build_progress, session_summary
from neurofeed.report.progress import ols_trend

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
#: Posterior alpha amplitude in training, per week of the course.
GAINS = (1.2, 1.5, 1.8)


def _crashed_session(folder, subject="S01"):
    info = mne.create_info(["O1", "O2"], 250.0, "eeg")
    with SessionRecorder(folder, info, {"subject": subject}) as recorder:
        recorder.write_eeg(np.zeros((2, 250)), np.arange(250) / 250.0)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Three weekly sessions of S01 whose alpha rises, written out of order; one of S02; one crashed."""
    out = tmp_path_factory.mktemp("course")
    folders = {week: write_session(out, alpha_gain=GAINS[week], seed=week,
                                   started=START + timedelta(weeks=week))
               for week in (2, 0, 1)}
    write_session(out, subject="S02", started=START)
    _crashed_session(out / "sub-S01_crashed")
    return out, [folders[week] for week in range(3)]


def test_progress_over_three_sessions_rises(course, tmp_path):
    out, folders = course
    report_dir = tmp_path / "progress"
    # An empty data home: only --sessions is searched.
    result = run_cli("progress", "--subject", "S01", "--sessions", str(out), "--out", str(report_dir),
                     cwd=tmp_path, env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"progress -> {report_dir / 'progress.html'}"

    with open(report_dir / "progress.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 3
    assert [r["session"] for r in rows] == ["1", "2", "3"]
    assert [r["folder"] for r in rows] == [str(f) for f in folders]
    changes = [float(r["change"]) for r in rows]
    expected = [session_summary(f).training_change for f in folders]
    assert changes == pytest.approx(expected, rel=1e-12)
    assert changes[0] < changes[1] < changes[2]
    assert {r["feature"] for r in rows} == {"alpha_posterior"} and {r["change_unit"] for r in rows} == {"%"}
    fit = stats.linregress([1, 2, 3], changes)
    assert fit.slope > 0

    page = (report_dir / "progress.html").read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == 1
    assert (report_dir / "progress.png").stat().st_size > 10_000
    half = stats.t.ppf(0.975, 1) * fit.stderr
    assert (f"trend {fit.slope:+.1f} percentage points per session (95% CI {fit.slope - half:+.1f} to "
            f"{fit.slope + half:+.1f})") in page
    assert "sub-S01_crashed" in page and "neurofeed recover" in page  # listed, not counted


def test_data_home_is_searched_and_feature_can_be_chosen(course, tmp_path, monkeypatch):
    out, folders = course
    monkeypatch.setenv("NEUROFEED_HOME", str(out))
    path = build_progress("S01", feature="theta_frontal")
    assert path == out / "subjects" / "S01" / "progress" / "progress.html"
    with open(path.with_name("progress.tsv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [r["feature"] for r in rows] == ["theta_frontal"] * 3
    assert [float(r["change"]) for r in rows] == pytest.approx(
        [session_summary(f).phase("training").changes["theta_frontal"] for f in folders])


def test_ols_trend_matches_the_textbook_formula():
    x = np.arange(1.0, 9.0)
    y = 2.0 * x + 1.0 + np.array([0.3, -0.2, 0.1, -0.4, 0.2, 0.0, 0.3, -0.3])
    trend = ols_trend(x, y, relative=True)
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (intercept + slope * x)
    se = np.sqrt(residuals @ residuals / (x.size - 2) / np.sum((x - x.mean()) ** 2))
    half = stats.t.ppf(0.975, x.size - 2) * se
    assert trend.slope == pytest.approx(slope) and trend.intercept == pytest.approx(intercept)
    assert (trend.ci_low, trend.ci_high) == pytest.approx((slope - half, slope + half))
    low, high = trend.band(np.array([x.mean()]))
    half_at_mean = stats.t.ppf(0.975, 6) * np.sqrt(residuals @ residuals / 6 / x.size)
    assert (high - low)[0] / 2 == pytest.approx(half_at_mean)
    two = ols_trend([1, 2, np.nan], [5.0, 7.0, 9.0], relative=False)
    assert two.slope == pytest.approx(2.0) and two.ci_low is None and two.band([1.0]) is None
    assert ols_trend([1], [5.0], relative=True) is None


def test_no_finished_session_suggests_recover(tmp_path):
    _crashed_session(tmp_path / "sub-S03_crashed", subject="S03")
    result = run_cli("progress", "--subject", "S03", "--sessions", str(tmp_path), cwd=tmp_path,
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert_one_line_error(result, "no finished sessions with training of subject 'S03'",
                          f"run 'neurofeed recover {tmp_path / 'sub-S03_crashed'}' first")
    with pytest.raises(SessionFolderError, match="no finished sessions with training of subject 'S04'"):
        build_progress("S04", home=tmp_path)
