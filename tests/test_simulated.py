"""The simulated listener: a real Source whose alpha follows the music's calm."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pylsl import local_clock
from scipy.signal import welch

from neurofeed.acquire import SimulatedListener
from neurofeed.acquire.simulated import ALPHA_RMS_V, CALM_TIME_CONSTANT_S, DEFAULT_MONTAGE
from neurofeed.errors import InvalidArgumentError
from neurofeed.synth import MusicState

SFREQ = 250.0
POSTERIOR = ["O1", "Oz", "O2", "Pz"]
CALM = MusicState(tempo_bpm=40, intensity=0.0)
AROUSED = MusicState(tempo_bpm=120, intensity=1.0)


def record(source, seconds, state=None):
    """Read ``seconds`` of samples (at speed "max"), calling listen(state) before each read."""
    chunks, stamps = [], []
    with source:
        while source.n_samples < seconds * source.sfreq:
            if state is not None:
                source.listen(state)
            chunk = source.read()
            chunks.append(np.array(chunk.data))
            stamps.append(chunk.timestamps)
    return np.concatenate(chunks, axis=1), np.concatenate(stamps)


def band_power(data, low, high):
    freqs, psd = welch(data, SFREQ, nperseg=int(2 * SFREQ))
    return psd[:, (freqs >= low) & (freqs <= high)].sum(axis=1) * (freqs[1] - freqs[0])


def excursions(trace, threshold):
    """Onsets (samples) of the stretches above ``threshold``, merging those 0.5 s apart."""
    above = np.flatnonzero(trace > threshold)
    if not above.size:
        return above
    return above[np.concatenate(([True], np.diff(above) > 0.5 * SFREQ))]


def test_a_source_in_volts_with_increasing_timestamps_that_says_what_it_is():
    source = SimulatedListener(seed=3, speed="max")
    data, stamps = record(source, 20)
    assert source.info.ch_names == list(DEFAULT_MONTAGE) and source.sfreq == SFREQ
    assert data.shape == (16, 5000) and data.dtype == np.float64
    assert np.all(np.diff(stamps) > 0)
    np.testing.assert_allclose(np.diff(stamps), 1 / SFREQ, rtol=0, atol=1e-9)
    rms = np.sqrt(np.mean(data ** 2, axis=1))
    assert np.all((rms > 10e-6) & (rms < 40e-6)), rms  # resting EEG, in volts
    assert source.description == {
        "kind": "simulated", "signal": "simulated listener (not a person)", "seed": 3,
        "speed": "max", "sfreq": SFREQ, "n_channels": 16,
        "channels": [{"label": n, "name": n, "type": "eeg"} for n in DEFAULT_MONTAGE],
        "montage": {"name": None, "how": "the channel labels"}}
    assert repr(source) == "SimulatedListener(seed=3, 16 ch, 250 Hz)"


def test_in_real_time_it_delivers_only_samples_already_due():
    source = SimulatedListener(ch_names=["O1", "O2"])
    with source:
        first = source.read()
        time.sleep(0.3)
        now = local_clock()
        later = source.read()
    # Never ahead of the clock: read() hands out what is due and does not wait for more.
    assert first.timestamps.size <= 2
    assert later.timestamps.size > 0 and later.timestamps[-1] <= now + 1 / SFREQ
    assert later.data.shape == (2, later.timestamps.size)


def test_the_same_seed_gives_the_same_samples_however_they_are_read():
    first, _ = record(SimulatedListener(seed=7, speed="max", chunk_s=0.1), 6, CALM)
    again, _ = record(SimulatedListener(seed=7, speed="max", chunk_s=0.1), 6, CALM)
    # listen() at other samples changes alpha's path, so this one stays silent.
    split_a, _ = record(SimulatedListener(seed=7, speed="max", chunk_s=0.1), 6)
    split_b, _ = record(SimulatedListener(seed=7, speed="max", chunk_s=0.037), 6)
    other, _ = record(SimulatedListener(seed=8, speed="max"), 6, CALM)
    np.testing.assert_array_equal(first, again)
    n = min(split_a.shape[1], split_b.shape[1])
    np.testing.assert_array_equal(split_a[:, :n], split_b[:, :n])
    assert not np.allclose(first, other)


def test_posterior_alpha_rises_as_the_music_calms():
    calm, _ = record(SimulatedListener(seed=1, speed="max"), 30, CALM)
    aroused, _ = record(SimulatedListener(seed=1, speed="max"), 30, AROUSED)
    posterior = [DEFAULT_MONTAGE.index(name) for name in POSTERIOR]
    last = slice(-int(15 * SFREQ), None)  # after the approach to the new level
    calm_alpha = band_power(calm[posterior, last], 8, 12)
    aroused_alpha = band_power(aroused[posterior, last], 8, 12)
    assert np.all(calm_alpha > 4 * aroused_alpha), calm_alpha / aroused_alpha
    # Relative alpha, as the feedback features see it, rises too.
    assert np.all(calm_alpha / band_power(calm[posterior, last], 1, 40)
                  > 2 * aroused_alpha / band_power(aroused[posterior, last], 1, 40))
    # Frontal sites carry little alpha either way.
    fz = DEFAULT_MONTAGE.index("Fz")
    assert band_power(calm[[fz], last], 8, 12)[0] < 0.25 * calm_alpha.min()


def test_alpha_follows_with_a_time_constant_of_several_seconds():
    source = SimulatedListener(seed=2, speed="max")
    start = source.alpha_rms_v
    record(source, CALM_TIME_CONSTANT_S, CALM)
    # One time constant covers 1 - 1/e of the way to the calm level.
    expected = ALPHA_RMS_V[1] + (start - ALPHA_RMS_V[1]) * np.exp(-1)
    assert source.alpha_rms_v == pytest.approx(expected, rel=0.01)


def test_blinks_show_on_fp1_and_fp2_every_few_seconds():
    data, _ = record(SimulatedListener(seed=4, speed="max"), 40)
    fp1, fp2, o1 = (data[DEFAULT_MONTAGE.index(name)] for name in ("Fp1", "Fp2", "O1"))
    blinks = excursions(fp1, 70e-6)
    assert 4 <= blinks.size <= 14  # one every 3-8 s
    # The same blinks on both sides (their crossings differ by the background).
    np.testing.assert_allclose(blinks, excursions(fp2, 70e-6), rtol=0, atol=0.1 * SFREQ)
    assert 80e-6 < fp1.max() < 200e-6
    # Averaged over the blinks, Fp1 shows the blink and O1 shows none.
    window = int(0.3 * SFREQ)
    evoked = {name: np.mean([trace[onset:onset + window].mean() for onset in blinks])
              for name, trace in (("Fp1", fp1), ("O1", o1))}
    assert evoked["Fp1"] > 30e-6 and abs(evoked["O1"]) < 5e-6, evoked


@pytest.mark.parametrize("kwargs, fragment", [
    ({"seed": -1}, "seed must be a whole number >= 0, got -1"),
    ({"ch_names": ["O1", "Xx"]}, "('Xx' unknown)"),
    ({"ch_names": ["O1", "O1"]}, "distinct 10-10 electrode names"),
    ({"sfreq": 10}, "sfreq must be in [64, 100000] Hz, got 10"),
    ({"speed": 0}, "speed must be in (0, inf]"),
])
def test_bad_arguments_are_refused(kwargs, fragment):
    with pytest.raises(InvalidArgumentError) as caught:
        SimulatedListener(**kwargs)
    assert fragment in str(caught.value)
