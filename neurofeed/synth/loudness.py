"""Loudness and true peak of audio, as a broadcast meter reads them.

Loudness follows ITU-R BS.1770-4 (K-weighting, gating), EBU Tech 3341 (momentary and
short-term meters) and EBU Tech 3342 (loudness range); the true peak follows BS.1770-4
Annex 2. Audio arrays are float ``(n_samples, n_channels)`` (or ``(n_samples,)`` for one
channel) at full scale 1; ``sr`` is the sampling rate in Hz. Functions that walk through a
whole recording do so in chunks, so that long tracks and 20-minute renders fit in memory.

The music library measures every track with these, the playlist player normalises tracks
with them, and the tests judge the engine's renders with them (``tests/musickit.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.signal as sg

from neurofeed._check import check_range

#: Samples per chunk where a whole recording is walked through.
CHUNK_SAMPLES = 2 ** 20

#: BS.1770-4 Table 1 and 2: the K-weighting's two biquads at 48 kHz, (b0, b1, b2, 1, a1, a2).
K_WEIGHTING_SR = 48000
K_WEIGHTING_48K = np.array([
    [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
    [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
])
#: BS.1770-4 eq. 2: loudness is -0.691 + 10 log10 of the weighted mean square (the -0.691
#: makes the K-weighting's gain at 997 Hz, +0.691 dB, cancel).
LOUDNESS_OFFSET_DB = -0.691
#: BS.1770-4 gating: blocks under -70 LUFS are left out, then blocks 10 LU under the mean of the rest.
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: EBU Tech 3342 (loudness range): short-term windows 20 LU under the programme are not programme.
LRA_RELATIVE_GATE_LU = -20.0
#: EBU Tech 3342: the range runs from the 10th to the 95th percentile of the gated short-term
#: loudness (the low one drops a fade-out's tail, the high one a single loud hit).
LRA_PERCENTILES = (10.0, 95.0)
#: EBU Tech 3341 meters: window lengths and the hop between readings, in seconds.
MOMENTARY_S = 0.4
SHORT_TERM_S = 3.0
METER_HOP_S = 0.1


def _channels(x: np.ndarray) -> np.ndarray:
    """``x`` as ``(n_samples, n_channels)``: one column for a single channel."""
    x = np.asarray(x, float)
    return x.reshape(len(x), -1)


def k_weighting_sos(sr: float) -> np.ndarray:
    """The BS.1770-4 K-weighting (pre-filter then RLB high-pass) as second-order sections at ``sr``.

    BS.1770-4 tabulates the two biquads for 48 kHz only. Each is the bilinear transform at 48 kHz
    of an analogue filter; undoing that transform gives the analogue filter, and transforming it
    again at ``sr`` gives the biquad at ``sr``. At 48 kHz this returns the table itself; at other
    rates the response differs from the 48 kHz one by the bilinear transform's frequency warping
    only (under 0.01 dB at every frequency from 20 Hz to 20 kHz at 44.1 kHz).

    Parameters
    ----------
    sr : float
        Sampling rate in Hz.

    Returns
    -------
    ndarray, shape (2, 6)
        Second-order sections for :func:`scipy.signal.sosfilt`.
    """
    k = 2.0 * K_WEIGHTING_SR
    sections = []
    for b0, b1, b2, _, a1, a2 in K_WEIGHTING_48K:
        # z = (k + s) / (k - s), multiplied through by (k - s)^2, gives polynomials in s.
        analogue_b = [b0 - b1 + b2, k * 2 * (b0 - b2), k * k * (b0 + b1 + b2)]
        analogue_a = [1.0 - a1 + a2, k * 2 * (1.0 - a2), k * k * (1.0 + a1 + a2)]
        b, a = sg.bilinear(analogue_b, analogue_a, fs=sr)
        sections.append(np.concatenate([b / a[0], a / a[0]]))
    return np.array(sections)


def k_weighted(x: np.ndarray, sr: float) -> np.ndarray:
    """``x`` through the BS.1770-4 K-weighting at ``sr`` Hz, each channel alike (zero initial state)."""
    return sg.sosfilt(k_weighting_sos(sr), x, axis=0)


def power_to_lufs(mean_square) -> np.ndarray:
    """Loudness in LUFS of K-weighted mean squares summed over channels (-inf for silence)."""
    with np.errstate(divide="ignore"):
        return LOUDNESS_OFFSET_DB + 10 * np.log10(mean_square)


def _hop_energies(x: np.ndarray, sr: float) -> np.ndarray:
    """K-weighted energy (sum of squares over samples and channels) per meter hop of 100 ms.

    Channel weights are all 1, as BS.1770-4 gives them for left and right. A last partial hop
    is left out. Filtered chunk by chunk, the filter state carried across.
    """
    x = _channels(x)
    hop = round(METER_HOP_S * sr)
    n = len(x) // hop * hop
    step = CHUNK_SAMPLES // hop * hop
    sos = k_weighting_sos(sr)
    state = np.zeros((len(sos), 2, x.shape[1]))
    energies = []
    for start in range(0, n, step):
        y, state = sg.sosfilt(sos, x[start:min(start + step, n)], axis=0, zi=state)
        energies.append((y ** 2).reshape(-1, hop, y.shape[1]).sum(axis=(1, 2)))
    return np.concatenate(energies) if energies else np.empty(0)


def _meter(x: np.ndarray, sr: float, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean-square power of sliding windows of ``window_s`` every 100 ms, and their end times."""
    energies = _hop_energies(x, sr)
    hops = round(window_s / METER_HOP_S)
    if len(energies) < hops:
        return np.empty(0), np.empty(0)
    sums = np.convolve(energies, np.ones(hops), mode="valid")
    hop = round(METER_HOP_S * sr)
    ends = np.arange(hops, len(energies) + 1) * hop
    return ends / sr, sums / (hops * hop)


