"""The numbers of one session, read from its folder: what the reports show and print.

Definitions (every percentage is of the phase's hops, one hop every ``hop_s``):

- **Change from baseline** of a feature: the mean over the phase's hops that gave an
  estimate, against the baseline mean. For band powers and power ratios it is a
  percentage, ``100 * (phase / baseline - 1)``; for frontal asymmetry, already a log
  ratio (ln F4 - ln F3 alpha), it is the difference ``phase - baseline``. The baseline
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
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from neurofeed.errors import SessionFolderError, SessionIncompleteError
from neurofeed.finalise import RAW_FILE, latency_percentiles, read_session_json, read_table
from neurofeed.recorder import STATUS_FINALISED

PHASES = ("baseline", "training", "cooldown")
PHASE_LABELS = {"baseline": "Baseline", "training": "Training", "cooldown": "Cool-down"}
#: Artifact flags in the order docs/session-folder.md lists them.
ARTIFACT_FLAGS = ("nonfinite", "flat", "railed", "amplitude", "muscle", "line")
#: The baseline a session's z-scores are against, written by the session.
BASELINE_FILE = "baseline.json"
#: latency.tsv's latencies, in seconds (its other columns are times on the LSL clock).
LATENCY_COLUMNS = ("sample_to_estimate_s", "sample_to_engine_s")


@dataclass(frozen=True)
class FeatureSpec:
    """A feature a preset can target, and how its change from baseline is expressed.

    Attributes
    ----------
    name : str
        The preset's ``[feedback].feature``.
    column : str
        Its per-hop raw value in features.tsv.
    label : str
        What people call it.
    stored_name : str
        Its name among the features of a stored baseline (``baseline.json``).
    relative : bool
        True: change as a percentage of the baseline mean; False: as a difference (for
        log ratios, whose baseline mean can be zero or negative).
    """

    name: str
    column: str
    label: str
    stored_name: str
    relative: bool

    def describe_change(self, change: float) -> str:
        """A change from baseline in words: ``rose 38% over baseline``, ``fell by 0.12 (ln ratio)``."""
        size = round(abs(change)) if self.relative else round(abs(change), 2)
        if size == 0:
            return "stayed at its baseline level"
        if self.relative:
            return f"rose {size}% over baseline" if change > 0 else f"fell {size}% below baseline"
        return f"{'rose' if change > 0 else 'fell'} by {size:.2f} (ln ratio) from baseline"

    def format_change(self, change: float | None) -> str:
        """Format a change from baseline: ``+38%`` or ``+0.12 ln``; ``n/a`` when None."""
        if change is None:
            return "n/a"
        if self.relative:
            value = round(change)
            return f"{value:+d}%" if value else "0%"  # no "-0%" for a tiny fall
        value = round(change, 2)
        return f"{value:+.2f} ln" if value else "0.00 ln"


FEATURES = {spec.name: spec for spec in (
    FeatureSpec("alpha_posterior", "alpha_posterior_v2", "Posterior alpha", "alpha_v2", True),
    FeatureSpec("theta_frontal", "theta_frontal_v2", "Frontal theta", "theta_v2", True),
    FeatureSpec("alpha_theta_ratio", "alpha_theta_ratio", "Alpha/theta ratio", "alpha_theta_ratio", True),
    FeatureSpec("frontal_asymmetry", "frontal_asymmetry", "Frontal alpha asymmetry", "faa", False),
)}


@dataclass
class SessionData:
    """One finalised session folder's metadata and tables, as read by :func:`read_session`.

    Tables are columns as :func:`neurofeed.finalise.read_table` returns them (numeric
    columns as float arrays, text columns as lists); an absent table is empty.
    ``baseline`` is the session's ``baseline.json`` (the baseline its z-scores are
    against), or empty.
    """

    folder: Path
    meta: dict
    features: dict
    music: dict
    artifacts: dict
    latency: dict
    baseline: dict

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
    #: Change from baseline of each feature in :data:`FEATURES` (None where undefined).
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SessionSummary:
    """Everything a session report prints, computed by :func:`summarise`.

    Attributes
    ----------
    target : str
        The preset's feedback feature (a key of :data:`FEATURES`).
    baseline : str
        What changes are against (see :func:`baseline_reference`).
    reward_z, release_z : float
        The reward switches on at ``feedback_z >= reward_z`` and off below ``release_z``.
    phases : tuple of PhaseSummary
        The phases present, in session order.
    artifact_pct : dict
        ``{channel: {flag: percent of all hops}}`` for every channel, flags in
        :data:`ARTIFACT_FLAGS` order then any other flag seen.
    no_estimate_reasons : dict
        ``{reason: number of hops}`` for hops without an estimate.
    latency_ms : dict
        Percentiles in milliseconds of each of :data:`LATENCY_COLUMNS`, as
        :func:`neurofeed.finalise.latency_percentiles` computes them (``sample_to_engine_ms``...);
        empty when the session ran on synthetic sample times, where latency is not measured.
    virtual_clock : bool
        Whether the session ran on synthetic sample times: a replay as fast as possible or
        faster than real time (session.json ``clock`` other than ``real time``).
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

    def phase(self, name: str) -> PhaseSummary | None:
        """The summary of phase ``name``, or None when the session has no such phase."""
        return next((p for p in self.phases if p.name == name), None)

    @property
    def target_spec(self) -> FeatureSpec:
        """The :class:`FeatureSpec` of the target feature."""
        return FEATURES[self.target]

    @property
    def training_change(self) -> float | None:
        """Change of the target feature from baseline in training (see module notes)."""
        training = self.phase("training")
        return training.changes.get(self.target) if training else None

    def headline(self) -> str:
        """The summary in plain words and numbers, for the top of the report."""
        spec, training = self.target_spec, self.phase("training")
        if training is None:
            sentences = [f"No training phase ({self.duration_s / 60:.1f} min recorded)."]
        elif self.training_change is None:
            sentences = [f"{spec.label}: no change from baseline can be given (no baseline "
                         f"values); reward {training.reward_pct:.0f}% of the time."]
        else:
            sentences = [f"{spec.label} {spec.describe_change(self.training_change)} in training; "
                         f"reward {training.reward_pct:.0f}% of the time."]
            if self.baseline == "stored baseline":
                sentences.append("Changes are against the subject's stored baseline.")
            cooldown = self.phase("cooldown")
            if cooldown is not None and cooldown.changes.get(self.target) is not None:
                sentences.append(f"In cool-down it was {spec.format_change(cooldown.changes[self.target])} "
                                 "against baseline.")
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
        """Plain data (for summary.json), with the headline."""
        return {**asdict(self), "headline": self.headline()}


