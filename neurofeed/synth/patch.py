"""The pyo signal graph: instruments, hall, texture, entrainment and master; a MusicState mapped onto it.

The palette (:mod:`neurofeed.synth.palettes`) says how each of the composer's voices sounds;
this module builds those sounds, a hall reverb, an optional wind texture, the entrainment
and the master. (pyo's SineLoop, the obvious soft bass, segfaults on some note sequences in
pyo 1.1.0, so it is not used.)

The hall is a convolution (pyo ``CvlVerb``) with a synthetic impulse response, because pyo's
algorithmic reverbs colour single notes by pitch. Measured on 1 s after the onset of each
melody pitch (MIDI 62-81, velocity 80, brightness 0.5, warm palette's electric piano,
rendered alone), spread of the loudness across pitches (max - min):

==================================================  ========
reverb                                              spread
==================================================  ========
none (dry only)                                      0.8 LU
STRev, revtime 2.6, roomSize 1.1 (the old hall)      9.0 LU
STRev, roomSize 0.8 / 1.5 / 2.0                      9.2 / 12.2 / 6.2 LU
STRev, old hall at 0.5 / 0.3 of its wet level        5.7 / 3.8 LU
Freeverb, size 0.7-0.9, damp 0.3-0.7                 6.4-6.8 LU
WGVerb, feedback 0.7-0.8                             7.7-9.4 LU
CvlVerb, pyo's IRMediumHallStereo.wav                11.0 LU
CvlVerb, synthetic 2.4 s hall (below), wet -10.5 dB  6.1-9.0 LU (seeds 1-7)
the same at a third of the wet level (-20 dB)        2.7 LU (seed 7; 3.0-5.7 over seeds 1-10)
the same, fed 1 / 1.4 / 2 / 4 / 7 Hz higher          2.9 / 1.6 / 2.1 / 2.6 / 2.7 LU
==================================================  ========

Every long reverb colours a sustained tone: while the note sounds, its tail adds to the note
or cancels it, by the phase of the hall's response at that exact pitch, which swings widely
from pitch to pitch. Fed a copy shifted 1.4 Hz up (FreqShift), the tail drifts slowly through
every phase against the note instead, so over a second it adds its energy whatever the pitch.
Sustained tones then swell gently, about once a second, as in a room where the players move
(a 2 Hz shift beat faster, and the analysis kit heard the beating as onsets). The synthetic
response (independent noise per ear, decaying faster in the treble) has none of the
few strong modes of comb networks and measured rooms.

Every method here runs in the audio thread's block callback (or before the server starts).
"""

from __future__ import annotations

import itertools
import os
import tempfile

import numpy as np
import scipy.io.wavfile

from neurofeed._check import check_range
from neurofeed.synth.entrainment import EntrainmentVoice
from neurofeed.synth.instruments import Instrument
from neurofeed.synth.master import FadeIn, Master, db_to_amp
from neurofeed.synth.palettes import REFERENCE_LUFS, VOICES, Palette, Sound
from neurofeed.synth.score import Note
from neurofeed.synth.state import MusicState

