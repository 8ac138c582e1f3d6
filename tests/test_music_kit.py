"""The music-analysis kit (tests/musickit.py) on signals whose answers are known, and on the engine."""

from __future__ import annotations

import musickit as mk
import numpy as np
import pyloudnorm
import pytest
import scipy.io.wavfile

from neurofeed.errors import InvalidArgumentError
from neurofeed.synth import Engine, MusicState
from neurofeed.synth.score import Change, Note, ScoreLog

SR = 44100


def tone(hz: float, seconds: float, sr: int = SR, amplitude: float = 1.0, phase: float = 0.0) -> np.ndarray:
    """A sine as one column."""
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t + phase))[:, None]


def stereo(column: np.ndarray) -> np.ndarray:
    return np.hstack([column, column])


def tapered(x: np.ndarray, sr: int = SR, ramp_s: float = 0.05) -> np.ndarray:
    """``x`` with linear ramps at both ends (an abrupt start rings between samples)."""
    t = np.arange(len(x)) / sr
    return x * np.minimum(1.0, np.minimum(t, t[::-1]) / ramp_s)[:, None]


# -- loudness --------------------------------------------------------------------------------

def test_k_weighting_at_48_khz_is_the_standards_table():
    assert np.abs(mk.k_weighting_sos(48000) - mk._K_TABLE).max() < 1e-12


@pytest.mark.parametrize("sr", [44100, 48000])
def test_a_full_scale_997_hz_sine_in_one_channel_reads_minus_3_01(sr):
    # BS.1770-4: a 0 dBFS 997 Hz sine in one channel (left) reads -3.01 LKFS. In both channels the
    # power doubles (+3.01 dB), so at -20 dBFS in both it reads -20 LUFS.
    one = tone(997, 5, sr)
    assert mk.integrated_loudness(np.hstack([one, 0 * one]), sr) == pytest.approx(-3.01, abs=0.01)
    assert mk.integrated_loudness(stereo(0.1 * one), sr) == pytest.approx(-20.0, abs=0.01)


def test_momentary_and_short_term_follow_a_level_step_over_their_windows():
    quiet, loud = 0.01, 0.1  # -40 and -20 dBFS in both channels: -40 and -20 LUFS
    step_s = 6.0
    x = stereo(tone(997, 12) * np.where(np.arange(12 * SR) < step_s * SR, quiet, loud)[:, None])
    times, momentary = mk.momentary_loudness(x, SR)
    short_times, short = mk.short_term_loudness(x, SR)
    assert times[0] == pytest.approx(0.4) and short_times[0] == pytest.approx(3.0)
    assert np.diff(times) == pytest.approx(0.1) and np.diff(short_times) == pytest.approx(0.1)

    def at(t, values, when):
        return values[np.argmin(np.abs(t - when))]

    assert at(times, momentary, step_s) == pytest.approx(-40.0, abs=0.05)
    assert at(times, momentary, step_s + 0.4) == pytest.approx(-20.0, abs=0.05)  # window all after
    assert at(short_times, short, step_s + 2.9) < -20.1
    assert at(short_times, short, step_s + 3.0) == pytest.approx(-20.0, abs=0.05)
    # 0.4 s of the loud level in a 3 s window: the mean power, not the mean of levels.
    mixed = 10 * np.log10((2.6 * quiet ** 2 + 0.4 * loud ** 2) / 3 / loud ** 2) - 20.0
    assert at(short_times, short, step_s + 0.4) == pytest.approx(mixed, abs=0.05)
    assert mk.segment_loudness(x, SR, step_s + 1.0, 2.0) == pytest.approx(-20.0, abs=0.05)


