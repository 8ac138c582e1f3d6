"""Palettes sound different and keep the same safety and determinism, measured on rendered audio."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.signal as sg
from musickit import attack_s, high_band_fraction, onset_rate_per_s, read_wav, spectral_centroid_hz

from neurofeed.errors import InvalidArgumentError
from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth.entrainment import carrier_hz
from neurofeed.synth.instruments import Shape
from neurofeed.synth.palettes import DEFAULT_PALETTE, PALETTES, Sound
from neurofeed.synth.patch import hall_impulse

STATE = MusicState(tempo_bpm=64, key="D", mode="dorian", intensity=0.5, brightness=0.5, volume=1.0,
                   entrainment=Entrainment("binaural", 6.0, 0.3))
RENDER_S, SETTLE_S = 40.0, 4.0


def render(path, palette: str, seconds: float, seed: int = 4):
    with Engine("offline", wav_path=path, palette=palette, seed=seed, fade_in_s=0.5, fade_out_s=0.5,
                state=STATE) as engine:
        engine.advance(seconds)
    return read_wav(path)


@pytest.fixture(scope="module")
def timbre(tmp_path_factory):
    """Per palette: spectral centroid (Hz), median attack (s), onsets per second, share above 4 kHz."""
    figures = {}
    for name in PALETTES:
        sr, x = render(tmp_path_factory.mktemp("palette") / f"{name}.wav", name, RENDER_S)
        x = x[round(SETTLE_S * sr):round(RENDER_S * sr)]
        figures[name] = {"centroid": spectral_centroid_hz(x, sr), "attack": attack_s(x, sr),
                         "onsets": onset_rate_per_s(x, sr), "high": high_band_fraction(x, sr, 4000.0)}
    return figures


@pytest.mark.parametrize("first, second", list(itertools.combinations(PALETTES, 2)))
def test_palettes_differ_in_centroid_attack_and_density(timbre, first, second):
    a, b = timbre[first], timbre[second]
    ratio = {key: max(a[key], b[key]) / min(a[key], b[key]) if min(a[key], b[key]) > 0 else np.inf
             for key in ("centroid", "attack", "onsets")}
    assert ratio["centroid"] >= 1.1 and ratio["onsets"] >= 1.3, (a, b)
    if "drone" not in (first, second):  # the drone has too few onsets for a median attack
        assert ratio["attack"] >= 1.3, (a, b)


def test_warm_palette_is_not_dark(timbre):
    # Before the palettes, 4.4e-7 of the power was above 4 kHz (measured on this render); the
    # strings' cutoff now reaches 2.6 kHz at brightness 0.5, not 1.6 kHz: 1.1e-5, 14 dB more
    # (4.2e-6, 10 dB more, since the first phrase opens on the tonic chord: other notes).
    assert timbre["warm"]["high"] >= 5 * 4.4e-7, timbre["warm"]


@pytest.mark.parametrize("palette", PALETTES)
def test_same_seed_and_script_render_identical_bytes(tmp_path, palette):
    paths = [tmp_path / f"{k}.wav" for k in range(2)]
    for path in paths:
        render(path, palette, 6.0, seed=9)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_every_palette_has_a_description_and_the_default_exists():
    assert DEFAULT_PALETTE in PALETTES
    assert all(p.description and "\n" not in p.description for p in PALETTES.values())


def test_an_unknown_palette_is_refused_naming_the_accepted():
    with pytest.raises(InvalidArgumentError) as err:
        Engine("manual", palette="warmer")
    assert "palette='warmer' is not accepted" in str(err.value)
    assert "accepted: " + ", ".join(PALETTES) in str(err.value)


def test_the_drone_wind_leaves_the_carriers_band_clear(tmp_path):
    # The wind alone: the drone plays no pulse, so with only that voice asked for, the voices are
    # silent and the texture sounds. The entrainment is on (its band-reject follows it), barely audible.
    beat = 6.0
    state = MusicState(key="A", mode="mixolydian", volume=1.0,
                       entrainment=Entrainment("binaural", beat, 1e-4))
    path = tmp_path / "wind.wav"
    with Engine("offline", wav_path=path, palette="drone", voices=("pulse",), seed=2, fade_in_s=0.1,
                state=state) as engine:
        engine.advance(20.0)
    sr, x = read_wav(path)
    freqs, power = sg.welch(x[2 * sr:].mean(axis=1), sr, nperseg=2 ** 16)
    carrier = carrier_hz("A", "mixolydian", "binaural")
    keep_clear = beat / 2 + beat + 2  # either ear's carrier -+ (beat + 2) Hz
    inside = power[np.abs(freqs - carrier) < keep_clear]
    beside = power[(np.abs(freqs - carrier) > 60) & (np.abs(freqs - carrier) < 120)]
    assert 10 * np.log10(inside.max() / beside.mean()) <= -20.0  # measured -23.7 dB


SOUND = Sound("wave", 4, Shape(attack_s=0.1, sustain=1.0, release_s=0.5), 0.4)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("kind", "sine", "kind='sine' is not accepted.*accepted: saw, epiano, triangle, wave, bell"),
    ("count", 0, "count must be a whole number of voices, at least 1"),
    ("count", 2.5, "count must be a whole number"),
    ("shape", (0.1, 1.0, 0.5), "shape must be a Shape"),
    ("gain", -0.1, r"gain must be in \[0, inf\]"),
    ("pan", 1.5, r"pan must be in \[0, 1\]"),
    ("partials", (0.0,), "partials must hold at least one amplitude above 0"),
    ("partials", (1.0, -0.5), "partials must be in"),
    ("sharp", float("nan"), "sharp must be in"),
    ("detune_hz", -1.0, "detune_hz must be in"),
])
def test_a_bad_sound_is_refused_naming_the_field(field, value, message):
    with pytest.raises(InvalidArgumentError, match=message):
        dataclasses.replace(SOUND, **{field: value})


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sounds", {"lead": SOUND}, "sounds='lead' is not accepted.*accepted: pad, melody, bass, pulse"),
    ("sounds", {"pad": "saw"}, r"sounds\['pad'\] must be a Sound"),
    ("sounds", {}, "sounds must name at least one of pad, melody, bass, pulse"),
    ("cutoff_hz", (700.0, 500.0), r"cutoff_hz\[1\] must be in \[700, inf\] Hz"),
    ("reverb_wet", -1.0, "reverb_wet must be in"),
    ("makeup_db", float("inf"), "makeup_db must be in"),
])
def test_a_bad_palette_is_refused_naming_the_field(field, value, message):
    with pytest.raises(InvalidArgumentError, match=message):
        dataclasses.replace(PALETTES[DEFAULT_PALETTE], **{field: value})


@pytest.mark.parametrize("sample_rate", [8000, 44100])
def test_the_hall_has_unit_energy_in_each_ear_at_any_rate(sample_rate):
    # Below 16 kHz the Nyquist frequency falls under the hall's top band edge (8 kHz).
    response = hall_impulse(sample_rate)
    assert response.shape == (3 * sample_rate, 2)
    assert np.allclose((response.astype(float) ** 2).sum(axis=0), 1.0, atol=1e-4)
