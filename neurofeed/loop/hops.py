"""The hop writer: every row a hop appends, and the values it publishes.

Per hop it appends a ``music.tsv`` row and pushes one sample of the LSL feature stream;
per window, a ``features.tsv``, an ``artifacts.tsv`` and a ``latency.tsv`` row; and the
notes and changes the engine logged to ``score.tsv`` and ``score_changes.tsv``. Markers go
to ``markers.tsv`` and the LSL marker stream. Columns are documented in
docs/session-folder.md; the features' names come from :mod:`neurofeed.registry`, the
music's from :data:`MUSIC_COLUMNS`, here.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from operator import attrgetter

import numpy as np

from neurofeed.bands import Frame
from neurofeed.protocol import ProtocolStep
from neurofeed.registry import FEATURES, FEEDBACK
from neurofeed.synth.state import MusicState


@dataclass(frozen=True)
class MusicColumn:
    """One column of ``music.tsv``.

    Attributes
    ----------
    name : str
        The column, and its LSL channel label when it is a number.
    unit : str or None
        Its unit; None for a text column, which the LSL feature stream leaves out.
    attribute : str
        Where its value is in a :class:`~neurofeed.synth.state.MusicState` (dotted
        within its entrainment).
    """

    name: str
    unit: str | None
    attribute: str


#: ``music.tsv``'s columns after ``time_s``, in order.
MUSIC_COLUMNS: tuple[MusicColumn, ...] = (
    MusicColumn("tempo_bpm", "BPM", "tempo_bpm"),
    MusicColumn("key", None, "key"),
    MusicColumn("mode", None, "mode"),
    MusicColumn("intensity", "1", "intensity"),
    MusicColumn("brightness", "1", "brightness"),
    MusicColumn("entrainment_kind", None, "entrainment.kind"),
    MusicColumn("entrainment_hz", "Hz", "entrainment.frequency_hz"),
    MusicColumn("entrainment_level", "1", "entrainment.level"),
    MusicColumn("volume", "1", "volume"),
)
_MUSIC_NUMBERS = tuple(c for c in MUSIC_COLUMNS if c.unit is not None)
_MUSIC_ROW = ("time_s", *(c.name for c in MUSIC_COLUMNS))
# One getter for all of a row's values: a hop reads them in one C call.
_music_row = attrgetter(*(c.attribute for c in MUSIC_COLUMNS))
_music_numbers = attrgetter(*(c.attribute for c in _MUSIC_NUMBERS))
#: The protocol's numbers, after the features' z-scores: (column, unit).
_STEP_COLUMNS = (("feedback_z", "z"), ("score", "1"), ("reward", "1"), ("music_score", "1"))


def lsl_channels() -> list[tuple[str, str]]:
    """Return the (label, unit) channels of the LSL feature stream, in push order.

    Every feature's features.tsv column and unit (:data:`neurofeed.registry.FEATURES`),
    the z-scores of the features a preset can feed back, the protocol's feedback z-score,
    score, reward and the score the music follows, then the music's numbers (:data:`MUSIC_COLUMNS`).
    """
    return ([(f.column, f.unit) for f in FEATURES]
            + [(f.z_column, "z") for f in FEEDBACK.values()]
            + list(_STEP_COLUMNS)
            + [(c.name, c.unit) for c in _MUSIC_NUMBERS])


def _number(value) -> float:
    return math.nan if value is None else float(value)


class HopWriter:
    """Appends a session's rows and publishes its values, hop by hop.

    Parameters
    ----------
    recorder : neurofeed.recorder.SessionRecorder
        Where rows and markers are appended.
    outlets : neurofeed.publish.SessionOutlets or None
        The LSL outlets for values and markers, if any.
    feedback : str
        The estimator key of the preset's feedback feature.
    live : bool
        Whether sample times are real, so that latencies mean something. In replays on
        the virtual clock or faster than real time, they are synthetic and run ahead of
        the wall clock: the latency columns are then n/a, and work times (perf counter)
        still say where a hop's time goes.

    Attributes
    ----------
    markers : list of (onset, duration, description)
        Every marker written, onsets on the LSL clock in seconds.
    """

    def __init__(self, recorder, outlets, feedback: str, *, live: bool):
        self.recorder = recorder
        self.outlets = outlets
        self.feedback = feedback
        self.live = live
        self.markers: list[tuple[float, float, str]] = []
        self._score_cursor = (0, 0)  # notes and changes of the engine's score already written

    def marker(self, text: str, onset: float, duration: float = 0.0) -> None:
        """Write a marker at LSL time ``onset`` (seconds), ``duration`` seconds long."""
        self.markers.append((onset, duration, text))
        self.recorder.write_marker(onset, duration, text)
        if self.outlets is not None:
            self.outlets.push_marker(text, onset)

    def track(self, cue, onset: float) -> None:
        """Append a playlist cue's ``tracks.tsv`` row, and mark ``track:<id>:<reason>`` at LSL
        time ``onset`` (seconds), when the track starts (its crossfade in)."""
        self.recorder.write_row("tracks", cue.to_row())
        self.marker(f"track:{cue.track.track_id}:{cue.reason}", onset)

    def music(self, time_s: float, state: MusicState) -> None:
        """Append the hop's ``music.tsv`` row."""
        self.recorder.write_row("music", dict(zip(_MUSIC_ROW, (time_s, *_music_row(state)),
                                                  strict=True)))

    def window(self, time_s: float, phase: str, frame: Frame, bad: np.ndarray,
               z_scores: dict | None, step: ProtocolStep, artifact: str | None = None) -> bool:
        """Append the window's ``features.tsv`` and ``artifacts.tsv`` rows.

        Parameters
        ----------
        artifact : str or None
            Why the window is an artifact window (then it gives no estimate), or None.

        Returns
        -------
        estimate : bool
            Whether the window gave the feedback feature a value (not in an artifact window).
        """
        features = frame.features
        estimate = artifact is None and getattr(features, self.feedback) is not None
        row = {"time_s": time_s, "lsl_time_s": frame.time, "phase": phase,
               "estimate": int(estimate), "reason": artifact or features.reasons.get(self.feedback)}
        for f in FEATURES:
            row[f.column] = getattr(features, f.key)
        for f in FEEDBACK.values():
            row[f.z_column] = None if z_scores is None else z_scores.get(f.key)
        row.update({"feedback_z": step.feature_z, "score": step.score, "reward": int(step.reward),
                    "music_score": step.music_score, "held": int(step.held), "progress": step.progress,
                    "n_bad_channels": int(bad.sum())})
        self.recorder.write_row("features", row)
        flags = frame.artifacts
        self.recorder.write_row("artifacts", {"time_s": time_s, **{
            name: "+".join(flags.kinds(i)) if bad[i] else "ok"
            for i, name in enumerate(flags.ch_names)}})
        return estimate

    def latency(self, time_s: float, frame: Frame, ready_clock: float,
                applied_clock: float | None, estimator_s: float, hop_start: float) -> None:
        """Append the window's ``latency.tsv`` row.

        Parameters
        ----------
        time_s : float
            Session time, in seconds.
        frame : Frame
            The window (its time is its newest sample's).
        ready_clock, applied_clock : float
            LSL times at which the estimate was ready and the engine took the music
            (None: no audio), in seconds.
        estimator_s : float
            Seconds the estimator worked this hop.
        hop_start : float
            :func:`time.perf_counter` at the start of the hop.
        """
        live = self.live
        self.recorder.write_row("latency", {
            "time_s": time_s, "newest_sample_lsl_s": frame.time,
            "estimate_ready_lsl_s": ready_clock, "engine_applied_lsl_s": applied_clock,
            "sample_to_estimate_s": ready_clock - frame.time if live else None,
            "sample_to_engine_s": (applied_clock - frame.time
                                   if live and applied_clock is not None else None),
            "estimator_work_s": estimator_s,
            "hop_work_s": time.perf_counter() - hop_start})

    def publish(self, frame: Frame | None, z_scores: dict | None, step: ProtocolStep,
                timestamp: float) -> None:
        """Push the hop's values to the LSL feature stream (if any), in
        :func:`lsl_channels` order, NaN where missing, at LSL time ``timestamp``."""
        if self.outlets is None:
            return
        features = None if frame is None else frame.features
        values = [math.nan if features is None else _number(getattr(features, f.key))
                  for f in FEATURES]
        values += [math.nan if z_scores is None else _number(z_scores.get(f.key))
                   for f in FEEDBACK.values()]
        values += [_number(step.feature_z), _number(step.score), float(step.reward),
                   step.music_score]
        values += [float(value) for value in _music_numbers(step.state)]
        self.outlets.push_values(values, timestamp)

    def score(self, engine) -> None:
        """Append the notes and changes ``engine`` logged since the last call (to
        ``score.tsv`` and ``score_changes.tsv``, which finalising turns into ``score.mid``)."""
        log = engine.score
        n_notes, n_changes = len(log.notes), len(log.changes)
        for note in log.notes[self._score_cursor[0]:n_notes]:
            self.recorder.write_row("score", asdict(note))
        for change in log.changes[self._score_cursor[1]:n_changes]:
            self.recorder.write_row("score_changes", asdict(change))
        self._score_cursor = (n_notes, n_changes)
