"""The closed loop's parts, in process: a scripted in-memory Source, the real estimator,
protocol and recorder, the real engine on its manual backend, real LSL outlets and inlet."""

from __future__ import annotations

import csv
import math
import shutil
import uuid
import wave

import numpy as np
import pytest
from _scripted_source import ScriptedSource, run_scripted
from pylsl import local_clock

from neurofeed.bands import Features
from neurofeed.cli._status import format_status
from neurofeed.errors import InvalidArgumentError, StorageError
from neurofeed.export import GAP_THRESHOLD_S
from neurofeed.loop import MIN_BASELINE_WINDOWS, BaselineCalibrator, ClosedLoop, check_baseline, lsl_channels
from neurofeed.loop.clock import SessionClock
from neurofeed.loop.quality import LOST_AFTER_S
from neurofeed.protocol import Protocol, fit_phases, load_preset
from neurofeed.recorder import SessionRecorder
from neurofeed.registry import FEATURES, FEEDBACK

SFREQ = 250.0
CHANNELS = ["Fz", "F3", "F4", "Cz", "Pz", "O1", "Oz", "O2"]
POSTERIOR = [CHANNELS.index(name) for name in ("Pz", "O1", "Oz", "O2")]
START = 1000.0


def eeg(seconds: float, seed: int = 0) -> np.ndarray:
    """Clean EEG-like data in volts: white noise, and 10 Hz alpha of varying size behind."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    data = rng.normal(scale=5e-6, size=(len(CHANNELS), t.size))
    data[POSTERIOR] += (8e-6 + 4e-6 * np.sin(2 * np.pi * t / 7)) * np.sin(2 * np.pi * 10 * t)
    return data


def run_loop(tmp_path, source, *, duration_s, baseline_s, engine=None, outlets=None,
             on_hop=None, baseline=None, flush_interval_s=0.25):
    """Run one relax-alpha session through ClosedLoop; return (result, loop, folder)."""
    preset = fit_phases(load_preset("relax-alpha"), duration_s, baseline_s)
    folder = tmp_path / f"session-{uuid.uuid4().hex[:6]}"
    result, loop = run_scripted(folder, source, preset, baseline=baseline,
                                flush_interval_s=flush_interval_s, engine=engine,
                                outlets=outlets, on_hop=on_hop)
    return result, loop, folder


def table(path) -> dict[str, list[str]]:
    """A TSV as columns of strings."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file, delimiter="\t"))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}


def numbers(column: list[str]) -> np.ndarray:
    return np.array([math.nan if cell == "n/a" else float(cell) for cell in column])


def markers(result) -> dict[str, float]:
    """The onset of each marker by its description (the first, where repeated)."""
    onsets = {}
    for onset, _, text in result.markers:
        onsets.setdefault(text, onset)
    return onsets


# -- the clock ---------------------------------------------------------------------------
def test_the_clock_counts_eeg_time_except_live_and_ends_on_the_phases_total():
    virtual = SessionClock("max", 0.1, total_s=30.0, duration_s=30.0 - 1e-9)
    assert virtual.virtual and virtual.eeg_time
    assert virtual.duration_s == 30.0  # a hair short of the total is the total
    assert virtual.session_time(12.5, lsl_now=1e6) == (12.5, False)
    assert virtual.session_time(30.2, lsl_now=0.0) == (30.0, True)
    virtual.wait_for_next_hop()  # returns at once
    live = SessionClock(1.0, 0.1, total_s=30.0, duration_s=10.0)
    assert not live.virtual and not live.eeg_time and live.duration_s == 10.0
    live.start()
    time_s, last = live.session_time(999.0, lsl_now=local_clock() + 4.0)  # wall time, not EEG
    assert 4.0 <= time_s < 5.0 and not last
    assert SessionClock(8.0, 0.1, 30.0).eeg_time
    with pytest.raises(InvalidArgumentError, match="speed"):
        SessionClock(0, 0.1, 30.0)


