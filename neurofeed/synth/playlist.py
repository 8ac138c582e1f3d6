"""The player of an iso playlist: the client's own tracks, on the same server life as the music engine.

The protocol chooses each track ahead (:class:`neurofeed.protocol.playlist.Cue`) and hands
it over with :meth:`PlaylistEngine.cue`, which decodes and resamples it into a table there
and then, in the caller's thread, and the block callback starts it in the block that holds
its start, crossfading from the track before (:class:`neurofeed.synth.deck.Deck`). pyo's
objects may not be made in a thread of their own while the server computes a block (a
table built by a worker thread while a manual server processed crashed it), and the
protocol's :data:`~neurofeed.protocol.playlist.CUE_LEAD_S` of lead leaves the loop time to
do it: in real time the audio thread runs on meanwhile, and a render stays deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from neurofeed.errors import InvalidArgumentError
from neurofeed.synth.base import AudioEngine
from neurofeed.synth.deck import (
    MATCH_RETURN_DB_PER_S,
    MATCH_SPAN_S,
    Deck,
    match_db,
    prepare_track,
    residual_db,
    span_lufs,
    track_gain_db,
)
from neurofeed.synth.state import MusicState

#: The changes a playlist adds to the score: the track that takes the lead (its id), its
#: crossfade in (s), its loudness gain (dB), and how far it starts from that gain to meet
#: the outgoing track's level (dB, :func:`neurofeed.synth.deck.match_db`).
PLAYLIST_CHANGES: tuple[str, ...] = ("track", "track_fade_s", "track_gain_db", "track_match_db")


@dataclass(frozen=True)
class _Prepared:
    """A cued track ready to start: its table, gain (dB) and the loudness as it will play
    (LUFS, gain included) just after its crossfade in and just before its crossfade out."""

    cue: object
    table: object
    gain_db: float
    head_lufs: float
    tail_lufs: float


class PlaylistEngine(AudioEngine):
    """The client's own tracks, crossfaded as the protocol cues them; a context manager.

    The parameters not listed here are :class:`~neurofeed.synth.base.AudioEngine`'s; its
    ``loudness_lufs`` is the loudness every track plays at (intensity 0.5, volume 1).

    Parameters
    ----------
    tracks : mapping
        Each track's file by its track id (:attr:`neurofeed.library.Track.track_id`).
    """

    def __init__(self, backend: str = "auto", *, tracks: Mapping[str, Path], **settings):
        super().__init__(backend, **settings)
        self._files = {str(k): Path(v) for k, v in tracks.items()}
        self._queue: list[_Prepared] = []  # cued, not started yet
        self._lead: _Prepared | None = None
        self._lead_match = (0.0, 0)  # the leading track's matched start (dB) and its return's sample
        self._returns: list[tuple[int, float, float]] = []  # (sample, gain dB, seconds)
        # The key and mode the entrainment's carriers were last chosen for.
        self._tonality = (self._initial.key, self._initial.mode)

    def _build(self, pyo) -> Deck:
        return Deck(pyo, self._initial, sample_rate=self._sr, loudness_lufs=self._loudness_lufs,
                    ceiling_dbfs=self._ceiling_dbfs, glide_s=self._glide_s,
                    max_volume_rate_per_s=self._max_volume_rate)

    def stop(self) -> None:
        """Fade out and stop; a track cued to start during the fade-out does not."""
        self._queue = []
        super().stop()

    def _release(self) -> None:
        self._queue, self._lead, self._returns, self._lead_match = [], None, [], (0.0, 0)
        super()._release()

    def cue(self, cue) -> None:
        """Prepare ``cue``'s track now and start it at its ``start_s`` (seconds of audio time).

        Raises
        ------
        InvalidArgumentError
            If the track's id is not one of ``tracks``, or its file does not decode.
        AudioError
            If the engine is not running or the audio failed.
        """
        self._check_running()
        path = self._files.get(cue.track.track_id)
        if path is None:
            raise InvalidArgumentError(f"track {cue.track.track_id!r} is not one of the session's "
                                       f"{len(self._files)} tracks")
        from neurofeed.library.batch import read_audio

        try:
            samples, rate = read_audio(path)
        except InvalidArgumentError as err:
            raise InvalidArgumentError(f"track {cue.track.track_id} ({path}): {err}") from None
        stereo = prepare_track(samples, rate, self._sr, cue.offset_s, cue.stop_s)
        analysis = cue.track.analysis
        gain_db = track_gain_db(analysis.loudness_lufs, analysis.true_peak_dbtp,
                                target_lufs=self._loudness_lufs, ceiling_dbfs=self._ceiling_dbfs)
        head = span_lufs(stereo, self._sr, cue.fade_s, cue.fade_s + MATCH_SPAN_S) + gain_db
        out_at = cue.out_s - cue.offset_s
        tail = span_lufs(stereo, self._sr, max(out_at - MATCH_SPAN_S, 0.0), out_at) + gain_db
        prepared = _Prepared(cue, self._patch.table(stereo), gain_db, head, tail)
        self._queue.append(prepared)  # list.append is atomic: safe beside the audio thread

    # -- the audio thread ------------------------------------------------------------------

    def _first_block(self) -> None:
        if self.ear_check:
            self._patch.entrainment.start_ear_check()
        # Each track fades in or crosses over by itself; the master only fades out.
        self._patch.master.fade_in(0.0)

    def _took(self, state: MusicState) -> None:
        # Carriers are chosen again only when a track brings another key or mode: a state
        # arrives every hop, and choosing them costs more than a block should spend.
        if (state.key, state.mode) != self._tonality:
            self._tonality = (state.key, state.mode)
            self._patch.entrainment.set_tonality(state.key, state.mode)

    def _play_block(self, start: int, latency: int) -> None:
        end = start + self.buffer_size
        while self._returns and self._returns[0][0] < end:
            _, gain_db, seconds = self._returns.pop(0)
            self._patch.return_level(gain_db, seconds)
        while self._queue:
            track = self._queue[0]
            cue = track.cue
            if max(round(cue.start_s * self._sr), self._music_start) >= end:
                return
            self._queue.pop(0)
            # The first track fades in from silence: nothing to meet. The outgoing one plays its
            # tail at its gain plus what is left of its own matched start (a short track may not
            # have returned yet), judged at the middle of the span the tail was measured over.
            matched = 0.0
            if self._lead is not None:
                offset, returning_from = self._lead_match
                left = residual_db(offset, (start - returning_from) / self._sr - MATCH_SPAN_S / 2)
                matched = match_db(self._lead.tail_lufs + left, track.head_lufs)
            self._patch.start(track.table, track.gain_db + matched, cue.fade_s)
            # Held for the span it was matched over, then back to its own gain.
            returning_from = start + round((cue.fade_s + MATCH_SPAN_S) * self._sr)
            self._returns = [(returning_from, track.gain_db, abs(matched) / MATCH_RETURN_DB_PER_S)] \
                if matched else []
            self._lead, self._lead_match = track, (matched, returning_from)
            time_s = (start + latency) / self._sr
            values = (cue.track.track_id, round(cue.fade_s, 6), round(track.gain_db, 3), round(matched, 3))
            for name, value in zip(PLAYLIST_CHANGES, values, strict=True):
                self.score.add_change(time_s, name, value, again=True)
