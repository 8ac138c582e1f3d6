"""Reports of sessions written by the real closed loop: `neurofeed replay`, then report and progress."""

from __future__ import annotations

import csv
import json
import re

import mne
import numpy as np
import pytest
from _cli import run_cli
from _session_fixture import CHANNELS, SFREQ, synthesise_eeg

from neurofeed.registry import FEEDBACK

OPENBCI = "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
ALPHA = FEEDBACK["alpha_posterior"]


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """A data home of the test's own: no stored baseline or session of the user's is seen."""
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "home"))


def _replay(file, out, *args: str):
    result = run_cli("replay", str(file), "--preset", "relax-alpha", "--out", str(out), "--audio", "none",
                     "--no-status", *args)
    assert result.returncode == 0, result.stderr
    (folder,) = out.glob("sub-*")
    return folder


def _tsv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_replayed_recording_gets_a_report_true_to_its_files(shared_eeg, tmp_path):
    # The replay writes the report itself, at the end of the session.
    folder = _replay(shared_eeg / OPENBCI, tmp_path / "sessions", "--subject", "S01", "--duration", "80s",
                     "--baseline", "20s")

    page = (folder / "report" / "report.html").read_text(encoding="utf-8")
    for name in ("features", "phases", "music", "spectra"):
        assert f'<figure id="fig-{name}"><img src="data:image/png;base64,' in page
        assert (folder / "report" / f"{name}.png").stat().st_size > 10_000
    summary = json.loads((folder / "report" / "summary.json").read_text())

    rows = _tsv(folder / "features.tsv")
    # The fed-back alpha is a mean log relative power: its change is that of the ratio.
    alpha = {phase: np.mean([float(r[ALPHA.column]) for r in rows if r["phase"] == phase
                             and r["estimate"] == "1" and r[ALPHA.column] != "n/a"])
             for phase in ("baseline", "training")}
    change = 100 * (np.exp(alpha["training"] - alpha["baseline"]) - 1)
    training = [r for r in rows if r["phase"] == "training"]
    reward = 100 * np.mean([r["reward"] == "1" for r in training])
    phases = {p["name"]: p for p in summary["phases"]}
    assert phases["training"]["changes"]["alpha_posterior"] == pytest.approx(change, rel=1e-9)
    assert phases["training"]["reward_pct"] == pytest.approx(reward)
    assert summary["estimate_pct"] == pytest.approx(100 * np.mean([r["estimate"] == "1" for r in rows]))
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    assert summary["duration_s"] == pytest.approx(raw.n_times / raw.info["sfreq"], abs=0.01)
    headline = re.search(r'<p class="headline">(.*?)</p>', page).group(1)
    assert f"reward {reward:.0f}% of the time" in headline
    assert f"{abs(change):.0f}% {'over' if change > 0 else 'below'} baseline" in headline


def test_progress_over_three_replayed_sessions_rises(tmp_path):
    outs = []
    for week, gain in enumerate((1.1, 1.5, 1.9)):
        recording = tmp_path / f"week{week}_raw.fif"
        raw = mne.io.RawArray(synthesise_eeg(gain, seed=week), mne.create_info(CHANNELS, SFREQ, "eeg"),
                              verbose="error")
        raw.save(recording, verbose="error")
        outs.append(tmp_path / f"out{week}")
        _replay(recording, outs[-1], "--subject", "S01", "--duration", "50s", "--baseline", "10s",
                "--no-report")
    report_dir = tmp_path / "progress"
    args = [a for out in outs for a in ("--sessions", str(out))]
    result = run_cli("progress", "--subject", "S01", *args, "--out", str(report_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    rows = _tsv(report_dir / "progress.tsv")
    assert len(rows) == 3
    changes = [float(r["change"]) for r in rows]
    slope = np.polyfit([1, 2, 3], changes, 1)[0]
    assert slope > 0
    assert f"trend {slope:+.1f} percentage points per session" in (report_dir / "progress.html").read_text()


def test_session_on_a_stored_baseline_is_compared_with_it(shared_eeg, tmp_path):
    recording = shared_eeg / OPENBCI
    result = run_cli("calibrate", "--file", str(recording), "--speed", "max", "--subject", "C1",
                     "--duration", "30s", "--audio", "none", "--no-status", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = _replay(recording, tmp_path / "sessions", "--subject", "C1", "--duration", "60s",
                     "--start", "30")

    rows = _tsv(folder / "features.tsv")
    assert "baseline" not in {r["phase"] for r in rows}
    stored = json.loads((folder / "baseline.json").read_text())["features"][ALPHA.key]["mean"]
    training = np.mean([float(r[ALPHA.column]) for r in rows if r["phase"] == "training"
                        and r["estimate"] == "1" and r[ALPHA.column] != "n/a"])
    summary = json.loads((folder / "report" / "summary.json").read_text())
    assert summary["baseline"] == "stored baseline"
    training_phase = next(p for p in summary["phases"] if p["name"] == "training")
    expected = 100 * (np.exp(training - stored) - 1)
    assert training_phase["changes"]["alpha_posterior"] == pytest.approx(expected)
    assert "Changes are against the subject's stored baseline." in summary["headline"]
