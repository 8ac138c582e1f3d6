"""The library's analysis on audio whose answers are known: the engine's renders at known tempo,
key and mode, and synthetic clicks, tones and noise at known tempo and loudness."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from _library_renders import PLAYLIST_SUBJECT

from neurofeed.errors import InvalidArgumentError
from neurofeed.library import Library, TrackAnalysis, analyse
from neurofeed.library.analysis import MIN_TRACK_S, mode_quality
from neurofeed.synth.loudness import integrated_loudness, loudness_range_lu
from neurofeed.synth.theory import KEYS, MODES

SR = 44100
#: The issue's targets: tempo within 2% (octave errors count), centre and quality right on 90%.
TEMPO_TOLERANCE = 0.02
KEY_TARGET = 0.9


@pytest.fixture(scope="module")
def analysed(library_renders, library_home):
    """Each render with its analysis, as the shared client library stored it (analysed in this
    process; test_library_store runs a parallel batch)."""
    tracks = {t.title: t.analysis for t in Library.open(PLAYLIST_SUBJECT, library_home).tracks}
    return [(render, tracks[render[0].stem]) for render in library_renders]


def test_every_render_is_analysed(analysed):
    for (path, *_), analysis in analysed:
        assert isinstance(analysis, TrackAnalysis), (path, analysis)
        assert analysis.sample_rate == SR and analysis.channels == 2


def test_tempo_within_two_percent_with_no_octave_errors(analysed):
    errors = {str(path.name): a.tempo_bpm / tempo - 1 for (path, tempo, _, _), a in analysed}
    assert max(map(abs, errors.values())) <= TEMPO_TOLERANCE, errors


def test_beats_lie_on_the_chosen_tempo(analysed):
    for (path, _, _, _), a in analysed:
        periods = np.diff(a.beat_times_s)
        assert len(periods) >= 10, path
        assert np.median(periods) == pytest.approx(60.0 / a.tempo_bpm, rel=TEMPO_TOLERANCE), path


def _key_right(render, analysis) -> bool:
    _, _, key, mode = render
    return analysis.key == key and analysis.quality == mode_quality(mode)


def test_tonal_centre_and_quality_reach_the_issues_target(analysed):
    right = [_key_right(render, a) for render, a in analysed]
    assert np.mean(right) >= KEY_TARGET, [(r[0].name, a.key, a.quality) for r, a in analysed]


def test_fields_are_in_their_ranges(analysed):
    for (path, *_), a in analysed:
        assert a.key in KEYS and a.quality in ("major", "minor") and 0 <= a.key_confidence <= 1
        assert a.mode is None or (a.mode in MODES and mode_quality(a.mode) == a.quality)
        assert -1 <= a.valence <= 1 and 0 <= a.brightness <= 1 and 0 <= a.arousal <= 1
        # The renders fade in over 1 s and out over 3 s: the music at level lies within.
        assert 1.0 <= a.start_s < a.end_s <= a.duration_s - 1.0, path
        assert a.true_peak_dbtp < -3.0  # the engine's ceiling


def test_arousal_rises_with_tempo_on_the_ladder(analysed):
    by_tempo = sorted((tempo, a.arousal) for (_, tempo, _, _), a in analysed)
    assert by_tempo[-1][1] > by_tempo[0][1]
    assert np.corrcoef(*zip(*by_tempo))[0, 1] > 0.9


def test_a_round_trip_through_json_keeps_every_field(analysed):
    a = analysed[0][1]
    assert TrackAnalysis.from_dict(a.to_dict()) == a


# -- synthetic signals -------------------------------------------------------------------------

def clicks(bpm: float, seconds: float, offbeat: float, seed: int = 0) -> np.ndarray:
    """Decaying noise bursts on each beat (full strength) and between beats (``offbeat`` of it),
    under a quiet noise floor; stereo."""
    rng = np.random.default_rng(seed)
    x = 1e-3 * rng.standard_normal(round(seconds * SR))
    burst = rng.standard_normal(round(0.05 * SR)) * np.exp(-np.arange(round(0.05 * SR)) / (0.01 * SR))
    period = 60.0 / bpm
    for k, t in enumerate(np.arange(0.5, seconds - 0.1, period / 2)):
        start = round(t * SR)
        x[start:start + len(burst)] += 0.3 * (1.0 if k % 2 == 0 else offbeat) * burst
    return np.column_stack([x, x])


@pytest.mark.parametrize(("bpm", "offbeat"), [(50, 0.3), (57, 0.2), (66, 0.0), (120, 1.0), (128, 0.3)])
def test_click_tempo_is_the_beat_not_its_octave(bpm, offbeat):
    a = analyse(clicks(bpm, 30, offbeat), SR)
    assert a.tempo_bpm == pytest.approx(bpm, rel=TEMPO_TOLERANCE)


def tone_track(level_dbfs: float, seconds: float = 20.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    return np.column_stack([x, 0.7 * x])


def noise_track(level_dbfs: float, seconds: float = 20.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10 ** (level_dbfs / 20) * rng.standard_normal((round(seconds * SR), 2))


@pytest.mark.parametrize("make", [tone_track, noise_track])
@pytest.mark.parametrize("level", [-30.0, -18.0])
def test_loudness_within_half_a_lu_of_pyloudnorm(make, level):
    x = make(level)
    reference = pyloudnorm.Meter(SR).integrated_loudness(x)
    assert analyse(x, SR).loudness_lufs == pytest.approx(reference, abs=0.5)
    assert integrated_loudness(x, SR) == pytest.approx(reference, abs=0.5)


def test_loudness_range_of_two_levels_10_lu_apart():
    # EBU Tech 3342: equal halves 10 LU apart read about 10 LU (the percentiles fall inside each).
    x = np.vstack([noise_track(-30.0, 20.0, seed=2), noise_track(-20.0, 20.0, seed=3)])
    assert loudness_range_lu(x, SR) == pytest.approx(10.0, abs=0.5)
    assert loudness_range_lu(noise_track(-20.0), SR) < 1.0


def test_start_and_end_skip_silence_and_fades():
    quiet = np.zeros((5 * SR, 2))
    music = clicks(90, 20, 0.5)
    a = analyse(np.vstack([quiet, music, quiet]), SR)
    assert 5.0 <= a.start_s <= 7.0 and 23.0 <= a.end_s <= 25.0
    assert min(abs(np.array(a.beat_times_s) - a.start_s)) < 1e-3
    assert min(abs(np.array(a.beat_times_s) - a.end_s)) < 1e-3


def test_silent_and_short_audio_are_refused_in_one_line():
    with pytest.raises(InvalidArgumentError, match="silent"):
        analyse(np.zeros((20 * SR, 2)), SR)
    with pytest.raises(InvalidArgumentError, match="too short"):
        analyse(noise_track(-20.0, MIN_TRACK_S - 1), SR)


def test_every_format_and_layout_libsndfile_reads_analyses_alike(library_renders, tmp_path):
    """The same render as FLAC, Ogg Vorbis and MP3, and as mono at 48 kHz, reads the same
    tempo, centre and quality, and its loudness as the player plays it (a mono file in both
    ears), exactly for lossless files and within the lossy codecs' error."""
    import soundfile
    from scipy.signal import resample_poly

    from neurofeed.library.batch import read_audio
    from neurofeed.synth.deck import prepare_track

    path, tempo, key, mode = library_renders[5]
    samples, rate = read_audio(path)
    reference = analyse(samples, rate)
    variants = {"flac": (samples, rate, {}), "ogg": (samples, rate, {"subtype": "VORBIS"}),
                "mp3": (samples, rate, {"subtype": "MPEG_LAYER_III"}),
                "wav": (resample_poly(samples.mean(axis=1), 160, 147)[:, None], 48000, {})}
    for suffix, (data, sr, options) in variants.items():
        file = tmp_path / f"track.{suffix}"
        soundfile.write(file, data, sr, **options)
        read, file_rate = read_audio(file)
        a = analyse(read, file_rate)
        assert a.tempo_bpm == pytest.approx(tempo, rel=TEMPO_TOLERANCE), suffix
        assert (a.key, a.quality) == (reference.key, reference.quality) == (key, mode_quality(mode)), suffix
        if data.shape[1] == 1:  # as played: the mono mix in both ears
            expected = integrated_loudness(np.repeat(data, 2, axis=1), sr)
        else:
            expected = reference.loudness_lufs
        lossy = suffix in ("ogg", "mp3")
        assert a.loudness_lufs == pytest.approx(expected, abs=1.0 if lossy else 0.05), suffix
        # The player takes any of them: stereo at the server's rate, the span asked for.
        stereo = prepare_track(read, file_rate, 44100, a.start_s, a.start_s + 10.0)
        assert stereo.shape == (441000, 2) and stereo.dtype == np.float32, suffix
