"""Protocol presets and the pure feature-to-music mapping."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from _cli import assert_one_line_error, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from neurofeed.protocol import PresetError, Protocol, list_presets, load_preset
from neurofeed.protocol.mapping import STALE_S
from neurofeed.synth.state import MODES

HOP = 0.1


def _short(name: str, tmp_path: Path, **phases) -> Path:
    """A copy of a built-in preset with other phase durations, as a custom preset file."""
    text = load_preset(name).path.read_text()
    for key, value in phases.items():
        text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line
                         for line in text.splitlines())
    path = tmp_path / f"{name}-short.toml"
    path.write_text(text)
    return path


def _run(protocol: Protocol, z_of_time, start: float, stop: float):
    steps, t = [], start
    while t < stop - 1e-9:
        steps.append(protocol.step(t, z_of_time(t)))
        t = round(t + HOP, 9)
    return steps


def test_built_in_presets_load():
    names = set(list_presets())
    assert {"relax-alpha", "deep-theta", "iso-lift", "mood-asymmetry"} <= names
    for name in names:
        preset = load_preset(name)
        assert preset.name == name
        assert preset.phases.baseline_s == 120
    theta = load_preset("deep-theta")
    assert theta.entrainment.kind == "binaural" and theta.entrainment.frequency_hz == 6.0
    assert max(theta.music.tempo_bpm) <= 55
    relax = load_preset("relax-alpha")
    assert set(relax.music.tempo_bpm) == {60.0, 70.0}
    assert load_preset("iso-lift").iso.target_tempo_bpm == 60.0


@pytest.mark.parametrize("edit, fragments", [
    (("feature = \"alpha_posterior\"", "feature = \"alpa\""),
     ["[feedback].feature = 'alpa' is not accepted", "accepted: alpha_posterior"]),
    (("baseline_s = 120", "baseline_s = -5"), ["[phases].baseline_s = -5 is out of range", "0 to 3600"]),
    (("tempo_bpm = [70.0, 60.0]", "tempo_bpm = [70.0, 200.0]"), ["[music].tempo_bpm", "40 to 120"]),
    (("tempo_bpm = [70.0, 60.0]", "tempo_bpm = 65"), ["[music].tempo_bpm = 65", "two numbers"]),
    (("key = \"D\"", "key = \"H\""), ["[music].key", "'H'"]),
    (("kind = \"off\"", "kind = \"binaural-ish\""), ["[entrainment].kind", "off, binaural, isochronic"]),
    (("smoothing_s = 2.0", "smothing_s = 2.0"),
     ["unknown key [feedback].smothing_s", "did you mean smoothing_s"]),
    (("[limits]", "[limitz]"), ["unknown table [limitz]"]),
    (("kind = \"feedback\"", "kind = \"magic\""), ["kind = 'magic' is not accepted", "feedback, iso"]),
    (("[phases]", "[phases"), ["is not valid TOML"]),
    (("score_z = [-1.0, 10.0]", "score_z = [1.0, 1.0]"), ["[feedback].score_z = [1.0, 1.0] maps nothing",
                                                         "two different numbers"]),
    (("reward_rate = 0.3", "reward_rate = 1.5"), ["[feedback].reward_rate = 1.5 is out of range",
                                                  "0.01 to 0.99"]),
    (("reward_rate_tolerance = 0.1", "reward_rate_toleranse = 0.1"),
     ["unknown key [feedback].reward_rate_toleranse", "did you mean reward_rate_tolerance"]),
    # The stated rate is checked against the threshold that gives it.
    (("reward_z = 0.6", "reward_z = 2.0"), ["[feedback].reward_z = 2 rewards an unchanged state about 3%",
                                            "reward_rate = 0.3 ± 0.1", "reward_z near 0.62"]),
    (("name = \"relax-alpha\"", "name = \"../etc\""), ["name = '../etc'", "letters, digits"]),
    (("arousal_ratio = [0.5, 2.0]", "arousal_ratio = [2, 2]"), ["[iso].arousal_ratio = [2, 2] maps nothing"]),
    (("valence_asymmetry = [-0.2, 0.2]", "valence_asymmetry = [0, 0]"),
     ["[iso].valence_asymmetry = [0, 0] maps nothing"]),
])
def test_bad_preset_names_key_and_accepted_values(tmp_path, edit, fragments):
    text = load_preset("iso-lift" if "[iso]" in fragments[0] else "relax-alpha").path.read_text()
    assert edit[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(PresetError) as err:
        load_preset(path)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_unknown_preset_name_suggests():
    with pytest.raises(PresetError, match=r"unknown preset 'relax-alfa'; did you mean relax-alpha"):
        load_preset("relax-alfa")


def test_presets_cli_lists_and_shows():
    listed = run_cli("presets")
    assert listed.returncode == 0
    assert "relax-alpha" in listed.stdout and "iso-lift" in listed.stdout
    shown = run_cli("presets", "show", "deep-theta")
    assert shown.returncode == 0 and 'kind = "binaural"' in shown.stdout
    assert_one_line_error(run_cli("presets", "show", "nope"), "unknown preset 'nope'")


def test_phases_and_markers_of_time():
    protocol = Protocol(load_preset("relax-alpha"))
    assert [protocol.phase_at(t) for t in (0, 119.9, 120, 1019.9, 1020, 1140)] == \
        ["baseline", "baseline", "training", "training", "cooldown", "done"]


def test_baseline_plays_the_rest_music_without_reward():
    protocol = Protocol(load_preset("relax-alpha"))
    steps = _run(protocol, lambda t: 3.0, 0, 10)
    assert all(s.phase == "baseline" and not s.reward and s.feature_z is None for s in steps)
    # The music of z = 0 (score 0.224 of score_z = [-1, 10] on the ln(1 + |z|) scale): where
    # training starts.
    rest = math.log(2) / (math.log(2) + math.log(11))
    assert protocol.rest_score() == pytest.approx(rest)
    assert steps[-1].state.tempo_bpm == pytest.approx(70.0 - 10.0 * rest)
    assert steps[-1].state.mode == "mixolydian"  # valence 0.18


def test_relax_alpha_step_response_and_reversal(tmp_path):
    preset = load_preset(_short("relax-alpha", tmp_path, baseline_s=1, training_s=1200))
    protocol = Protocol(preset)
    # Below the bottom of score_z: the music settles at the slow, dark, dull end.
    low = _run(protocol, lambda t: -3.0, 0, 200)
    assert not low[-1].reward
    assert low[-1].state.tempo_bpm == pytest.approx(70.0)
    assert low[-1].state.brightness == pytest.approx(0.3)
    # Alpha steps up: reward within the smoothing time, and the music follows the trend over
    # its slower time constant: brightness rises, tempo heads to 60 BPM, the mode to Lydian.
    high = _run(protocol, lambda t: 14.0, 200, 500)
    first_reward = next(s.time_s for s in high if s.reward)
    assert first_reward - 200 <= 2 * preset.feedback.smoothing_s
    assert high[-1].state.tempo_bpm == pytest.approx(60.0)
    assert high[-1].state.brightness == pytest.approx(0.75)
    assert high[-1].state.mode == "lydian"
    # And back down.
    down = _run(protocol, lambda t: -3.0, 500, 900)
    assert not down[-1].reward
    assert down[-1].state.tempo_bpm == pytest.approx(70.0)
    assert down[-1].state.mode == "dorian"


def test_reward_hysteresis_does_not_flicker(tmp_path):
    preset = load_preset(_short("relax-alpha", tmp_path, baseline_s=0))
    protocol = Protocol(preset)
    _run(protocol, lambda t: 1.0, 0, 20)  # settle above reward_z = 0.6
    # Jitter around the threshold, inside the hysteresis band (down to 0.4): reward stays on.
    steps = _run(protocol, lambda t: 0.6 + 0.15 * math.sin(7 * t), 20, 40)
    assert all(s.reward for s in steps)


def test_no_estimate_holds_then_eases_to_the_rest_state(tmp_path):
    preset = load_preset(_short("relax-alpha", tmp_path, baseline_s=0))
    protocol = Protocol(preset)
    before = _run(protocol, lambda t: 2.0, 0, 30)[-1]
    gap = _run(protocol, lambda t: None, 30, 32)
    last_estimate = 30 - HOP
    grace = [s for s in gap if s.time_s - last_estimate <= STALE_S]
    held = [s for s in gap if s.time_s - last_estimate > STALE_S]
    # A hop that brings no new window (a late chunk) is not a dropout: feedback stays on ...
    assert len(grace) == round(STALE_S / HOP) and all(not s.held and s.reward for s in grace)
    # ... until the estimates have been missing for longer than STALE_S.
    assert all(s.held and not s.reward for s in held)
    assert held[-1].state.tempo_bpm == pytest.approx(before.state.tempo_bpm)
    eased = _run(protocol, lambda t: None, 32, 332)
    # At the rest state (z = 0) but for the music's dead band.
    rest = protocol.rest_values()["tempo_bpm"]
    assert eased[-1].state.tempo_bpm == pytest.approx(rest, abs=12.0 * preset.musical_time.deadband)
    resumed = _run(protocol, lambda t: 2.0, 60, 62)
    assert not resumed[-1].held and resumed[-1].feature_z is not None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-8, 8)), min_size=20, max_size=200),
       st.sampled_from(["relax-alpha", "deep-theta", "mood-asymmetry", "iso-lift"]))
def test_music_never_jumps(z_values, name):
    preset = load_preset(name)
    protocol = Protocol(preset)
    protocol.calibrate({"beta_alpha_ratio": 3.0, "frontal_asymmetry": -0.5})
    previous, t = None, preset.phases.baseline_s - 1
    limits = preset.limits
    for z in z_values:
        state = protocol.step(t, z).state
        if previous is not None:
            assert abs(state.tempo_bpm - previous.tempo_bpm) <= limits.tempo_bpm_per_s * HOP + 1e-9
            assert abs(state.intensity - previous.intensity) <= limits.intensity_per_s * HOP + 1e-9
            assert abs(state.brightness - previous.brightness) <= limits.brightness_per_s * HOP + 1e-9
            assert abs(MODES.index(state.mode) - MODES.index(previous.mode)) <= 1
        state.validated()
        previous, t = state, t + HOP


def test_same_inputs_same_music():
    def trace():
        protocol = Protocol(load_preset("mood-asymmetry"))
        return [protocol.step(i * HOP, math.sin(i / 30) * 2).state for i in range(3000)]
    assert trace() == trace()


def test_iso_lift_starts_matched_and_glides_only_while_following(tmp_path):
    preset = load_preset(_short("iso-lift", tmp_path, baseline_s=10, training_s=100))
    tense = Protocol(preset)
    tense.calibrate({"beta_alpha_ratio": 2.0, "frontal_asymmetry": -0.2})
    calm = Protocol(preset)
    calm.calibrate({"beta_alpha_ratio": 0.5, "frontal_asymmetry": 0.2})
    # A tense listener starts fast and dark; a calm one near the target. Calibrated before
    # its first step, the music is matched from the first hop (not the middle, 76 BPM).
    first = tense.step(0.0, None)
    assert first.state.tempo_bpm == pytest.approx(90.0) and first.state.mode == "phrygian"
    assert _run(tense, lambda t: None, 0.1, 10)[-1].state.tempo_bpm == pytest.approx(90.0)
    early_tense = _run(tense, lambda t: -3.0, 10, 40)[-1]
    early_calm = _run(calm, lambda t: -3.0, 10, 40)[-1]
    assert early_tense.state.tempo_bpm == pytest.approx(90.0)
    assert MODES.index(early_tense.state.mode) > MODES.index(early_calm.state.mode)
    # Not following (z below pause_z): the glide waits.
    assert early_tense.progress == 0.0
    # Following for the last 70 s of the 100 s training: about 70% of the way to the target
    # (less the few seconds the smoothed z takes to climb from pause_z to follow_z).
    following = _run(tense, lambda t: 1.0, 40, 110)[-1]
    assert following.progress == pytest.approx(0.67, abs=0.03)
    assert following.state.tempo_bpm == pytest.approx(90 - 30 * following.progress, abs=0.5)
    assert MODES.index(following.state.mode) < MODES.index(early_tense.state.mode)
