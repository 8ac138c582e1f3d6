"""The beat clock: places the composer's notes on the sample clock at the current tempo.

Pure and deterministic. The engine calls :meth:`Sequencer.until` once per audio block; it
returns the notes that start before the end of that block, with their onsets in whole samples.
A tempo change takes effect on the next beat (the beat already due keeps its place), and
moves at most ``max_tempo_rate_bpm_per_s`` per second; key and mode change on the next bar.
Each bar logs its key, mode and chord, and the first bar of each phrase logs the phrase's
running number (1, 2, 3, ...), from which phrase lengths and cadences can be read back.
"""

from __future__ import annotations

import heapq
import itertools
import random

from neurofeed._check import check_range
from neurofeed.synth.composer import BEATS_PER_BAR, MAX_DENSITY, Composer
from neurofeed.synth.score import Change, Note
from neurofeed.synth.state import MusicState
from neurofeed.synth.theory import chord_name


class Sequencer:
    """Beats, bars and notes on the sample clock.

    Parameters
    ----------
    state : MusicState
        The starting state; its tempo applies from the first beat.
    sample_rate : float
        Samples per second (Hz).
    seed : int
        Seed of the random generator that chooses chords and melody.
    max_tempo_rate_bpm_per_s : float
        The most the tempo may change per second of music (BPM/s).
    sparse_melody : bool
        Compose the melody at its calmest density whatever the intensity (fewer, longer
        notes), as a sparse palette plays it. The composer thins its own motifs, so they keep
        their shapes and repetitions (dropping composed notes broke them).
    """

    def __init__(self, state: MusicState, *, sample_rate: float, seed: int,
                 max_tempo_rate_bpm_per_s: float, sparse_melody: bool = False):
        self._sr = float(sample_rate)
        self._max_rate = check_range("max_tempo_rate_bpm_per_s", max_tempo_rate_bpm_per_s, 0.0, 1000.0,
                                     unit=" BPM/s", low_inclusive=False)
        self._composer = Composer(random.Random(seed), state.key, state.mode,
                                  max_density=0 if sparse_melody else MAX_DENSITY)
        self._target = state
        self._tempo = state.tempo_bpm
        self._next_beat = 0.0  # exact sample position of the next beat
        self._beat = 0
        self._queue: list[tuple[int, int, Note]] = []
        self._order = itertools.count()

    @property
    def tempo_bpm(self) -> float:
        """The tempo of the beat in progress (BPM)."""
        return self._tempo

    def request(self, state: MusicState) -> None:
        """Make ``state`` the target: its tempo from the next beat, its key and mode from the next bar."""
        self._target = state

    def until(self, end_sample: int, intensity: float) -> tuple[list[tuple[int, Note]], list[Change]]:
        """Notes whose onset is before ``end_sample``, and the musical changes made on the way.

        Parameters
        ----------
        end_sample : int
            The first sample after the block being prepared.
        intensity : float
            The intensity (0-1) now, which sets note density and velocity of new beats.

        Returns
        -------
        notes : list of (int, Note)
            Onset sample and note, in onset order.
        changes : list of Change
            ``beat_tempo_bpm``, ``bar_key``, ``bar_mode``, ``chord`` and ``phrase`` (the
            running phrase number, on a phrase's first bar) where they took effect.
        """
        changes: list[Change] = []
        while self._next_beat < end_sample:
            self._start_beat(intensity, changes)
        notes = []
        while self._queue and self._queue[0][0] < end_sample:
            onset, _, note = heapq.heappop(self._queue)
            notes.append((onset, note))
        return notes, changes

    def _start_beat(self, intensity: float, changes: list[Change]) -> None:
        start = self._next_beat
        time_s = round(start) / self._sr
        if self._beat:
            # The previous beat lasted 60/tempo seconds: that is the time the tempo may move over.
            step = self._max_rate * 60.0 / self._tempo
            self._tempo = min(self._tempo + step, max(self._tempo - step, self._target.tempo_bpm))
        changes.append(Change(time_s, "beat_tempo_bpm", self._tempo))
        beat_in_bar = self._beat % BEATS_PER_BAR
        if beat_in_bar == 0:
            c = self._composer.start_bar(self._target.key, self._target.mode)
            changes += [Change(time_s, "bar_key", self._composer.key),
                        Change(time_s, "bar_mode", self._composer.mode),
                        Change(time_s, "chord", chord_name(c))]
            if self._composer.phrase_started:
                changes.append(Change(time_s, "phrase", self._composer.phrase))
        period_s = 60.0 / self._tempo
        for n in self._composer.beat(beat_in_bar, period_s, intensity):
            onset = round(start + n.offset_s * self._sr)
            note = Note(onset / self._sr, n.pitch, n.velocity, n.duration_s, n.voice)
            heapq.heappush(self._queue, (onset, next(self._order), note))
        self._next_beat = start + period_s * self._sr
        self._beat += 1
