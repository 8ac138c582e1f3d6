"""``build_report``: one session's report, as HTML with its figures also saved as PNG."""

from __future__ import annotations

import math
from pathlib import Path

from neurofeed import __version__
from neurofeed.folder import REPORT_DIR, write_json
from neurofeed.registry import FEEDBACK
from neurofeed.report import figures, html
from neurofeed.report.spectra import SEGMENT_S, phase_spectra
from neurofeed.report.style import report_style, save_png
from neurofeed.report.summary import (
    PHASE_LABELS,
    SessionSummary,
    format_percent,
    format_started,
    one_line_errors,
    read_session,
    summarise,
)

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"

DEFINITIONS = (
    "Change from baseline: the mean of the feature over the phase's windows that gave an estimate, "
    "against the baseline mean (of the session's baseline phase, or of the subject's stored baseline "
    "when the session had none); for posterior alpha and frontal theta, fed back as log relative "
    "power (the natural log of the band's power over the 1-40 Hz power, per good channel of the "
    "region, averaged), the percentage change of relative power, 100 (exp(difference) - 1); in "
    "percent for power ratios; as a difference for frontal asymmetry (a log ratio, ln F4 - ln F3 "
    "alpha). Reward: the share "
    "of the phase's hops in which the reward was on (with the preset's hysteresis). In target: the "
    "share of the phase's hops in which the smoothed feedback z-score was at or above the reward "
    "threshold; it has no value in baseline, which defines the z-score. No usable EEG: the time "
    "from each 'signal:lost' marker to the next 'signal:restored' (or to the end), in which no "
    "channel of the feedback feature's region gave a usable window.")


CAPTIONS = {
    "features": "Top: posterior alpha and frontal theta (relative power) against baseline. Bottom: the "
                "preset's feedback feature as a smoothed z-score, with the reward thresholds; the strips "
                "mark when the reward was on and windows without an estimate.",
    "phases": "Reward and time in target, as percentages of each phase's time.",
    "music": "The music the loop played, on the same time axis as the features: the feedback score, "
             "tempo, mode, intensity and brightness, and entrainment.",
    "spectra": f"Mean power spectrum of the region of interest in each phase (Welch, {SEGMENT_S:g}-s "
               "segments); the dashed lines are the estimator's theta and alpha band edges.",
    "tracks": "The client's own tracks lined up with the EEG. Top: each track's span, its height the "
              "track's gain through its fade-in and crossfades (hatched on every panel), labelled with its "
              "number, title, tempo, key and why it was chosen. Middle: the preset's feedback feature as a "
              "smoothed z-score, with each track's mean while it was the louder one. Bottom: the music's "
              "tempo, with the target.",
    "latency": "Time from the newest EEG sample of a window to the music engine applying the result, "
               "per hop, with its percentiles.",
}


TRACK_DEFINITIONS = (
    "Tracks: a track plays from the start of its crossfade in (the first from the start of its "
    "fade-in) to the end of its crossfade out, or the session's end; Played counts that time, "
    "crossfades included. Mean z: the mean smoothed feedback z-score over the windows with an "
    "estimate in which the track was the louder one (from the middle of its crossfade in to the "
    "middle of the next); n/a when there was none (in baseline). Followed: the share of the follow "
    "window before it was chosen in which the client followed the music. Paths are relative to the "
    "client's music library; no audio of the library is in the report.")


def _clock(seconds: float) -> str:
    """``m:ss`` of a session time in seconds."""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _phase_table(summary: SessionSummary) -> str:
    names = [summary.target] + [n for n in ("alpha_posterior", "theta_frontal") if n != summary.target]
    header = ["Phase", "Time (m:ss)", "Estimate", "Reward", "In target"] + [
        f"{FEEDBACK[n].label} vs baseline" for n in names]
    rows = [[PHASE_LABELS.get(p.name, p.name), f"{_clock(p.start_s)}-{_clock(p.end_s)}",
             format_percent(p.estimate_pct), format_percent(p.reward_pct), format_percent(p.in_target_pct)]
            + [FEEDBACK[n].format_change(p.changes.get(n)) if p.name != "baseline" else "reference"
               for n in names] for p in summary.phases]
    return html.table(header, rows)


def _tracks_table(summary: SessionSummary) -> str:
    header = ["#", "Onset (m:ss)", "Played (s)", "Title", "Tempo (BPM)", "Key", "Mode", "Reason", "Followed",
              "Rating", "Mean z", "Path in the library"]
    rows = [[str(t.number), _clock(t.onset_s), f"{t.played_s:.1f}", t.title, f"{t.tempo_bpm:.1f}", t.tonality,
             t.mode, t.reason, format_percent(None if math.isnan(t.followed) else 100 * t.followed),
             t.rating, "n/a" if t.mean_z is None else f"{t.mean_z:+.2f}", t.path]
            for t in summary.playlist.tracks]
    return html.table(header, rows, text=(3, 5, 6, 7, 9, 11))


def _baseline_fact(summary: SessionSummary, stored: dict) -> str:
    if summary.baseline == "baseline phase":
        return "this session's baseline phase"
    if summary.baseline == "stored baseline":
        return (f"the subject's stored baseline, calibrated {format_started(stored.get('created', '?'))} "
                "(this session had no baseline phase)")
    return "none (no baseline phase and no stored baseline): changes cannot be given"


