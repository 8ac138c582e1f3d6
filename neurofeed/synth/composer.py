"""What to play on each beat: phrases and cadences, chords, pad voicing, bass line, melody and pulse.

Form. The music moves in periods of two phrases, a question and its answer, each of 2, 3, 4,
6 or 8 bars (4 half of the time). A phrase's chords open on the tonic (or near it), walk,
and end on a cadence (:func:`~neurofeed.synth.theory.cadence_degrees`): a question mostly on
a half or deceptive cadence, an answer mostly home on the tonic (authentic or plagal). After
the first few phrases, an ending that already closes half of them is not chosen again until
the others catch up.

Melody. Built from motifs (:class:`Motif`): one-bar figures of 2-6 notes, a rhythm in beats
and a contour in steps of the mode's pentatonic (:func:`~neurofeed.synth.theory.pentatonic`:
no semitone clashes, a clear centre), sparser and longer when the intensity is low. A theme
is a motif ``a``, a contrasting ``b`` and their variations (inversion, rhythmic
augmentation, a changed last interval, an ornament), with a phrase length, a form such as
``a a b``, ``a b a``, ``a a' a`` or a sentence for 8 bars, its chords and its cadences. Each
bar's figure is transposed onto a tone of its chord, with as many strong-beat notes on the
tonic or fifth as can be, near the last note and never on it; the theme remembers where, so
that a restatement is exact. The last bar lands on the cadence's goal note and leaves the
last beat silent: a breath. The answer restates its question with the other cadence, and a
period mostly brings back a remembered theme (a new one every :data:`_PERIODS_PER_THEME`
periods), at times with one variation redrawn: the shapes are predictable and repetitive.
So that no exact passage loops, a bar that would make a four-bar passage come a third time
in a row, or more often than :data:`_MAX_WINDOW_SHARE` of the bars allows, takes a variation.

Key and mode change on a bar line through a pivot chord both tonalities share, held by one
melody note, which closes the phrase in progress; the new tonic opens the next phrase.

Pads are voiced with the least motion and, unless asked, without a minor second or ninth
between any two notes (:func:`~neurofeed.synth.theory.voice_chord`).

Pure and seeded: the same random generator and the same calls give the same notes. Times
here are seconds relative to the beat; :mod:`neurofeed.synth.sequencer` places them on the
sample clock.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass, field, replace

from neurofeed._check import check_range
from neurofeed.errors import InvalidArgumentError
from neurofeed.synth.theory import (
    CADENCES,
    Chord,
    cadence_degrees,
    chord,
    pentatonic,
    phrase_degrees,
    pivot_degree,
    scale,
    usable_degrees,
    voice_chord,
)

#: MIDI ranges of the voices (lowest, highest), chosen to keep them out of each other's way.
PAD_RANGE = (52, 72)
MELODY_RANGE = (62, 81)
BASS_RANGE = (36, 47)
PULSE_RANGE = (48, 59)
BEATS_PER_BAR = 4
#: The strong beats of a bar (0-based): the first and the third.
STRONG_BEATS = (0, 2)
#: Phrase lengths in bars and how often a new theme (or an answer in a new shape) takes each.
PHRASE_BARS = {2: 0.08, 3: 0.1, 4: 0.5, 6: 0.14, 8: 0.18}

# Bar labels of a phrase per length; "cad" is the cadence bar, primes are variations.
_FORMS = {
    2: (("a", "cad"),),
    3: (("a", "a", "cad"), ("a", "b", "cad")),
    4: (("a", "a", "b", "cad"), ("a", "b", "a", "cad"), ("a", "a'", "a", "cad")),
    6: (("a", "a", "b", "b", "a", "cad"), ("a", "b", "a", "b'", "a'", "cad")),
    8: (("a", "a", "a'", "a", "b", "b", "a''", "cad"),),
}
# Cadence weights of a question and of an answer.
_QUESTION = {"half": 0.55, "deceptive": 0.25, "authentic": 0.2}
_ANSWER = {"authentic": 0.55, "plagal": 0.3, "deceptive": 0.15}
# What each cadence's last chord is, for keeping any one ending from taking over.
_ENDING = {"authentic": "tonic", "plagal": "tonic", "half": "half", "deceptive": "deceptive"}
_MAX_ENDING_SHARE = 0.5
_FREE_PHRASES = 4  # phrases before that share is kept
_NEW_CADENCE = 0.2  # chance that a theme's phrase takes a new cadence rather than its own
# Motif rhythms (onsets in beats from the bar line) per density level: calm, moderate, lively.
_RHYTHMS = (
    ((0, 2), (0, 3), (0, 2, 3), (0, 1, 2)),
    ((0, 1, 2), (0, 2, 3), (0, 1, 2, 3), (0, 1.5, 2), (0, 1, 3)),
    ((0, 1, 1.5, 2, 3), (0, 0.5, 1, 2), (0, 1, 2, 2.5, 3), (0, 0.5, 1, 1.5, 2, 3), (0, 1, 2, 3)),
)
# Intensity from which each level above calm starts, and the intensity assumed before the
# first beat.
_LEVEL_FROM = (0.35, 0.65)
_LEVELS = range(len(_LEVEL_FROM) + 1)
#: The liveliest density level (:func:`density_level`).
MAX_DENSITY = len(_LEVEL_FROM)
_START_INTENSITY = 0.5
# Contour moves in scale steps and their weights: mostly steps, some skips, few leaps, and no
# repeated notes (a figure comes back so often that one would be heard everywhere).
_MOVES = {-1: 0.3, 1: 0.26, -2: 0.18, 2: 0.18, -3: 0.04, 3: 0.04}
# The widest a new figure spans, and a variation of it, in scale steps: within an octave or
# so, which the melody's range holds wherever the figure starts.
_MAX_SPAN = 4
_MAX_VARIED_SPAN = 5
_THEMES_REMEMBERED = 4
_PERIODS_PER_THEME = 8  # a new theme every this many periods of a density level
_VARY_ON_RECALL = 0.5  # chance that a theme brought back has one of its variations redrawn
_ANSWER_RESTATES = 0.9  # chance that an answer restates its question's theme
_LEGATO = 0.95  # fraction of the time to the next onset that a melody note sounds
# Where a figure starts: the weight of each strong-beat note on the tonic or fifth, the
# distance (semitones) over which nearness counts, how much the middle of the range counts
# against the last note, and the weight of the last note itself.
_HOME_WEIGHT = 10.0
_CENTRE_PULL = 0.25
_NEAR_SEMITONES = 2.0
_REPEAT_WEIGHT = 1e-4
# No exact passage of this many bars comes more than this many times in a row, nor more
# often than would fill this share of the bars played.
_WINDOW_BARS = 4
_MAX_REPEATS = 2
_MAX_WINDOW_SHARE = 0.06
_REPEAT_SPAN = (_MAX_REPEATS + 1) * _WINDOW_BARS


@dataclass(frozen=True)
class BeatNote:
    """A note relative to its beat: ``offset_s`` after the beat, lasting ``duration_s`` (seconds)."""

    offset_s: float
    pitch: int
    velocity: int
    duration_s: float
    voice: str


@dataclass(frozen=True)
class Motif:
    """A one-bar melodic figure.

    Attributes
    ----------
    onsets : tuple of float
        Onsets in beats from the bar line, increasing, the first 0.
    steps : tuple of int
        Each note's distance from the first in scale steps (the first is 0).
    """

    onsets: tuple[float, ...]
    steps: tuple[int, ...]

    def __post_init__(self):
        onsets = tuple(self.onsets)
        if not onsets or onsets[0] != 0 or onsets[-1] >= BEATS_PER_BAR or any(
                b <= a for a, b in itertools.pairwise(onsets)):
            raise InvalidArgumentError(f"onsets must increase from 0 to under {BEATS_PER_BAR} beats, "
                                       f"got {self.onsets!r}")
        if len(self.steps) != len(onsets) or self.steps[0] != 0:
            raise InvalidArgumentError(f"steps must give one step per onset, the first 0, got {self.steps!r} "
                                       f"for {len(onsets)} onsets")


def invert(motif: Motif) -> Motif:
    """The motif upside down: every step from the first note mirrored."""
    return replace(motif, steps=tuple(-s for s in motif.steps))


def augment(motif: Motif) -> Motif:
    """The motif at half speed, cut at the bar line (needs two notes in its first half bar)."""
    if sum(2 * o < BEATS_PER_BAR for o in motif.onsets) < 2:
        raise InvalidArgumentError(f"augment needs a motif with two notes in its first half bar, "
                                   f"got onsets {motif.onsets!r}")
    kept = [(2 * o, s) for o, s in zip(motif.onsets, motif.steps) if 2 * o < BEATS_PER_BAR]
    return Motif(*map(tuple, zip(*kept)))


def change_last(motif: Motif, by: int) -> Motif:
    """The motif with its last note moved ``by`` scale steps (a new last interval; needs two notes)."""
    return replace(motif, steps=(*motif.steps[:-1], motif.steps[-1] + by))


def ornament(motif: Motif) -> Motif:
    """The motif with a neighbour note half a beat before its last note (needs a gap of a beat)."""
    if len(motif.onsets) < 2 or motif.onsets[-1] - motif.onsets[-2] < 1:
        raise InvalidArgumentError(f"ornament needs a motif whose last two notes are a beat or more apart, "
                                   f"got onsets {motif.onsets!r}")
    *onsets, last = motif.onsets
    *steps, goal = motif.steps
    neighbour = goal + 1 if goal + 1 != steps[-1] else goal - 1
    return Motif((*onsets, last - 0.5, last), (*steps, neighbour, goal))


def _variations(motif: Motif) -> list[Motif]:
    """The variations that apply to ``motif`` and change it."""
    options = [invert(motif)] if any(motif.steps) else []
    if sum(2 * o < BEATS_PER_BAR for o in motif.onsets) >= 2 and len(motif.onsets) > 2:
        options.append(augment(motif))
    options += [m for m in (change_last(motif, 1), change_last(motif, -1)) if m.steps[-1] != m.steps[-2]]
    if motif.onsets[-1] - motif.onsets[-2] >= 1 and len(motif.onsets) < 6:
        options.append(ornament(motif))
    return [m for m in options if max(m.steps) - min(m.steps) <= _MAX_VARIED_SPAN]


def _new_motif(rng: random.Random, level: int) -> Motif:
    """A new figure on one of the rhythms of density ``level``; a leap turns back by step."""
    onsets = tuple(float(o) for o in rng.choice(_RHYTHMS[level]))
    steps = [0]
    moves, weights = list(_MOVES), list(_MOVES.values())
    while len(steps) < len(onsets):
        last_move = steps[-1] - steps[-2] if len(steps) > 1 else 0
        move = -int(math.copysign(1, last_move)) if abs(last_move) >= 3 else rng.choices(moves, weights)[0]
        if max(*steps, steps[-1] + move) - min(*steps, steps[-1] + move) <= _MAX_SPAN:
            steps.append(steps[-1] + move)
    return Motif(onsets, tuple(steps))


@dataclass
class _Theme:
    """What a period is made of, remembered so that it can come back.

    Motifs ``a`` and ``b`` and the variations a form calls ``a'``, ``a''`` and ``b'``; the
    phrase length and form; the chord degrees of its phrases before the cadence's two bars
    (one set for every mode that could not play the earlier ones); the cadences of its
    question and answer; and where each figure started.
    """

    level: int
    n_bars: int
    form: tuple[str, ...]
    motifs: dict[str, Motif]
    harmony: list[tuple[int, ...]] = field(default_factory=list)
    #: The cadence of its question (True) and of its answer (False).
    cadences: dict[bool, str] = field(default_factory=dict)
    #: Where each figure started, in the melody's pentatonic steps from its middle tonic, by
    #: (label, the pentatonic's semitones from the tonic, chord degree, None), or with the
    #: previous pitch (semitones from that tonic) for None where the first place would
    #: repeat it.
    starts: dict[tuple[str, tuple[int, ...], int, int | None], int] = field(default_factory=dict)

    @classmethod
    def new(cls, rng: random.Random, level: int) -> _Theme:
        n_bars = rng.choices(list(PHRASE_BARS), list(PHRASE_BARS.values()))[0]
        a = _new_motif(rng, level)
        b = _new_motif(rng, level) if rng.random() < 0.6 else rng.choice(_variations(a) or [a])
        theme = cls(level, n_bars, rng.choice(_FORMS[n_bars]), {"a": a, "b": b})
        for label in ("a'", "a''", "b'"):
            theme.vary(label, rng)
        return theme

    def vary(self, label: str, rng: random.Random) -> None:
        """Make ``label`` a new variation of its motif (``"a"`` or ``"b"``) or of itself."""
        base = self.motifs[label[0]]
        self.motifs[label] = rng.choice(_variations(base) or [base])


@dataclass
class _Phrase:
    """One phrase's plan: its bars' chord degrees, form and cadence, and where it has got to."""

    degrees: tuple[int, ...]
    form: tuple[str, ...]
    cadence: str
    question: bool
    bar: int = -1


def _velocity(base: float, span: float, intensity: float) -> int:
    return max(1, min(127, round(base + span * intensity)))


def _in_range(pitch_class: int, low: int) -> int:
    """The pitch of ``pitch_class`` in the octave starting at ``low`` (MIDI)."""
    return low + (pitch_class - low) % 12


def density_level(intensity: float) -> int:
    """The melody's density level for ``intensity`` (0-1): 0 calm, 1 moderate, 2 lively
    (:data:`MAX_DENSITY`)."""
    return sum(intensity >= x for x in _LEVEL_FROM)


class Composer:
    """Chooses the notes of each beat from the key, the mode, the phrase and the intensity.

    Parameters
    ----------
    rng : random.Random
        The session's seeded generator.
    key, mode : str
        The starting tonality.
    allow_minor_seconds : bool
        If True, pad voicings may put two notes a minor second (or ninth) apart.
    max_density : int
        The liveliest melody density level used (0 calm to :data:`MAX_DENSITY`), whatever
        the intensity: a sparse palette composes at 0.

    Attributes
    ----------
    phrase : int
        The running number of the phrase in progress, from 1.
    phrase_started : bool
        Whether the bar just started by :meth:`start_bar` opens a phrase.
    """

    def __init__(self, rng: random.Random, key: str, mode: str, *, allow_minor_seconds: bool = False,
                 max_density: int = MAX_DENSITY):
        self._rng = rng
        self._allow_minor_seconds = bool(allow_minor_seconds)
        self.key, self.mode = key, mode
        self.chord: Chord = chord(key, mode, 0)
        self.phrase, self.phrase_started = 0, False
        self._plan: _Phrase | None = None
        # The first phrase in a tonality opens on its tonic chord, so that the listener (and an
        # analysis of the audio) hears where home is before the harmony walks.
        self._tonic_due = True
        self._max_density = int(check_range("max_density", max_density, 0, MAX_DENSITY))
        self._level = min(density_level(_START_INTENSITY), self._max_density)  # of the last beat
        self._theme: _Theme | None = None
        self._themes: list[_Theme] = []
        self._periods: Counter[int] = Counter()  # periods begun at each density level
        self._endings: Counter[str] = Counter()
        self._voicing: tuple[int, ...] = ()
        self._melody_pitch = (MELODY_RANGE[0] + MELODY_RANGE[1]) // 2
        self._bar_notes: list[tuple[float, float, int]] | None = None  # (onset, length in beats, pitch)
        self._recent_bars: list[tuple[tuple[float, int], ...]] = []  # (onset, pitch) of each bar
        self._windows: Counter[tuple] = Counter()  # how often each four-bar passage was played
        self._bars_played = 0

    # -- form and harmony ------------------------------------------------------------------

    def start_bar(self, key: str, mode: str) -> Chord:
        """Advance to the next bar in ``key`` and ``mode``; return its chord.

        When the tonality changed, the bar plays a chord the old and new keys share (if any),
        held by the melody, which ends the phrase; the new tonic opens the next phrase.
        """
        self.phrase_started = False
        self._bar_notes = None
        size = None
        if (key, mode) != (self.key, self.mode):
            pivot = pivot_degree(self.key, self.mode, key, mode, self._rng)
            self.key, self.mode = key, mode
            self._tonic_due = True
            if pivot not in (None, 0):
                self._plan = _Phrase((pivot,), ("pivot",), "pivot", question=False, bar=0)
                return self._set_chord(pivot, 3)
            self._plan = None
        if self._plan is None or self._plan.bar == len(self._plan.degrees) - 1:
            self._new_phrase()
        plan = self._plan
        plan.bar += 1
        if plan.form[plan.bar] == "cad":
            size = 3  # a plain triad is more final
        return self._set_chord(plan.degrees[plan.bar], size or (4 if self._rng.random() < 0.5 else 3))

    def _set_chord(self, degree: int, size: int) -> Chord:
        self.chord = chord(self.key, self.mode, degree, size)
        self._voicing = voice_chord(self.chord.pitch_classes, self._voicing, *PAD_RANGE,
                                    allow_minor_seconds=self._allow_minor_seconds)
        return self.chord

    def _new_phrase(self) -> None:
        """Plan the next phrase: a question opens a period on a new or remembered theme, and
        its answer mostly restates it (else takes a new length and form on its motifs)."""
        rng, last = self._rng, self._plan
        question = last is None or not last.question
        if question:
            self._theme = self._choose_theme(self._level)
        theme = self._theme
        n_bars, form = theme.n_bars, theme.form
        if not question and rng.random() >= _ANSWER_RESTATES:
            n_bars = rng.choices(list(PHRASE_BARS), list(PHRASE_BARS.values()))[0]
            form = rng.choice(_FORMS[n_bars])
        cadence = self._choose_cadence(question, theme.cadences.get(question))
        theme.cadences[question] = cadence
        self._endings[_ENDING[cadence]] += 1
        if n_bars == theme.n_bars:  # the theme's chords (any this mode can play), with this cadence
            usable = set(usable_degrees(self.key, self.mode))
            opening = next((h for h in theme.harmony if set(h) <= usable), None)
            if opening is None:
                opening = phrase_degrees(self.key, self.mode, n_bars, cadence, rng)[:-2]
                theme.harmony.append(opening)
            degrees = (*opening, *cadence_degrees(self.key, self.mode, cadence))
        else:
            degrees = phrase_degrees(self.key, self.mode, n_bars, cadence, rng)
        if self._tonic_due and len(degrees) > 2:  # the cadence's two chords stay as planned
            degrees = (0, *degrees[1:])
            self._tonic_due = False
        self._plan = _Phrase(degrees, form, cadence, question)
        self.phrase += 1
        self.phrase_started = True

    def _choose_cadence(self, question: bool, remembered: str | None) -> str:
        """The theme's cadence for a question or an answer (``remembered``), or at times a new
        one, but never an ending that already closes half the phrases (after the first few)."""
        n_phrases = sum(self._endings.values())
        allowed = [kind for kind in CADENCES if n_phrases < _FREE_PHRASES
                   or self._endings[_ENDING[kind]] < _MAX_ENDING_SHARE * n_phrases]
        if remembered in allowed and self._rng.random() >= _NEW_CADENCE:
            return remembered
        weights = {kind: w for kind, w in (_QUESTION if question else _ANSWER).items() if kind in allowed}
        weights = weights or dict.fromkeys(allowed, 1.0)
        return self._rng.choices(list(weights), list(weights.values()))[0]

    # -- the beat --------------------------------------------------------------------------

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

    # -- the melody ------------------------------------------------------------------------

    def _melody(self, beat_in_bar: int, period_s: float, intensity: float) -> list[BeatNote]:
        self._level = min(density_level(intensity), self._max_density)
        if self._bar_notes is None:
            self._bar_notes = self._compose_bar(self._level)
        notes = []
        for onset, length, pitch in self._bar_notes:
            if beat_in_bar <= onset < beat_in_bar + 1:
                strong = onset in STRONG_BEATS
                notes.append(BeatNote((onset - beat_in_bar) * period_s, pitch,
                                      _velocity(52 + 8 * strong, 36, intensity), length * period_s, "melody"))
        return notes

    def _compose_bar(self, level: int) -> list[tuple[float, float, int]]:
        """This bar's melody: ``(onset, length, pitch)`` with onsets and lengths in beats.

        A bar that would repeat a four-bar passage too often (:meth:`_overuse`) takes a
        variation of its figure (or another cadence figure) instead, the least overused if all are.
        """
        plan = self._plan
        label = plan.form[plan.bar]
        if label == "pivot":
            return self._remember(self._hold(self._nearest(set(self.chord.triad), self._melody_pitch)))
        last = self._melody_pitch
        if label == "cad":
            candidates = [lambda lv=lv, flip=flip: self._cadence_bar(lv, flip)
                          for lv in sorted(_LEVELS, key=lambda lv: abs(lv - level)) for flip in (False, True)]
        else:
            motif = self._theme.motifs[label]
            candidates = [lambda: self._motif_bar(motif, label)]
            candidates += [lambda m=m: self._motif_bar(m, None) for m in _variations(motif)]
            candidates += [lambda rank=rank: self._motif_bar(motif, label, rank) for rank in (1, 2)]
        best = None
        for make in candidates:
            self._melody_pitch = last
            notes = make()
            overuse = self._overuse(notes)
            if best is None or overuse < best[0]:
                best = overuse, notes, self._melody_pitch
            if not any(overuse[:2]):
                break
        _, notes, self._melody_pitch = best
        return self._remember(notes)

    def _window(self, notes: list[tuple[float, float, int]]) -> tuple | None:
        """The four-bar passage that ``notes`` would end, as ``(onset, pitch)`` per bar."""
        bars = (*self._recent_bars[-_WINDOW_BARS + 1:], tuple((o, p) for o, _, p in notes))
        return bars if len(bars) == _WINDOW_BARS else None

    def _overuse(self, notes: list[tuple[float, float, int]]) -> tuple[bool, bool, int]:
        """Whether ``notes`` would end a four-bar passage heard in each of the two four-bar
        spans just before it, whether it would end one heard more often than
        :data:`_MAX_WINDOW_SHARE` of the bars played so far allows, and how often that was."""
        window = self._window(notes)
        if window is None:
            return False, False, 0
        bars = (*self._recent_bars, window[-1])
        in_a_row = len(bars) == _REPEAT_SPAN and all(
            bars[-_WINDOW_BARS * (k + 1):-_WINDOW_BARS * k] == window for k in range(1, _MAX_REPEATS + 1))
        allowed = max(_MAX_REPEATS + 1, int(_MAX_WINDOW_SHARE * self._bars_played / _WINDOW_BARS))
        return in_a_row, self._windows[window] >= allowed, self._windows[window]

    def _remember(self, notes: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
        window = self._window(notes)
        if window is not None:
            self._windows[window] += 1
        self._bars_played += 1
        self._recent_bars = [*self._recent_bars, tuple((o, p) for o, _, p in notes)][1 - _REPEAT_SPAN:]
        return notes

    def _motif_bar(self, motif: Motif, label: str | None, rank: int = 0) -> list[tuple[float, float, int]]:
        pitches = self._place(motif, label, rank)
        ends = (*motif.onsets[1:], BEATS_PER_BAR)
        self._melody_pitch = pitches[-1]
        return [(o, _LEGATO * (end - o), p) for o, end, p in zip(motif.onsets, ends, pitches)]

    def _choose_theme(self, level: int) -> _Theme:
        """A new theme, remembered from now, for every :data:`_PERIODS_PER_THEME` periods of
        this density level; else a remembered theme of this level other than the last, at
        times with a variation redrawn."""
        rng = self._rng
        known = [t for t in self._themes if t.level == level and t is not self._theme]
        periods = self._periods[level]
        self._periods[level] += 1
        if known and periods % _PERIODS_PER_THEME:
            theme = rng.choice(known)
            varying = [label for label in theme.form if label not in ("a", "cad")]
            if varying and rng.random() < _VARY_ON_RECALL:
                theme.vary(rng.choice(varying), rng)
            return theme
        theme = _Theme.new(rng, level)
        self._themes = [*self._themes, theme][-_THEMES_REMEMBERED:]
        return theme

    def _melody_pitches(self) -> list[int]:
        """The pitches the melody keeps to: the key's pentatonic in :data:`MELODY_RANGE`."""
        low, high = MELODY_RANGE
        pcs = set(pentatonic(self.key, self.mode))
        return [p for p in range(low, high + 1) if p % 12 in pcs]

    def _home(self) -> tuple[int, int]:
        """The key's tonic and fifth (the scale's fifth degree) as pitch classes."""
        notes = scale(self.key, self.mode)
        return notes[0], notes[4]

    def _place(self, motif: Motif, label: str | None, rank: int = 0) -> list[int]:
        """Transpose ``motif`` so its first note is a chord tone near the last note and never on
        it, with as many of its strong-beat notes on the tonic or fifth as can be; return its
        pitches.

        The theme remembers where its figure ``label`` started on each chord, and starts it
        there again when it can, so that a restatement is exact. ``rank`` 1, 2, ... ask for
        the next best places instead, remembered nowhere.
        """
        pitches = self._melody_pitches()
        low, high = -min(motif.steps), len(pitches) - 1 - max(motif.steps)
        last = self._melody_pitch
        chord_tones = set(self.chord.pitch_classes[:3])
        home = self._home()
        target = (1 - _CENTRE_PULL) * last + _CENTRE_PULL * sum(MELODY_RANGE) / 2
        fitting = range(low, high + 1)
        starts = [s for s in fitting if pitches[s] % 12 in chord_tones] or list(fitting)
        strong = [step for onset, step in zip(motif.onsets, motif.steps) if onset in STRONG_BEATS]

        def weight(s: int) -> float:
            return (_HOME_WEIGHT ** sum(pitches[s + step] % 12 in home for step in strong)
                    * math.exp(-abs(pitches[s] - target) / _NEAR_SEMITONES)
                    * (_REPEAT_WEIGHT if pitches[s] == last else 1.0))

        ranked = sorted(starts, key=lambda s: (-weight(s), s))
        if rank or label is None:
            start = ranked[min(rank, len(ranked) - 1)]
        else:
            # Remembered in steps from the tonic nearest the middle of the range, by the
            # pentatonic's shape, so that a theme keeps its intervals in another key or mode
            # with the same pentatonic.
            middle = sum(MELODY_RANGE) / 2
            tonic = min((i for i, p in enumerate(pitches) if p % 12 == self._home()[0]),
                        key=lambda i: abs(pitches[i] - middle))
            shape = tuple(sorted((p - pitches[tonic]) % 12 for p in pitches[:5]))
            where = (label, shape, self.chord.degree, None)
            start = tonic + self._theme.starts.get(where, ranked[0] - tonic)
            if start in starts and pitches[start] == last:  # it starts elsewhere after that note
                where = (*where[:-1], last - pitches[tonic])
                start = tonic + self._theme.starts.get(where, ranked[0] - tonic)
            self._theme.starts.setdefault(where, start - tonic)
            if start not in starts:  # out of range, or not a tone of this mode's chord
                start = ranked[0]
        return [pitches[start + s] for s in motif.steps]

    def _nearest(self, pitch_classes: set[int], near: int, *, avoid: int | None = None) -> int:
        """The melody pitch with one of ``pitch_classes`` nearest to ``near``, other than ``avoid``
        (if it can); ties go to the lower."""
        low, high = MELODY_RANGE
        options = [p for p in range(low, high + 1) if p % 12 in pitch_classes and p != avoid] or \
                  [p for p in range(low, high + 1) if p % 12 in pitch_classes]
        return min(options, key=lambda p: (abs(p - near), p))

    def _hold(self, pitch: int) -> list[tuple[float, float, int]]:
        """One note held to the last beat of the bar, which is left silent (a breath)."""
        self._melody_pitch = pitch
        return [(0.0, _LEGATO * (BEATS_PER_BAR - 1), pitch)]

    def _cadence_bar(self, level: int, flip: bool = False) -> list[tuple[float, float, int]]:
        """The goal of the cadence, approached by ``level`` steps, then a breath.

        The approach comes down from above when the melody is above the goal, else up from
        below (the other way round if ``flip``), and from the other side when that would
        repeat the last note.

        The goal is the tonic, else the fifth (the other way round for a half cadence), if the
        chord holds it, else the first of the chord's tones in the melody's pentatonic.
        """
        tonic, fifth = self._home()
        pitches = self._melody_pitches()
        tones = self.chord.pitch_classes[:3]
        wanted = (fifth, tonic) if self._plan.cadence == "half" else (tonic, fifth)
        goal_pc = next(p for p in (*wanted, *tones) if p in tones and any(q % 12 == p for q in pitches))
        last = self._melody_pitch
        goal = self._nearest({goal_pc}, last, avoid=None if level else last)
        if level == 0:
            return self._hold(goal)
        at = pitches.index(goal)

        def approach_from(side: int) -> list[int] | None:
            inside = 0 <= at + side * level < len(pitches)
            return [pitches[at + side * k] for k in range(level, 0, -1)] if inside else None

        first = 1 if (last >= goal) != flip else -1
        options = [a for a in (approach_from(first), approach_from(-first)) if a is not None]
        approach = next((a for a in options if a[0] != last), options[0])
        onsets = (0.0, 2.0) if level == 1 else (0.0, 1.0, 2.0)
        ends = (*onsets[1:], BEATS_PER_BAR - 1)
        self._melody_pitch = goal
        return [(o, _LEGATO * (end - o), p) for o, end, p in zip(onsets, ends, [*approach, goal])]
