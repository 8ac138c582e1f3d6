"""The four instruments: pools of pyo voices that play notes at an exact sample.

Each voice is an oscillator under a ``Linseg`` envelope. A note is started from the block
callback with an envelope whose first segment is silent for the note's offset into the block,
so onsets fall on the exact sample whatever the block size. A voice is reused only after its
release has ended; when every voice is busy the note is dropped rather than cut (a cut clicks).

Idle voices are stopped, so that they cost no CPU: pyo computes every playing object in every
block, and the oscillators are most of the patch's cost while most voices of a pool are silent
most of the time. A voice starts with its note; at the instrument's next note, every voice
whose envelope ended before the block is stopped (it outputs exact zeros by then, so nothing
audible changes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurofeed.synth.score import Note


@dataclass(frozen=True)
class Shape:
    """An amplitude envelope, in seconds.

    Attributes
    ----------
    attack_s : float
        Rise from silence to the peak.
    sustain : float
        Level the note has decayed to (exponentially) when its duration ends, as a fraction
        of the peak: 1 holds, below 1 rings down like a struck string.
    release_s : float
        Fall to silence after the duration.
    """

    attack_s: float
    sustain: float
    release_s: float


# Piecewise-linear stand-in for an exponential fall: (fraction of the time, fraction of the level).
_EXP_FALL = ((0.0, 1.0), (0.15, 0.55), (0.35, 0.28), (0.6, 0.1), (1.0, 0.0))


def envelope_points(shape: Shape, offset_s: float, duration_s: float,
                    peak: float) -> list[tuple[float, float]]:
    """``Linseg`` points for one note: silent for ``offset_s``, then attack, decay and release.

    Returns
    -------
    list of (float, float)
        ``(time_s, amplitude)`` from the start of the block, ending at amplitude 0.
    """
    attack = min(shape.attack_s, max(duration_s, 0.002))
    hold = max(duration_s - attack, 0.0)
    points = [(0.0, 0.0), (offset_s, 0.0), (offset_s + attack, peak)]
    t = offset_s + attack
    if shape.sustain < 1.0 and hold > 0:
        for frac, level in _EXP_FALL[1:-1]:
            points.append((t + frac * hold, peak * (shape.sustain + (1 - shape.sustain) * level)))
    elif hold > 0:
        points.append((t + hold, peak))
    t += hold
    end_level = peak * shape.sustain if hold > 0 else peak
    points += [(t + frac * shape.release_s, end_level * level) for frac, level in _EXP_FALL]
    # A zero offset or zero hold gives points at equal times; Linseg wants them increasing.
    increasing = [points[0]]
    for point in points[1:]:
        if point[0] > increasing[-1][0]:
            increasing.append(point)
    return increasing


def midi_to_hz(pitch: float) -> float:
    """Frequency in Hz of a MIDI pitch (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


class Instrument:
    """A pool of identical voices mixed to one mono signal.

    Parameters
    ----------
    pyo : module
        The pyo module.
    voices : int
        How many notes may sound at once, releases included.
    shape : Shape
        The amplitude envelope.
    gain : float
        Peak amplitude of a note at velocity 127.
    make_voice : callable
        ``make_voice(freq, env) -> (output, [pyo objects to keep])``: the oscillator for one
        voice, given its frequency ``Sig`` (Hz) and its envelope (amplitude 0-``gain``). The
        objects to keep are the voice's own: they are stopped while the voice is idle. A third
        item, ``on_note(hz)``, if given, is called as each note starts on the voice.
    sample_rate : float
        Hz.
    """

    def __init__(self, pyo, *, voices: int, shape: Shape, gain: float, make_voice, sample_rate: float):
        self.shape, self._gain, self._sr = shape, gain, float(sample_rate)
        self._freqs = [pyo.Sig(440.0) for _ in range(voices)]
        self._envs = [pyo.Linseg([(0.0, 0.0), (0.001, 0.0)]) for _ in range(voices)]
        built = [make_voice(f, e) for f, e in zip(self._freqs, self._envs)]
        self._on_note = [b[2] if len(b) > 2 else None for b in built]
        built = [b[:2] for b in built]
        self._keep = [obj for _, objs in built for obj in objs]
        self._free_at = [0] * voices  # first sample at which each voice is silent again
        self.output = pyo.Mix([out for out, _ in built], voices=1)
        # What each voice runs while it sounds: its envelope, then its own objects.
        self._parts = [[env, *objs] for env, (_, objs) in zip(self._envs, built)]
        self._running: set[int] = set()
        for parts in self._parts:
            for obj in parts:
                obj.stop()

    def play(self, note: Note, onset: int, block_start: int) -> bool:
        """Start ``note`` at sample ``onset`` (in the block that starts at ``block_start``).

        Returns False, and plays nothing, when every voice is still sounding.
        """
        self._stop_idle(block_start)
        voice = min(range(len(self._free_at)), key=self._free_at.__getitem__)
        if self._free_at[voice] > onset:
            return False
        peak = self._gain * (note.velocity / 127.0) ** 1.5
        points = envelope_points(self.shape, (onset - block_start) / self._sr, note.duration_s, peak)
        self._free_at[voice] = block_start + math.ceil(points[-1][0] * self._sr) + 1
        hz = midi_to_hz(note.pitch)
        self._freqs[voice].value = hz
        if self._on_note[voice] is not None:
            self._on_note[voice](hz)
        env = self._envs[voice]
        env.list = points
        for obj in self._parts[voice]:
            obj.play()  # the envelope (first) restarts from its new points
        self._running.add(voice)
        return True

    def _stop_idle(self, block_start: int) -> None:
        """Stop the voices that are silent from ``block_start`` on (their envelopes have ended)."""
        for voice in [v for v in self._running if self._free_at[v] <= block_start]:
            for obj in self._parts[voice]:
                obj.stop()
            self._running.discard(voice)
