"""The protocol: a pure mapping from features and session time to a MusicState.

Two paths leave the feedback z-score. The reward follows it closely (the preset's
``[feedback].smoothing_s``). The music follows its trend in musical time
(``[musical_time]``): a slower smoothing, a dead band that noise cannot cross, slew
limits on every parameter, and mode changes that need a sustained move, a hold and a
dwell counted in bars. Its only state is small and explicit: the phase, the two
smoothers, the reward hysteresis, the music's score, the slew limiter, the bars played
and the mode's bookkeeping, and, for an iso preset, the glide's progress. Feed it the same
features at the same times and it returns the same music.

A playlist preset plays the client's own tracks instead (:mod:`neurofeed.protocol.playlist`):
the protocol then follows as an iso preset does, and its plan chooses the tracks; the
state's tempo, key and mode are those of the track that leads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from neurofeed.bands.baseline import ExponentialSmoother
from neurofeed.protocol.playlist import FIRST_FADE_IN_S, Cue, PlaylistPlan, track_mode
from neurofeed.protocol.presets import Preset
from neurofeed.synth.composer import BEATS_PER_BAR
from neurofeed.synth.state import MODES, Entrainment, MusicState, mode_from_valence
from neurofeed.synth.theory import mode_position, mode_valence

PHASES = ("baseline", "training", "cooldown", "done")
#: How long after the last estimate the feedback still counts as current, in seconds:
#: chunks from a device or network arrive unevenly, so a hop may bring no new window.
STALE_S = 0.5
#: How long the music holds its last good state when features stop, in seconds,
#: before it eases toward its rest state (the music of an unchanged state, z = 0).
HOLD_S = 2.0
#: Entrainment level change limit, per second.
ENTRAINMENT_LEVEL_PER_S = 0.05
#: The fewest bars between a darkening mode change and a brightening one (or the reverse):
#: a change is never undone within them.
UNDO_BARS = 8
#: The fewest bars between two planned brightening steps of the cool-down.
COOLDOWN_STEP_BARS = 2


@dataclass(frozen=True)
class ProtocolStep:
    """What the protocol decided at one hop.

    Attributes
    ----------
    time_s : float
        Session time in seconds.
    phase : str
        One of ``baseline``, ``training``, ``cooldown``, ``done``.
    state : MusicState
        The music to play now.
    feature_z : float | None
        The smoothed z-score of the feedback feature (sign flipped for ``direction =
        "down"``), or None when there is no estimate or no baseline yet.
    score : float | None
        ``feature_z`` mapped onto 0-1 by the preset's ``score_z``, on the compressed scale
        of :func:`compress_z`.
    reward : bool
        Whether the listener is being rewarded now (always False outside training).
    held : bool
        True while there is no estimate (or the window is an artifact window) and the
        music holds or eases to its rest state.
    progress : float
        An iso preset's glide progress, 0 to 1 (0 for other kinds).
    music_score : float
        The score the music follows (0-1): the trend of the feedback, through the
        ``[musical_time]`` smoothing and dead band (an iso preset: its glide progress).
    cue : Cue or None
        A playlist preset's next track, at the hop it was chosen (None otherwise).
    """

    time_s: float
    phase: str
    state: MusicState
    feature_z: float | None
    score: float | None
    reward: bool
    held: bool
    progress: float
    music_score: float
    cue: Cue | None = None


def _lerp(pair: tuple[float, float], fraction: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * fraction


def compress_z(z: float) -> float:
    """``ln(1 + |z|)`` with the sign of ``z``: the scale a score is linear on.

    Near the baseline it is z itself (slope 1 at 0), so small changes move the music as
    much as before; far from it, each doubling of ``1 + |z|`` moves it the same step. A
    real change (eyes closed against an eyes-open baseline: smoothed z of 4-10) then still
    has room above it within ``score_z``, while a change of 1 z moves the score by a fifth
    of its range (with ``score_z = [-1, 10]``).
    """
    return math.copysign(math.log1p(abs(z)), z)


def _unit(value: float, pair: tuple[float, float]) -> float:
    """Where ``value`` lies from pair[0] (0) to pair[1] (1), clipped to [0, 1]."""
    return min(max((value - pair[0]) / (pair[1] - pair[0]), 0.0), 1.0)


class Protocol:
    """Step a preset through its phases, turning feature z-scores into MusicStates.

    Parameters
    ----------
    preset : Preset
        A validated preset (see :func:`neurofeed.protocol.load_preset`).
    tracks : sequence of neurofeed.library.Track or None
        A playlist preset's tracks (see :func:`neurofeed.library.session_tracks`); None plans
        no playlist (a calibration, which plays no track).
    fade_in_s : float
        A playlist's first track fades in over this many seconds.

    Notes
    -----
    ``step`` takes the feedback feature's z-score against the baseline (None during
    the baseline phase, or when a window gives no estimate), in spreads of the baseline's
    smoothed values (:mod:`neurofeed.loop.scale`). The music starts at
    :meth:`start_values`: for a feedback preset its rest state, the music of an
    unchanged state (z = 0), so that training starts where the baseline phase played; an
    iso preset calibrated before its first step starts matched. The music's score follows
    the trend of the feedback (:class:`~neurofeed.protocol.presets.MusicalTime`); every
    continuous parameter then moves toward its target no faster than the preset's
    ``[limits]``, and the mode moves one step at a time, in musical time. So the music
    never jumps, and does not turn back and forth with the noise of the EEG.

    The cool-down lowers tempo, intensity and brightness and keeps the mode, but never
    ends darker than the mode the training spent the median of its time in: a session
    ends no darker than where the listener was.
    """

    def __init__(self, preset: Preset, tracks=None, *, fade_in_s: float = FIRST_FADE_IN_S):
        self.preset = preset
        #: A playlist preset's plan (None for other kinds).
        self.playlist = None if preset.playlist is None or tracks is None else PlaylistPlan(
            tracks, preset.playlist, target_tempo_bpm=preset.iso.target_tempo_bpm,
            target_valence=preset.iso.target_valence, fade_in_s=fade_in_s, end_s=preset.phases.total_s)
        self._arousal = 0.5
        self._last_time: float | None = None
        self._smoother = ExponentialSmoother(preset.feedback.smoothing_s)
        self._score_range = tuple(compress_z(z) for z in preset.feedback.score_z)
        self._smoothed: float | None = None
        self._reward = False
        self._last_estimate_time = -math.inf
        self._progress = 0.0
        self._iso_start: tuple[float, float] | None = None
        self._artifact = False
        self._phase: str | None = None
        # The music's path: its slower smoothing of z and the score it follows.
        self._music_smoother = ExponentialSmoother(preset.musical_time.smoothing_s)
        self._music_z = 0.0
        self._followed = self._music_score = self.rest_score()
        # Musical time: bars played, the bar of the last mode change, and a waiting change.
        self._bars = 0.0
        self._mode_changed_bar = 0.0
        self._waiting: tuple[str, float] | None = None
        self._last_step = 0  # the last change: +1 darker, -1 brighter
        # Hops spent in each mode during training (the cool-down's floor is their median).
        self._training_modes = dict.fromkeys(MODES, 0)
        self._start()

    def _start(self) -> None:
        """Put the music at :meth:`start_values` (before the first step)."""
        start = self.start_values()
        self._values = dict(start, entrainment_level=0.0)
        self._mode = mode_from_valence(start["valence"])

    # -- public ----------------------------------------------------------------------
    def phase_at(self, time_s: float) -> str:
        """Return the phase at session time ``time_s`` (seconds)."""
        phases = self.preset.phases
        if time_s < phases.baseline_s:
            return "baseline"
        if time_s < phases.baseline_s + phases.training_s:
            return "training"
        if time_s < phases.total_s:
            return "cooldown"
        return "done"

    def rest_score(self) -> float:
        """The score of an unchanged state (z = 0): where a feedback preset's music rests."""
        return _unit(compress_z(0.0), self._score_range)

    def rest_values(self) -> dict[str, float]:
        """The music of an unchanged state (z = 0): a feedback preset's start and baseline
        phase, and where the music eases to when estimates stop."""
        return self._score_values(self.rest_score())

    def start_values(self) -> dict[str, float]:
        """The music of the first hop and of the baseline phase.

        An iso preset's matched start (:meth:`calibrate`; the middle of its tempo and
        valence ranges until then) with its first intensity and brightness; for other
        presets, :meth:`rest_values`.
        """
        if self.preset.iso is None:
            return self.rest_values()
        return self._iso_values(0.0)

    def first_state(self) -> MusicState:
        """The music of the first hop, for the engine to start in (its first beat plays it)."""
        return self._state(self.preset.entrainment.kind, self.preset.entrainment.frequency_hz)

    def calibrate(self, baseline: Mapping[str, float]) -> None:
        """Give the protocol the baseline's mean raw features (an iso preset's start point).

        Called before the first step (a stored baseline), the music starts there. During
        the baseline phase it may be called again and again with the means of the windows
        so far: the baseline phase's music follows the match, so that training starts
        where the music already is.

        Parameters
        ----------
        baseline : mapping
            ``beta_alpha_ratio`` (unitless power ratio) and ``frontal_asymmetry``
            (ln F4 - ln F3 alpha), by features.tsv column; a missing or non-finite one
            takes the middle of its range.
        """
        iso = self.preset.iso
        if iso is None or self._phase not in (None, "baseline"):
            return  # once training runs, its glide has started from the music playing
        arousal = baseline.get("beta_alpha_ratio", math.nan)
        valence = baseline.get("frontal_asymmetry", math.nan)
        arousal01 = _unit(arousal, iso.arousal_ratio) if math.isfinite(arousal) else 0.5
        valence01 = _unit(valence, iso.valence_asymmetry) if math.isfinite(valence) else 0.5
        music = self.preset.music
        self._iso_start = (_lerp(music.tempo_bpm, arousal01), _lerp(music.valence, valence01))
        self._arousal = arousal01
        if self._last_time is None:
            self._start()

    def step(self, time_s: float, feature_z: float | None, artifact: bool = False) -> ProtocolStep:
        """Advance to session time ``time_s`` (seconds) and return the music for now.

        Parameters
        ----------
        time_s : float
            Session time in seconds; must not go backwards.
        feature_z : float | None
            The feedback feature's z-score against the baseline, or None (no estimate).
        artifact : bool
            Whether the newest window is an artifact window. Then there is no reward at
            once (not after :data:`STALE_S`), the music holds its last good state for as
            long as the artifact lasts, and ``feature_z`` is ignored.
        """
        dt = 0.0 if self._last_time is None else max(time_s - self._last_time, 0.0)
        self._last_time = time_s
        self._artifact = artifact
        phase = self.phase_at(time_s)
        if phase == "training" and self._phase != "training":
            # The music's smoothing starts at rest (z = 0) as training begins.
            self._music_smoother.update({"z": 0.0}, time_s)
            if self._phase == "baseline" and self.preset.iso is not None and self.playlist is None:
                # The glide starts from the music the listener hears: a short baseline phase may
                # end before the music reached the running match, and training must not lurch.
                # (A playlist's baseline is silent: its first track matches the calibration.)
                self._iso_start = (self._values["tempo_bpm"], self._values["valence"])
        self._phase = phase
        feedback = self.preset.feedback
        fresh_z = None
        if (feature_z is not None and not artifact and math.isfinite(feature_z)
                and phase != "baseline"):
            fresh_z = feature_z if feedback.direction == "up" else -feature_z
            self._smoothed = self._smoother.update({"z": fresh_z}, time_s)["z"]
            self._last_estimate_time = time_s
        held = phase in ("training", "cooldown") and (
            artifact or time_s - self._last_estimate_time > STALE_S)
        fresh = not held and self._smoothed is not None
        score = _unit(compress_z(self._smoothed), self._score_range) if fresh else None
        if fresh:
            threshold = feedback.reward_z - (feedback.hysteresis_z if self._reward else 0.0)
            self._reward = self._smoothed >= threshold
        else:
            self._reward = False
        if phase == "training":
            self._follow_trend(fresh_z, held, time_s)
        targets = self._targets(phase, dt)
        self._slew(targets, dt)
        self._bars += dt * self._values["tempo_bpm"] / 60.0 / BEATS_PER_BAR
        cue = None
        if self.playlist is not None:
            cue = self._plan(time_s, phase, dt)
        else:
            self._update_mode(phase)
        spec = self.preset.entrainment
        return ProtocolStep(time_s, phase, self._state(spec.kind, spec.frequency_hz),
                            self._smoothed if fresh else None, score,
                            self._reward and phase == "training", held, self._progress,
                            self._progress if self.preset.iso is not None else self._music_score, cue)

    # -- internals ---------------------------------------------------------------------
    def _plan(self, time_s: float, phase: str, dt: float) -> Cue | None:
        """A playlist's next cue: the matched first track as training starts, then one
        chosen :data:`~neurofeed.protocol.playlist.CUE_LEAD_S` before each handover."""
        plan = self.playlist
        if phase in ("baseline", "done"):
            return None
        if plan.current is None:
            tempo, valence = self._iso_start if self._iso_start is not None else self._iso_values(0.0)
            return plan.start(time_s, tempo, valence, self._arousal)
        plan.follow(time_s, dt, self._follow_rate() or 0.0)
        return plan.step(time_s)

    def _state(self, kind: str, frequency_hz: float) -> MusicState:
        level = self._values["entrainment_level"] if kind != "off" else 0.0
        playing = None if self.playlist is None else self.playlist.playing_at(self._last_time or 0.0)
        if playing is not None:  # the track's own tempo, key and mode
            a = playing.track.analysis
            return MusicState(tempo_bpm=a.tempo_bpm, key=a.key, mode=track_mode(playing.track),
                              intensity=self._values["intensity"], brightness=self._values["brightness"],
                              entrainment=Entrainment(kind, frequency_hz, level),
                              volume=self.preset.music.volume)
        # A playlist before its first track is silent: its volume says so.
        silent = self.playlist is not None
        return MusicState(
            tempo_bpm=self._values["tempo_bpm"], key=self.preset.music.key, mode=self._mode,
            intensity=self._values["intensity"], brightness=self._values["brightness"],
            entrainment=Entrainment(kind, frequency_hz, level),
            volume=0.0 if silent else self.preset.music.volume)

    def _follow_trend(self, z: float | None, held: bool, time_s: float) -> None:
        """Move the music's score with the trend of the feedback (training only).

        A fresh estimate moves the slow smoothing; an artifact or a short gap holds it;
        after :data:`HOLD_S` without estimates it eases toward z = 0 (the rest state).
        The score then follows the smoothed value through the dead band.
        """
        timing = self.preset.musical_time
        if z is not None:
            target = z
        elif held and not self._artifact and time_s - self._last_estimate_time > HOLD_S:
            target = 0.0
        else:
            return
        # The smoother weighs the time since its last value, not the last hop: a hop without a
        # new window (a late chunk) does not change how far the music moves.
        self._music_z = self._music_smoother.update({"z": target}, time_s)["z"]
        # The dead band works on the unclipped score, so that z beyond score_z still takes the
        # music to the end of its ranges.
        low, high = self._score_range
        trend = (compress_z(self._music_z) - low) / (high - low)
        gap = trend - self._followed
        if abs(gap) > timing.deadband:
            self._followed = trend - math.copysign(timing.deadband, gap)
        self._music_score = min(max(self._followed, 0.0), 1.0)

    def _targets(self, phase: str, dt: float) -> dict[str, float]:
        music, spec = self.preset.music, self.preset.entrainment
        if phase == "baseline":
            return dict(self.start_values(), entrainment_level=0.0)
        if phase in ("cooldown", "done"):
            # Slower, softer and duller than where training ended (an iso glide may end
            # outside the ranges), and no darker than the training's median mode.
            current = self._values
            floor = MODES[self._median_training_mode()]
            valence = current["valence"]
            if MODES.index(self._mode) > MODES.index(floor):
                valence = max(valence, mode_valence(floor))
            return {"tempo_bpm": min(current["tempo_bpm"], min(music.tempo_bpm)), "valence": valence,
                    "intensity": min(current["intensity"], min(music.intensity) * 0.6),
                    "brightness": min(current["brightness"], min(music.brightness)),
                    "entrainment_level": 0.0}
        if self.preset.iso is not None:
            return dict(self._iso_targets(dt), entrainment_level=spec.level)
        return dict(self._score_values(self._music_score), entrainment_level=spec.level)

    def _score_values(self, score: float) -> dict[str, float]:
        music = self.preset.music
        return {name: _lerp(getattr(music, name), score)
                for name in ("tempo_bpm", "valence", "intensity", "brightness")}

    def _follow_rate(self) -> float | None:
        """How well the listener follows now, 0-1 (None without a current estimate): 1 at or
        above ``[iso].follow_z``, 0 below ``pause_z``, proportional in between."""
        iso = self.preset.iso
        if self._smoothed is None or self._artifact or self._last_time - self._last_estimate_time > STALE_S:
            return None
        if iso.follow_z > iso.pause_z:
            return _unit(self._smoothed, (iso.pause_z, iso.follow_z))
        return float(self._smoothed >= iso.follow_z)

    def _iso_targets(self, dt: float) -> dict[str, float]:
        rate = self._follow_rate()
        if rate is not None and dt > 0:
            self._progress = min(1.0, self._progress + rate * dt / self.preset.phases.training_s)
        return self._iso_values(self._progress)

    def _iso_values(self, p: float) -> dict[str, float]:
        """The iso glide's music at progress ``p`` (0: the matched start, 1: the target)."""
        iso, music = self.preset.iso, self.preset.music
        if self._iso_start is None:
            self.calibrate({})
        start_tempo, start_valence = self._iso_start
        return {"tempo_bpm": start_tempo + (iso.target_tempo_bpm - start_tempo) * p,
                "valence": start_valence + (iso.target_valence - start_valence) * p,
                "intensity": _lerp(music.intensity, p), "brightness": _lerp(music.brightness, p)}

    def _slew(self, targets: Mapping[str, float], dt: float) -> None:
        limits = self.preset.limits
        rates = {"tempo_bpm": limits.tempo_bpm_per_s, "valence": limits.valence_per_s,
                 "intensity": limits.intensity_per_s, "brightness": limits.brightness_per_s,
                 "entrainment_level": ENTRAINMENT_LEVEL_PER_S}
        for name, target in targets.items():
            step = rates[name] * dt
            current = self._values[name]
            self._values[name] = current + min(max(target - current, -step), step)

    def _median_training_mode(self) -> int:
        """Index in :data:`MODES` of the mode the training spent the median hop in."""
        counts = [self._training_modes[m] for m in MODES]
        total = sum(counts)
        if not total:
            return MODES.index(self._mode)
        running = 0
        for index, count in enumerate(counts):
            running += count
            if running * 2 >= total:
                return index
        return len(MODES) - 1

    def _update_mode(self, phase: str) -> None:
        """Move the mode one step when the valence has settled in the next one, in musical time.

        The valence must lie ``hysteresis_modes`` of a mode's width inside the neighbouring
        mode and stay there for ``hold_bars``, and ``dwell_bars`` must have passed since the
        last change: so in the baseline phase (an iso preset's running match) and in training.
        The cool-down's changes are planned, not noise: they only brighten, need no hold, and
        follow each other :data:`COOLDOWN_STEP_BARS` apart, or :data:`UNDO_BARS` after a
        darkening change, so that no change is undone.
        """
        timing = self.preset.musical_time
        planned = phase in ("cooldown", "done")
        position = mode_position(self._values["valence"])
        current = MODES.index(self._mode)
        if position < current - timing.hysteresis_modes:
            wanted = current - 1
        elif position > current + 1 + timing.hysteresis_modes and not planned:
            wanted = current + 1
        else:
            wanted = current
        if wanted == current:
            self._waiting = None
        else:
            if self._waiting is None or self._waiting[0] != MODES[wanted]:
                self._waiting = (MODES[wanted], self._bars)
            if planned:
                hold, dwell = 0.0, UNDO_BARS if self._last_step > 0 else COOLDOWN_STEP_BARS
            else:
                hold, dwell = timing.hold_bars, timing.dwell_bars
            if (self._bars - self._waiting[1] >= hold
                    and self._bars - self._mode_changed_bar >= dwell):
                self._last_step = wanted - current
                self._mode, self._waiting = MODES[wanted], None
                self._mode_changed_bar = self._bars
        if phase == "training":
            self._training_modes[self._mode] += 1