# -- the calibrator ----------------------------------------------------------------------
def test_the_calibrator_waits_for_enough_values_with_spread_then_calibrates():
    calibrator = BaselineCalibrator("alpha_v2", {"sfreq": SFREQ}, "T01", smoothing_s=2.0)
    times = iter(np.arange(100) * 0.1)
    for i in range(MIN_BASELINE_WINDOWS - 2):
        assert calibrator.add(Features(alpha_v2=1e-11 * (1 + i % 3)), "baseline", next(times)) is None
    assert calibrator.normalise(Features(alpha_v2=1e-11)) is None
    assert calibrator.feedback_z(Features(alpha_v2=1e-11)) is None
    # The running means of the windows so far (what an iso preset's music follows).
    assert calibrator.running_means() == {"alpha_posterior_v2": pytest.approx(1.9444e-11, rel=1e-3)}
    # The phase is over with 18 values: said once, and the windows are still collected.
    assert calibrator.add(Features(alpha_v2=2e-11), "training", next(times)) == "baseline:insufficient"
    assert calibrator.add(Features(), "training", next(times)) is None  # no value: still 19
    assert calibrator.add(Features(alpha_v2=3e-11), "training", next(times)) is None  # 20 now
    assert calibrator.add(Features(), "training", next(times)) == "baseline:calibrated"
    stats = calibrator.baseline.stats["alpha_v2"]
    assert stats.n == MIN_BASELINE_WINDOWS
    assert calibrator.baseline.condition == "session baseline"
    assert calibrator.baseline.settings == {"sfreq": SFREQ}
    z = calibrator.normalise(Features(alpha_v2=3e-11))
    assert z["alpha_v2"] == pytest.approx((3e-11 - stats.mean) / stats.std)
    # The feedback is on a log scale (a power), in spreads of the smoothed baseline: 2 s of
    # windows is too short to measure those, so the model of a stored baseline gives them.
    scale = calibrator.scale
    assert scale.log and scale.center == pytest.approx(np.log(2e-11), abs=0.1)
    assert calibrator.feedback_z(Features(alpha_v2=3e-11)) == pytest.approx(
        (np.log(3e-11) - scale.center) / scale.spread)
    assert calibrator.add(Features(alpha_v2=1.0), "training", next(times)) is None  # calibrated: kept


def test_the_calibrator_refuses_values_without_spread():
    calibrator = BaselineCalibrator("theta_v2", {}, "T01")
    for i in range(50):
        calibrator.add(Features(theta_v2=0.5), "baseline", i * 0.1)
    with pytest.raises(InvalidArgumentError, match="the baseline has 50 windows with theta_v2"):
        calibrator.finish()
    assert calibrator.add(Features(theta_v2=0.5), "training", 5.0) == "baseline:insufficient"
    calibrator.add(Features(theta_v2=0.25), "training", 5.1)
    assert calibrator.finish().condition == "calibration"  # a baseline-only session's
    check_baseline(calibrator.baseline, "theta_v2")
    with pytest.raises(InvalidArgumentError, match="0 windows with faa; at least 20"):
        check_baseline(calibrator.baseline, "faa")
    with pytest.raises(InvalidArgumentError, match="feedback must be a feature key"):
        BaselineCalibrator("alpha_posterior", {}, "T01")


# -- the loop: gaps ----------------------------------------------------------------------
def test_a_timestamp_jump_resets_the_estimator_and_no_window_spans_it(tmp_path):
    data = eeg(20.0)
    times = START + np.arange(data.shape[1]) / SFREQ
    long_at, short_at = int(6 * SFREQ), int(13 * SFREQ)
    times[long_at:] += 1.0  # a gap well over the threshold
    times[short_at:] += GAP_THRESHOLD_S / 2  # one under it: not a gap
    source = ScriptedSource(data, CHANNELS, timestamps=times)
    result, loop, folder = run_loop(tmp_path, source, duration_s=20.0, baseline_s=4.0)
    assert result.ended == "done" and result.duration_s == 20.0
    n_window = loop.state.extractor.welch.n_window
    lsl = numbers(table(folder / "features.tsv")["lsl_time_s"])
    # Windows run up to the gap; the first after it is a whole window after it ...
    before, after = lsl[lsl < times[long_at]], lsl[lsl >= times[long_at]]
    assert before[-1] == times[long_at - 1]
    assert after[0] == times[long_at + n_window - 1]
    # ... and none after it starts before it.
    assert np.all(after - (n_window - 1) / SFREQ >= times[long_at] - 1e-9)
    # The short jump resets nothing: windows keep coming every hop across it.
    across = lsl[(lsl > times[short_at] - 1) & (lsl < times[short_at] + 1)]
    assert np.all(np.diff(across) < 0.1 + GAP_THRESHOLD_S)
    assert len(across) == pytest.approx(20, abs=1)


