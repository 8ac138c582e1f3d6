"""What a track is, measured from its samples: tempo and beats, tonal centre, loudness, brightness.

Pure: samples in, a :class:`~neurofeed.library.track.TrackAnalysis` out (reading files is
:mod:`neurofeed.library.batch`'s job). Beats and constant-Q pitch classes come from librosa, the field's
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
#: Hop of the onset envelope and the constant-Q frames (11.6 ms at 22.05 kHz), and of the
#: spectral centroid (23 ms), in samples.
ONSET_HOP = 256
SPECTRUM_HOP = 512

# -- tempo and beats ---------------------------------------------------------------------------

#: Tempo range of a beat, in BPM: slower is a bar, faster a subdivision.
MIN_BPM = 40.0
MAX_BPM = 200.0
#: The octave guard: the beat is the fastest metrical level (autocorrelation peak of the onset
#: envelope) whose periodicity is at least this share of the strongest level's. On the engine's
#: renders at 48-100 BPM the beat reached 0.85-0.95 of the strongest level (often the bar or half
#: bar) and the eighth note under 0.1; on clicks with off-beats at 0.3 of the beats' amplitude,
#: the off-beat level reaches 0.52.
FASTER_LEVEL_RATIO = 0.7
#: Refinement of the chosen tempo: searched within this share of it, in steps of this many BPM.
_REFINE_SPAN = 0.04
_REFINE_STEP_BPM = 0.01
#: librosa's beat tracker's tightness: high, so the beats stay on the chosen tempo's grid.
_BEAT_TIGHTNESS = 400


def onset_envelope(mono: np.ndarray) -> np.ndarray:
    """Onset strength of mono audio at :data:`ANALYSIS_SR`: librosa's spectral flux on mel amplitudes.

    Amplitudes, not decibels: an accent weighs as loud as it is, so weak off-beats do not pass
    for beats (in dB, a note 10 dB under the beat rises nearly as far above the floor).
    """
    import librosa

    mel = librosa.feature.melspectrogram(y=mono, sr=ANALYSIS_SR, hop_length=ONSET_HOP, power=1.0)
    return librosa.onset.onset_strength(S=mel, sr=ANALYSIS_SR, hop_length=ONSET_HOP)


def _frames_per_s() -> float:
    return ANALYSIS_SR / ONSET_HOP


def _periodicity(envelope: np.ndarray) -> np.ndarray:
    """Autocorrelation of the onset envelope (mean removed), 1 at lag 0."""
    import librosa

    ac = librosa.autocorrelate(envelope - envelope.mean())
    return ac / ac[0] if ac[0] > 0 else np.zeros_like(ac)


def _fourier_strength(envelope: np.ndarray, bpms: np.ndarray) -> np.ndarray:
    """How strongly the onset envelope pulses at each tempo: ``|sum env(t) exp(-2 pi i bpm t / 60)|``."""
    t = np.arange(len(envelope)) / _frames_per_s()
    return np.abs(np.exp(-2j * np.pi * np.outer(bpms / 60.0, t)) @ envelope)


def octave_guarded_tempo(envelope: np.ndarray) -> float:
    """The beat's tempo in BPM from an onset envelope (:func:`onset_envelope`); nan if none.

    Each autocorrelation peak with a period between 20 and :data:`MAX_BPM` BPM is a metrical
    level: the beat, the bar, a half bar, or a subdivision. The beat is the fastest level whose
    periodicity is at least :data:`FASTER_LEVEL_RATIO` of the strongest one's: a subdivision
    whose notes are weaker or sparser than the beats falls under it, while the bar (as periodic
    as the beat, since it is made of beats) loses to the faster beat. So slow music at 50-70
    BPM is not read at double speed (its eighth notes are weaker than its beats), nor a 120 BPM
    song at half (its beats are as periodic as its bars). A level under :data:`MIN_BPM` is
    doubled. The tempo is then refined to 0.01 BPM by the Fourier strength of the envelope
    within 4% of it.
    """
    import scipy.signal as sg

    fps = _frames_per_s()
    ac = _periodicity(envelope)[1:]
    bpms = 60.0 * fps / np.arange(1, len(ac) + 1)
    peaks, _ = sg.find_peaks(ac)
    peaks = peaks[(bpms[peaks] >= MIN_BPM / 2) & (bpms[peaks] <= MAX_BPM)]
    if not len(peaks) or ac[peaks].max() <= 0:
        return np.nan
    strong = peaks[ac[peaks] >= FASTER_LEVEL_RATIO * ac[peaks].max()]
    rough = bpms[strong].max()
    while rough < MIN_BPM:
        rough *= 2
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
#: A beat's pitch classes are those sounding in the first 150 ms from it: tonal music puts its
#: tonic and fifth on the beats, so metrically strong notes tell the centre better than all notes.
ON_BEAT_S = 0.15
#: The constant-Q analysis: from C1 (32.7 Hz), 7 octaves; the bass is the lowest 3 (C1-B3).
_CQT_FMIN_HZ = 32.703
_CQT_OCTAVES = 7
BASS_OCTAVES = 3
#: Weight of the bass's pitch classes beside the upper voices' (each summing to 1): the bass
#: names the harmony's roots, the tonic's among them. Of 0.5, 1 and 2, and on-beat or all
#: frames, 0.5 on the beats found centre and quality most often on 24, 36 and 40 s renders of
#: the 12 test tracks (23 of 36; 19 with 1, 21 with 2 on all frames).
BASS_WEIGHT = 0.5
#: A key's correlation ahead of the next-best key's by this much (or more) is confidence 1.
FULL_CONFIDENCE_MARGIN = 0.15
#: Confidence from which a mode is named.
MODE_CONFIDENCE = 0.5


def mode_quality(mode: str) -> str:
    """``"major"`` or ``"minor"``: the quality of the mode's third."""
    tonic, _, third = scale("C", mode)[:3]
    return "major" if (third - tonic) % 12 == 4 else "minor"


