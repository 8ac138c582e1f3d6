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
