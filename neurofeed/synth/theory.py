"""Music theory as pure functions: keys, the seven diatonic modes, chords, cadences, phrase
progressions and pad voicings.

Nothing here touches audio. Pitches are MIDI note numbers (60 = middle C, 69 = A4 at
440 Hz); pitch classes are 0-11 with 0 = C.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from neurofeed._check import check_option, check_range
from neurofeed.errors import InvalidArgumentError

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


def mode_position(valence: float) -> float:
    """Valence on the scale of :data:`MODES`: mode ``i`` covers ``[i, i + 1)``.

    Parameters
    ----------
    valence : float
        From -1 (dark) to 1 (bright).

    Returns
    -------
    float
        From 0 (valence 1, the bright end of Lydian) to 7 (valence -1, the dark end of
        Locrian): the seven modes share valence equally, 2/7 each.
    """
    v = check_range("valence", valence, -1.0, 1.0)
    return (1.0 - v) / 2.0 * len(MODES)


def mode_valence(mode: str) -> float:
    """The valence at the middle of ``mode``'s share of [-1, 1] (Dorian: 0)."""
    return 1.0 - (MODES.index(normalise_mode(mode)) + 0.5) * 2.0 / len(MODES)


def mode_from_valence(valence: float) -> str:
    """Map a valence in [-1, 1] onto :data:`MODES`: +1 is Lydian, 0 Dorian, -1 Locrian.

    The range is cut into seven equal bins (:func:`mode_position`), so each mode covers 2/7
    of valence.
    """
    return MODES[min(len(MODES) - 1, int(mode_position(valence)))]


def scale(key: str, mode: str) -> tuple[int, ...]:
    """The seven pitch classes of ``key`` in ``mode``, starting on the tonic."""
    tonic, start = key_pitch_class(key), _ROTATION[normalise_mode(mode)]
    steps = _IONIAN[start:] + tuple(p + 12 for p in _IONIAN[:start])
    return tuple((tonic + p - _IONIAN[start]) % 12 for p in steps)


def pentatonic(key: str, mode: str) -> tuple[int, ...]:
    """The five notes of the scale a calm melody keeps to: the scale without its semitone clashes.

    Of each pair of scale notes a semitone apart, the lower leaves unless it is the tonic,
    third or fifth (the scale's first, third or fifth degree), which always stay. Ionian gives
    the major pentatonic, Aeolian the minor pentatonic.

    Returns
    -------
    tuple of int
        Five pitch classes in scale order, starting on the tonic.
    """
    notes = scale(key, mode)
    kept = set(notes[0::2][:3])  # tonic, third, fifth
    leaving = set()
    for i, low in enumerate(notes):
        high = notes[(i + 1) % 7]
        if (high - low) % 12 == 1:
            leaving.add(high if low in kept else low)
    return tuple(p for p in notes if p not in leaving)


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


#: The cadences a phrase can end with: ``authentic`` (the mode's cadence chord to the tonic),
#: ``plagal`` (a subdominant-side chord to the tonic), ``half`` (ending on the cadence chord)
#: and ``deceptive`` (the cadence chord to another chord that holds the tonic).
CADENCES: tuple[str, ...] = ("authentic", "plagal", "half", "deceptive")

#: Voicings wider than this (semitones) sound thin for a pad: an octave and a sixth.
MAX_VOICING_SPAN = 19


def _first_usable(key: str, mode: str, degrees: tuple[int, ...], avoid: tuple[int, ...]) -> int:
    usable = usable_degrees(key, mode)
    return next(d for d in degrees if d in usable and d not in avoid)


def cadence_degrees(key: str, mode: str, kind: str) -> tuple[int, int]:
    """The last two chords of a phrase ending on a cadence of ``kind``, as degrees (0 = tonic).

    Parameters
    ----------
    key, mode : str
        The tonality.
    kind : str
        One of :data:`CADENCES`.

    Returns
    -------
    approach, final : int
        The degrees of the penultimate and last bar's chords. The plagal approach (and the
        half cadence's) is the subdominant, or the submediant or colour chord where the
        subdominant is the cadence chord or diminished. A deceptive cadence lands on the
        submediant or subdominant, whichever holds the tonic and is usable, else on the
        first usable of the mediant, supertonic, dominant and subtonic.
    """
    mode = normalise_mode(mode)
    kind = check_option("kind", kind, CADENCES)
    cadence = CADENCE_DEGREE[mode]
    subdominant = _first_usable(key, mode, (3, 5, COLOUR_DEGREE[mode]), (0, cadence))
    if kind == "authentic":
        return cadence, 0
    if kind == "plagal":
        return subdominant, 0
    if kind == "half":
        return subdominant, cadence
    tonic = scale(key, mode)[0]
    holds_tonic = tuple(d for d in (5, 3) if tonic in chord(key, mode, d).pitch_classes)
    return cadence, _first_usable(key, mode, (*holds_tonic, 2, 1, 4, 6), (0, cadence))


