"""``neurofeed library`` and ``play --fade-in`` through the real command line, as a user runs them."""

from __future__ import annotations

import json

import pytest
from _cli import assert_one_line_error, run_cli
from test_library_store import write_track


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("library-cli-home")


@pytest.fixture(scope="module")
def added(home, tmp_path_factory):
    """`library add` of a folder holding one track and one text file named .wav."""
    music = tmp_path_factory.mktemp("library-cli-music")
    write_track(music / "calm.wav", 60)
    (music / "broken.wav").write_text("not audio\n")
    return music, run_cli("library", "add", str(music), "--jobs", "1", env={"NEUROFEED_HOME": str(home)})


def cli(home, *args):
    return run_cli("library", *args, env={"NEUROFEED_HOME": str(home)})


def test_add_stores_the_good_and_names_each_skipped_file(added):
    music, result = added
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"skipped {music / 'broken.wav'}: "
                                          + result.stderr.split(": ", 1)[1].splitlines()[0]]
    assert "does not decode" in result.stderr
    assert result.stdout.startswith("1 added, 0 updated, 0 unchanged, 1 skipped")


def test_list_show_and_json(home, added):
    table = cli(home, "list")
    assert table.returncode == 0 and "calm" in table.stdout and "BPM" in table.stdout
    listed = json.loads(cli(home, "list", "--json").stdout)
    assert [t["title"] for t in listed] == ["calm"]
    assert listed[0]["analysis"]["tempo_bpm"] == pytest.approx(60, rel=0.02)
    shown = cli(home, "show", listed[0]["track_id"][:8])
    fields = dict(line.split(": ", 1) for line in shown.stdout.splitlines())
    assert shown.returncode == 0 and fields["title"] == "calm" and fields["path"].startswith("../")
    assert float(fields["tempo_bpm"]) == pytest.approx(listed[0]["analysis"]["tempo_bpm"], abs=1e-3)


def test_rating_needs_a_subject_and_is_stored_for_it(home, added):
    assert_one_line_error(cli(home, "rate", "calm", "liked"), "needs --subject")
    rated = cli(home, "rate", "calm", "liked", "--subject", "S01")
    assert rated.returncode == 0 and "liked for S01" in rated.stdout


def test_an_unknown_track_is_a_one_line_error(home, added):
    assert_one_line_error(cli(home, "remove", "clam"), "'clam'", "did you mean calm")


def test_play_fade_in_is_checked(tmp_path):
    assert_one_line_error(run_cli("play", "--fade-in", "-1", "--wav", str(tmp_path / "x.wav")), "--fade-in")
