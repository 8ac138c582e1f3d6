"""The numbers of one session, read from its folder: what the reports show and print.

Definitions (every percentage is of the phase's hops, one hop every ``hop_s``):

- **Change from baseline** of a feature: the mean over the phase's hops that gave an
  estimate, against the baseline mean, as the registry's ``change`` says
  (:data:`neurofeed.registry.CHANGES`). For power ratios it is a percentage,
  ``100 * (phase / baseline - 1)``; for posterior alpha and frontal theta, fed back as
  log relative power, the percentage change of relative power,
  ``100 * (exp(phase - baseline) - 1)``; for frontal asymmetry, a log ratio
  (ln F4 - ln F3 alpha) read as such, the difference ``phase - baseline``. The baseline
  mean is that of the session's own baseline phase; a session that used the subject's
  stored baseline (from ``neurofeed calibrate``) has no baseline phase, and then it is
  the stored one, from the session's ``baseline.json``.
- **Reward**: the share of hops in which the reward was on (the protocol's
  ``reward`` column, with its hysteresis; only ever on in training).
- **Time in target**: the share of hops in which the smoothed feedback z-score
  (``feedback_z``, sign flipped for ``direction = "down"``) was at or above the
  preset's ``reward_z``. Unlike reward it has no hysteresis and is defined in
  cool-down too; it is undefined (None) in baseline, where there is no z-score yet.
- **Estimate**: the share of hops whose window gave an estimate.
- **Artifacts**: for each channel and flag, the share of hops whose window carried it.
- **No usable EEG**: the seconds from each ``signal:lost`` marker to the next
  ``signal:restored`` (or to the session's end): stretches in which no channel of the
  feedback feature's region gave a usable window (contact lost, a dead headset).

A session stopped early (Ctrl-C, a stop signal, a crash then ``neurofeed recover``) is
summarised as far as it went: its tables may end at different hops, its last phase may
be cut short, and it may have no training phase at all.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from neurofeed.bands.artifacts import ARTIFACT_KINDS
from neurofeed.errors import NeurofeedError, SessionFolderError, SessionIncompleteError
from neurofeed.finalise import latency_percentiles
from neurofeed.folder import (
    ARTIFACTS_FILE,
    BASELINE_FILE,
    FEATURES_FILE,
    LATENCY_FILE,
    MUSIC_FILE,
    RAW_FILE,
    STATUS_FINALISED,
    read_markers,
    read_session_json,
    read_table,
)
from neurofeed.protocol.mapping import PHASES as PROTOCOL_PHASES
from neurofeed.registry import FEEDBACK, REGIONS, FeatureDef
from neurofeed.report.tracks import PlaylistSummary, read_playlist, read_tracks, summarise_playlist

#: The phases that have hops ("done" is the protocol's end, not a phase).
PHASES = tuple(p for p in PROTOCOL_PHASES if p != "done")
PHASE_LABELS = {"baseline": "Baseline", "training": "Training", "cooldown": "Cool-down"}
#: latency.tsv's latencies, in seconds (its other columns are times on the LSL clock).
LATENCY_COLUMNS = ("sample_to_estimate_s", "sample_to_engine_s")
#: The markers around a stretch without usable EEG (see neurofeed.loop.quality).
SIGNAL_LOST, SIGNAL_RESTORED = "signal:lost", "signal:restored"
#: The features.tsv columns a report cannot do without.
REQUIRED_COLUMNS = ("time_s", "phase", "estimate")


@dataclass
class SessionData:
    """One finalised session folder's metadata and tables, as read by :func:`read_session`.

    Tables are columns as :func:`neurofeed.finalise.read_table` returns them (numeric
    columns as float arrays, text columns as lists); an absent table is empty.
    ``baseline`` is the session's ``baseline.json`` (the baseline its z-scores are
    against), or empty. ``markers`` are markers.tsv's events (onsets on the LSL clock).
    ``tracks`` are the rows of tracks.tsv and ``playlist`` the tracks of playlist.json
    (:mod:`neurofeed.report.tracks`), empty unless the session played a playlist.
    """

    folder: Path
    meta: dict
    features: dict
    music: dict
    artifacts: dict
    latency: dict
    baseline: dict
    markers: list = field(default_factory=list)
    tracks: list = field(default_factory=list)
    playlist: list = field(default_factory=list)

    @property
    def is_playlist(self) -> bool:
        """Whether the session played the client's own tracks (a ``playlist`` preset)."""
        return self.meta.get("preset_config", {}).get("kind") == "playlist"

    @property
    def raw_path(self) -> Path:
        """Path of the session's raw EEG (FIF, volts)."""
        return self.folder / RAW_FILE

    def phase_of_hops(self) -> np.ndarray:
        """The phase of every row of features.tsv, as a string array."""
        return np.asarray(self.features.get("phase", []), dtype=str)


