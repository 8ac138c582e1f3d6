"""A bad ``--out`` is one line, exit 2, before any source opens: for record, run, replay and
calibrate, whether it is a file, below a file, or on a read-only mount. So is a bad
``--duration``, for every command that takes one.

Checks that end before any source or audio opens call :func:`neurofeed.cli.main` in this
process (the same code as the command, without a second of interpreter start-up each).
"""

from __future__ import annotations

import sys

import pytest
from _cli import assert_one_line_error, run_cli, run_in_mount_namespace

from neurofeed.cli import main

#: Sources that fail loudly if they are ever opened: the board on a serial port that does
#: not exist ("failed to prepare"), the replay on a file that does not exist.
COMMANDS = {
    "record": ["record", "--board", "cyton", "--serial-port", "/dev/ttyNEUROFEED0"],
    "run": ["run", "--preset", "relax-alpha", "--board", "cyton", "--serial-port", "/dev/ttyNEUROFEED0"],
    "replay": ["replay", "missing_raw.fif", "--preset", "relax-alpha"],
    "calibrate": ["calibrate", "--board", "cyton", "--serial-port", "/dev/ttyNEUROFEED0"],
}


def _one_line_error(capsys, monkeypatch, tmp_path, *argv: str) -> str:
    """Run the command line here; assert exit 2 and one line on stderr; return that line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEUROFEED_HOME", str(tmp_path / "home"))
    assert main(list(argv)) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _out(command: str, folder) -> str:
    """What --out names for ``command``: a file for record, a folder for the others."""
    return str(folder / "rest.fif") if command == "record" else str(folder)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("where", ["a file", "below a file"])
def test_bad_out_fails_before_the_source_opens(tmp_path, capsys, monkeypatch, command, where):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder")
    target = blocker if where == "a file" else blocker / "deeper"
    line = _one_line_error(capsys, monkeypatch, tmp_path, *COMMANDS[command], "--out", _out(command, target))
    assert "--out" in line and str(blocker) in line, line
    assert "failed to prepare" not in line and "missing_raw" not in line
    assert not (tmp_path / "home").exists()  # no session folder, not even the home


def test_out_on_a_read_only_mount_fails_before_the_source_opens(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    runs = "\n".join(
        f"{sys.executable} -m neurofeed {' '.join(args)} --out {_out(command, readonly / 'x')} "
        f"2>{tmp_path / command}.err; echo $? >{tmp_path / command}.rc"
        for command, args in COMMANDS.items())
    run_in_mount_namespace(f"mount --bind {readonly} {readonly} && mount -o remount,bind,ro {readonly}",
                           runs, env={"NEUROFEED_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    for command in COMMANDS:
        rc = int((tmp_path / f"{command}.rc").read_text())
        lines = (tmp_path / f"{command}.err").read_text().splitlines()
        assert rc == 2 and len(lines) == 1, (command, rc, lines)
        assert "--out" in lines[0] and "Read-only file system" in lines[0], lines
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("command", ["record", "run", "replay", "calibrate", "play", "stream"])
@pytest.mark.parametrize("duration", ["20 minutes", "0", "-5s", "5d", "nan"])
def test_bad_duration_is_one_line_for_every_command(tmp_path, capsys, monkeypatch, command, duration):
    args = {**COMMANDS, "play": ["play"], "stream": ["stream", "--board", "synthetic"]}[command]
    out = [] if command in ("play", "stream") else ["--out", _out(command, tmp_path / "out")]
    line = _one_line_error(capsys, monkeypatch, tmp_path, *args, f"--duration={duration}", *out)
    assert f"--duration {duration!r} is not accepted" in line and "90s, 20m" in line, line
    assert "failed to prepare" not in line


def test_a_session_that_fails_before_its_first_sample_leaves_no_folder(tmp_path):
    home = tmp_path / "home"
    result = run_cli("run", "--board", "synthetic", "--preset", "relax-alpha", "--audio", "jack",
                     env={"NEUROFEED_HOME": str(home), "JACK_DEFAULT_SERVER": "neurofeed-absent"})
    assert_one_line_error(result, "JACK")
    assert list(home.iterdir()) == []
