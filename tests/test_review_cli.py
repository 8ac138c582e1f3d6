"""Regressions from a review of the command line: damaged session.json fields, stop signals
around the export, stored baselines checked before the source opens, the calibrator's
shortfall, importing from a read-only folder, and paths in session.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _damage(folder, **fields) -> None:
    meta_path = folder / "session.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(fields)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize("fields, key", [
    ({"preset_config": [1]}, "preset_config"),
    ({"preset_config": {"feedback": "up", "phases": {}}}, "preset_config.feedback"),
    ({"preset_config": {"feedback": {}, "phases": {"training": "long"}}}, "preset_config.phases.training"),
    ({"hop_s": "fast"}, "hop_s"),
])
def test_report_of_a_damaged_session_json_is_one_line_naming_folder_and_key(tmp_path, fields, key):
    folder = write_session(tmp_path, started=START)
    _damage(folder, **fields)
    result = run_cli("report", str(folder), cwd=tmp_path, env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert_one_line_error(result, str(folder), key)
    assert not (folder / "report" / "report.html").exists()


def test_progress_skips_a_damaged_folder_with_a_warning_and_keeps_the_course(tmp_path):
    from neurofeed.report import session_summary

    folders = [write_session(tmp_path, seed=week, alpha_gain=1.2 + 0.3 * week,
                             started=START + timedelta(weeks=week)) for week in range(3)]
    _damage(folders[1], preset_config=[1])
    out = tmp_path / "progress"
    result = run_cli("progress", "--subject", "S01", "--sessions", str(tmp_path), "--out", str(out),
                     cwd=tmp_path, env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, result.stderr
    assert str(folders[1]) in warnings[0] and "preset_config" in warnings[0]
    rows = (out / "progress.tsv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    kept = [dict(zip(header, row.split("\t"), strict=True))["folder"] for row in rows[1:]]
    assert kept == [str(folders[0]), str(folders[2])]
    # The API says it in one line too.
    from neurofeed.errors import SessionFolderError

    with pytest.raises(SessionFolderError, match="preset_config"):
        session_summary(folders[1])


# -- 2. a stop signal once the capture or the session is over --------------------------

#: Runs the real command line, sending this process SIGTERM when the function named by
#: argv[1] (a qualified name) is first called: a stop at exactly that point of the stopping.
_SIGNAL_AT = """
import os, signal, sys
target = sys.argv[1]
def hook(frame, event, arg):
    if event == "call" and frame.f_code.co_qualname == target:
        sys.setprofile(None)
        os.kill(os.getpid(), signal.SIGTERM)
sys.setprofile(hook)
from neurofeed.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run_signalled_at(tmp_path, qualname: str, *args: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1",
           "NEUROFEED_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-c", _SIGNAL_AT, qualname, *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def _eeg_file(path, seconds: float = 30.0):
    import mne
    import numpy as np

    names = ["Fz", "F3", "F4", "Cz", "Pz", "O1", "Oz", "O2"]
    t = np.arange(int(seconds * 250)) / 250.0
    rng = np.random.default_rng(0)
    data = rng.normal(scale=5e-6, size=(len(names), t.size)) + 10e-6 * np.sin(2 * np.pi * 10 * t)
    mne.io.RawArray(data, mne.create_info(names, 250.0, "eeg"), verbose="error").save(path)
    return path


def test_record_stopped_while_releasing_the_source_still_writes_out(tmp_path):
    import mne

    recording = _eeg_file(tmp_path / "in_raw.fif")
    out = tmp_path / "rest.fif"
    result = _run_signalled_at(tmp_path, "_silent_s", "record", "--file", str(recording), "--speed",
                               "max", "--duration", "5", "--out", str(out), "--no-progress")
    assert result.returncode == 128 + 15, result.stderr
    assert "Traceback" not in result.stderr
    assert f"-> {out}" in result.stdout
    written = mne.io.read_raw_fif(out, verbose="error")
    assert written.n_times == 5 * 250


def test_session_stopped_after_it_returned_still_stores_summary_and_report(tmp_path):
    recording = _eeg_file(tmp_path / "in_raw.fif")
    result = _run_signalled_at(tmp_path, "StatusPrinter.close", "replay", str(recording), "--preset",
                               "relax-alpha", "--duration", "20s", "--audio", "none",
                               "--out", str(tmp_path / "out"))
    assert result.returncode == 128 + 15, result.stderr
    assert "Traceback" not in result.stderr
    (folder,) = (tmp_path / "out").glob("sub-*")
    assert f"session folder: {folder}" in result.stdout
    assert f"report: {folder / 'report' / 'report.html'}" in result.stdout
    meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert meta["status"] == "finalised" and meta["summary"]["target"] == "alpha_posterior"
