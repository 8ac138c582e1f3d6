"""The closed loop in real time, with real processes: an LSL outlet that dies and comes back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mne
import numpy as np
import pytest
from pylsl import local_clock

from neurofeed.folder import read_live_eeg, read_table

HERE = Path(__file__).resolve().parent


def _start_outlet(name: str, origin: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(HERE / "_lsl_outlet.py"), name, "EEG", name,
                             repr(origin)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.slow
def test_session_survives_its_lsl_outlet_dying_and_returning(tmp_path):
    name = f"nf-fault-{uuid.uuid4().hex[:8]}"
    origin = local_clock()
    outlet = _start_outlet(name, origin)
    session = subprocess.Popen(
        [sys.executable, "-m", "neurofeed", "run", "--lsl", name, "--preset", "relax-alpha",
         "--duration", "16", "--baseline", "4s", "--audio", "none", "--stall-timeout", "1",
         "--no-status", "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6.0)
        outlet.kill()
        outlet.wait(timeout=10)
        time.sleep(3.0)
        outlet = _start_outlet(name, origin)  # same stream, its counter continues with time
        _out, err = session.communicate(timeout=60)
    finally:
        outlet.kill()
        session.kill()
    assert session.returncode == 0, err
    assert "Traceback" not in err
    folder = next(tmp_path.glob("sub-*"))
    meta = json.loads((folder / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["ended"] == "done"
    assert meta["source_stats"]["n_stalls"] == 1

    markers = read_table(folder / "markers.tsv")
    assert markers["description"].count("stall") == 1
    assert markers["description"].count("resume") == 1

    # Every sample before and after the gap is there, in order, none twice.
    info, data, times = read_live_eeg(folder)
    counter = data[info["ch_names"].index("Counter")]
    steps = np.diff(counter)
    assert np.all(steps >= 1)
    jumps = np.flatnonzero(steps > 1)
    assert jumps.size == 1
    assert 2.0 * 250 < steps[jumps[0]] < 6.0 * 250
    # LSL clock-offset updates may nudge a timestamp by tens of microseconds.
    np.testing.assert_allclose(np.diff(times)[steps == 1], 1 / 250, atol=1e-4)

    # The markers sit on the samples either side of the gap, and no window spans it: after
    # the gap the estimator starts afresh and gives nothing until a whole window is new.
    gap_start, gap_end = times[jumps[0]], times[jumps[0] + 1]
    onsets = dict(zip(markers["description"], markers["onset"]))
    assert onsets["stall"] == pytest.approx(gap_start, abs=1e-6)
    assert onsets["resume"] == pytest.approx(gap_end, abs=1e-6)
    est = meta["estimator"]
    window_s = (est["n_per_seg"] + (est["n_segments"] - 1) * est["n_hop"]) / est["sfreq"]
    newest = read_table(folder / "features.tsv")["lsl_time_s"]
    after = newest[newest > gap_start]
    assert after.size and after.min() >= gap_end + window_s - 1 / 250 - 1e-6

    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    gaps = [(o, d) for o, d, t in zip(raw.annotations.onset, raw.annotations.duration,
                                      raw.annotations.description) if t == "BAD_ACQ_SKIP"]
    assert len(gaps) == 1
    assert gaps[0][1] == pytest.approx((steps[jumps[0]] - 1) / 250, abs=0.01)
    assert raw.n_times == int(counter[-1] - counter[0] + 1)
