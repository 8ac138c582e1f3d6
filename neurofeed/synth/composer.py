"""What to play on each beat: chords, pad voicing, bass line, melody and pulse.

Pure and seeded: the same random generator and the same calls give the same notes. Times
here are seconds relative to the beat; :mod:`neurofeed.synth.sequencer` places them on the
sample clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from neurofeed.synth.theory import Chord, chord, next_degree, pivot_degree, scale, voice_chord

#: MIDI ranges of the voices (lowest, highest), chosen to keep them out of each other's way.
PAD_RANGE = (52, 72)
MELODY_RANGE = (62, 81)
BASS_RANGE = (36, 47)
PULSE_RANGE = (48, 59)
BEATS_PER_BAR = 4
PHRASE_BARS = 4


@dataclass(frozen=True)
class BeatNote:
    """A note relative to its beat: ``offset_s`` after the beat, lasting ``duration_s`` (seconds)."""

    offset_s: float
    pitch: int
    velocity: int
    duration_s: float
    voice: str


def _in_range(pitch_class: int, low: int) -> int:
    """The pitch of ``pitch_class`` in the octave starting at ``low`` (MIDI)."""
    return low + (pitch_class - low) % 12


def _velocity(base: float, span: float, intensity: float) -> int:
    return max(1, min(127, round(base + span * intensity)))


class Composer:
    """Chooses the notes of each beat from the key, the mode, the chord and the intensity.

    Parameters
    ----------
    rng : random.Random
        The session's seeded generator.
    key, mode : str
        The starting tonality.
    """

    def __init__(self, rng: random.Random, key: str, mode: str):
        self._rng = rng
        self.key, self.mode = key, mode
        self.chord: Chord = chord(key, mode, 0)
        self._bar_in_phrase = -1
        self._voicing: tuple[int, ...] = ()
        self._melody_pitch = (MELODY_RANGE[0] + MELODY_RANGE[1]) // 2

    def start_bar(self, key: str, mode: str) -> Chord:
        """Advance to the next bar in ``key`` and ``mode``; return its chord.

        When the tonality changed, the bar plays a chord the old and new keys share (if any),
        and the new tonic follows on the next bar.
        """
        if (key, mode) != (self.key, self.mode):
            pivot = pivot_degree(self.key, self.mode, key, mode, self._rng)
            self.key, self.mode = key, mode
            degree = 0 if pivot is None else pivot
            self._bar_in_phrase = 0 if degree == 0 else PHRASE_BARS - 1
        else:
            self._bar_in_phrase = (self._bar_in_phrase + 1) % PHRASE_BARS
            degree = next_degree(key, mode, self.chord.degree, self._bar_in_phrase, PHRASE_BARS, self._rng)
        size = 4 if self._rng.random() < 0.5 else 3
        self.chord = chord(key, mode, degree, size)
        self._voicing = voice_chord(self.chord.pitch_classes, self._voicing, *PAD_RANGE)
        return self.chord

    def beat(self, beat_in_bar: int, period_s: float, intensity: float) -> list[BeatNote]:
        """The notes that start within one beat of ``period_s`` seconds at ``intensity`` (0-1)."""
        notes: list[BeatNote] = []
        root = self.chord.root
        if beat_in_bar == 0:
            bar_s = BEATS_PER_BAR * period_s
            pad_velocity = _velocity(46, 30, intensity)
            notes += [BeatNote(0.0, p, pad_velocity, bar_s, "pad") for p in self._voicing]
        notes += self._bass(beat_in_bar, period_s, intensity, root)
        accent = 1.0 if beat_in_bar == 0 else 0.75
        notes.append(BeatNote(0.0, _in_range(root, PULSE_RANGE[0]),
                              _velocity(40 * accent + 20, 40 * accent, intensity), 0.2, "pulse"))
        notes += self._melody(beat_in_bar, period_s, intensity)
        return notes

    def _bass(self, beat_in_bar: int, period_s: float, intensity: float, root: int) -> list[BeatNote]:
        velocity = _velocity(64, 36, intensity)
        if intensity < 0.45:
            if beat_in_bar == 0:
                return [BeatNote(0.0, _in_range(root, BASS_RANGE[0]), velocity,
                                 BEATS_PER_BAR * period_s * 0.95, "bass")]
            return []
        if beat_in_bar == 0:
            return [BeatNote(0.0, _in_range(root, BASS_RANGE[0]), velocity, 1.9 * period_s, "bass")]
        if beat_in_bar == 2:
            fifth = self.chord.pitch_classes[2] if self._rng.random() < 0.6 else root
            return [BeatNote(0.0, _in_range(fifth, BASS_RANGE[0]), velocity - 8, 1.9 * period_s, "bass")]
        return []

    def _melody(self, beat_in_bar: int, period_s: float, intensity: float) -> list[BeatNote]:
        last_beat_of_phrase = self._bar_in_phrase == PHRASE_BARS - 1 and beat_in_bar == BEATS_PER_BAR - 1
        if last_beat_of_phrase:
            return []  # a breath at the end of every phrase
        notes = []
        strong = beat_in_bar in (0, 2)
        if self._rng.random() < 0.3 + 0.55 * intensity or beat_in_bar == 0:
            length = 1.6 if intensity < 0.5 else 0.9
            notes.append(BeatNote(0.0, self._step(strong), _velocity(52 + 8 * strong, 36, intensity),
                                  length * period_s, "melody"))
        if self._rng.random() < max(0.0, intensity - 0.4) * 0.9:
            notes.append(BeatNote(0.5 * period_s, self._step(False), _velocity(46, 36, intensity),
                                  0.45 * period_s, "melody"))
        return notes

    def _step(self, strong: bool) -> int:
        """The next melody pitch: a chord tone near the last on strong beats, else a scale step."""
        low, high = MELODY_RANGE
        last, centre = self._melody_pitch, (low + high) / 2
        if strong:
            pcs = set(self.chord.pitch_classes)
            options = [p for p in range(low, high + 1) if p % 12 in pcs]
            weights = [math.exp(-abs(p - last) / 2.0) for p in options]
        else:
            pcs = set(scale(self.key, self.mode))
            pitches = [p for p in range(low, high + 1) if p % 12 in pcs]
            here = min(range(len(pitches)), key=lambda i: abs(pitches[i] - last))
            pull = 1.5 if last > centre + 5 else 1 / 1.5 if last < centre - 5 else 1.0
            moves = {-2: 0.1 * pull, -1: 0.35 * pull, 0: 0.1, 1: 0.35 / pull, 2: 0.1 / pull}
            options, weights = [], []
            for move, w in moves.items():
                if 0 <= here + move < len(pitches):
                    options.append(pitches[here + move])
                    weights.append(w)
        self._melody_pitch = self._rng.choices(options, weights)[0]
        return self._melody_pitch