@dataclass(frozen=True)
class PhaseSummary:
    """One phase's numbers. Times are session seconds; percentages are of the phase's hops."""

    name: str
    start_s: float
    end_s: float
    n_hops: int
    estimate_pct: float
    reward_pct: float
    in_target_pct: float | None
    #: Change from baseline of each feature in :data:`neurofeed.registry.FEEDBACK` (None where undefined).
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SessionSummary:
    """Everything a session report prints, computed by :func:`summarise`.

    Attributes
    ----------
    target : str
        The preset's feedback feature (a key of :data:`neurofeed.registry.FEEDBACK`).
    baseline : str
        What changes are against (see :func:`baseline_reference`).
    reward_z, release_z : float
        The reward switches on at ``feedback_z >= reward_z`` and off below ``release_z``.
    phases : tuple of PhaseSummary
        The phases present, in session order.
    artifact_pct : dict
        ``{channel: {flag: percent of all hops}}`` for every channel, flags in
        the detector's order (:data:`neurofeed.bands.ARTIFACT_KINDS`) then any other flag seen.
    no_estimate_reasons : dict
        ``{reason: number of hops}`` for hops without an estimate.
    latency_ms : dict
        Percentiles in milliseconds of each of :data:`LATENCY_COLUMNS`, as
        :func:`neurofeed.finalise.latency_percentiles` computes them (``sample_to_engine_ms``...);
        empty when the session ran on synthetic sample times, where latency is not measured.
    virtual_clock : bool
        Whether the session ran on synthetic sample times: a replay as fast as possible or
        faster than real time (session.json ``clock`` other than ``real time``).
    signal : str or None
        What the source sends when it is not EEG (session.json ``source.signal``: a
        synthetic test signal, a simulated listener); None for EEG.
    signal_lost_s : float
        Seconds without usable EEG (see module notes).
    ended : str or None
        How the session ended (session.json ``ended``: ``done``, ``source finished``,
        ``interrupted``); None when it did not say (a crash, then ``neurofeed recover``).
    planned_s : float
        The session's planned length (the phases of its preset), in seconds.
    region_fallbacks : dict
        ``{region: what it fell back to}`` for the regions that did not find their standard
        sites (session.json ``estimator.region_fallbacks``); empty when none did.
    playlist : PlaylistSummary or None
        The tracks played and their numbers (:mod:`neurofeed.report.tracks`); None unless
        the session played a playlist.
    """

    session_id: str
    subject: str
    preset: str
    started_utc: str
    source: str
    duration_s: float
    hop_s: float
    n_gaps: int
    target: str
    baseline: str
    direction: str
    reward_z: float
    release_z: float
    phases: tuple
    estimate_pct: float
    no_estimate_reasons: dict
    artifact_pct: dict
    latency_ms: dict
    virtual_clock: bool
    signal: str | None
    signal_lost_s: float
    ended: str | None
    planned_s: float
    region_fallbacks: dict = field(default_factory=dict)
    playlist: PlaylistSummary | None = None

    def phase(self, name: str) -> PhaseSummary | None:
        """The summary of phase ``name``, or None when the session has no such phase."""
        return next((p for p in self.phases if p.name == name), None)

    @property
    def target_spec(self) -> FeatureDef:
        """The :class:`~neurofeed.registry.FeatureDef` of the target feature."""
        return FEEDBACK[self.target]

    @property
    def training_change(self) -> float | None:
        """Change of the target feature from baseline in training (see module notes)."""
        training = self.phase("training")
        return training.changes.get(self.target) if training else None

    def headline(self) -> str:
        """The summary in plain words and numbers, for the top of the report."""
        spec, training = self.target_spec, self.phase("training")
        # What qualifies every number comes first: a source that is not EEG, EEG that was unusable.
        sentences = [f"Source: {self.signal}."] if self.signal else []
        if self.signal_lost_s > 0:
            sentences.append(f"No usable EEG for {self.signal_lost_s:.1f} s (contact lost or dead headset).")
        for region in spec.regions:
            if region in self.region_fallbacks:
                sentences.append(f"{REGIONS[region][0]} region: {self.region_fallbacks[region]}.")
        if self.ended == "interrupted":
            sentences.append(f"Stopped early: {self.duration_s / 60:.1f} of {self.planned_s / 60:.1f} min.")
        if training is None:
            sentences.append(f"No training phase ({self.duration_s / 60:.1f} min recorded).")
        elif self.training_change is None:
            sentences.append(f"{spec.label}: no change from baseline can be given (no baseline "
                             f"values); reward {training.reward_pct:.0f}% of the time.")
        else:
            sentences.append(f"{spec.label} {spec.describe_change(self.training_change)} in training; "
                             f"reward {training.reward_pct:.0f}% of the time.")
            if self.baseline == "stored baseline":
                sentences.append("Changes are against the subject's stored baseline.")
            cooldown = self.phase("cooldown")
            if cooldown is not None and cooldown.changes.get(self.target) is not None:
                sentences.append(f"In cool-down it was {spec.format_change(cooldown.changes[self.target])} "
                                 "against baseline.")
        if self.playlist is not None:
            sentences.append(self.playlist.sentence())
        quality = f"{self.estimate_pct:.0f}% of windows gave an estimate"
        flagged = sum(any(flags.values()) for flags in self.artifact_pct.values())
        if flagged:
            quality += f"; artifacts flagged on {flagged} of {len(self.artifact_pct)} channels"
        p50 = self.latency_ms.get("sample_to_engine_ms", {}).get("p50")
        if p50 is not None:
            quality += f"; median sample-to-engine latency {p50:.0f} ms"
        sentences.append(quality + ".")
        return " ".join(sentences)

    def to_dict(self) -> dict:
        """Plain data (for summary.json), with the headline; ``playlist`` only for a playlist session."""
        content = asdict(self)
        if self.playlist is None:
            del content["playlist"]
        return {**content, "headline": self.headline()}