def pitch_class_profile(mono: np.ndarray, beats_s: np.ndarray) -> np.ndarray:
    """12 weights (C first) of the pitch classes sounding on the beats, bass and upper voices.

    Constant-Q power (librosa) over :data:`ON_BEAT_S` from each beat (every frame when there
    are no beats), folded onto pitch classes separately for the bass octaves and the rest;
    each part normalised to sum 1, the bass weighted by :data:`BASS_WEIGHT`, and the square
    root taken (amplitude, so that one loud note does not outweigh the harmony).
    """
    import librosa

    power = np.abs(librosa.cqt(mono, sr=ANALYSIS_SR, hop_length=ONSET_HOP, fmin=_CQT_FMIN_HZ,
                               n_bins=12 * _CQT_OCTAVES)) ** 2
    frames = np.arange(power.shape[1])
    if len(beats_s):
        start = np.round(np.asarray(beats_s) * _frames_per_s()).astype(int)
        offset = frames[:max(int(ON_BEAT_S * _frames_per_s()), 1)]
        picked = (start[:, None] + offset[None, :]).ravel()
        frames = picked[picked < power.shape[1]]
    octaves = power[:, frames].mean(axis=1).reshape(_CQT_OCTAVES, 12)
    bass, upper = octaves[:BASS_OCTAVES].sum(axis=0), octaves[BASS_OCTAVES:].sum(axis=0)
    return np.sqrt(upper / max(upper.sum(), 1e-30) + BASS_WEIGHT * bass / max(bass.sum(), 1e-30))


def key_profile_scores(pitch_classes: np.ndarray) -> np.ndarray:
    """Correlation of a 12-bin pitch-class profile with every key: shape (2, 12), major then minor."""
    scores = [[np.corrcoef(pitch_classes, np.roll(profile, tonic))[0, 1] for tonic in range(12)]
              for profile in (MAJOR_PROFILE, MINOR_PROFILE)]
    return np.nan_to_num(np.array(scores), nan=-1.0)  # a flat profile correlates with nothing


def estimate_key(profile: np.ndarray) -> tuple[str, str, float, str | None]:
    """Tonal centre, quality, confidence and mode from a pitch-class profile (:func:`pitch_class_profile`).

    The profile is correlated with the Krumhansl-Kessler profiles of the 24 keys. The confidence
    is the best key's lead over the next, over :data:`FULL_CONFIDENCE_MARGIN`, at most 1. From
    :data:`MODE_CONFIDENCE`, the mode is chosen with the centre fixed: among the modes of that
    quality, the one whose scale holds most of the profile.

    Returns
    -------
    key : str
    quality : str
    confidence : float
    mode : str or None
    """
    scores = key_profile_scores(profile)
    order = np.argsort(scores, axis=None)[::-1]
    q, tonic = np.unravel_index(order[0], scores.shape)
    lead = scores.flat[order[0]] - scores.flat[order[1]]
    confidence = float(np.clip(lead / FULL_CONFIDENCE_MARGIN, 0.0, 1.0))
    quality, key = ("major", "minor")[q], KEYS[tonic]
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

    centroid = librosa.feature.spectral_centroid(y=mono, sr=ANALYSIS_SR, hop_length=SPECTRUM_HOP)[0]
    rms = librosa.feature.rms(y=mono, hop_length=SPECTRUM_HOP)[0]
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
    key, quality, confidence, mode = estimate_key(pitch_class_profile(mono, beats))

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
