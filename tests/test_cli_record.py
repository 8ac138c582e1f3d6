"""``neurofeed`` top level and ``neurofeed record``, run as real subprocesses."""

from __future__ import annotations

import json
import stat

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli

from neurofeed import __version__
from neurofeed.cli import build_parser


def test_version_and_help():
    assert run_cli("--version").stdout.strip() == f"neurofeed {__version__}"
    result = run_cli("--help")
    assert result.returncode == 0
    assert "record" in result.stdout and "examples:" in result.stdout


def test_every_subcommand_has_help_with_an_example():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert "record" in commands
    for name, sub in commands.items():
        text = sub.format_help()
        assert "examples:" in text and f"neurofeed {name}" in text.split("examples:")[1], name


@pytest.mark.parametrize("suffix", [".fif", ".edf"])
def test_record_synthetic_board_to_file(tmp_path, suffix):
    out = tmp_path / f"rest{suffix}"
    result = run_cli("record", "--board", "synthetic", "--duration", "2s", "--out", str(out),
                     env={"NEUROFEED_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert f"-> {out}" in result.stdout
    # record is a session without music: its folder in the data home is finalised too.
    folder = next((tmp_path / "home").glob("sub-anonymous_*_record"))
    assert f"session folder: {folder}" in result.stdout
    assert json.loads((folder / "session.json").read_text())["status"] == "finalised"
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700  # created owner-only
    raw = mne.io.read_raw(out, preload=True, verbose="error")
    assert raw.info["sfreq"] == 250
    assert len(raw.ch_names) == 16 and raw.ch_names[0] == "Fz"
    assert raw.n_times == 500
    rms = np.sqrt(np.mean(raw.get_data() ** 2, axis=1))
    assert np.all((rms > 1e-6) & (rms < 1e-3))


def test_record_refuses_to_overwrite(tmp_path):
    out = tmp_path / "x.fif"
    out.write_bytes(b"keep me")
    result = run_cli("record", "--board", "synthetic", "--duration", "1", "--out", str(out))
    assert_one_line_error(result, "--out", "exists", "--overwrite")
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("args, fragments", [
    (["--board", "syntetic"], ["unknown board 'syntetic'", "did you mean synthetic"]),
    (["--board", "cyton", "--serial-port", "/dev/ttyNEUROFEED0"],
     ["board 'Cyton' failed to prepare", "'/dev/ttyNEUROFEED0'"]),
    (["--board", "synthetic", "--duration", "0"], ["--duration '0' is not accepted", "up to 24h"]),
    (["--board", "synthetic", "--duration", "25h"], ["--duration '25h' is not accepted"]),
    (["--board", "synthetic", "--duration", "ten"], ["--duration 'ten'", "such as 90, 90s, 20m"]),
    (["--board", "synthetic", "--stall-timeout", "-1"], ["--stall-timeout"]),
    (["--board", "synthetic", "--out-format"], ["unrecognized arguments"]),
    ([], ["one of the arguments --board --lsl --file --simulate --source is required"]),
])
def test_record_bad_input(tmp_path, args, fragments):
    result = run_cli("record", *args, "--out", str(tmp_path / "x.fif"))
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "x.fif").exists()


def test_record_bad_suffix(tmp_path):
    result = run_cli("record", "--board", "synthetic", "--out", str(tmp_path / "x.wav"))
    assert_one_line_error(result, "unsupported suffix", ".fif, .fif.gz, .edf, .vhdr")


def test_devices_lists_boards_streams_and_audio_outputs():
    result = run_cli("devices", "--lsl-timeout", "0.2", "--lsl-scope", "machine")
    assert result.returncode == 0, result.stderr
    assert "synthetic (-1)" in result.stdout
    assert "LSL streams visible now" in result.stdout
    assert "Audio outputs, for --audio" in result.stdout