def read_session(folder) -> SessionData:
    """Read a finalised session folder.

    Raises
    ------
    SessionIncompleteError
        When session.json still says ``running`` or eeg_raw.fif is missing, suggesting
        ``neurofeed recover``.
    SessionFolderError
        When the folder is not a feedback session, has no feedback windows, or its
        features.tsv or baseline.json is damaged.
    """
    folder = Path(folder)
    meta = read_session_json(folder)
    if meta.get("status") != STATUS_FINALISED or not (folder / RAW_FILE).is_file():
        raise SessionIncompleteError(f"{str(folder)!r} is incomplete (the session did not finish); "
                                     f"run 'neurofeed recover {folder}' first")
    features = read_table(folder / FEATURES_FILE)
    if not features and meta.get("kind") not in ("session", "calibrate"):
        raise SessionFolderError(f"{str(folder)!r} has no {FEATURES_FILE}; only sessions of "
                                 "'neurofeed run', 'replay' or 'calibrate' have a report")
    if not len(features.get("time_s", ())):
        raise SessionFolderError(f"{str(folder)!r} has no feedback windows: the session stopped after "
                                 f"{float(meta.get('duration_s', 0.0)):.1f} s, before its first; "
                                 "there is nothing to report")
    for name in REQUIRED_COLUMNS:
        if not isinstance(features.get(name), np.ndarray if name != "phase" else list):
            raise SessionFolderError(f"{str(folder / FEATURES_FILE)!r} is damaged: its column {name!r} "
                                     "is missing or not as written")
    try:
        baseline = json.loads((folder / BASELINE_FILE).read_bytes())
    except FileNotFoundError:
        baseline = {}
    except (OSError, ValueError, RecursionError) as err:
        raise SessionFolderError(f"{str(folder / BASELINE_FILE)!r} is unreadable: {err}") from None
    if not isinstance(baseline, dict):
        raise SessionFolderError(f"{str(folder / BASELINE_FILE)!r} is damaged: a JSON object was expected")
    markers, _ = read_markers(folder)
    return SessionData(folder, meta, features, read_table(folder / MUSIC_FILE),
                       read_table(folder / ARTIFACTS_FILE), read_table(folder / LATENCY_FILE), baseline,
                       markers, read_tracks(folder), read_playlist(folder))


