"""The iso playlist: which of the client's own tracks plays when, planned as pure arithmetic.

The iso principle with recorded music, as a therapist practises it: start with the piece
that matches the client's measured state, then move piece by piece toward the target
(slower, calmer, brighter), one step at a time, and only while the client follows. Here
the first track is the one nearest the baseline's match (tempo and valence from
``[iso]``, the track's energy against the client's arousal), each next one is chosen
:data:`CUE_LEAD_S` before the current one hands over, from the following of the last
``[playlist].follow_window_s`` seconds (or of the latter half of the track, if longer),
and tracks join on a beat of the outgoing track: the incoming track's first beat at level
sounds on it, and an equal-power crossfade of whole beats follows.

Nothing here touches audio or files: :class:`PlaylistPlan` gets the library's analyses
(:class:`neurofeed.library.Track`) and session times and returns :class:`Cue` s, which the
player (:class:`neurofeed.synth.playlist.PlaylistEngine`) plays and the session records.
Feed it the same tracks, times and following and it plans the same playlist.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neurofeed.errors import InvalidArgumentError
from neurofeed.protocol.presets import Playlist
from neurofeed.synth.deck import MATCH_SPAN_S

#: A track is chosen this long (seconds) before it starts, so the player can prepare it.
CUE_LEAD_S = 5.0
#: The first track's fade-in (seconds), along the master's fade-in curve: about 2.4 dB/s once
#: over -22 dB, under the 3 LU/s a fade-in may rise.
FIRST_FADE_IN_S = 10.0
#: How much a liked track is preferred, in the units of the choice's cost (one step of tempo
#: off the wanted tempo costs 1).
LIKED_BONUS = 0.5
#: What playing a track again costs: a repeat only when no fresh track will do.
REPEAT_COST = 2.0
#: The spread of the tracks' energy (0-1 arousal) that costs as much as a tempo step.
AROUSAL_SCALE = 0.25
#: The weight of the energy against tempo and valence in the first match.
AROUSAL_WEIGHT = 0.5
#: The smallest tempo move (BPM) that counts as a step toward the target.
MIN_STEP_BPM = 0.5
#: The largest step, in ``tempo_step_bpm``, where the library has no track within one step.
MAX_STEPS = 2

#: Why a track was chosen.
REASONS = ("match", "step", "hold", "repeat")


def track_mode(track) -> str:
    """The mode a track plays in: its analysed mode, else Ionian (major) or Aeolian (minor)."""
    analysis = track.analysis
    return analysis.mode or ("ionian" if analysis.quality == "major" else "aeolian")


def beat_grid(track) -> np.ndarray:
    """The track's beats at level (file seconds, from ``start_s`` to ``end_s``).

    Music with too few beats found (a drone) gets an even grid at its tempo.
    """
    a = track.analysis
    beats = np.asarray(a.beat_times_s, dtype=float)
    beats = beats[(beats >= a.start_s - 1e-6) & (beats <= a.end_s + 1e-6)]
    if beats.size >= 2:
        return beats
    period = 60.0 / a.tempo_bpm if a.tempo_bpm > 0 else 1.0
    return np.arange(a.start_s, a.end_s + 1e-9, period)


@dataclass(frozen=True)
class Cue:
    """One track of the session's playlist, as planned.

    Attributes
    ----------
    track : neurofeed.library.Track
        The track (its id, path relative to its library, analysis and rating).
    chosen_s : float
        Session time in seconds at which it was chosen.
    start_s : float
        Session time in seconds at which ``offset_s`` of the file sounds: the start of its
        crossfade (or fade-in), on a beat of the outgoing track.
    offset_s : float
        Where in the file it starts (seconds): its first beat at level.
    fade_s : float
        Seconds of its crossfade in (its fade-in, for the first track).
    out_s : float
        Where in the file its crossfade out starts (seconds), on one of its beats.
    out_fade_s : float
        Seconds of that crossfade (whole beats of this track).
    reason : str
        One of :data:`REASONS`: the first match, a step toward the target, a hold (the
        client not following), or the same track again (nothing else holds).
    followed : float
        The share of the follow window the client followed, 0-1 (1 for the first track).
    """

    track: object
    chosen_s: float
    start_s: float
    offset_s: float
    fade_s: float
    out_s: float
    out_fade_s: float
    reason: str
    followed: float

    @property
    def handover_s(self) -> float:
        """Session time in seconds at which the next track starts (this one's crossfade out)."""
        return self.start_s + self.out_s - self.offset_s

    @property
    def stop_s(self) -> float:
        """Where in the file this track falls silent (seconds)."""
        return self.out_s + self.out_fade_s

    def to_row(self) -> dict:
        """The cue as a ``tracks.tsv`` row (see docs/session-folder.md)."""
        a = self.track.analysis
        return {"onset_s": self.start_s, "fade_s": self.fade_s, "handover_s": self.handover_s,
                "out_fade_s": self.out_fade_s, "chosen_s": self.chosen_s, "reason": self.reason,
                "followed": self.followed, "track_id": self.track.track_id, "path": self.track.shared_path,
                "title": self.track.title, "rating": self.track.rating, "offset_s": self.offset_s,
                "out_s": self.out_s, "tempo_bpm": a.tempo_bpm, "key": a.key, "quality": a.quality,
                "mode": track_mode(self.track), "valence": a.valence, "arousal": a.arousal,
                "loudness_lufs": a.loudness_lufs}


def crossfade_out(track, offset_s: float, fade_in_s: float, crossfade_s: float,
                  max_track_s: float) -> tuple[float, float]:
    """Where a track playing from ``offset_s`` hands over: ``(out_s, out_fade_s)`` in file seconds.

    The crossfade out starts on a beat and lasts about ``crossfade_s`` in whole beats
    (at least one), ends by the track's last beat at level (and within ``max_track_s`` of
    ``offset_s`` when that is above 0), and starts at least
    :data:`~neurofeed.synth.deck.MATCH_SPAN_S` after the crossfade in has ended: the track
    plays alone at its level for the span the join's loudness is matched over.
    """
    beats = beat_grid(track)
    a = track.analysis
    limit = a.end_s if max_track_s <= 0 else min(a.end_s, offset_s + max_track_s)
    wanted = max(1, round(crossfade_s * a.tempo_bpm / 60.0))
    for n in range(wanted, 0, -1):
        starts = beats[:-n]
        ends = beats[n:]
        ok = (starts >= offset_s + fade_in_s + MATCH_SPAN_S - 1e-6) & (ends <= limit + 1e-6)
        if ok.any():
            i = int(np.flatnonzero(ok)[-1])
            return float(starts[i]), float(ends[i] - starts[i])
    # Too short for a beat's crossfade after its own: hand over half-way through what is left.
    rest = max(limit - offset_s - fade_in_s, 0.0)
    return offset_s + fade_in_s + rest / 2, max(rest / 2, 0.5)


class PlaylistPlan:
    """The session's playlist: the first match, then a step or a hold at each handover.

    Parameters
    ----------
    tracks : sequence of neurofeed.library.Track
        What may play (disliked tracks never do).
    spec : Playlist
        The preset's ``[playlist]``.
    target_tempo_bpm, target_valence : float
        Where the walk goes (``[iso]``'s target).
    fade_in_s : float
        The first track's fade-in, in seconds.
    end_s : float
        The session's end (seconds): no track is cued to start after it.

    Raises
    ------
    InvalidArgumentError
        When no track may play (none, or all disliked).
    """

    def __init__(self, tracks: Sequence, spec: Playlist, *, target_tempo_bpm: float,
                 target_valence: float, fade_in_s: float = FIRST_FADE_IN_S, end_s: float = math.inf):
        self.tracks = [t for t in tracks if t.rating != "disliked"]
        if not self.tracks:
            why = "every track is rated disliked" if tracks else "the library has no tracks"
            raise InvalidArgumentError(f"a playlist session needs the client's music, but {why}; add "
                                       "tracks with 'neurofeed library add PATH... --subject S' (or "
                                       "rate some liked or neutral with 'neurofeed library rate')")
        self.spec = spec
        self.target = (float(target_tempo_bpm), float(target_valence))
        self.fade_in_s = float(fade_in_s)
        self.end_s = float(end_s)
        #: Every cue so far, in order.
        self.cues: list[Cue] = []
        self._played: set[str] = set()
        self._window: deque[tuple[float, float, float]] = deque()  # (time_s, dt, follow rate)

    # -- choosing --------------------------------------------------------------------------
    def _cost(self, track, tempo: float, valence: float) -> float:
        a = track.analysis
        cost = ((a.tempo_bpm - tempo) / self.spec.tempo_step_bpm) ** 2 \
            + ((a.valence - valence) / self.spec.valence_step) ** 2
        cost -= LIKED_BONUS if track.rating == "liked" else 0.0
        return cost + (REPEAT_COST if track.track_id in self._played else 0.0)

    def match(self, tempo_bpm: float, valence: float, arousal: float) -> object:
        """The track nearest the client's measured state (the first of the session)."""
        def cost(track):
            energy = AROUSAL_WEIGHT * ((track.analysis.arousal - arousal) / AROUSAL_SCALE) ** 2
            return self._cost(track, tempo_bpm, valence) + energy
        return min(self.tracks, key=lambda t: (cost(t), t.path))

    def choose(self, current, following: bool) -> tuple[object, str]:
        """The next track after ``current``: a step toward the target, or a hold.

        A step moves the tempo toward the target by more than :data:`MIN_STEP_BPM` and at
        most ``tempo_step_bpm`` (plus the hold tolerance), or, where the library has no track
        that near, to the nearest within :data:`MAX_STEPS` steps, never past the target by more
        than that tolerance; a hold keeps it within the tolerance, never moving away. Neither
        takes the valence further from the target than a step, unless no track would step
        then: the tempo leads the walk, and the valence's cost still picks the brightest
        step. Without a candidate, a step becomes a hold, and a hold plays the same track
        again.
        """
        spec = self.spec
        tol = spec.hold_tolerance_bpm
        tempo, valence = current.analysis.tempo_bpm, current.analysis.valence
        target_tempo, target_valence = self.target
        direction = math.copysign(1.0, target_tempo - tempo) if abs(target_tempo - tempo) > tol else 0.0
        away = abs(valence - target_valence) + spec.valence_step

        def allowed(track, low: float, high: float) -> bool:
            a = track.analysis
            move = (a.tempo_bpm - tempo) * direction if direction else abs(a.tempo_bpm - target_tempo)
            return low < move <= high

        def brighter(tracks: list) -> list:
            return [t for t in tracks if abs(t.analysis.valence - target_valence) <= away + 1e-9]

        others = [t for t in self.tracks if t.track_id != current.track_id]
        if following:
            want_tempo = tempo + direction * min(spec.tempo_step_bpm, abs(target_tempo - tempo))
            want_valence = valence + float(np.clip(target_valence - valence, -spec.valence_step,
                                                   spec.valence_step))
            if direction:
                toward = [t for t in others if allowed(t, MIN_STEP_BPM, MAX_STEPS * spec.tempo_step_bpm + tol)
                          and (t.analysis.tempo_bpm - target_tempo) * direction <= tol]
                steps = [t for t in toward if allowed(t, MIN_STEP_BPM, spec.tempo_step_bpm + tol)]
                if not steps and toward:  # a gap in the library: the nearest track beyond a step
                    nearest = min(abs(t.analysis.tempo_bpm - tempo) for t in toward)
                    steps = [t for t in toward if abs(t.analysis.tempo_bpm - tempo) <= nearest + tol]
                steps = brighter(steps) or steps
            else:  # at the target tempo: a step brightens
                steps = [t for t in others if allowed(t, -1.0, tol)
                         and abs(t.analysis.valence - target_valence) < abs(valence - target_valence) - 1e-9]
            if steps:
                return min(steps, key=lambda t: (self._cost(t, want_tempo, want_valence), t.path)), "step"
        holds = brighter([t for t in others if abs(t.analysis.tempo_bpm - tempo) <= tol
                          and (t.analysis.tempo_bpm - tempo) * direction >= -1e-9])
        if holds:
            return min(holds, key=lambda t: (self._cost(t, tempo, valence), t.path)), "hold"
        return current, "repeat"

    # -- the timeline ----------------------------------------------------------------------
    @property
    def current(self) -> Cue | None:
        """The newest cue (the track playing, or about to take over), or None before the first."""
        return self.cues[-1] if self.cues else None

    def playing_at(self, time_s: float) -> Cue | None:
        """The cue of the track that leads at session time ``time_s`` (seconds)."""
        for cue in reversed(self.cues):
            if cue.start_s <= time_s + 1e-9:
                return cue
        return None

    def start(self, time_s: float, tempo_bpm: float, valence: float, arousal: float) -> Cue:
        """Cue the first track at session time ``time_s``, matched to the client's state."""
        track = self.match(tempo_bpm, valence, arousal)
        return self._cue(track, time_s, time_s, self.fade_in_s, "match", 1.0)

    def window_s(self, time_s: float) -> float:
        """The follow window at session time ``time_s`` (seconds): ``follow_window_s``, or half
        of what the current track has played when that is longer (the latter half of a piece
        says more of how the client took it than its last seconds)."""
        current = self.current
        played = 0.0 if current is None else time_s - current.start_s
        return max(self.spec.follow_window_s, 0.5 * played)

    def follow(self, time_s: float, dt: float, rate: float) -> None:
        """Note how well the client followed over the last ``dt`` seconds (``rate`` 0-1).

        Not while the first track fades in from the silent baseline: the match is met at
        its level before the walk can start.
        """
        first = self.cues[0] if self.cues else None
        if first is None or time_s <= first.start_s + first.fade_s:
            return
        self._window.append((time_s, dt, rate))
        while self._window and self._window[0][0] <= time_s - self.window_s(time_s):
            self._window.popleft()

    def followed(self, time_s: float) -> float:
        """The share of the follow window (0-1) the client followed, at session time ``time_s``."""
        window = self.window_s(time_s)
        inside = sum(dt * rate for t, dt, rate in self._window if t > time_s - window)
        return min(inside / window, 1.0)

    def step(self, time_s: float) -> Cue | None:
        """Cue the next track when its start is :data:`CUE_LEAD_S` away or less; else None."""
        current = self.current
        if current is None or time_s < current.handover_s - CUE_LEAD_S or current.handover_s >= self.end_s:
            return None
        share = self.followed(time_s)
        track, reason = self.choose(current.track, share >= self.spec.follow_share)
        return self._cue(track, time_s, current.handover_s, current.out_fade_s, reason, share)

    def _cue(self, track, chosen_s: float, start_s: float, fade_s: float, reason: str,
             followed: float) -> Cue:
        offset = track.analysis.start_s
        out_s, out_fade_s = crossfade_out(track, offset, fade_s, self.spec.crossfade_s,
                                          self.spec.max_track_s)
        cue = Cue(track, chosen_s, start_s, offset, fade_s, out_s, out_fade_s, reason, followed)
        self.cues.append(cue)
        self._played.add(track.track_id)
        return cue
