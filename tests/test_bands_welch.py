"""The streaming Welch estimator: exact against scipy and MNE, chunking-proof, NaN-proof."""

from __future__ import annotations

import tracemalloc

import mne
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from neurofeed.bands import DEFAULT_BANDS, BandSet, StreamingWelch
from neurofeed.bands.welch import _SlidingSum
from neurofeed.errors import InvalidArgumentError

RTOL = 1e-10


def reference_psd(welch: StreamingWelch, stream: np.ndarray):
    """scipy's and MNE's PSD of the samples the estimator says its estimate covers."""
    covered = stream[:, welch.stop - welch.n_window:welch.stop]
    window = welch.taper
    freqs, psd = scipy.signal.welch(covered, welch.sfreq, window=window,
                                    nperseg=welch.n_per_seg, noverlap=welch.n_overlap,
                                    detrend=welch.detrend)
    keep = np.isin(np.round(freqs, 9), np.round(welch.freqs, 9))
    mne_psd, mne_freqs = mne.time_frequency.psd_array_welch(
        covered, welch.sfreq, fmin=welch.freqs[0], fmax=welch.freqs[-1],
        n_fft=welch.n_per_seg, n_per_seg=welch.n_per_seg, n_overlap=welch.n_overlap,
        window=window, remove_dc=welch.detrend == "constant", verbose="error")
    np.testing.assert_allclose(freqs[keep], welch.freqs, rtol=1e-12)
    np.testing.assert_allclose(mne_freqs, welch.freqs, rtol=1e-12)
    return psd[:, keep], mne_psd


def assert_exact(welch: StreamingWelch, stream: np.ndarray) -> None:
    scipy_psd, mne_psd = reference_psd(welch, stream)
    ours = welch.psd()
    np.testing.assert_allclose(ours, scipy_psd, rtol=RTOL, atol=0)
    if welch.detrend in ("constant", False):  # MNE only knows these two
        np.testing.assert_allclose(ours, mne_psd, rtol=RTOL, atol=0)
    df = welch.sfreq / welch.n_per_seg
    bands = scipy_psd @ welch.bands.matrix(welch._bins, df)
    np.testing.assert_allclose(welch.band_power, bands, rtol=RTOL, atol=0)


