"""``build_progress``: all sessions of one subject in order, and the trend across them.

The trended feature is, by default, the one most of the subject's sessions targeted
(ties go to the latest session's); every session's features.tsv holds every feature,
so its change can be computed for any session whatever the preset. The trend is the
ordinary least-squares slope of the training change against the session number
(1, 2, ...), with a 95% confidence interval from Student's t with n - 2 degrees of
freedom: it needs at least 2 sessions, and 3 for the interval.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurofeed._check import check_option
from neurofeed.errors import SessionFolderError, SessionIncompleteError
from neurofeed.folder import SESSION_FILE, read_session_json
from neurofeed.home import check_subject, data_home, subject_dir
from neurofeed.recorder import TableWriter
from neurofeed.registry import FEEDBACK
from neurofeed.report import figures, html
from neurofeed.report.session import DEFINITIONS
from neurofeed.report.style import report_style, save_png
from neurofeed.report.summary import SessionSummary, format_percent, format_started, session_summary

logger = logging.getLogger(__name__)

PROGRESS_FILE = "progress.html"
TABLE_FILE = "progress.tsv"
FIGURE_NAME = "progress"


@dataclass(frozen=True)
class SessionNumbers:
    """One session's row of the progress table; percentages are of training's hops.

    ``change`` is the trended feature's change from baseline in training (percent, or
    a difference for frontal asymmetry); None where undefined.
    """

    number: int
    date: str
    session_id: str
    preset: str
    target: str
    feature: str
    change: float | None
    in_target_pct: float | None
    reward_pct: float | None
    estimate_pct: float
    duration_s: float
    folder: str


@dataclass(frozen=True)
class Trend:
    """OLS trend of the change per session; the confidence interval is None under 3 sessions.

    ``x_mean``, ``sxx`` (sum of squared deviations of x) and ``residual_sd`` describe
    the fit, for its confidence band (:meth:`band`).
    """

    slope: float
    intercept: float
    ci_low: float | None
    ci_high: float | None
    n: int
    relative: bool
    x_mean: float
    sxx: float
    residual_sd: float

    def band(self, x) -> tuple[np.ndarray, np.ndarray] | None:
        """95% confidence band of the fitted line at ``x``, or None under 3 sessions."""
        if self.ci_low is None:
            return None
        from scipy import stats

        x = np.asarray(x, dtype=float)
        half = stats.t.ppf(0.975, self.n - 2) * self.residual_sd * np.sqrt(
            1 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        line = self.intercept + self.slope * x
        return line - half, line + half

    def describe(self) -> str:
        """``+12.3 percentage points per session (95% CI +5.1 to +19.5)``."""
        unit, digits = ("percentage points", 1) if self.relative else ("ln units", 3)
        text = f"{self.slope:+.{digits}f} {unit} per session"
        if self.ci_low is not None:
            text += f" (95% CI {self.ci_low:+.{digits}f} to {self.ci_high:+.{digits}f})"
        return text


def ols_trend(x, y, *, relative: bool) -> Trend | None:
    """Least-squares line of ``y`` on ``x`` (NaN pairs dropped), with a 95% CI of its slope."""
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0:
        return None
    fit = stats.linregress(x, y)
    ci_low = ci_high = None
    residual_sd = math.nan
    if x.size > 2:
        half = stats.t.ppf(0.975, x.size - 2) * fit.stderr
        ci_low, ci_high = float(fit.slope - half), float(fit.slope + half)
        residual_sd = float(np.sqrt(np.sum((y - fit.intercept - fit.slope * x) ** 2) / (x.size - 2)))
    return Trend(float(fit.slope), float(fit.intercept), ci_low, ci_high, int(x.size), relative,
                 x_mean=float(x.mean()), sxx=float(np.sum((x - x.mean()) ** 2)), residual_sd=residual_sd)


def find_sessions(subject: str, roots) -> tuple[list[tuple[Path, SessionSummary]], list[Path]]:
    """Session folders of ``subject`` directly in each root (or roots that are one), in order.

    Folders of other subjects, and those that are not feedback sessions, are passed over;
    so is a damaged session folder, with a warning naming it.

    Returns
    -------
    finished : list of (Path, SessionSummary)
        Finalised sessions, ordered by start time.
    incomplete : list of Path
        Folders that need ``neurofeed recover``.
    """
    seen, finished, incomplete = set(), [], []
    for root in map(Path, roots):
        candidates = ([root] if (root / SESSION_FILE).is_file()
                      else sorted(p.parent for p in root.glob(f"*/{SESSION_FILE}")))
        for folder in candidates:
            key = folder.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                meta = read_session_json(folder)
            except SessionFolderError:
                continue  # half-written or foreign: not one of this subject's sessions we can use
            if meta.get("subject") != subject:
                continue
            try:
                finished.append((folder, session_summary(folder)))
            except SessionIncompleteError:
                incomplete.append(folder)
            except SessionFolderError as err:
                # A damaged folder is passed over, said in one line; the course goes on
                # without it. Folders that are no feedback session are passed over quietly.
                if meta.get("kind") in ("session", "calibrate"):
                    logger.warning("skipped %s: %s", folder, str(err).splitlines()[0])
                continue
    finished.sort(key=lambda item: (item[1].started_utc, item[1].session_id))
    return finished, incomplete


def course_feature(summaries) -> str:
    """The feature most sessions targeted; ties go to the latest session's."""
    counts = Counter(s.target for s in summaries)
    top = max(counts.values())
    return next(s.target for s in reversed(summaries) if counts[s.target] == top)


