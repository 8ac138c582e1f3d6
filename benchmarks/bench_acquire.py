"""Acquisition benchmark: file replay throughput and LSL latency, against the anchors.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_acquire.py [--minutes 10]``

1. Replay at "max" of a 64-channel, 1000 Hz recording (10 minutes by default) through
   ``FileSource.read()`` in 0.1 s chunks, as a multiple of real time. The anchor is
   slicing the same preloaded ``mne.io.Raw`` with ``raw.get_data(start, stop)``, the
   usual MNE way to walk a recording in chunks. Loading the file is timed separately.
2. Outlet-to-source latency for 16-channel, 25-sample chunks from an outlet in another
   process (median and p99): our ``LSLSource.read()`` against a bare
   ``pylsl.StreamInlet.pull_chunk`` on the same stream, in the same run.
3. The simulated listener (16 ch, 250 Hz) at "max" in 0.1 s chunks, as a multiple of real
   time. The anchor is its floor: drawing the same white noise with numpy, without the
   filters, rhythms and blinks made from it.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import mne
import numpy as np
from pylsl import StreamInlet, local_clock, resolve_byprop, set_config_content

from neurofeed.acquire import FileSource, LSLSource, SimulatedListener

HERE = Path(__file__).resolve().parent


def bench_replay(minutes: float) -> tuple[float, float, float]:
    """Return (ours x real time, anchor x real time, load seconds)."""
    sfreq, n_channels = 1000.0, 64
    n = int(minutes * 60 * sfreq)
    data = np.random.default_rng(0).normal(scale=2e-5, size=(n_channels, n))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_raw.fif"
        raw = mne.io.RawArray(data, mne.create_info(n_channels, sfreq, "eeg"), verbose="error")
        raw.save(path, verbose="error")
        del data
        t0 = time.perf_counter()
        source = FileSource(path, speed="max")
        with source:
            load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            total = 0
            while not source.finished:
                total += source.read().timestamps.size
            ours_s = time.perf_counter() - t0
        assert total == n, (total, n)

        raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
        step = int(0.1 * sfreq)
        t0 = time.perf_counter()
        for start in range(0, n, step):
            raw.get_data(start=start, stop=start + step)
        anchor_s = time.perf_counter() - t0
    duration = n / sfreq
    return duration / ours_s, duration / anchor_s, load_s


def _latencies(read, n_chunks: int) -> np.ndarray:
    """Poll ``read`` (returns timestamps) until n_chunks*25 samples arrived; return latencies."""
    latencies, got = [], 0
    deadline = time.monotonic() + 30 + n_chunks * 0.1
    while got < n_chunks * 25 and time.monotonic() < deadline:
        stamps = read()
        if stamps.size:
            now = local_clock()
            latencies.append(now - stamps[-1])
            got += stamps.size
        else:
            time.sleep(0.0002)
    return np.array(latencies) * 1e3


def bench_lsl(n_chunks: int) -> dict[str, np.ndarray]:
    """Latency in ms per chunk for our source and for a bare pylsl inlet."""
    results = {}
    for label in ("neurofeed LSLSource", "pylsl StreamInlet"):
        name = f"bench-{uuid.uuid4().hex[:8]}"
        outlet = subprocess.Popen([sys.executable, str(HERE / "_lsl_outlet.py"), name,
                                   str(n_chunks), "0.1"])
        try:
            if label.startswith("neurofeed"):
                with LSLSource(name=name, timeout_s=10) as source:
                    results[label] = _latencies(lambda: source.read().timestamps, n_chunks)
            else:
                inlet = StreamInlet(resolve_byprop("name", name, timeout=10)[0])
                inlet.open_stream(timeout=5)

                def pull(inlet=inlet):
                    _, stamps = inlet.pull_chunk(timeout=0.0)
                    return np.asarray(stamps)
                results[label] = _latencies(pull, n_chunks)
                inlet.close_stream()
        finally:
            outlet.wait(timeout=60)
    return results


def bench_simulated(minutes: float) -> tuple[float, float]:
    """Return (ours x real time, anchor x real time) for the simulated listener."""
    source = SimulatedListener(speed="max", chunk_s=0.1)
    n = int(minutes * 60 * source.sfreq)
    with source:
        t0 = time.perf_counter()
        while source.n_samples < n:
            source.read()
        ours_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    step = round(0.1 * source.sfreq)
    t0 = time.perf_counter()
    for _ in range(0, n, step):
        rng.standard_normal((step, source.n_channels + 2))
    anchor_s = time.perf_counter() - t0
    duration = n / source.sfreq
    return duration / ours_s, duration / anchor_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="replay length (default 10)")
    parser.add_argument("--chunks", type=int, default=300, help="LSL chunks to time (default 300, 30 s)")
    args = parser.parse_args()
    # The outlet process ends after the last chunk: the source's stall warning is expected.
    logging.basicConfig(level=logging.ERROR)
    set_config_content("[log]\nlevel = -3\n")

    ours, anchor, load_s = bench_replay(args.minutes)
    print(f"\nReplay at 'max', 64 ch x 1000 Hz x {args.minutes:g} min, 0.1 s chunks "
          f"(file load {load_s:.2f} s, not included)")
    print(f"{'method':<34}{'x real time':>14}{'ratio to anchor':>18}")
    print(f"{'neurofeed FileSource.read':<34}{ours:>14.0f}{ours / anchor:>18.2f}")
    print(f"{'anchor: mne Raw.get_data slices':<34}{anchor:>14.0f}{1.0:>18.2f}")

    lat = bench_lsl(args.chunks)
    print(f"\nLSL outlet (other process) to reader, 16 ch x 25-sample chunks, {args.chunks} chunks")
    print(f"{'method':<34}{'p50 ms':>10}{'p99 ms':>10}{'p50 ratio':>12}")
    base = np.percentile(lat["pylsl StreamInlet"], 50)
    for label, values in lat.items():
        p50, p99 = np.percentile(values, [50, 99])
        print(f"{label:<34}{p50:>10.3f}{p99:>10.3f}{p50 / base:>12.2f}")
    simulated, floor = bench_simulated(args.minutes)
    print(f"\nSimulated listener at 'max', 16 ch x 250 Hz x {args.minutes:g} min, 0.1 s chunks")
    print(f"{'method':<34}{'x real time':>14}{'ratio to anchor':>18}")
    print(f"{'neurofeed SimulatedListener.read':<34}{simulated:>14.0f}{simulated / floor:>18.2f}")
    print(f"{'anchor: numpy white noise alone':<34}{floor:>14.0f}{1.0:>18.2f}")

    p50, p99 = np.percentile(lat["neurofeed LSLSource"], [50, 99])
    print(f"\nacquire: replay {ours:.0f}x real time, lsl latency p50 {p50:.2f} ms p99 {p99:.2f} ms, "
          f"simulated listener {simulated:.0f}x real time")


if __name__ == "__main__":
    main()
