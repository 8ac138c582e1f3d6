"""Streaming Welch power spectra for all channels at once, one transform per new segment."""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg.blas import dger
from scipy.signal import get_window

from neurofeed._check import check_option, check_range
from neurofeed.bands.bandset import DEFAULT_BANDS, BandSet
from neurofeed.errors import InvalidArgumentError
from neurofeed.limits import MAX_CHANNELS

DETRENDS = ("constant", "linear", False)
METHODS = ("auto", "fft", "dft")

# Costs of one segment's transform measured on the 2-core machines (hot loop, one
# OpenBLAS thread), in microseconds: a fixed part and a part per multiply-add for the DFT
# matrix, per sample and log2 of the segment length for the FFT. They only choose the
# faster transform (within about 20% of the best on 8-64 channels, 128-1000 samples and
# 29-125 bins); both are exact.
_DFT_US = (1.0, 6e-5)
_FFT_US = (7.0, 3e-4)


class _SlidingSum:
    """The sum of the last ``n`` arrays pushed, at a cost per push that does not grow with n.

    A running sum that adds each new item and subtracts the one leaving would lose the
    small items' digits after a large transient had passed through (catastrophic
    cancellation), and a NaN would stay in it forever. This never subtracts. Items
    arrive in blocks of ``n``; the window always spans the end of the previous block and
    the start of the current one. The start is a running sum (``head``); for the end, the
    sums of every suffix of the previous block are computed once, when it completes
    (``suffixes``). The window sum is ``head + suffix``: a sum of the same numbers, so
    for non-negative items (powers) it is exact to ``n`` roundings, like a plain sum, and
    a NaN leaves it exactly when its item leaves the window.

    Parameters
    ----------
    n : int
        The number of items in the window.
    shape : tuple of int
        The shape of one item.
    """

    def __init__(self, n: int, shape: tuple[int, ...]):
        self.n = n
        #: The last n items. Item i is in slot ``n - 1 - i % n``: a block's items are
        #: stored backwards, so its suffix sums are a forward cumulative sum (a backward
        #: one, over a reversed view, would go through a temporary).
        self.slots = np.zeros((n, *shape))
        self._head = np.zeros(shape)
        # _suffixes[n - 1 - j] is the sum of items j..n-1 of the previous block.
        self._suffixes = np.zeros((n, *shape))
        self.count = 0

    @property
    def next_slot(self) -> np.ndarray:
        """ndarray: The slot the next item must be written into before :meth:`push`."""
        return self.slots[self.n - 1 - self.count % self.n]

    @property
    def full(self) -> bool:
        """bool: Whether n items have been pushed, so that the window is complete."""
        return self.count >= self.n

    def push(self) -> None:
        """Account for the item just written into :attr:`next_slot`."""
        r = self.count % self.n
        if r == 0:
            np.copyto(self._head, self.slots[self.n - 1])
        else:
            np.add(self._head, self.slots[self.n - 1 - r], out=self._head)
        if r == self.n - 1:
            np.cumsum(self.slots, axis=0, out=self._suffixes)
        self.count += 1

    def total(self, out: np.ndarray) -> np.ndarray:
        """Write the sum of the last n items into ``out`` and return it."""
        r = (self.count - 1) % self.n
        if r == self.n - 1:
            np.copyto(out, self._head)
        else:
            np.add(self._head, self._suffixes[self.n - 2 - r], out=out)
        return out

    def reset(self) -> None:
        """Forget every item."""
        self.count = 0


