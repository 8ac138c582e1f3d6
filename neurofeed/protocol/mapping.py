"""The protocol: a pure mapping from features and session time to a MusicState.

Its only state is small and explicit: the phase, an exponential smoother, the reward
hysteresis, the slew limiter, and, for an iso preset, the glide's progress. Feed it
the same features at the same times and it returns the same music.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from neurofeed.bands.baseline import ExponentialSmoother
from neurofeed.protocol.presets import Preset
from neurofeed.synth.state import Entrainment, MusicState, mode_from_valence

PHASES = ("baseline", "training", "cooldown", "done")
#: How long after the last estimate the feedback still counts as current, in seconds:
#: chunks from a device or network arrive unevenly, so a hop may bring no new window.
STALE_S = 0.5
#: How long the music holds its last good state when features stop, in seconds,
#: before it eases toward neutral.
HOLD_S = 2.0
#: Valence margin a mode change must clear beyond the boundary, so that a feature
#: hovering at a boundary does not flip the mode back and forth.
MODE_HYSTERESIS = 0.08
#: Entrainment level change limit, per second.
ENTRAINMENT_LEVEL_PER_S = 0.05


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
        music holds or eases to neutral.
    progress : float
        An iso preset's glide progress, 0 to 1 (0 for other kinds).
    """

    time_s: float
    phase: str
    state: MusicState
    feature_z: float | None
    score: float | None
    reward: bool
    held: bool
    progress: float


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

    Notes
    -----
    ``step`` takes the feedback feature's z-score against the baseline (None during
    the baseline phase, or when a window gives no estimate), in spreads of the baseline's
    smoothed values (:mod:`neurofeed.loop.scale`). The music starts at
    :meth:`start_values` (an iso preset calibrated before its first step starts matched)
    and stays there until the first estimate. The music targets follow the score; every
    continuous parameter then moves toward its target no faster than the preset's
    ``[limits]``, and the mode changes only when the slew-limited valence is clearly
    inside another mode's band. So the music never jumps.
    """

    def __init__(self, preset: Preset):
        self.preset = preset
        self._last_time: float | None = None
        self._smoother = ExponentialSmoother(preset.feedback.smoothing_s)
        self._score_range = tuple(compress_z(z) for z in preset.feedback.score_z)
        self._smoothed: float | None = None
        self._reward = False
        self._last_estimate_time = -math.inf
        self._last_score = 0.5
        self._progress = 0.0
        self._iso_start: tuple[float, float] | None = None
        self._artifact = False
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

    def neutral_values(self) -> dict[str, float]:
        """The middle of each preset range: a feedback preset's start and baseline phase,
        and where the music eases to when estimates stop."""
        music = self.preset.music
        return {name: _lerp(getattr(music, name), 0.5)
                for name in ("tempo_bpm", "valence", "intensity", "brightness")}

    def start_values(self) -> dict[str, float]:
        """The music of the first hop and of the baseline phase.

        An iso preset's matched start (:meth:`calibrate`; the middle of its tempo and
        valence ranges until then) with its first intensity and brightness; for other
        presets, :meth:`neutral_values`.
        """
        if self.preset.iso is None:
            return self.neutral_values()
        return self._iso_values(0.0)

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
        if iso is None:
            return
        arousal = baseline.get("beta_alpha_ratio", math.nan)
        valence = baseline.get("frontal_asymmetry", math.nan)
        arousal01 = _unit(arousal, iso.arousal_ratio) if math.isfinite(arousal) else 0.5
        valence01 = _unit(valence, iso.valence_asymmetry) if math.isfinite(valence) else 0.5
        music = self.preset.music
        self._iso_start = (_lerp(music.tempo_bpm, arousal01), _lerp(music.valence, valence01))
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
        feedback = self.preset.feedback
        if (feature_z is not None and not artifact and math.isfinite(feature_z)
                and phase != "baseline"):
            z = feature_z if feedback.direction == "up" else -feature_z
            self._smoothed = self._smoother.update({"z": z}, time_s)["z"]
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
        targets, entrainment = self._targets(phase, time_s, dt, score)
        self._slew(targets, dt)
        state = MusicState(
            tempo_bpm=self._values["tempo_bpm"], key=self.preset.music.key, mode=self._update_mode(),
            intensity=self._values["intensity"], brightness=self._values["brightness"],
            entrainment=Entrainment(entrainment.kind, entrainment.frequency_hz,
                                    self._values["entrainment_level"]) if entrainment.kind != "off"
            else Entrainment("off", entrainment.frequency_hz, 0.0),
            volume=self.preset.music.volume)
        return ProtocolStep(time_s, phase, state, self._smoothed if fresh else None, score,
                            self._reward and phase == "training", held, self._progress)

    # -- internals ---------------------------------------------------------------------
    def _targets(self, phase: str, time_s: float, dt: float, score: float | None):
        music, spec = self.preset.music, self.preset.entrainment
        neutral = self.neutral_values()
        if phase == "baseline":
            return dict(self.start_values(), entrainment_level=0.0), spec
        if phase in ("cooldown", "done"):
            calm = {"tempo_bpm": min(music.tempo_bpm), "valence": self._values["valence"],
                    "intensity": min(music.intensity) * 0.6, "brightness": min(music.brightness),
                    "entrainment_level": 0.0}
            return calm, spec
        if score is None:
            # Held: in an artifact, briefly after the last estimate, and before the first
            # one (the start values stay until the feedback decides).
            if (self._artifact or self._smoothed is None
                    or time_s - self._last_estimate_time <= HOLD_S):
                targets = dict(self._held_targets())
            else:
                targets = dict(neutral)
            return dict(targets, entrainment_level=spec.level), spec
        self._last_score = score
        if self.preset.iso is not None:
            return dict(self._iso_targets(dt), entrainment_level=spec.level), spec
        return dict(self._score_targets(score), entrainment_level=spec.level), spec

    def _score_targets(self, score: float) -> dict[str, float]:
        music = self.preset.music
        return {name: _lerp(getattr(music, name), score)
                for name in ("tempo_bpm", "valence", "intensity", "brightness")}

    def _held_targets(self) -> dict[str, float]:
        if self.preset.iso is not None:
            return self._iso_targets(0.0)
        return self._score_targets(self._last_score)

    def _iso_targets(self, dt: float) -> dict[str, float]:
        iso = self.preset.iso
        if self._smoothed is not None and dt > 0:
            # Full speed while following, stopped below pause_z, proportional in between.
            rate = _unit(self._smoothed, (iso.pause_z, iso.follow_z)) if iso.follow_z > iso.pause_z \
                else float(self._smoothed >= iso.follow_z)
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

    def _update_mode(self) -> str:
        valence = self._values["valence"]
        candidate = mode_from_valence(valence)
        above = mode_from_valence(min(valence + MODE_HYSTERESIS, 1.0))
        below = mode_from_valence(max(valence - MODE_HYSTERESIS, -1.0))
        if candidate != self._mode and above == candidate == below:
            self._mode = candidate
        return self._mode
