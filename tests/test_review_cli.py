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