def music_like(sr: int, seed: int) -> np.ndarray:
    """Notes of a few harmonics, with decays, silences and a quiet passage (which the gates drop)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((30 * sr, 2))
    for onset in np.sort(rng.uniform(0, 28, 60)):
        n = int(rng.uniform(0.2, 1.5) * sr)
        t = np.arange(n) / sr
        hz = 110 * 2 ** (rng.integers(0, 36) / 12)
        note = sum(np.sin(2 * np.pi * hz * h * t) / h for h in range(1, 6)) * np.exp(-3 * t)
        start = int(onset * sr)
        gains = rng.uniform(0.02, 0.2) * np.array([1.0, rng.uniform(0.5, 1)])
        x[start:start + n] += note[:len(x) - start, None] * gains
    x[10 * sr:14 * sr] *= 0.003  # a passage 50 dB down
    return x


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("kind", ["noise", "music"])
def test_integrated_loudness_agrees_with_pyloudnorm(sr, kind):
    x = np.random.default_rng(3).normal(0, 0.05, (20 * sr, 2)) if kind == "noise" else music_like(sr, 4)
    reference = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert mk.integrated_loudness(x, sr) == pytest.approx(reference, abs=0.1)


def test_silence_has_no_loudness():
    assert mk.integrated_loudness(np.zeros((5 * SR, 2)), SR) == -np.inf


def test_largest_rise_looks_ahead_within_the_horizon():
    times = np.arange(8) * 0.1 + 0.4
    lufs = np.array([-30, -28, -25, -31, -33, -20, -20, -40.0])
    rise = mk.largest_rise(times, lufs, within_s=0.2)
    assert rise == pytest.approx([5, 3, 0, 11, 13, 0, 0, 0])
    assert mk.largest_rise(times, lufs, within_s=1.0)[0] == pytest.approx(10)


def blooms(seconds: float, at_s, fade_in_s: float = 0.0) -> np.ndarray:
    """Steady noise at about -26 LUFS, 12 dB louder for 0.5 s at each of ``at_s``."""
    x = np.random.default_rng(5).normal(0, 0.03, (round(seconds * SR), 2))
    for t in at_s:
        x[round(t * SR):round((t + 0.5) * SR)] *= 4.0
    if fade_in_s:
        x *= np.minimum(1.0, np.arange(len(x)) / (fade_in_s * SR))[:, None]
    return x


def test_rise_events_count_blooms_but_not_a_fade_in_from_silence():
    x = blooms(60, [10.0, 25.0, 25.6, 40.0], fade_in_s=2.0)
    x[:SR] = 0.0  # a second of silence, then the fade
    # 25.0 and 25.6 lie within a second: one event.
    assert mk.rise_events_per_minute(x, SR) == pytest.approx(3.0)
    assert mk.rise_events_per_minute(x, SR, threshold_lu=13.0) == 0.0
    assert mk.rise_events_per_minute(blooms(60, [], fade_in_s=3.0), SR) == 0.0


def test_short_term_rise_rate():
    steady = blooms(20, [])
    assert mk.max_short_term_rise_lu_per_s(steady, SR) < 0.2
    # A second of silence, then a 3 s linear fade-in: the short-term window ending 2 s into the
    # fade rises 5.3 LU in the next second, but rises start only from windows without momentary
    # readings under the floor (20 LU under the programme), from where the fade still rises 2.7.
    faded = np.vstack([np.zeros((SR, 2)), blooms(20, [], fade_in_s=3.0)])
    assert 2.0 < mk.max_short_term_rise_lu_per_s(faded, SR) < 3.0
    step = steady * np.where(np.arange(len(steady)) < 10 * SR, 1.0, 4.0)[:, None]  # +12 dB at 10 s
    # The short-term window takes 3 s to pass the step: at most 1/3 of it in any second,
    # more where its power rises fastest (at first) in dB.
    rate = mk.max_short_term_rise_lu_per_s(step, SR)
    assert 4.0 < rate < 12.0


# -- true peak -------------------------------------------------------------------------------

@pytest.mark.parametrize("sr", [44100, 48000])
def test_true_peak_of_a_quarter_rate_sine_at_45_degrees(sr):
    # Samples fall at 45, 135, ... degrees: the sample peak is 3.01 dB under the sine's peak.
    x = stereo(tapered(tone(sr / 4, 2, sr, phase=np.pi / 4), sr))
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert mk.true_peak_dbfs(x, sr) == pytest.approx(0.0, abs=0.05)


def test_true_peak_is_continuous_across_chunks():
    # Longer than one chunk, with the peak on a chunk boundary.
    x = tapered(tone(1000, 30, amplitude=0.5))
    x[mk._CHUNK - 1:mk._CHUNK + 1] = 0.9
    assert mk.true_peak_dbfs(x, SR) >= 20 * np.log10(0.9)


# -- entrainment as heard --------------------------------------------------------------------

@pytest.mark.parametrize("depth", [0.3, 0.6, 1.0])
def test_isochronic_depth_of_a_known_am_tone(depth):
    t = np.arange(20 * SR) / SR
    carrier, rate = 440.0, 8.0
    am = (1 + depth * np.cos(2 * np.pi * rate * t)) * np.sin(2 * np.pi * carrier * t)
    outside = 0.5 * np.sin(2 * np.pi * 523.25 * t)  # a note well outside the band
    x = stereo((0.1 * am + outside)[:, None])
    assert mk.isochronic_depth(x, SR, carrier, rate) == pytest.approx(depth, abs=0.01)


def test_a_steady_partial_in_the_band_fills_the_pulse_gaps():
    t = np.arange(20 * SR) / SR
    gate = (np.sin(2 * np.pi * 6.0 * t) > 0).astype(float)
    gated = gate * np.sin(2 * np.pi * 440 * t)
    alone = mk.isochronic_depth(stereo(gated[:, None]), SR, 440.0, 6.0)
    # A partial 11 Hz off (not a multiple of the rate, so it beats at all phases of the pulse).
    partial = 0.5 * np.sin(2 * np.pi * 451 * t)
    masked = mk.isochronic_depth(stereo((gated + partial)[:, None]), SR, 440.0, 6.0)
    assert alone > 0.97 and masked < 0.5


def test_a_pulse_faster_than_the_band_is_refused():
    with pytest.raises(InvalidArgumentError, match="rate_hz must be in"):
        mk.isochronic_depth(stereo(tone(440, 2)), SR, 440.0, 25.0)  # sidebands outside +-20 Hz
    with pytest.raises(InvalidArgumentError, match="halfwidth_hz must be in"):
        mk.band_envelope(tone(440, 2)[:, 0], SR, 440.0, 0.0)


def binaural(centre: float, beat: float, seconds: float = 20.0) -> np.ndarray:
    left, right = tone(centre - beat / 2, seconds), tone(centre + beat / 2, seconds)
    return 0.1 * np.hstack([left, right])


def test_carrier_beating_of_two_sines():
    centre, beat = 440.0, 6.0
    alone = binaural(centre, beat)
    # A music partial on the centre beats with each ear's carrier at beat / 2 = 3 Hz.
    on_centre = alone + stereo(tone(centre, 20, amplitude=0.05))
    # One 30 Hz away lies outside the carrier's band.
    away = alone + stereo(tone(centre + 30, 20, amplitude=0.05))
    assert mk.carrier_beating_db(alone, SR, centre, beat) < 3.0
    assert mk.carrier_beating_db(away, SR, centre, beat) < 3.0
    assert mk.carrier_beating_db(on_centre, SR, centre, beat) > 20.0


class N:
    """A note as the score has it (only what the kit reads)."""

    def __init__(self, time_s, pitch, duration_s, voice="melody", velocity=80):
        self.time_s, self.pitch, self.duration_s = time_s, pitch, duration_s
        self.voice, self.velocity = voice, velocity


def test_music_partials_and_their_overlap_with_a_carrier():
    a3 = N(1.0, 57, 2.0)  # 220 Hz: partials 220, 440, 660, 880, 1100
    partials = mk.music_partials([a3])
    assert partials[:, 2] == pytest.approx([220, 440, 660, 880, 1100])
    assert partials[0, :2] == pytest.approx([1.0, 3.0])
    assert mk.music_partials([a3], release_s=0.5)[0, 1] == pytest.approx(3.5)
    # A carrier at 446 Hz with a band of +-8 Hz catches harmonic 2 while the note sounds:
    # 2 s of 10 s, and 2.5 s with its release.
    assert mk.partial_overlap_fraction([a3], 446.0, 8.0, 0.0, 10.0) == pytest.approx(0.2, abs=0.002)
    with_release = mk.partial_overlap_fraction([a3], 446.0, 8.0, 0.0, 10.0, release_s=0.5)
    assert with_release == pytest.approx(0.25, abs=0.002)
    assert mk.partial_overlap_fraction([a3], 446.0, 8.0, 0.0, 10.0, harmonics=1) == 0.0
    assert mk.partial_overlap_fraction([a3], 455.0, 8.0, 0.0, 10.0) == 0.0
    # A carrier that moves away half-way through the note.
    moving = lambda t: np.where(t < 2.0, 446.0, 500.0)  # noqa: E731
    assert mk.partial_overlap_fraction([a3], moving, 8.0, 0.0, 10.0) == pytest.approx(0.1, abs=0.002)


def test_band_occupied_fraction_sees_a_partial_in_the_band():
    x = stereo(tone(220, 10, amplitude=0.3))
    x[5 * SR:] += stereo(tone(446, 5, amplitude=0.003))  # 40 dB down, half the time
    assert mk.band_occupied_fraction(x, SR, 440.0, 8.0, floor_db=-45.0) == pytest.approx(0.5, abs=0.1)
    assert mk.band_occupied_fraction(x, SR, 440.0, 8.0, floor_db=-35.0) == 0.0
    assert mk.band_occupied_fraction(x, SR, 220.0, 8.0) == 1.0


# -- tempo, onsets, timbre -------------------------------------------------------------------

def clicks(bpm: float, seconds: float = 20.0) -> np.ndarray:
    """Short 2 kHz pings on every beat."""
    x = np.zeros((round(seconds * SR), 2))
    ping = (0.5 * np.exp(-np.arange(256) / 40) * np.sin(2 * np.pi * 2000 * np.arange(256) / SR))[:, None]
    for t in np.arange(0.5, seconds - 0.5, 60 / bpm):
        i = round(t * SR)
        x[i:i + len(ping)] += ping
    return x


@pytest.mark.parametrize("bpm", [50, 60, 66, 72, 100, 120])
def test_tempo_of_click_trains_has_no_octave_error(bpm):
    # Under 65 BPM the train's double is in range and as strong: the half-tempo rule decides.
    assert mk.tempo_bpm(clicks(bpm), SR) == pytest.approx(bpm, abs=0.05)


def test_tempogram_peaks_at_the_grid():
    times = np.arange(20) * 1.0
    values = mk.tempogram(times, np.ones(20), [60.0, 90.0, 120.0])
    assert values == pytest.approx([20.0, 0.0, 20.0], abs=1e-9)


def test_onsets_rate_and_attack_of_known_notes():
    x = np.zeros((10 * SR, 2))
    rise_s = 0.02
    n = int(0.9 * SR)  # decayed to -50 dB, under the onset floor
    t = np.arange(n) / SR
    envelope = np.minimum(t / rise_s, 1.0) * np.exp(-np.maximum(t - rise_s, 0) / 0.08)
    note = np.sin(2 * np.pi * 330 * t) * envelope
    for onset in np.arange(0.5, 9.5, 0.75):
        i = round(onset * SR)
        x[i:i + n] += 0.3 * note[:, None]
    times, _ = mk.onset_times(x, SR)
    assert len(times) == 12 and np.abs(times - np.arange(0.5, 9.5, 0.75)).max() < 0.03
    assert mk.onset_rate_per_s(x, SR) == pytest.approx(1.2)
    assert mk.attack_s(x, SR) == pytest.approx(0.8 * rise_s, abs=0.004)


def test_centroid_and_high_band_fraction_of_sines():
    assert mk.spectral_centroid_hz(stereo(tone(1000, 5, amplitude=0.5)), SR) == pytest.approx(1000, rel=0.01)
    two = stereo(tone(1000, 5, amplitude=0.5) + tone(8000, 5, amplitude=0.5))
    assert mk.high_band_fraction(two, SR) == pytest.approx(0.5, abs=0.01)
    assert mk.spectral_centroid_hz(two, SR) == pytest.approx(4500, rel=0.01)


def test_peak_hz_between_bins():
    assert mk.peak_hz(tone(437.123, 10)[:, 0], SR, 100, 1000) == pytest.approx(437.123, abs=0.005)


# -- reading ---------------------------------------------------------------------------------

def test_read_wav_scales_16_bit_and_float(tmp_path):
    x = 0.5 * stereo(tone(440, 0.1))
    scipy.io.wavfile.write(tmp_path / "a.wav", SR, np.round(x * 2 ** 15).astype(np.int16))
    scipy.io.wavfile.write(tmp_path / "b.wav", SR, x.astype(np.float32))
    for name, tolerance in (("a.wav", 2 ** -15), ("b.wav", 1e-7)):
        sr, y = mk.read_wav(tmp_path / name)
        assert sr == SR and y.shape == x.shape and np.abs(y - x).max() <= tolerance


# -- on the engine's own output --------------------------------------------------------------

ENGINE_STATE = MusicState(tempo_bpm=66, key="D", mode="dorian")


@pytest.fixture(scope="module")
def engine_render(tmp_path_factory):
    """20 s of the engine at a fixed state (24-bit WAV, read back by the kit)."""
    path = tmp_path_factory.mktemp("kit") / "music.wav"
    with Engine("offline", wav_path=path, state=ENGINE_STATE, seed=3, fade_in_s=0.5,
                fade_out_s=0.5) as engine:
        engine.advance(20.0)
    return (*mk.read_wav(path), engine)


def test_the_kit_reads_the_engines_output(engine_render):
    sr, x, _engine = engine_render
    assert sr == SR and x.shape[1] == 2 and abs(len(x) / sr - 20.0) < 1.0
    assert -40.0 < mk.integrated_loudness(x, sr) < -10.0
    assert mk.tempo_bpm(x, sr) == pytest.approx(ENGINE_STATE.tempo_bpm, abs=1.0)
    assert mk.true_peak_dbfs(x, sr) < -3.0  # the engine's default ceiling
    assert np.isfinite(mk.rise_events_per_minute(x, sr))
    assert 0.0 < mk.high_band_fraction(x, sr) < 1.0


# -- the score -------------------------------------------------------------------------------

def test_reversals_count_turns_of_at_least_the_threshold():
    assert mk.reversals([0, 1, 2, 3, 4, 5], 3.0) == 0
    assert mk.reversals([0, 5, 0, 5, 0], 3.0) == 3
    assert mk.reversals([0, 2, 0, 2, 0, 2], 3.0) == 0  # wobbles under the threshold
    assert mk.reversals([0, 3, 1, 4, 0], 3.0) == 1  # up 4, then down 4 from the top
    assert mk.reversals([10, 7, 8, 11, 12], 3.0) == 1  # down 3 (exactly), then up 5
    assert mk.reversals([0, 2.9, 0], 3.0) == 0
    assert mk.reversals([], 3.0) == 0
    assert mk.path_length([0, 5, 0, 5, 0]) == 20.0 and mk.net_change([0, 5, 0, 5, 2]) == 2.0


def bar_s(bar: float, bpm: float = 60.0) -> float:
    return bar * 4 * 60.0 / bpm


def tonality_script():
    """60 BPM to 40 s (bar 10), then 120 BPM; D dorian, Aeolian for 4 bars (bars 4-8), then A
    Aeolian for 8 bars (bars 20-28, 60-76 s: 16 s that are 4 bars at the first tempo)."""
    C = Change
    return [C(0.0, "beat_tempo_bpm", 60.0), C(40.0, "beat_tempo_bpm", 120.0),
            C(0.0, "bar_key", "D"), C(0.0, "bar_mode", "dorian"),
            C(16.0, "bar_mode", "aeolian"), C(32.0, "bar_mode", "dorian"),
            C(60.0, "bar_key", "A"), C(60.0, "bar_mode", "aeolian"),
            C(76.0, "bar_key", "D"), C(76.0, "bar_mode", "dorian"),
            C(3.0, "intensity", 0.4), C(9.0, "intensity", 0.6)]


def test_series_and_tonality_changes():
    changes = tonality_script()
    times, values = mk.series(changes, "intensity")
    assert times.tolist() == [3.0, 9.0] and values == [0.4, 0.6]
    changes_ = mk.tonality_changes(changes)
    assert changes_ == [(16.0, "D", "aeolian"), (32.0, "D", "dorian"), (60.0, "A", "aeolian"),
                        (76.0, "D", "dorian")]
    assert mk.tonality_changes(changes, 30.0, 70.0) == changes_[1:3]
    assert mk.changes_per_minute(changes_, 0.0, 60.0) == pytest.approx(2.0)
    assert mk.beat_position(changes, [0.0, 40.0, 60.0, 76.0]) == pytest.approx([0, 40, 80, 112])


def test_undone_changes_count_bars_on_the_tempo_map():
    changes = tonality_script()
    assert mk.undone_within(changes, bars=8) == 2  # after 4 bars, and after 8 at the faster tempo
    # 16 s are 4 bars at 60 BPM but 8 at 120: only the first is back within 5 bars.
    assert mk.undone_within(changes, bars=5) == 1
    assert mk.undone_within(changes, bars=3) == 0
    assert mk.undone_within(changes, bars=8, start_s=50.0) == 1


def score_of(notes, changes):
    return ScoreLog.from_records(notes, changes)


def melody(pitches, beat_s: float = 1.0, first_beat: int = 0):
    return [Note((first_beat + i) * beat_s, p, 80, 0.5 * beat_s, "melody") for i, p in enumerate(pitches)]


def test_melody_stats_repeats_tonal_centre_and_entropy():
    C = Change
    first = [62, 62, 69, 64, 62, 65, 64, 69]  # D dorian, a note a beat, 2 bars
    changes = [C(0.0, "beat_tempo_bpm", 60.0), C(0.0, "bar_key", "D"), C(0.0, "bar_mode", "dorian"),
               C(8.0, "bar_key", "A")]
    # The same two bars a fifth up, in A dorian after the key change at bar 2.
    stats = mk.melody_stats(score_of(melody(first + [p + 7 for p in first]), changes))
    # Intervals 0 7 -5 -2 3 -1 5 | 0 | 0 7 -5 -2 3 -1 5: 3 of 15 repeat.
    assert stats.repeated_note_fraction == pytest.approx(3 / 15)
    # Strong beats (0 and 2 of each bar) play D A D E, then A E A B: tonic or fifth 3 of 4 each.
    assert stats.strong_beat_tonic_fifth_fraction == pytest.approx(0.75)
    # Degrees from the tonic in force: 0 0 7 2 0 3 2 7, twice: 3/8, 2/8, 2/8, 1/8.
    p = np.array([3, 2, 2, 1]) / 8
    assert stats.pitch_class_entropy_bits == pytest.approx(-(p * np.log2(p)).sum())


def test_melody_stats_interval_4grams():
    C = Change
    changes = [C(0.0, "beat_tempo_bpm", 60.0), C(0.0, "bar_key", "D"), C(0.0, "bar_mode", "dorian")]
    stats = mk.melody_stats(score_of(melody([62, 64, 65, 69] * 5), changes))
    # Intervals 2 1 4 -7 over and over: 16 4-grams, 4 of them distinct.
    assert stats.distinct_4gram_fraction == pytest.approx(4 / 16)


def test_melody_stats_4bar_runs_and_share():
    C = Change
    changes = [C(0.0, "beat_tempo_bpm", 90.0), C(0.0, "bar_key", "C"), C(0.0, "bar_mode", "ionian")]
    theme = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 59]  # 4 bars, no period
    other = [72, 71, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 69, 71, 72, 74]
    beat_s = 60.0 / 90.0
    stats = mk.melody_stats(score_of(melody(theme * 3 + other + theme, beat_s), changes))
    # The theme at bars 0, 4, 8 (three in a row) and 16: 16 of 20 bars.
    assert stats.longest_run_of_a_4bar_melody == 3
    assert stats.largest_share_of_a_4bar_melody == pytest.approx(16 / 20)
    # Moving one note of the middle statement by a sixteenth breaks the run.
    notes = melody(theme * 3 + other + theme, beat_s)
    notes[20] = Note(notes[20].time_s + beat_s / 4, notes[20].pitch, 80, 0.2, "melody")
    stats = mk.melody_stats(score_of(notes, changes))
    assert stats.longest_run_of_a_4bar_melody == 1  # windows 0 and 8 are 8 bars apart
    assert stats.largest_share_of_a_4bar_melody == pytest.approx(12 / 20)


def test_phrase_lengths_and_cadences():
    C = Change
    changes = [C(0.0, "beat_tempo_bpm", 60.0)]
    changes += [C(bar_s(b), "phrase", float(i)) for i, b in enumerate([0, 4, 7, 12, 16], start=1)]
    changes += [C(bar_s(b), "chord", name) for b, name in
                [(0, "Dm"), (3, "G"), (4, "Dm"), (6, "A"), (7, "Dm"), (11, "C"), (12, "Dm"), (17, "F")]]
    lengths, cadences = mk.phrase_stats(score_of([], changes))
    assert lengths == [4, 3, 5, 4]  # the fifth phrase is unfinished
    assert cadences == {"G": 1, "A": 1, "C": 1, "Dm": 1}


def test_read_score_from_a_session_folder(tmp_path):
    notes = melody([62, 64, 65])
    changes = [Change(0.0, "beat_tempo_bpm", 66.0), Change(0.0, "chord", "Dm7"),
               Change(0.5, "intensity", 0.25)]
    for name, rows in (("score.tsv", notes), ("score_changes.tsv", changes)):
        fields = list(vars(rows[0]))
        lines = ["\t".join(fields)] + ["\t".join(str(getattr(r, f)) for f in fields) for r in rows]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    score = mk.read_score(tmp_path)
    assert score.notes == notes and score.changes == changes
