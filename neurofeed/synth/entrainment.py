"""Binaural beats and isochronic tones, mixed under the music.

Binaural: the left carrier is ``carrier - f/2`` and the right ``carrier + f/2``, both driven
from the same two gliding signals, so they differ by exactly ``f`` Hz even while gliding.
Isochronic: one carrier, in both ears, gated on and off ``f`` times a second by a pulse with
raised-cosine edges (a square gate would click at every edge). The carrier is the key's tonic
between 140 and 280 Hz, so the tone belongs to the harmony.
"""

from __future__ import annotations

from neurofeed.synth.state import Entrainment
from neurofeed.synth.theory import key_pitch_class

#: Lowest carrier in Hz; the carrier is the tonic in the octave [CARRIER_LOW_HZ, 2 * CARRIER_LOW_HZ).
CARRIER_LOW_HZ = 140.0
# Gate shape over one cycle: rise, on, fall, off (fractions of 8192 table points).
_GATE_POINTS = [(0, 0.0), (1024, 1.0), (3584, 1.0), (4608, 0.0), (8191, 0.0)]


def carrier_hz(key: str) -> float:
    """The tonic of ``key`` in Hz, in the octave from :data:`CARRIER_LOW_HZ`."""
    hz = 440.0 * 2.0 ** ((key_pitch_class(key) - 9) / 12.0)  # that pitch class near A4
    while hz >= 2 * CARRIER_LOW_HZ:
        hz /= 2
    while hz < CARRIER_LOW_HZ:
        hz *= 2
    return hz


class EntrainmentVoice:
    """The entrainment generator: a stereo pyo signal in :attr:`output`.

    Parameters
    ----------
    pyo : module
        The pyo module.
    key : str
        Starting key (sets the carrier).
    entrainment : Entrainment
        Starting settings.
    reference : float
        Peak amplitude at ``level`` 1.0, matched to the music's loudness at intensity 0.5.
    glide_s : float
        Seconds over which frequency, level and carrier changes glide.
    """

    def __init__(self, pyo, *, key: str, entrainment: Entrainment, reference: float, glide_s: float):
        self._reference = reference
        self._glide_s = glide_s
        binaural, isochronic = self._levels(entrainment)
        self._carrier = pyo.SigTo(carrier_hz(key), time=glide_s, init=carrier_hz(key))
        self._beat = pyo.SigTo(entrainment.frequency_hz, time=glide_s, init=entrainment.frequency_hz)
        self._binaural_amp = pyo.SigTo(binaural, time=glide_s, init=0.0)
        self._iso_amp = pyo.SigTo(isochronic, time=glide_s, init=0.0)
        self._half_beat = self._beat * 0.5
        self._left_hz = self._carrier - self._half_beat
        self._right_hz = self._carrier + self._half_beat
        self._binaural = pyo.Sine(freq=[self._left_hz, self._right_hz], mul=self._binaural_amp)
        self._gate_table = pyo.CosTable(_GATE_POINTS)
        self._gate = pyo.Osc(self._gate_table, freq=self._beat, mul=self._iso_amp)
        self._iso = pyo.Sine(freq=self._carrier, mul=self._gate)
        self.output = self._binaural + self._iso

    def _levels(self, entrainment: Entrainment) -> tuple[float, float]:
        amp = entrainment.level * self._reference
        return (amp if entrainment.kind == "binaural" else 0.0,
                amp if entrainment.kind == "isochronic" else 0.0)

    def set(self, entrainment: Entrainment) -> None:
        """Glide to new settings; switching kind crossfades one generator out and the other in."""
        binaural, isochronic = self._levels(entrainment)
        self._binaural_amp.value = binaural
        self._iso_amp.value = isochronic
        self._beat.value = entrainment.frequency_hz

    def set_key(self, key: str) -> None:
        """Glide the carrier to the tonic of ``key``."""
        self._carrier.value = carrier_hz(key)
