"""What a track is, measured from its samples: tempo and beats, tonal centre, loudness, brightness.

Pure: samples in, a :class:`~neurofeed.library.track.TrackAnalysis` out (reading files is
:mod:`neurofeed.library.batch`'s job). Beats and chroma come from librosa, the field's
well-kept reference; loudness from :mod:`neurofeed.synth.loudness` (ITU-R BS.1770-4, EBU Tech
3342). docs/library.md gives the formulas.
"""

from __future__ import annotations

import numpy as np

from neurofeed._check import check_range
from neurofeed.errors import InvalidArgumentError
from neurofeed.library.track import TrackAnalysis
from neurofeed.synth import loudness
from neurofeed.synth.theory import KEYS, MODES, mode_valence, scale

#: Bump when a change to the analysis changes its results: a re-run re-analyses older entries.
ANALYSIS_VERSION = 1
#: Shortest track accepted, in seconds of audio: a crossfade needs room at both ends.
MIN_TRACK_S = 15.0
#: Rate the rhythm and pitch analyses run at, in Hz (content above 11 kHz carries neither).
ANALYSIS_SR = 22050
#: Onset-envelope hop (11.6 ms at 22.05 kHz) and the chroma's hop, in samples.
ONSET_HOP = 256
CHROMA_HOP = 512

# -- tempo and beats ---------------------------------------------------------------------------

#: Tempo range of a beat, in BPM: slower is a bar, faster a subdivision.
MIN_BPM = 40.0
MAX_BPM = 200.0
#: The octave guard: a metrical level twice as fast is the beat when its periodicity (the onset
#: envelope's autocorrelation at half the period) is at least this share of the slower level's.
#: On the engine's renders at 48-100 BPM the beat's level reached 0.83-0.97 of the level an
#: octave slower, and the eighth note 0.1-0.25 of the beat.
FASTER_LEVEL_RATIO = 0.6
#: Refinement of the chosen tempo: searched within this share of it, in steps of this many BPM.
_REFINE_SPAN = 0.04
_REFINE_STEP_BPM = 0.01
#: librosa's beat tracker's tightness: high, so the beats stay on the chosen tempo's grid.
_BEAT_TIGHTNESS = 400


def onset_envelope(mono: np.ndarray) -> np.ndarray:
    """librosa's onset strength (spectral flux, mel bands) of mono audio at :data:`ANALYSIS_SR`."""
    import librosa

    return librosa.onset.onset_strength(y=mono, sr=ANALYSIS_SR, hop_length=ONSET_HOP)


def _frames_per_s() -> float:
    return ANALYSIS_SR / ONSET_HOP


def _periodicity(envelope: np.ndarray) -> np.ndarray:
    """Autocorrelation of the onset envelope (mean removed), 1 at lag 0."""
    import librosa

    ac = librosa.autocorrelate(envelope - envelope.mean())
    return ac / ac[0] if ac[0] > 0 else np.zeros_like(ac)


def _at_lag(ac: np.ndarray, lag: float) -> float:
    """The autocorrelation at a fractional lag: the largest value within a frame of it."""
    lo, hi = int(np.floor(lag)) - 1, int(np.ceil(lag)) + 2
    return float(ac[max(lo, 0):min(hi, len(ac))].max(initial=0.0))


def _fourier_strength(envelope: np.ndarray, bpms: np.ndarray) -> np.ndarray:
    """How strongly the onset envelope pulses at each tempo: ``|sum env(t) exp(-2 pi i bpm t / 60)|``."""
    t = np.arange(len(envelope)) / _frames_per_s()
    return np.abs(np.exp(-2j * np.pi * np.outer(bpms / 60.0, t)) @ envelope)


