"""The engine on a real real-time clock: JACK's dummy driver, steered from another thread."""

from __future__ import annotations

import random
import threading
import time
import warnings

import numpy as np
import pytest
import scipy.io.wavfile
from _jack import PERIOD, SAMPLE_RATE, jack_server  # noqa: F401

from neurofeed.synth import Engine, Entrainment, MusicState
from neurofeed.synth.state import ENTRAINMENT_KINDS
from neurofeed.synth.theory import KEYS, MODES

RUN_S = 30.0
STEER_HZ = 20.0


def random_state(rng: random.Random) -> MusicState:
    return MusicState(tempo_bpm=rng.uniform(50, 90), key=rng.choice(KEYS), mode=rng.choice(MODES),
                      intensity=rng.random(), brightness=rng.random(), volume=rng.uniform(0.5, 1.0),
                      entrainment=Entrainment(rng.choice(ENTRAINMENT_KINDS), rng.uniform(2, 20),
                                              rng.random()))


def read_wav(path) -> np.ndarray:
    return scipy.io.wavfile.read(path)[1]


@pytest.mark.realtime
@pytest.mark.slow
def test_jack_keeps_pace_and_takes_changes_within_two_blocks(jack_server, tmp_path, record_property):  # noqa: F811
    start = MusicState(tempo_bpm=64, key="D", mode="dorian", entrainment=Entrainment("binaural", 6, 0.3))
    calls: list[tuple[int, MusicState]] = []  # (audio block at the call, state applied)
    rng = random.Random(5)
    engine = Engine("jack", wav_path=tmp_path / "live.wav", state=start, seed=5, fade_in_s=0.5,
                    fade_out_s=0.5)
    with engine:
        assert engine.sample_rate == SAMPLE_RATE and engine.buffer_size == PERIOD
        stop = threading.Event()

        def steer():
            due = time.monotonic()
            while not stop.is_set():
                state = random_state(rng)
                calls.append((round(engine.time_s * SAMPLE_RATE / PERIOD), state))
                engine.apply(state)
                due += 1.0 / STEER_HZ
                time.sleep(max(0.0, due - time.monotonic()))

        thread = threading.Thread(target=steer, daemon=True)
        wall_0, audio_0 = time.monotonic(), engine.time_s
        thread.start()
        engine.advance(RUN_S)
        wall_1, audio_1 = time.monotonic(), engine.time_s
        stop.set()
        thread.join()
        last_block_before_stop = round(engine.time_s * SAMPLE_RATE / PERIOD)
    xruns = engine.xruns
    record_property("xruns", xruns)
    record_property("jackd_logged_xruns", jack_server.logged_xruns())
    print(f"\nJACK dummy run: {xruns} xruns reported to the engine, "
          f"{jack_server.logged_xruns()} in jackd's log")
    if xruns:
        warnings.warn(f"{xruns} JACK xruns in {RUN_S:g} s (target 0)", stacklevel=1)

    # The sample clock kept pace with wall time, over the whole run.
    assert abs((audio_1 - audio_0) / (wall_1 - wall_0) - 1.0) < 0.01

    # Every state applied was taken at most 2 blocks after the block running at the call ...
    latency = round(engine.output_latency_s * SAMPLE_RATE)
    taken = {state: round(t * SAMPLE_RATE - latency) // PERIOD for t, state in engine.score.states}
    assert len(calls) >= RUN_S * STEER_HZ * 0.9
    lags = [taken[s.clamped()] - block for block, s in calls if s.clamped() in taken]
    assert 0 <= min(lags) and max(lags) <= 2, sorted(lags)[-5:]
    # ... and a state never heard was superseded before its turn: the next one came within
    # those 2 blocks (an xrun on a loaded machine stalls the blocks, not the calls), or it
    # was sent after the last block.
    for (block, state), (next_block, _) in zip(calls, [*calls[1:], calls[-1]]):
        if state.clamped() not in taken:
            assert next_block - block <= 2, (block, next_block)

    # The recording of what JACK played is the music at the fixed ceiling: audible, never over.
    live = read_wav(tmp_path / "live.wav").astype(np.float64) / 2.0**31
    assert len(live) >= (last_block_before_stop - 2) * PERIOD
    peak_dbfs = 20 * np.log10(np.abs(live).max())
    assert -30.0 < peak_dbfs <= -3.0 + 0.1
    assert np.sqrt(np.mean(live[SAMPLE_RATE:-SAMPLE_RATE] ** 2)) > 1e-3


def test_auto_backend_picks_a_running_jack_server(jack_server, tmp_path):  # noqa: F811
    with Engine("auto", fade_in_s=0.1, fade_out_s=0.1) as engine:
        engine.advance(0.3)
        assert engine.backend == "jack"
        assert engine.time_s >= 0.3
    from neurofeed.synth.devices import list_audio_outputs

    jack = [o for o in list_audio_outputs() if o.backend == "jack"]
    assert len(jack) == 1 and jack[0].default and jack[0].sample_rate == SAMPLE_RATE


def _first_sound(wav: np.ndarray, start: int) -> int:
    """Index of the first sample at or after ``start`` that is not digital silence."""
    return start + int(np.flatnonzero(np.any(wav[start:] != 0, axis=1))[0])


@pytest.mark.realtime
@pytest.mark.slow
def test_jack_changes_sound_within_two_blocks(jack_server, tmp_path):  # noqa: F811
    """Measured in the audio itself: a tone switched on after digital silence starts sounding
    at most 2 blocks after the block that was playing when apply() was called."""
    on = MusicState(tempo_bpm=64, entrainment=Entrainment("binaural", 6, 0.5))
    off = MusicState(tempo_bpm=64, entrainment=Entrainment("binaural", 6, 0.0))
    options = dict(voices=[], state=on, glide_s=0.25, fade_in_s=0.1, fade_out_s=0.1)
    # Where the fade-in first sounds on the manual clock: it marks block 0 in JACK's recording,
    # which may hold a few cycles from before the engine's first block.
    with Engine("manual", wav_path=tmp_path / "reference.wav", **options) as reference:
        reference.process_blocks(50)
        latency = round(reference.output_latency_s * SAMPLE_RATE)
    first_reference = _first_sound(read_wav(tmp_path / "reference.wav"), 0)
    calls = []
    with Engine("jack", wav_path=tmp_path / "live.wav", **options) as engine:
        time.sleep(0.5)
        for _ in range(10):
            engine.apply(off)
            time.sleep(0.6)  # the tone glides out in 0.25 s, then it is silent
            calls.append(round(engine.time_s * SAMPLE_RATE / PERIOD))  # the block playing now
            engine.apply(on)
            time.sleep(0.4)
    live = read_wav(tmp_path / "live.wav")
    offset = _first_sound(live, 0) - first_reference
    assert offset % PERIOD == 0 and offset >= 0, offset
    lags = []
    for block in calls:
        silent_from = offset + (block - 20) * PERIOD  # inside the silence before the switch
        assert not np.any(live[silent_from:silent_from + PERIOD])
        sounding = _first_sound(live, silent_from) - offset - latency
        lags.append(sounding // PERIOD - block)
    print(f"\nblocks from apply() to sound: {lags}")
    assert 0 <= min(lags) and max(lags) <= 2, lags