def signal_lost_s(data: SessionData) -> float:
    """Seconds without usable EEG: from each ``signal:lost`` marker to the next ``signal:restored``.

    A loss still open at the end runs to the session's end (its last hop, or
    ``duration_s``), placed on the LSL clock through features.tsv's ``lsl_time_s``.
    """
    total, lost_at = 0.0, None
    for onset, _, description in sorted(data.markers):
        if description == SIGNAL_LOST and lost_at is None:
            lost_at = onset
        elif description == SIGNAL_RESTORED and lost_at is not None:
            total, lost_at = total + onset - lost_at, None
    lsl = data.features.get("lsl_time_s")
    if lost_at is not None and isinstance(lsl, np.ndarray):
        offsets = lsl - data.features["time_s"]  # session time 0 on the LSL clock, per hop
        offsets = offsets[np.isfinite(offsets)]
        if offsets.size:
            total += max(float(offsets[0]) + session_end_s(data) - lost_at, 0.0)
    return total


def session_end_s(data: SessionData) -> float:
    """The session's end in session seconds: ``duration_s``, or its last hop if later."""
    return max(float(data.features["time_s"][-1]), float(data.meta.get("duration_s", 0.0)))


def phase_spans(data: SessionData) -> list[tuple[str, float, float]]:
    """``(phase, start_s, end_s)`` for each phase present, in session order and seconds.

    A phase runs from its first hop to the next phase's first hop; the first phase
    from the session's start (0), the last to its end (``duration_s``, or its last hop).
    """
    times, phases = data.features["time_s"], data.phase_of_hops()
    starts = [(name, float(times[phases == name][0])) for name in PHASES if np.any(phases == name)]
    starts.sort(key=lambda item: item[1])
    ends = [start for _, start in starts[1:]] + [session_end_s(data)]
    return [(name, 0.0 if i == 0 else start, stop)
            for i, ((name, start), stop) in enumerate(zip(starts, ends))]


def phase_mean(data: SessionData, spec: FeatureDef, phase: str) -> float | None:
    """Mean of feature ``spec`` over the hops of ``phase`` that gave an estimate, or None."""
    values = data.features.get(spec.column)
    if not isinstance(values, np.ndarray):
        return None
    usable = np.isfinite(values) & (data.features["estimate"] == 1) & (data.phase_of_hops() == phase)
    return float(values[usable].mean()) if usable.any() else None


def relative_to_baseline(spec: FeatureDef, values, baseline: float | None):
    """``values`` as changes from ``baseline`` (see module notes and
    :meth:`neurofeed.registry.FeatureDef.change_from`).

    None when the change is undefined (no baseline, or a non-positive one for a percentage).
    """
    return spec.change_from(values, baseline)


def baseline_reference(data: SessionData) -> str:
    """What changes are against: ``"baseline phase"``, ``"stored baseline"`` or ``"none"``."""
    if np.any((data.phase_of_hops() == "baseline") & (data.features["estimate"] == 1)):
        return "baseline phase"
    return "stored baseline" if data.baseline.get("features") else "none"


def baseline_mean(data: SessionData, spec: FeatureDef) -> float | None:
    """The baseline mean of ``spec`` (see module notes), or None when there is none."""
    if baseline_reference(data) == "baseline phase":
        return phase_mean(data, spec, "baseline")
    stored = data.baseline.get("features", {}).get(spec.key, {}).get("mean")
    return float(stored) if stored is not None else None


def feature_change(data: SessionData, spec: FeatureDef, phase: str) -> float | None:
    """Change of ``spec`` from baseline in ``phase`` (see module notes), or None if undefined."""
    return relative_to_baseline(spec, phase_mean(data, spec, phase), baseline_mean(data, spec))


def _percent(mask: np.ndarray) -> float:
    return 100.0 * float(np.mean(mask)) if mask.size else math.nan


def summarise_phase(data: SessionData, name: str, start_s: float, end_s: float,
                    reward_z: float) -> PhaseSummary:
    """Numbers of one phase of ``data`` (see module notes for their definitions)."""
    rows = data.phase_of_hops() == name
    feedback_z = data.features.get("feedback_z", np.full(rows.size, np.nan))[rows]
    in_target = None
    if np.any(np.isfinite(feedback_z)):
        # A NaN z-score (no estimate) compares False: such hops count as out of target.
        in_target = _percent(feedback_z >= reward_z)
    changes = {} if name == "baseline" else {n: feature_change(data, s, name) for n, s in FEEDBACK.items()}
    return PhaseSummary(name, start_s, end_s, int(rows.sum()),
                        estimate_pct=_percent(data.features["estimate"][rows] == 1),
                        reward_pct=_percent(data.features.get("reward", np.zeros(rows.size))[rows] == 1),
                        in_target_pct=in_target, changes=changes)