def feed(welch: StreamingWelch, stream: np.ndarray, sizes, *, check_every: int):
    """Feed ``stream`` in chunks of ``sizes`` (cycled), checking every few new estimates
    against scipy and MNE; return how many were checked."""
    start, i, estimates = 0, 0, 0
    while start < stream.shape[1]:
        size = sizes[i % len(sizes)]
        if welch.update(stream[:, start:start + size]) and welch.ready:
            if estimates % check_every == 0:
                assert_exact(welch, stream)
            estimates += 1
        start, i = start + size, i + 1
    return -(-estimates // check_every)


def all_bins(sfreq):
    """A band from DC up to and including the Nyquist bin."""
    return BandSet({"all": (0.0, sfreq / 2 + 1e-6)})


@pytest.mark.parametrize("sfreq, n_channels, kwargs, sizes, every_bin", [
    # the defaults, hop-sized chunks
    (250.0, 8, {}, [25], False),
    # odd sizes: a window that is not a whole number of hops past a segment, an odd hop,
    # every bin from DC to Nyquist
    (256.0, 3, dict(window_s=1.7, segment_s=0.5, hop_s=0.07), [7, 30, 1, 18], True),
    # an odd segment length (no Nyquist bin)
    (199.0, 2, dict(window_s=1.5, segment_s=1.0, hop_s=0.05), [13], True),
    # chunks of one sample
    (100.0, 4, dict(window_s=1.2, segment_s=0.5, hop_s=0.1), [1], False),
    # chunks longer than the window
    (250.0, 5, dict(window_s=2.0), [1234, 617], False),
    # other tapers and detrends
    (128.0, 3, dict(window="hamming", detrend="linear"), [16], False),
    (128.0, 3, dict(window=("tukey", 0.3), detrend=False), [13], True),
])
@pytest.mark.parametrize("method", ["fft", "dft"])
def test_equals_scipy_and_mne_on_random_data(sfreq, n_channels, kwargs, sizes, every_bin,
                                             method):
    rng = np.random.default_rng(0)
    # a DC offset of 50 mV over 20 uV of noise, as on a DC-coupled amplifier
    stream = rng.normal(scale=20e-6, size=(n_channels, int(12 * sfreq))) + 0.05
    welch = StreamingWelch(sfreq, n_channels, all_bins(sfreq) if every_bin else DEFAULT_BANDS,
                           method=method, **kwargs)
    assert welch.method == method
    check_every = 1 if min(sizes) > welch.n_window else 7
    assert feed(welch, stream, sizes, check_every=check_every) >= 2


def test_the_transform_is_chosen_by_cost():
    assert StreamingWelch(250.0, 8).method == "dft"  # 29 bins of 250 samples
    assert StreamingWelch(1000.0, 64, all_bins(1000.0)).method == "fft"  # 501 bins
    with pytest.raises(InvalidArgumentError, match="method"):
        StreamingWelch(250.0, 8, method="matrix")


def test_64_channels_at_1000_hz():
    rng = np.random.default_rng(1)
    stream = rng.normal(scale=20e-6, size=(64, 6000))
    welch = StreamingWelch(1000.0, 64, all_bins(1000.0))
    assert welch.freqs[-1] == 500.0
    assert feed(welch, stream, [100], check_every=9) >= 3


def test_covered_samples_and_time():
    welch = StreamingWelch(100.0, 1, window_s=2.0, segment_s=1.0, hop_s=0.1)
    assert (welch.n_per_seg, welch.n_hop, welch.n_overlap, welch.n_segments,
            welch.n_window) == (100, 10, 90, 11, 200)
    stream = np.random.default_rng(2).normal(size=(1, 237))
    times = 1000.0 + np.arange(237) / 100.0
    assert welch.update(stream[:, :199], times[:199]) == 10
    assert not welch.ready and np.isnan(welch.band_power).all()
    assert welch.update(stream[:, 199:], times[199:]) == 4
    # segments end at 100, 110, ..., 230: the estimate covers [30, 230)
    assert welch.ready and welch.stop == 230 and welch.n_seen == 237
    assert welch.time == times[229]
    assert_exact(welch, stream)


def test_hop_rounds_to_whole_samples():
    welch = StreamingWelch(128.0, 1, hop_s=0.1)
    assert welch.n_hop == 13 and welch.n_overlap == 115
    assert welch.n_segments == 1 + (256 - 128) // 13 and welch.n_window == 128 + 9 * 13


def test_exact_after_large_transients_over_a_long_stream():
    # A running add/subtract sum would keep ~1e-16 * 1e12 of each spike: far over 1e-10.
    n = 100 * 3600
    rng = np.random.default_rng(3)
    stream = rng.normal(scale=10e-6, size=(2, n))
    for at in rng.integers(0, n - 1000, size=40):
        stream[:, at:at + 3] += 10.0  # a 10 V spike, 1e12 times the EEG's power
    welch = StreamingWelch(100.0, 2, window_s=2.0)
    for start in range(0, n, 10):
        welch.update(stream[:, start:start + 10])
    assert welch.stop == n
    assert np.all(welch.band_power < 1e-8)  # the spikes have all left the window
    assert_exact(welch, stream)


def test_nan_leaves_the_estimate_when_it_leaves_the_window():
    stream = np.random.default_rng(4).normal(scale=1e-5, size=(3, 2000))
    stream[1, 700] = np.nan
    stream[2, 900] = np.inf
    clean = np.nan_to_num(stream, nan=0.0, posinf=0.0)
    a = StreamingWelch(100.0, 3)
    b = StreamingWelch(100.0, 3)
    for start in range(0, 2000, 10):
        a.update(stream[:, start:start + 10])
        b.update(clean[:, start:start + 10])
        if not a.ready:
            continue
        covered = range(a.stop - a.n_window, a.stop)
        np.testing.assert_array_equal(a.band_power[0], b.band_power[0])
        for channel, at in ((1, 700), (2, 900)):
            if at in covered:
                assert not np.isfinite(a.band_power[channel]).any()
            else:
                np.testing.assert_array_equal(a.band_power[channel], b.band_power[channel])


def test_reset_forgets_the_stream():
    stream = np.random.default_rng(5).normal(size=(2, 600))
    welch = StreamingWelch(100.0, 2)
    welch.update(stream[:, :400])
    welch.reset()
    assert not welch.ready and welch.n_seen == 0 and welch.time is None
    welch.update(stream[:, 400:])
    assert welch.ready and welch.stop == 200
    assert_exact(welch, stream[:, 400:])


@pytest.mark.parametrize("method", ["fft", "dft"])
def test_no_allocation_in_the_steady_state(method):
    welch = StreamingWelch(1000.0, 64, window_s=2.0, method=method)
    stream = np.random.default_rng(6).normal(size=(64, 4000))
    welch.update(stream[:, :3000])
    chunk = stream[:, 3000:3100].copy()
    tracemalloc.start()
    try:
        for _ in range(50):
            welch.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One array of the spectrum would be 64 * 501 * 16 bytes = 513 kB.
    assert peak < 20_000


@pytest.mark.parametrize("method", ["fft", "dft"])
@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 80), min_size=1, max_size=30))
def test_any_chunking_gives_identical_estimates(method, sizes):
    stream = np.random.default_rng(7).normal(scale=1e-5, size=(3, 700)) + 1e-3
    reference = {}
    config = dict(window_s=1.3, segment_s=0.5, hop_s=0.1, method=method)
    welch = StreamingWelch(100.0, 3, **config)
    for start in range(0, 700, 10):
        if welch.update(stream[:, start:start + 10]) and welch.ready:
            reference[welch.stop] = welch.band_power.copy()
    welch = StreamingWelch(100.0, 3, **config)
    start, i = 0, 0
    while start < 700:
        size = sizes[i % len(sizes)]
        if welch.update(stream[:, start:start + size]) and welch.ready:
            np.testing.assert_array_equal(welch.band_power, reference[welch.stop])
        start, i = start + size, i + 1
    np.testing.assert_array_equal(welch.band_power, reference[700])


