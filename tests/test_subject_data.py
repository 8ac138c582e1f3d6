"""Everything held about a subject, exported whole and erased whole."""

from __future__ import annotations

from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session


def _names_subject(home, subject: str) -> list:
    """Files under ``home`` whose path or content names ``subject``."""
    found = []
    for path in home.rglob("*"):
        if subject in str(path.relative_to(home)):
            found.append(path)
        elif path.is_file() and subject.encode() in path.read_bytes():
            found.append(path)
    return found


def test_export_then_erase_leaves_nothing_that_names_the_subject(tmp_path):
    home = tmp_path / "home"
    env = {"NEUROFEED_HOME": str(home)}
    write_session(home, subject="C01")
    write_session(home, subject="K77")
    assessed = run_cli("assess", "--subject", "C01", "--scale", "gad7", "--answers", "1,1,1,1,1,1,1", env=env)
    assert assessed.returncode == 0
    assert run_cli("course", "plan", "--subject", "C01", "--weeks", "4", "--per-week", "1", "--preset",
                   "relax-alpha", env=env).returncode == 0
    exported = run_cli("subject", "export", "C01", "--out", str(tmp_path / "usb"), env=env)
    assert exported.returncode == 0, exported.stderr
    copied = tmp_path / "usb" / "C01"
    assert (copied / "subject" / "outcomes" / "assessments.tsv").is_file()
    assert len(list((copied / "sessions").iterdir())) == 1
    assert_one_line_error(run_cli("subject", "erase", "C01", env=env), "--confirm C01")
    assert_one_line_error(run_cli("subject", "erase", "C01", "--confirm", "C02", env=env),
                          "nothing was removed")
    assert _names_subject(home, "C01")
    erased = run_cli("subject", "erase", "C01", "--confirm", "C01", env=env)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.count("removed ") == 2
    assert _names_subject(home, "C01") == []
    assert _names_subject(home, "K77")  # another subject's data stays
    assert_one_line_error(run_cli("subject", "erase", "C01", "--confirm", "C01", env=env), "holds nothing")
