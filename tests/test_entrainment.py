"""Entrainment that is heard: carriers clear of the music, judged on renders by the music kit."""

from __future__ import annotations

import itertools

import musickit as mk
import numpy as np
import pytest

from neurofeed.errors import InvalidArgumentError
from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth.composer import BASS_RANGE, MELODY_RANGE, PAD_RANGE, PULSE_RANGE
from neurofeed.synth.entrainment import (
    CLEARANCE_TARGET_HZ,
    EAR_CHECK_S,
    carrier_clearance_hz,
    carrier_hz,
    entrainment_warning,
)
from neurofeed.synth.theory import KEYS, MODES, scale

RENDER_S = 30.0
# The first seconds hold the fade-in and the entrainment's rise to its level.
SETTLED_S = 3.0
# Dorian tonalities whose carriers have the least clearance of their kind (16.5 Hz binaural,
# 27.8 Hz isochronic): the hardest cases for masking.
BINAURAL = MusicState(tempo_bpm=57, key="G", mode="dorian", intensity=0.6,
                      entrainment=Entrainment("binaural", 6.0, 0.3))
ISOCHRONIC = MusicState(tempo_bpm=57, key="E", mode="dorian", intensity=0.6,
                        entrainment=Entrainment("isochronic", 10.0, 0.3))


def partials_hz(key: str, mode: str) -> np.ndarray:
    """Fundamentals and harmonics 2-5 of every scale pitch the voices can play (A4 = 440 Hz)."""
    pitches = [p for low, high in (PAD_RANGE, MELODY_RANGE, BASS_RANGE, PULSE_RANGE)
               for p in range(low, high + 1) if p % 12 in scale(key, mode)]
    return np.outer(440.0 * 2.0 ** ((np.array(pitches) - 69) / 12), np.arange(1, 6)).ravel()


@pytest.mark.parametrize(("kind", "low", "high"), [("binaural", 300.0, 600.0), ("isochronic", 300.0, 1000.0)])
def test_carriers_keep_clear_of_every_music_partial(kind, low, high):
    step = 0.05
    grid = np.arange(low, high + step, step)
    target = CLEARANCE_TARGET_HZ[kind]
    for key, mode in itertools.product(KEYS, MODES):
        partials = np.sort(partials_hz(key, mode))
        clearance = np.abs(grid[:, None] - partials).min(axis=1)
        hz = carrier_hz(key, mode, kind)
        nearest = np.abs(partials - hz).min()
        assert low <= hz <= high and carrier_clearance_hz(key, mode, kind) == pytest.approx(nearest)
        if clearance.max() < target:  # the clearest point of the range
            assert nearest >= clearance.max() - step, (key, mode, hz, nearest)
        else:  # the lowest gap that keeps the target, whole
            assert nearest >= target and not (clearance[grid < hz - nearest] >= target).any(), (key, mode, hz)
    # The carrier follows the scale's pitches, not the name of its tonic: D Dorian is C major.
    assert carrier_hz("D", "dorian", kind) == carrier_hz("C", "ionian", kind)


def test_the_warning_names_the_clearance_and_the_highest_safe_frequency():
    # Theta beats and alpha pulses are clear in every tonality.
    for key, mode in itertools.product(KEYS, MODES):
        assert entrainment_warning(key, mode, Entrainment("binaural", 9.5)) is None
        assert entrainment_warning(key, mode, Entrainment("isochronic", 25.0)) is None
    assert entrainment_warning("B", "dorian", Entrainment("off", 40.0)) is None
    text = entrainment_warning("G", "dorian", Entrainment("binaural", 10.0))
    assert "16.5 Hz" in text and "17.0 Hz" in text and "9.7 Hz" in text, text
    text = entrainment_warning("E", "dorian", Entrainment("isochronic", 40.0))
    assert "27.8 Hz" in text and "42.0 Hz" in text and "gaps between pulses" in text, text
    with pytest.raises(InvalidArgumentError, match="kind"):
        carrier_hz("C", "ionian", "off")


# -- rendered -------------------------------------------------------------------------------

def _render(path, state: MusicState, voices=("pad", "melody", "bass", "pulse")):
    with Engine("offline", wav_path=path, state=state, seed=11, fade_in_s=0.5, voices=voices) as engine:
        engine.advance(RENDER_S)
    sr, x = mk.read_wav(path)
    return sr, x[int(SETTLED_S * sr):], engine.score.notes


@pytest.fixture(scope="module")
def binaural(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("entrainment") / "binaural.wav", BINAURAL)


