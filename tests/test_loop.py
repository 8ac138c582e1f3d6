"""The closed loop end to end: replays of constructed and real recordings, run as a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import mne
import numpy as np
import pytest
from _cli import assert_one_line_error, run_cli

from neurofeed.folder import read_table
from neurofeed.synth.score import MUSIC_CHANGES

SFREQ = 250.0
CHANNELS = ["Fz", "F3", "F4", "Cz", "Pz", "O1", "Oz", "O2"]


def write_alpha_step(path: Path, *, seconds: float = 80.0, step_at: float = 40.0,
                     rising: bool = True, seed: int = 0) -> Path:
    """A recording whose posterior 10 Hz alpha jumps 3x in amplitude at ``step_at`` (or drops)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    t = np.arange(n) / SFREQ
    data = rng.normal(scale=5e-6, size=(len(CHANNELS), n))
    low, high = (4e-6, 12e-6) if rising else (12e-6, 4e-6)
    alpha_amp = np.where(t < step_at, low, high)
    for i, name in enumerate(CHANNELS):
        if name in ("Pz", "O1", "Oz", "O2"):
            data[i] += alpha_amp * np.sin(2 * np.pi * 10.0 * t + i)
    raw = mne.io.RawArray(data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose="error")
    raw.save(path, verbose="error")
    return path


def session_dir(out: Path, label: str = "") -> Path:
    """The one session folder in ``out`` whose name ends with ``label``."""
    folders = [p for p in out.iterdir() if p.is_dir() and p.name.startswith("sub-")
               and p.name.endswith(label)]
    assert len(folders) == 1, folders
    return folders[0]


