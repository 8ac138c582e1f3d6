"""Damage a copied session folder the way a bad disk, a bad copy or a hand edit would.

Used by the fault matrix's damaged-folder cases; also runnable, to repeat a case by hand:
    python scripts/fault_matrix/damage.py FOLDER FILE HOW      (for example: s eeg.f64 cut)
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

# (file of the folder, what is done to it)
DAMAGES = [
    ("session.json", "rm"), ("session.json", "cut"), ("session.json", "garble"), ("session.json", "empty"),
    ("session.json", "json:[]"), ("session.json", "json:{}"), ("session.json", "status:weird"),
    ("session.json", "sfreq:0"), ("session.json", "sfreq:-1"), ("session.json", "sfreq:1e12"),
    ("session.json", "chnames:[]"), ("session.json", "schema:99"), ("session.json", "schema:abc"),
    ("eeg.f64", "rm"), ("eeg.f64", "cut"), ("eeg.f64", "garble"), ("eeg.f64", "empty"), ("eeg.f64", "odd"),
    ("eeg.f64", "nan_ts"), ("eeg.f64", "backwards_ts"), ("eeg.f64", "jump1e7"),
    ("markers.tsv", "rm"), ("markers.tsv", "garble"), ("markers.tsv", "cut"), ("markers.tsv", "nan_onset"),
    ("features.tsv", "rm"), ("features.tsv", "garble"), ("features.tsv", "cut"),
    ("features.tsv", "header_only"),
    ("music.tsv", "rm"), ("music.tsv", "garble"), ("music.tsv", "cut"),
    ("score.tsv", "rm"), ("score.tsv", "garble"), ("score_changes.tsv", "garble"), ("score.tsv", "hugepitch"),
    ("artifacts.tsv", "garble"), ("latency.tsv", "garble"), ("baseline.json", "garble"),
    ("session.lock", "rm"), ("session.lock", "garble"), ("session.lock", "dir"),
    ("eeg_raw.fif", "garble"), ("eeg_raw.fif", "rm"), ("report", "file"),
]

_JSON_EDITS = ("status:weird", "sfreq:0", "sfreq:-1", "sfreq:1e12", "chnames:[]", "schema:99", "schema:abc")


def garble(path: Path) -> None:
    """Overwrite 5% of the file's bytes with random values (seed 1)."""
    b = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    for i in rng.integers(0, max(1, len(b)), size=max(1, len(b) // 20)):
        b[i] = rng.integers(0, 256)
    path.write_bytes(bytes(b))


def damage(folder: Path, fname: str, how: str) -> None:
    folder = Path(folder)
    p = folder / fname
    if how == "rm":
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    elif how == "cut" and p.exists():
        with open(p, "r+b") as fh:
            fh.truncate(max(1, p.stat().st_size * 2 // 3 + 3))
    elif how == "garble":
        if p.exists() and p.is_file():
            garble(p)
        else:
            p.write_bytes(os.urandom(500))
    elif how == "empty":
        p.write_bytes(b"")
    elif how.startswith("json:"):
        p.write_text(how[5:])
    elif how in _JSON_EDITS:
        s = json.loads(p.read_text())
        k, v = how.split(":")
        if k == "status":
            s["status"] = v
        elif k == "sfreq":
            s["eeg"]["sfreq"] = float(v)
        elif k == "chnames":
            s["eeg"]["ch_names"] = []
        elif k == "schema":
            s["schema_version"] = 99 if v == "99" else v
        p.write_text(json.dumps(s))
    elif fname == "eeg.f64":
        s = json.loads((folder / "session.json").read_text())
        n = len(s["eeg"]["ch_names"]) + 1
        a = np.fromfile(p).reshape(-1, n)
        if how == "odd":
            with open(p, "ab") as fh:
                fh.write(b"\x01\x02\x03")
            return
        if how == "nan_ts":
            a[len(a) // 2: len(a) // 2 + 100, 0] = np.nan
        elif how == "backwards_ts":
            a[len(a) // 2:, 0] -= 50.0
        elif how == "jump1e7":
            a[len(a) // 2:, 0] += 1e7
        a.tofile(p)
    elif how == "nan_onset":
        with open(p, "a") as fh:
            fh.write("nan\tinf\tx\n1e308\t-1\ty\n\t\t\n")
    elif how == "header_only":
        p.write_text(p.read_text().splitlines()[0] + "\n")
    elif how == "hugepitch":
        with open(p, "a") as fh:
            fh.write("1.0\t9999\t999\t1e300\tpad\n-5\t-1\t-1\t-1\tnosuch\n")
    elif how == "dir":
        if p.exists():
            p.unlink()
        p.mkdir()
    elif how == "file":
        if p.exists():
            shutil.rmtree(p)
        p.write_text("x")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: damage.py FOLDER FILE HOW")
    damage(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
