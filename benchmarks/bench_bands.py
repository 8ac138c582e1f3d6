"""Band-power benchmark: one steady-state update of the streaming Welch estimator against
the anchors, on the same data, in the same run.

Run: ``.venv/bin/python benchmarks/bench_bands.py`` (about a minute; ``--quick`` for a
rough pass, ``--paced 30`` to add updates paced 0.1 s apart).

Three configurations, all Welch with 1 s Hann segments and a 0.1 s hop (so a segment
completes every hop), bands delta 1-4, theta 4-8, alpha 8-12, beta 12-30 Hz:
A: 8 channels, 250 Hz, 2 s window; B: 16 channels, 250 Hz, 4 s window; C: 64 channels,
1000 Hz, 2 s window. For each, one update is timed as:

- ours: ``StreamingWelch.update`` with one hop of new samples, which leaves the band
  powers of every channel in ``band_power``;
- mne: ``mne.time_frequency.psd_array_welch`` on the window (same taper, segment and
  overlap), then the band sums;
- scipy: ``scipy.signal.welch`` on the window, all channels at once, then the band sums;
- brainflow: ``DataFilter.get_avg_band_powers`` on the window (it filters, and returns
  relative powers averaged over channels: not the same estimate);
- floor: one batched ``numpy.fft.rfft`` of the Hann-tapered window for all channels, then
  the band sums (a single periodogram, the least work any window method can do).

Each figure is the median of many calls in a hot loop, the methods taking turns in
several rounds so that load from other processes falls on all of them. This machine is
a nested VM where code idle for 10 ms or more runs much slower on its next call, so
paced figures (``--paced``) are this machine's and are printed apart. The relative
difference is the largest over channels and bands of ``|x - scipy| / scipy``, on the
window our estimate covers.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import mne
import numpy as np
import scipy.signal
from brainflow.data_filter import DataFilter

from neurofeed.bands import DEFAULT_BANDS, FeatureExtractor, StreamingWelch

CONFIGS = {"A": (8, 250.0, 2.0), "B": (16, 250.0, 4.0), "C": (64, 1000.0, 2.0)}
SEGMENT_S, HOP_S = 1.0, 0.1


def hot_median_us(functions: dict, calls: int, rounds: int) -> dict[str, float]:
    """Median microseconds per call of each function, taking turns over ``rounds``."""
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            for _ in range(max(3, calls // 20)):  # warm up
                function()
            for _ in range(calls):
                t0 = time.perf_counter()
                function()
                samples[name].append(time.perf_counter() - t0)
    return {name: float(np.median(s)) * 1e6 for name, s in samples.items()}


def paced_median_us(function, calls: int) -> float:
    """Median microseconds per call with 0.1 s of idling before each, as in a session."""
    samples = []
    for _ in range(calls):
        time.sleep(HOP_S)
        t0 = time.perf_counter()
        function()
        samples.append(time.perf_counter() - t0)
    return float(np.median(samples)) * 1e6


def run_config(name: str, calls: int, rounds: int, paced: int) -> dict:
    n_channels, sfreq, window_s = CONFIGS[name]
    rng = np.random.default_rng(0)
    seconds = window_s + 3
    t = np.arange(int(seconds * sfreq)) / sfreq
    # 20 uV of noise, a 10 Hz rhythm and a DC offset, in volts
    stream = (rng.normal(scale=20e-6, size=(n_channels, t.size))
              + 10e-6 * np.sin(2 * np.pi * 10 * t) + rng.normal(scale=0.01, size=(n_channels, 1)))

    welch = StreamingWelch(sfreq, n_channels, DEFAULT_BANDS, window_s=window_s,
                           segment_s=SEGMENT_S, hop_s=HOP_S)
    welch.update(stream)
    window = np.ascontiguousarray(stream[:, welch.stop - welch.n_window:welch.stop])
    ours_bands = welch.band_power.copy()
    chunk = np.ascontiguousarray(stream[:, -welch.n_hop:])

    n_per_seg, n_overlap = welch.n_per_seg, welch.n_overlap
    df = sfreq / n_per_seg
    bins = DEFAULT_BANDS.bin_range(df)
    weights = DEFAULT_BANDS.matrix(bins, df)
    window_uv = np.ascontiguousarray(window * 1e6)
    channels = list(range(n_channels))
    taper = scipy.signal.get_window("hann", window.shape[1])
    fft_bins = DEFAULT_BANDS.bin_range(sfreq / window.shape[1])
    fft_weights = DEFAULT_BANDS.matrix(fft_bins, sfreq / window.shape[1])
    fft_scale = 2.0 / (sfreq * np.sum(taper ** 2))

    def mne_estimate():
        psd, _ = mne.time_frequency.psd_array_welch(
            window, sfreq, fmin=bins.start * df, fmax=(bins.stop - 1) * df, n_fft=n_per_seg,
            n_per_seg=n_per_seg, n_overlap=n_overlap, window="hann", verbose="error")
        return psd @ weights

    def scipy_estimate():
        _, psd = scipy.signal.welch(window, sfreq, window="hann", nperseg=n_per_seg,
                                    noverlap=n_overlap)
        return psd[:, bins.start:bins.stop] @ weights

    def brainflow_estimate():
        return DataFilter.get_avg_band_powers(window_uv, channels, int(sfreq), True)

    def floor_estimate():
        spectrum = np.fft.rfft(window * taper, axis=1)[:, fft_bins.start:fft_bins.stop]
        return (spectrum.real ** 2 + spectrum.imag ** 2) * fft_scale @ fft_weights

    reference = scipy_estimate()

    def rel_diff(estimate):
        return float(np.max(np.abs(estimate - reference) / reference))

    diffs = {"ours": rel_diff(ours_bands), "mne": rel_diff(mne_estimate()),
             "scipy": 0.0, "brainflow": None, "floor": rel_diff(floor_estimate())}
    timed = {"ours": lambda: welch.update(chunk), "mne": mne_estimate,
             "scipy": scipy_estimate, "brainflow": brainflow_estimate, "floor": floor_estimate}
    slow = {"mne", "scipy", "brainflow"}
    fast_us = hot_median_us({k: v for k, v in timed.items() if k not in slow}, calls, rounds)
    slow_us = hot_median_us({k: v for k, v in timed.items() if k in slow},
                            max(20, calls // (40 if name == "C" else 10)), rounds)
    us = fast_us | slow_us

    extractor = FeatureExtractor([f"ch{i}" for i in range(n_channels)], sfreq,
                                 window_s=window_s, segment_s=SEGMENT_S, hop_s=HOP_S)
    extractor.update(stream)
    hop_us = hot_median_us({"hop": lambda: extractor.update(chunk)}, calls // 4, rounds)["hop"]
    paced_us = ({"ours": paced_median_us(timed["ours"], paced),
                 "mne": paced_median_us(mne_estimate, paced)} if paced else None)
    return {"name": name, "n_channels": n_channels, "sfreq": sfreq, "window_s": window_s,
            "n_segments": welch.n_segments, "us": us, "diffs": diffs, "hop_us": hop_us,
            "paced_us": paced_us}


LABELS = {
    "ours": "neurofeed StreamingWelch.update",
    "mne": "mne psd_array_welch + band sums",
    "scipy": "scipy welch, all channels + band sums",
    "brainflow": "brainflow get_avg_band_powers",
    "floor": "floor: one rfft of the window + band sums",
}
NOTES = {"brainflow": "filtered, channel-averaged relative powers: not comparable",
         "floor": "one periodogram of the window, not Welch"}


def print_config(result: dict) -> None:
    us, diffs = result["us"], result["diffs"]
    print(f"\n{result['name']}: {result['n_channels']} channels, {result['sfreq']:g} Hz, "
          f"{result['window_s']:g} s window, {SEGMENT_S:g} s segments, {HOP_S:g} s hop "
          f"({result['n_segments']} segments per window)")
    print(f"  {'method':<42} {'us/update':>10} {'/ mne':>8} {'/ floor':>8}  "
          f"{'max rel diff vs scipy':<22}")
    for key, label in LABELS.items():
        diff = diffs[key]
        shown = f"{diff:.1e}" if diff is not None else "n/a"
        note = f"  ({NOTES[key]})" if key in NOTES else ""
        print(f"  {label:<42} {us[key]:>10.1f} {us[key] / us['mne']:>8.4f} "
              f"{us[key] / us['floor']:>8.2f}  {shown}{note}")
    print(f"  speedup of ours vs mne: {us['mne'] / us['ours']:.1f}x; whole "
          f"FeatureExtractor hop (estimator, flags, features; not part of the target): "
          f"{result['hop_us']:.0f} us")
    if result["paced_us"]:
        paced = result["paced_us"]
        print(f"  paced 0.1 s apart (this machine's cold-memory figures): ours "
              f"{paced['ours']:.0f} us, mne {paced['mne']:.0f} us")


def window_scaling(calls: int) -> str:
    """Mean and median of our update on configuration A's stream with longer windows: the
    mean includes the cumulative sum that every n_segments-th update does."""
    parts = []
    for window_s in (2.0, 8.0, 30.0):
        welch = StreamingWelch(250.0, 8, window_s=window_s)
        stream = np.random.default_rng(1).normal(scale=20e-6, size=(8, int(250 * (window_s + 2))))
        welch.update(stream)
        chunk = np.ascontiguousarray(stream[:, -welch.n_hop:])
        samples = []
        for _ in range(calls):
            t0 = time.perf_counter()
            welch.update(chunk)
            samples.append(time.perf_counter() - t0)
        parts.append(f"{window_s:g} s ({welch.n_segments} segments): median "
                     f"{np.median(samples) * 1e6:.1f} us, mean {np.mean(samples) * 1e6:.1f} us")
    return "; ".join(parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, a rough figure")
    parser.add_argument("--paced", type=int, default=0, metavar="N",
                        help="also time N updates paced 0.1 s apart (default: none)")
    args = parser.parse_args(argv)
    calls, rounds = (200, 1) if args.quick else (2000, 3)
    results = [run_config(name, calls, rounds, args.paced) for name in CONFIGS]
    for result in results:
        print_config(result)
    print(f"\nours, 8 channels at 250 Hz, by window length: {window_scaling(calls)}")
    speedup = min(r["us"]["mne"] / r["us"]["ours"] for r in results)
    to_floor = max(r["us"]["ours"] / r["us"]["floor"] for r in results)
    diff = max(r["diffs"]["ours"] for r in results)
    print(f"\nbands: min speedup vs mne {speedup:.1f}x, max ratio to floor {to_floor:.2f}, "
          f"max rel diff vs scipy {diff:.1e}")


if __name__ == "__main__":
    main()
