"""The score log: every note the engine played and every parameter change, exportable as MIDI.

Times are seconds of audio time (the engine's sample clock), exact to the sample, at which the
output carries the note or change (the limiter's few milliseconds of look-ahead included). The audio
thread appends and other threads may read at any time: appending to a list is atomic in
CPython, and readers work on copies.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from neurofeed.synth.state import OLD_ENTRAINMENT_HZ, MusicState
from neurofeed.synth.theory import KEYS, key_pitch_class

#: General MIDI channel and program (0-based) that best resembles each voice.
MIDI_VOICES: dict[str, tuple[int, int]] = {
    "pad": (0, 89),      # Pad 2 (warm)
    "melody": (1, 4),    # Electric Piano 1
    "bass": (2, 32),     # Acoustic Bass
    "pulse": (3, 12),    # Marimba
}

#: Names of the changes the music makes by itself (beside a MusicState's fields): the tempo of
#: each beat, the key and mode of each bar, the chord, and the number of each phrase at its
#: first bar.
MUSIC_CHANGES: tuple[str, ...] = ("beat_tempo_bpm", "bar_key", "bar_mode", "chord", "phrase")

# Continuous parameters also written as controllers (0-1 scaled to 0-127), for DAWs.
_CONTROLLERS = {"volume": 7, "intensity": 11, "brightness": 74}
# Semitones from each mode's tonic to the tonic of the major key with the same signature.
_TO_PARENT_MAJOR = {mode: (12 - offset) % 12 for mode, offset in zip(
    ("ionian", "dorian", "phrygian", "lydian", "mixolydian", "aeolian", "locrian"),
    (0, 2, 4, 5, 7, 9, 11))}


@dataclass(frozen=True)
class Note:
    """One played note.

    Attributes
    ----------
    time_s : float
        Onset in seconds of audio time.
    pitch : int
        MIDI note number.
    velocity : int
        MIDI velocity, 1-127.
    duration_s : float
        Seconds from onset to the start of the release.
    voice : str
        ``"pad"``, ``"melody"``, ``"bass"`` or ``"pulse"``.
    """

    time_s: float
    pitch: int
    velocity: int
    duration_s: float
    voice: str


@dataclass(frozen=True)
class Change:
    """A change that became audible: ``name`` took ``value`` at ``time_s`` (seconds of audio time).

    Names are the fields of :meth:`MusicState.to_dict` (when the engine took a new state) and
    :data:`MUSIC_CHANGES` (when the music itself moved: tempo on a beat, key, mode and chord
    on a bar line, a new phrase on its first bar).
    """

    time_s: float
    name: str
    value: float | str


class ScoreLog:
    """Notes, parameter changes and the states taken, in the order they sounded."""

    def __init__(self):
        self.notes: list[Note] = []
        self.changes: list[Change] = []
        #: ``(time_s, MusicState)`` for every state the engine took, at the block it took effect.
        self.states: list[tuple[float, MusicState]] = []
        self._last: dict[str, float | str] = {}

    @classmethod
    def from_records(cls, notes: list[Note], changes: list[Change]) -> ScoreLog:
        """A score from notes and changes read back, e.g. from a session's score tables.

        A change named ``entrainment_frequency_hz`` (score tables written before the name
        became ``entrainment_hz``) is read as ``entrainment_hz``.
        """
        score = cls()
        score.notes = sorted(notes, key=lambda n: n.time_s)
        changes = [Change(c.time_s, "entrainment_hz", c.value) if c.name == OLD_ENTRAINMENT_HZ
                   else c for c in changes]
        score.changes = sorted(changes, key=lambda c: c.time_s)
        return score

    def add_note(self, note: Note) -> None:
        self.notes.append(note)

    def add_change(self, time_s: float, name: str, value, *, again: bool = False) -> None:
        """Log ``name = value`` unless it already has that value (or ``again``: an event, such
        as the same track starting once more)."""
        if again or self._last.get(name) != value:
            self._last[name] = value
            self.changes.append(Change(time_s, name, value))

    def add_state(self, time_s: float, state: MusicState) -> None:
        """Log a state the engine took, and each field of it that changed."""
        self.states.append((time_s, state))
        for name, value in state.to_dict().items():
            self.add_change(time_s, name, value)

    def to_midi(self, path: str | Path, *, ticks_per_beat: int = 480) -> Path:
        """Write a type-1 standard MIDI file: one track per voice and a conductor track.

        The conductor track carries the tempo map (one ``set_tempo`` per tempo change, on the
        beat where it took effect), key signatures, chord names as markers, and every other
        parameter change as a text event ``name=value``. Volume, intensity and brightness are
        also written as controllers 7, 11 and 74 on every voice's channel.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        import mido

        notes, changes = list(self.notes), list(self.changes)
        tempo_map = _tempo_map(changes)
        tick = _seconds_to_ticks(tempo_map, ticks_per_beat)
        conductor: list[tuple[int, int, mido.MetaMessage | mido.Message]] = []
        voice_events: dict[str, list] = {voice: [] for voice in MIDI_VOICES}
        conductor += [(tick(t), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
                      for t, bpm in tempo_map]
        signature_times = sorted({c.time_s for c in changes if c.name in ("bar_key", "bar_mode")})
        conductor += [(tick(t), 1, _key_signature(changes, t)) for t in signature_times]
        for change in changes:
            t = tick(change.time_s)
            if change.name in ("beat_tempo_bpm", "bar_key", "bar_mode"):
                continue
            elif change.name == "chord":
                conductor.append((t, 2, mido.MetaMessage("marker", text=str(change.value))))
            elif change.name == "phrase":
                conductor.append((t, 2, mido.MetaMessage("cue_marker", text=f"phrase {change.value}")))
            else:
                text = f"{change.name}={change.value:g}" if isinstance(change.value, float) else \
                    f"{change.name}={change.value}"
                conductor.append((t, 3, mido.MetaMessage("text", text=text)))
                if change.name in _CONTROLLERS:
                    for events in voice_events.values():
                        events.append((t, 1, change.name, min(127, round(change.value * 127))))
        midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
        midi.tracks.append(_track("neurofeed", conductor))
        for voice, (channel, program) in MIDI_VOICES.items():
            events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
            for t, order, name, value in voice_events[voice]:
                events.append((t, order, mido.Message("control_change", channel=channel,
                                                      control=_CONTROLLERS[name], value=value)))
            for note in notes:
                if note.voice == voice:
                    on, off = tick(note.time_s), tick(note.time_s + note.duration_s)
                    events.append((on, 2, mido.Message("note_on", channel=channel, note=note.pitch,
                                                        velocity=note.velocity)))
                    # Offs sort before ons at the same tick, so a repeated pitch is not cut short.
                    events.append((max(off, on + 1), 0, mido.Message("note_off", channel=channel,
                                                                      note=note.pitch, velocity=0)))
            midi.tracks.append(_track(voice, events))
        path = Path(path)
        midi.save(path)
        return path


def _tempo_map(changes: list[Change]) -> list[tuple[float, float]]:
    """``(time_s, bpm)`` for every beat tempo change; the first tempo holds from time 0."""
    tempo_map: list[tuple[float, float]] = []
    for c in changes:
        if c.name == "beat_tempo_bpm" and (not tempo_map or tempo_map[-1][1] != c.value):
            tempo_map.append((c.time_s if tempo_map else 0.0, float(c.value)))
    return tempo_map or [(0.0, 120.0)]


def _seconds_to_ticks(tempo_map: list[tuple[float, float]], ticks_per_beat: int):
    """A function mapping seconds of audio time to MIDI ticks under ``tempo_map``."""
    starts, start_ticks = [], []
    ticks = 0.0
    for i, (t, _bpm) in enumerate(tempo_map):
        if i:
            prev_t, prev_bpm = tempo_map[i - 1]
            ticks += (t - prev_t) * prev_bpm / 60.0 * ticks_per_beat
        starts.append(t)
        start_ticks.append(ticks)

    def tick(time_s: float) -> int:
        i = max(0, bisect.bisect_right(starts, time_s) - 1)
        return round(start_ticks[i] + (time_s - starts[i]) * tempo_map[i][1] / 60.0 * ticks_per_beat)

    return tick


def _key_signature(changes: list[Change], time_s: float):
    """The key signature in force at ``time_s``: the major key that shares the mode's notes."""
    import mido

    key, mode = "C", "ionian"
    for change in changes:
        if change.time_s > time_s:
            break
        if change.name == "bar_key":
            key = change.value
        elif change.name == "bar_mode":
            mode = change.value
    return mido.MetaMessage("key_signature", key=KEYS[(key_pitch_class(key) + _TO_PARENT_MAJOR[mode]) % 12])


def _track(name: str, events: list):
    """A MIDI track from ``(tick, order, message)`` triples, sorted, in delta times."""
    import mido

    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
    now = 0
    for t, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=t - now))
        now = t
    return track
