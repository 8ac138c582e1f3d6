"""Closed-loop benchmark: a 10-minute recording through the whole loop, on the virtual clock.

Run: ``.venv/bin/python benchmarks/bench_loop.py [--minutes 10]``

It replays a 16-channel, 250 Hz recording through relax-alpha (session recorded to a
temporary folder, as a real replay is) and reports:

- speed as a multiple of real time, with the music rendered to WAV in lockstep and without
  audio;
- per-hop overhead excluding the estimator (everything the loop does around
  ``FeatureExtractor.update``: reading, recording, protocol, engine hand-over), p50 and
  p99 in microseconds;
- the anchor, measured in the same run on the same data: the loop that anchor tools run,
  which recomputes ``mne.time_frequency.psd_array_welch`` over the whole window at every hop
  (MNE-LSL's pattern), with nothing else: its speed as a multiple of real time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("PYO_GUI_WX", "0")

import mne
import numpy as np

from neurofeed.acquire import FileSource
from neurofeed.protocol import fit_phases, load_preset
from neurofeed.session import AudioChoice, run_session

CHANNELS = ["Fz", "F3", "F4", "FC1", "FC2", "C3", "Cz", "C4", "CP1", "CP2", "P3", "Pz", "P4",
            "O1", "Oz", "O2"]


def write_recording(path: Path, minutes: float) -> Path:
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * 250)
    t = np.arange(n) / 250
    data = rng.normal(scale=8e-6, size=(16, n))
    data[11:] += 6e-6 * np.sin(2 * np.pi * 10 * t) * (1 + np.sin(2 * np.pi * t / 60))
    mne.io.RawArray(data, mne.create_info(CHANNELS, 250.0, "eeg"), verbose="error").save(
        path, verbose="error")
    return path


def run_loop(recording: Path, out: Path, audio: AudioChoice):
    """Return (x real time, per-hop overhead in µs excluding the estimator)."""
    from neurofeed.folder import read_table

    source = FileSource(recording, speed="max", chunk_s=0.1)
    preset = fit_phases(load_preset("relax-alpha"), None, 60.0)
    start = time.perf_counter()
    outcome = run_session(source, preset, out=out, audio=audio)
    elapsed = time.perf_counter() - start
    latency = read_table(outcome.folder / "latency.tsv")
    overhead_us = (latency["hop_work_s"] - latency["estimator_work_s"]) * 1e6
    return outcome.result.duration_s / elapsed, overhead_us


def anchor_mne(recording: Path) -> float:
    """x real time of a loop recomputing psd_array_welch over the 2 s window every 0.1 s."""
    from mne.time_frequency import psd_array_welch

    data = mne.io.read_raw_fif(recording, preload=True, verbose="error").get_data()
    hop, window = 25, 500
    stops = range(window, data.shape[1], hop)
    start = time.perf_counter()
    for stop in stops:
        psd_array_welch(data[:, stop - window:stop], 250.0, fmin=1, fmax=40, n_fft=250,
                        n_per_seg=250, n_overlap=225, window="hann", verbose="error")
    return len(stops) * hop / 250.0 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="recording length (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        recording = write_recording(tmp / "bench_raw.fif", args.minutes)
        without, overhead = run_loop(recording, tmp / "none", AudioChoice("none"))
        with_audio, _ = run_loop(recording, tmp / "wav", AudioChoice("wav", tmp / "music.wav"))
        anchor = anchor_mne(recording)
    p50, p99 = np.percentile(overhead, [50, 99])
    print(f"\nClosed loop, {args.minutes:g} min of 16 ch x 250 Hz, relax-alpha, 0.1 s hops, virtual clock")
    print(f"{'configuration':<58}{'x real time':>12}{'ratio to anchor':>17}")
    print(f"{'neurofeed loop, music rendered to WAV in lockstep':<58}{with_audio:>12.0f}"
          f"{with_audio / anchor:>17.2f}")
    print(f"{'neurofeed loop, no audio':<58}{without:>12.0f}{without / anchor:>17.2f}")
    print(f"{'anchor: psd_array_welch of the whole window every hop':<58}{anchor:>12.0f}{1.0:>17.2f}")
    print(f"\nper-hop overhead excluding the estimator: p50 {p50:.0f} us, p99 {p99:.0f} us "
          f"({overhead.size} hops)")
    print(f"\nloop: {with_audio:.0f}x real time with audio, {without:.0f}x without, "
          f"hop overhead p50 {p50:.0f} us")


if __name__ == "__main__":
    main()
