"""The music-analysis kit: measures of rendered audio and of the engine's score, for the tests.

Everything here judges what a listener would hear (the WAV file) or what a musician would read
(the score), with numpy and scipy (and, for the score, the engine's score records and music
theory), so that the targets of issue 12 are checked on the output and not on the engine's
state.

Audio arrays are float64 ``(n_samples, n_channels)`` in [-1, 1] (as :func:`read_wav` returns
them); ``sr`` is the sampling rate in Hz. Loudness follows ITU-R BS.1770-4 (K-weighting, gating)
and EBU Tech 3341 (momentary and short-term meters); the true peak follows BS.1770-4 Annex 2;
both are :mod:`neurofeed.synth.loudness`, re-exported here. Functions that walk through a whole
render do so in chunks, so that 20-minute renders fit in memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io.wavfile
import scipy.signal as sg

from neurofeed._check import check_range
from neurofeed.synth.composer import BEATS_PER_BAR

# The loudness core lives in the package (the music library and the playlist player measure with
# it); its names are re-exported here, so the kit stays one place to judge audio from.
from neurofeed.synth.loudness import (
    ABSOLUTE_GATE_LUFS,
    LRA_RELATIVE_GATE_LU,
    METER_HOP_S,
    MOMENTARY_S,
    SHORT_TERM_S,
    integrated_loudness,
    k_weighted,
    momentary_loudness,
    short_term_loudness,
)
from neurofeed.synth.loudness import CHUNK_SAMPLES as _CHUNK
from neurofeed.synth.loudness import K_WEIGHTING_48K as _K_TABLE  # noqa: F401
from neurofeed.synth.loudness import k_weighting_sos as k_weighting_sos
from neurofeed.synth.loudness import loudness_range_lu as loudness_range_lu
from neurofeed.synth.loudness import power_to_lufs as _lufs
from neurofeed.synth.loudness import true_peak_dbfs as true_peak_dbfs
from neurofeed.synth.score import Change, Note, ScoreLog
from neurofeed.synth.theory import KEYS, key_pitch_class, scale

# -- reading -------------------------------------------------------------------------------

#: Full scale of each integer PCM sample type: 24-bit PCM is read left-aligned in int32.
_FULL_SCALE = {np.dtype(np.int16): 2.0 ** 15, np.dtype(np.int32): 2.0 ** 31}


def read_wav(path) -> tuple[int, np.ndarray]:
    """Read a WAV file as float64 in [-1, 1].

    Parameters
    ----------
    path : str or Path
        A 16-bit or 24-bit (as the engine writes) PCM, or a float, WAV file.

    Returns
    -------
    sr : int
        Sampling rate in Hz.
    x : ndarray, shape (n_samples, n_channels)
        The samples; a mono file has one column.
    """
    sr, data = scipy.io.wavfile.read(path)
    if data.dtype in _FULL_SCALE:
        x = data.astype(np.float64) / _FULL_SCALE[data.dtype]
    elif data.dtype.kind == "f":
        x = data.astype(np.float64)
    else:
        raise ValueError(f"{path}: sample type {data.dtype} is not accepted; accepted: 16-bit or "
                         "24-bit PCM, or float")
    return int(sr), x.reshape(len(x), -1)


def _mono(x: np.ndarray) -> np.ndarray:
    """The mean of the channels (what both ears share)."""
    return x.mean(axis=1) if x.ndim == 2 else x


# -- loudness: ITU-R BS.1770-4, EBU Tech 3341 (neurofeed.synth.loudness) ---------------------

def segment_loudness(x: np.ndarray, sr: float, start_s: float, duration_s: float = 1.0) -> float:
    """Ungated loudness in LUFS of ``duration_s`` seconds from ``start_s`` (e.g. a note and its tail).

    ``x`` is K-weighted from its start, so the filters have settled by the segment.
    """
    start = round(start_s * sr)
    stop = start + round(duration_s * sr)
    y = k_weighted(x[:stop], sr)[start:]
    return float(_lufs((y ** 2).sum(axis=1).mean()))


def largest_rise(times_s: np.ndarray, lufs: np.ndarray, within_s: float = 1.0) -> np.ndarray:
    """Per reading, the largest increase to any later reading at most ``within_s`` seconds on, in LU.

    0 where the level only falls or where no later reading is that close (the last ones).
    """
    times_s, lufs = np.asarray(times_s, float), np.asarray(lufs, float)
    rise = np.zeros(len(lufs))
    # A rise to a reading k hops on, for every k that fits in the horizon.
    step = np.median(np.diff(times_s)) if len(times_s) > 1 else np.inf
    for k in range(1, int(np.floor(within_s / step + 1e-9)) + 1):
        with np.errstate(invalid="ignore"):  # silence to silence: -inf - -inf, no rise (fmax skips nan)
            ahead = lufs[k:] - lufs[:-k]
        close = times_s[k:] - times_s[:-k] <= within_s + 1e-9
        rise[:-k] = np.fmax(rise[:-k], np.where(close, ahead, 0.0))
    return rise


def programme_floor_lufs(x: np.ndarray, sr: float) -> float:
    """Level under which a window is not programme: 20 LU under the integrated loudness, and
    never under -70 LUFS (the relative gate of EBU Tech 3342 and the absolute gate of BS.1770-4)."""
    return max(ABSOLUTE_GATE_LUFS, integrated_loudness(x, sr) + LRA_RELATIVE_GATE_LU)


def _rise_starts(times: np.ndarray, momentary: np.ndarray, floor: float) -> np.ndarray:
    """Which meter readings (every 100 ms, times = window ends) may start a rise.

    Those whose short-term window, the 3 s ending with them, is all programme: no momentary
    reading inside it under ``floor``. So silence, a fade-in from silence and the first 3 s
    (the window not yet full) start no rise: that is the music starting, not a note jumping out.
    """
    inside = round((SHORT_TERM_S - MOMENTARY_S) / METER_HOP_S) + 1  # momentary windows in one
    if len(momentary) < inside:
        return np.zeros(len(momentary), bool)
    lowest = np.full(len(momentary), -np.inf)
    lowest[inside - 1:] = np.lib.stride_tricks.sliding_window_view(momentary, inside).min(axis=1)
    return lowest >= floor


def rise_events_per_minute(x: np.ndarray, sr: float, threshold_lu: float = 6.0,
                           within_s: float = 1.0) -> float:
    """Momentary-loudness rises of more than ``threshold_lu`` within ``within_s``, per minute.

    A rise (:func:`largest_rise`) counts from readings whose last 3 s are all programme (no
    momentary reading under :func:`programme_floor_lufs`), so that silence and a fade-in from
    silence do not count. Rising readings at most ``within_s`` apart are one event (a single
    bloom lasts several readings).

    Returns
    -------
    float
        Events per minute of ``x``.
    """
    times, momentary = momentary_loudness(x, sr)
    starts = _rise_starts(times, momentary, programme_floor_lufs(x, sr))
    rising = times[starts & (largest_rise(times, momentary, within_s) > threshold_lu)]
    events = 0 if not len(rising) else 1 + int((np.diff(rising) > within_s + 1e-9).sum())
    return events / (len(x) / sr / 60.0)


# Seconds over which :func:`max_short_term_rise_lu_per_s` measures a rate.
_RATE_OVER_S = 1.0


def max_short_term_rise_lu_per_s(x: np.ndarray, sr: float) -> float:
    """The largest increase of short-term loudness within any 1 s, in LU per second.

    Rises start only from readings whose 3 s window is all programme, as in
    :func:`rise_events_per_minute` (a fade-in from silence would read as a steep rise); 0 if
    nothing rises.
    """
    times, momentary = momentary_loudness(x, sr)
    short_times, short = short_term_loudness(x, sr)
    if not len(short):
        return 0.0
    # Readings share the hop grid: the short-term ones are the momentary ones from 3 s on.
    starts = _rise_starts(times, momentary, programme_floor_lufs(x, sr))[-len(short):]
    rise = largest_rise(short_times, short, within_s=_RATE_OVER_S)[starts]
    return float(rise.max(initial=0.0)) / _RATE_OVER_S


# -- entrainment as heard --------------------------------------------------------------------

#: Envelope readings per second per Hz of band half-width: the band's envelope holds
#: frequencies up to twice its half-width, so this samples it 4 times faster than needed.
_ENVELOPE_RATE_PER_HZ = 16
#: Band-pass (Butterworth) order, and the settling time dropped at the start, in periods of the
#: half-width.
_BAND_ORDER = 8
_SETTLE_PERIODS = 4
#: Bins per pulse cycle when folding an envelope on the pulse phase.
_PHASE_BINS = 64


def band_envelope(signal: np.ndarray, sr: float, carrier_hz: float,
                  halfwidth_hz: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude envelope of one channel band-passed ``carrier_hz`` ± ``halfwidth_hz``.

    Computed as complex demodulation, which equals a band-pass and a Hilbert envelope: the signal
    is shifted down by the carrier, low-passed at the half-width (Butterworth order 8: 48 dB per
    octave, so that loud notes outside the band do not ripple the envelope) and its
    magnitude doubled; chunked, so any length fits. The first 4 / ``halfwidth_hz`` seconds
    (the filter settling) are dropped.

    Returns
    -------
    times_s : ndarray
        Time of each reading in seconds from the start of ``signal`` (the filter's group delay,
        a few ms, is not removed).
    envelope : ndarray
        Peak amplitude of the band at each reading (full scale 1).
    """
    check_range("halfwidth_hz", halfwidth_hz, 0.0, sr / 4, unit=" Hz", low_inclusive=False)
    check_range("carrier_hz", carrier_hz, halfwidth_hz, sr / 2 - halfwidth_hz, unit=" Hz")
    sos = sg.butter(_BAND_ORDER, halfwidth_hz, fs=sr, output="sos")
    step = max(1, int(sr // (_ENVELOPE_RATE_PER_HZ * halfwidth_hz)))
    state = np.zeros((sos.shape[0], 2), complex)
    parts = []
    for start in range(0, len(signal), _CHUNK):
        t = np.arange(start, min(start + _CHUNK, len(signal))) / sr
        base, state = sg.sosfilt(sos, signal[start:start + _CHUNK] * np.exp(-2j * np.pi * carrier_hz * t),
                                 zi=state)
        parts.append(2 * np.abs(base[(-start) % step::step]))  # every step-th sample of the whole
    envelope = np.concatenate(parts)
    times = np.arange(len(envelope)) * step / sr
    keep = times >= _SETTLE_PERIODS / halfwidth_hz
    return times[keep], envelope[keep]


def isochronic_depth(x: np.ndarray, sr: float, carrier_hz: float, rate_hz: float,
                     halfwidth_hz: float = 20.0) -> float:
    """Isochronic pulsing as heard: (max - min) / (max + min) of the carrier band's mean pulse cycle.

    The mix (mean of the channels) is band-passed ``carrier_hz`` ± ``halfwidth_hz``
    (:func:`band_envelope`); its envelope is folded on the pulse phase (time × ``rate_hz``,
    64 bins per cycle) and averaged per bin, which averages out the music while keeping the
    pulse. 1 is a gate that closes completely; music in the band fills the gaps and lowers it.
    ``rate_hz`` must be under ``halfwidth_hz``: the pulse's first sidebands, ``rate_hz`` from the
    carrier, must pass the band (a faster pulse needs a wider band).
    """
    check_range("rate_hz", rate_hz, 0.0, halfwidth_hz, unit=" Hz (under halfwidth_hz)",
                low_inclusive=False, high_inclusive=False)
    times, envelope = band_envelope(_mono(x), sr, carrier_hz, halfwidth_hz)
    bins = (np.floor(times * rate_hz % 1.0 * _PHASE_BINS)).astype(int)
    cycle = np.bincount(bins, envelope, _PHASE_BINS) / np.maximum(np.bincount(bins, minlength=_PHASE_BINS), 1)
    return float((cycle.max() - cycle.min()) / (cycle.max() + cycle.min()))


def carrier_beating_db(x: np.ndarray, sr: float, carrier_hz: float, beat_hz: float,
                       halfwidth_hz: float = 20.0) -> float:
    """Monaural beating of a binaural carrier with the music, in dB over the envelope's background.

    For a binaural pair centred on ``carrier_hz`` (left ``carrier - beat/2``, right
    ``carrier + beat/2``), a music partial on the centre frequency, the pitch the carrier used
    to share with the music, is ``beat/2`` Hz from each ear's carrier and beats with it at
    ``beat/2`` Hz in that ear alone: a loudness wobble heard beside the intended binaural beat.
    Per channel, the envelope of the band ``carrier_hz`` ± ``halfwidth_hz``
    (:func:`band_envelope`) is Hann-windowed; its power spectrum at ``beat/2`` (the strongest
    bin within ±2 bins) is given in dB over the 95th percentile of the spectrum from the lowest
    bin up to twice the half-width (the envelope's whole bandwidth). The louder ear is returned.
    A carrier alone gives an envelope spectrum with nothing at ``beat/2``: about 0 dB or less.
    """
    check_range("beat_hz", beat_hz, 0.0, 2 * halfwidth_hz, unit=" Hz (under twice halfwidth_hz)",
                low_inclusive=False, high_inclusive=False)
    target = beat_hz / 2.0
    levels = []
    for channel in x.T:
        times, envelope = band_envelope(channel, sr, carrier_hz, halfwidth_hz)
        rate = 1.0 / (times[1] - times[0])
        power = np.abs(np.fft.rfft((envelope - envelope.mean()) * np.hanning(len(envelope)))) ** 2
        freqs = np.fft.rfftfreq(len(envelope), 1.0 / rate)
        df = freqs[1]
        near = np.abs(freqs - target) <= 2 * df
        background = np.percentile(power[(freqs >= df) & (freqs <= 2 * halfwidth_hz)], 95)
        levels.append(10 * np.log10(power[near].max() / background))
    return float(max(levels))


def music_partials(notes, harmonics: int = 5, release_s: float = 0.0) -> np.ndarray:
    """The partials the notes sound: fundamental and harmonics 2..``harmonics`` (A4 = 440 Hz).

    Parameters
    ----------
    notes : iterable of Note
        Objects with ``time_s``, ``pitch`` (MIDI) and ``duration_s`` (onset to release, in s).
    harmonics : int
        Partials per note; 5 is the fundamental and its first four harmonics.
    release_s : float
        Seconds a note still sounds after its duration (its release); 0 takes the score's
        durations as MIDI does.

    Returns
    -------
    ndarray, shape (n_notes * harmonics, 3)
        Rows of (start_s, stop_s, frequency_hz).
    """
    rows = [(n.time_s, n.time_s + n.duration_s + release_s, 440.0 * 2 ** ((n.pitch - 69) / 12) * h)
            for n in notes for h in range(1, harmonics + 1)]
    return np.array(rows, float).reshape(-1, 3)


#: Time step, in seconds, at which :func:`partial_overlap_fraction` checks the score.
OVERLAP_STEP_S = 0.01


def partial_overlap_fraction(notes, carrier_hz, halfwidth_hz: float, start_s: float, stop_s: float,
                             harmonics: int = 5, release_s: float = 0.0) -> float:
    """Fraction of the time in [``start_s``, ``stop_s``) that a music partial lies near the carrier.

    At every 10 ms, true when any sounding note (onset to onset + duration + ``release_s``) has a
    partial (:func:`music_partials`) within ± ``halfwidth_hz`` of the carrier.

    Parameters
    ----------
    notes : iterable of Note
        The score's notes (all voices that sound).
    carrier_hz : float or callable
        The carrier in Hz, or a function of time (s) to Hz, vectorised (e.g. ``np.interp`` over
        the score's key changes), for a carrier that follows the key.
    halfwidth_hz : float
        Half-width of the protected band, in Hz: the issue's ``beat + 2`` Hz. A binaural pair
        has a carrier per ear, ``beat / 2`` either side of its centre: check each ear's, or
        the centre with ``beat / 2`` more.
    """
    grid = np.arange(start_s, stop_s, OVERLAP_STEP_S)
    carrier = carrier_hz(grid) if callable(carrier_hz) else np.full(len(grid), float(carrier_hz))
    hit = np.zeros(len(grid), bool)
    for on, off, hz in music_partials(notes, harmonics, release_s):
        span = slice(*np.searchsorted(grid, [on, off]))
        hit[span] |= np.abs(carrier[span] - hz) <= halfwidth_hz
    return float(hit.mean()) if len(grid) else 0.0


#: Spectral frame for :func:`band_occupied_fraction`: 2^15 samples (0.74 s at 44.1 kHz, 1.3 Hz
#: bins) under a Blackman-Harris window, whose side lobes (-92 dB) do not leak loud partials
#: into a band a few Hz wide.
_BAND_FRAME = 2 ** 15


def band_occupied_fraction(x: np.ndarray, sr: float, carrier_hz, halfwidth_hz: float,
                           floor_db: float = -40.0) -> float:
    """Audio cross-check of :func:`partial_overlap_fraction`, for a render of the music alone.

    The fraction of spectral frames (2^15 samples, Blackman-Harris, hop of a quarter frame) in
    which the strongest bin within ± ``halfwidth_hz`` of the carrier is at most ``-floor_db`` dB
    under the frame's strongest bin: the music puts a partial in the carrier's band that is not
    negligible beside its own loudest partial. Frames of digital silence count as unoccupied.
    A partial's main lobe spans 4 bins (5.4 Hz at 44.1 kHz) either side of it, so one that close
    outside the band counts too.

    Parameters
    ----------
    carrier_hz : float or callable
        The carrier in Hz, or a vectorised function of time (s) to Hz (read at frame centres).
    floor_db : float
        How far under the frame's loudest partial a partial still counts, in dB (negative).
    """
    mono = _mono(x)
    hop = _BAND_FRAME // 4
    window = sg.get_window("blackmanharris", _BAND_FRAME)
    freqs = np.fft.rfftfreq(_BAND_FRAME, 1.0 / sr)
    starts = np.arange(0, len(mono) - _BAND_FRAME + 1, hop)
    centres = (starts + _BAND_FRAME / 2) / sr
    carrier = carrier_hz(centres) if callable(carrier_hz) else np.full(len(centres), float(carrier_hz))
    occupied = []
    for start, hz in zip(starts, carrier):
        level = np.abs(np.fft.rfft(mono[start:start + _BAND_FRAME] * window))
        loudest = level.max()
        band = np.abs(freqs - hz) <= halfwidth_hz
        occupied.append(loudest > 0 and level[band].max() >= loudest * 10 ** (floor_db / 20))
    return float(np.mean(occupied)) if occupied else 0.0


# -- spectrum and timbre ---------------------------------------------------------------------

def peak_hz(signal: np.ndarray, sr: float, low: float, high: float) -> float:
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


#: Welch segment for the long-term spectrum: 4096 samples (10.8 Hz bins at 44.1 kHz).
_WELCH_SEGMENT = 4096


def power_spectrum(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """Long-term power spectrum of the mix (mean of the channels): Welch, Hann, 4096 samples, 50%.

    Computed chunk by chunk and averaged, so a 20-minute render fits in memory.

    Returns
    -------
    freqs : ndarray
        Hz.
    power : ndarray
        Power spectral density (full scale² per Hz).
    """
    mono = _mono(x)
    total, count = 0.0, 0
    step = _CHUNK - _CHUNK % (_WELCH_SEGMENT // 2)
    for start in range(0, max(len(mono) - _WELCH_SEGMENT // 2, 1), step):
        chunk = mono[start:start + step + _WELCH_SEGMENT // 2]
        if len(chunk) < _WELCH_SEGMENT:
            break
        freqs, power = sg.welch(chunk, sr, nperseg=_WELCH_SEGMENT)
        segments = (len(chunk) - _WELCH_SEGMENT // 2) // (_WELCH_SEGMENT // 2)
        total, count = total + power * segments, count + segments
    if not count:
        freqs, total = sg.welch(mono, sr, nperseg=min(_WELCH_SEGMENT, len(mono)))
        count = 1
    return freqs, total / count


def spectral_centroid_hz(x: np.ndarray, sr: float) -> float:
    """Power-weighted mean frequency of the long-term spectrum (:func:`power_spectrum`), in Hz."""
    freqs, power = power_spectrum(x, sr)
    return float((freqs * power).sum() / power.sum())


def high_band_fraction(x: np.ndarray, sr: float, above_hz: float = 4000.0) -> float:
    """Share of the mix's power above ``above_hz`` Hz (0-1), from :func:`power_spectrum`."""
    freqs, power = power_spectrum(x, sr)
    return float(power[freqs > above_hz].sum() / power.sum())


def chroma(x: np.ndarray, sr: float, start_s: float, stop_s: float) -> np.ndarray:
    """Energy per pitch class (0 = C) between two times, from 100 Hz to 2 kHz, normalised to sum 1."""
    segment = _mono(x[int(start_s * sr):int(stop_s * sr)])
    f, _, z = sg.stft(segment, sr, nperseg=8192, noverlap=6144)
    energy = (np.abs(z) ** 2).sum(axis=1)
    band = (f > 100) & (f < 2000)
    pitch_class = np.round(12 * np.log2(f[band] / 440.0) + 69).astype(int) % 12
    out = np.bincount(pitch_class, weights=energy[band], minlength=12)
    return out / out.sum()


# -- onsets, tempo, attack -------------------------------------------------------------------

#: Onset analysis: FFT frame and hop in samples, the flux's lag in hops (10 x 64 = 14.5 ms at
#: 44.1 kHz), the band in Hz, and the level floor under the loudest bin in dB.
_ONSET_FFT = 1024
_ONSET_HOP = 64
_ONSET_LAG = 10
_ONSET_BAND_HZ = (60.0, 6000.0)
_ONSET_FLOOR_DB = -60.0
# Smallest onset prominence, dB of mean rise. Chosen on 30 s renders of each palette at 50, 64 and
# 100 BPM against the score's notes (pads excepted): spurious peaks (partials beating, the
# reverb) cluster under 0.9 dB. There, 81% of the onsets found are notes and 83% of the notes are
# found for the warm palette, 66% and 68% for the ambient one (the lag of 4 hops and no floor
# found 55% / 82% and 18% / 72%). The drone's noise texture hides its bowls' slow attacks.
_ONSET_MIN_PROMINENCE_DB = 0.9
_FRAMES_PER_CHUNK = 8192


def _band_magnitudes(mono: np.ndarray, sr: float, first: int, stop: int) -> np.ndarray:
    """STFT magnitudes (Hann, :data:`_ONSET_FFT`) of frames [first, stop) in the onset band."""
    frames = np.lib.stride_tricks.sliding_window_view(mono, _ONSET_FFT)[first * _ONSET_HOP:
                                                                         stop * _ONSET_HOP:_ONSET_HOP]
    spectrum = np.abs(np.fft.rfft(frames * sg.get_window("hann", _ONSET_FFT), axis=1))
    freqs = np.fft.rfftfreq(_ONSET_FFT, 1.0 / sr)
    return spectrum[:, (freqs > _ONSET_BAND_HZ[0]) & (freqs < _ONSET_BAND_HZ[1])]


def onset_envelope(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """Onset strength: positive log-spectral flux of the mix, every 64 samples.

    The flux compares each frame with the one 10 hops (14.5 ms) earlier, per FFT bin, long enough
    for attacks of a few tens of ms to rise as one step; a floor 60 dB under the loudest
    bin keeps decaying tails from counting. Two chunked passes (the loudest bin, then the
    flux), so that any length fits.

    Returns
    -------
    times_s : ndarray
        Time of each reading, seconds (between the two frames compared).
    novelty : ndarray
        Mean rise in dB over the band's bins.
    """
    mono = _mono(x)
    n_frames = (len(mono) - _ONSET_FFT) // _ONSET_HOP + 1
    if n_frames <= _ONSET_LAG:
        return np.empty(0), np.empty(0)
    chunks = [(k, min(k + _FRAMES_PER_CHUNK, n_frames)) for k in range(0, n_frames, _FRAMES_PER_CHUNK)]
    loudest = max(_band_magnitudes(mono, sr, a, b).max() for a, b in chunks)
    floor = max(loudest * 10 ** (_ONSET_FLOOR_DB / 20), np.finfo(float).tiny)  # silence: no flux
    novelty = []
    for a, b in chunks:
        first = max(a - _ONSET_LAG, 0)
        level = 20 * np.log10(_band_magnitudes(mono, sr, first, b) + floor)
        novelty.append(np.maximum(level[_ONSET_LAG:] - level[:-_ONSET_LAG], 0).mean(axis=1))
    novelty = np.concatenate(novelty)
    centres = (np.arange(_ONSET_LAG, n_frames) * _ONSET_HOP + _ONSET_FFT / 2) / sr
    return centres - (_ONSET_LAG - 1) * _ONSET_HOP / sr / 2, novelty


def onset_times(x: np.ndarray, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (seconds) and their strengths: peaks of :func:`onset_envelope`.

    Peaks at least 50 ms apart whose prominence reaches the envelope's 90th percentile, and
    0.9 dB in any case (in sparse music the percentile is 0, and partials beating or a reverb
    tail give peaks under 0.9 dB).
    """
    times, novelty = onset_envelope(x, sr)
    if not len(novelty):
        return times, novelty
    peaks, _ = sg.find_peaks(novelty, distance=int(0.05 * sr / _ONSET_HOP),
                             prominence=max(np.percentile(novelty, 90), _ONSET_MIN_PROMINENCE_DB))
    return times[peaks], novelty[peaks]


def onset_rate_per_s(x: np.ndarray, sr: float) -> float:
    """Onsets (:func:`onset_times`) per second of ``x``: the density of events."""
    return len(onset_times(x, sr)[0]) / (len(x) / sr)


def fit_beat_grid(times: np.ndarray, weights: np.ndarray, bpm_guess: float) -> tuple[float, float]:
    """The beat grid ``t0 + k * period`` that the onsets fit best; returns (tempo in BPM, t0 in s).

    A weighted phase-coherence search within -20%/+25% of the guess finds the period roughly
    (the eighth-note grid at twice the tempo lies outside), then least squares over the onsets
    near the grid refines it, with the tolerance narrowing each round.
    """
    bpms = np.arange(0.8 * bpm_guess, 1.25 * bpm_guess, 0.005)
    return refine_beat_grid(times, weights, bpms[tempogram(times, weights, bpms).argmax()])


def refine_beat_grid(times: np.ndarray, weights: np.ndarray, bpm: float) -> tuple[float, float]:
    """Least-squares beat grid from a close tempo; returns (tempo in BPM, t0 in s).

    The grid's phase is the onsets' weighted mean phase at ``bpm``; then least squares over the
    onsets near the grid refine period and phase, with the tolerance narrowing each round
    (a quarter period, a tenth, 3%, 15 ms).
    """
    period = 60.0 / bpm
    t0 = np.angle(weights @ np.exp(2j * np.pi * times / period)) / (2 * np.pi) * period
    for tolerance in (0.25 * period, 0.1 * period, 0.03 * period, 0.015):
        k = np.round((times - t0) / period)
        near = np.abs(times - t0 - k * period) < tolerance
        design = np.vstack([np.ones(near.sum()), k[near]]).T
        t0, period = np.linalg.lstsq(design, times[near], rcond=None)[0]
    return 60.0 / period, t0


#: Tempogram step in BPM, and candidates evaluated per matrix product (bounds the memory).
_TEMPO_STEP_BPM = 0.01
_TEMPI_PER_PRODUCT = 512
#: The half tempo is the beat when the onsets' periodicity at half the candidate is at least this
#: fraction of the candidate's: the candidate's beats then alternate strong and weak. Measured on
#: 30 s renders of the warm palette at 45-120 BPM (3 seeds each): 0.71-1.06 where the candidate
#: was the eighth note, 0.11-0.28 where it was the beat. The ambient palette has no pulse and its
#: melody often moves every other beat (0.6-1.9 and 0.57-1.01): from 80 BPM up its audio can
#: read at half the tempo, which a ``low`` above the half rules out.
HALF_TEMPO_RATIO = 0.5


def tempogram(times: np.ndarray, weights: np.ndarray, bpms: np.ndarray) -> np.ndarray:
    """Fourier tempogram of weighted onsets: ``|sum_k w_k exp(-2 pi i bpm / 60 t_k)|`` per BPM.

    The beat-grid alignment energy: as large as the sum of the weights when every onset lies
    on a grid of that tempo, small when the onsets fall at all phases of it.
    """
    bpms = np.atleast_1d(np.asarray(bpms, float))
    out = np.empty(len(bpms))
    for i in range(0, len(bpms), _TEMPI_PER_PRODUCT):
        part = bpms[i:i + _TEMPI_PER_PRODUCT]
        out[i:i + len(part)] = np.abs(np.exp(-2j * np.pi * np.outer(part / 60.0, times)) @ weights)
    return out


def tempo_bpm(x: np.ndarray, sr: float, low: float = 40.0, high: float = 130.0) -> float:
    """Tempo in BPM from the audio: an onset-strength tempogram searched over [low, high] BPM.

    The onsets (:func:`onset_times`, weighted by their strength) give a Fourier tempogram
    (:func:`tempogram`) every 0.01 BPM; its highest peak inside the range (a maximum on the
    range's edge is the flank of a peak outside it) is refined by :func:`refine_beat_grid`, after
    the octave check. A train of beats
    has components at its tempo and at every multiple, never under it, so the peak may be an
    octave too high: eighth notes at 50-70 BPM fall at 100-140 BPM, in range. The rule against
    octave errors: while the half of the candidate is in range and its tempogram value is at
    least :data:`HALF_TEMPO_RATIO` of the candidate's (the candidate's grid alternates strong and
    weak beats), the half is taken instead. A click train gives 0 at the half of its tempo and
    1 at the half of its double. nan when there is no peak in range.
    """
    times, weights = onset_times(x, sr)
    bpms = np.arange(low, high + _TEMPO_STEP_BPM / 2, _TEMPO_STEP_BPM)
    values = tempogram(times, weights, bpms)
    peaks, _ = sg.find_peaks(values)
    if not len(peaks):
        return np.nan
    bpm = bpms[peaks[values[peaks].argmax()]]
    while bpm / 2 >= low and tempogram(times, weights, bpm / 2)[0] >= \
            HALF_TEMPO_RATIO * tempogram(times, weights, bpm)[0]:
        bpm /= 2
    return float(refine_beat_grid(times, weights, bpm)[0])


#: Attack measure: envelope frame (RMS) and hop in seconds, the span before an onset searched
#: for the level it rises from, and the longest attack searched for its peak.
_ATTACK_FRAME_S = 0.004
_ATTACK_HOP_S = 0.001
_ATTACK_BEFORE_S = 0.03


def attack_s(x: np.ndarray, sr: float, max_attack_s: float = 0.5) -> float:
    """Median 10%-90% rise time of the onsets' amplitude envelopes, in seconds.

    The envelope is the RMS of the mix over 4 ms frames every 1 ms. For each onset
    (:func:`onset_times`) it rises from its lowest level in the 30 ms before the onset to its
    highest in the ``max_attack_s`` after; the rise time runs from the first frame past 10% of
    that rise to the first past 90%. nan if there is no onset.
    """
    mono = _mono(x)
    frame, hop = round(_ATTACK_FRAME_S * sr), round(_ATTACK_HOP_S * sr)
    power = np.convolve(mono ** 2, np.ones(frame) / frame, mode="valid")[::hop]
    envelope = np.sqrt(power)
    env_times = (np.arange(len(envelope)) * hop + frame / 2) / sr
    rises = []
    for onset in onset_times(x, sr)[0]:
        lo, at, hi = np.searchsorted(env_times, [onset - _ATTACK_BEFORE_S, onset, onset + max_attack_s])
        if at <= lo or hi <= at:
            continue
        start = lo + envelope[lo:at + 1].argmin()
        peak = start + envelope[start:hi].argmax()
        base, top = envelope[start], envelope[peak]
        if top <= base:
            continue
        segment = envelope[start:peak + 1]
        t10 = np.argmax(segment >= base + 0.1 * (top - base))
        t90 = np.argmax(segment >= base + 0.9 * (top - base))
        rises.append((t90 - t10) * hop / sr)
    return float(np.median(rises)) if rises else np.nan


# -- clicks ----------------------------------------------------------------------------------

#: A jump of 1% of full scale (-40 dBFS) from one sample to the next is heard as a tick.
CLICK_STEP = 0.01


def largest_step(x: np.ndarray, start: int, stop: int) -> float:
    """Largest sample-to-sample change, over all channels, in samples [start, stop)."""
    segment = x[max(start, 0):stop]
    return float(np.abs(np.diff(segment, axis=0)).max())


# -- the score -------------------------------------------------------------------------------
# The engine's ScoreLog: ``notes`` (Note: time_s, pitch, velocity, duration_s, voice) and
# ``changes`` (Change: time_s, name, value), each logged only when its value changes. Tempo
# changes only on beats ("beat_tempo_bpm", logged at the first beat, beat 0); key, mode, chord
# and the running phrase number ("phrase", logged where a phrase starts) only on bar lines.

#: Tolerance, in beats, for a time to fall on a beat (notes and changes are exact to a sample).
_ON_BEAT = 0.02
#: Seconds that make "at" a logged time inclusive, and "just before" one exclusive (a sample
#: is 23 µs; a beat is at least 0.3 s).
_AT_S = 1e-6
_BEFORE_S = 1e-3
#: Grid, in beats, to which a 4-bar melody's onsets are rounded (1/48: sixteenths and triplets).
_ONSET_GRID_BEATS = 1.0 / 48


def read_score(folder) -> ScoreLog:
    """The score of a session folder, from its ``score.tsv`` and ``score_changes.tsv``.

    Read as finalising reads it for ``score.mid`` (rows that do not read as a note or a change
    are left out).
    """
    from neurofeed.finalise import _number_or_text, _records
    from neurofeed.folder import SCORE_CHANGES_FILE, SCORE_NOTES_FILE, read_table

    notes = _records(read_table(Path(folder) / SCORE_NOTES_FILE),
                     ("time_s", "pitch", "velocity", "duration_s", "voice"),
                     lambda t, p, v, d, voice: Note(float(t), int(p), int(v), float(d), str(voice)))
    changes = _records(read_table(Path(folder) / SCORE_CHANGES_FILE), ("time_s", "name", "value"),
                       lambda t, name, value: Change(float(t), str(name), _number_or_text(value)))
    return ScoreLog.from_records(notes, changes)


def series(changes, name: str) -> tuple[np.ndarray, list]:
    """Times (s) and values of the changes named ``name``, in time order."""
    picked = sorted((c for c in changes if c.name == name), key=lambda c: c.time_s)
    return np.array([c.time_s for c in picked], float), [c.value for c in picked]


def reversals(values, threshold: float) -> int:
    """Direction reversals of at least ``threshold`` along a path (a zigzag count).

    The path's direction is set once it has moved ``threshold`` or more from its lowest (up) or
    highest (down) value so far. A reversal is counted when, going up, it falls ``threshold`` or
    more under the highest value since it last turned (or, going down, rises as far over the
    lowest); it then goes the other way from there. So wobbles smaller than ``threshold`` never
    count, and a rise of at least ``threshold`` followed by a fall of at least ``threshold`` is one.
    """
    values = np.asarray(values, float)
    if not len(values):
        return 0
    direction, low, high, count = 0, values[0], values[0], 0
    for v in values[1:]:
        low, high = min(low, v), max(high, v)
        if direction <= 0 and v - low >= threshold:
            count, direction, high = count + (direction < 0), 1, v
        elif direction >= 0 and high - v >= threshold:
            count, direction, low = count + (direction > 0), -1, v
    return count


def path_length(values) -> float:
    """Total distance travelled along a path: the sum of absolute steps."""
    return float(np.abs(np.diff(np.asarray(values, float))).sum())


def net_change(values) -> float:
    """Last value minus first (0 for an empty path)."""
    values = np.asarray(values, float)
    return float(values[-1] - values[0]) if len(values) else 0.0


def beat_position(changes, times_s) -> np.ndarray:
    """Position of each time in beats, from the tempo map: beat 0 is the first beat logged.

    The tempo map is the ``beat_tempo_bpm`` changes; as tempo changes only on beats, the
    position at each change is a whole number (rounded so, against the sample rounding of
    beat times). Times before the first change extrapolate its tempo.
    """
    times, bpms = series(changes, "beat_tempo_bpm")
    if not len(times):
        raise ValueError("the changes hold no beat_tempo_bpm: no beat grid")
    bpms = np.asarray(bpms, float)
    starts = np.concatenate([[0.0], np.round(np.cumsum(np.diff(times) * bpms[:-1] / 60.0))])
    t = np.asarray(times_s, float)
    i = np.maximum(np.searchsorted(times, t + _AT_S, side="right") - 1, 0)
    return starts[i] + (t - times[i]) * bpms[i] / 60.0


def _tonalities(changes) -> list[tuple[float, str, str]]:
    """``(time_s, key, mode)`` at the start and at every bar line where the key or mode changed."""
    events = sorted((c for c in changes if c.name in ("bar_key", "bar_mode")), key=lambda c: c.time_s)
    tonality = {"bar_key": None, "bar_mode": None}
    out = []
    for time_s in sorted({c.time_s for c in events}):
        tonality.update({c.name: c.value for c in events if c.time_s == time_s})
        now = (time_s, tonality["bar_key"], tonality["bar_mode"])
        if not out or now[1:] != out[-1][1:]:
            out.append(now)
    return out


def tonality_changes(changes, start_s: float = -np.inf, stop_s: float = np.inf) -> list[tuple]:
    """Key or mode changes, as ``(time_s, key, mode)`` of the new tonality, within [start_s, stop_s).

    The first tonality logged is where the music starts, not a change; so pass the whole score's
    changes and a window, rather than changes cut to the window (whose first would be lost).
    A key and a mode logged at the same bar line are one change.
    """
    return [t for t in _tonalities(changes)[1:] if start_s <= t[0] < stop_s]


def changes_per_minute(events, start_s: float, stop_s: float) -> float:
    """Events (tuples or records whose first item or ``time_s`` is a time in s) per minute of
    [start_s, stop_s)."""
    times = [e.time_s if hasattr(e, "time_s") else e[0] for e in events]
    return sum(start_s <= t < stop_s for t in times) / ((stop_s - start_s) / 60.0)


def undone_within(changes, bars: int = 8, start_s: float = -np.inf, stop_s: float = np.inf) -> int:
    """Tonality changes undone: the music is back in the key and mode it left within ``bars`` bars.

    A change at [start_s, stop_s) counts when a later change (not only the next) returns to the
    tonality in force before it at most ``bars`` bars after it (bars from the tempo map,
    :func:`beat_position`). A -> B -> A within the span counts the first change once.
    """
    tonalities = _tonalities(changes)
    if len(tonalities) < 2:
        return 0
    bar = beat_position(changes, [t[0] for t in tonalities]) / BEATS_PER_BAR
    undone = 0
    for i in range(1, len(tonalities)):
        if not start_s <= tonalities[i][0] < stop_s:
            continue
        left = tonalities[i - 1][1:]
        undone += any(tonalities[j][1:] == left and bar[j] - bar[i] <= bars + _ON_BEAT
                      for j in range(i + 1, len(tonalities)))
    return undone


@dataclass(frozen=True)
class MelodyStats:
    """The melody's shape, from the score (:func:`melody_stats`).

    Attributes
    ----------
    repeated_note_fraction : float
        Share of melodic intervals (between successive melody notes) that are 0 semitones.
    strong_beat_tonic_fifth_fraction : float
        Share of melody notes on beats 0 and 2 of a bar whose pitch class is the tonic or the
        fifth degree of the key and mode in force.
    pitch_class_entropy_bits : float
        Shannon entropy (bits) of the melody notes' pitch classes relative to the tonic in force
        (so a key change does not spread it); 2.81 is all seven degrees equally often.
    distinct_4gram_fraction : float
        Distinct interval 4-grams (four successive intervals, in semitones) over all of them.
    longest_run_of_a_4bar_melody : int
        Most times one 4-bar melody plays back to back (windows starting every bar).
    largest_share_of_a_4bar_melody : float
        Share of the score's bars covered by the occurrences of its most covering 4-bar melody.
    """

    repeated_note_fraction: float
    strong_beat_tonic_fifth_fraction: float
    pitch_class_entropy_bits: float
    distinct_4gram_fraction: float
    longest_run_of_a_4bar_melody: int
    largest_share_of_a_4bar_melody: float


#: Bars in the windows that :func:`melody_stats` compares.
MELODY_WINDOW_BARS = 4


def _in_force(changes, name: str, times_s) -> list:
    """The value of the change ``name`` in force at each time (None before the first)."""
    times, values = series(changes, name)
    at = np.searchsorted(times, np.asarray(times_s, float) + _AT_S, side="right") - 1
    return [values[i] if i >= 0 else None for i in at]


def melody_stats(score) -> MelodyStats:
    """Repetition, tonal centre and form of the score's melody voice (see :class:`MelodyStats`).

    A 4-bar melody is the tuple of ``(onset in beats from the window's first bar line, rounded
    to 1/48 beat; MIDI pitch)`` of the melody notes starting in a window of 4 bars. A window
    starts on every bar line; windows without a melody note and windows that run past the
    score's last melody note are left out. A run counts the same melody in windows 4 bars apart
    without a break; the share counts the bars any of its windows covers.
    """
    notes = sorted((n for n in score.notes if n.voice == "melody"), key=lambda n: n.time_s)
    if len(notes) < 2:
        raise ValueError(f"the score holds {len(notes)} melody note(s): no melody to judge")
    pitches = np.array([n.pitch for n in notes])
    onsets = np.array([n.time_s for n in notes])
    intervals = np.diff(pitches)
    beats = beat_position(score.changes, onsets)

    tonic = np.array([key_pitch_class(k) for k in _in_force(score.changes, "bar_key", onsets)])
    modes = _in_force(score.changes, "bar_mode", onsets)
    degree = (pitches - tonic) % 12
    fifth = np.array([(scale(KEYS[t], m)[4] - t) % 12 for t, m in zip(tonic, modes)])
    whole = np.round(beats)
    strong = (np.abs(beats - whole) < _ON_BEAT) & (whole % BEATS_PER_BAR % 2 == 0)
    anchored = (degree == 0) | (degree == fifth)

    counts = np.bincount(degree, minlength=12) / len(degree)
    counts = counts[counts > 0]
    grams = [tuple(intervals[i:i + 4]) for i in range(len(intervals) - 3)]

    window_beats = MELODY_WINDOW_BARS * BEATS_PER_BAR
    total_bars = int(np.round(beats[-1]) // BEATS_PER_BAR) + 1  # to the last melody note's bar
    melodies = {}
    for bar in range(total_bars - MELODY_WINDOW_BARS + 1):
        start = bar * BEATS_PER_BAR
        inside = (beats >= start - _ON_BEAT) & (beats < start + window_beats - _ON_BEAT)
        if inside.any():
            grid = np.round((beats[inside] - start) / _ONSET_GRID_BEATS) * _ONSET_GRID_BEATS
            melodies[bar] = tuple(zip(np.round(grid, 4).tolist(), pitches[inside].tolist()))
    longest, covered = 0, {}
    for bar, melody in melodies.items():
        run = 1
        while melodies.get(bar + run * MELODY_WINDOW_BARS) == melody:
            run += 1
        longest = max(longest, run)
        covered.setdefault(melody, set()).update(range(bar, bar + MELODY_WINDOW_BARS))
    return MelodyStats(
        repeated_note_fraction=float(np.mean(intervals == 0)),
        strong_beat_tonic_fifth_fraction=float(anchored[strong].mean()) if strong.any() else np.nan,
        pitch_class_entropy_bits=float(-(counts * np.log2(counts)).sum()),
        distinct_4gram_fraction=len(set(grams)) / len(grams) if grams else np.nan,
        longest_run_of_a_4bar_melody=longest,
        largest_share_of_a_4bar_melody=max(map(len, covered.values()), default=0) / total_bars)


def phrase_stats(score) -> tuple[list[int], Counter]:
    """Phrase lengths in bars and the cadence chords, from the ``phrase`` changes.

    A phrase runs from the bar line where its number is logged to the next one's; the last
    phrase, unfinished when the score ends, is left out. Its cadence is the chord sounding in
    its last bar: the ``chord`` in force at that bar's line (lead-sheet names, as logged).

    Returns
    -------
    lengths : list of int
        Bars per finished phrase, in order.
    cadences : collections.Counter
        Finished phrases per cadence chord.
    """
    starts, _ = series(score.changes, "phrase")
    if len(starts) < 2:
        return [], Counter()
    bars = np.round(beat_position(score.changes, starts) / BEATS_PER_BAR).astype(int)
    # Chords change only on bar lines: the one in force just before the next phrase's bar line.
    cadences = Counter(_in_force(score.changes, "chord", starts[1:] - _BEFORE_S))
    return np.diff(bars).tolist(), cadences