# -- the loop: audio ---------------------------------------------------------------------
def test_audio_lost_mid_session_is_marked_and_the_session_goes_on(tmp_path):
    from neurofeed.synth import Engine

    source = ScriptedSource(eeg(12.0), CHANNELS)
    statuses = []
    wav = tmp_path / "music.wav"
    with Engine("manual", seed=3, wav_path=wav) as engine:
        def on_hop(status):
            statuses.append(status)
            if len(statuses) == 50:
                engine.stop()  # the server stops under the loop: the next apply fails for real

        result, loop, folder = run_loop(tmp_path, source, duration_s=12.0, baseline_s=4.0,
                                        engine=engine, on_hop=on_hop)
    assert result.audio_lost and loop.engine is None
    lost_at = markers(result)["audio:lost"]
    # Marked at the newest sample of the hop after the stop (hop 51: 5.1 s of EEG).
    assert lost_at == pytest.approx(START + 5.1 - 1 / SFREQ)
    assert [s.audio for s in statuses[:50]] == ["on"] * 50
    assert {s.audio for s in statuses[50:]} == {"lost"}
    assert "AUDIO LOST" in format_status(statuses[-1])
    music = table(folder / "music.tsv")
    assert len(music["time_s"]) == result.n_hops == 120  # the session ran to its end
    # The audio ended with the stop: 5 s in lockstep, plus the fade-out.
    with wave.open(str(wav)) as file:
        assert 5.0 < file.getnframes() / file.getframerate() < 5.0 + 3.5
    # Every hop told the source the music (a simulated listener follows it).
    assert len(source.heard) == result.n_hops
    assert source.heard[-1].tempo_bpm == float(music["tempo_bpm"][-1])


# -- the loop: baseline ------------------------------------------------------------------
def test_an_all_artifact_baseline_is_marked_and_calibrated_later(tmp_path):
    data = eeg(20.0)
    data[:, :int(7 * SFREQ)] = 0.0  # electrodes off through the 5 s baseline, and 2 s more
    result, loop, folder = run_loop(tmp_path, ScriptedSource(data, CHANNELS),
                                    duration_s=20.0, baseline_s=5.0)
    onsets = markers(result)
    # Insufficient at the first window after the baseline phase; calibrated once 20 windows
    # with alpha have come in (the first a 2 s window after the electrodes came on).
    assert onsets["baseline:insufficient"] == pytest.approx(START + 5.0, abs=0.11)
    first_good = START + 7.0 + 0.1
    assert onsets["baseline:calibrated"] == pytest.approx(first_good + MIN_BASELINE_WINDOWS * 0.1,
                                                         abs=0.25)
    assert [m[2] for m in result.markers].count("baseline:insufficient") == 1
    assert result.baseline is loop.state.calibrator.baseline
    assert result.baseline.stats["alpha_v2"].n >= MIN_BASELINE_WINDOWS
    features = table(folder / "features.tsv")
    lsl, z = numbers(features["lsl_time_s"]), numbers(features["alpha_posterior_z"])
    assert np.isnan(z[lsl < onsets["baseline:calibrated"]]).all()
    assert np.isfinite(z[lsl >= onsets["baseline:calibrated"]]).all()


def test_a_stored_baseline_is_used_from_the_first_window(tmp_path):
    _, first, _ = run_loop(tmp_path, ScriptedSource(eeg(12.0), CHANNELS), duration_s=12.0,
                           baseline_s=6.0)
    baseline = first.finish_baseline()
    result, _, folder = run_loop(tmp_path, ScriptedSource(eeg(8.0, seed=1), CHANNELS),
                                 duration_s=8.0, baseline_s=0.0, baseline=baseline)
    assert result.baseline is baseline
    assert not any(text.startswith("baseline:") for _, _, text in result.markers)
    assert np.isfinite(numbers(table(folder / "features.tsv")["alpha_posterior_z"])).all()


