"""The pyo graph of recorded music: two players crossfading, a brightness shelf, entrainment, master.

Each track is decoded and resampled ahead (:func:`prepare_track`) into a table that a player
reads at the server's rate, sample for sample. A crossfade raises the incoming player's gain
along a quarter sine and lowers the outgoing one's along the same curve backwards, so the
two gains' squares add to 1: for unrelated music, whose powers add, the loudness holds
through the crossfade (a linear crossfade dips 3 dB in the middle). The first track fades in
along :func:`neurofeed.synth.master.fade_in_gains` instead. Each track's gain brings it to
the session's loudness (:func:`track_gain_db`).

The EEG steers the music as the generative engine's does, within the same limits: the
intensity sets the music's gain (-6 to 0 dB, :func:`neurofeed.synth.patch.music_gain`),
the brightness a gentle high shelf, and the volume the master, which keeps the same
limiter, ceiling and fades. Entrainment plays under the music at carriers chosen for the
track's key and mode, with the music notched around them (:class:`EntrainmentVoice`).

Every method but :func:`prepare_track` runs in the audio thread's block callback (or
before the server starts).
"""

from __future__ import annotations

import math

import numpy as np

from neurofeed.synth.entrainment import EntrainmentVoice
from neurofeed.synth.loudness import MOMENTARY_S, integrated_loudness
from neurofeed.synth.master import Master, db_to_amp, fade_in_gains
from neurofeed.synth.patch import music_gain, reference_amplitude
from neurofeed.synth.state import MusicState

#: The brightness shelf's corner (Hz) and its gain (dB) per unit of brightness away from 0.5:
#: brightness 0 cuts the treble by 4 dB, 1 lifts it by 4 dB, 0.5 leaves the track as it is.
SHELF_HZ = 3000.0
SHELF_DB_PER_UNIT = 8.0
#: A crossfade meets the outgoing track's level where it hands over: the incoming track
#: starts up to MATCH_LIMIT_DB (dB) louder or quieter than its own gain, so that a quiet
#: ending is not followed by a step up, holds that for MATCH_SPAN_S after the crossfade, then
#: returns to its gain at MATCH_RETURN_DB_PER_S (dB/s), under 1 LU in any second.
MATCH_LIMIT_DB = 6.0
MATCH_RETURN_DB_PER_S = 0.5
#: The spans whose loudness is matched: the outgoing track's last MATCH_SPAN_S seconds before
#: its crossfade out against the incoming track's first MATCH_SPAN_S after its crossfade in,
#: the short-term meter's window (EBU Tech 3341): what a listener compares across the join.
MATCH_SPAN_S = 3.0
#: How far over the ceiling a track's true peak may be lifted by its loudness gain (dB),
#: left to the limiter: a quiet track with high peaks plays quieter than the others instead
#: of being squashed.
PEAK_ALLOWANCE_DB = 3.0
_CURVE_POINTS = 2048


def shelf_db(brightness: float) -> float:
    """The brightness shelf's gain in dB at ``brightness`` (0-1)."""
    return SHELF_DB_PER_UNIT * (brightness - 0.5)


def track_gain_db(loudness_lufs: float, true_peak_dbtp: float, *, target_lufs: float,
                  ceiling_dbfs: float) -> float:
    """The gain (dB) that plays a track at ``target_lufs`` at intensity 0.5 and volume 1.

    Parameters
    ----------
    loudness_lufs : float
        The track's integrated loudness (ITU-R BS.1770), LUFS.
    true_peak_dbtp : float
        The track's true peak, dBTP.
    target_lufs : float
        The session's loudness, LUFS.
    ceiling_dbfs : float
        The output ceiling, dBFS: the gain lifts the true peak at most
        :data:`PEAK_ALLOWANCE_DB` over it.
    """
    at_half = 20.0 * math.log10(music_gain(0.5))
    gain = target_lufs - loudness_lufs - at_half
    return min(gain, ceiling_dbfs + PEAK_ALLOWANCE_DB - true_peak_dbtp)