def read_session(folder) -> SessionData:
    """Read a finalised session folder.

    Raises
    ------
    SessionIncompleteError
        When session.json still says ``running`` or eeg_raw.fif is missing, suggesting
        ``neurofeed recover``.
    SessionFolderError
        When the folder is not a session, or has no features.tsv.
    """
    folder = Path(folder)
    meta = read_session_json(folder)
    if meta.get("status") != STATUS_FINALISED or not (folder / RAW_FILE).is_file():
        raise SessionIncompleteError(f"{str(folder)!r} is incomplete (the session did not finish); "
                                     f"run 'neurofeed recover {folder}' first")
    features = read_table(folder / "features.tsv")
    if not features.get("time_s", np.empty(0)).size:
        raise SessionFolderError(f"{str(folder)!r} has no features.tsv rows; only sessions of "
                                 "'neurofeed run' or 'replay' have a report")
    try:
        baseline = json.loads((folder / BASELINE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        baseline = {}
    except (OSError, json.JSONDecodeError) as err:
        raise SessionFolderError(f"{str(folder / BASELINE_FILE)!r} is unreadable: {err}") from None
    return SessionData(folder, meta, features, read_table(folder / "music.tsv"),
                       read_table(folder / "artifacts.tsv"), read_table(folder / "latency.tsv"), baseline)


def phase_spans(data: SessionData) -> list[tuple[str, float, float]]:
    """``(phase, start_s, end_s)`` for each phase present, in session order and seconds.

    A phase runs from its first hop to the next phase's first hop; the first phase
    from the session's start (0), the last to its end (``duration_s``, or its last hop).
    """
    times, phases = data.features["time_s"], data.phase_of_hops()
    starts = [(name, float(times[phases == name][0])) for name in PHASES if np.any(phases == name)]
    starts.sort(key=lambda item: item[1])
    end = max(float(times[-1]), float(data.meta.get("duration_s", 0.0)))
    ends = [start for _, start in starts[1:]] + [end]
    return [(name, 0.0 if i == 0 else start, stop)
            for i, ((name, start), stop) in enumerate(zip(starts, ends))]


def phase_mean(data: SessionData, spec: FeatureSpec, phase: str) -> float | None:
    """Mean of feature ``spec`` over the hops of ``phase`` that gave an estimate, or None."""
    values = data.features.get(spec.column)
    if not isinstance(values, np.ndarray):
        return None
    usable = np.isfinite(values) & (data.features["estimate"] == 1) & (data.phase_of_hops() == phase)
    return float(values[usable].mean()) if usable.any() else None


def relative_to_baseline(spec: FeatureSpec, values, baseline: float | None):
    """``values`` as changes from ``baseline``: percent, or difference (see module notes).

    None when the change is undefined (no baseline, or a non-positive one for a percentage).
    """
    if baseline is None or values is None or (spec.relative and baseline <= 0):
        return None
    return 100.0 * (values / baseline - 1.0) if spec.relative else values - baseline


def baseline_reference(data: SessionData) -> str:
    """What changes are against: ``"baseline phase"``, ``"stored baseline"`` or ``"none"``."""
    if np.any((data.phase_of_hops() == "baseline") & (data.features["estimate"] == 1)):
        return "baseline phase"
    return "stored baseline" if data.baseline.get("features") else "none"


def baseline_mean(data: SessionData, spec: FeatureSpec) -> float | None:
    """The baseline mean of ``spec`` (see module notes), or None when there is none."""
    if baseline_reference(data) == "baseline phase":
        return phase_mean(data, spec, "baseline")
    stored = data.baseline.get("features", {}).get(spec.stored_name, {}).get("mean")
    return float(stored) if stored is not None else None


def feature_change(data: SessionData, spec: FeatureSpec, phase: str) -> float | None:
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
    changes = {} if name == "baseline" else {n: feature_change(data, s, name) for n, s in FEATURES.items()}
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
    flags = [f for f in ARTIFACT_FLAGS if f in seen] + sorted(seen - set(ARTIFACT_FLAGS))
    n_hops = len(next(iter(channels.values()), []))
    return {name: {flag: 100.0 * counts[name][flag] / n_hops for flag in flags} for name in channels}


def describe_source(source) -> str:
    """One line for session.json's ``source``: kind, board/stream/file, channels and rate.

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


def summarise(data: SessionData) -> SessionSummary:
    """Compute a :class:`SessionSummary` from a session's data; no I/O."""
    meta = data.meta
    feedback = meta.get("preset_config", {}).get("feedback", {})
    target = feedback.get("feature", "alpha_posterior")
    if target not in FEATURES:
        raise SessionFolderError(f"{str(data.folder)!r}: unknown feedback feature {target!r} in "
                                 f"session.json; accepted: {', '.join(FEATURES)}")
    reward_z = float(feedback.get("reward_z", math.nan))
    estimate = data.features["estimate"]
    reasons = data.features.get("reason", ["n/a"] * estimate.size)
    # Sample times of a replay on the virtual clock or faster than real time are synthetic.
    virtual = meta.get("clock", "real time") != "real time"
    return SessionSummary(
        session_id=str(meta.get("session_id", data.folder.name)), subject=str(meta.get("subject", "?")),
        preset=str(meta.get("preset", "?")), started_utc=str(meta.get("started_utc", "")),
        source=describe_source(meta.get("source")), duration_s=float(meta.get("duration_s", math.nan)),
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
        virtual_clock=virtual)


def session_summary(folder) -> SessionSummary:
    """Read and summarise a finalised session folder (see :func:`read_session`)."""
    return summarise(read_session(folder))