def _walk(key: str, mode: str, current: int, rng: random.Random) -> int:
    """A chord after ``current``: root motion by fourth, fifth or step is favoured, and twice
    as much again the mode's colour chord and chords that hold the tonic or fifth (which keep
    the tonal centre clear)."""
    notes = scale(key, mode)
    home = {notes[0], notes[4]}
    candidates = [d for d in usable_degrees(key, mode) if d != current]
    weights = [{3: 3.0, 4: 3.0, 1: 2.0, 6: 2.0}.get((d - current) % 7, 1.0)
               * (2.0 if d == COLOUR_DEGREE[mode] else 1.0)
               * (2.0 if home & chord(key, mode, d).triad else 1.0) for d in candidates]
    return rng.choices(candidates, weights)[0]


def phrase_degrees(key: str, mode: str, n_bars: int, kind: str, rng: random.Random) -> tuple[int, ...]:
    """The chord degrees of a phrase of ``n_bars`` bars (one chord a bar) ending on a cadence.

    The phrase opens on the tonic (7 times in 10) or on the subdominant side or the colour
    chord, walks (root motion by fourth, fifth or step, the colour chord and chords holding
    the tonic or fifth favoured) and ends with :func:`cadence_degrees`. A one-bar phrase is
    the cadence's last chord alone.

    Parameters
    ----------
    key, mode : str
        The tonality.
    n_bars : int
        Bars in the phrase, at least 1.
    kind : str
        The cadence, one of :data:`CADENCES`.
    rng : random.Random
        The session's seeded generator.
    """
    mode = normalise_mode(mode)
    n_bars = int(check_range("n_bars", n_bars, 1, 64))
    approach, final = cadence_degrees(key, mode, kind)
    if n_bars == 1:
        return (final,)
    if n_bars == 2:
        return approach, final
    opening = 0 if rng.random() < 0.7 else _first_usable(
        key, mode, [*rng.sample((3, 5, COLOUR_DEGREE[mode]), 3), 0], (approach,))
    degrees = [opening]
    for bar in range(1, n_bars - 2):
        step = _walk(key, mode, degrees[-1], rng)
        if bar == n_bars - 3 and step == approach:  # keep the cadence's approach fresh
            step = _walk(key, mode, step, rng)
        degrees.append(step)
    return (*degrees, approach, final)


def has_minor_second(pitches: tuple[int, ...]) -> bool:
    """Whether any two of ``pitches`` (MIDI) are a minor second or a minor ninth apart."""
    return any(abs(a - b) in (1, 13) for a, b in itertools.combinations(pitches, 2))


def voice_chord(pitch_classes: tuple[int, ...], previous: tuple[int, ...], low: int,
                high: int, *, allow_minor_seconds: bool = False) -> tuple[int, ...]:
    """Place every chord tone once in [low, high] (MIDI), moving as little as possible from ``previous``.

    With no previous voicing the chord is placed close to the middle of the range. Ties go to
    the lower voicing, so the result is deterministic. Voicings span at most
    :data:`MAX_VOICING_SPAN` semitones.

    Parameters
    ----------
    pitch_classes : tuple of int
        The chord's pitch classes (0-11), root first.
    previous : tuple of int
        The previous voicing (MIDI), or empty.
    low, high : int
        The range (MIDI).
    allow_minor_seconds : bool
        If False, no two notes are 1 or 13 semitones apart: a major seventh chord keeps its
        seventh above its root (a major seventh, not a minor second), and a chord with no
        such voicing in the range drops its seventh.

    Returns
    -------
    tuple of int
        The voicing, lowest note first.
    """
    options = [[p for p in range(low, high + 1) if p % 12 == pc] for pc in pitch_classes]
    reference = sorted(previous) if previous else [(low + high) // 2] * len(pitch_classes)
    best, best_cost = None, None
    for combo in itertools.product(*options):
        notes = sorted(combo)
        if notes[-1] - notes[0] > MAX_VOICING_SPAN or (not allow_minor_seconds and has_minor_second(combo)):
            continue
        cost = sum(min(abs(n - r) for r in reference) for n in notes) + sum(
            min(abs(n - r) for n in notes) for r in reference)
        if best_cost is None or cost < best_cost or (cost == best_cost and notes < best):
            best, best_cost = notes, cost
    if best is None and len(pitch_classes) > 3:
        return voice_chord(pitch_classes[:3], previous, low, high, allow_minor_seconds=allow_minor_seconds)
    if best is None:
        raise InvalidArgumentError(f"the chord {pitch_classes} has no voicing in [{low}, {high}] "
                                   f"spanning at most {MAX_VOICING_SPAN} semitones")
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