class _FFTTransform:
    """Detrend and taper in place, one batched rfft, then the kept bins squared."""

    def __init__(self, n_channels: int, taper_scaled: np.ndarray, bins: range, detrend):
        n = len(taper_scaled)
        self._detrend = detrend
        self._work = np.empty((n_channels, n))
        self._taper_rows = np.tile(taper_scaled, (n_channels, 1))
        self._coef = np.empty(n_channels)  # per channel: the mean, then the ramp's slope
        self._ones = np.ones(n)
        ramp = np.arange(n) - (n - 1) / 2
        self._ramp = ramp / np.sqrt(ramp @ ramp)
        self._spectrum = np.empty((n_channels, n // 2 + 1), dtype=complex)
        self._components = self._spectrum.view(float)[:, 2 * bins.start:2 * bins.stop]

    def __call__(self, segment: np.ndarray, out: np.ndarray) -> None:
        # Every step writes into an array of its own shape, or is a BLAS call: numpy's
        # broadcasting would allocate iterator buffers at every segment.
        work = self._work
        np.copyto(work, segment)
        if self._detrend:
            # np.mean's arithmetic (as in scipy's detrend) without its Python overhead, then
            # work -= mean as a rank-1 update, in place (work.T is Fortran-ordered).
            np.add.reduce(work, axis=1, out=self._coef)
            np.divide(self._coef, work.shape[1], out=self._coef)
            dger(-1.0, self._ones, self._coef, a=work.T, overwrite_a=True)
            if self._detrend == "linear":
                # The mean is gone, and the centred ramp is orthogonal to a constant, so
                # removing its projection leaves the least-squares residual.
                np.matmul(work, self._ramp, out=self._coef)
                dger(-1.0, self._ramp, self._coef, a=work.T, overwrite_a=True)
        np.multiply(work, self._taper_rows, out=work)
        np.fft.rfft(work, axis=1, out=self._spectrum)
        np.copyto(out, self._components)
        np.square(out, out=out)


class _DFTTransform:
    """One matrix product with detrend, taper and DFT folded in, for the kept bins only.

    Removing the mean or line of a segment is a projection, so it folds into the matrix:
    ``x (I - P) diag(w) F``. A DC offset then cancels inside the product rather than before
    it; on the raw recordings in ../shared/data/eeg (DC offsets of 4-60 mV under 20 uV of
    EEG) the result still agrees with scipy to 2e-11, against 3e-12 for the FFT.
    """

    def __init__(self, taper_scaled: np.ndarray, bins: range, detrend):
        n = len(taper_scaled)
        samples = np.arange(n)
        # (k * n) mod n keeps the phase small, so that cos and sin are accurate
        phase = 2 * np.pi * (np.outer(samples, np.asarray(bins)) % n) / n
        matrix = np.empty((n, 2 * len(bins)))
        matrix[:, 0::2] = np.cos(phase) * taper_scaled[:, None]
        matrix[:, 1::2] = -np.sin(phase) * taper_scaled[:, None]
        if detrend:
            basis = [np.full(n, 1 / np.sqrt(n))]
            if detrend == "linear":
                ramp = samples - (n - 1) / 2
                basis.append(ramp / np.sqrt(ramp @ ramp))
            basis = np.array(basis).T
            matrix -= basis @ (basis.T @ matrix)
        self._matrix = matrix

    def __call__(self, segment: np.ndarray, out: np.ndarray) -> None:
        np.matmul(segment, self._matrix, out=out)
        np.square(out, out=out)


class StreamingWelch:
    """Welch power spectral density of a multichannel stream, updated segment by segment.

    Feed it chunks of any size with :meth:`update`. Each time a segment completes (every
    ``hop_s``), its tapered spectrum is computed once, for all channels at once (one
    batched FFT, or for few bins one product with a precomputed detrend-taper-DFT matrix
    restricted to them), and cached. The estimate is the mean of the cached spectra of the
    last ``n_segments`` segments, summed exactly (see :class:`_SlidingSum`), so the cost of
    an update does not grow with the window length.

    **Which samples an estimate covers.** The ``n_window`` samples that end with the one
    that completed the newest segment: samples ``stop - n_window`` to ``stop - 1`` of the
    stream, counting from 0 (:attr:`stop`). Samples received since then wait for the next
    segment. On the covered samples ``x``, the PSD equals, at the bins of :attr:`freqs`
    and to rounding (within 2e-11 relative on real recordings with DC offsets)::

        scipy.signal.welch(x, sfreq, window=taper, nperseg=n_per_seg,
                           noverlap=n_overlap, detrend=detrend)
        mne.time_frequency.psd_array_welch(x, sfreq, n_fft=n_per_seg, n_per_seg=n_per_seg,
                                           n_overlap=n_overlap, window=taper)

    that is, density scaling, one-sided, the mean over segments.
    ``n_window = n_per_seg + (n_segments - 1) * n_hop``: ``window_s * sfreq`` when the
    window is a whole number of hops longer than a segment, a little less otherwise (like
    scipy, no partial segment is used).

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    n_channels : int
        Number of channels (rows of each chunk).
    bands : BandSet
        The bands whose powers :attr:`band_power` reports. The PSD is kept for the bins
        from the lowest band edge to the highest (:attr:`freqs`).
    window_s : float
        Length of the window that an estimate averages over, in seconds.
    segment_s : float
        Length of one Welch segment, in seconds. The frequency resolution is its inverse.
    hop_s : float
        Time between segment starts, in seconds: a new estimate every ``hop_s``. The Welch
        overlap is ``segment_s - hop_s``. All durations are rounded to whole samples.
    window : str, tuple or array_like
        The taper, as accepted by :func:`scipy.signal.get_window` (periodic), or its values.
    detrend : {"constant", "linear", False}
        What is removed from each segment before tapering: its mean, its least-squares
        line, or nothing.
    method : {"auto", "fft", "dft"}
        How a segment is transformed: one batched FFT, or one product with the DFT matrix
        of the kept bins (faster for short segments and few bins). ``"auto"`` picks the
        cheaper by a cost model measured on these machines; both give the same estimate
        to rounding.

    Attributes
    ----------
    n_per_seg, n_hop, n_overlap, n_segments, n_window : int
        Segment length, hop, overlap, segments per estimate and samples covered by one
        estimate, all in samples except ``n_segments``.
    freqs : ndarray, shape (n_freqs,)
        The frequencies of the PSD's bins, in Hz.
    taper : ndarray, shape (n_per_seg,)
        The taper's values.
    band_power : ndarray, shape (n_channels, n_bands)
        Power in each band, in V² (the PSD in V²/Hz summed over the band's bins, times
        the bin width), for the latest estimate. Overwritten by each :meth:`update`.
    """

    def __init__(self, sfreq: float, n_channels: int, bands: BandSet = DEFAULT_BANDS, *,
                 window_s: float = 2.0, segment_s: float = 1.0, hop_s: float = 0.1,
                 window="hann", detrend="constant", method="auto"):
        self.sfreq = check_range("sfreq", sfreq, 0, math.inf, unit=" Hz", low_inclusive=False)
        self.n_channels = int(check_range("n_channels", n_channels, 1, MAX_CHANNELS))
        if self.n_channels != n_channels:
            raise InvalidArgumentError(f"n_channels must be a whole number, got {n_channels!r}")
        if not isinstance(bands, BandSet):
            raise InvalidArgumentError(f"bands must be a BandSet, got {bands!r}")
        self.bands = bands
        self.detrend = check_option("detrend", detrend, DETRENDS)
        segment_s = check_range("segment_s", segment_s, 0, 3600, unit=" s", low_inclusive=False)
        self.n_per_seg = self._samples("segment_s", segment_s, minimum=2)
        hop_s = check_range("hop_s", hop_s, 0, segment_s, unit=" s (at most segment_s)",
                            low_inclusive=False)
        self.n_hop = self._samples("hop_s", hop_s, minimum=1)
        window_s = check_range("window_s", window_s, segment_s, 3600,
                               unit=" s (at least segment_s)")
        self.n_segments = 1 + (round(window_s * self.sfreq) - self.n_per_seg) // self.n_hop
        self.n_overlap = self.n_per_seg - self.n_hop
        self.n_window = self.n_per_seg + (self.n_segments - 1) * self.n_hop

        #: ndarray, shape (n_per_seg,): the taper's values (e.g. a periodic Hann window).
        self.taper = taper = self._taper(window)
        df = self.sfreq / self.n_per_seg
        nyquist_bin = self.n_per_seg // 2
        self._bins = bands.bin_range(df)
        if self._bins.stop - 1 > nyquist_bin:
            raise InvalidArgumentError(
                f"bands reach {bands.hi_hz:g} Hz, above the Nyquist frequency "
                f"{self.sfreq / 2:g} Hz of a {self.sfreq:g} Hz stream")
        self.freqs = np.arange(self._bins.start, self._bins.stop) * df
        # One-sided density: |X|^2 * 2 / (sfreq * sum(w^2)), then the mean over segments.
        # The factor is folded into the taper (squared later); DC and Nyquist, which are
        # not doubled, are halved back at the end (exactly, a power of two).
        scale = 2.0 / (self.sfreq * np.sum(taper ** 2) * self.n_segments)
        self._unfold = np.ones(len(self._bins))
        for k in {0, nyquist_bin} if self.n_per_seg % 2 == 0 else {0}:
            if k in self._bins:
                self._unfold[k - self._bins.start] = 0.5
        # Squared real and imaginary parts (interleaved per bin, as the FFT gives them) are
        # summed straight into band powers: no separate |X|^2 pass.
        self._band_weights = np.repeat(bands.matrix(self._bins, df) * self._unfold[:, None],
                                       2, axis=0)

        n, c, n_bins = self.n_per_seg, self.n_channels, len(self._bins)
        self.method = check_option("method", method, METHODS)
        if self.method == "auto":
            dft_us = _DFT_US[0] + _DFT_US[1] * c * n * 2 * n_bins
            fft_us = _FFT_US[0] + _FFT_US[1] * c * n * math.log2(n)
            self.method = "dft" if dft_us < fft_us else "fft"
        taper_scaled = taper * np.sqrt(scale)
        self._transform = (_DFTTransform(taper_scaled, self._bins, self.detrend)
                           if self.method == "dft" else
                           _FFTTransform(c, taper_scaled, self._bins, self.detrend))
        # Samples are appended; the newest n are the contiguous slice [end - n, end). When
        # the buffer is full they move to the front of its twin (a copy within one array
        # would go through a temporary). Its length is n plus whole hops, so that happens
        # only at a segment's end: the same samples, wherever chunks end.
        length = n + self.n_hop * math.ceil(n / self.n_hop)
        self._ring, self._spare = np.zeros((c, length)), np.zeros((c, length))
        self._sum = _SlidingSum(self.n_segments, (c, 2 * n_bins))
        self._window_sum = np.zeros((c, 2 * n_bins))
        self.band_power = np.full((c, len(bands)), np.nan)
        self.reset()

    def _samples(self, name: str, seconds: float, *, minimum: int) -> int:
        n = round(seconds * self.sfreq)
        if n < minimum:
            raise InvalidArgumentError(
                f"{name}={seconds:g} s is under {minimum} sample(s) at {self.sfreq:g} Hz")
        return n

    def _taper(self, window) -> np.ndarray:
        if isinstance(window, (str, tuple)):
            try:
                return get_window(window, self.n_per_seg)
            except ValueError as err:
                raise InvalidArgumentError(f"window={window!r} is not accepted: {err}") from None
        taper = np.asarray(window, dtype=float)
        if taper.shape != (self.n_per_seg,) or not np.all(np.isfinite(taper)) \
                or not np.any(taper):
            raise InvalidArgumentError(
                f"window values must be {self.n_per_seg} finite numbers, not all zero "
                f"(one per sample of a segment), got shape {taper.shape}")
        return taper

    # -- state ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every sample, for instance after a gap in the stream."""
        self._sum.reset()
        self._end = 0
        self._to_next = self.n_per_seg
        #: Samples received since the start or the last reset.
        self.n_seen = 0
        #: Samples up to the end of the newest segment: the estimate covers
        #: ``[stop - n_window, stop)``.
        self.stop = 0
        #: LSL time of sample ``stop - 1`` in seconds, when timestamps were given, else None.
        self.time = None
        self.band_power.fill(np.nan)

    @property
    def ready(self) -> bool:
        """bool: Whether enough samples arrived for a first estimate (``n_window``)."""
        return self._sum.full

    @property
    def window_s(self) -> float:
        """float: The duration that one estimate covers, ``n_window / sfreq``, in seconds."""
        return self.n_window / self.sfreq

    # -- updates -------------------------------------------------------------------
    def update(self, data: np.ndarray, timestamps: np.ndarray | None = None) -> int:
        """Append samples and update the estimate for every segment they complete.

        Parameters
        ----------
        data : ndarray, shape (n_channels, n_samples)
            New samples in volts, oldest first. Any number of samples, including 0.
        timestamps : ndarray, shape (n_samples,), optional
            Their LSL times in seconds; :attr:`time` is then the time of the newest
            sample covered by the estimate.

        Returns
        -------
        n_segments : int
            How many segments these samples completed. When it is positive and
            :attr:`ready`, :attr:`band_power` and :meth:`psd` describe a new window.
        """
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[0] != self.n_channels:
            raise InvalidArgumentError(
                f"data must have shape (n_channels={self.n_channels}, n_samples), "
                f"got {data.shape}")
        n_samples = data.shape[1]
        if timestamps is not None and len(timestamps) != n_samples:
            raise InvalidArgumentError(
                f"timestamps must have one entry per sample ({n_samples}), "
                f"got {len(timestamps)}")
        completed = 0
        start = 0
        # NaN and inf are expected (sources pass them through); they make the channel's
        # spectrum NaN, which the artifact flags report, so numpy need not warn.
        with np.errstate(invalid="ignore", over="ignore"):
            while start < n_samples:
                take = min(n_samples - start, self._to_next)
                self._write(data[:, start:start + take])
                start += take
                self._to_next -= take
                if self._to_next == 0:
                    self._add_segment()
                    self._to_next = self.n_hop
                    completed += 1
                    self.stop = self.n_seen + start
                    if timestamps is not None:
                        self.time = float(timestamps[start - 1])
            if completed and self._sum.full:
                self._sum.total(out=self._window_sum)
                np.matmul(self._window_sum, self._band_weights, out=self.band_power)
        self.n_seen += n_samples
        return completed

    def _write(self, block: np.ndarray) -> None:
        take = block.shape[1]
        if self._end + take > self._ring.shape[1]:
            n = self.n_per_seg
            self._spare[:, :n] = self._ring[:, self._end - n:self._end]
            self._ring, self._spare = self._spare, self._ring
            self._end = n
        self._ring[:, self._end:self._end + take] = block
        self._end += take

    def _add_segment(self) -> None:
        self._transform(self._ring[:, self._end - self.n_per_seg:self._end],
                        self._sum.next_slot)
        self._sum.push()

    # -- results -------------------------------------------------------------------
    def psd(self) -> np.ndarray:
        """Return the PSD of the latest window, in V²/Hz.

        Returns
        -------
        psd : ndarray, shape (n_channels, n_freqs)
            One row per channel, at the frequencies :attr:`freqs`; NaN before the first
            estimate (see :attr:`ready`). A new array.
        """
        if not self._sum.full:
            return np.full((self.n_channels, len(self.freqs)), np.nan)
        pairs = self._window_sum.reshape(self.n_channels, -1, 2)
        return pairs.sum(axis=2) * self._unfold