def session_numbers(summaries, folders, feature: str) -> list[SessionNumbers]:
    """The progress table's rows, numbered in the order given."""
    rows = []
    for number, (summary, folder) in enumerate(zip(summaries, folders), start=1):
        training = summary.phase("training")
        rows.append(SessionNumbers(
            number=number, date=format_started(summary.started_utc)[:10], session_id=summary.session_id,
            preset=summary.preset, target=summary.target, feature=feature,
            change=training.changes.get(feature) if training else None,
            in_target_pct=training.in_target_pct if training else None,
            reward_pct=training.reward_pct if training else None,
            estimate_pct=summary.estimate_pct, duration_s=summary.duration_s, folder=str(folder)))
    return rows


def write_table(rows: list[SessionNumbers], path: Path) -> None:
    """Write the rows as TSV (one header line, ``n/a`` for missing, floats round-trip)."""
    writer = TableWriter(path)
    try:
        for row in rows:
            writer.append({"session": row.number, "date": row.date, "session_id": row.session_id,
                           "preset": row.preset, "target": row.target, "feature": row.feature,
                           "change": row.change,
                           "change_unit": "%" if FEEDBACK[row.feature].relative_change else "ln",
                           "in_target_pct": row.in_target_pct, "reward_pct": row.reward_pct,
                           "estimate_pct": row.estimate_pct, "duration_s": row.duration_s,
                           "folder": row.folder})
    finally:
        writer.close()


def _headline(rows: list[SessionNumbers], trend: Trend | None) -> str:
    spec = FEEDBACK[rows[0].feature]
    span = f"{rows[0].date} to {rows[-1].date}" if len(rows) > 1 else rows[0].date
    text = f"{len(rows)} session{'s' if len(rows) > 1 else ''} ({span}). "
    if trend is None:
        text += f"No trend yet: {spec.label.lower()} needs a change from baseline in at least 2 sessions."
    else:
        text += f"{spec.label} in training, against baseline: trend {trend.describe()}."
        if trend.ci_low is not None:
            clear = trend.ci_low > 0 or trend.ci_high < 0
            text += (" The interval excludes zero: a clear trend." if clear
                     else " The interval includes zero: no clear trend yet.")
    in_target = [r.in_target_pct for r in rows if r.in_target_pct is not None]
    if in_target:
        text += f" Time in target in training averaged {np.mean(in_target):.0f}%."
    return text


