"""The closed loop: one thread, one hop at a time.

Each hop reads the source, updates the estimator, steps the protocol, hands the music
to the engine and to the source, records and publishes. The parts each do one job and
this class wires them: :class:`~neurofeed.loop.clock.SessionClock` (session time and
pacing), :class:`~neurofeed.loop.source.SourceState` (reading, estimator, baseline and
signal quality of one source) and :class:`~neurofeed.loop.hops.HopWriter` (rows,
markers, LSL values).

What ends a loop: the phases running out, a replay ending, or a
:class:`KeyboardInterrupt` (Ctrl-C; SIGTERM and SIGHUP raise one too), which ends it as
``"interrupted"``. An audio failure is not an end: it is marked, and the session goes on
without music. Anything else, such as a :class:`~neurofeed.errors.StorageError` when the
disk fills, propagates to the session, which keeps what reached the disk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pylsl import local_clock

from neurofeed.bands import Baseline, FeatureExtractor, Frame
from neurofeed.errors import AudioError
from neurofeed.loop.calibrator import BaselineCalibrator, baseline_means
from neurofeed.loop.clock import SessionClock
from neurofeed.loop.hops import HopWriter
from neurofeed.loop.quality import SignalQuality
from neurofeed.loop.source import SourceState
from neurofeed.loop.status import HopStatus, LoopResult
from neurofeed.protocol import Protocol, ProtocolStep
from neurofeed.registry import FEEDBACK, REGIONS

#: The status line's alpha and theta: the features relax-alpha and deep-theta feed back.
_ALPHA_KEY = FEEDBACK["alpha_posterior"].key
_THETA_KEY = FEEDBACK["theta_frontal"].key

logger = logging.getLogger(__name__)


class ClosedLoop:
    """Run a session: source in, music out, everything recorded.

    Parameters
    ----------
    source : neurofeed.acquire.Source
        An open source. Its ``speed`` chooses the clock (see
        :mod:`neurofeed.loop.clock`).
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
    baseline : Baseline or None
        A stored baseline (calibrated with the extractor's settings): the session uses it
        and skips its own baseline phase. Without one, the baseline phase calibrates one.
        The protocol must already be calibrated with it
        (``protocol.calibrate(baseline_means(baseline))``), before the engine starts in
        ``protocol.first_state()``.
    subject : str
        The subject, for the calibrated baseline.
    outlets : neurofeed.publish.SessionOutlets or None
        LSL outlets for features, music and markers.
    on_hop : callable or None
        Called with a :class:`HopStatus` after every hop (the live status line).

    Attributes
    ----------
    clock : SessionClock
        Session time and pacing.
    state : SourceState
        The source's reading, estimator, baseline and signal quality.
    writer : HopWriter
        Rows, markers and LSL values.
    audio : str
        ``"on"``, ``"off"`` (no engine) or ``"lost"`` (the engine failed; then
        :attr:`engine` is None).
    """

    def __init__(self, source, protocol: Protocol, recorder, *, engine=None,
                 extractor: FeatureExtractor | None = None, hop_s: float = 0.1,
                 baseline: Baseline | None = None, subject: str = "anonymous", outlets=None,
                 on_hop: Callable[[HopStatus], None] | None = None):
        self.protocol = protocol
        self.recorder = recorder
        self.engine = engine
        self.on_hop = on_hop
        self.clock = SessionClock(source.speed, hop_s, protocol.preset.phases.total_s)
        preset_feedback = protocol.preset.feedback
        feedback = FEEDBACK[preset_feedback.feature].key
        extractor = extractor or FeatureExtractor.from_info(source.info, hop_s=hop_s)
        self.state = SourceState(
            source, extractor,
            BaselineCalibrator(feedback, extractor.settings, subject, baseline,
                               smoothing_s=preset_feedback.smoothing_s,
                               window_s=extractor.welch.window_s),
            SignalQuality(extractor.ch_names, hop_s, feedback))
        self.writer = HopWriter(recorder, outlets, feedback, live=not self.clock.eeg_time)
        fallbacks = extractor.settings["region_fallbacks"]
        self._region_fallback = "; ".join(
            f"{REGIONS[region][0]}: {fallbacks[region]}"
            for region in FEEDBACK[preset_feedback.feature].regions if fallbacks.get(region)) or None
        # With a stored baseline the protocol's maker has calibrated it (an iso preset then
        # starts matched from the first hop, and the engine starts in that music). Without
        # one, an iso preset's music follows the match of the windows so far.
        self._follow_match = baseline is None and protocol.preset.iso is not None
        self.audio = "off" if engine is None else "on"
        # The manual and offline backends have no clock of their own: audio time follows
        # session time. A real-time backend runs on by itself, except on the virtual clock.
        self._lockstep = engine is not None and (self.clock.virtual
                                                 or engine.backend in ("manual", "offline"))

    def run(self) -> LoopResult:
        """Run until the phases end, the replay ends, or Ctrl-C."""
        result = LoopResult(ended="done")
        state, writer, phase = self.state, self.writer, None
        self.clock.start()
        try:
            while True:
                hop_start = time.perf_counter()
                frame, estimator_s = state.read(self.recorder)
                read_clock = local_clock()
                for text, onset, duration in state.source_markers():
                    writer.marker(text, onset, duration)
                time_s, last_hop = self.clock.session_time(state.eeg_s, read_clock)
                new_phase = self.protocol.phase_at(time_s)
                if new_phase != phase:
                    phase = new_phase
                    writer.marker(f"phase:{phase}", state.newest_time or read_clock)
                step = self._hop(time_s, phase, frame, hop_start, estimator_s)
                result.n_hops += 1
                result.duration_s = time_s
                if self.on_hop is not None:
                    self.on_hop(self._status(step, time_s))
                if last_hop:
                    break
                if state.source.finished:
                    result.ended = "source finished"
                    break
                self.clock.wait_for_next_hop()
        except KeyboardInterrupt:
            result.ended = "interrupted"
        result.n_windows, result.n_estimates = state.n_windows, state.n_estimates
        result.n_artifact_windows = state.n_artifact_windows
        result.baseline = state.calibrator.baseline
        result.audio_lost = self.audio == "lost"
        result.signal_lost_s = state.quality.lost_s
        result.markers = writer.markers
        return result

    def _hop(self, time_s: float, phase: str, frame: Frame | None, hop_start: float,
             estimator_s: float) -> ProtocolStep:
        state, writer = self.state, self.writer
        window = None if frame is None else state.window(frame, phase)
        if window is not None:
            for text, onset in window.markers:
                writer.marker(text, onset)
            if self._follow_match:
                calibrator = state.calibrator
                self.protocol.calibrate(calibrator.running_means() if calibrator.baseline is None
                                        else baseline_means(calibrator.baseline))
                self._follow_match = calibrator.baseline is None
        z_scores = None if window is None else window.z_scores
        step = self.protocol.step(time_s, None if window is None else window.feedback_z,
                                  artifact=state.in_artifact)
        ready_clock = local_clock()
        if step.cue is not None:  # marked when it will start, on the LSL clock
            writer.track(step.cue, (state.newest_time or ready_clock) + step.cue.start_s - time_s)
        applied_clock = self._apply(step, time_s)
        state.listen(step.state)
        writer.music(time_s, step.state)
        self.record_score()
        writer.publish(frame, z_scores, step, state.newest_time if frame is None else frame.time)
        if window is not None:
            state.n_estimates += writer.window(time_s, phase, frame, window.bad, z_scores, step,
                                               window.artifact)
            writer.latency(time_s, frame, ready_clock, applied_clock, estimator_s, hop_start)
        return step

    def _apply(self, step: ProtocolStep, time_s: float) -> float | None:
        """Hand the music to the engine; return the LSL time of the hand-over (None: no audio).

        An :class:`~neurofeed.errors.AudioError` (the server gone, a fault in the audio
        thread) loses the audio for the rest of the session: it is marked ``audio:lost``
        and the session goes on, recording, without music.
        """
        if self.engine is None:
            return None
        try:
            self.engine.apply(step.state)
            if step.cue is not None:
                self.engine.cue(step.cue)
            applied = local_clock()
            if self._lockstep:
                self.engine.advance(max(time_s - self.engine.time_s, 0.0))
            return applied
        except AudioError as err:
            logger.error("audio lost: %s; recording continues", err)
            self.writer.marker("audio:lost", self.state.newest_time)
            self.audio = "lost"
            self.engine = None
            return None

    def record_score(self) -> None:
        """Append the notes and changes the engine logged since the last call.

        The loop calls it every hop; call it once more after the engine stopped, for the
        notes of the fade-out.
        """
        if self.engine is not None:
            self.writer.score(self.engine)

    def finish_baseline(self) -> Baseline:
        """Return the session's baseline, calibrating it from every window so far if the
        session has none yet (a baseline-only session).

        Raises
        ------
        InvalidArgumentError
            When the windows hold too few values of the feedback feature (too short, or
            all artifacts).
        """
        return self.state.calibrator.finish()

    def _status(self, step: ProtocolStep, time_s: float) -> HopStatus:
        state = self.state
        z = state.latest_z or {}
        return HopStatus(
            time_s=time_s, remaining_s=max(self.clock.duration_s - time_s, 0.0), step=step,
            alpha_z=z.get(_ALPHA_KEY), theta_z=z.get(_THETA_KEY),
            artifact_percent=100.0 * state.n_flagged / max(state.n_windows, 1),
            stalled=state.stalled, audio=self.audio, quality=state.quality.channel_quality(),
            signal_lost=state.quality.lost, signal=state.signal,
            artifact_window=state.in_artifact, region_fallback=self._region_fallback,
            track=self._track_at(time_s))

    def _track_at(self, time_s: float) -> str | None:
        playlist = self.protocol.playlist
        cue = None if playlist is None else playlist.playing_at(time_s)
        return None if cue is None else cue.track.title