def octave_guarded_tempo(envelope: np.ndarray) -> float:
    """The beat's tempo in BPM from an onset envelope (:func:`onset_envelope`); nan if none.

    The strongest periodicity (autocorrelation peak) with a period between 30 and 240 BPM is a
    metrical level: the beat, a bar, a half-bar or a subdivision. From there, the next level
    twice as fast is taken while its periodicity is at least :data:`FASTER_LEVEL_RATIO` of the
    current one's (both beats and off-beats then sound alike: the faster level is the beat)
    and it stays under :data:`MAX_BPM`; a level under :data:`MIN_BPM` is doubled. So slow music
    read at double speed by a tracker with a 120 BPM prior is not, and a 120 BPM song whose
    off-beats are weaker than its beats stays at 120. The tempo is then refined to 0.01 BPM
    by the Fourier strength of the envelope within 4% of it.
    """
    import scipy.signal as sg

    fps = _frames_per_s()
    ac = _periodicity(envelope)
    lags = np.arange(1, len(ac))
    bpms = 60.0 * fps / lags
    peaks, _ = sg.find_peaks(ac[1:])
    peaks = peaks[(bpms[peaks] >= MIN_BPM / 2) & (bpms[peaks] <= 2 * MAX_BPM)]
    if not len(peaks):
        return np.nan
    lag = float(lags[peaks[ac[1:][peaks].argmax()]])
    while 60.0 * fps / (lag / 2) <= MAX_BPM and \
            _at_lag(ac, lag / 2) >= FASTER_LEVEL_RATIO * _at_lag(ac, lag):
        lag /= 2
    while 60.0 * fps / lag < MIN_BPM:
        lag /= 2
    while 60.0 * fps / lag > MAX_BPM:
        lag *= 2
    rough = 60.0 * fps / lag
    grid = np.arange(rough * (1 - _REFINE_SPAN), rough * (1 + _REFINE_SPAN), _REFINE_STEP_BPM)
    return float(grid[_fourier_strength(envelope, grid).argmax()])


def beat_times(envelope: np.ndarray, tempo_bpm: float) -> np.ndarray:
    """Beat positions in seconds on the grid of ``tempo_bpm`` (librosa's dynamic-programming tracker)."""
    import librosa

    _, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=ANALYSIS_SR, hop_length=ONSET_HOP,
                                       bpm=tempo_bpm, tightness=_BEAT_TIGHTNESS, units="time")
    return np.asarray(beats, float)


# -- tonal centre and mode -----------------------------------------------------------------

#: Krumhansl-Kessler key profiles (probe-tone ratings, C major and C minor).
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
#: Seconds from the start of the music at level whose chroma counts again: music states its
#: tonal centre as it begins (a mode's final), where a whole track's pitch classes alone cannot
#: tell D Dorian from C Ionian.
OPENING_S = 6.0
#: Weight of the opening's chroma beside the whole track's.
OPENING_WEIGHT = 0.5
#: A key's correlation ahead of the next-best key's by this much (or more) is confidence 1.
FULL_CONFIDENCE_MARGIN = 0.15
#: Confidence from which a mode is named.
MODE_CONFIDENCE = 0.5


def mode_quality(mode: str) -> str:
    """``"major"`` or ``"minor"``: the quality of the mode's third."""
    third = (scale("C", mode)[2] - scale("C", mode)[0]) % 12
    return "major" if third == 4 else "minor"


def chroma(mono: np.ndarray) -> np.ndarray:
    """Constant-Q chroma (12 pitch classes from C, per frame) of mono audio at :data:`ANALYSIS_SR`."""
    import librosa

    return librosa.feature.chroma_cqt(y=mono, sr=ANALYSIS_SR, hop_length=CHROMA_HOP)


def key_profile_scores(pitch_classes: np.ndarray) -> np.ndarray:
    """Correlation of a 12-bin pitch-class profile with every key: shape (2, 12), major then minor."""
    return np.array([[np.corrcoef(pitch_classes, np.roll(profile, tonic))[0, 1] for tonic in range(12)]
                     for profile in (MAJOR_PROFILE, MINOR_PROFILE)])