# -- the loop: LSL -----------------------------------------------------------------------
def test_lsl_out_channels_are_the_registrys_and_carry_the_recorded_values(tmp_path):
    from pylsl import StreamInlet, resolve_byprop

    from neurofeed.publish import SessionOutlets

    channels = lsl_channels()
    labels = [label for label, _ in channels]
    assert labels[:len(FEATURES)] == [f.column for f in FEATURES]
    assert labels[len(FEATURES):len(FEATURES) + len(FEEDBACK)] == [f.z_column for f in FEEDBACK.values()]
    assert labels[-10:] == ["feedback_z", "score", "reward", "music_score", "tempo_bpm", "intensity",
                            "brightness", "entrainment_hz", "entrainment_level", "volume"]
    name = f"nf-unit-{uuid.uuid4().hex[:8]}"
    with SessionOutlets(name, channels, 10.0) as outlets:
        found = resolve_byprop("name", f"{name}-features", timeout=10.0)
        assert found, "the feature stream was not found on this machine"
        inlet = StreamInlet(found[0], max_buflen=60)
        inlet.open_stream(timeout=10.0)
        desc = inlet.info(timeout=10.0).desc().child("channels").child("channel")
        published = []
        while not desc.empty():
            published.append((desc.child_value("label"), desc.child_value("unit")))
            desc = desc.next_sibling()
        assert published == channels
        result, _, folder = run_loop(tmp_path, ScriptedSource(eeg(8.0), CHANNELS), duration_s=8.0,
                                     baseline_s=3.0, outlets=outlets)
        values, stamps = [], []
        while len(values) < result.n_hops:
            chunk, times = inlet.pull_chunk(timeout=5.0, max_samples=result.n_hops - len(values))
            assert chunk, f"{len(values)} of {result.n_hops} samples arrived"
            values += chunk
            stamps += times
        inlet.close_stream()
    values, stamps = np.array(values, dtype=np.float32), np.array(stamps)
    features, music = table(folder / "features.tsv"), table(folder / "music.tsv")
    # A sample per hop, at the newest window's time; one per window matches features.tsv.
    assert len(values) == len(music["time_s"])
    rows = {float(t): i for i, t in enumerate(features["lsl_time_s"])}
    matched = [(rows[t], j) for j, t in enumerate(stamps) if t in rows]
    assert len(matched) == len(features["lsl_time_s"]) > 40
    hop_of_row = {float(t): j for j, t in enumerate(music["time_s"])}
    for row, j in matched:
        for k, label in enumerate(labels):
            cell = (features[label][row] if label in features
                    else music[label][hop_of_row[float(features["time_s"][row])]])
            expected = np.float32(math.nan if cell == "n/a" else float(cell))
            np.testing.assert_equal(values[j, k], expected, err_msg=label)
    phase_training = [text for _, _, text in result.markers if text == "phase:training"]
    assert phase_training


# -- signal quality and a lost signal ----------------------------------------------------
def test_channel_quality_is_good_poor_or_bad_and_shown_on_the_status_line(tmp_path):
    data = eeg(10.0)
    data[CHANNELS.index("O1")] = 0.0  # flat: a lost contact
    data[CHANNELS.index("Cz")] = np.random.default_rng(5).normal(scale=200e-6, size=data.shape[1])
    burst = slice(int(3.9 * SFREQ), int(4.1 * SFREQ))  # one short movement on F3
    data[CHANNELS.index("F3"), burst] += 1e-3 * np.sin(2 * np.pi * 10 * np.arange(burst.stop - burst.start)
                                                       / SFREQ)
    data[CHANNELS.index("F4"), -int(0.3 * SFREQ):] = np.nan  # the last 0.3 s non-finite
    statuses = []
    source = ScriptedSource(data, CHANNELS, signal="scripted test signal")
    result, _, _ = run_loop(tmp_path, source, duration_s=10.0, baseline_s=3.0,
                            on_hop=statuses.append)
    assert statuses[0].quality is None  # before the first window
    quality = statuses[-1].quality
    levels = dict(zip(quality.ch_names, quality.levels, strict=True))
    # Flagged in more than half of the last 5 s (Cz), or flat or non-finite now (O1, F4).
    assert levels == {"Fz": "good", "F3": "poor", "F4": "bad", "Cz": "bad", "Pz": "good",
                      "O1": "bad", "Oz": "good", "O2": "good"}
    # F4's NaN appeared only in the last windows: poor by share, bad because it is now.
    assert statuses[-5].quality.levels[CHANNELS.index("F4")] == "good"
    line = format_status(statuses[-1])
    assert "quality 4 good 1 poor 3 bad (F4, Cz, O1)" in line
    assert line.endswith("[scripted test signal]")
    assert "NO USABLE EEG" not in line and not result.signal_lost_s


