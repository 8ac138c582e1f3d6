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
ANALYSIS_VERSION = 3
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


# -- tonal centre ------------------------------------------------------------------------------

#: The constant-Q analysis: from C1 (32.7 Hz), 7 octaves; the bass is the lowest 3 (C1-B3).
_CQT_FMIN_HZ = 32.703
_CQT_OCTAVES = 7
BASS_OCTAVES = 3
#: The semitones of the major scale: the diatonic collections are its 12 transpositions.
_MAJOR_STEPS = np.array([0, 2, 4, 5, 7, 9, 11])
#: The opening: the first beats from the first sound (a frame within OPENING_FLOOR_DB of the
#: loud frames, their 95th percentile), fade-in included: tonal music opens on its tonic (the
#: engine's first phrase in a tonality does), so the opening counts again, as much as the
#: whole. From the first beat at level instead (1.5-2.5 s into the renders), it caught the
#: second bar as often as the first, and the centre was right on 8 of 30 renders, against 30
#: of 30; counted twice, 30 of 30 and 5 of 15 3-minute renders, once 30 and 9.
OPENING_BEATS = 4
OPENING_WEIGHT = 1.0
OPENING_FLOOR_DB = -20.0
#: Weight of the bass's pitch classes beside the upper voices' (each summing to 1) in telling
#: the centre: the bass names the roots, the tonic's the most. In the collection's profile the
#: bass counts half, so that the roots do not outweigh the melody's scale.
BASS_WEIGHT = 2.0
COLLECTION_BASS_WEIGHT = 0.5
#: A degree's emphasis adds this share of its fifth's: a tonic comes with its fifth.
FIFTH_WEIGHT = 0.7
#: The best candidate's lead over the next (as a share of its emphasis) that is confidence 1.
FULL_CONFIDENCE_MARGIN = 0.25
#: Confidence from which a mode is named.
MODE_CONFIDENCE = 0.5


def mode_quality(mode: str) -> str:
    """``"major"`` or ``"minor"``: the quality of the mode's third."""
    tonic, _, third = scale("C", mode)[:3]
    return "major" if (third - tonic) % 12 == 4 else "minor"


def pitch_class_power(mono: np.ndarray, beat_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The pitch classes of the whole track and of its opening: two ``(2, 12)`` arrays, the
    bass's (C1-B3) shares then the upper voices' (each row summing to 1), C first.

    Constant-Q power (librosa) averaged over the frames, folded onto pitch classes; the
    opening is :data:`OPENING_BEATS` beats of ``beat_s`` seconds from the first sound.
    """
    import librosa

    power = np.abs(librosa.cqt(mono, sr=ANALYSIS_SR, hop_length=ONSET_HOP, fmin=_CQT_FMIN_HZ,
                               n_bins=12 * _CQT_OCTAVES)) ** 2
    energy = power.sum(axis=0)
    first = int(np.argmax(energy >= np.percentile(energy, 95) * 10 ** (OPENING_FLOOR_DB / 10)))
    opening = power[:, first:first + max(int(OPENING_BEATS * beat_s * _frames_per_s()), 1)]

    def folded(frames: np.ndarray) -> np.ndarray:
        mean = frames.mean(axis=1) if frames.shape[1] else np.zeros(frames.shape[0])
        octaves = mean.reshape(_CQT_OCTAVES, 12)
        parts = np.stack([octaves[:BASS_OCTAVES].sum(axis=0), octaves[BASS_OCTAVES:].sum(axis=0)])
        return parts / np.maximum(parts.sum(axis=1, keepdims=True), 1e-30)
    return folded(power), folded(opening)


def estimate_key(whole: np.ndarray, opening: np.ndarray) -> tuple[str, str, float, str | None]:
    """Tonal centre, quality, confidence and mode from :func:`pitch_class_power`.

    First the diatonic collection: of the 12 transpositions of the major scale, the one
    holding most of the whole track's pitch classes. Pitch classes alone cannot tell its
    seven modes apart (D Dorian and C Ionian are the same notes), so the centre is then the
    degree the music leans on: its emphasis (bass weighted :data:`BASS_WEIGHT`, the opening
    :data:`OPENING_WEIGHT` more) plus :data:`FIFTH_WEIGHT` of its fifth's. Quality and mode
    follow from the centre's place in the collection; the mode is named from
    :data:`MODE_CONFIDENCE`, the confidence being the centre's lead over the next degree (at
    most 1), scaled down by how much of the music lies outside the collection.

    Returns
    -------
    key : str
    quality : str
    confidence : float
    mode : str or None
    """
    bass, upper = whole
    profile = np.sqrt(upper + COLLECTION_BASS_WEIGHT * bass)
    fits = [profile[(_MAJOR_STEPS + t) % 12].sum() for t in range(12)]
    collection = int(np.argmax(fits))
    degrees = (_MAJOR_STEPS + collection) % 12
    emphasis = BASS_WEIGHT * bass + upper + OPENING_WEIGHT * (BASS_WEIGHT * opening[0] + opening[1])
    lean = emphasis[degrees] + FIFTH_WEIGHT * emphasis[(degrees + 7) % 12]
    order = np.argsort(lean)[::-1]
    centre = int(degrees[order[0]])
    inside = fits[collection] / max(profile.sum(), 1e-30)
    lead = (lean[order[0]] - lean[order[1]]) / max(lean[order[0]], 1e-30)
    confidence = float(np.clip(lead / FULL_CONFIDENCE_MARGIN, 0.0, 1.0) * inside)
    mode = next(m for m in MODES if set(scale(KEYS[centre], m)) == set(degrees.tolist()))
    return KEYS[centre], mode_quality(mode), confidence, mode if confidence >= MODE_CONFIDENCE else None


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
    # Loudness as the player plays it: a mono file in both ears measures 3 LU over one channel
    # (BS.1770 sums the channels' powers), and the tracks must meet at the session's loudness.
    played = np.repeat(samples, 2, axis=1) if samples.shape[1] == 1 else samples
    integrated = loudness.integrated_loudness(played, sample_rate)
    if not np.isfinite(integrated):
        raise InvalidArgumentError(f"silent: nothing over the {loudness.ABSOLUTE_GATE_LUFS:g} LUFS gate")

    mono = _mono_at_analysis_rate(samples, sample_rate)
    envelope = onset_envelope(mono)
    tempo = octave_guarded_tempo(envelope)
    beats = beat_times(envelope, tempo) if np.isfinite(tempo) else np.empty(0)
    first_s, last_s = level_span(played, sample_rate, integrated)
    start_s, end_s = _on_beats(beats, first_s, last_s)
    beat_s = 60.0 / tempo if np.isfinite(tempo) and tempo > 0 else 1.0
    key, quality, confidence, mode = estimate_key(*pitch_class_power(mono, beat_s))

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
        loudness_range_lu=loudness.loudness_range_lu(played, sample_rate),
        true_peak_dbtp=loudness.true_peak_dbfs(samples, sample_rate),
        brightness_hz=centroid, brightness=bright,
        arousal=arousal_of(tempo if np.isfinite(tempo) else 0.0, onset_rate, integrated, bright),
        start_s=start_s, end_s=end_s)
