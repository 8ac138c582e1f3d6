"""The pyo signal graph: instruments, reverb, entrainment and master, and how a MusicState maps onto it.

Voices: a warm pad (band-limited saw through a low-pass whose cutoff follows brightness), a
soft electric piano for the melody (FM with the index following the envelope, so notes are
brighter as they strike and mellow as they ring), a round bass (a soft band-limited triangle),
and a quiet pitched pulse like a felt mallet. A hall-like reverb joins them. (pyo's SineLoop,
the obvious bass, segfaults on some note sequences in pyo 1.1.0, so it is not used.)

Every method here runs in the audio thread's block callback (or before the server starts).
"""

from __future__ import annotations

import numpy as np

from neurofeed.synth.entrainment import EntrainmentVoice
from neurofeed.synth.instruments import Instrument, Shape
from neurofeed.synth.master import Master, db_to_amp
from neurofeed.synth.state import MusicState

#: The voices the engine can play, in mixing order.
VOICES: tuple[str, ...] = ("pad", "melody", "bass", "pulse")

# (voices in the pool, envelope, peak amplitude at velocity 127, stereo position 0-1)
_POOLS = {
    "pad": (12, Shape(attack_s=1.2, sustain=1.0, release_s=2.2), 0.35, 0.5),
    "melody": (8, Shape(attack_s=0.006, sustain=0.3, release_s=0.6), 0.85, 0.58),
    "bass": (3, Shape(attack_s=0.02, sustain=0.8, release_s=0.4), 0.48, 0.5),
    "pulse": (2, Shape(attack_s=0.003, sustain=0.0, release_s=0.15), 1.3, 0.44),
}
# The pad's saw is pyo's band-limited LFO saw, computed as ``p - tanh(n * p)`` (p the phase from -1
# to 1, n its number of harmonics) from a Phasor and a tanh table (Lookup), which costs a third as
# much as LFO's two tanh per sample. LFO divides by tanh(n), which is 1 in single precision for
# n >= 15.5 (always here), and caps n at int(sr / 4 / freq), which each note sets.
_TANH_SPAN = 40.0  # the tanh table covers -40..40; n * p stays within +-38.5
_TANH_POINTS = 16384
# The bass and pulse triangles are LFO type 3 (never capped in their ranges), read from tables.
_TRIANGLE_POINTS = 8192
#: Peak amplitude of a sine as loud (RMS) as the music at intensity 0.5, before the master.
MUSIC_REFERENCE = 0.125


def cutoff_hz(brightness: float) -> float:
    """Pad low-pass cutoff in Hz: 500 Hz at brightness 0 to 5 kHz at 1, exponentially."""
    return 500.0 * 10.0 ** brightness


def music_gain(intensity: float) -> float:
    """Gain of the music bus: -6 dB at intensity 0 to 0 dB at 1 (velocity and density add the rest)."""
    return db_to_amp(-6.0 + 6.0 * intensity)