def _facts(summary: SessionSummary, description: str, stored_baseline: dict) -> str:
    spec = summary.target_spec
    quality = f"{summary.estimate_pct:.1f}% of windows gave an estimate; {summary.n_gaps} acquisition gaps"
    if summary.no_estimate_reasons:
        quality += "; no estimate because: " + "; ".join(
            f"{reason} ({count} windows)" for reason, count in summary.no_estimate_reasons.items())
    if summary.signal_lost_s > 0:
        quality += f"; no usable EEG for {summary.signal_lost_s:.1f} s"
    return html.facts([
        ("Subject", summary.subject),
        ("Date", format_started(summary.started_utc)),
        ("Preset", f"{summary.preset}: {description}" if description else summary.preset),
        ("Target feature", f"{spec.label} ({summary.direction}); reward on at z ≥ {summary.reward_z:g}, "
                           f"off below z = {summary.release_z:g}"),
        ("Baseline", _baseline_fact(summary, stored_baseline)),
        ("Duration", f"{summary.duration_s / 60:.1f} min ({summary.duration_s:.1f} s)"),
        ("Source", summary.source),
        ("Data quality", quality),
    ])


def _artifacts(summary: SessionSummary) -> str:
    flagged = {ch: flags for ch, flags in summary.artifact_pct.items() if any(flags.values())}
    if not flagged:
        return html.paragraph("No artifacts were flagged on any channel.")
    flags = list(next(iter(flagged.values())))
    rows = [[ch] + [f"{pct[f]:.1f}%" if pct[f] else "" for f in flags] for ch, pct in flagged.items()]
    clean = [ch for ch in summary.artifact_pct if ch not in flagged]
    return (html.paragraph("Artifacts: the share of hops whose window carried each flag, by channel. "
                           f"Clean throughout: {', '.join(clean) or 'none'}.")
            + html.table(["Channel", *flags], rows))


def _tracks_section(summary: SessionSummary, made: dict) -> str:
    if not summary.playlist.tracks:
        return html.section("The client's tracks", html.paragraph(summary.playlist.sentence(), "note"))
    return html.section("The client's tracks", html.paragraph(summary.playlist.sentence()), made["tracks"],
                        _tracks_table(summary))


def build_report(folder, *, out_dir=None) -> Path:
    """Write a session's report and return the path of its HTML page.

    The page (``report.html``), one PNG per figure and ``summary.json`` (every number
    of :class:`~neurofeed.report.summary.SessionSummary`) go to ``out_dir``, by default
    the ``report`` folder inside the session folder. The page embeds its figures, so it
    is complete on its own.

    Raises
    ------
    neurofeed.report.SessionIncompleteError
        When the session was never finalised (run ``neurofeed recover`` first).
    neurofeed.errors.SessionFolderError
        When the folder is not a feedback session, or a file of it is damaged.
    """
    with one_line_errors(folder):
        return _write_report(folder, out_dir)


def _write_report(folder, out_dir) -> Path:
    import mne

    data = read_session(folder)
    summary = summarise(data)
    out = Path(out_dir) if out_dir is not None else data.folder / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    raw = mne.io.read_raw_fif(data.raw_path, preload=True, verbose="error")
    spectra = phase_spectra(raw, [(p.name, p.start_s, p.end_s) for p in summary.phases], summary.target,
                            data.meta.get("estimator"))

    plans = {
        "features": lambda: figures.features_figure(data, summary),
        "phases": lambda: figures.phase_figure(summary),
        "music": (lambda: figures.music_figure(data, summary)) if data.music else None,
        "tracks": (lambda: figures.tracks_figure(data, summary))
        if summary.playlist is not None and summary.playlist.tracks else None,
        "spectra": (lambda: figures.spectra_figure(spectra)) if spectra.psd_uv2_per_hz else None,
        "latency": (lambda: figures.latency_figure(data.latency, summary)) if summary.latency_ms else None,
    }
    made = {}
    with report_style():
        for name, make in plans.items():
            if make is not None:
                made[name] = html.figure(save_png(make(), out / f"{name}.png"), name, CAPTIONS[name])
            else:
                (out / f"{name}.png").unlink(missing_ok=True)  # from an earlier build of this report
    write_json(out / SUMMARY_FILE, summary.to_dict())

    absent = html.paragraph("Not recorded in this session.", "note")
    description = data.meta.get("preset_config", {}).get("description", "")
    page = html.page(
        f"Session report: {summary.subject}, {format_started(summary.started_utc)}",
        f"{summary.session_id}. Preset {summary.preset}. Made by neurofeed {__version__}.",
        html.section("Summary", html.paragraph(summary.headline(), "headline"), _phase_table(summary)),
        html.section("Session facts", _facts(summary, description, data.baseline), _artifacts(summary)),
        html.section("Features over time", made["features"], made["phases"]),
        html.section("Music over time", made.get("music", absent)),
        *([_tracks_section(summary, made)] if summary.playlist is not None else []),
        html.section("Spectra", made.get("spectra", absent)),
        html.section("Latency", made.get("latency", html.paragraph(
            "Not measured: this session was replayed faster than real time, where sample times "
            "are synthetic."
            if summary.virtual_clock else "Not recorded in this session.", "note"))),
        html.section("Definitions", html.paragraph(
            f"{DEFINITIONS}{' ' + TRACK_DEFINITIONS if summary.playlist is not None else ''} Every number "
            f"is in {SUMMARY_FILE} beside this page.", "note")),
    )
    path = out / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path
