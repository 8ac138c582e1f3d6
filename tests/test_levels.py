"""Even levels, the loudness target and the true-peak ceiling, measured on rendered audio.

Every figure comes from the WAV file the engine wrote, through the analysis kit
(:mod:`musickit`): BS.1770 loudness, 4x oversampled true peak. One render per palette and
purpose is shared by the tests through module-scoped fixtures.
"""

from __future__ import annotations

import musictargets as targets
import numpy as np
import pytest
from musickit import integrated_loudness, read_wav, segment_loudness, true_peak_dbfs

from neurofeed.errors import InvalidArgumentError
from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth.composer import MELODY_RANGE
from neurofeed.synth.entrainment import EAR_CHECK_S
from neurofeed.synth.master import TRUE_PEAK_MARGIN_DB, db_to_amp
from neurofeed.synth.palettes import PALETTES, REFERENCE_LUFS

PITCHES = range(MELODY_RANGE[0], MELODY_RANGE[1] + 1)
NOTE_VELOCITY = 80
# Seconds of steady music per palette for the loudness target and the rises; the first
# seconds (fade-in, the pad's first attack) are left out of the measure.
STEADY_S, SETTLE_S = 60.0, 3.0
CEILING_DBFS = -3.0
# The engine's lowest accepted sampling rate (Hz), where true peaks rise most above samples.
LOWEST_RATE = 8000
# At the loudest settings, at most this share of the samples may reach the final clip: the
# limiter does the work, and a clipped sample is distortion (the clip sits under the ceiling
# by the true-peak margin; 24-bit samples land within 1e-6 of it).
MAX_CLIPPED_SHARE = 1e-4


@pytest.fixture(scope="module")
def note_levels(tmp_path_factory):
    """Per palette, the loudness (LUFS) of each melody pitch's first second, each note alone."""
    levels = {}
    for name, palette in PALETTES.items():
        melody = palette.sounds["melody"]
        gap_s = 1.0 + melody.shape.release_s + 1.5  # the note, its release and the hall's tail
        path = tmp_path_factory.mktemp("notes") / f"{name}.wav"
        with Engine("offline", wav_path=path, palette=name, voices=(), fade_in_s=0.0, fade_out_s=0.1,
                    state=MusicState(volume=1.0)) as engine:
            engine.advance(0.5)
            onsets = []
            for pitch in PITCHES:
                onsets.append(engine.time_s + engine.output_latency_s)
                engine.play_note(pitch, velocity=NOTE_VELOCITY)
                engine.advance(gap_s)
        assert [n.pitch for n in engine.score.notes] == list(PITCHES)  # auditions are scored
        sr, x = read_wav(path)
        # Each note with half a second before it, where the K-weighting filters settle.
        levels[name] = np.array([segment_loudness(x[round((t - 0.5) * sr):round((t + 1.0) * sr)], sr, 0.5)
                                 for t in onsets])
    return levels


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    """Per palette, 60 s at intensity 0.5, volume 1.0 and the default loudness: (sr, audio)."""
    renders = {}
    for name in PALETTES:
        path = tmp_path_factory.mktemp("steady") / f"{name}.wav"
        with Engine("offline", wav_path=path, palette=name, seed=3, fade_in_s=0.5, ceiling_dbfs=CEILING_DBFS,
                    state=MusicState.neutral().replace(volume=1.0)) as engine:
            engine.advance(SETTLE_S + STEADY_S)
        sr, x = read_wav(path)
        renders[name] = sr, x[round(SETTLE_S * sr):round((SETTLE_S + STEADY_S) * sr)]
    return renders


@pytest.mark.parametrize("palette", PALETTES)
def test_every_melody_pitch_is_as_loud_as_the_others(note_levels, palette):
    levels = note_levels[palette]
    assert np.all(np.isfinite(levels)), levels
    deviation = levels - np.median(levels)
    shown = dict(zip(PITCHES, np.round(deviation, 1)))
    assert np.abs(deviation).max() <= targets.NOTE_LEVEL_TOLERANCE_LU, shown


@pytest.mark.parametrize("palette", PALETTES)
def test_music_meets_the_loudness_target(steady, palette):
    # The palette's make-up gain is the measured constant that makes this hold.
    sr, x = steady[palette]
    assert abs(integrated_loudness(x, sr) - REFERENCE_LUFS) <= targets.LOUDNESS_TOLERANCE_LU


