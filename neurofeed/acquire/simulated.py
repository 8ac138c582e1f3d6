"""A simulated listener: EEG-like signals whose alpha rises as the music calms.

For demos and tests, where BrainFlow's synthetic board (sines from 5 to 80 Hz) would show
no brain rhythm and no response to the music. It is not a model of a person.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import iirpeak, lfilter

from neurofeed._check import check_range
from neurofeed.acquire.montage import identify
from neurofeed.acquire.paced import PacedSource
from neurofeed.errors import InvalidArgumentError
from neurofeed.limits import MAX_CHANNELS, MAX_SFREQ_HZ

#: What the source is, in its description, so that status lines and reports never
#: present it as a person's EEG.
SIMULATED_SIGNAL = "simulated listener (not a person)"
#: A 16-channel 10-20 montage with posterior (O1, Oz, O2, P3, Pz, P4), frontal-midline
#: (Fz, Cz) and asymmetry (F3/F4, F7/F8) sites, and Fp1/Fp2 where blinks show.
DEFAULT_MONTAGE = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "C3", "Cz", "C4",
                   "P3", "Pz", "P4", "O1", "Oz", "O2")
#: The montage whose electrode positions place the generators below (10-10 names, metres).
_POSITIONS_MONTAGE = "easycap-M1"

#: RMS of the 1/f background on every channel, in volts (resting EEG: 10-20 µV).
BACKGROUND_RMS_V = 15e-6
#: Corner frequencies (Hz) of the octave-spaced relaxation processes whose sum is 1/f noise
#: between the lowest and the highest.
_PINK_CORNERS_HZ = 0.25 * 2.0 ** np.arange(10)
#: Posterior alpha: centre frequency in Hz, and RMS at its generator in volts under the
#: most arousing and the calmest music.
ALPHA_HZ = 10.0
ALPHA_RMS_V = (4e-6, 20e-6)
#: Frontal-midline theta: centre frequency in Hz and RMS at its generator in volts.
THETA_HZ = 6.0
THETA_RMS_V = 6e-6
#: Quality factor of the alpha and theta resonators: a 2 Hz wide alpha peak, as in EEG.
_RHYTHM_Q = 5.0
#: Seconds in which alpha covers 63% of the way to the level the music asks for.
CALM_TIME_CONSTANT_S = 4.0
#: The tempo range of the music (MusicState), in BPM: the lowest is the calmest.
CALM_TEMPO_BPM = (40.0, 120.0)
#: Blinks: peak amplitude at Fp1/Fp2 in volts, interval between onsets and duration in s.
BLINK_AMPLITUDE_V = (100e-6, 150e-6)
BLINK_INTERVAL_S = (3.0, 8.0)
BLINK_DURATION_S = 0.3
#: Distance over which a generator's signal falls to exp(-1/2) of its value, in metres
#: (neighbouring 10-20 sites are 4-6 cm apart).
_SPREAD_M = 0.04
#: Where each generator sits: the channels nearest to it receive its full signal.
_ALPHA_SITES = ("O1", "Oz", "O2", "Pz")
_THETA_SITES = ("Fz",)
_BLINK_SITES = ("Fp1", "Fp2")


class SimulatedListener(PacedSource):
    """EEG-like signals from a simulated listener whose alpha rises as the music calms.

    The signal, in volts: a 1/f background (about 15 µV RMS per channel), posterior
    alpha near 10 Hz, frontal-midline theta near 6 Hz, and blinks of 100-150 µV on
    Fp1/Fp2 every 3-8 s, spreading to neighbouring sites. :meth:`listen` sets how calm
    the music is; alpha follows within a few seconds (from 4 µV RMS under the most
    arousing music to 20 µV under the calmest). The same seed gives the same samples,
    however they are read, as long as :meth:`listen` is called at the same samples.

    Parameters
    ----------
    seed : int
        Seed of the random generators.
    ch_names : sequence of str
        The montage: 1 to 1024 distinct 10-10 electrode names (case as in the 10-10
        system, e.g. ``"Fp1"``, ``"Oz"``).
    sfreq : float
        Sampling rate in Hz, 64 to :data:`~neurofeed.limits.MAX_SFREQ_HZ`.
    speed, chunk_s, stall_timeout_s
        Pacing, as for :class:`~neurofeed.acquire.paced.PacedSource`: 1.0 delivers in
        real time, like a board; ``"max"`` as fast as it is read.
    """

    def __init__(self, *, seed: int = 0, ch_names=DEFAULT_MONTAGE, sfreq: float = 250.0,
                 speed: float | str = 1.0, chunk_s: float = 0.1, stall_timeout_s: float = 2.0):
        super().__init__(speed=speed, chunk_s=chunk_s, stall_timeout_s=stall_timeout_s)
        import mne

        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise InvalidArgumentError(f"seed must be a whole number >= 0, got {seed!r}")
        sfreq = check_range("sfreq", sfreq, 64, MAX_SFREQ_HZ, unit=" Hz")
        positions = mne.channels.make_standard_montage(_POSITIONS_MONTAGE).get_positions()
        sites = positions["ch_pos"]
        ch_names = [ch_names] if isinstance(ch_names, str) else list(ch_names)
        unknown = [name for name in ch_names if name not in sites]
        if unknown or not 1 <= len(ch_names) <= MAX_CHANNELS or len(set(ch_names)) < len(ch_names):
            raise InvalidArgumentError(
                f"ch_names must be 1 to {MAX_CHANNELS} distinct 10-10 electrode names, got "
                f"{ch_names!r}" + (f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""))
        self.seed = int(seed)
        self._info = mne.create_info(ch_names, sfreq, "eeg")
        self._identified(identify(ch_names), repr(self))
        xyz = np.array([sites[name] for name in ch_names])
        self._alpha_weights = _weights(xyz, [sites[s] for s in _ALPHA_SITES])
        self._theta_weights = _weights(xyz, [sites[s] for s in _THETA_SITES])
        self._blink_weights = _weights(xyz, [sites[s] for s in _BLINK_SITES])
        noise, blinks = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        self._noise, self._blinks = noise, blinks
        # 1/f background: octave-spaced one-pole low-passes of one white noise, each weighted
        # by 1/sqrt(corner) so that every octave carries the same power.
        self._pink_poles = np.exp(-2 * np.pi * _PINK_CORNERS_HZ / sfreq)
        # Their covariance for unit white noise scales the sum to BACKGROUND_RMS_V.
        weights = 1 / np.sqrt(_PINK_CORNERS_HZ)
        responses = weights * (1 - self._pink_poles)
        covariance = (np.outer(responses, responses)
                      / (1 - np.outer(self._pink_poles, self._pink_poles)))
        self._pink_gains = weights * BACKGROUND_RMS_V / np.sqrt(covariance.sum())
        self._pink_state = np.zeros((_PINK_CORNERS_HZ.size, 1, len(ch_names)))
        self._alpha_filter = _unit_resonator(ALPHA_HZ, sfreq)
        self._theta_filter = _unit_resonator(THETA_HZ, sfreq)
        self._rhythm_state = np.zeros((2, 2))
        self._decay = np.exp(-1 / (CALM_TIME_CONSTANT_S * sfreq))
        self._alpha_rms = self._alpha_target = float(np.mean(ALPHA_RMS_V))
        self._n = 0  # samples made since creation: blink onsets count from it
        self._next_blink = self._blink_interval()
        self._pending: list[tuple[int, float]] = []  # (onset sample, amplitude in V)

    @property
    def info(self):
        """mne.Info: the montage's EEG channels and the sampling rate in Hz."""
        return self._info

    @property
    def description(self) -> dict:
        """dict: What the source is (``signal``), its seed and settings, for session metadata."""
        return {"kind": "simulated", "signal": SIMULATED_SIGNAL, "seed": self.seed,
                "speed": self.speed, "sfreq": self.sfreq, "n_channels": self.n_channels,
                **self.channel_description()}

    @property
    def alpha_rms_v(self) -> float:
        """float: The alpha RMS at its generator now, in volts."""
        return self._alpha_rms

    def __repr__(self) -> str:
        return f"SimulatedListener(seed={self.seed}, {self.n_channels} ch, {self.sfreq:g} Hz)"

    def listen(self, state) -> None:
        """Hear the music: alpha moves towards the level its calm asks for.

        Calm is the mean of how slow the tempo is (0 at 120 BPM, 1 at 40 BPM) and how
        soft it is (1 - intensity). Alpha RMS then approaches ``ALPHA_RMS_V[0]`` (calm 0)
        to ``ALPHA_RMS_V[1]`` (calm 1) with a time constant of
        :data:`CALM_TIME_CONSTANT_S`, counted in samples delivered.

        Parameters
        ----------
        state : neurofeed.synth.MusicState
            The music being played; its ``tempo_bpm`` and ``intensity`` (0-1) are used.
        """
        low, high = CALM_TEMPO_BPM
        slow = np.clip((high - float(state.tempo_bpm)) / (high - low), 0.0, 1.0)
        soft = np.clip(1.0 - float(state.intensity), 0.0, 1.0)
        calm = (slow + soft) / 2
        self._alpha_target = float(ALPHA_RMS_V[0] + calm * (ALPHA_RMS_V[1] - ALPHA_RMS_V[0]))

    def _samples(self, first: int, count: int) -> np.ndarray:
        n_channels = self.n_channels
        # One draw per sample for every noise, so that the sequence does not depend on how
        # the samples are split into reads.
        white = self._noise.standard_normal((count, n_channels + 2))
        background = np.zeros((count, n_channels))
        for i, (pole, gain) in enumerate(zip(self._pink_poles, self._pink_gains, strict=True)):
            low_pass, self._pink_state[i] = lfilter([1 - pole], [1, -pole], white[:, :n_channels],
                                                    axis=0, zi=self._pink_state[i])
            background += gain * low_pass
        alpha = self._rhythm(0, self._alpha_filter, white[:, n_channels])
        theta = self._rhythm(1, self._theta_filter, white[:, n_channels + 1])
        steps = self._decay ** np.arange(1, count + 1)
        envelope = self._alpha_target + (self._alpha_rms - self._alpha_target) * steps
        if count:
            self._alpha_rms = float(envelope[-1])
        data = (background.T + np.outer(self._alpha_weights, alpha * envelope)
                + np.outer(self._theta_weights, theta * THETA_RMS_V))
        data += np.outer(self._blink_weights, self._blink_trace(count))
        self._n += count
        return data

    def _rhythm(self, index: int, coefficients, white: np.ndarray) -> np.ndarray:
        """Return unit-RMS narrow-band noise, keeping the resonator's state between reads."""
        b, a = coefficients
        out, self._rhythm_state[index] = lfilter(b, a, white, zi=self._rhythm_state[index])
        return out

    def _blink_trace(self, count: int) -> np.ndarray:
        """Return the blink amplitude at Fp1/Fp2 for the next ``count`` samples, in volts."""
        start, stop = self._n, self._n + count
        while self._next_blink < stop:
            amplitude = self._blinks.uniform(*BLINK_AMPLITUDE_V)
            self._pending.append((self._next_blink, amplitude))
            self._next_blink += self._blink_interval()
        trace = np.zeros(count)
        length = round(BLINK_DURATION_S * self.sfreq)
        for onset, amplitude in self._pending:
            index = np.arange(max(start, onset), min(stop, onset + length))
            trace[index - start] += amplitude * np.sin(np.pi * (index - onset) / length) ** 2
        self._pending = [(onset, a) for onset, a in self._pending if onset + length > stop]
        return trace

    def _blink_interval(self) -> int:
        return max(1, round(self._blinks.uniform(*BLINK_INTERVAL_S) * self.sfreq))


def _weights(xyz: np.ndarray, sites) -> np.ndarray:
    """Return each channel's share of a generator at ``sites``: 1 there, falling with distance."""
    distance = np.min(np.linalg.norm(xyz[:, None] - np.asarray(sites)[None], axis=2), axis=1)
    return np.exp(-0.5 * (distance / _SPREAD_M) ** 2)


def _unit_resonator(freq_hz: float, sfreq: float):
    """Return ``(b, a)`` of a resonator at ``freq_hz`` whose output has unit RMS for white input."""
    b, a = iirpeak(freq_hz, _RHYTHM_Q, fs=sfreq)
    impulse = np.zeros(round(20 * sfreq))
    impulse[0] = 1.0
    return b / np.linalg.norm(lfilter(b, a, impulse)), a