@pytest.mark.parametrize("method", ["fft", "dft"])
@settings(max_examples=40, deadline=None)
@given(channel=st.integers(0, 3), at=st.lists(st.integers(0, 899), min_size=1, max_size=5),
       value=st.sampled_from([np.nan, np.inf, -np.inf, 1e300]),
       chunk=st.integers(1, 60))
def test_a_bad_value_in_one_channel_never_changes_another(method, channel, at, value, chunk):
    stream = np.random.default_rng(8).normal(scale=1e-5, size=(4, 900))
    dirty = stream.copy()
    dirty[channel, at] = value
    a = StreamingWelch(100.0, 4, window_s=1.0, segment_s=0.5, hop_s=0.1, method=method)
    b = StreamingWelch(100.0, 4, window_s=1.0, segment_s=0.5, hop_s=0.1, method=method)
    others = [c for c in range(4) if c != channel]
    for start in range(0, 900, chunk):
        a.update(dirty[:, start:start + chunk])
        b.update(stream[:, start:start + chunk])
        if a.ready:
            np.testing.assert_array_equal(a.band_power[others], b.band_power[others])
            np.testing.assert_array_equal(a.psd()[others], b.psd()[others])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 9),
       items=st.lists(st.one_of(st.floats(0, 1e3), st.sampled_from([1e30, np.nan, np.inf])),
                      min_size=1, max_size=60))
def test_sliding_sum_equals_the_plain_sum_of_the_last_n(n, items):
    window = _SlidingSum(n, (1,))
    out = np.empty(1)
    for i, item in enumerate(items):
        window.next_slot[:] = item
        window.push()
        if window.full:
            expected = np.sum(items[i - n + 1:i + 1])
            np.testing.assert_allclose(window.total(out=out)[0], expected, rtol=1e-13)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sfreq=0), "sfreq"),
    (dict(n_channels=0), "n_channels"),
    (dict(n_channels=2.5), "n_channels"),
    (dict(hop_s=1.5), "hop_s"),
    (dict(hop_s=0.001), "hop_s"),
    (dict(window_s=0.5), "window_s"),
    (dict(segment_s=0), "segment_s"),
    (dict(detrend="quadratic"), "detrend"),
    (dict(window="no-such-window"), "window"),
    (dict(window=np.ones(3)), "window"),
    (dict(sfreq=50.0), "Nyquist"),
    (dict(bands={"alpha": (8, 12)}), "BandSet"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = dict(sfreq=100.0, n_channels=2) | kwargs
    with pytest.raises(InvalidArgumentError, match=match):
        StreamingWelch(**args)


def test_bad_chunks_are_named():
    welch = StreamingWelch(100.0, 2)
    with pytest.raises(InvalidArgumentError, match="n_channels=2"):
        welch.update(np.zeros((3, 10)))
    with pytest.raises(InvalidArgumentError, match="timestamps"):
        welch.update(np.zeros((2, 10)), np.zeros(9))