def build_progress(subject: str, *, home=None, extra=(), feature: str | None = None, out_dir=None) -> Path:
    """Write a subject's course progress and return the path of its HTML page.

    Parameters
    ----------
    subject : str
        The subject, as given to ``neurofeed run --subject``.
    home : path-like, optional
        The data home to search (default: ``$NEUROFEED_HOME`` or ``recordings``).
    extra : iterable of path-like
        More folders of sessions (``--out`` of ``neurofeed run``), or session folders.
    feature : str, optional
        The feature to trend (a key of :data:`neurofeed.registry.FEEDBACK`);
        by default the one most sessions targeted.
    out_dir : path-like, optional
        Where ``progress.html``, ``progress.png`` and ``progress.tsv`` go; by default
        ``subjects/<subject>/progress`` under the data home.

    Sessions without a training phase (calibrations) are listed but not numbered.

    Raises
    ------
    SessionFolderError
        When the subject has no finalised session with training (naming incomplete
        ones to recover).
    """
    check_subject(subject)
    home = Path(home) if home is not None else data_home()
    roots = [home, *map(Path, extra)]
    finished, incomplete = find_sessions(subject, roots)
    # Calibrations (baseline only) are not part of the course's trend.
    untrained = [folder for folder, summary in finished if summary.phase("training") is None]
    finished = [(folder, summary) for folder, summary in finished if folder not in untrained]
    if not finished:
        hint = (f"; {len(incomplete)} incomplete (the session did not finish): run "
                f"'neurofeed recover {incomplete[0]}' first" if incomplete else "")
        raise SessionFolderError(f"no finished sessions with training of subject {subject!r} in "
                                 f"{', '.join(str(r) for r in roots)}{hint}")
    folders, summaries = zip(*finished)
    feature = check_option("feature", feature, FEEDBACK) if feature else course_feature(summaries)
    rows = session_numbers(summaries, folders, feature)
    spec = FEEDBACK[feature]
    trend = ols_trend([r.number for r in rows], [math.nan if r.change is None else r.change for r in rows],
                      relative=spec.relative_change)

    out = Path(out_dir) if out_dir is not None else subject_dir(subject, home) / "progress"
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, out / TABLE_FILE)
    with report_style():
        png = save_png(figures.progress_figure(rows, trend, spec), out / f"{FIGURE_NAME}.png")
    table = html.table(
        ["#", "Date", "Preset", "Target", f"{spec.label} vs baseline", "In target", "Reward", "Estimate",
         "Minutes"],
        [[str(r.number), r.date, r.preset, FEEDBACK[r.target].label, spec.format_change(r.change),
          format_percent(r.in_target_pct), format_percent(r.reward_pct), format_percent(r.estimate_pct),
          f"{r.duration_s / 60:.1f}"] for r in rows], numeric_from=4)
    notes = [html.paragraph(f"Per-session numbers: {TABLE_FILE} beside this page. Trend: least-squares "
                            "slope of the training change against the session number, with a 95% "
                            "confidence interval from Student's t. " + DEFINITIONS, "note")]
    if incomplete:
        notes.append(html.paragraph("Not included, incomplete (run 'neurofeed recover DIR' on each): "
                                    + ", ".join(str(f) for f in incomplete), "note"))
    if untrained:
        notes.append(html.paragraph("Not included, no training phase (calibrations, or sessions stopped "
                                    "in their baseline): "
                                    + ", ".join(str(f) for f in untrained), "note"))
    page = html.page(
        f"Course progress: {subject}", f"{spec.label}, change from baseline in training, per session.",
        html.section("Summary", html.paragraph(_headline(rows, trend), "headline"), table),
        html.section("Across sessions", html.figure(
            png, FIGURE_NAME, "Top: the change of the trended feature from baseline in training, per "
            "session, with the least-squares trend and its 95% confidence band. Middle: "
            "time in target and reward in training. Bottom: the share of windows with an estimate.")),
        html.section("Notes", *notes))
    path = out / PROGRESS_FILE
    path.write_text(page, encoding="utf-8")
    return path
