"""Outlet-to-reader latency of LSL chunks from another process: LSLSource against bare pylsl.

Run: ``.venv/bin/python tests/_lsl_latency.py [--chunks 500]``

A child process publishes 16-channel, 25-sample float32 chunks at 250 Hz (one every
100 ms), the last sample of each stamped with the push time. The reader polls every
0.2 ms; the latency of a chunk is ``local_clock()`` when it is returned minus its
timestamp. Not a test: it prints milliseconds, which depend on the machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid

import numpy as np
from pylsl import StreamInfo, StreamInlet, StreamOutlet, local_clock, proc_clocksync, resolve_byprop

from neurofeed.acquire import LSLSource

RATE, N_CHANNELS, CHUNK, POLL_S = 250.0, 16, 25, 0.0002
INTERVAL_S = CHUNK / RATE


def publish(name: str, n_chunks: int) -> None:
    """Child process: wait for a reader, then push ``n_chunks`` chunks."""
    outlet = StreamOutlet(StreamInfo(name, "EEG", N_CHANNELS, RATE, "float32", name))
    outlet.wait_for_consumers(30)
    time.sleep(1.0)  # the reader's first clock-offset estimate
    block = np.random.default_rng(0).normal(size=(CHUNK, N_CHANNELS)).astype(np.float32)
    ages = np.arange(CHUNK - 1, -1, -1) / RATE
    for _ in range(n_chunks):
        # The newest sample carries the push time, the others their place before it.
        outlet.push_chunk(block, (local_clock() - ages).tolist())
        time.sleep(INTERVAL_S)
    time.sleep(1.0)


def measure(read, n_chunks: int) -> np.ndarray:
    """Poll ``read`` (returns timestamps) until every chunk arrived; latencies in ms."""
    latencies, got = [], 0
    deadline = time.monotonic() + 30 + n_chunks * INTERVAL_S * 2
    while got < n_chunks * CHUNK and time.monotonic() < deadline:
        stamps = read()
        if stamps.size:
            latencies.append(local_clock() - stamps[-1])
            got += stamps.size
        else:
            time.sleep(POLL_S)
    return np.array(latencies) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--publish", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        return publish(args.publish, args.chunks)
    for label in ("neurofeed LSLSource.read", "pylsl StreamInlet.pull_chunk"):
        name = f"latency-{uuid.uuid4().hex[:8]}"
        child = subprocess.Popen([sys.executable, __file__, "--publish", name,
                                  "--chunks", str(args.chunks)])
        try:
            if label.startswith("neurofeed"):
                with LSLSource(name=name, timeout_s=10) as source:
                    values = measure(lambda: source.read().timestamps, args.chunks)
            else:
                found = resolve_byprop("name", name, timeout=10)[0]
                inlet = StreamInlet(found, processing_flags=proc_clocksync)
                inlet.open_stream(10)
                inlet.time_correction(10)
                values = measure(lambda inlet=inlet: inlet.pull_chunk(timeout=0.0, as_numpy=True)[1],
                                 args.chunks)
        finally:
            child.wait(timeout=60 + args.chunks * INTERVAL_S * 2)
        p50, p99 = np.percentile(values, [50, 99])
        print(f"{label:<30} {values.size:>5} chunks  p50 {p50:.3f} ms  p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
