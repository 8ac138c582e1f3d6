"""The first note: iso-lift starts matched with a stored baseline, follows the match through
an in-session baseline into training, and every preset starts at its starting tempo.

The real loop runs on the scripted in-memory source (recordings read with MNE, or a
synthetic stationary signal) on the virtual clock; music.tsv is read back.
"""

from __future__ import annotations

import numpy as np
import pytest
from _scripted_source import MONTAGE, ScriptedSource, read_s001, run_scripted, stationary_eeg

from neurofeed.bands import Baseline
from neurofeed.folder import read_table
from neurofeed.protocol import Protocol, fit_phases, list_presets, load_preset


def matched_tempo(baseline: Baseline) -> float:
    """iso-lift's matched start tempo for a baseline, from the preset's own numbers: the
    baseline's beta/alpha ratio placed within [iso].arousal_ratio picks the tempo within
    [music].tempo_bpm."""
    preset = load_preset("iso-lift")
    low, high = preset.iso.arousal_ratio
    where = np.clip((baseline.stats["beta_alpha_ratio"].mean - low) / (high - low), 0, 1)
    first, last = preset.music.tempo_bpm
    return first + (last - first) * where


def s001_source(shared_eeg, seconds: float | None = None) -> ScriptedSource:
    raw = read_s001(shared_eeg)
    if seconds is not None:
        raw.crop(0, seconds)
    return ScriptedSource.from_raw(raw)


def calm_source(seconds: float) -> ScriptedSource:
    """A calm listener: strong alpha, little beta (a low beta/alpha ratio)."""
    return ScriptedSource(stationary_eeg(seconds, alpha_uv=16.0, beta_uv=0.5, seed=3), MONTAGE)


def stored_baseline(tmp_path, source) -> Baseline:
    """A baseline as ``neurofeed calibrate`` stores it: a baseline-only session, saved and
    read back."""
    seconds = source.data.shape[1] / source.info["sfreq"]
    preset = fit_phases(load_preset("relax-alpha"), seconds, seconds)
    _, loop = run_scripted(tmp_path / "calibrate", source, preset)
    return Baseline.load(loop.finish_baseline().save(tmp_path / "baseline.json"))


@pytest.mark.parametrize("recording", ["S001R01", "synthetic calm"])
def test_a_stored_baseline_starts_iso_lift_matched_from_the_first_hop(tmp_path, shared_eeg,
                                                                      recording):
    def source():
        return s001_source(shared_eeg, 30.0) if recording == "S001R01" else calm_source(30.0)

    baseline = stored_baseline(tmp_path, source())
    preset = fit_phases(load_preset("iso-lift"), 20.0, 0.0)
    run_scripted(tmp_path / "session", source(), preset, baseline=baseline)
    music = read_table(tmp_path / "session" / "music.tsv")
    start = matched_tempo(baseline)
    assert music["tempo_bpm"][0] == pytest.approx(start, abs=1.0)
    # And it stays there until the first window (2 s in) and the feedback decide the glide.
    first_window = read_table(tmp_path / "session" / "features.tsv")["time_s"][0]
    assert (music["tempo_bpm"][music["time_s"] < first_window] == music["tempo_bpm"][0]).all()
    # Not the middle of the range, which every session used to start from.
    assert abs(start - np.mean(preset.music.tempo_bpm)) > 5.0
    if recording == "synthetic calm":
        assert start == pytest.approx(min(preset.music.tempo_bpm), abs=2.0)


def test_an_in_session_baseline_trains_from_where_the_music_already_is(tmp_path, shared_eeg):
    preset = fit_phases(load_preset("iso-lift"), 61.0, 40.0)
    result, _ = run_scripted(tmp_path / "session", s001_source(shared_eeg), preset)
    music = read_table(tmp_path / "session" / "music.tsv")
    t, tempo = music["time_s"], music["tempo_bpm"]
    start = matched_tempo(result.baseline)
    assert abs(start - np.mean(preset.music.tempo_bpm)) > 5.0  # a match away from the middle
    # The baseline phase's music follows the running match, so at the phase change the music
    # is already there: no step, and the glide runs on from it.
    around = (t > 40.0 - 2.0) & (t < 40.0 + 2.0)
    assert np.abs(tempo[around] - start).max() <= 2.0
    assert np.abs(np.diff(tempo[around])).max() <= 2.0
    assert tempo[0] == pytest.approx(np.mean(preset.music.tempo_bpm))  # no match yet at 0 s


@pytest.mark.parametrize("name", sorted(list_presets()))
def test_every_preset_plays_its_starting_tempo_from_the_first_hop(tmp_path, name):
    preset = fit_phases(load_preset(name), 12.0, 6.0)
    run_scripted(tmp_path / name, ScriptedSource(stationary_eeg(12.0), MONTAGE), preset)
    music = read_table(tmp_path / name / "music.tsv")
    # A feedback preset's rest state (z = 0); iso-lift's range middle until a match is measured.
    protocol = Protocol(preset)
    assert music["tempo_bpm"][0] == pytest.approx(protocol.first_state().tempo_bpm)
    expected = (np.mean(preset.music.tempo_bpm) if preset.iso is not None
                else protocol.rest_values()["tempo_bpm"])
    assert music["tempo_bpm"][0] == pytest.approx(expected)
    if preset.iso is None:  # and it stays there through the baseline phase
        assert (music["tempo_bpm"][music["time_s"] < 6.0] == music["tempo_bpm"][0]).all()