def replay(file: Path, out: Path, *args: str) -> Path:
    result = run_cli("replay", str(file), "--out", str(out), "--no-status", *args, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return session_dir(out)


def test_replay_writes_a_finalised_session(tmp_path):
    recording = write_alpha_step(tmp_path / "step_raw.fif", seconds=40, step_at=25)
    folder = replay(recording, tmp_path / "out", "--preset", "relax-alpha", "--baseline", "15s",
                    "--audio", "none", "--subject", "S01")
    meta = json.loads((folder / "session.json").read_text())
    assert meta["status"] == "finalised" and meta["subject"] == "S01"
    assert meta["preset"] == "relax-alpha" and meta["clock"] == "virtual"
    assert meta["ended"] == "source finished"
    assert meta["versions"]["mne"] == mne.__version__
    # On the virtual clock sample times are synthetic: latencies are n/a, work times are not.
    assert meta["latency"] == {}
    latency = read_table(folder / "latency.tsv")
    assert np.isnan(latency["sample_to_estimate_s"]).all()
    assert np.all(latency["hop_work_s"] >= latency["estimator_work_s"])
    assert np.all(latency["estimator_work_s"] > 0)
    assert meta["summary"]["phases"] and "headline" in meta["summary"]
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", preload=True, verbose="error")
    original = mne.io.read_raw_fif(recording, preload=True, verbose="error")
    np.testing.assert_allclose(raw.get_data(), original.get_data(), rtol=1e-6, atol=1e-12)
    assert "phase:baseline" in raw.annotations.description
    assert "phase:training" in raw.annotations.description
    training_onset = raw.annotations.onset[list(raw.annotations.description).index("phase:training")]
    assert training_onset == pytest.approx(15.0, abs=0.11)
    features = read_table(folder / "features.tsv")
    music = read_table(folder / "music.tsv")
    # One music row per hop, one features row per window (the first after the 2 s window fills).
    assert music["time_s"].size == pytest.approx(400, abs=2)
    assert features["time_s"].size == pytest.approx(400 - 19, abs=2)
    assert set(features["phase"]) == {"baseline", "training"}
    assert np.all(np.isnan(features["alpha_posterior_z"][np.array(features["phase"]) == "baseline"]))
    assert (folder / "baseline.json").exists()


def test_relax_alpha_follows_an_alpha_step_up_and_down(tmp_path):
    preset_args = ("--preset", "relax-alpha", "--baseline", "20s", "--audio", "none")
    up = replay(write_alpha_step(tmp_path / "up_raw.fif"), tmp_path / "up", *preset_args)
    down = replay(write_alpha_step(tmp_path / "down_raw.fif", rising=False), tmp_path / "down",
                  *preset_args)
    for folder, rising in ((up, True), (down, False)):
        f = read_table(folder / "features.tsv")
        m = read_table(folder / "music.tsv")
        t, reward, z = f["time_s"], f["reward"], f["feedback_z"]
        # Before the step the EEG is like the baseline: its feedback z (in spreads of the
        # smoothed baseline) is about 0, and reward comes by chance (about 30% of the time
        # on average, anywhere from 0 to 90% over 10 s after a 20 s baseline); after it,
        # window (2 s) + hop (0.1 s) + smoothing later, the reward's response is complete; the
        # music follows the trend (the presets' 30 s [musical_time] smoothing) and is within a
        # few percent of its end 40 s after the step.
        before = (t > 30) & (t < 40)
        after = t > 50
        assert abs(np.nanmean(z[before])) < 2.0
        tempo = dict(zip(m["time_s"].round(1), m["tempo_bpm"]))
        brightness = dict(zip(m["time_s"].round(1), m["brightness"]))
        if rising:
            assert reward[after].mean() == 1.0 and np.nanmin(z[after]) > 4.0
            first = t[(t > 40) & (reward == 1)][0]
            assert first - 40 < 2.0 + 0.1 + 2 * 2.0  # window + hop + two smoothing constants
            assert tempo[79.9] == pytest.approx(60.0, abs=0.5) and tempo[39.9] > 64.0
            assert brightness[79.9] == pytest.approx(0.75, abs=0.03) and brightness[39.9] < 0.6
        else:
            assert reward[after].mean() == 0.0 and np.nanmax(z[after]) < -4.0
            assert tempo[79.9] == pytest.approx(70.0, abs=0.5) and tempo[39.9] < 68.0
            assert brightness[79.9] == pytest.approx(0.3, abs=0.03) and brightness[39.9] > 0.35


def test_replay_is_deterministic(tmp_path):
    recording = write_alpha_step(tmp_path / "det_raw.fif", seconds=30, step_at=18)
    args = ("--preset", "deep-theta", "--baseline", "10s", "--seed", "7")
    first = replay(recording, tmp_path / "a", *args, "--wav", str(tmp_path / "a.wav"))
    second = replay(recording, tmp_path / "b", *args, "--wav", str(tmp_path / "b.wav"))
    assert (first / "music.tsv").read_bytes() == (second / "music.tsv").read_bytes()
    f1, f2 = read_table(first / "features.tsv"), read_table(second / "features.tsv")
    for column in ("time_s", "alpha_posterior_v2", "theta_frontal_z", "score", "reward"):
        np.testing.assert_array_equal(f1[column], f2[column])
    a, b = (tmp_path / "a.wav").read_bytes(), (tmp_path / "b.wav").read_bytes()
    assert len(a) > 30 * 44100 and a == b
    assert (first / "score.mid").read_bytes() == (second / "score.mid").read_bytes()
    # The MIDI score is the score tables, fade-out included: every note, none twice.
    notes = read_table(first / "score.tsv")
    midi = mido.MidiFile(first / "score.mid")
    note_ons = [m.note for track in midi.tracks for m in track if m.type == "note_on" and m.velocity]
    assert len(note_ons) == notes["pitch"].size > 30
    assert sorted(note_ons) == sorted(notes["pitch"].astype(int))
    assert notes["time_s"].max() > read_table(first / "music.tsv")["time_s"].max()
    changes = read_table(first / "score_changes.tsv")
    assert "beat_tempo_bpm" in changes["name"] and "chord" in changes["name"]
    # A change is named as music.tsv names the field (one spelling: entrainment_hz), and
    # the MIDI text events carry the same names.
    music_fields = set(read_table(first / "music.tsv")) - {"time_s"}
    assert set(changes["name"]) <= music_fields | set(MUSIC_CHANGES)
    hz = [float(v) for name, v in zip(changes["name"], changes["value"], strict=True)
          if name == "entrainment_hz"]
    assert hz and hz[0] == 6.0  # deep-theta's entrainment
    texts = [m.text for track in midi.tracks for m in track if m.type == "text"]
    assert "entrainment_hz=6" in texts
    assert not [text for text in texts if text.split("=")[0] not in music_fields]


def test_stored_baseline_from_calibrate_is_used(tmp_path):
    home = tmp_path / "home"
    recording = write_alpha_step(tmp_path / "cal_raw.fif", seconds=40, step_at=20)
    env = {"NEUROFEED_HOME": str(home)}
    cal = run_cli("calibrate", "--subject", "S07", "--file", str(recording), "--speed", "max",
                  "--duration", "15s", "--audio", "none", "--no-status", env=env)
    assert cal.returncode == 0, cal.stderr
    stored = home / "subjects" / "S07" / "baseline.json"
    assert stored.exists() and "baseline for S07 stored" in cal.stdout
    run = run_cli("replay", str(recording), "--preset", "relax-alpha", "--subject", "S07",
                  "--audio", "none", "--no-status", env=env)
    assert run.returncode == 0, run.stderr
    assert f"used the stored baseline {stored}" in run.stdout
    assert session_dir(home, "_calibrate")
    folder = session_dir(home, "_relax-alpha")
    features = read_table(folder / "features.tsv")
    assert set(features["phase"]) == {"training"}
    assert np.isfinite(features["alpha_posterior_z"]).all()
    # Asking for a baseline phase calibrates a fresh one, the stored one untouched.
    stored_bytes = stored.read_bytes()
    fresh = run_cli("replay", str(recording), "--preset", "relax-alpha", "--subject", "S07",
                    "--baseline", "10s", "--audio", "none", "--no-status", "--no-report",
                    "--out", str(tmp_path / "fresh"), env=env)
    assert fresh.returncode == 0, fresh.stderr
    assert "used the stored baseline" not in fresh.stdout
    folder = session_dir(tmp_path / "fresh")
    assert json.loads((folder / "session.json").read_text())["baseline"] == "calibrated in session"
    assert set(read_table(folder / "features.tsv")["phase"]) == {"baseline", "training"}
    assert stored.read_bytes() == stored_bytes


def test_real_recording_rewards_eyes_closed_alpha(tmp_path, shared_eeg):
    """OpenBCI sample: eyes open 0-25 s, eyes closed (alpha) 28-58 s, on channels 7-8."""
    recording = shared_eeg / "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
    env = {"NEUROFEED_HOME": str(tmp_path / "home")}
    # Its channels are EXG1..EXG8: the OpenBCI Cyton default names channels 7-8 O1 and O2,
    # the posterior region.
    region = ()
    cal = run_cli("calibrate", "--subject", "openbci", "--file", str(recording), "--speed", "max",
                  "--duration", "25s", "--audio", "none", "--no-status", *region, env=env)
    assert cal.returncode == 0, cal.stderr
    run = run_cli("replay", str(recording), "--preset", "relax-alpha", "--subject", "openbci",
                  "--audio", "none", "--no-status", "--out", str(tmp_path / "out"), *region, env=env)
    assert run.returncode == 0, run.stderr
    f = read_table(session_dir(tmp_path / "out") / "features.tsv")
    t, reward = f["time_s"], f["reward"]
    eyes_open = reward[t < 25].mean()
    eyes_closed = reward[(t >= 28) & (t < 58)].mean()
    assert eyes_closed > eyes_open + 0.2, (eyes_open, eyes_closed)


@pytest.mark.slow
def test_kill_9_mid_session_then_recover(tmp_path):
    recording = write_alpha_step(tmp_path / "long_raw.fif", seconds=60, step_at=30)
    out = tmp_path / "out"
    env = {**os.environ, "PYO_GUI_WX": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "neurofeed", "replay", str(recording),
                             "--preset", "relax-alpha", "--speed", "1", "--audio", "none",
                             "--no-status", "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(11.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    folder = session_dir(out)
    assert json.loads((folder / "session.json").read_text())["status"] == "running"
    result = run_cli("recover", str(folder))
    assert result.returncode == 0, result.stderr
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", preload=True, verbose="error")
    assert raw.times[-1] >= 9.0
    original = mne.io.read_raw_fif(recording, preload=True, verbose="error").get_data()
    np.testing.assert_allclose(raw.get_data(), original[:, :raw.n_times], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("args, fragments", [
    (["--preset", "relax-alfa"], ["unknown preset 'relax-alfa'", "did you mean relax-alpha"]),
    (["--preset", "relax-alpha", "--duration", "-5"], ["--duration '-5' is not accepted", "20m"]),
    (["--preset", "relax-alpha", "--duration", "9h"], ["--duration '9h' is not accepted"]),
    (["--preset", "relax-alpha", "--subject", "../etc"], ["--subject '../etc' is not accepted"]),
    (["--preset", "relax-alpha", "--audio", "speakers"], ["--audio", "auto, portaudio, jack, wav:PATH"]),
    (["--preset", "relax-alpha", "--speed", "0"], ["--speed must be in (0,"]),
    (["--preset", "relax-alpha", "--duration", "60", "--baseline", "90s"],
     ["--baseline 90 s must be from 0 to the session's 60 s"]),
    (["--preset", "relax-alpha", "--wav", "music.flac"],
     ["audio file 'music.flac' is not accepted", "a file name ending in .wav"]),
    (["--preset", "relax-alpha", "--audio", "wav:/proc/music.wav"],
     ["audio file '/proc/music.wav' cannot be written", "a folder you can write to"]),
])
def test_replay_bad_input(tmp_path, args, fragments):
    recording = write_alpha_step(tmp_path / "x_raw.fif", seconds=5, step_at=2)
    result = run_cli("replay", str(recording), "--out", str(tmp_path / "out"), *args)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "out").exists()


def test_bad_custom_preset_fails_before_anything_starts(tmp_path):
    preset = tmp_path / "mine.toml"
    preset.write_text((Path(__file__).parents[1] / "neurofeed" / "protocol" / "builtin"
                       / "relax-alpha.toml").read_text()
                      .replace("reward_z = 0.6", "reward_z = 50"))
    result = run_cli("run", "--board", "synthetic", "--preset", str(preset), "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "mine.toml: [feedback].reward_z = 50 is out of range", "-10 to 10")
    assert not (tmp_path / "o").exists()


def test_unusable_baseline_is_calibrated_later_from_good_windows(tmp_path):
    recording = write_alpha_step(tmp_path / "flat_raw.fif", seconds=30, step_at=40)
    raw = mne.io.read_raw_fif(recording, preload=True, verbose="error")
    raw._data[:, :int(12 * SFREQ)] = 0.0  # electrodes off for the whole 10 s baseline, and 2 s more
    raw.save(recording, overwrite=True, verbose="error")
    folder = replay(recording, tmp_path / "out", "--preset", "relax-alpha", "--baseline", "10s",
                    "--audio", "none", "--no-report")
    markers = read_table(folder / "markers.tsv")
    assert markers["description"].index("baseline:insufficient") < \
        markers["description"].index("baseline:calibrated")
    calibrated_at = markers["onset"][markers["description"].index("baseline:calibrated")]
    features = read_table(folder / "features.tsv")
    z = features["alpha_posterior_z"]
    assert np.isnan(z[features["lsl_time_s"] < calibrated_at]).all()
    assert np.isfinite(z[features["time_s"] > 20]).all()


def test_replay_at_n_times_real_time_runs_on_the_recordings_time(tmp_path):
    recording = write_alpha_step(tmp_path / "fast_raw.fif", seconds=12, step_at=6)
    folder = replay(recording, tmp_path / "out", "--preset", "relax-alpha", "--speed", "8",
                    "--baseline", "4s", "--audio", "none", "--no-report")
    meta = json.loads((folder / "session.json").read_text())
    assert meta["clock"] == "8x real time" and meta["ended"] == "source finished"
    # Session time is EEG time: 12 s of EEG is 12 s of session, however fast it went by.
    music = read_table(folder / "music.tsv")
    assert music["time_s"].max() == pytest.approx(12.0, abs=0.15)
    assert music["time_s"].size == pytest.approx(120, abs=3)
    raw = mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error")
    onsets = dict(zip(raw.annotations.description, raw.annotations.onset))
    assert onsets["phase:training"] == pytest.approx(4.0, abs=0.11)
    # Replayed sample times are synthetic: no latency is claimed.
    assert meta["latency"] == {}
    assert np.isnan(read_table(folder / "latency.tsv")["sample_to_estimate_s"]).all()


def test_calibrate_too_short_for_a_baseline_fails_and_keeps_the_recording(tmp_path):
    recording = write_alpha_step(tmp_path / "short_raw.fif", seconds=10, step_at=20)
    home = tmp_path / "home"
    result = run_cli("calibrate", "--subject", "S09", "--file", str(recording), "--speed", "max",
                     "--duration", "3s", "--audio", "none", "--no-status", env={"NEUROFEED_HOME": str(home)})
    assert_one_line_error(result, "the baseline has", "at least 20", "longer or cleaner baseline")
    assert not (home / "subjects" / "S09" / "baseline.json").exists()
    folder = session_dir(home, "_calibrate")
    assert json.loads((folder / "session.json").read_text())["status"] == "finalised"
    assert mne.io.read_raw_fif(folder / "eeg_raw.fif", verbose="error").times[-1] >= 2.9


def test_asymmetry_preset_on_a_montage_without_a_pair_fails_first(tmp_path):
    names = ["Cz", "Pz", "O1", "O2"]
    raw = mne.io.RawArray(np.random.default_rng(0).normal(scale=5e-6, size=(4, 2500)),
                          mne.create_info(names, SFREQ, "eeg"), verbose="error")
    recording = tmp_path / "noasym_raw.fif"
    raw.save(recording, verbose="error")
    result = run_cli("replay", str(recording), "--preset", "mood-asymmetry", "--audio", "none",
                     "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "preset 'mood-asymmetry' feeds back frontal alpha asymmetry",
                          "Cz, Pz, O1, O2", "F4/F3")
    assert not (tmp_path / "out").exists()
