"""Audio-analysis helpers shared by the tests that judge rendered WAV files."""

from __future__ import annotations

import numpy as np


def peak_hz(signal: np.ndarray, sr: int, low: float, high: float) -> float:
    """Frequency of the strongest spectral peak in [low, high] Hz, to a few mHz.

    Hann window over the whole signal, zero-padded 16 times, and a parabola through the
    log-magnitudes of the three bins around the maximum.
    """
    n = len(signal)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(n), 16 * n))
    freqs = np.fft.rfftfreq(16 * n, 1 / sr)
    band = np.flatnonzero((freqs >= low) & (freqs <= high))
    i = band[spectrum[band].argmax()]
    a, b, c = np.log(spectrum[i - 1:i + 2])
    return freqs[i] + 0.5 * (a - c) / (a - 2 * b + c) * (freqs[1] - freqs[0])
