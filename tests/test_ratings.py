"""Ratings before and after a session: checked, stored per subject, a later entry superseding."""

from __future__ import annotations

import json

from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session

from neurofeed.outcomes.ratings import session_ratings


def test_ratings_are_added_to_a_session_and_a_later_entry_supersedes(tmp_path):
    home = tmp_path / "home"
    folder = write_session(tmp_path / "sessions")
    env = {"NEUROFEED_HOME": str(home)}
    done = run_cli("rate", str(folder), "--pre", "mood=3,relax=4", "--post", "mood=6, relax=7,valence=7",
                   env=env)
    assert done.returncode == 0, done.stderr
    meta = json.loads((folder / "session.json").read_text())
    subject, session_id = meta["subject"], meta["session_id"]
    ratings = session_ratings(subject, home)
    assert (ratings[(session_id, "pre")]["mood"], ratings[(session_id, "pre")]["relax"]) == ("3", "4")
    assert ratings[(session_id, "pre")]["valence"] == "n/a"
    assert (ratings[(session_id, "post")]["mood"], ratings[(session_id, "post")]["valence"]) == ("6", "7")
    assert run_cli("rate", str(folder), "--post", "mood=5", env=env).returncode == 0
    assert session_ratings(subject, home)[(session_id, "post")]["mood"] == "5"
    rows = (home / "subjects" / subject / "outcomes" / "ratings.tsv").read_text().splitlines()
    assert len(rows) == 1 + 3  # header and every entry, kept


def test_bad_ratings_are_one_line_and_write_nothing(tmp_path):
    home = tmp_path / "home"
    folder = write_session(tmp_path / "sessions")
    env = {"NEUROFEED_HOME": str(home)}
    for args, fragment in ((["--pre", "mood=11"], "--pre mood='11' is not accepted; accepted: a whole number "
                                                  "from 0 to 10"),
                           (["--post", "valence=0"], "--post valence='0'"),
                           (["--pre", "happiness=3"], "'happiness=3' is not a rating"),
                           (["--pre", "mood=3,mood=4"], "gives mood twice"),
                           ([], "rate needs --pre or --post")):
        assert_one_line_error(run_cli("rate", str(folder), *args, env=env), fragment)
    assert_one_line_error(run_cli("rate", str(tmp_path), "--pre", "mood=3", env=env), str(tmp_path))
    assert not (home / "subjects").exists()


def test_run_asks_the_ratings_before_and_after_on_a_terminal(tmp_path):
    import os
    import pty
    import select
    import subprocess
    import sys

    from neurofeed.folder import read_session_json

    home = tmp_path / "home"
    controller, terminal = pty.openpty()
    env = {**os.environ, "PYO_GUI_WX": "0", "NEUROFEED_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "neurofeed", "run", "--preset", "relax-alpha", "--board", "synthetic",
         "--subject", "C01", "--duration", "4", "--baseline", "2", "--audio", "none", "--no-status",
         "--no-report", "--ratings", "--out", str(tmp_path / "sessions")],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    # Before: mood 3, relax 11 (asked again) then 4, valence skipped, arousal 6; after: mood 7.
    os.write(controller, b"3\n11\n4\n\n6\n7\n\n\n\n")
    output = b""
    while select.select([controller], [], [], 120)[0]:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.wait(timeout=120) == 0, output.decode(errors="replace")
    assert b"'11' is not accepted" in output
    (folder,) = (tmp_path / "sessions").iterdir()
    assert read_session_json(folder)["ratings_pre"] == {"mood": 3, "relax": 4, "arousal": 6}
    ratings = session_ratings("C01", home)
    pre, post = ratings[(folder.name, "pre")], ratings[(folder.name, "post")]
    assert (pre["mood"], pre["relax"], pre["valence"], pre["arousal"]) == ("3", "4", "n/a", "6")
    assert (post["mood"], post["relax"]) == ("7", "n/a")


def test_without_a_terminal_run_skips_the_ratings_saying_so(tmp_path):
    done = run_cli("run", "--preset", "relax-alpha", "--board", "synthetic", "--subject", "C01", "--duration",
                   "3", "--baseline", "1", "--audio", "none", "--no-status", "--no-report", "--ratings",
                   "--out", str(tmp_path / "sessions"), env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert "--ratings skipped: no terminal" in done.stderr
    assert session_ratings("C01", tmp_path / "home") == {}