def artifact_percentages(artifacts: dict) -> dict:
    """``{channel: {flag: percent of hops}}`` from artifacts.tsv columns (see :class:`SessionSummary`)."""
    channels = {name: [str(v) for v in values] for name, values in artifacts.items() if name != "time_s"}
    counts = {name: Counter(flag for cell in cells if cell not in ("ok", "nan", "n/a")
                            for flag in cell.split("+"))
              for name, cells in channels.items()}
    seen = set().union(*counts.values()) if counts else set()
    flags = [f for f in ARTIFACT_KINDS if f in seen] + sorted(seen - set(ARTIFACT_KINDS))
    n_hops = len(next(iter(channels.values()), []))
    return {name: {flag: 100.0 * counts[name][flag] / n_hops for flag in flags} for name in channels}


def describe_source(source) -> str:
    """One line for session.json's ``source``: kind, board/stream/file, channels, rate, and signal.

    Channels are ``channels`` (names) or ``n_channels``; the rate is ``rate`` or ``sfreq``, in Hz.
    """
    if not isinstance(source, dict):
        return str(source) if source else "unknown"
    parts = [str(source.get("kind", "unknown"))]
    for key in ("board", "stream", "file"):
        if source.get(key):
            parts.append(Path(str(source[key])).name if key == "file" else str(source[key]))
    channels = source.get("channels") or source.get("n_channels")
    if channels:
        parts.append(f"{len(channels) if isinstance(channels, list) else channels} channels")
    rate = source.get("rate") or source.get("sfreq")
    if rate:
        parts.append(f"at {float(rate):g} Hz")
    if source.get("signal"):
        parts.append(f"({source['signal']})")
    return " ".join(parts)


def format_percent(value: float | None) -> str:
    """``61%``, or ``n/a`` for None."""
    return "n/a" if value is None else f"{value:.0f}%"


