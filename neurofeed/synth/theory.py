"""Music theory as pure functions: keys, the seven diatonic modes, chords, progressions.

Nothing here touches audio. Pitches are MIDI note numbers (60 = middle C, 69 = A4 at
440 Hz); pitch classes are 0-11 with 0 = C.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from neurofeed._check import check_option, check_range

#: The seven diatonic modes from brightest to darkest (each lowers one degree of the one before).
MODES: tuple[str, ...] = ("lydian", "ionian", "mixolydian", "dorian", "aeolian", "phrygian", "locrian")

#: Canonical key names, one per pitch class; the spelling most common in calm popular music.
KEYS: tuple[str, ...] = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_IONIAN = (0, 2, 4, 5, 7, 9, 11)
# Each mode is a rotation of the major scale starting on this degree of it.
_ROTATION = {"ionian": 0, "dorian": 1, "phrygian": 2, "lydian": 3, "mixolydian": 4,
             "aeolian": 5, "locrian": 6}

#: Per mode, the degree (0-based) of the chord that makes the mode audible and leads home:
#: Lydian II, Ionian V, Mixolydian bVII, Dorian IV, Aeolian bVII, Phrygian bII, Locrian bII.
CADENCE_DEGREE = {"lydian": 1, "ionian": 4, "mixolydian": 6, "dorian": 3, "aeolian": 6,
                  "phrygian": 1, "locrian": 1}
#: Per mode, a second colour chord that holds the mode's characteristic note.
COLOUR_DEGREE = {"lydian": 6, "ionian": 3, "mixolydian": 4, "dorian": 1, "aeolian": 5,
                 "phrygian": 6, "locrian": 4}


def key_pitch_class(key: str) -> int:
    """Pitch class (0-11) of a key name such as ``"D"``, ``"F#"`` or ``"Bb"`` (case of the letter is free)."""
    text = str(key).strip()
    letter = text[:1].upper()
    if letter not in _LETTERS or len(text) > 2 or (len(text) == 2 and text[1] not in "#b"):
        check_option("key", key, KEYS)
    shift = {"#": 1, "b": -1}.get(text[1:], 0)
    return (_LETTERS[letter] + shift) % 12


def normalise_key(key: str) -> str:
    """Return the canonical spelling (from :data:`KEYS`) of a key name; ``"C#"`` becomes ``"Db"``."""
    return KEYS[key_pitch_class(key)]


def normalise_mode(mode: str) -> str:
    """Return a mode name in lower case, or raise naming the seven accepted modes."""
    return str(check_option("mode", str(mode).strip().lower(), MODES))


def mode_from_valence(valence: float) -> str:
    """Map a valence in [-1, 1] onto :data:`MODES`: +1 is Lydian, 0 Dorian, -1 Locrian.

    The range is cut into seven equal bins, so each mode covers 2/7 of valence.
    """
    v = check_range("valence", valence, -1.0, 1.0)
    return MODES[min(len(MODES) - 1, int((1.0 - v) / 2.0 * len(MODES)))]


def scale(key: str, mode: str) -> tuple[int, ...]:
    """The seven pitch classes of ``key`` in ``mode``, starting on the tonic."""
    tonic, start = key_pitch_class(key), _ROTATION[normalise_mode(mode)]
    steps = _IONIAN[start:] + tuple(p + 12 for p in _IONIAN[:start])
    return tuple((tonic + p - _IONIAN[start]) % 12 for p in steps)


@dataclass(frozen=True)
class Chord:
    """A diatonic chord: its degree in the scale and its pitch classes, root first."""

    degree: int
    pitch_classes: tuple[int, ...]

    @property
    def root(self) -> int:
        return self.pitch_classes[0]

    @property
    def triad(self) -> frozenset[int]:
        return frozenset(self.pitch_classes[:3])

    @property
    def diminished(self) -> bool:
        third, fifth = ((p - self.root) % 12 for p in self.pitch_classes[1:3])
        return third == 3 and fifth == 6


def chord(key: str, mode: str, degree: int, size: int = 3) -> Chord:
    """The chord stacked in thirds on ``degree`` (0 = tonic) of the scale; ``size`` 3 or 4 notes."""
    notes = scale(key, mode)
    return Chord(degree % 7, tuple(notes[(degree + 2 * i) % 7] for i in range(size)))


def usable_degrees(key: str, mode: str) -> tuple[int, ...]:
    """Degrees whose triads suit calm music: all but diminished ones, except a diminished tonic."""
    return tuple(d for d in range(7) if d == 0 or not chord(key, mode, d).diminished)


def shared_degrees(old_key: str, old_mode: str, new_key: str, new_mode: str) -> tuple[int, ...]:
    """Degrees in the new key whose triad is also a usable triad of the old key (pivot chords)."""
    old = {chord(old_key, old_mode, d).triad for d in usable_degrees(old_key, old_mode)}
    return tuple(d for d in usable_degrees(new_key, new_mode) if chord(new_key, new_mode, d).triad in old)


def pivot_degree(old_key: str, old_mode: str, new_key: str, new_mode: str,
                 rng: random.Random) -> int | None:
    """Choose the chord that leads from the old key into the new one, or None if none is shared.

    A shared chord that is not the new tonic is preferred, so that the new tonic arrives
    one bar later as a resolution rather than as a jump.
    """
    shared = shared_degrees(old_key, old_mode, new_key, new_mode)
    if not shared:
        return None
    return rng.choice([d for d in shared if d != 0] or list(shared))


def next_degree(key: str, mode: str, current: int, bar_in_phrase: int, phrase_bars: int,
                rng: random.Random) -> int:
    """The degree of the next bar's chord: a weighted walk that starts and ends phrases at home.

    Bar 0 of a phrase is the tonic, the last bar is the mode's cadence chord, and the bars
    between favour the mode's colour chord and root motion by fourth, fifth or step.
    """
    mode = normalise_mode(mode)
    if bar_in_phrase == 0:
        return 0
    if bar_in_phrase == phrase_bars - 1:
        return CADENCE_DEGREE[mode]
    weights = []
    candidates = [d for d in usable_degrees(key, mode) if d != current]
    for d in candidates:
        motion = (d - current) % 7
        w = {3: 3.0, 4: 3.0, 1: 2.0, 6: 2.0}.get(motion, 1.0)
        if d == COLOUR_DEGREE[mode]:
            w *= 2.0
        weights.append(w)
    return rng.choices(candidates, weights)[0]


def voice_chord(pitch_classes: tuple[int, ...], previous: tuple[int, ...], low: int,
                high: int) -> tuple[int, ...]:
    """Place every chord tone once in [low, high] (MIDI), moving as little as possible from ``previous``.

    With no previous voicing the chord is placed close to the middle of the range. Ties go to
    the lower voicing, so the result is deterministic.
    """
    options = [[p for p in range(low, high + 1) if p % 12 == pc] for pc in pitch_classes]
    reference = sorted(previous) if previous else [(low + high) // 2] * len(pitch_classes)
    best, best_cost = None, None
    for combo in itertools.product(*options):
        notes = sorted(combo)
        if notes[-1] - notes[0] > 19:  # wider than an octave and a sixth sounds thin for a pad
            continue
        cost = sum(min(abs(n - r) for r in reference) for n in notes) + sum(
            min(abs(n - r) for n in notes) for r in reference)
        if best_cost is None or cost < best_cost or (cost == best_cost and notes < best):
            best, best_cost = notes, cost
    return tuple(best)


def chord_name(c: Chord) -> str:
    """A lead-sheet name such as ``"Dm7"``, ``"Fmaj7"``, ``"Bdim"`` or ``"Bm7b5"``."""
    third, fifth = ((p - c.root) % 12 for p in c.pitch_classes[1:3])
    quality = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug"}[(third, fifth)]
    if len(c.pitch_classes) == 3:
        return KEYS[c.root] + quality
    seventh = (c.pitch_classes[3] - c.root) % 12
    suffix = {("", 11): "maj7", ("", 10): "7", ("m", 10): "m7", ("m", 11): "m(maj7)",
              ("dim", 10): "m7b5", ("dim", 9): "dim7", ("aug", 11): "maj7#5"}[(quality, seventh)]
    return KEYS[c.root] + suffix