def span_lufs(stereo: np.ndarray, sample_rate: int, start_s: float, stop_s: float) -> float:
    """Integrated loudness (LUFS, BS.1770 gating) of ``stereo`` from ``start_s`` to ``stop_s``
    (seconds from its start); -inf where the span is silent or shorter than a 400 ms block."""
    first, stop = max(round(start_s * sample_rate), 0), max(round(stop_s * sample_rate), 0)
    span = stereo[first:stop]
    if len(span) < MOMENTARY_S * sample_rate:
        return -math.inf
    return integrated_loudness(span.astype(np.float64), sample_rate)


def match_db(outgoing_lufs: float, incoming_lufs: float) -> float:
    """How much to start the incoming track over its own gain (dB), to meet the outgoing one.

    Both levels are as played (LUFS, gains included); 0 where either is silent.
    """
    if not (math.isfinite(outgoing_lufs) and math.isfinite(incoming_lufs)):
        return 0.0
    return float(np.clip(outgoing_lufs - incoming_lufs, -MATCH_LIMIT_DB, MATCH_LIMIT_DB))


def residual_db(matched_db: float, returning_s: float) -> float:
    """What is left of a matched start (dB) after ``returning_s`` seconds of its return."""
    left = max(abs(matched_db) - MATCH_RETURN_DB_PER_S * max(returning_s, 0.0), 0.0)
    return math.copysign(left, matched_db)