def estimate_key(frames: np.ndarray, start_s: float = 0.0) -> tuple[str, str, float, str | None]:
    """Tonal centre, quality, confidence and mode from chroma frames (:func:`chroma`).

    The pitch-class profile is the whole track's mean chroma plus :data:`OPENING_WEIGHT` times
    the mean over the :data:`OPENING_S` seconds from ``start_s``, each summing to 1; it is
    correlated with the Krumhansl-Kessler profiles of the 24 keys. The confidence is the best
    key's lead over the next, over :data:`FULL_CONFIDENCE_MARGIN`, at most 1. From
    :data:`MODE_CONFIDENCE`, the mode is chosen with the centre fixed: among the modes of that
    quality, the one whose scale holds most of the profile.

    Returns
    -------
    key : str
    quality : str
    confidence : float
    mode : str or None
    """
    fps = ANALYSIS_SR / CHROMA_HOP
    first = int(start_s * fps)
    whole = frames.mean(axis=1)
    opening = frames[:, first:first + max(int(OPENING_S * fps), 1)].mean(axis=1)
    profile = whole / max(whole.sum(), 1e-12) + OPENING_WEIGHT * opening / max(opening.sum(), 1e-12)
    scores = np.nan_to_num(key_profile_scores(profile), nan=-1.0)
    order = np.argsort(scores, axis=None)[::-1]
    q, tonic = np.unravel_index(order[0], scores.shape)
    confidence = float(np.clip((scores.flat[order[0]] - scores.flat[order[1]]) / FULL_CONFIDENCE_MARGIN,
                               0.0, 1.0))
    quality = ("major", "minor")[q]
    key = KEYS[tonic]
    mode = None
    if confidence >= MODE_CONFIDENCE:
        candidates = [m for m in MODES if mode_quality(m) == quality]
        mode = max(candidates, key=lambda m: profile[list(scale(key, m))].sum())
    return key, quality, confidence, mode


def valence_of(quality: str, mode: str | None) -> float:
    """-1 (dark) to 1 (bright): the mode's valence, or Ionian's (major) or Aeolian's (minor)."""
    return mode_valence(mode if mode is not None else {"major": "ionian", "minor": "aeolian"}[quality])


# -- brightness and arousal --------------------------------------------------------------------

#: The brightness scale: a spectral centroid of 500 Hz is 0, 4 kHz is 1 (log between, clipped).
DARK_HZ = 500.0
BRIGHT_HZ = 4000.0
#: Arousal's ranges, each mapped linearly onto 0-1 and clipped: tempo (BPM), onsets per second,
#: integrated loudness (LUFS).
AROUSAL_TEMPO_BPM = (50.0, 130.0)
AROUSAL_ONSETS_PER_S = (0.5, 6.0)
AROUSAL_LOUDNESS_LUFS = (-35.0, -8.0)
#: Arousal's weights on tempo, onset rate, loudness and brightness (they sum to 1).
AROUSAL_WEIGHTS = (0.4, 0.25, 0.2, 0.15)


def brightness_of(centroid_hz: float) -> float:
    """0-1 from a spectral centroid: log scale from :data:`DARK_HZ` to :data:`BRIGHT_HZ`, clipped."""
    return float(np.clip(np.log(centroid_hz / DARK_HZ) / np.log(BRIGHT_HZ / DARK_HZ), 0.0, 1.0))


def _unit(value: float, span: tuple[float, float]) -> float:
    return float(np.clip((value - span[0]) / (span[1] - span[0]), 0.0, 1.0))


def arousal_of(tempo_bpm: float, onsets_per_s: float, loudness_lufs: float, brightness: float) -> float:
    """0-1 energy: the weighted mean (:data:`AROUSAL_WEIGHTS`) of tempo, onset rate, loudness and
    brightness, each mapped onto 0-1 over its range (:data:`AROUSAL_TEMPO_BPM`, ...)."""
    terms = (_unit(tempo_bpm, AROUSAL_TEMPO_BPM), _unit(onsets_per_s, AROUSAL_ONSETS_PER_S),
             _unit(loudness_lufs, AROUSAL_LOUDNESS_LUFS), brightness)
    return float(np.dot(AROUSAL_WEIGHTS, terms))


def spectral_centroid_hz(mono: np.ndarray) -> float:
    """Mean spectral centroid in Hz of the frames within 30 dB of the loudest (silence left out)."""
    import librosa

    centroid = librosa.feature.spectral_centroid(y=mono, sr=ANALYSIS_SR, hop_length=CHROMA_HOP)[0]
    rms = librosa.feature.rms(y=mono, hop_length=CHROMA_HOP)[0]
    n = min(len(centroid), len(rms))
    level = rms[:n] >= rms.max() * 10 ** (-30 / 20)
    return float(centroid[:n][level].mean())


# -- where the music is at level ---------------------------------------------------------------

#: The music is at level while its short-term loudness is within this of the integrated loudness.
AT_LEVEL_LU = 10.0


