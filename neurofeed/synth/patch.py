"""The pyo signal graph: instruments, reverb, entrainment and master, and how a MusicState maps onto it.

Voices: a warm pad (band-limited saw through a low-pass whose cutoff follows brightness), a
soft electric piano for the melody (FM with the index following the envelope, so notes are
brighter as they strike and mellow as they ring), a round bass (a soft band-limited triangle),
and a quiet pitched pulse like a felt mallet. A hall-like reverb joins them. (pyo's SineLoop,
the obvious bass, segfaults on some note sequences in pyo 1.1.0, so it is not used.)

Every method here runs in the audio thread's block callback (or before the server starts).
"""

from __future__ import annotations

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
        self._music_gain = pyo.SigTo(music_gain(state.intensity), time=glide_s, init=music_gain(state.intensity))
        self._sharp = self._brightness * 0.5 + 0.25
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
        # FM at a 1:1 ratio has a sideband at 0 Hz.
        self._dry = pyo.DCBlock(self._mixed)
        self._reverb = pyo.STRev(self._dry, inpos=[0.3, 0.7], revtime=2.6, cutoff=5000, bal=0.3,
                                 roomSize=1.1, firstRefGain=-6)
        self._music = pyo.Mix(self._reverb, voices=2, mul=self._music_gain)
        self.entrainment = EntrainmentVoice(pyo, key=state.key, entrainment=state.entrainment,
                                            reference=MUSIC_REFERENCE, glide_s=glide_s)
        self._mix = self._music + self.entrainment.output
        self.master = Master(pyo, self._mix, sample_rate=sample_rate, ceiling_dbfs=ceiling_dbfs, volume=state.volume,
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
        def make(freq, env):
            osc = pyo.LFO(freq=freq, sharp=self._sharp, type=0, mul=env)
            return osc, [osc]
        return make

    def _melody_voice(self, pyo):
        def make(freq, env):
            # Normalised by the pool's gain, the envelope peaks near 0.5-1: the index near 0.5-3.
            index = env * self._fm_index * (1.0 / _POOLS["melody"][2])
            fm = pyo.FM(carrier=freq, ratio=1.0, index=index, mul=env)
            return fm, [index, fm]
        return make

    def _bass_voice(self, pyo):
        def make(freq, env):
            osc = pyo.LFO(freq=freq, sharp=0.2, type=3, mul=env)  # a soft triangle
            return osc, [osc]
        return make

    def _pulse_voice(self, pyo):
        def make(freq, env):
            osc = pyo.LFO(freq=freq, sharp=0.45, type=3, mul=env)
            return osc, [osc]
        return make