def momentary_loudness(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """EBU Tech 3341 momentary loudness: 400 ms windows, a reading every 100 ms.

    Returns
    -------
    times_s : ndarray
        The end of each window, in seconds from the start of ``x``.
    lufs : ndarray
        Ungated loudness of each window in LUFS (-inf for digital silence).
    """
    times, power = _meter(x, sr, MOMENTARY_S)
    return times, power_to_lufs(power)


def short_term_loudness(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """EBU Tech 3341 short-term loudness: 3 s windows, a reading every 100 ms (times = window ends)."""
    times, power = _meter(x, sr, SHORT_TERM_S)
    return times, power_to_lufs(power)


def _gated_power(power: np.ndarray) -> float:
    """The BS.1770-4 gated mean of 400 ms block powers (nan if no block passes the gates)."""
    loud = power[power_to_lufs(power) > ABSOLUTE_GATE_LUFS]
    if not loud.size:
        return np.nan
    relative_gate = power_to_lufs(loud.mean()) + RELATIVE_GATE_LU
    return loud[power_to_lufs(loud) > relative_gate].mean()


def integrated_loudness(x: np.ndarray, sr: float) -> float:
    """Gated integrated loudness in LUFS, per ITU-R BS.1770-4 (EBU Tech 3341 "I").

    400 ms blocks overlapping by 75% (the momentary windows); blocks under -70 LUFS are left out,
    then blocks more than 10 LU under the loudness of those left. -inf when no block passes.
    """
    _, power = _meter(x, sr, MOMENTARY_S)
    gated = _gated_power(power)
    return float(power_to_lufs(gated)) if np.isfinite(gated) else -np.inf


def loudness_range_lu(x: np.ndarray, sr: float) -> float:
    """Loudness range (LRA) in LU, per EBU Tech 3342.

    The short-term loudness (3 s windows every 100 ms) over -70 LUFS, then within 20 LU of the
    loudness of those windows' mean power; the range is the 95th minus the 10th percentile of
    what is left. 0 when no window passes (silence, or under 3 s of audio).
    """
    _, power = _meter(x, sr, SHORT_TERM_S)
    loud = power[power_to_lufs(power) > ABSOLUTE_GATE_LUFS]
    if not loud.size:
        return 0.0
    levels = power_to_lufs(loud)
    kept = levels[levels > power_to_lufs(loud.mean()) + LRA_RELATIVE_GATE_LU]
    low, high = np.percentile(kept, LRA_PERCENTILES)
    return float(high - low)


# -- true peak: ITU-R BS.1770-4 Annex 2 -------------------------------------------------------

#: BS.1770-4 Annex 2: oversample 4 times through a polyphase FIR of 12 taps per phase.
OVERSAMPLE = 4
_TAPS_PER_PHASE = 12


def _oversampling_filter() -> np.ndarray:
    """The interpolation low-pass: 49 taps, cut at the input's Nyquist, gain ``OVERSAMPLE``.

    The Annex's 48 taps plus one: an odd length delays by a whole number of output samples, so
    the input samples stay on the oversampled grid (an even length would read every peak half an
    output sample off). A Kaiser window (beta 5) keeps the passband within 0.02 dB up to a quarter
    of the input rate and within 0.1 dB up to 0.375 of it (16.5 kHz at 44.1 kHz).
    """
    taps = OVERSAMPLE * _TAPS_PER_PHASE + 1
    return OVERSAMPLE * sg.firwin(taps, 1.0 / OVERSAMPLE, window=("kaiser", 5.0))


def true_peak_dbfs(x: np.ndarray, sr: float) -> float:
    """True peak in dBTP (dB relative to full scale) per ITU-R BS.1770-4 Annex 2.

    Each channel is oversampled 4 times by a polyphase FIR (:func:`scipy.signal.upfirdn`) and
    the largest absolute value of any channel is taken (the Annex's 12.04 dB pre-attenuation is
    for fixed-point arithmetic and is not needed in float). ``sr`` only names the rate: the
    filter is relative to it. -inf for digital silence.
    """
    check_range("sr", sr, 0.0, np.inf, unit=" Hz", low_inclusive=False)
    x = _channels(x)
    h = _oversampling_filter()
    delay = (len(h) - 1) // 2  # output samples from an input sample to its place on the grid
    pad = _TAPS_PER_PHASE
    peak = 0.0
    n = len(x)
    for start in range(0, n, CHUNK_SAMPLES):
        stop = min(start + CHUNK_SAMPLES, n)
        lo, hi = max(start - pad, 0), min(stop + pad, n)
        y = sg.upfirdn(h, x[lo:hi], up=OVERSAMPLE, axis=0)
        # Keep what this chunk owns; at the signal's own ends, keep the filter's ramps too.
        first = 0 if start == 0 else (start - lo) * OVERSAMPLE + delay
        last = len(y) if stop == n else (stop - lo) * OVERSAMPLE + delay
        peak = max(peak, float(np.abs(y[first:last]).max(initial=0.0)))
    with np.errstate(divide="ignore"):
        return float(20 * np.log10(peak))