def format_started(started_utc: str) -> str:
    """``2026-11-21 10:15 UTC`` from an ISO time; the text itself when it does not parse."""
    try:
        return datetime.fromisoformat(str(started_utc)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(started_utc)


#: session.json's fields the summary reads, by key path, with the types they must have
#: when present (JSON numbers: int or float; bool is excluded below).
_NUMBER = (int, float)
_META_TYPES = {
    ("preset_config",): dict, ("preset_config", "feedback"): dict,
    ("preset_config", "phases"): dict, ("preset_config", "kind"): str,
    ("preset_config", "feedback", "feature"): str,
    ("preset_config", "feedback", "direction"): str,
    ("preset_config", "feedback", "reward_z"): _NUMBER,
    ("preset_config", "feedback", "hysteresis_z"): _NUMBER,
    ("session_id",): str, ("subject",): str, ("preset",): str, ("started_utc",): str,
    ("clock",): str, ("duration_s",): _NUMBER, ("hop_s",): _NUMBER, ("n_gaps",): int,
    ("source",): dict, ("estimator",): dict, ("ended",): str,
}


def check_meta(folder, meta: dict) -> None:
    """Raise :class:`SessionFolderError`, naming the folder and the key, unless every field
    of session.json the summary reads has its type (a field may be absent)."""
    for path, kind in _META_TYPES.items():
        value, found = meta, True
        for key in path:
            if not (isinstance(value, dict) and key in value):
                found = False
                break
            value = value[key]
        if not found or (value is None and path[-1] in ("ended", "source", "estimator")):
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SessionFolderError(
                f"{str(folder)!r}: session.json is damaged: {'.'.join(path)} is "
                f"{type(value).__name__} {_short(value)}, not what neurofeed writes there")
    phases = meta.get("preset_config", {}).get("phases", {})
    for name, seconds in phases.items():
        if not isinstance(seconds, _NUMBER) or isinstance(seconds, bool):
            raise SessionFolderError(
                f"{str(folder)!r}: session.json is damaged: preset_config.phases.{name} is "
                f"{type(seconds).__name__} {_short(seconds)}, not a number of seconds")


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


@contextlib.contextmanager
def one_line_errors(folder, what: str = "its report") -> Iterator[None]:
    """Turn what a damaged session file raises into one :class:`SessionFolderError` line.

    A session file cut, garbled or edited by hand (a table whose numbers do not parse, a
    FIF that MNE cannot read, a field of the wrong type) is one line, never a traceback.
    """
    try:
        yield
    except NeurofeedError:
        raise  # already one line (InvalidArgumentError is also a ValueError)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as err:
        cause = (str(err).splitlines() or [""])[0][:200]
        raise SessionFolderError(
            f"{str(folder)!r}: a file of the session is damaged, so {what} cannot be built "
            f"({type(err).__name__}: {cause}); the session's files are left as they are") from None


def summarise(data: SessionData) -> SessionSummary:
    """Compute a :class:`SessionSummary` from a session's data; no I/O."""
    meta = data.meta
    check_meta(data.folder, meta)
    feedback = meta.get("preset_config", {}).get("feedback", {})
    target = feedback.get("feature", "alpha_posterior")
    if target not in FEEDBACK:
        raise SessionFolderError(f"{str(data.folder)!r}: unknown feedback feature {target!r} in "
                                 f"session.json; accepted: {', '.join(FEEDBACK)}")
    reward_z = float(feedback.get("reward_z", math.nan))
    estimate = data.features["estimate"]
    reasons = data.features.get("reason", ["n/a"] * estimate.size)
    # Sample times of a replay on the virtual clock or faster than real time are synthetic.
    virtual = meta.get("clock", "real time") != "real time"
    source = meta.get("source")
    return SessionSummary(
        session_id=str(meta.get("session_id", data.folder.name)), subject=str(meta.get("subject", "?")),
        preset=str(meta.get("preset", "?")), started_utc=str(meta.get("started_utc", "")),
        source=describe_source(source), duration_s=float(meta.get("duration_s", math.nan)),
        hop_s=float(meta.get("hop_s", math.nan)), n_gaps=int(meta.get("n_gaps", 0)),
        target=target, baseline=baseline_reference(data), direction=str(feedback.get("direction", "up")),
        reward_z=reward_z,
        release_z=reward_z - float(feedback.get("hysteresis_z", 0.0)),
        phases=tuple(summarise_phase(data, name, start, end, reward_z)
                     for name, start, end in phase_spans(data)),
        estimate_pct=_percent(estimate == 1),
        no_estimate_reasons=dict(Counter(str(r) for r, e in zip(reasons, estimate) if e != 1)),
        artifact_pct=artifact_percentages(data.artifacts),
        # On a virtual clock sample times run ahead of the wall clock: latencies are meaningless.
        latency_ms={} if virtual else latency_percentiles(
            {name: data.latency[name] for name in LATENCY_COLUMNS if name in data.latency}),
        virtual_clock=virtual,
        signal=source.get("signal") if isinstance(source, dict) else None,
        signal_lost_s=signal_lost_s(data),
        ended=meta.get("ended"),
        planned_s=float(sum(meta.get("preset_config", {}).get("phases", {}).values())),
        region_fallbacks=_region_fallbacks(meta.get("estimator")),
        playlist=_playlist(data) if data.is_playlist else None)


def _playlist(data: SessionData) -> PlaylistSummary:
    """The playlist's numbers; z-scores only from hops whose window gave an estimate."""
    feedback_z = data.features.get("feedback_z", np.full(data.features["time_s"].size, np.nan))
    feedback_z = np.where(data.features["estimate"] == 1, feedback_z, np.nan)
    return summarise_playlist(data.tracks, data.playlist, session_end_s(data), data.features["time_s"],
                              feedback_z)


def _region_fallbacks(estimator) -> dict:
    """session.json's ``estimator.region_fallbacks`` as ``{region: text}``; empty when absent
    (sessions recorded before regions said so) or malformed."""
    found = estimator.get("region_fallbacks") if isinstance(estimator, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(region): str(text) for region, text in found.items()}


def session_summary(folder) -> SessionSummary:
    """Read and summarise a finalised session folder (see :func:`read_session`).

    Raises
    ------
    SessionIncompleteError
        When the session was never finalised.
    SessionFolderError
        When the folder is not a feedback session, or a file of it is damaged (one line).
    """
    with one_line_errors(folder, "its summary"):
        return summarise(read_session(folder))
