"""The data home (per-user by default, owner-only, NEUROFEED_HOME wins), ``neurofeed
import``, and the CLI vocabulary's parsers: durations and ``--source``."""

from __future__ import annotations

import json
import stat

import mne
import numpy as np
import pytest
from _cli import run_cli

from neurofeed.cli import build_parser, main
from neurofeed.cli._options import parse_duration
from neurofeed.cli._source_args import (
    DEFAULT_ROLE,
    SourceSpec,
    parse_source_spec,
    parse_sources,
    source_from_args,
)
from neurofeed.errors import InvalidArgumentError
from neurofeed.folder import FolderLock
from neurofeed.home import data_home


def _old_recordings(root):
    """A ./recordings folder as earlier versions wrote it: two sessions and a baseline."""
    for name in ("sub-S01_20261101-100000_relax-alpha", "sub-S01_20261108-100000_relax-alpha"):
        (root / name).mkdir(parents=True)
        (root / name / "session.json").write_text(json.dumps({"session_id": name, "status": "finalised"}))
        (root / name / "eeg_raw.fif").write_bytes(b"fif")
    (root / "subjects" / "S01").mkdir(parents=True)
    (root / "subjects" / "S01" / "baseline.json").write_text("{}")
    return root


def test_default_home_is_per_user_owner_only_and_import_fills_it(tmp_path):
    old = _old_recordings(tmp_path / "project" / "recordings")
    # An empty NEUROFEED_HOME counts as unset, as in a shell.
    user = tmp_path / "user"
    env = {"NEUROFEED_HOME": "", "HOME": str(user), "XDG_DATA_HOME": str(user / "data")}
    result = run_cli("import", str(old), env=env)
    home = tmp_path / "user" / "data" / "neurofeed"  # platformdirs' user_data_dir on Linux
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"copied 2 sessions and 1 stored baseline from {old} to {home}"]
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / "sub-S01_20261108-100000_relax-alpha" / "eeg_raw.fif").read_bytes() == b"fif"
    assert (home / "subjects" / "S01" / "baseline.json").exists()
    assert (old / "sub-S01_20261101-100000_relax-alpha").exists()  # copied, not moved
    # Nothing in the home is replaced: a second import leaves everything out, on one line.
    again = run_cli("import", str(old), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == (
        "left out 3 already in the home: sub-S01_20261101-100000_relax-alpha, "
        "sub-S01_20261108-100000_relax-alpha, subjects/S01/baseline.json")


def test_neurofeed_home_wins_and_import_moves(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "mine"))
    assert data_home() == tmp_path / "mine"
    old = _old_recordings(tmp_path / "recordings")
    assert main(["import", str(old), "--move"]) == 0
    assert "moved 2 sessions and 1 stored baseline" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == [
        "sub-S01_20261101-100000_relax-alpha", "sub-S01_20261108-100000_relax-alpha", "subjects"]
    assert not (old / "sub-S01_20261101-100000_relax-alpha").exists()
    assert not (tmp_path / "xdg").exists()


@pytest.mark.parametrize("folder, fragment", [
    ("nowhere", "is not a folder"), ("empty", "holds no session folders")])