@pytest.mark.parametrize("palette", PALETTES)
def test_no_note_jumps_out(steady, palette):
    # Rises, the short-term rate and the true peak; in one minute a single rise fails the rate.
    sr, x = steady[palette]
    checks = targets.level_checks(x, sr, CEILING_DBFS)
    assert all(c.ok for c in checks), [str(c) for c in checks]


def test_loudness_target_moves_the_music(tmp_path):
    path = tmp_path / "quiet.wav"
    with Engine("offline", wav_path=path, seed=3, loudness_lufs=-26.0, fade_in_s=0.5,
                state=MusicState.neutral().replace(volume=1.0)) as engine:
        engine.advance(SETTLE_S + 30.0)
    sr, x = read_wav(path)
    assert abs(integrated_loudness(x[round(SETTLE_S * sr):], sr) - (-26.0)) <= targets.LOUDNESS_TOLERANCE_LU


EXTREMES = [(palette, entrainment, 44100) for palette in PALETTES
            for entrainment in (Entrainment("binaural", 10.0, 1.0), Entrainment("isochronic", 40.0, 1.0))]
EXTREMES += [(palette, Entrainment("isochronic", 40.0, 1.0), LOWEST_RATE) for palette in PALETTES]


@pytest.mark.parametrize(("palette", "entrainment", "sample_rate"), EXTREMES,
                         ids=[f"{p}-{e.kind}-{sr}" for p, e, sr in EXTREMES])
def test_true_peak_stays_under_the_ceiling_at_extreme_settings(tmp_path, palette, entrainment, sample_rate):
    loudest = MusicState(intensity=1.0, brightness=1.0, volume=1.0, entrainment=entrainment)
    path = tmp_path / "loud.wav"
    with Engine("offline", wav_path=path, palette=palette, seed=5, loudness_lufs=-14.0,
                sample_rate=sample_rate, ceiling_dbfs=CEILING_DBFS, fade_in_s=0.3, state=loudest) as engine:
        engine.advance(15.0)
    sr, x = read_wav(path)
    assert sr == sample_rate
    # The limiter works hard (the music alone would be near -8 LUFS) without pumping it down.
    assert integrated_loudness(x, sr) > -13.0
    assert true_peak_dbfs(x, sr) <= CEILING_DBFS
    clip = db_to_amp(CEILING_DBFS - TRUE_PEAK_MARGIN_DB)
    assert np.mean(np.abs(x) >= clip - 1e-6) < MAX_CLIPPED_SHARE


@pytest.mark.parametrize("loudness", [-31.0, -13.0, float("nan")])
def test_a_loudness_out_of_range_is_refused(loudness):
    with pytest.raises(InvalidArgumentError, match=r"loudness_lufs must be in \[-30, -14\] LUFS"):
        Engine("manual", loudness_lufs=loudness)


def test_play_note_checks_its_arguments():
    with Engine("manual") as engine:
        with pytest.raises(InvalidArgumentError, match="voice='lead' is not accepted"):
            engine.play_note(60, voice="lead")
        with pytest.raises(InvalidArgumentError, match="pitch must be in"):
            engine.play_note(128)
    with Engine("manual", palette="ambient") as engine:
        with pytest.raises(InvalidArgumentError, match="voice='pulse' is not in the 'ambient' palette; "
                                                       "accepted: pad, melody, bass"):
            engine.play_note(50, voice="pulse")


def test_the_music_waits_for_the_headphone_check(tmp_path):
    path = tmp_path / "ear.wav"
    state = MusicState(entrainment=Entrainment("binaural", 6.0, 0.3), volume=1.0)
    with Engine("offline", wav_path=path, seed=1, ear_check=True, state=state) as engine:
        engine.advance(EAR_CHECK_S + 1.0)
    first_beat = min(n.time_s for n in engine.score.notes)
    assert EAR_CHECK_S <= first_beat < EAR_CHECK_S + engine.buffer_size / engine.sample_rate + 0.01
    sr, x = read_wav(path)

    def level(start_s, stop_s):
        return (x[round(start_s * sr):round(stop_s * sr)] ** 2).mean(axis=0)

    # The left ear's chimes, then the right's: each at least 40 dB over the other ear.
    left, right = level(0.0, EAR_CHECK_S / 2 - 0.2), level(EAR_CHECK_S / 2 + 0.2, EAR_CHECK_S)
    assert left[0] > 1e4 * left[1] and right[1] > 1e4 * right[0], (left, right)