#: Seed of the hall's impulse response.
HALL_SEED = 7
# The hall: reverberation time (s) at low frequencies, falling to _HALL_HF_T60_S at 8 kHz.
_HALL_T60_S = 2.4
_HALL_HF_T60_S = 0.9
_HALL_LENGTH_S = 3.0
_HALL_BANDS_HZ = (0.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
# Partition of the convolution (samples): it also delays the hall by this much, a pre-delay.
_HALL_PARTITION = 1024
# The hall hears the music this much higher (Hz): see the module's docstring.
_HALL_SHIFT_HZ = 1.4
# CvlVerb scales the response it reads by 1/20.5 (measured: a unit-energy response in a float
# WAV file gave an impulse response of energy 0.00238), so the file carries it 20.5 times.
_CVLVERB_SCALE = 20.5
# The pad's saw is pyo's band-limited LFO saw, computed as ``p - tanh(n * p)`` (p the phase from -1
# to 1, n its number of harmonics) from a Phasor and a tanh table (Lookup), which costs a third as
# much as LFO's two tanh per sample. LFO divides by tanh(n), which is 1 in single precision for
# n >= 15.5 (always here), and caps n at int(sr / 4 / freq), which each note sets.
_TANH_SPAN = 40.0  # the tanh table covers -40..40; n * p stays within +-38.5
_TANH_POINTS = 16384
_WAVE_POINTS = 8192
# The wind: noise through a band-pass that wanders slowly (Hz) ...
_WIND_HZ, _WIND_SWAY_HZ, _WIND_RATES_HZ = 700.0, 300.0, (0.043, 0.017)
# ... and a band-reject on the carriers: each biquad stage's bandwidth is this many times the
# band to keep clear, carrier -+ (beat / 2 + beat + 2) Hz, so that 4 stages take >= 20 dB off it.
_NOTCH_STAGES, _NOTCH_WIDTH = 4, 1.5


def cutoff_hz(brightness, palette: Palette):
    """Low-pass cutoff (Hz) of ``palette``'s filtered sounds at ``brightness`` (0-1), exponential.

    ``brightness`` is a float or a pyo signal (then so is the cutoff, gliding evenly in pitch).
    """
    low, high = palette.cutoff_hz
    return low * (high / low) ** brightness


def music_gain(intensity: float) -> float:
    """Gain of the music bus: -6 dB at intensity 0 to 0 dB at 1 (velocity and density add the rest)."""
    return db_to_amp(-6.0 + 6.0 * intensity)


def reference_amplitude(loudness_lufs: float) -> float:
    """Peak amplitude of a sine in both ears as loud (BS.1770, below 1 kHz) as ``loudness_lufs``."""
    return db_to_amp(loudness_lufs + 0.691)


def hall_impulse(sample_rate: float, seed: int = HALL_SEED) -> np.ndarray:
    """The hall's stereo impulse response, (n, 2) float32, each channel of unit energy.

    Independent noise per ear, decaying in each band at its own rate (slower in the bass),
    with a 30 ms rise; deterministic for a seed and rate.

    Parameters
    ----------
    sample_rate : float
        Hz, at least 1000.
    seed : int
        Seeds the noise.
    """
    check_range("sample_rate", sample_rate, 1000.0, np.inf, unit=" Hz")
    n = int(_HALL_LENGTH_S * sample_rate)
    t = np.arange(n) / sample_rate
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    rng = np.random.default_rng(seed)
    # The bands that start under the Nyquist frequency; the last one runs up to it.
    edges = (*(edge for edge in _HALL_BANDS_HZ if edge < sample_rate / 2), sample_rate / 2 + 1)
    channels = []
    for _ in range(2):
        spectrum = np.fft.rfft(rng.standard_normal(n))
        out = np.zeros(n)
        for low, high in itertools.pairwise(edges):
            middle = np.sqrt(max(low, 125.0) * high)
            position = np.clip(np.log(middle / 250.0) / np.log(8000.0 / 250.0), 0.0, 1.0)
            t60 = _HALL_T60_S * (_HALL_HF_T60_S / _HALL_T60_S) ** position
            band = np.fft.irfft(spectrum * ((freqs >= low) & (freqs < high)), n)
            out += band * np.exp(-6.9 * t / t60)
        out *= np.minimum(1.0, t / 0.03)
        channels.append(out / np.sqrt(np.sum(out ** 2)))
    return np.stack(channels, axis=1).astype(np.float32)


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
    palette : Palette
        How the voices sound.
    loudness_lufs : float
        Integrated loudness of the music at intensity 0.5 and volume 1.0 (LUFS).
    texture : bool
        Play the palette's texture, if it has one (the engine leaves it out when the music
        plays no voice, so that an auditioned note sounds alone).
    music_on : bool
        False holds the music silent until :meth:`fade_in_music` (through a headphone check).
    ceiling_dbfs, glide_s, max_volume_rate_per_s
        See :class:`neurofeed.synth.master.Master`.
    """

    def __init__(self, pyo, state: MusicState, *, sample_rate: float, palette: Palette,
                 loudness_lufs: float, texture: bool, music_on: bool, ceiling_dbfs: float,
                 glide_s: float, max_volume_rate_per_s: float):
        self._palette = palette
        self._sample_rate = float(sample_rate)
        self._keep = []
        self._brightness = pyo.SigTo(state.brightness, time=glide_s, init=state.brightness)
        self._intensity = pyo.SigTo(state.intensity, time=glide_s, init=state.intensity)
        # From the gliding brightness, so the cutoff glides evenly in pitch, not in Hz.
        self._cutoff = cutoff_hz(self._brightness, palette)
        self._music_gain = pyo.SigTo(music_gain(state.intensity), time=glide_s,
                                     init=music_gain(state.intensity))
        # The saw's n (sharp * 46 + 4, sharp = 0.25-0.75 with brightness) over the tanh table's span.
        self._saw_n = self._brightness * (23.0 / _TANH_SPAN) + 15.5 / _TANH_SPAN
        self._tanh_table = pyo.DataTable(_TANH_POINTS, init=np.tanh(
            np.arange(_TANH_POINTS) * (2 * _TANH_SPAN / _TANH_POINTS) - _TANH_SPAN).tolist())
        self._sine = pyo.HarmTable([1.0], size=_WAVE_POINTS)
        self._fm_index = self._brightness * 2.5 + 0.6
        self.instruments: dict[str, Instrument] = {}
        panned = []
        for name in VOICES:
            sound = palette.sounds.get(name)
            if sound is None:
                continue
            inst = Instrument(pyo, voices=sound.count, shape=sound.shape, gain=sound.gain,
                              make_voice=self._maker(pyo, sound), sample_rate=sample_rate)
            source = pyo.MoogLP(inst.output, freq=self._cutoff, res=0.15) if sound.filtered else inst.output
            self._keep.append(source)
            panned.append(pyo.Pan(source, outs=2, pan=sound.pan, spread=sound.spread))
            self.instruments[name] = inst
        self.entrainment = EntrainmentVoice(pyo, key=state.key, mode=state.mode,
                                            entrainment=state.entrainment,
                                            reference=reference_amplitude(loudness_lufs), glide_s=glide_s)
        if texture and palette.texture > 0:
            panned.append(self._wind(pyo, palette.texture))
        self._keep += panned
        self._dry = pyo.DCBlock(pyo.Mix(panned, voices=2))
        self._hall = self._build_hall(pyo, pyo.Mix(self._dry, voices=1, mul=palette.reverb_wet))
        self._music_fade = FadeIn(pyo, on=music_on)
        self._music = pyo.Mix([self._dry, self._hall], voices=2,
                              mul=self._music_gain * self._music_fade.gain
                              * db_to_amp(palette.makeup_db + loudness_lufs - REFERENCE_LUFS))
        # The carrier's band is taken out of the music while entrainment plays, so it is heard.
        self._notched = self.entrainment.notch(self._music)
        self._mix = self._notched + self.entrainment.output
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

    def fade_in_music(self, seconds: float) -> None:
        """Ramp the music (not the entrainment) up from silence over ``seconds``."""
        self._music_fade.start(seconds)

    def play(self, note: Note, onset: int, block_start: int) -> bool:
        """Start ``note`` at sample ``onset`` on its voice's instrument; False if not played."""
        instrument = self.instruments.get(note.voice)
        if instrument is None:
            return False
        return instrument.play(note, onset, block_start)

    def _build_hall(self, pyo, send):
        """The convolution hall fed by the mono ``send``: two channels, wet only."""
        handle, path = tempfile.mkstemp(suffix=".wav", prefix="neurofeed-hall-")
        try:
            os.close(handle)
            response = hall_impulse(self._sample_rate) * _CVLVERB_SCALE
            scipy.io.wavfile.write(path, int(self._sample_rate), response)
            shifted = pyo.FreqShift(send, shift=_HALL_SHIFT_HZ)
            hall = pyo.CvlVerb(shifted, impulse=path, size=_HALL_PARTITION, bal=1.0)
            self._keep.append(shifted)
        finally:
            os.unlink(path)  # CvlVerb has read it
        self._keep.append(send)
        return hall

    def _wind(self, pyo, level: float):
        """Noise through a slowly wandering band-pass, with the carriers' band cut out (stereo)."""
        sway = pyo.Sine(freq=list(_WIND_RATES_HZ), mul=_WIND_SWAY_HZ / 2, add=_WIND_HZ / 2)
        centre = pyo.Mix(sway, voices=1)
        noise = pyo.Noise(mul=level)
        band = pyo.ButBP(noise, freq=centre, q=1.2)
        beat = self.entrainment.beat
        keep_clear = beat * 1.5 + 2.0  # either carrier (-+ beat / 2) -+ (beat + 2) Hz
        q = self.entrainment.carrier / (keep_clear * (2 * _NOTCH_WIDTH))
        notched = pyo.Biquadx(band, freq=self.entrainment.carrier, q=q, type=3, stages=_NOTCH_STAGES)
        wide = pyo.Pan(notched, outs=2, pan=0.5, spread=0.9)
        self._keep += [sway, centre, noise, band, keep_clear, q, notched]
        return wide

    def _maker(self, pyo, sound: Sound):
        """``make_voice(freq, env)`` for :class:`Instrument`, building ``sound``."""
        if sound.kind == "saw":
            return self._saw_voice(pyo)
        if sound.kind == "epiano":
            return self._epiano_voice(pyo, sound.gain)
        if sound.kind == "triangle":
            return self._wave_voice(pyo, self._triangle_table(pyo, sound.sharp), 0.0)
        table = pyo.HarmTable(list(sound.partials[:2] if sound.kind == "bell" else sound.partials),
                              size=_WAVE_POINTS)
        self._keep.append(table)
        if sound.kind == "bell":
            upper = pyo.HarmTable([0.0, 0.0, *sound.partials[2:]], size=_WAVE_POINTS)
            self._keep.append(upper)
            return self._bell_voice(pyo, table, upper, sound.gain)
        return self._wave_voice(pyo, table, sound.detune_hz)

    def _triangle_table(self, pyo, sharp: float):
        """pyo's LFO triangle (type 3) at ``sharp``, as a table."""
        phase = np.arange(_WAVE_POINTS) / _WAVE_POINTS
        rounded = np.tan(np.sin(2 * np.pi * phase)) / (np.pi / 2)
        straight = 4.0 * (0.5 - np.abs((phase + 0.25) % 1.0 - 0.5)) - 1.0
        table = pyo.DataTable(_WAVE_POINTS, init=(rounded * (1 - sharp) + straight * sharp).tolist())
        self._keep.append(table)
        return table

    def _saw_voice(self, pyo):
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

    def _epiano_voice(self, pyo, gain: float):
        def make(freq, env):
            # Phase modulation at 1:1 from two oscillators that start and stop together, so
            # every note has the same timbre (pyo's FM drifts its carrier's phase from note
            # to note, and with it the level). Normalised by the gain, the envelope peaks near
            # 0.5-1: the index near 0.5-3 radians.
            index = env * self._fm_index * (1.0 / gain / (2 * np.pi))
            modulator = pyo.Osc(self._sine, freq=freq, mul=index)
            carrier = pyo.Osc(self._sine, freq=freq, phase=modulator, mul=env)
            return carrier, [index, modulator, carrier]
        return make

    def _bell_voice(self, pyo, body, upper, gain: float):
        def make(freq, env):
            # The upper partials follow the envelope squared: they ring shorter, as a bell's do.
            fading = env * env * (1.0 / gain)
            low = pyo.Osc(body, freq=freq, mul=env)
            high = pyo.Osc(upper, freq=freq, mul=fading)
            out = low + high
            return out, [fading, low, high, out]
        return make

    def _wave_voice(self, pyo, table, detune_hz: float):
        def make(freq, env):
            if detune_hz == 0:
                osc = pyo.Osc(table, freq=freq, mul=env)
                return osc, [osc]
            half = env * 0.5
            pair = pyo.Osc(table, freq=[freq - detune_hz / 2, freq + detune_hz / 2], mul=half)
            out = pyo.Mix(pair, voices=1)
            return out, [half, pair, out]
        return make
