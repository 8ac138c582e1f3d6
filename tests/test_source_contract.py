"""The Source base class's guarantees, on a minimal real subclass fed known samples."""

from __future__ import annotations

import time

import mne
import numpy as np
import pytest

from neurofeed.acquire import Source
from neurofeed.acquire.base import channel_names
from neurofeed.errors import InvalidArgumentError, SourceError


class ScriptedSource(Source):
    """Delivers pre-set (data, timestamps) pairs, one per read, then nothing."""

    def __init__(self, pulls, **kwargs):
        super().__init__(**kwargs)
        self._pulls = list(pulls)
        self._info = mne.create_info(["A", "B"], 100.0, "eeg")

    @property
    def info(self):
        return self._info

    def _open(self):
        pass

    def _close(self):
        pass

    def _pull(self):
        if self._pulls:
            return self._pulls.pop(0)
        return np.empty((2, 0)), np.empty(0)


def _chunk(times, value=1.0):
    times = np.asarray(times, dtype=float)
    return np.full((2, times.size), value), times


def test_read_requires_open():
    with pytest.raises(SourceError, match="is not open"):
        ScriptedSource([]).read()


def test_non_increasing_samples_are_dropped_and_counted():
    source = ScriptedSource([_chunk([1.0, 2.0, 3.0]), _chunk([3.0, 2.5, 4.0, 3.5, 5.0])])
    with source:
        first = source.read()
        second = source.read()
    np.testing.assert_array_equal(first.timestamps, [1, 2, 3])
    np.testing.assert_array_equal(second.timestamps, [4, 5])
    assert second.data.shape == (2, 2)
    assert source.n_dropped == 3
    assert source.n_samples == 5


def test_non_finite_values_pass_through_and_are_counted():
    data = np.array([[np.nan, 1.0, np.inf], [1.0, 2.0, 3.0]])
    source = ScriptedSource([(data, np.array([1.0, 2.0, 3.0]))])
    with source:
        chunk = source.read()
    assert np.isnan(chunk.data[0, 0]) and np.isinf(chunk.data[0, 2])
    assert source.n_nonfinite == 2


def test_stall_is_reported_and_clears_when_data_returns():
    source = ScriptedSource([_chunk([1.0, 2.0])], stall_timeout_s=0.05)
    with source:
        source.read()
        assert not source.stalled
        time.sleep(0.1)
        source.read()
        assert source.stalled
        assert source.gaps[-1].start == 2.0 and source.gaps[-1].end is None
        source._pulls.append(_chunk([9.0, 10.0]))
        chunk = source.read()
    assert chunk.timestamps.size == 2
    assert not source.stalled
    assert source.gaps == [(2.0, 9.0)]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "soon"])
def test_stall_timeout_is_checked(bad):
    with pytest.raises(InvalidArgumentError, match="stall_timeout_s"):
        ScriptedSource([], stall_timeout_s=bad)


def test_listening_to_the_music_changes_nothing_in_a_real_source():
    from neurofeed.synth import MusicState

    source = ScriptedSource([_chunk([1.0, 2.0])])
    with source:
        assert source.listen(MusicState(tempo_bpm=40, intensity=0.0)) is None
        chunk = source.read()
    np.testing.assert_array_equal(chunk.timestamps, [1.0, 2.0])


@pytest.mark.parametrize("labels, expected, warns", [
    (["Fz", " Cz ", "Pz"], ["Fz", "Cz", "Pz"], False),
    (["Fz", "", "Pz"], ["Fz", "EEG002", "Pz"], False),
    (["", "", ""], ["EEG001", "EEG002", "EEG003"], False),
    (["Fz", "Fz", "Pz"], ["EEG001", "EEG002", "EEG003"], True),
    (["Fz", "Cz"], ["EEG001", "EEG002", "EEG003"], True),
])
def test_default_channel_names_are_one_scheme(labels, expected, warns, caplog):
    with caplog.at_level("WARNING", logger="neurofeed.acquire"):
        assert channel_names(labels, 3, origin="test.xdf") == expected
    assert ("test.xdf: " in caplog.text) == warns