@pytest.fixture(scope="module")
def binaural_alone(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("entrainment") / "binaural-alone.wav", BINAURAL, voices=())


@pytest.fixture(scope="module")
def isochronic(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("entrainment") / "isochronic.wav", ISOCHRONIC)


def test_binaural_beat_is_exact_under_music(binaural):
    sr, x, _ = binaural
    centre, beat = carrier_hz("G", "dorian"), BINAURAL.entrainment.frequency_hz
    # The nearest partial is 16.5 Hz from the centre, so +-5 Hz around each ear's carrier holds it
    # alone; 2^19 samples (12 s) keep the zero-padded transform fast.
    steady = x[:2 ** 19]
    left = mk.peak_hz(steady[:, 0], sr, centre - beat / 2 - 5, centre - beat / 2 + 5)
    right = mk.peak_hz(steady[:, 1], sr, centre + beat / 2 - 5, centre + beat / 2 + 5)
    assert right - left == pytest.approx(beat, abs=0.01)
    assert (left + right) / 2 == pytest.approx(centre, abs=0.05)


def test_music_does_not_beat_with_the_binaural_carriers(binaural, binaural_alone):
    sr, x, _ = binaural
    centre, beat = carrier_hz("G", "dorian"), BINAURAL.entrainment.frequency_hz
    floor = mk.carrier_beating_db(binaural_alone[1], sr, centre, beat)
    assert mk.carrier_beating_db(x, sr, centre, beat) <= floor + 3.0


@pytest.mark.parametrize(("render", "state"), [("binaural", BINAURAL), ("isochronic", ISOCHRONIC)])
def test_no_music_partial_comes_near_a_carrier(request, render, state):
    _, _, notes = request.getfixturevalue(render)
    entrainment = state.entrainment
    centre = carrier_hz(state.key, state.mode, entrainment.kind)
    f = entrainment.frequency_hz
    # Each ear's carrier for binaural beats, the carrier (sidebands +-f) for isochronic tones.
    carriers = [centre - f / 2, centre + f / 2] if entrainment.kind == "binaural" else [centre]
    for hz in carriers:
        # Counting each note until 3 s after its end covers the longest release and reverb tail.
        fraction = mk.partial_overlap_fraction(notes, hz, f + 2, 0.0, RENDER_S, release_s=3.0)
        assert fraction <= 0.05, (hz, fraction)


def test_isochronic_pulses_keep_their_depth_under_music(isochronic):
    sr, x, _ = isochronic
    carrier = carrier_hz("E", "dorian", "isochronic")
    assert mk.isochronic_depth(x, sr, carrier, ISOCHRONIC.entrainment.frequency_hz) >= 0.9


def test_the_ear_check_plays_left_then_right_before_the_music(tmp_path):
    path = tmp_path / "ear-check.wav"
    # A 2 s fade-in, so that the music after the check is compared at its full level.
    with Engine("offline", wav_path=path, state=BINAURAL, seed=11, ear_check=True, fade_in_s=2.0) as engine:
        engine.advance(EAR_CHECK_S + 12.0)
    sr, x = mk.read_wav(path)
    half, whole = int(EAR_CHECK_S / 2 * sr), int(EAR_CHECK_S * sr)
    left_first, right_next = x[:half], x[half:whole]
    # Each ear alone in its half: the other (the music and the entrainment too) is silent.
    assert np.abs(left_first[:, 0]).max() > 0.01 and np.abs(left_first[:, 1]).max() < 1e-4
    assert np.abs(right_next[:, 1]).max() > 0.01 and np.abs(right_next[:, 0]).max() < 1e-4
    # No louder than the music that follows; no clicks: no step beyond what a sine at the
    # check's top partial (twice a fifth above G#5, 2.5 kHz) and its peak could make.
    peak = np.abs(x[:whole]).max()
    _, check = mk.momentary_loudness(x[:whole], sr)
    _, music = mk.momentary_loudness(x[whole + 2 * sr:], sr)
    assert check.max() <= np.median(music)
    assert mk.largest_step(x, 0, whole) <= 2 * np.pi * 2500 / sr * peak
    # The binaural beat fades in after the check, exact.
    steady = x[-2 ** 18:]
    centre, beat = carrier_hz("G", "dorian"), BINAURAL.entrainment.frequency_hz
    left = mk.peak_hz(steady[:, 0], sr, centre - beat / 2 - 5, centre - beat / 2 + 5)
    right = mk.peak_hz(steady[:, 1], sr, centre + beat / 2 - 5, centre + beat / 2 + 5)
    assert right - left == pytest.approx(beat, abs=0.01)
