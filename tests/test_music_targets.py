"""Every preset's music judged on its rendered audio and score, replaying real EEG.

Short replays (90 s of S001R01, resting with eyes open, looped, at --speed max) keep the
suite fast; the 20-minute renders of every preset and palette, with the same judgement
(tests/musictargets.py), run in ``make verify`` (scripts/music_verify.py).
"""

from __future__ import annotations

import musickit as kit
import musictargets as targets
import numpy as np
import pytest
from _cli import run_cli

from neurofeed.protocol import Protocol, fit_phases, generative_presets, load_preset
from neurofeed.synth.entrainment import EAR_CHECK_S

SECONDS = 90
PRESETS = sorted(generative_presets())  # a playlist's music is judged in test_playlist.py


@pytest.fixture(scope="module")
def replays(shared_eeg, tmp_path_factory):
    """Each preset replaying 90 s of real resting EEG, rendered to audio.wav: the session folders."""
    folders = {}
    for name in PRESETS:
        out = tmp_path_factory.mktemp(name)
        result = run_cli("replay", str(shared_eeg / "S001R01.edf"), "--preset", name, "--loop",
                         "--duration", f"{SECONDS}s", "--no-status", "--no-report", "--out", str(out))
        assert result.returncode == 0, result.stderr
        folders[name] = next(out.glob("sub-*"))
    return folders


@pytest.mark.parametrize("name", PRESETS)
def test_levels_and_peaks(replays, name):
    sr, x = kit.read_wav(replays[name] / "audio.wav")
    failing = [c for c in targets.level_checks(x, sr, -3.0) if not c.ok]
    assert not failing, failing


@pytest.mark.parametrize("name", PRESETS)
def test_arc_starts_where_the_first_hop_is(replays, name):
    folder = replays[name]
    score, music = kit.read_score(folder), targets.session_music(folder)
    protocol = Protocol(fit_phases(load_preset(name), SECONDS))
    first = protocol.first_state()
    assert (music["key"][0], music["mode"][0]) == (first.key, first.mode)
    assert float(music["tempo_bpm"][0]) == pytest.approx(first.tempo_bpm)
    failing = [c for c in targets.arc_checks(score, music, first) if not c.ok]
    assert not failing, failing
    # The first note sounds on the first beat, after the ear check of a binaural preset.
    binaural = load_preset(name).entrainment.kind == "binaural"
    first_note = min(n.time_s for n in score.notes)
    assert first_note == pytest.approx(EAR_CHECK_S if binaural else 0.0, abs=0.05)


@pytest.mark.parametrize("name", [n for n in PRESETS if load_preset(n).entrainment.kind != "off"])
def test_entrainment_carriers_stay_clear_of_the_music(replays, name):
    folder = replays[name]
    score, music = kit.read_score(folder), targets.session_music(folder)
    spec = load_preset(name).entrainment
    training = np.asarray(music["time_s"], float)[[p == "training" for p in music["phase"]]]
    checks = targets.carrier_checks(score, music["key"][0], spec.kind, spec.frequency_hz,
                                    training[0], training[-1])
    assert checks and not [c for c in checks if not c.ok], checks
