"""The engine judged by its rendered audio: tempo, tonality, entrainment, safety, determinism.

Every check here analyses the WAV file the engine wrote, with numpy and scipy, and does not
take the engine's word for anything; the score log is only compared against the audio.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal as sg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from musickit import CLICK_STEP, chroma, fit_beat_grid, largest_step, onset_times, peak_hz

from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth.entrainment import carrier_hz
from neurofeed.synth.state import ENTRAINMENT_KINDS
from neurofeed.synth.theory import KEYS, MODES, scale

BLOCK = 256


# -- rendering and analysis ------------------------------------------------------------------

def render(path, seconds: float, state: MusicState, script=(), **engine_kwargs):
    """Render ``seconds`` offline, applying ``(time_s, state)`` pairs on the way.

    Returns the sampling rate, the audio as float (n, 2) in [-1, 1], and the engine (for its score).
    """
    kwargs = {"seed": 7, "fade_in_s": 0.3, "fade_out_s": 0.5, **engine_kwargs}
    elapsed = 0.0
    with Engine("offline", wav_path=path, state=state, **kwargs) as engine:
        for time_s, new_state in sorted(script, key=lambda item: item[0]):
            engine.advance(time_s - elapsed)
            elapsed = time_s
            engine.apply(new_state)
        engine.advance(seconds - elapsed)
    sr, data = scipy.io.wavfile.read(path)
    assert data.dtype == np.int32  # 24-bit PCM, left-aligned in int32 by scipy
    return sr, data.astype(np.float64) / 2 ** 31, engine


# -- tempo -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bpm", [50, 64, 70, 100])
def test_onsets_give_the_tempo(tmp_path, bpm):
    sr, x, _engine = render(tmp_path / "t.wav", 24, MusicState(tempo_bpm=bpm, key="D", mode="dorian"))
    times, weights = onset_times(x, sr)
    measured, _ = fit_beat_grid(times, weights, bpm)
    assert abs(measured - bpm) <= 1.0, measured


def test_score_note_ons_agree_with_the_audio(tmp_path):
    # Pooled over several seeds: in one render, partials that happen to beat (the oscillators'
    # phases are arbitrary) can outrank a soft note as an onset, and over seeds the fraction
    # of strongest onsets that are score notes spreads over about 0.7-0.95 around 0.84.
    heard, in_score = [], []
    for seed in range(1, 7):
        sr, x, engine = render(tmp_path / f"s{seed}.wav", 24,
                               MusicState(tempo_bpm=70, key="A", mode="aeolian"),
                               seed=seed)
        times, strengths = onset_times(x, sr)
        # Pad notes swell in over a second and have no onset to hear; the analysis window needs
        # half a window of signal before the first onset it can see.
        score = np.array(sorted({n.time_s for n in engine.score.notes
                                 if n.voice != "pad" and n.time_s > 0.1}))
        heard.append(np.array([np.abs(times - s).min() for s in score]))
        strongest = times[np.argsort(strengths)[::-1][:len(score)]]
        in_score.append(np.array([np.abs(score - t).min() for t in strongest]))
    heard, in_score = np.concatenate(heard), np.concatenate(in_score)
    assert np.mean(heard < 0.010) >= 0.8, np.round(heard * 1000, 1)
    assert np.mean(in_score < 0.010) >= 0.8, np.round(in_score * 1000, 1)
    assert np.median(heard) < 0.004


def test_a_tempo_change_lands_on_a_beat(tmp_path):
    change_s = 10.3
    sr, x, _ = render(tmp_path / "c.wav", 26, MusicState(tempo_bpm=64), max_tempo_rate_bpm_per_s=100.0,
                      script=[(change_s, MusicState(tempo_bpm=84))])
    times, weights = onset_times(x, sr)
    before = times < change_s
    bpm_1, t0_1 = fit_beat_grid(times[before], weights[before], 64)
    assert abs(bpm_1 - 64) <= 1.0
    # The beat already due when the change came keeps its place on the old grid ...
    due = t0_1 + np.ceil((change_s - t0_1) / (60 / bpm_1)) * 60 / bpm_1
    after = times > due - 0.02
    bpm_2, t0_2 = fit_beat_grid(times[after], weights[after], 84)
    assert abs(bpm_2 - 84) <= 1.0
    # ... and the new grid starts from it: some beat of the new grid falls on that beat.
    offset = (due - t0_2) / (60 / bpm_2)
    assert abs(offset - round(offset)) * 60 / bpm_2 < 0.010, (due, t0_2, bpm_2)


# -- tonality --------------------------------------------------------------------------------

def _assert_in_scale(profile: np.ndarray, key: str, mode: str) -> None:
    expected = set(scale(key, mode))
    strongest = set(np.argsort(profile)[::-1][:7].tolist())
    assert strongest == expected, (key, mode, np.round(profile, 3))
    assert profile[sorted(expected)].sum() > 0.9, np.round(profile, 3)


def test_sounding_pitch_classes_follow_key_and_mode(tmp_path):
    first = MusicState(tempo_bpm=70, key="D", mode="dorian", brightness=0.3)
    second = first.replace(mode="phrygian")
    change_s = 16.0
    sr, x, engine = render(tmp_path / "m.wav", 34, first, script=[(change_s, second)])
    bars = [c for c in engine.score.changes if c.name == "bar_mode"]
    switch = next(c.time_s for c in bars if c.value == "phrygian")
    assert change_s <= switch < change_s + 4 * 60 / 70 + 0.01  # on the next bar line
    _assert_in_scale(chroma(x, sr, 1.0, change_s), "D", "dorian")
    # The first bar after the switch plays a chord both modes share, so skip it.
    _assert_in_scale(chroma(x, sr, switch + 4 * 60 / 70 + 1.5, 33.0), "D", "phrygian")


# -- entrainment -----------------------------------------------------------------------------

def test_binaural_carriers_differ_by_the_beat_frequency(tmp_path):
    f = 6.0
    state = MusicState(tempo_bpm=60, key="E", mode="aeolian", entrainment=Entrainment("binaural", f, 0.4))
    sr, x, _ = render(tmp_path / "b.wav", 32, state)
    steady = x[int(2 * sr):int(31 * sr)]
    left, right = peak_hz(steady[:, 0], sr, 100, 400), peak_hz(steady[:, 1], sr, 100, 400)
    assert abs((right - left) - f) <= 0.05, (left, right)


def test_isochronic_envelope_pulses_at_the_frequency(tmp_path):
    f = 10.0
    state = MusicState(tempo_bpm=60, key="G", entrainment=Entrainment("isochronic", f, 0.5))
    sr, x, _ = render(tmp_path / "i.wav", 32, state, voices=())
    mono = x[int(2 * sr):int(31 * sr)].mean(axis=1)
    envelope = np.abs(sg.hilbert(mono))
    assert abs(peak_hz(envelope - envelope.mean(), sr, 0.5, 40) - f) <= 0.05


def test_music_fields_have_one_spelling_in_every_record():
    from neurofeed.loop.hops import MUSIC_COLUMNS
    from neurofeed.synth.score import Change, ScoreLog
    from neurofeed.synth.state import RANGES

    state = MusicState(tempo_bpm=58, entrainment=Entrainment("binaural", 6.5, 0.25))
    flat = state.to_dict()
    # music.tsv and the LSL stream name the fields as to_dict (and so score_changes.tsv) does.
    assert list(flat) == ["tempo_bpm", "key", "mode", "intensity", "brightness", "volume",
                          "entrainment_kind", "entrainment_hz", "entrainment_level"]
    assert set(flat) == {c.name for c in MUSIC_COLUMNS}
    assert flat["entrainment_hz"] == 6.5 and set(RANGES) <= set(flat)
    assert MusicState.from_dict(flat) == state
    # Score tables written before the rename still read back.
    old = {("entrainment_frequency_hz" if k == "entrainment_hz" else k): v for k, v in flat.items()}
    assert MusicState.from_dict(old) == state
    score = ScoreLog.from_records([], [Change(0.0, "tempo_bpm", 58.0),
                                       Change(1.0, "entrainment_frequency_hz", 6.5)])
    assert [(c.name, c.value) for c in score.changes] == [("tempo_bpm", 58.0), ("entrainment_hz", 6.5)]


def test_isochronic_under_music_still_pulses_at_the_frequency(tmp_path):
    f = 7.5
    state = MusicState(tempo_bpm=60, key="G", entrainment=Entrainment("isochronic", f, 0.6))
    sr, x, _ = render(tmp_path / "im.wav", 32, state)
    mono = x[int(2 * sr):int(31 * sr)].mean(axis=1)
    # Isolate the carrier (in a gap between the music's partials) with its first sidebands.
    carrier = carrier_hz("G", state.mode, "isochronic")
    sos = sg.butter(4, [carrier - f - 1, carrier + f + 1], btype="bandpass", fs=sr, output="sos")
    envelope = np.abs(sg.hilbert(sg.sosfiltfilt(sos, mono)))
    assert abs(peak_hz(envelope - envelope.mean(), sr, 2, 40) - f) <= 0.05


# -- safety ----------------------------------------------------------------------------------

loud_states = st.builds(
    MusicState,
    tempo_bpm=st.floats(40, 120), key=st.sampled_from(KEYS), mode=st.sampled_from(MODES),
    intensity=st.just(1.0), brightness=st.floats(0, 1), volume=st.just(1.0),
    entrainment=st.builds(Entrainment, kind=st.sampled_from(ENTRAINMENT_KINDS),
                          frequency_hz=st.floats(0.5, 40), level=st.floats(0, 1)))


def step_caused_by_change(with_change: np.ndarray, without: np.ndarray, at: int) -> float:
    """Largest sample-to-sample step, within a block of sample ``at``, of what a change added.

    The two renders share seed and script up to the change, so they are identical until it;
    their difference is the change's own effect, free of the music's own fast movement. A
    click is a jump right where the change lands; a glide makes the difference grow from zero
    (a fast brightness glide grows it to ~0.015 per sample within 20 ms, smoothly).
    """
    return largest_step(with_change - without, at - BLOCK, at + BLOCK)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=loud_states,
       script=st.lists(st.tuples(st.floats(0.5, 7.0), loud_states), min_size=1, max_size=3),
       ceiling_dbfs=st.floats(-12.0, -1.0), glide_s=st.sampled_from([0.25, 0.5, 1.0, 2.0]))
def test_loudest_settings_never_pass_the_ceiling_nor_click(tmp_path, start, script, ceiling_dbfs, glide_s):
    script = sorted(script, key=lambda item: item[0])
    ceiling = 10 ** (ceiling_dbfs / 20)
    renders = []
    for k in range(len(script) + 1):  # the script cut before each change, then whole
        sr, x, engine = render(tmp_path / f"loud{k}.wav", 8.0, start, script=script[:k],
                               ceiling_dbfs=ceiling_dbfs, glide_s=glide_s)
        assert np.abs(x).max() <= ceiling + 2 ** -23  # one 24-bit step of rounding
        assert np.abs(x[-BLOCK:]).max() == 0.0  # the fade-out ends in digital silence
        renders.append(x)
    latency = round(engine.output_latency_s * sr)
    for k, (time_s, _) in enumerate(script, start=1):
        if k < len(script) and script[k][0] - time_s < 4 * BLOCK / sr:
            continue  # the next change follows too closely to tell the two apart
        at = int(np.ceil(time_s * sr / BLOCK)) * BLOCK + latency  # the block that took the change
        assert step_caused_by_change(renders[k], renders[k - 1], at) <= CLICK_STEP, time_s


def test_click_measure_catches_a_click(tmp_path):
    sr, x, _ = render(tmp_path / "q.wav", 6.0, MusicState(intensity=1.0, volume=1.0))
    # A gain step jumps by a tenth of the signal where it lands: put it on the loudest sample
    # of the block at 4 s, so that the check does not hang on the waveform's phase at one sample.
    at = 4 * sr + int(np.abs(x[4 * sr:4 * sr + BLOCK]).max(axis=1).argmax())
    clicked = x.copy()
    clicked[at:] *= 0.9  # a gain step of 0.9 dB with no glide
    assert step_caused_by_change(x, x, at) == 0.0
    assert step_caused_by_change(clicked, x, at) > CLICK_STEP


# -- determinism -----------------------------------------------------------------------------

def test_same_seed_and_script_render_identical_bytes(tmp_path):
    start = MusicState(tempo_bpm=66, key="F", mode="lydian", entrainment=Entrainment("binaural", 8, 0.3))
    script = [(2.13, start.replace(tempo_bpm=58, intensity=0.8)), (5.0, start.replace(mode="aeolian"))]
    paths = [tmp_path / f"{name}.wav" for name in ("a", "b", "c")]
    render(paths[0], 10, start, script=script, seed=11)
    render(paths[1], 10, start, script=script, seed=11)
    render(paths[2], 10, start, script=script, seed=12)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


@pytest.mark.parametrize("wav_path, fragment", [
    ("music.aif", "wav_path 'music.aif' is not accepted; accepted: a file name ending in .wav"),
    ("/proc/music.wav", "wav_path '/proc/music.wav' cannot be written"),
])
def test_a_wav_path_that_cannot_be_written_fails_before_rendering(wav_path, fragment):
    # pyo's recorder would only log that it cannot open the file, and render to nowhere.
    from neurofeed.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError) as err:
        Engine("offline", wav_path=wav_path)
    assert fragment in str(err.value)
