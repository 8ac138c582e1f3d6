"""Recording questionnaires for a subject: scored entries appended, corrections kept beside what
they correct, and the PHQ-9 item-9 alert shown on every command until a clinician acknowledges it."""

from __future__ import annotations

import csv

from _cli import assert_one_line_error, run_cli

from neurofeed.outcomes import store


def _assess(home, *args):
    return run_cli("assess", "--subject", "C01", *args, env={"NEUROFEED_HOME": str(home)})


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_an_entry_is_scored_stored_and_a_correction_kept_beside_it(tmp_path):
    done = _assess(tmp_path, "--scale", "gad7", "--answers", "1,2,1,0,1,2,1", "--date", "2026-11-24")
    assert done.returncode == 0, done.stderr
    assert "gad7 for C01 on 2026-11-24: 8 (mild)" in done.stdout and done.stderr == ""
    (first,) = store.assessments("C01", tmp_path)
    assert (first["instrument"], first["total"], first["band"], first["answers"], first["reporter"]) == (
        "gad7", "8", "mild", "1,2,1,0,1,2,1", "patient")
    fixed = _assess(tmp_path, "--scale", "gad7", "--answers", "2,2,2,2,2,2,2", "--date", "2026-11-24",
                    "--supersedes", first["entry_id"])
    assert fixed.returncode == 0, fixed.stderr
    (current,) = store.assessments("C01", tmp_path)
    assert current["total"] == "14" and current["supersedes"] == first["entry_id"]
    assert len(store.assessments("C01", tmp_path, current=False)) == 2  # both kept
    listed = _assess(tmp_path, "--list")
    assert "14 (moderate)" in listed.stdout and first["entry_id"] not in listed.stdout


def test_bad_answers_are_one_line_and_write_nothing(tmp_path):
    for args, fragment in ((["--scale", "phq9", "--answers", "1,2,3"], "phq9 takes 9 answers, got 3"),
                           (["--scale", "phq9", "--answers", "0,0,0,0,0,0,0,0,4"], "phq9 item 9: '4'"),
                           (["--scale", "who5", "--answers", "1,1,1,1,x"], "who5 item 5: 'x'"),
                           (["--scale", "sf36", "--answers", "1"], "--scale 'sf36'"),
                           (["--scale", "gad7", "--answers", "0,0,0,0,0,0,0", "--date", "2999-01-01"],
                            "--date '2999-01-01' is in the future"),
                           (["--scale", "gad7", "--answers", "0,0,0,0,0,0,0", "--supersedes", "nope"],
                            "--supersedes 'nope'")):
        assert_one_line_error(_assess(tmp_path, *args), fragment)
    assert not (tmp_path / "subjects" / "C01" / "outcomes" / store.ASSESSMENTS_FILE).exists()


def test_phq9_item_9_raises_an_alert_shown_until_acknowledged_with_a_note(tmp_path):
    done = _assess(tmp_path, "--scale", "phq9", "--answers", "0,0,0,0,0,0,0,0,2")
    assert done.returncode == 0
    (alert,) = store.open_alerts("C01", tmp_path)
    assert (alert.item, alert.answer) == (9, 2)
    assert f"SAFETY ALERT {alert.alert_id}: PHQ9 item 9 answered 2" in done.stderr
    # Every later command shows it, whatever it does.
    later = _assess(tmp_path, "--scale", "who5", "--answers", "3,3,3,3,3")
    assert f"SAFETY ALERT {alert.alert_id}" in later.stderr
    assert f"SAFETY ALERT {alert.alert_id}" in _assess(tmp_path, "--list").stderr
    assert_one_line_error(_assess(tmp_path, "--acknowledge", alert.alert_id), "--acknowledge needs --note")
    acked = _assess(tmp_path, "--acknowledge", alert.alert_id, "--note", "seen today; safety plan made")
    assert acked.returncode == 0 and "SAFETY ALERT" not in acked.stderr
    assert store.open_alerts("C01", tmp_path) == []
    (logged,) = _rows(tmp_path / "subjects" / "C01" / "outcomes" / store.ACKNOWLEDGEMENTS_FILE)
    assert (logged["alert_id"], logged["note"]) == (alert.alert_id, "seen today; safety plan made")
    assert "SAFETY ALERT" not in _assess(tmp_path, "--list").stderr
    # An answer of 0 raises nothing.
    _assess(tmp_path, "--scale", "phq9", "--answers", "3,3,3,3,3,3,3,3,0")
    assert store.open_alerts("C01", tmp_path) == []