class Patch:
    """The whole graph; :attr:`output` is the final stereo signal.

    Parameters
    ----------
    pyo : module
        The pyo module.
    state : MusicState
        Starting state (already clamped).
    sample_rate : float
        Hz.
    voices : iterable of str
        Which of :data:`VOICES` to build and play.
    ceiling_dbfs, glide_s, max_volume_rate_per_s
        See :class:`neurofeed.synth.master.Master`.
    """

    def __init__(self, pyo, state: MusicState, *, sample_rate: float, voices, ceiling_dbfs: float,
                 glide_s: float, max_volume_rate_per_s: float):
        self._glide_s = glide_s
        self._brightness = pyo.SigTo(state.brightness, time=glide_s, init=state.brightness)
        self._intensity = pyo.SigTo(state.intensity, time=glide_s, init=state.intensity)
        # Computed from the gliding brightness, so the cutoff glides evenly in pitch, not in Hz.
        self._cutoff = pyo.Pow(10.0, self._brightness, mul=cutoff_hz(0.0))
        self._music_gain = pyo.SigTo(music_gain(state.intensity), time=glide_s,
                                     init=music_gain(state.intensity))
        # The pad's n (sharp * 46 + 4, sharp = 0.25-0.75 with brightness) over the tanh table's span.
        self._saw_n = self._brightness * (23.0 / _TANH_SPAN) + 15.5 / _TANH_SPAN
        self._tanh_table = pyo.DataTable(_TANH_POINTS, init=np.tanh(
            np.arange(_TANH_POINTS) * (2 * _TANH_SPAN / _TANH_POINTS) - _TANH_SPAN).tolist())
        self._sample_rate = float(sample_rate)
        self._fm_index = self._brightness * 2.5 + 0.6
        makers = {"pad": self._pad_voice, "melody": self._melody_voice,
                  "bass": self._bass_voice, "pulse": self._pulse_voice}
        self.instruments: dict[str, Instrument] = {}
        self._keep = []
        panned = []
        for name in voices:
            count, shape, gain, pan = _POOLS[name]
            inst = Instrument(pyo, voices=count, shape=shape, gain=gain, make_voice=makers[name](pyo),
                              sample_rate=sample_rate)
            source = pyo.MoogLP(inst.output, freq=self._cutoff, res=0.15) if name == "pad" else inst.output
            self._keep.append(source)
            panned.append(pyo.Pan(source, outs=2, pan=pan, spread=0.6 if name == "pad" else 0.2))
            self.instruments[name] = inst
        self._keep += panned
        self._mixed = pyo.Mix(panned, voices=2) if panned else pyo.Sig([0.0, 0.0])
        # FM at a 1:1 ratio has a sideband at 0 Hz. The dry signal leaves here at 0.28 and crosses
        # 0.21 of the mono sum into each side, so the reverb sees (and the dry path hears) what
        # one STRev per input channel (inpos 0.3 and 0.7, bal 0.3) used to give: its comb network
        # is linear and the same in both, so one STRev fed the sum at inpos 0.5, all wet, equals
        # the pair for a centred mix at half the cost. The pair's two random delay modulations
        # partly cancelled, so the single tail is 1.5 dB louder (measured): the wet gain takes
        # that back. The tiny offset (DC, -300 dB) is meant to keep the reverb's feedback out
        # of denormal numbers after long silence, which made it ~4x slower; not yet measured.
        self._dry = pyo.DCBlock(self._mixed, mul=0.28)
        self._mono = pyo.Mix(self._dry, voices=1, mul=0.75, add=1e-15)
        self._reverb = pyo.STRev(self._mono, inpos=0.5, revtime=2.6, cutoff=5000, bal=1.0,
                                 roomSize=1.1, firstRefGain=-6, mul=0.3 / 0.21 * 10 ** (-1.5 / 20),
                                 add=self._mono)
        self._music = pyo.Mix([self._reverb, self._dry], voices=2, mul=self._music_gain)
        self.entrainment = EntrainmentVoice(pyo, key=state.key, entrainment=state.entrainment,
                                            reference=MUSIC_REFERENCE, glide_s=glide_s)
        self._mix = self._music + self.entrainment.output
        self.master = Master(pyo, self._mix, sample_rate=sample_rate, ceiling_dbfs=ceiling_dbfs,
                             volume=state.volume,
                             glide_s=glide_s, max_volume_rate_per_s=max_volume_rate_per_s)
        self.output = self.master.output

    @property
    def intensity(self) -> float:
        """The intensity now, part way through its glide (0-1)."""
        return self._intensity.get()

    def take(self, state: MusicState) -> None:
        """Glide every continuous parameter toward ``state`` (the volume at its capped rate)."""
        self._intensity.value = state.intensity
        self._music_gain.value = music_gain(state.intensity)
        self._brightness.value = state.brightness
        self.entrainment.set(state.entrainment)
        self.master.set_volume(state.volume)

    def _pad_voice(self, pyo):
        quarter_sr = self._sample_rate / 4.0

        def make(freq, env):
            phase = pyo.Phasor(freq=freq, phase=0.5, mul=2.0, add=-1.0)
            n = pyo.Clip(self._saw_n, min=0.0, max=1.0)
            index = phase * n
            saw = pyo.Lookup(self._tanh_table, index, mul=-1.0, add=phase)
            out = saw * env

            def on_note(hz):
                n.max = int(quarter_sr / hz) / _TANH_SPAN

            return out, [phase, n, index, saw, out], on_note
        return make

    def _melody_voice(self, pyo):
        def make(freq, env):
            # Normalised by the pool's gain, the envelope peaks near 0.5-1: the index near 0.5-3.
            index = env * self._fm_index * (1.0 / _POOLS["melody"][2])
            fm = pyo.FM(carrier=freq, ratio=1.0, index=index, mul=env)
            return fm, [index, fm]
        return make

    def _bass_voice(self, pyo):
        return self._triangle_voice(pyo, 0.2)  # a soft triangle

    def _pulse_voice(self, pyo):
        return self._triangle_voice(pyo, 0.45)

    def _triangle_voice(self, pyo, sharp):
        """pyo's LFO triangle (type 3) at ``sharp``, as a table read by an Osc."""
        phase = np.arange(_TRIANGLE_POINTS) / _TRIANGLE_POINTS
        rounded = np.tan(np.sin(2 * np.pi * phase)) / (np.pi / 2)
        straight = 4.0 * (0.5 - np.abs((phase + 0.25) % 1.0 - 0.5)) - 1.0
        table = pyo.DataTable(_TRIANGLE_POINTS, init=(rounded * (1 - sharp) + straight * sharp).tolist())
        self._keep.append(table)

        def make(freq, env):
            osc = pyo.Osc(table, freq=freq, mul=env)
            return osc, [osc]
        return make