def test_import_refuses_what_is_not_old_recordings(tmp_path, monkeypatch, capsys, folder, fragment):
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "home"))
    (tmp_path / "empty").mkdir()
    assert main(["import", str(tmp_path / folder)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines


@pytest.mark.parametrize("text, seconds", [
    ("90", 90.0), ("90s", 90.0), ("20m", 1200.0), ("20min", 1200.0), ("1.5h", 5400.0),
    (" 2 m ", 120.0), (".5s", 0.5), (45, 45.0)])
def test_duration_parser(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "0s", "-1", "4.01h", "20 minutes", "1e3", "nan", "", "m", "5d"])
def test_duration_parser_refuses(text):
    with pytest.raises(InvalidArgumentError, match=r"--duration .* is not accepted; accepted: a time "
                                                   r"over 0 and up to 4h, such as 90, 90s, 20m or 1.5h"):
        parse_duration(text)


def test_duration_parser_names_the_option_and_its_own_limit():
    assert parse_duration("24h", max_s=24 * 3600) == 86400.0
    with pytest.raises(InvalidArgumentError, match=r"^--baseline '25h' .* up to 24h"):
        parse_duration("25h", "--baseline", max_s=24 * 3600)


@pytest.mark.parametrize("text, spec", [
    ("board:synthetic", SourceSpec(DEFAULT_ROLE, "board", "synthetic", {})),
    ("client=lsl:type=EEG", SourceSpec("client", "lsl", "type=EEG", {})),
    ("lsl:type=EEG,lsl-timeout=10", SourceSpec(DEFAULT_ROLE, "lsl", "type=EEG", {"lsl-timeout": "10"})),
    ("therapist=board:muse_2,mac-address=00:55:DA:B0:0B:61",
     SourceSpec("therapist", "board", "muse_2", {"mac-address": "00:55:DA:B0:0B:61"})),
    ("file:C:/data/rest.fif,speed=max,loop=yes",
     SourceSpec(DEFAULT_ROLE, "file", "C:/data/rest.fif", {"speed": "max", "loop": "yes"})),
    ("simulate", SourceSpec(DEFAULT_ROLE, "simulate", "", {})),
    ("demo=simulate:3", SourceSpec("demo", "simulate", "3", {})),
])
def test_source_parser(text, spec):
    assert parse_source_spec(text) == spec


@pytest.mark.parametrize("text, fragment", [
    ("eeg:x", "the kind 'eeg' is unknown; accepted kinds: board|lsl|file|simulate"),
    ("client=usb:x", "the kind 'usb' is unknown"),
    ("board:", "board needs an argument after 'board:'"),
    ("lsl", "lsl needs an argument"),
    ("board:muse_2,speed=2", "'speed' is not a parameter of board; accepted: serial-port, mac-address"),
    ("board:muse_2,serial-port", "'serial-port' is not accepted; accepted: KEY=VALUE, each key once"),
    ("board:cyton,serial-port=a,serial-port=b", "each key once"),
    ("bad role=board:x", "the role 'bad role' is not a name"),
])
def test_source_parser_refuses_naming_the_bad_part(text, fragment):
    with pytest.raises(InvalidArgumentError) as error:
        parse_source_spec(text)
    message = str(error.value)
    assert fragment in message and message.startswith(f"--source {text!r}: ") and "\n" not in message
    assert message.endswith("the form is [ROLE=]KIND:ARG[,KEY=VALUE...]")


def test_source_parser_refuses_a_role_twice():
    with pytest.raises(InvalidArgumentError, match="the role 'client' is given more than once"):
        parse_sources(["client=board:synthetic", "client=lsl:EEG"])


def test_one_source_maps_onto_the_one_person_options(tmp_path):
    spec = "board:synthetic,serial-port=/dev/ttyX,ip-port=6677"
    args = build_parser().parse_args(["record", "--source", spec, "--out", str(tmp_path / "x.fif")])
    source = source_from_args(args)
    assert (args.board, args.serial_port, args.ip_port) == ("synthetic", "/dev/ttyX", 6677)
    assert type(source).__name__ == "BrainFlowSource"
    rest = tmp_path / "rest_raw.fif"
    mne.io.RawArray(np.zeros((2, 2500)), mne.create_info(["O1", "O2"], 250.0, "eeg"),
                    verbose="error").save(rest)
    args = build_parser().parse_args(["run", "--preset", "relax-alpha", "--source",
                                      f"client=file:{rest},speed=max,loop=no,start=2"])
    source = source_from_args(args)
    assert (args.file, args.speed, args.loop, args.start) == (str(rest), "max", False, "2")
    assert source.speed == "max" and source.description["start_s"] == 2.0
    args = build_parser().parse_args(["record", "--source", "simulate:7", "--out", str(tmp_path / "x.fif")])
    assert type(source_from_args(args)).__name__ == "SimulatedListener"


def test_several_sources_are_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "home"))
    assert main(["run", "--preset", "relax-alpha", "--source", "client=board:synthetic",
                 "--source", "therapist=board:synthetic", "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["neurofeed run: error: --source is given 2 times (client, therapist): a session "
                     "with several sources is not supported yet; give one"]
    assert not (tmp_path / "home").exists()


def test_import_leaves_out_a_session_still_being_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "home"))
    old = _old_recordings(tmp_path / "recordings")
    live = old / "sub-S01_20261108-100000_relax-alpha"
    with FolderLock(live):  # as the recorder of a running session holds it
        assert main(["import", str(old)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"left out 1 still being written (import them once they end): {live.name}"]
    assert not (tmp_path / "home" / live.name).exists()
    assert not (tmp_path / "home" / "sub-S01_20261101-100000_relax-alpha" / "session.lock").exists()


def test_import_from_a_read_only_folder_copies_without_writing_it(tmp_path):
    import sys

    from _cli import run_in_mount_namespace

    old = _old_recordings(tmp_path / "recordings")
    ended = old / "sub-S01_20261108-100000_relax-alpha"
    (ended / "session.lock").write_text("4242\n")  # left by a session that ended
    home = tmp_path / "home"
    before = sorted(str(p.relative_to(old)) for p in old.rglob("*"))
    done = run_in_mount_namespace(f"mount --bind {old} {old} && mount -o remount,bind,ro {old}",
                                  f"touch {old}/probe 2>/dev/null && exit 98\n"
                                  f"exec {sys.executable} -m neurofeed import {old}",
                                  env={"NEUROFEED_HOME": str(home)}, cwd=tmp_path)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.splitlines() == [f"copied 2 sessions and 1 stored baseline from {old} to {home}"]
    assert (home / ended.name / "eeg_raw.fif").read_bytes() == b"fif"
    assert not (home / ended.name / "session.lock").exists()
    assert sorted(str(p.relative_to(old)) for p in old.rglob("*")) == before
    assert sorted(p.name for p in home.iterdir()) == [
        "sub-S01_20261101-100000_relax-alpha", "sub-S01_20261108-100000_relax-alpha", "subjects"]


def test_an_import_that_failed_half_way_is_not_taken_for_an_imported_session(tmp_path):
    old = _old_recordings(tmp_path / "recordings")
    broken = old / "sub-S01_20261108-100000_relax-alpha"
    (broken / "notes.txt").symlink_to(tmp_path / "gone.txt")  # a dangling link: the copy fails
    env = {"NEUROFEED_HOME": str(tmp_path / "home")}
    home = tmp_path / "home"
    failed = run_cli("import", str(old), env=env)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert len([line for line in failed.stderr.splitlines() if line.strip()]) == 1, failed.stderr
    assert not (home / broken.name).exists()  # what the copy left is not in place
    (broken / "notes.txt").unlink()
    (broken / "notes.txt").write_text("kept")
    again = run_cli("import", str(old), env=env)
    assert again.returncode == 0, again.stderr
    assert "already in the home" not in again.stdout or broken.name not in again.stdout
    assert (home / broken.name / "notes.txt").read_text() == "kept"
    assert (home / broken.name / "eeg_raw.fif").read_bytes() == b"fif"
    assert sorted(p.name for p in home.iterdir()) == [
        "sub-S01_20261101-100000_relax-alpha", "sub-S01_20261108-100000_relax-alpha", "subjects"]
