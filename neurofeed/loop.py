"""The closed loop: one thread, one hop at a time.

Each hop reads the source, updates the estimator, computes features, steps the
protocol, applies the music to the engine, records, and publishes. Two clocks:

- **real time** (live boards, LSL, replay at 1x): a hop every ``hop_s`` of wall time,
  session time from the LSL clock (a replay at Nx: a hop every ``hop_s / N``, session
  time counted in EEG samples);
- **virtual** (replay as fast as possible): a hop per chunk read, session time counted
  in EEG samples, and the engine (``manual`` backend) advanced in lockstep, so EEG time
  and audio time agree exactly and a session is a pure function of file, preset and seed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from pylsl import local_clock

from neurofeed.bands import Baseline, FeatureExtractor, Frame
from neurofeed.errors import AudioError, InvalidArgumentError
from neurofeed.export import GAP_THRESHOLD_S
from neurofeed.protocol import Protocol, ProtocolStep

logger = logging.getLogger("neurofeed.loop")

#: features.tsv columns (docs/session-folder.md) and the bands feature each one is.
FEATURE_COLUMNS = {
    "alpha_posterior_v2": "alpha_v2", "theta_frontal_v2": "theta_v2",
    "alpha_rel_posterior": "alpha_rel", "theta_rel_frontal": "theta_rel",
    "alpha_theta_ratio": "alpha_theta_ratio", "frontal_asymmetry": "faa",
    "alpha_peak_hz": "iaf_hz", "beta_alpha_ratio": "beta_alpha_ratio",
}
#: Protocol feedback features and the bands feature whose baseline z-score each one is.
FEEDBACK_SOURCES = {
    "alpha_posterior": "alpha_v2", "theta_frontal": "theta_v2",
    "alpha_theta_ratio": "alpha_theta_ratio", "frontal_asymmetry": "faa",
}
#: A session's baseline needs at least this many windows with the feedback feature (2 s of hops).
MIN_BASELINE_WINDOWS = 20
#: Numbers the music row and the LSL stream carry from a MusicState.
MUSIC_NUMBERS = ("tempo_bpm", "intensity", "brightness", "entrainment_frequency_hz",
                 "entrainment_level", "volume")


@dataclass
class HopStatus:
    """What the live status line shows after each hop.

    Attributes
    ----------
    time_s, remaining_s : float
        Session time and time left, in seconds.
    step : ProtocolStep
        The protocol's decision (phase, music, reward).
    alpha_z, theta_z : float or None
        Posterior alpha and frontal-midline theta against the baseline (z).
    artifact_percent : float
        Percentage of windows so far in which any channel was flagged.
    stalled : bool
        Whether the source is stalled.
    audio : str
        ``"on"``, ``"off"`` or ``"lost"``.
    """

    time_s: float
    remaining_s: float
    step: ProtocolStep
    alpha_z: float | None
    theta_z: float | None
    artifact_percent: float
    stalled: bool
    audio: str


@dataclass
class LoopResult:
    """How a loop ended, and its counts.

    Attributes
    ----------
    ended : str
        ``"done"`` (the preset's phases ran out, or ``duration_s``), ``"source finished"``
        (the replay ended), or ``"interrupted"`` (Ctrl-C).
    n_hops, n_windows, n_estimates : int
        Hops run, windows estimated, and windows whose feedback feature had a value.
    markers : list of (onset, duration, description)
        The markers written, onsets on the LSL clock in seconds.
    duration_s : float
        Session time reached, in seconds.
    baseline : Baseline or None
        The baseline the session used (calibrated in its baseline phase, or given).
    audio_lost : bool
        Whether the audio engine failed during the session.
    """

    ended: str
    n_hops: int = 0
    n_windows: int = 0
    n_estimates: int = 0
    duration_s: float = 0.0
    baseline: Baseline | None = None
    audio_lost: bool = False
    markers: list = field(default_factory=list)


class ClosedLoop:
    """Run a session: source in, music out, everything recorded.

    Parameters
    ----------
    source : neurofeed.acquire.Source
        An open source.
    protocol : Protocol
        The protocol (its preset's phases set the session length).
    recorder : neurofeed.recorder.SessionRecorder
        Where everything is appended.
    engine : neurofeed.synth.Engine or None
        A running engine, or None for a session without audio.
    extractor : FeatureExtractor or None
        The estimator; by default one for the source's channels at ``hop_s``.
    hop_s : float
        Seconds between hops (real time); the estimator's hop in both clocks.
    duration_s : float or None
        Stop after this much session time, in seconds; default the preset's total.
    baseline : Baseline or None
        A stored baseline (calibrated with the extractor's settings): the session uses it
        and skips its own baseline phase. Without one, the baseline phase calibrates one.
    subject : str
        The subject, for the calibrated baseline.
    outlets : neurofeed.publish.SessionOutlets or None
        LSL outlets for features, music and markers.
    on_hop : callable or None
        Called with a :class:`HopStatus` after every hop (the live status line).
    """

    def __init__(self, source, protocol: Protocol, recorder, *, engine=None,
                 extractor: FeatureExtractor | None = None, hop_s: float = 0.1,
                 duration_s: float | None = None,
                 baseline: Baseline | None = None, subject: str = "anonymous", outlets=None,
                 on_hop: Callable[[HopStatus], None] | None = None):
        self.source = source
        self.protocol = protocol
        self.recorder = recorder
        self.engine = engine
        self.extractor = extractor or FeatureExtractor.from_info(source.info, hop_s=hop_s)
        self.hop_s = hop_s
        # The clock follows the source (Source.speed): a replay at "max" runs on the virtual
        # clock, with the engine (``manual`` backend) advanced in lockstep.
        self.virtual = source.speed == "max"
        # EEG time drives the session on the virtual clock and in faster replays (where no
        # latency is recorded); wall time drives it live, where it must run on through a stall.
        self._eeg_time = source.speed != 1.0
        total = protocol.preset.phases.total_s
        # Phases scaled to fit a duration add up to it only to rounding: ending at their
        # total, not a hair before, makes the last hop's phase "done".
        self.duration_s = total if duration_s is None or duration_s > total - 1e-6 else duration_s
        self.subject = subject
        self.outlets = outlets
        self.on_hop = on_hop
        self._feedback = FEEDBACK_SOURCES[protocol.preset.feedback.feature]
        self._baseline = baseline
        if baseline is not None:
            protocol.calibrate(_baseline_means(baseline))
        self._baseline_windows: list = []
        self._n_flagged_windows = 0
        self._latest_z: dict | None = None
        self._audio = "off" if engine is None else "on"
        self._newest_time = 0.0  # LSL time of the newest sample read (0: none yet): markers go there
        self._score_cursor = (0, 0)  # notes and changes of the engine's score already recorded

    def run(self) -> LoopResult:
        """Run until the phases end, ``duration_s`` passes, the replay ends, or Ctrl-C."""
        result = LoopResult(ended="done", baseline=self._baseline)
        n_samples, start_clock, phase, was_stalled = 0, local_clock(), None, False
        next_hop = time.monotonic()
        try:
            while True:
                hop_start = time.perf_counter()
                chunk = self.source.read()
                read_clock = local_clock()
                frame, estimator_s = None, 0.0
                if chunk.timestamps.size:
                    self.recorder.write_eeg(chunk.data, chunk.timestamps)
                    gap_s = chunk.timestamps[0] - self._newest_time
                    if self._newest_time and gap_s > GAP_THRESHOLD_S:
                        self.extractor.reset()  # no window may span an acquisition gap
                    self._newest_time = float(chunk.timestamps[-1])
                    estimator_start = time.perf_counter()
                    frame = self.extractor.update(chunk.data, chunk.timestamps)
                    estimator_s = time.perf_counter() - estimator_start
                    n_samples += chunk.timestamps.size
                for event in self.source.pop_events():
                    self._marker(result, event.description, event.onset, event.duration)
                if self.source.stalled != was_stalled:
                    was_stalled = self.source.stalled
                    gap = self.source.gaps[-1]
                    self._marker(result, "stall" if was_stalled else "resume",
                                 gap.start if was_stalled else gap.end)
                session_time = (n_samples / self.source.sfreq if self._eeg_time
                                else read_clock - start_clock)
                last_hop = session_time >= self.duration_s
                session_time = min(session_time, self.duration_s)
                new_phase = self.protocol.phase_at(session_time)
                if new_phase != phase:
                    phase = new_phase
                    self._marker(result, f"phase:{phase}", self._newest_time or read_clock)
                step = self._hop(result, session_time, frame, hop_start, estimator_s)
                result.n_hops += 1
                result.duration_s = session_time
                if self.on_hop is not None:
                    self.on_hop(self._status(result, step, session_time, was_stalled))
                if last_hop:
                    break
                if self.source.finished:
                    result.ended = "source finished"
                    break
                if not self.virtual:
                    next_hop += self.hop_s / self.source.speed
                    delay = next_hop - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    else:
                        next_hop = time.monotonic()  # behind: do not burst to catch up
        except KeyboardInterrupt:
            result.ended = "interrupted"
        result.baseline = self._baseline
        result.audio_lost = self._audio == "lost"
        return result

    # -- one hop -----------------------------------------------------------------------
    def _hop(self, result: LoopResult, session_time: float, frame: Frame | None,
             hop_start: float, estimator_s: float) -> ProtocolStep:
        phase = self.protocol.phase_at(session_time)
        z_scores = None
        if frame is not None:
            result.n_windows += 1
            self._n_flagged_windows += bool(frame.artifacts.bad.any())
            if self._baseline is None:
                if phase != "baseline":
                    self._calibrate(result, frame.time)
                if self._baseline is None:
                    self._baseline_windows.append(frame.features)
            if self._baseline is not None:
                z_scores = self._latest_z = self._baseline.normalise(frame.features)
        feedback_z = None if z_scores is None else z_scores.get(self._feedback)
        step = self.protocol.step(session_time, feedback_z)
        ready_clock = local_clock()
        applied_clock = self._apply(result, step, session_time)
        self.recorder.write_row("music", {"time_s": session_time, **_music_row(step)})
        self.record_score()
        if self.outlets is not None:
            self.outlets.push_values(self._lsl_values(frame, z_scores, step),
                                     frame.time if frame is not None else self._newest_time)
        if frame is not None:
            result.n_estimates += self._record_window(session_time, phase, frame, z_scores, step)
            # In replays on the virtual clock or faster than real time, sample times are
            # synthetic and run ahead of the wall clock: a latency would be meaningless.
            # Work times (perf counter) say where a hop's time goes.
            live = not self._eeg_time
            self.recorder.write_row("latency", {
                "time_s": session_time, "newest_sample_lsl_s": frame.time,
                "estimate_ready_lsl_s": ready_clock, "engine_applied_lsl_s": applied_clock,
                "sample_to_estimate_s": ready_clock - frame.time if live else None,
                "sample_to_engine_s": (applied_clock - frame.time
                                       if live and applied_clock is not None else None),
                "estimator_work_s": estimator_s,
                "hop_work_s": time.perf_counter() - hop_start})
        return step

    def finish_baseline(self) -> Baseline:
        """Calibrate the baseline from the windows collected so far (a baseline-only session).

        Raises
        ------
        InvalidArgumentError
            When the windows hold no feature values (too short or all artifacts).
        """
        if self._baseline is None:
            self._baseline = self._baseline_from_windows("calibration")
        return self._baseline

    def _baseline_from_windows(self, condition: str) -> Baseline:
        """Calibrate from the windows so far, or raise if the feedback feature is not usable."""
        baseline = Baseline.calibrate(self._baseline_windows, subject=self.subject,
                                      condition=condition, settings=self.extractor.settings)
        check_baseline(baseline, self._feedback)
        return baseline

    def _calibrate(self, result: LoopResult, clock: float) -> None:
        """After the baseline phase: summarise its windows into the session's baseline.

        When they hold no usable values (all artifacts, too short), the loop keeps adding
        windows and tries again at the next one, with a marker saying so.
        """
        try:
            baseline = self._baseline_from_windows("session baseline")
        except InvalidArgumentError as err:
            if not any(m[2] == "baseline:insufficient" for m in result.markers):
                self._marker(result, "baseline:insufficient", clock)
                logger.warning("baseline not yet usable: %s", err)
            return
        self._baseline = baseline
        self._baseline_windows = []
        self.protocol.calibrate(_baseline_means(self._baseline))
        self._marker(result, "baseline:calibrated", clock)

    def _apply(self, result: LoopResult, step: ProtocolStep, session_time: float) -> float | None:
        """Hand the state to the engine; return the LSL time of the hand-over (None: no audio)."""
        if self.engine is None:
            return None
        try:
            self.engine.apply(step.state)
            applied = local_clock()
            if self.virtual or self.engine.backend in ("manual", "offline"):
                # Lockstep: audio time follows session time exactly.
                self.engine.advance(max(session_time - self.engine.time_s, 0.0))
            return applied
        except AudioError as err:
            logger.error("audio lost: %s; recording continues", err)
            self._marker(result, "audio:lost", self._newest_time)
            self._audio = "lost"
            self.engine = None
            return None

    def record_score(self) -> None:
        """Append the notes and changes the engine logged since the last call.

        The loop calls it every hop; call it once more after the engine stopped, for the
        notes of the fade-out. Rows go to ``score.tsv`` and ``score_changes.tsv``, which
        finalising turns into ``score.mid``.
        """
        if self.engine is None:
            return
        score = self.engine.score
        n_notes, n_changes = len(score.notes), len(score.changes)
        for note in score.notes[self._score_cursor[0]:n_notes]:
            self.recorder.write_row("score", asdict(note))
        for change in score.changes[self._score_cursor[1]:n_changes]:
            self.recorder.write_row("score_changes", asdict(change))
        self._score_cursor = (n_notes, n_changes)

    def _record_window(self, session_time, phase, frame: Frame, z_scores, step: ProtocolStep) -> bool:
        """Append the window's features and artifacts; return whether it gave an estimate."""
        features = frame.features.as_dict()
        estimate = features.get(self._feedback) is not None
        row = {"time_s": session_time, "lsl_time_s": frame.time, "phase": phase,
               "estimate": int(estimate), "reason": frame.features.reasons.get(self._feedback)}
        row.update({column: features.get(name) for column, name in FEATURE_COLUMNS.items()})
        row.update({f"{name}_z": None if z_scores is None else z_scores.get(source)
                    for name, source in FEEDBACK_SOURCES.items()})
        row.update({"feedback_z": step.feature_z, "score": step.score, "reward": int(step.reward),
                    "held": int(step.held), "progress": step.progress,
                    "n_bad_channels": int(frame.artifacts.bad.sum())})
        self.recorder.write_row("features", row)
        flags = frame.artifacts
        bad = flags.bad
        self.recorder.write_row("artifacts", {"time_s": session_time, **{
            name: "+".join(flags.kinds(i)) if bad[i] else "ok" for i, name in enumerate(flags.ch_names)}})
        return estimate

    def _lsl_values(self, frame, z_scores, step: ProtocolStep) -> list[float]:
        features = {} if frame is None else frame.features.as_dict()
        values = [_number(features.get(name)) for name in FEATURE_COLUMNS.values()]
        values += [_number(None if z_scores is None else z_scores.get(source))
                   for source in FEEDBACK_SOURCES.values()]
        music = step.state.to_dict()
        values += [_number(step.feature_z), _number(step.score), float(step.reward)]
        values += [float(music[name]) for name in MUSIC_NUMBERS]
        return values

    def _marker(self, result: LoopResult, text: str, onset: float, duration: float = 0.0) -> None:
        result.markers.append((onset, duration, text))
        self.recorder.write_marker(onset, duration, text)
        if self.outlets is not None:
            self.outlets.push_marker(text, onset)

    def _status(self, result: LoopResult, step: ProtocolStep, session_time: float,
                stalled: bool) -> HopStatus:
        z = self._latest_z or {}
        return HopStatus(time_s=session_time, remaining_s=max(self.duration_s - session_time, 0.0),
                         step=step, alpha_z=z.get("alpha_v2"), theta_z=z.get("theta_v2"),
                         artifact_percent=100.0 * self._n_flagged_windows / max(result.n_windows, 1),
                         stalled=stalled, audio=self._audio)


def check_baseline(baseline: Baseline, feedback: str) -> None:
    """Raise unless ``baseline`` has :data:`MIN_BASELINE_WINDOWS` values of the bands feature
    ``feedback`` with some spread: without them its z-scores would be undefined."""
    stats = baseline.stats.get(feedback)
    if stats is None or stats.n < MIN_BASELINE_WINDOWS or stats.std == 0:
        have = 0 if stats is None else stats.n
        raise InvalidArgumentError(
            f"the baseline has {have} windows with {feedback}; at least {MIN_BASELINE_WINDOWS} "
            "with some spread are needed (a longer or cleaner baseline period)")


def lsl_channels() -> list[tuple[str, str]]:
    """The (label, unit) channels of the session's LSL feature stream, in push order."""
    units = {"alpha_posterior_v2": "V^2", "theta_frontal_v2": "V^2", "alpha_peak_hz": "Hz"}
    channels = [(name, units.get(name, "1")) for name in FEATURE_COLUMNS]
    channels += [(f"{name}_z", "z") for name in FEEDBACK_SOURCES]
    channels += [("feedback_z", "z"), ("score", "1"), ("reward", "1")]
    channels += [(name, {"tempo_bpm": "BPM", "entrainment_frequency_hz": "Hz"}.get(name, "1"))
                 for name in MUSIC_NUMBERS]
    return channels


def _music_row(step: ProtocolStep) -> dict:
    state, entrainment = step.state, step.state.entrainment
    return {"tempo_bpm": state.tempo_bpm, "key": state.key, "mode": state.mode,
            "intensity": state.intensity, "brightness": state.brightness,
            "entrainment_kind": entrainment.kind, "entrainment_hz": entrainment.frequency_hz,
            "entrainment_level": entrainment.level, "volume": state.volume}


def _baseline_means(baseline: Baseline) -> dict[str, float]:
    """The raw feature means an iso protocol starts from, by protocol name."""
    stats = baseline.stats
    return {name: stats[source].mean for name, source in
            (("beta_alpha_ratio", "beta_alpha_ratio"), ("frontal_asymmetry", "faa"))
            if source in stats}


def _number(value) -> float:
    return math.nan if value is None else float(value)
