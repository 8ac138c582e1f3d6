"""Hostile and damaged headers through the real CLI: one line, exit 2, nothing allocated.

Every file is written here: a real file from its real writer (MNE's export, the XDF test
writer), then its header rewritten to declare an absurd rate, channel count or length.
"""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pytest
import scipy.io
from _cli import assert_one_line_error, run_cli
from _files_xdf import XdfStream, write_xdf

from neurofeed.acquire import FileSource
from neurofeed.limits import MAX_CHANNELS, MAX_SFREQ_HZ, MIN_SFREQ_HZ

SFREQ = 256.0
RATE_RANGE = f"accepted: from {MIN_SFREQ_HZ:g} to {MAX_SFREQ_HZ:g} Hz"
CHANNEL_RANGE = f"accepted: 1 to {MAX_CHANNELS}"


def _raw(seconds=8.0, n_channels=4):
    data = np.random.default_rng(0).normal(scale=20e-6, size=(n_channels, int(seconds * SFREQ)))
    names = ["Fz", "Cz", "Pz", "Oz", "O1", "O2"][:n_channels]
    return mne.io.RawArray(data, mne.create_info(names, SFREQ, "eeg"), verbose="error")


def openbci(rate="250", n_exg=4):
    def make(folder: Path) -> Path:
        columns = ", ".join(f"EXG Channel {i}" for i in range(n_exg))
        row = ", ".join(["0"] + ["1.5"] * n_exg)
        path = folder / "OpenBCI-RAW.txt"
        path.write_text(f"%OpenBCI Raw EXG Data\n%Number of channels = {n_exg}\n"
                        f"%Sample Rate = {rate} Hz\nSample Index, {columns}\n{row}\n{row}\n")
        return path
    return make


#: Byte ranges of the EDF header's fixed fields (EDF spec, section 2.1.3.1).
EDF_FIELDS = {"records": (236, 8), "record_s": (244, 8), "signals": (252, 4)}


def edf(suffix=".edf", **fields):
    def make(folder: Path) -> Path:
        path = folder / f"rec{suffix}"
        _raw().export(path, verbose="error")
        header = bytearray(path.read_bytes())
        for key, value in fields.items():
            start, size = EDF_FIELDS[key]
            header[start:start + size] = str(value).ljust(size).encode()
        path.write_bytes(bytes(header))
        return path
    return make


def brainvision(old, new):
    def make(folder: Path) -> Path:
        path = folder / "rec.vhdr"
        _raw().export(path, verbose="error")
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
        return path
    return make


def xdf(rate=250.0, n_channels=4, desc_xml=b""):
    def make(folder: Path) -> Path:
        samples = np.zeros((100, n_channels), dtype=np.float32)
        stream = XdfStream("Amp", "EEG", rate, "float32", 1000 + np.arange(100) / 250, samples,
                           desc_xml=desc_xml)
        return write_xdf(folder / "rec.xdf", [stream])
    return make


def eeglab_declaring(n_times):
    def make(folder: Path) -> Path:
        path = folder / "rec.set"
        _raw().export(path, verbose="error")
        fields = {k: v for k, v in scipy.io.loadmat(path, appendmat=False).items()
                  if not k.startswith("__")}
        fields["pnts"] = np.array([[n_times]])
        scipy.io.savemat(path, fields, appendmat=False)
        return path
    return make


def cut(make, keep):
    def truncate(folder: Path) -> Path:
        path = make(folder)
        path.write_bytes(path.read_bytes()[:keep(path)])
        return path
    return truncate


def _home(folder: Path) -> dict:
    """The environment that keeps a command's session folders out of the user's data home."""
    return {"NEUROFEED_HOME": str(folder / "home")}


RECORD = ["record", "--speed", "max", "--duration", "1", "--file"]
REPLAY = ["replay", "--preset", "relax-alpha", "--audio", "none", "--no-report"]

