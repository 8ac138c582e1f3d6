"""Binaural beats and isochronic tones, mixed under the music, and the headphone check.

Binaural: the left carrier is ``carrier - f/2`` and the right ``carrier + f/2``, both driven
from the same two gliding signals, so they differ by exactly ``f`` Hz even while gliding.
Isochronic: one carrier, in both ears, pulsed ``f`` times a second by a raised cosine over the
whole cycle (100% amplitude modulation). Its only sidebands are at ``carrier +- f``, so the
pulsing keeps its full depth through any band-pass that holds them, as the ear's critical band
does; a flat-topped gate's harmonics fall outside such a band and leave a floor between pulses.

Why these carriers. A carrier the music also sounds is masked by it: a music partial inside
the carrier's band fills the gaps between isochronic pulses, and a partial near an ear's
carrier beats against it, a second beat beside the intended one. So a carrier is never a
note of the key: it is the centre of a gap between the tonality's *music partials*, the
fundamentals and harmonics 2 to :data:`HARMONICS` of every scale pitch in the voices' ranges
(:func:`music_partials_hz`). Gaps are narrow (the partials of seven pitch classes and their
harmonics leave about 5.3% of the frequency free at best, a little under the minor seventh of
the key's parent major scale) and widen with frequency, so a carrier is the centre of the
lowest gap in its kind's :data:`CARRIER_RANGE_HZ` that leaves :data:`CLEARANCE_TARGET_HZ` on
either side, or else of the widest gap there.

Binaural beats are most salient with carriers of a few hundred Hz (around 400-500 Hz), so
binaural carriers stay within 300-600 Hz: 310-586 Hz, with 16.5-31.2 Hz of clearance, 20 Hz or
more in 8 of the 12 parent scales. Every ear's carrier so stays ``f + 2`` Hz clear of the
partials for beats up to 9.6 Hz (up to 12.5 Hz with 20 Hz of clearance);
:func:`entrainment_warning` says when not. Isochronic tones need no particular carrier, but
their depth as heard (the mix band-passed +-20 Hz around the carrier, a Butterworth of order
4) needs more clearance. Measured with the music kit on 30 s renders (warm palette, 57 BPM,
a 10 Hz pulse at level 0.3, intensity 0.5 and 0.7): 0.73-0.81 at 20.8 Hz of clearance,
0.82 at 22.0 Hz, 0.86-0.87 at 23.4 Hz, 0.90-0.91 at 24.7 Hz, 0.95 at 26.2 Hz, 0.96-0.98 at
27.8 Hz. So isochronic carriers keep 27 Hz and lie at 522-986 Hz. Each kind keeps its
own carrier, so switching kind crossfades without a glide; a change of mode changes the
parent scale, so it glides both carriers to their new gaps.

The headphone check (:meth:`EntrainmentVoice.start_ear_check`), for binaural presets: in
:data:`EAR_CHECK_S` seconds, two soft chimes (the key's tonic, then its fifth, a sine with a
quiet octave) in the left ear alone, then the same in the right ear alone, each rising and
falling along raised cosines, so nothing clicks. The entrainment is silent meanwhile and
fades in over :data:`EAR_CHECK_FADE_S` after it.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math

from neurofeed._check import check_option
from neurofeed.synth.composer import BASS_RANGE, MELODY_RANGE, PAD_RANGE, PULSE_RANGE
from neurofeed.synth.instruments import midi_to_hz
from neurofeed.synth.state import Entrainment
from neurofeed.synth.theory import key_pitch_class, normalise_key, normalise_mode, scale

#: The highest harmonic of a note counted as a music partial (the fundamental is the first).
HARMONICS = 5
#: Per kind of entrainment, where its carrier is searched for, Hz (lowest, highest).
CARRIER_RANGE_HZ = {"binaural": (300.0, 600.0), "isochronic": (300.0, 1000.0)}
#: Per kind of entrainment, the clearance in Hz its carrier keeps from every music partial
#: where its range allows (measured, see the module's notes).
CLEARANCE_TARGET_HZ = {"binaural": 20.0, "isochronic": 27.0}
#: Quality factor of :meth:`EntrainmentVoice.notch`'s two band-stop stages: -3 dB at
#: +-carrier/50 each. The nearest partial, at least 5.3% of the carrier away, loses 1.2 dB.
NOTCH_Q = 25.0
# The raised-cosine pulse keeps 3/8 of a steady tone's mean square: the pulsed carrier's peak
# is raised by this much, so that at the same level it is as loud (RMS) as a binaural carrier.
_PULSE_RMS_GAIN = math.sqrt(8 / 3)
#: Seconds of the headphone check: two notes in the left ear, then two in the right.
EAR_CHECK_S = 4.0
#: Seconds over which the entrainment fades in after the headphone check.
EAR_CHECK_FADE_S = 2.0
# The check's notes: (ear, 0 left or 1 right; onset in s; semitones above the tonic). Each
# rises over _NOTE_RISE_S and falls over _NOTE_FALL_S, both raised cosines; notes in one ear
# do not overlap, so its frequency steps between them, in silence, _STEP_LEAD_S before the next.
_EAR_NOTES = ((0, 0.1, 0), (0, 1.0, 7), (1, 2.1, 0), (1, 3.0, 7))
_NOTE_RISE_S = 0.04
_NOTE_FALL_S = 0.8
_STEP_LEAD_S = 0.03
# The lowest tonic of the check (MIDI 69, A4): tonic and fifth sit in the octave above, clear
# of headphones' bass roll-off and easy to place in each ear.
_EAR_CHECK_LOW = 69
# Amplitude of the octave partial, relative to the fundamental: a soft chime, not a beep.
_CHIME_OCTAVE = 0.25
# Points per raised-cosine edge in a Linseg (the polyline stays within 0.5% of the curve).
_EDGE_POINTS = 16


def music_partials_hz(key: str, mode: str) -> tuple[float, ...]:
    """Every music partial of a tonality, in Hz, ascending.

    The fundamentals and harmonics 2 to :data:`HARMONICS` of every pitch of ``key``'s
    ``mode`` scale within the pad, melody, bass and pulse ranges (12-TET, A4 = 440 Hz).
    """
    pitch_classes = set(scale(key, mode))
    pitches = {p for low, high in (PAD_RANGE, MELODY_RANGE, BASS_RANGE, PULSE_RANGE)
               for p in range(low, high + 1) if p % 12 in pitch_classes}
    return tuple(sorted({midi_to_hz(p) * h for p in pitches for h in range(1, HARMONICS + 1)}))


def _clearance(partials: tuple[float, ...], hz: float) -> float:
    i = bisect.bisect_left(partials, hz)
    return min(abs(hz - partials[j]) for j in (i - 1, i) if 0 <= j < len(partials))


@functools.cache
def _carrier(key: str, mode: str, kind: str) -> tuple[float, float]:
    """(carrier, clearance) in Hz for a tonality and a kind of entrainment."""
    partials = music_partials_hz(key, mode)
    low, high = CARRIER_RANGE_HZ[kind]
    # Midway between neighbouring partials is as far from both as a point between them can be.
    gaps = [((a + b) / 2, (b - a) / 2) for a, b in itertools.pairwise(partials) if low <= (a + b) / 2 <= high]
    clear = [gap for gap in gaps if gap[1] >= CLEARANCE_TARGET_HZ[kind]]
    return clear[0] if clear else max(gaps, key=lambda gap: gap[1])


def _checked(key: str, mode: str, kind: str) -> tuple[float, float]:
    return _carrier(normalise_key(key), normalise_mode(mode), check_option("kind", kind, CLEARANCE_TARGET_HZ))


def carrier_hz(key: str, mode: str, kind: str = "binaural") -> float:
    """The centre carrier for a tonality, in Hz.

    The centre of the lowest gap between the tonality's music partials
    (:func:`music_partials_hz`) within the kind's :data:`CARRIER_RANGE_HZ` that leaves its
    :data:`CLEARANCE_TARGET_HZ` on either side, or else of the widest gap there; deterministic.

    Parameters
    ----------
    key : str
        The tonic, e.g. ``"D"`` or ``"F#"``.
    mode : str
        One of :data:`neurofeed.synth.theory.MODES`.
    kind : str
        ``"binaural"`` (carriers 310-586 Hz over all tonalities) or ``"isochronic"``
        (522-986 Hz).

    Returns
    -------
    float
        Hz.
    """
    return _checked(key, mode, kind)[0]


def carrier_clearance_hz(key: str, mode: str, kind: str = "binaural") -> float:
    """Distance in Hz from :func:`carrier_hz` to the nearest music partial.

    16.5-31.2 Hz for binaural carriers, 27.8-52.4 Hz for isochronic ones.
    """
    return _checked(key, mode, kind)[1]


def needed_clearance_hz(entrainment: Entrainment) -> float:
    """The clearance in Hz the carrier needs so that no music partial comes near ``entrainment``.

    No partial may come within ``f + 2`` Hz of a tone the listener should hear alone: of each
    ear's carrier (the centre -+ ``f/2``) for binaural beats, so ``1.5 f + 2`` from the centre;
    of the carrier (whose sidebands are at +- ``f``) for isochronic tones. 0 when off.
    """
    f = entrainment.frequency_hz
    return {"binaural": 1.5 * f + 2, "isochronic": f + 2}.get(entrainment.kind, 0.0)


def entrainment_warning(key: str, mode: str, entrainment: Entrainment) -> str | None:
    """One line saying how the music may mask ``entrainment`` in this tonality, or None.

    The carrier is then still the best one (:func:`carrier_hz`), but its clearance is less than
    :func:`needed_clearance_hz`: whenever a note with the nearest partial sounds, that partial
    beats against an ear's carrier (binaural), a second beat beside the intended one, or
    falls among the pulse's sidebands and fills the gaps between pulses (isochronic).
    """
    if entrainment.kind == "off":
        return None
    needed = needed_clearance_hz(entrainment)
    clearance = carrier_clearance_hz(key, mode, entrainment.kind)
    if clearance >= needed:
        return None
    highest = (clearance - 2) / (1.5 if entrainment.kind == "binaural" else 1.0)
    effect = ("beat against the ear's carriers beside the intended beat" if entrainment.kind == "binaural"
              else "fill the gaps between pulses")
    return (f"{entrainment.kind} entrainment at {entrainment.frequency_hz:g} Hz in {normalise_key(key)} "
            f"{normalise_mode(mode)}: the music's partials come within {clearance:.1f} Hz of the "
            f"{carrier_hz(key, mode, entrainment.kind):.1f} Hz carrier, which needs {needed:.1f} Hz; "
            f"while those notes sound they {effect} (at most {highest:.1f} Hz avoids it here)")


def _raised_cosine(start_s: float, stop_s: float, start: float, stop: float) -> list[tuple[float, float]]:
    """Linseg points of a raised-cosine move from ``start`` to ``stop``, after the point at ``start_s``."""
    return [(start_s + (stop_s - start_s) * i / _EDGE_POINTS,
             start + (stop - start) * (1 - math.cos(math.pi * i / _EDGE_POINTS)) / 2)
            for i in range(1, _EDGE_POINTS + 1)]


def ear_check_points(key: str, peak: float) -> tuple[list, list]:
    """Linseg points of the headphone check in each ear: (amplitudes, frequencies in Hz).

    Each is a pair (left, right) of ``(time_s, value)`` lists from the check's start: in each
    ear the key's tonic, then the fifth above, in the octave from A4, each note rising to
    ``peak`` and falling back to silence along raised cosines.
    """
    tonic = _EAR_CHECK_LOW + (key_pitch_class(key) - _EAR_CHECK_LOW) % 12
    amps: tuple[list, list] = ([(0.0, 0.0)], [(0.0, 0.0)])
    freqs: tuple[list, list] = ([], [])
    for ear, onset, semitones in _EAR_NOTES:
        hz = midi_to_hz(tonic + semitones)
        amps[ear].append((onset, 0.0))
        amps[ear].extend(_raised_cosine(onset, onset + _NOTE_RISE_S, 0.0, peak))
        amps[ear].extend(_raised_cosine(onset + _NOTE_RISE_S, onset + _NOTE_RISE_S + _NOTE_FALL_S, peak, 0.0))
        if freqs[ear]:
            freqs[ear].extend([(onset - _STEP_LEAD_S, freqs[ear][-1][1]), (onset - _STEP_LEAD_S / 2, hz)])
        else:
            freqs[ear].append((0.0, hz))
    return amps, freqs


class EntrainmentVoice:
    """The entrainment generator and the headphone check: a stereo pyo signal in :attr:`output`.

    Parameters
    ----------
    pyo : module
        The pyo module.
    key : str
        Starting key.
    mode : str
        Starting mode; with ``key`` it sets the carriers (:func:`carrier_hz`).
    entrainment : Entrainment
        Starting settings.
    reference : float
        Peak amplitude of a steady carrier at ``level`` 1.0, matched to the music's loudness at
        intensity 0.5; isochronic pulses are as loud (RMS), so peak higher.
    glide_s : float
        Seconds over which frequency, level and carrier changes glide.

    Attributes
    ----------
    carrier : pyo object
        The centre carrier in Hz of the kind playing (or last played), gliding: binaural ears'
        carriers are ``carrier -+ beat / 2``, isochronic sidebands ``carrier +- beat``.
    beat : pyo object
        The beat (binaural) or pulse (isochronic) frequency in Hz, gliding.
    output : pyo object
        Two channels, left and right.
    """

    def __init__(self, pyo, *, key: str, mode: str, entrainment: Entrainment,
                 reference: float, glide_s: float):
        self._pyo = pyo
        self._keep = []  # pyo objects of notch() that its result reads
        self._key, self._mode = key, mode
        self._reference = reference
        # The kind whose carrier `carrier` follows: the last one that was on.
        self._kind = "binaural" if entrainment.kind == "off" else entrainment.kind
        choices = self._choices()
        self._carriers = {kind: pyo.SigTo(hz, time=glide_s, init=hz) for kind, hz in choices.items()}
        self.carrier = pyo.SigTo(choices[self._kind], time=glide_s, init=choices[self._kind])
        self.beat = pyo.SigTo(entrainment.frequency_hz, time=glide_s, init=entrainment.frequency_hz)
        binaural, isochronic = self._levels(entrainment)
        self._on = pyo.SigTo(float(entrainment.kind != "off"), time=glide_s, init=0.0)
        self._binaural_amp = pyo.SigTo(binaural, time=glide_s, init=0.0)
        self._iso_amp = pyo.SigTo(isochronic, time=glide_s, init=0.0)
        self._half_beat = self.beat * 0.5
        self._left_hz = self._carriers["binaural"] - self._half_beat
        self._right_hz = self._carriers["binaural"] + self._half_beat
        self._binaural = pyo.Sine(freq=[self._left_hz, self._right_hz], mul=self._binaural_amp)
        # Phase 0.75 starts the pulse at its silent point.
        self._gate = pyo.Sine(freq=self.beat, phase=0.75, mul=0.5, add=0.5)
        self._iso = pyo.Sine(freq=self._carriers["isochronic"], mul=self._gate * self._iso_amp)
        # 1 - hold: silent through the headphone check, then rising; 1 when there is no check.
        self._hold = pyo.Linseg([(0.0, 1.0), (EAR_CHECK_S, 1.0),
                                 *_raised_cosine(EAR_CHECK_S, EAR_CHECK_S + EAR_CHECK_FADE_S, 1.0, 0.0)])
        self._presence = 1.0 - self._hold
        # The check waits, stopped (so silent and costing nothing), for start_ear_check.
        self._check_amp = [pyo.Linseg([(0.0, 0.0), (1.0, 0.0)]) for _ in range(2)]
        self._check_hz = [pyo.Linseg([(0.0, 0.0), (1.0, 0.0)]) for _ in range(2)]
        self._check = pyo.Sine(freq=self._check_hz, mul=self._check_amp).stop()
        self._chime = pyo.Sine(freq=[hz * 2 for hz in self._check_hz],
                               mul=[amp * _CHIME_OCTAVE for amp in self._check_amp]).stop()
        self.output = (self._binaural + self._iso) * self._presence + self._check + self._chime

    def _choices(self) -> dict[str, float]:
        return {kind: carrier_hz(self._key, self._mode, kind) for kind in CLEARANCE_TARGET_HZ}

    def _levels(self, entrainment: Entrainment) -> tuple[float, float]:
        amp = entrainment.level * self._reference
        return (amp if entrainment.kind == "binaural" else 0.0,
                amp * _PULSE_RMS_GAIN if entrainment.kind == "isochronic" else 0.0)

    def set(self, entrainment: Entrainment) -> None:
        """Glide to new settings; switching kind crossfades one generator out and the other in."""
        binaural, isochronic = self._levels(entrainment)
        self._binaural_amp.value = binaural
        self._iso_amp.value = isochronic
        self.beat.value = entrainment.frequency_hz
        self._on.value = float(entrainment.kind != "off")
        if entrainment.kind != "off":
            self._kind = entrainment.kind
            self.carrier.value = self._choices()[self._kind]

    def set_tonality(self, key: str, mode: str) -> None:
        """Glide the carriers to the ones chosen for ``key`` and ``mode`` (:func:`carrier_hz`)."""
        self._key, self._mode = key, mode
        choices = self._choices()
        for kind, carrier in self._carriers.items():
            carrier.value = choices[kind]
        self.carrier.value = choices[self._kind]

    def notch(self, signal):
        """``signal`` with the carrier's band taken out while entrainment plays, so it cannot mask it.

        For the music bus and noise textures. Music partials leave a gap around the carrier,
        but their reverb, attacks and skirts still reach into it. Measured with the music kit
        on 30 s renders (57 BPM, level 0.3; a carrier alone gives -7 dB of beating), without
        and with the notch, in the warm, ambient and drone palettes: the beating of a deep-theta
        tonality's carriers (A Mixolydian, binaural 6 Hz, intensity 0.4) -2.9/-13.6,
        -12.2/-23.7 and -23.9/-31.4 dB; of the least clear binaural carriers (G Dorian,
        intensity 0.7) -20.5/-21.3, -2.0/-3.1 and -16.6/-19.0 dB; the isochronic depth of the
        least clear isochronic carrier (E Dorian, 10 Hz, intensity 0.7) 0.925/0.940,
        0.938/0.946 and 0.943/0.951. The nearest partial loses at most 1.2 dB. Two band-stop
        biquads of Q :data:`NOTCH_Q` follow :attr:`carrier`; they fade in and out with the
        entrainment, leaving ``signal`` untouched while it is off.

        Parameters
        ----------
        signal : pyo object
            Any number of channels.

        Returns
        -------
        pyo object
            The notched signal, as many channels; keep a reference to it.
        """
        stopped = self._pyo.Biquadx(signal, freq=self.carrier, q=NOTCH_Q, type=3, stages=2)
        removed = stopped - signal
        self._keep += [stopped, removed]
        return signal + removed * self._on

    def start_ear_check(self) -> None:
        """Start the headphone check now: chimes in the left ear, then the right, for :data:`EAR_CHECK_S`.

        The entrainment is silent through the check and fades in over :data:`EAR_CHECK_FADE_S`
        after it. Call once, from the block callback of the first block, in the current key.
        """
        # The check peaks level with the music's reference sine (as loud as the music at intensity
        # 0.5), chime included. Its notes decay, so they stay under the music's loudness: their
        # momentary loudness peaks 4-5 LU under the music's median at intensity 0.3, and 1-3 LU
        # under it at intensity 0, in every palette (measured with the music kit).
        amps, freqs = ear_check_points(self._key, self._reference / (1 + _CHIME_OCTAVE))
        for envelope, points in zip(self._check_amp + self._check_hz, amps + freqs, strict=True):
            envelope.setList(points)
            envelope.play()
        self._check.play()
        self._chime.play()
        self._hold.play()