def test_a_dead_headset_is_marked_lost_counted_and_restored(tmp_path):
    data = eeg(40.0)
    data[:, int(8 * SFREQ):int(25 * SFREQ)] = 0.0  # every contact lost for 17 s
    statuses = []
    result, _, folder = run_loop(tmp_path, ScriptedSource(data, CHANNELS), duration_s=40.0,
                                 baseline_s=4.0, on_hop=statuses.append)
    onsets = markers(result)
    # Lost from the first window that reads flat: one ending a little before 10 s, as the
    # taper weighs the first tenths of a window little; 10 s of such windows later it is
    # marked, at that first one.
    assert 8.0 + 1.5 < onsets["signal:lost"] - START <= 10.0
    # Back with the first window holding enough EEG again.
    assert 25.0 < onsets["signal:restored"] - START < 25.5
    assert result.signal_lost_s == pytest.approx(onsets["signal:restored"] - onsets["signal:lost"])
    by_time = {round(s.time_s, 1): s for s in statuses}
    assert not by_time[19.5].signal_lost  # 9.5 s unusable: not yet
    assert by_time[20.5].signal_lost and "NO USABLE EEG" in format_status(by_time[20.5])
    assert format_status(by_time[20.5]).startswith("NO USABLE EEG | ")
    assert not by_time[26.0].signal_lost
    written = table(folder / "markers.tsv")
    assert {"signal:lost", "signal:restored"} <= set(written["description"])
    # Lost to the end: counted up to the last window.
    data[:, int(25 * SFREQ):] = 0.0
    result, _, _ = run_loop(tmp_path, ScriptedSource(data, CHANNELS), duration_s=40.0,
                            baseline_s=4.0)
    assert "signal:restored" not in markers(result)
    assert result.signal_lost_s == pytest.approx(40.0 - (markers(result)["signal:lost"] - START),
                                                 abs=0.15)
    assert result.signal_lost_s > LOST_AFTER_S


# -- how a loop ends ---------------------------------------------------------------------
def test_ctrl_c_ends_the_loop_as_interrupted(tmp_path):
    def on_hop(status):
        if status.time_s >= 3.0 - 1e-9:
            raise KeyboardInterrupt  # what SIGINT, SIGTERM and SIGHUP raise

    result, _, folder = run_loop(tmp_path, ScriptedSource(eeg(10.0), CHANNELS), duration_s=10.0,
                                 baseline_s=2.0, on_hop=on_hop)
    assert result.ended == "interrupted" and result.n_hops == 30
    assert len(table(folder / "music.tsv")["time_s"]) == 30


def test_a_storage_failure_propagates_to_the_session(tmp_path):
    folder_of = {}

    def on_hop(status):
        if status.time_s >= 3.0 - 1e-9 and "gone" not in folder_of:
            folder_of["gone"] = True
            shutil.rmtree(folder_of["folder"])  # the folder removed under the session

    source = ScriptedSource(eeg(10.0), CHANNELS)
    preset = fit_phases(load_preset("relax-alpha"), 10.0, 2.0)
    folder_of["folder"] = tmp_path / "session"
    with source, SessionRecorder(folder_of["folder"], source.info, {}, flush_interval_s=1e-3) as recorder:
        loop = ClosedLoop(source, Protocol(preset), recorder, on_hop=on_hop)
        with pytest.raises(StorageError, match="removed"):
            loop.run()
    assert source.position < source.data.shape[1]  # it stopped there, not at the end


def test_a_simulated_listener_is_said_on_the_status_line_and_gives_usable_eeg(tmp_path):
    from neurofeed.acquire import SimulatedListener

    statuses = []
    source = SimulatedListener(seed=2, speed="max")
    result, _, _ = run_loop(tmp_path, source, duration_s=20.0, baseline_s=6.0,
                            on_hop=statuses.append)
    assert result.ended == "done" and not result.signal_lost_s
    assert result.baseline is not None
    # Its blinks make some artifact windows (broadband power over 3 times the baseline's):
    # every other window gives an estimate.
    assert result.n_estimates + result.n_artifact_windows > 0.9 * result.n_windows
    assert 0 < result.n_artifact_windows < 0.2 * result.n_windows
    line = format_status(statuses[-1])
    assert line.endswith(f"[{source.description['signal']}]")
    assert "simulated listener" in line and "NO USABLE EEG" not in line
    assert statuses[-1].quality.count("good") >= 12  # blinks may mark Fp1/Fp2
