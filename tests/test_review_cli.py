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


# -- 3. a stored baseline checked before any source opens ------------------------------

@pytest.fixture(scope="module")
def stored_baseline(tmp_path_factory):
    """A subject S07 calibrated from a file; returns (home, recording, baseline file)."""
    tmp = tmp_path_factory.mktemp("stored")
    recording = _eeg_file(tmp / "cal_raw.fif", seconds=20)
    home = tmp / "home"
    cal = run_cli("calibrate", "--subject", "S07", "--file", str(recording), "--speed", "max",
                  "--duration", "15s", "--audio", "none", "--no-status", env={"NEUROFEED_HOME": str(home)})
    assert cal.returncode == 0, cal.stderr
    return home, recording, home / "subjects" / "S07" / "baseline.json"


def _edited_home(tmp_path, stored_baseline, edit):
    import shutil

    home, _, stored = stored_baseline
    copy = tmp_path / "home"
    shutil.copytree(home / "subjects", copy / "subjects")
    document = json.loads(stored.read_text(encoding="utf-8"))
    edit(document)
    baseline = copy / "subjects" / "S07" / "baseline.json"
    baseline.write_text(json.dumps(document), encoding="utf-8")
    return copy, baseline


def test_a_baseline_without_the_feedback_key_is_refused_before_the_source_opens(tmp_path, stored_baseline):
    home, baseline = _edited_home(tmp_path, stored_baseline,
                                  lambda document: document["features"].pop("alpha_lnrel"))
    # An LSL stream nobody sends: the refusal comes before the source is looked for.
    result = run_cli("run", "--lsl", "name=neurofeed-review-no-such-stream", "--lsl-timeout", "60",
                     "--preset", "relax-alpha", "--subject", "S07", "--audio", "none", "--no-status",
                     env={"NEUROFEED_HOME": str(home)}, timeout=50)
    assert_one_line_error(result, str(baseline), "alpha_lnrel", "older version", "--fresh-baseline",
                          "neurofeed calibrate")
    assert "longer or cleaner" not in result.stderr
    assert not list(home.glob("sub-*"))


def test_a_baseline_of_other_estimator_settings_is_refused_before_the_source_opens(tmp_path, stored_baseline):
    def edit(document):
        document["settings"]["iaf_tau_s"] = 99.0

    home, baseline = _edited_home(tmp_path, stored_baseline, edit)
    result = run_cli("run", "--lsl", "name=neurofeed-review-no-such-stream", "--lsl-timeout", "60",
                     "--preset", "relax-alpha", "--subject", "S07", "--audio", "none", "--no-status",
                     env={"NEUROFEED_HOME": str(home)}, timeout=50)
    assert_one_line_error(result, str(baseline), "other settings", "iaf_tau_s: baseline 99.0, now 10.0",
                          "--fresh-baseline", "neurofeed calibrate")


def test_a_baseline_of_other_channels_is_refused_naming_its_file(tmp_path, stored_baseline):
    import mne
    import numpy as np

    home, _, baseline = stored_baseline
    names = ["Cz", "Pz", "O1", "O2"]
    other = tmp_path / "other_raw.fif"
    mne.io.RawArray(np.random.default_rng(1).normal(scale=5e-6, size=(4, 2500)),
                    mne.create_info(names, 250.0, "eeg"), verbose="error").save(other)
    result = run_cli("replay", str(other), "--preset", "relax-alpha", "--subject", "S07", "--audio", "none",
                     "--no-status", "--out", str(tmp_path / "out"), env={"NEUROFEED_HOME": str(home)})
    assert_one_line_error(result, str(baseline), "other settings", "channels: baseline",
                          "--fresh-baseline", "neurofeed calibrate")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# -- 4. the calibrator says its shortfall ----------------------------------------------

def test_the_calibrator_says_its_shortfall_without_advice():
    from neurofeed.errors import InvalidArgumentError
    from neurofeed.loop import BaselineCalibrator

    calibrator = BaselineCalibrator("alpha_lnrel", {}, "S01")
    assert calibrator.shortfall() == ("the baseline has 0 windows with alpha_lnrel; at least 20 with "
                                      "some spread are needed")
    with pytest.raises(InvalidArgumentError) as err:
        calibrator.finish()
    assert str(err.value) == calibrator.shortfall() + " (a longer or cleaner baseline period)"


# -- 6. session.json names files, never their folders -----------------------------------

def test_a_wav_outside_the_session_folder_is_stored_by_name_only(tmp_path):
    recording = _eeg_file(tmp_path / "Jane_Doe_raw.fif", seconds=15)
    wav = tmp_path / "clients" / "Jane_Doe.wav"
    wav.parent.mkdir()
    result = run_cli("replay", str(recording), "--preset", "relax-alpha", "--audio", f"wav:{wav}",
                     "--no-status", "--no-report", "--out", str(tmp_path / "out"),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert wav.stat().st_size > 44  # the engine wrote to the full path
    (folder,) = (tmp_path / "out").glob("sub-*")
    text = (folder / "session.json").read_text(encoding="utf-8")
    meta = json.loads(text)
    assert meta["audio"] == "wav:Jane_Doe.wav"
    assert meta["source"]["file"] == "Jane_Doe_raw.fif"
    assert str(tmp_path) not in text
    assert f"audio wav:{wav}" in result.stdout  # the user is told where it went


def test_music_rendered_into_the_session_folder_is_stored_as_audio_wav(tmp_path):
    recording = _eeg_file(tmp_path / "in_raw.fif", seconds=15)
    result = run_cli("replay", str(recording), "--preset", "relax-alpha", "--no-status", "--no-report",
                     "--out", str(tmp_path / "out"), env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "out").glob("sub-*")
    meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert meta["audio"] == "wav:audio.wav"
    assert (folder / "audio.wav").stat().st_size > 44
    assert str(tmp_path) not in (folder / "session.json").read_text(encoding="utf-8")