def prepare_track(samples: np.ndarray, file_rate: int, sample_rate: int, offset_s: float,
                  stop_s: float) -> np.ndarray:
    """The span ``offset_s``-``stop_s`` (file seconds) of a track, stereo at ``sample_rate``.

    Mono plays in both ears; more than two channels are mixed down to two (odd channels
    left, even right). Returns ``(n, 2)`` float32.
    """
    first = max(round(offset_s * file_rate), 0)
    stop = min(math.ceil(stop_s * file_rate), samples.shape[0])
    span = samples[first:stop]
    if span.shape[1] == 1:
        span = np.repeat(span, 2, axis=1)
    elif span.shape[1] > 2:
        span = np.stack([span[:, 0::2].mean(axis=1), span[:, 1::2].mean(axis=1)], axis=1)
    if file_rate != sample_rate:
        from scipy.signal import resample_poly

        g = math.gcd(int(file_rate), int(sample_rate))
        span = resample_poly(span, sample_rate // g, file_rate // g, axis=0)
    return np.ascontiguousarray(span, dtype=np.float32)


class _Player:
    """One player: a table read at the server's rate, its gain along a curve, and its level."""

    def __init__(self, pyo, curves: dict):
        self._curves = curves
        self._table = pyo.DataTable(8, chnls=2)
        self._progress = pyo.SigTo(0.0, time=0.0, init=0.0)
        # Lookup reads its table over an index from -1 to 1.
        self._curve = pyo.Lookup(curves["crossfade"], self._progress * 2.0 - 1.0)
        self._level = pyo.SigTo(0.0, time=0.0, init=0.0)
        self.reader = pyo.TableRead(self._table, freq=self._table.getRate(), loop=0, interp=2,
                                    mul=self._curve * self._level)
        self.reader.stop()

    def start(self, table, gain: float, fade_s: float, curve: str) -> None:
        """Play ``table`` from its start at ``gain`` (linear), fading in over ``fade_s`` along ``curve``."""
        self.reader.setTable(table)
        self.reader.freq = table.getRate()
        self._table = table
        self.reader.reset()
        self.reader.play()
        self._curve.table = self._curves[curve]
        self._level.time = 0.0
        self._level.value = gain  # while the curve is at 0: the last fade out has ended
        self._progress.time = fade_s
        self._progress.value = 1.0

    def glide_level(self, gain: float, seconds: float) -> None:
        """Glide the player's level (linear) to ``gain`` over ``seconds``."""
        self._level.time = seconds
        self._level.value = gain

    def fade_out(self, seconds: float) -> None:
        """Fade out over ``seconds``, back along the crossfade curve."""
        self._curve.table = self._curves["crossfade"]
        self._progress.time = seconds
        self._progress.value = 0.0


class Deck:
    """The whole graph for recorded music; :attr:`output` is the final stereo signal.

    Parameters
    ----------
    pyo : module
        The pyo module.
    state : MusicState
        Starting state (already clamped).
    sample_rate : float
        Hz.
    loudness_lufs : float
        The entrainment's reference loudness (LUFS), as in the generative engine.
    ceiling_dbfs, glide_s, max_volume_rate_per_s
        See :class:`neurofeed.synth.master.Master`.
    """

    def __init__(self, pyo, state: MusicState, *, sample_rate: float, loudness_lufs: float,
                 ceiling_dbfs: float, glide_s: float, max_volume_rate_per_s: float):
        self._pyo = pyo
        progress = np.linspace(0.0, 1.0, _CURVE_POINTS)
        self._curves = {"crossfade": pyo.DataTable(_CURVE_POINTS, init=np.sin(progress * np.pi / 2).tolist()),
                        "fade_in": pyo.DataTable(_CURVE_POINTS, init=fade_in_gains(_CURVE_POINTS).tolist())}
        self.players = [_Player(pyo, self._curves), _Player(pyo, self._curves)]
        self._lead: int | None = None
        self._mix = pyo.Mix([p.reader for p in self.players], voices=2)
        self._shelf_db = pyo.SigTo(shelf_db(state.brightness), time=glide_s, init=shelf_db(state.brightness))
        self._shelf = pyo.EQ(self._mix, freq=SHELF_HZ, q=0.707, boost=self._shelf_db, type=2)
        self._music_gain = pyo.SigTo(music_gain(state.intensity), time=glide_s,
                                     init=music_gain(state.intensity))
        self._music = self._shelf * self._music_gain
        self.entrainment = EntrainmentVoice(pyo, key=state.key, mode=state.mode,
                                            entrainment=state.entrainment,
                                            reference=reference_amplitude(loudness_lufs), glide_s=glide_s)
        self._notched = self.entrainment.notch(self._music)
        self._out_mix = self._notched + self.entrainment.output
        self.master = Master(pyo, self._out_mix, sample_rate=sample_rate, ceiling_dbfs=ceiling_dbfs,
                             volume=state.volume, glide_s=glide_s,
                             max_volume_rate_per_s=max_volume_rate_per_s)
        self.output = self.master.output

    def take(self, state: MusicState) -> None:
        """Glide the music's gain, the shelf, the entrainment and the volume toward ``state``."""
        self._music_gain.value = music_gain(state.intensity)
        self._shelf_db.value = shelf_db(state.brightness)
        self.entrainment.set(state.entrainment)
        self.master.set_volume(state.volume)

    def table(self, stereo: np.ndarray):
        """A pyo table holding ``stereo`` (``(n, 2)`` float32 from :func:`prepare_track`)."""
        table = self._pyo.DataTable(max(len(stereo), 2), chnls=2)
        for channel in range(2):
            np.asarray(table.getBuffer(channel))[:len(stereo)] = stereo[:, channel]
        return table

    def start(self, table, gain_db: float, fade_s: float) -> None:
        """Start ``table`` on the free player at ``gain_db``: fade it in (the first track) or
        crossfade to it."""
        incoming = 0 if self._lead is None else 1 - self._lead
        curve = "fade_in" if self._lead is None else "crossfade"
        if self._lead is not None:
            self.players[self._lead].fade_out(fade_s)
        self.players[incoming].start(table, db_to_amp(gain_db), fade_s, curve)
        self._lead = incoming

    def return_level(self, gain_db: float, seconds: float) -> None:
        """Glide the leading track's level to ``gain_db`` over ``seconds`` (after a matched start)."""
        self.players[self._lead].glide_level(db_to_amp(gain_db), seconds)