HOSTILE = {
    "openbci 99999999 Hz, replay": (openbci("99999999"), REPLAY,
                                    ["declares a sampling rate of 99999999 Hz", RATE_RANGE]),
    "openbci 99999999 Hz, record": (openbci("99999999"), RECORD,
                                    ["OpenBCI-RAW.txt' declares a sampling rate of 99999999 Hz"]),
    "openbci negative rate": (openbci("-250"), RECORD, ["a sampling rate of -250 Hz", RATE_RANGE]),
    "openbci zero rate": (openbci("0"), RECORD, ["a sampling rate of 0 Hz"]),
    "openbci NaN rate": (openbci("NaN"), RECORD, ["a sampling rate of NaN Hz"]),
    "openbci 10^5 channels": (openbci(n_exg=10**5), RECORD,
                              ["declares 100000 channels", CHANNEL_RANGE]),
    "edf 1 us records": (edf(record_s="0.000001"), RECORD,
                         ["rec.edf' declares a sampling rate of 256000000.0 Hz", RATE_RANGE]),
    "edf negative record count": (edf(records=-5), RECORD,
                                  ["declares -5 data records; accepted: a count, or -1"]),
    "edf record duration not a number": (edf(record_s="abc"), REPLAY,
                                         ["its record duration 'abc' is not a finite number"]),
    "bdf 9999 signals": (edf(".bdf", signals=9999), RECORD,
                         ["rec.bdf' declares 9999 channels", CHANNEL_RANGE]),
    "bdf cut inside its first record": (cut(edf(".bdf"), lambda path: 256 * 6 + 100), RECORD,
                                        ["holds no complete data record of 1 s (its header "
                                         "declares 8)"]),
    "brainvision 10^6 channels": (brainvision("NumberOfChannels=4", "NumberOfChannels=1000000"),
                                  REPLAY, ["rec.vhdr' declares 1000000 channels", CHANNEL_RANGE]),
    "brainvision zero interval": (brainvision("SamplingInterval=3906.25", "SamplingInterval=0"),
                                  RECORD, ["declares a sampling rate of 0.0 Hz"]),
    "xdf 99999999 Hz": (xdf(rate=99999999.0), RECORD,
                        ["rec.xdf' declares a sampling rate of 99999999.0 Hz", RATE_RANGE]),
    "xdf 2000 channels": (xdf(n_channels=2000), RECORD, ["declares 2000 channels", CHANNEL_RANGE]),
    "xdf header nested 10^5 deep": (xdf(desc_xml=b"<a>" * 10**5 + b"</a>" * 10**5), REPLAY,
                                    ["rec.xdf' has a header nested too deeply to read"]),
    "eeglab 10^9 samples declared": (eeglab_declaring(10**9), RECORD,
                                     ["rec.set' declares 4000000000 samples over all channels, "
                                      "more than its"]),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_headers_are_one_line_errors(tmp_path, case):
    make, command, fragments = HOSTILE[case]
    path = make(tmp_path)
    if command is RECORD:
        args = [*RECORD, str(path), "--out", str(tmp_path / "out.fif")]
    else:
        args = [*REPLAY, "--out", str(tmp_path / "sessions"), str(path)]
    result = run_cli(*args, timeout=60, env=_home(tmp_path))
    assert_one_line_error(result, str(path.name), *fragments)
    assert "MemoryError" not in result.stderr and "RecursionError" not in result.stderr


def test_an_absurd_record_count_reads_what_the_file_holds_and_says_so(tmp_path):
    path = edf(records=99999999)(tmp_path)
    result = run_cli("--verbose", *RECORD, str(path), "--out", str(tmp_path / "out.fif"),
                     timeout=60, env=_home(tmp_path))
    assert result.returncode == 0, result.stderr
    assert ("rec.edf is truncated: its header declares 99999999.000 s, the file holds 8.000 s"
            in result.stderr)


def test_a_bdf_cut_to_a_third_replays_with_a_warning_and_its_real_length(tmp_path, caplog):
    path = edf(".bdf")(tmp_path)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:size // 3])
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        source = FileSource(path, speed="max")
    # A third of eight 1 s records, less the header: two whole records.
    assert source.duration_s == 2.0
    assert source.description["truncated"] == {"declared_s": 8.0, "actual_s": 2.0}
    assert "rec.bdf is truncated: its header declares 8.000 s, the file holds 2.000 s" in caplog.text
    result = run_cli("--verbose", *RECORD, str(path), "--out", str(tmp_path / "out.fif"),
                     timeout=60, env=_home(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "the file holds 2.000 s" in result.stderr


def test_a_brainvision_file_shorter_than_its_data_points_is_warned_about(tmp_path, caplog):
    path = brainvision("NumberOfChannels=4", "NumberOfChannels=4\nDataPoints=2048")(tmp_path)
    data = path.with_suffix(".eeg")
    data.write_bytes(data.read_bytes()[:4 * 4 * 512 + 7])  # 512 float32 samples and a bit
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        source = FileSource(path, speed="max")
    assert source.duration_s == 2.0
    assert source.description["truncated"] == {"declared_s": 8.0, "actual_s": 2.0}
    assert "rec.vhdr is truncated: its header declares 8.000 s, the file holds 2.000 s" in caplog.text


def test_an_xdf_file_cut_before_its_footers_replays_with_a_warning(tmp_path, caplog):
    path = xdf()(tmp_path)
    content = path.read_bytes()
    # The footers (tag 6) close the file; cut at the first one's chunk header (8 bytes:
    # length size, length, tag, stream id), as when a recorder dies between chunks.
    first_footer = content.index(b'<?xml version="1.0"?><info><first_timestamp>')
    path.write_bytes(content[:first_footer - 8])
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        source = FileSource(path, speed="max")
    assert source.duration_s == 0.4  # all 100 samples at 250 Hz are there
    assert source.description["truncated"] == {"declared_s": None, "actual_s": 0.4}
    assert "rec.xdf may be truncated: it ends without the footer that closes a recording" in caplog.text
