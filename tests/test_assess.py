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


def _on_a_terminal(home, lines: list[str], *args) -> tuple[int, str]:
    """Run ``neurofeed assess`` on a pseudo-terminal, typing ``lines``; its status and output."""
    import os
    import pty
    import select
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    env = {**os.environ, "PYO_GUI_WX": "0", "NEUROFEED_HOME": str(home)}
    process = subprocess.Popen([sys.executable, "-m", "neurofeed", "assess", "--subject", "C01", *args],
                               stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    os.write(controller, "".join(f"{line}\n" for line in lines).encode())
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_assess_asks_each_item_on_a_terminal_with_back_and_correction(tmp_path):
    # 1, 2, back, 3 (item 2 again), 9 refused, then the rest; at the summary an item number that
    # is not one (0) asks again, 3 corrects item 3 to 2, and y saves.
    typed = ["1", "2", "b", "3", "9", "0", "1", "0", "1", "0", "2", "0", "0", "3", "2", "y"]
    status, output = _on_a_terminal(tmp_path, typed, "--scale", "phq9")
    assert status == 0, output
    assert "'9' is not accepted; accepted: a whole number from 0 to 3" in output
    assert "answers 1,3,0,1,0,1,0,2,0: total 8 (mild)" in output
    (entry,) = store.assessments("C01", tmp_path)
    assert (entry["answers"], entry["total"]) == ("1,3,2,1,0,1,0,2,0", "10")


def test_quitting_half_way_stores_nothing_and_says_so(tmp_path):
    status, output = _on_a_terminal(tmp_path, ["1", "2", "q"], "--scale", "gad7")
    assert status == 0 and "quit: nothing stored for C01" in output
    assert store.assessments("C01", tmp_path) == []


def test_the_item_9_alert_appears_on_the_terminal_at_once(tmp_path):
    status, output = _on_a_terminal(tmp_path, ["0"] * 8 + ["1", "y"], "--scale", "phq9")
    assert status == 0 and "SAFETY ALERT" in output and "item 9 answered 1" in output


def test_without_a_terminal_assess_needs_the_answers(tmp_path):
    assert_one_line_error(_assess(tmp_path, "--scale", "phq9"), "--answers LIST")
