"""Reports of sessions stopped early (Ctrl-C, a stop signal, a crash), of sources that are not
EEG, and of sessions that lost the signal: built from real folders, checked against their files."""

from __future__ import annotations

import csv
import json
import math
import re

import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import HOP_S, WINDOW_S, write_session

from neurofeed.acquire.brainflow import SYNTHETIC_SIGNAL as SYNTHETIC


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _report(folder) -> tuple[dict, str]:
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    page = (folder / "report" / "report.html").read_text(encoding="utf-8")
    return json.loads((folder / "report" / "summary.json").read_text()), page


def _complete_rows(folder) -> list[dict]:
    """features.tsv's rows that a crash left whole (the torn last line has no line end)."""
    rows = _rows(folder / "features.tsv")
    return [r for r in rows if None not in r.values()]


def test_session_stopped_inside_its_first_smoothing_window(tmp_path):
    # Ctrl-C 4 s in: fewer hops than the 5 s moving average of the features figure (this crashed
    # the report), features.tsv one row shorter than music.tsv and ending in a torn line.
    folder = write_session(tmp_path, stop_s=4.0)
    music = _rows(folder / "music.tsv")
    features = _complete_rows(folder)
    assert len(features) == round((4.0 - WINDOW_S) / HOP_S) == len(music) - 1
    assert not (folder / "features.tsv").read_text().endswith("\n")

    summary, page = _report(folder)
    assert [p["name"] for p in summary["phases"]] == ["baseline"]
    (baseline,) = summary["phases"]
    assert baseline["n_hops"] == len(features)
    assert (baseline["start_s"], baseline["end_s"]) == (0.0, 4.0)
    assert summary["duration_s"] == pytest.approx(4.0)
    estimate = 100 * sum(r["estimate"] == "1" for r in features) / len(features)
    assert summary["estimate_pct"] == pytest.approx(estimate)
    assert summary["ended"] == "interrupted" and summary["planned_s"] == 50.0
    assert summary["headline"].startswith(
        "Stopped early: 0.1 of 0.8 min. No training phase (0.1 min recorded).")
    for name in ("features", "phases", "music", "spectra", "latency"):
        assert f'<figure id="fig-{name}">' in page


def test_session_stopped_in_training(tmp_path):
    # Stopped 15 s in: 5 s of training, no cool-down, no phase:done.
    folder = write_session(tmp_path, stop_s=15.0, alpha_gain=1.8)
    features = _complete_rows(folder)
    summary, page = _report(folder)

    assert [(p["name"], p["start_s"], p["end_s"]) for p in summary["phases"]] == [
        ("baseline", 0.0, 10.0), ("training", 10.0, 15.0)]
    mean = {phase: sum(float(r["alpha_lnrel_posterior"]) for r in rows) / len(rows) for phase, rows in (
        (phase, [r for r in features if r["phase"] == phase and r["estimate"] == "1"])
        for phase in ("baseline", "training"))}
    change = 100 * (math.exp(mean["training"] - mean["baseline"]) - 1)  # of relative alpha
    training = summary["phases"][1]
    assert training["changes"]["alpha_posterior"] == pytest.approx(change, rel=1e-9)
    assert training["n_hops"] == sum(r["phase"] == "training" for r in features)
    reward = 100 * sum(r["reward"] == "1" for r in features if r["phase"] == "training") / training["n_hops"]
    assert training["reward_pct"] == pytest.approx(reward)
    assert change > 15  # relative alpha: 20% here (absolute alpha power rose over 30%)
    assert summary["headline"].startswith(
        f"Stopped early: 0.2 of 0.8 min. Posterior alpha (relative) rose {change:.0f}% over baseline in "
        "training")
    assert '<figure id="fig-spectra">' in page


def test_session_stopped_before_its_first_window_is_one_line(tmp_path):
    folder = write_session(tmp_path, stop_s=1.0)
    assert_one_line_error(run_cli("report", str(folder)), "has no feedback windows",
                          "stopped after 1.0 s, before its first")


def test_headline_names_a_source_that_is_not_eeg_and_the_time_without_usable_eeg(tmp_path):
    # Lost for 6 s in training, then again 6 s before the end (50 s) and never restored.
    markers = [(20.0, "signal:lost"), (26.0, "signal:restored"), (44.0, "signal:lost")]
    folder = write_session(tmp_path, signal=SYNTHETIC, markers=markers)
    summary, page = _report(folder)

    assert summary["signal"] == SYNTHETIC
    assert summary["signal_lost_s"] == pytest.approx(12.0)
    assert summary["headline"].startswith(
        f"Source: {SYNTHETIC}. No usable EEG for 12.0 s (contact lost or dead headset). "
        "Posterior alpha (relative) ")
    headline = re.search(r'<p class="headline">(.*?)</p>', page).group(1)
    assert headline == summary["headline"].replace("&", "&amp;")
    assert f"({SYNTHETIC})" in page  # the session facts' source line
    assert "no usable EEG for 12.0 s" in page


def test_a_whole_session_of_eeg_has_no_such_sentences(tmp_path):
    summary, _ = _report(write_session(tmp_path))
    assert summary["signal"] is None and summary["signal_lost_s"] == 0.0
    for sentence in ("Source:", "No usable EEG", "Stopped early"):
        assert sentence not in summary["headline"]
