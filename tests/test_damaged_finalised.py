"""A finished session folder damaged afterwards: `report` says so in one line, and `recover`
never rebuilds a finalised folder from live files that were cut since (that lost data)."""

from __future__ import annotations

import json
import shutil

import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli
from _session_fixture import write_session

from neurofeed.folder import EEG_FILE, MUSIC_FILE, RAW_FILE


def _garble(path, fraction: float = 0.05, seed: int = 1) -> None:
    """Overwrite ``fraction`` of the file's bytes with random ones (a bad disk, a bad copy)."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    where = rng.choice(len(data), size=max(1, int(len(data) * fraction)), replace=False)
    for i in where:
        data[i] = int(rng.integers(0, 256))
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return write_session(tmp_path_factory.mktemp("sessions"))


@pytest.mark.parametrize("name", [MUSIC_FILE, RAW_FILE])
def test_report_on_a_garbled_file_is_one_line(finished, tmp_path, name):
    folder = tmp_path / "s"
    shutil.copytree(finished, folder)
    _garble(folder / name)
    assert_one_line_error(run_cli("report", str(folder)), str(folder), "is damaged",
                          "cannot be built")


def test_recover_leaves_a_finalised_folder_as_it_is(finished, tmp_path):
    folder = tmp_path / "s"
    shutil.copytree(finished, folder)
    before = mne.io.read_raw_fif(folder / RAW_FILE, verbose="error").n_times
    eeg = folder / EEG_FILE
    eeg.write_bytes(eeg.read_bytes()[:eeg.stat().st_size * 2 // 3])  # the live file cut since

    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    assert "already finalised" in result.stdout
    assert mne.io.read_raw_fif(folder / RAW_FILE, verbose="error").n_times == before

    # Asked for, it is finalised again from what the live files now hold.
    result = run_cli("recover", "--force", str(folder))
    assert result.returncode == 0, result.stderr
    assert mne.io.read_raw_fif(folder / RAW_FILE, verbose="error").n_times < before
    assert json.loads((folder / "session.json").read_text())["status"] == "finalised"