def level_span(samples: np.ndarray, sample_rate: float, integrated_lufs: float) -> tuple[float, float]:
    """From the first to the last point where the music is at level, in seconds.

    A point is the middle of a 3 s short-term window (EBU Tech 3341) whose loudness is within
    :data:`AT_LEVEL_LU` of the integrated loudness; so lead-in silence and fade-ins, trailing
    fade-outs and silence are left out.
    """
    ends, short = loudness.short_term_loudness(samples, sample_rate)
    at_level = np.flatnonzero(short >= integrated_lufs - AT_LEVEL_LU)
    if not len(at_level):
        return 0.0, len(samples) / sample_rate
    middle = ends - loudness.SHORT_TERM_S / 2
    return float(middle[at_level[0]]), float(middle[at_level[-1]])


def _on_beats(beats: np.ndarray, first_s: float, last_s: float) -> tuple[float, float]:
    """The first beat at or after ``first_s`` and the last at or before ``last_s`` (the points
    themselves where no beat is)."""
    after, before = beats[beats >= first_s], beats[beats <= last_s]
    start = float(after[0]) if len(after) else first_s
    end = float(before[-1]) if len(before) else last_s
    return (start, end) if end > start else (first_s, last_s)


# -- the whole analysis ------------------------------------------------------------------------

def _mono_at_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import librosa

    mono = samples.mean(axis=1)
    if sample_rate == ANALYSIS_SR:
        return mono
    return librosa.resample(mono, orig_sr=sample_rate, target_sr=ANALYSIS_SR, res_type="soxr_hq")


def analyse(samples: np.ndarray, sample_rate: int) -> TrackAnalysis:
    """Analyse one track's audio.

    Parameters
    ----------
    samples : ndarray, shape (n,) or (n, channels)
        Float samples at full scale 1.
    sample_rate : int
        In Hz.

    Returns
    -------
    TrackAnalysis

    Raises
    ------
    InvalidArgumentError
        One line: the audio is shorter than :data:`MIN_TRACK_S`, or silent (no 400 ms block over
        BS.1770's -70 LUFS gate).
    """
    sample_rate = int(check_range("sample_rate", sample_rate, 1000, 768000, unit=" Hz"))
    samples = np.asarray(samples, float)
    samples = samples.reshape(len(samples), -1)
    duration_s = len(samples) / sample_rate
    if duration_s < MIN_TRACK_S:
        raise InvalidArgumentError(f"too short: {duration_s:.1f} s of audio; accepted: at least "
                                   f"{MIN_TRACK_S:g} s (a crossfade needs room)")
    integrated = loudness.integrated_loudness(samples, sample_rate)
    if not np.isfinite(integrated):
        raise InvalidArgumentError(f"silent: nothing over the {loudness.ABSOLUTE_GATE_LUFS:g} LUFS gate")

    mono = _mono_at_analysis_rate(samples, sample_rate)
    envelope = onset_envelope(mono)
    tempo = octave_guarded_tempo(envelope)
    beats = beat_times(envelope, tempo) if np.isfinite(tempo) else np.empty(0)
    first_s, last_s = level_span(samples, sample_rate, integrated)
    start_s, end_s = _on_beats(beats, first_s, last_s)
    key, quality, confidence, mode = estimate_key(chroma(mono), first_s)

    import librosa

    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=ANALYSIS_SR, hop_length=ONSET_HOP,
                                        units="time")
    onset_rate = float(np.sum((onsets >= first_s) & (onsets <= last_s)) / max(last_s - first_s, 1.0))
    centroid = spectral_centroid_hz(mono)
    bright = brightness_of(centroid)
    return TrackAnalysis(
        duration_s=float(duration_s), sample_rate=sample_rate, channels=int(samples.shape[1]),
        tempo_bpm=float(tempo) if np.isfinite(tempo) else 0.0,
        beat_times_s=tuple(round(float(b), 4) for b in beats),
        key=key, quality=quality, key_confidence=round(confidence, 3), mode=mode,
        valence=valence_of(quality, mode),
        loudness_lufs=float(integrated),
        loudness_range_lu=loudness.loudness_range_lu(samples, sample_rate),
        true_peak_dbtp=loudness.true_peak_dbfs(samples, sample_rate),
        brightness_hz=centroid, brightness=bright,
        arousal=arousal_of(tempo if np.isfinite(tempo) else 0.0, onset_rate, integrated, bright),
        start_s=start_s, end_s=end_s)
