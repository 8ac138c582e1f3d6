"""The report figures, as matplotlib Figures (build them inside :func:`~neurofeed.report.style.report_style`).

Time axes are session minutes from 0 to the session's end, with the same width and
margins in every time figure, so that features and music line up when stacked.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from neurofeed.bands.bandset import DEFAULT_BANDS
from neurofeed.registry import FEEDBACK, FeatureDef
from neurofeed.report.spectra import Spectra
from neurofeed.report.style import (
    CROSSFADE,
    LABEL_CHAR_IN,
    MARGINS,
    PHASE_LINES,
    PHASE_SHADES,
    SERIES,
    TRACK_FILLS,
    WIDTH_IN,
    legend_above_data,
    new_figure,
    shade_phases,
    strip,
)
from neurofeed.report.summary import (
    PHASE_LABELS,
    SessionData,
    SessionSummary,
    baseline_mean,
    relative_to_baseline,
)
from neurofeed.report.tracks import TrackPlayed
from neurofeed.synth.theory import MODES

if TYPE_CHECKING:
    from neurofeed.report.progress import SessionNumbers, Trend

#: Window of the moving average drawn over per-hop band powers, in seconds.
SMOOTH_S = 5.0
#: Band edges marked on spectra, in Hz: the estimator's own bands.
BANDS_HZ = {symbol: (DEFAULT_BANDS[name].lo_hz, DEFAULT_BANDS[name].hi_hz)
            for symbol, name in (("θ", "theta"), ("α", "alpha"))}
PERCENTILE_LINES = {"p50": "-", "p90": "--", "p95": "-.", "p99": ":"}


def _moving_mean(values: np.ndarray, n: int) -> np.ndarray:
    """Centred moving mean over ``n`` samples that skips NaN (NaN where a window has none).

    The result has the length of ``values`` even when ``n`` is longer (a session stopped
    within its first window): ``np.convolve(mode="same")`` would return ``n`` values then.
    """
    finite = np.isfinite(values)
    kernel = np.ones(max(n, 1))
    centre = slice((kernel.size - 1) // 2, (kernel.size - 1) // 2 + values.size)
    sums = np.convolve(np.where(finite, values, 0.0), kernel)[centre]
    counts = np.convolve(finite.astype(float), kernel)[centre]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _spans(summary: SessionSummary):
    return [(p.name, p.start_s, p.end_s) for p in summary.phases]


def _time_axis(ax, summary: SessionSummary, *, xlabel: bool) -> None:
    ax.set_xlim(0, summary.duration_s / 60)
    if xlabel:
        ax.set_xlabel("Session time (min)")


def _z_label(summary: SessionSummary) -> str:
    flipped = " (sign flipped: lower is rewarded)" if summary.direction == "down" else ""
    return f"Feedback: {summary.target_spec.label.lower()}, smoothed z-score against baseline{flipped}"


def features_figure(data: SessionData, summary: SessionSummary):
    """Alpha and theta against baseline, and the feedback z-score with the reward thresholds."""
    fig, (ax_power, ax_z) = new_figure([1.2, 1.0], 6.4)
    times = data.features["time_s"] / 60
    n_smooth = round(SMOOTH_S / summary.hop_s) if summary.hop_s > 0 else 1
    for key, name in (("alpha", "alpha_posterior"), ("theta", "theta_frontal")):
        spec = FEEDBACK[name]
        baseline = baseline_mean(data, spec)
        change = relative_to_baseline(spec, data.features.get(spec.column), baseline)
        if change is not None:
            ax_power.plot(times, _moving_mean(change, n_smooth), label=spec.label, **SERIES[key])
    ax_power.axhline(0, color="#444444", linewidth=0.8)
    ax_power.set_ylabel("Change from\nbaseline (%)")
    ax_power.set_title(f"Relative band power against baseline ({SMOOTH_S:g}-s moving average)", pad=16)
    legend_above_data(ax_power, 0.25, ncol=2)

    feedback = data.features.get("feedback_z", np.full(times.size, np.nan))
    ax_z.plot(times, feedback, label="smoothed z-score", **SERIES["feedback"])
    ax_z.axhline(summary.reward_z, color="#222222", linewidth=1.0, linestyle="--",
                 label=f"reward on at z ≥ {summary.reward_z:g}")
    ax_z.axhline(summary.release_z, color="#222222", linewidth=1.0, linestyle=":",
                 label=f"reward off below z = {summary.release_z:g}")
    strip(ax_z, times, data.features.get("reward", np.zeros(times.size)) == 1, "reward", bottom=0.0)
    strip(ax_z, times, data.features["estimate"] != 1, "no_estimate", bottom=0.08)
    low, high = ax_z.get_ylim()
    ax_z.set_ylim(low - 0.25 * (high - low), high)  # room for the strips under the trace
    ax_z.set_ylabel("z (SD of baseline)")
    ax_z.set_title(_z_label(summary))
    legend_above_data(ax_z, ncol=3, fontsize=8)
    baseline = summary.phase("baseline")
    if baseline is not None:
        ax_z.text((baseline.start_s + baseline.end_s) / 120, 0.5, "no z-score:\nbaseline is\nthe reference",
                  transform=ax_z.get_xaxis_transform(), ha="center", va="center", fontsize=8,
                  fontstyle="italic", color="#333333",
                  bbox={"facecolor": PHASE_SHADES["baseline"], "edgecolor": "none", "pad": 1})
    for ax in (ax_power, ax_z):
        shade_phases(ax, _spans(summary), label=ax is ax_power)
        _time_axis(ax, summary, xlabel=ax is ax_z)
    return fig


def phase_figure(summary: SessionSummary):
    """Reward and time in target, as percentages of each phase."""
    fig, (ax,) = new_figure([1.0], 2.9, sharex=False)
    names = [PHASE_LABELS.get(p.name, p.name) for p in summary.phases]
    x = np.arange(len(names))
    bars = (("reward", "Reward on", [p.reward_pct for p in summary.phases], {}),
            ("in_target", f"In target (z ≥ {summary.reward_z:g})",
             [p.in_target_pct for p in summary.phases],
             {"hatch": "///", "edgecolor": "white"}))
    for offset, (key, label, values, extra) in zip((-0.2, 0.2), bars):
        heights = [v if v is not None else 0.0 for v in values]
        rects = ax.bar(x + offset, heights, width=0.38, color=SERIES[key]["color"], label=label, **extra)
        ax.bar_label(rects, labels=[f"{v:.0f}%" if v is not None else "n/a" for v in values],
                     padding=2, fontsize=8.5)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 115)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel("% of the phase")
    ax.set_title("Reward and time in target per phase")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2)
    ax.grid(axis="x", visible=False)
    return fig


def _entrainment_title(music: dict) -> str:
    kinds = music.get("entrainment_kind", [])
    hz = music.get("entrainment_hz", np.full(len(kinds), np.nan))
    used = sorted({(k, float(f)) for k, f in zip(kinds, hz) if k != "off"})
    if not used:
        return "Entrainment: off throughout"
    return "Entrainment level (" + ", ".join(f"{k} at {f:g} Hz" for k, f in used) + ")"


def music_figure(data: SessionData, summary: SessionSummary):
    """The music the loop played, over time, under the feedback score that drove it."""
    music = data.music
    fig, axes = new_figure([0.8, 1.0, 1.1, 1.0, 0.8], 9.6)
    ax_score, ax_tempo, ax_mode, ax_colour, ax_ent = axes
    ftimes = data.features["time_s"] / 60
    ax_score.plot(ftimes, data.features.get("score", np.full(ftimes.size, np.nan)),
                  label="feedback score", **SERIES["feedback"])
    strip(ax_score, ftimes, data.features.get("reward", np.zeros(ftimes.size)) == 1, "reward", bottom=0.0,
          height=0.1)
    ax_score.set_ylim(-0.2, 1.05)
    ax_score.set_yticks([0, 0.5, 1])
    ax_score.set_ylabel("Score (0-1)")
    ax_score.set_title("Feedback score that drives the music", pad=16)
    legend_above_data(ax_score, ncol=2)

    times = music.get("time_s", np.empty(0)) / 60
    ax_tempo.plot(times, music.get("tempo_bpm", np.full(times.size, np.nan)), **SERIES["tempo"])
    ax_tempo.set_ylabel("BPM")
    ax_tempo.set_title("Tempo")

    order = {mode: len(MODES) - 1 - i for i, mode in enumerate(MODES)}  # brightest on top
    modes = [str(m).lower() for m in music.get("mode", [])]
    ax_mode.step(times, [order.get(m, np.nan) for m in modes], where="post", **SERIES["mode"])
    ax_mode.set_yticks(range(len(MODES)), [m.capitalize() for m in reversed(MODES)], fontsize=8)
    ax_mode.set_ylim(-0.5, len(MODES) - 0.5)
    keys = sorted({str(k) for k in music.get("key", [])})
    ax_mode.set_title(f"Mode, bright (top) to dark (key of {', '.join(keys) or '?'})")

    for key in ("intensity", "brightness"):
        ax_colour.plot(times, music.get(key, np.full(times.size, np.nan)), label=key.capitalize(),
                       **SERIES[key])
    ax_colour.set_ylim(0, 1)
    ax_colour.set_yticks([0, 0.5, 1])
    ax_colour.set_ylabel("0-1")
    ax_colour.set_title("Intensity and brightness")
    legend_above_data(ax_colour, ncol=2)

    ax_ent.plot(times, music.get("entrainment_level", np.full(times.size, np.nan)), **SERIES["entrainment"])
    ax_ent.set_ylim(-0.02, 1)
    ax_ent.set_ylabel("Level (0-1)")
    ax_ent.set_title(_entrainment_title(music))
    for ax in axes:
        shade_phases(ax, _spans(summary), label=ax is ax_score)
        _time_axis(ax, summary, xlabel=ax is ax_ent)
    return fig


def _fit(text: str, n_chars: int) -> str:
    """``text`` cut to ``n_chars`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= n_chars else text[:max(n_chars - 1, 0)] + "…"


def _track_label(track: TrackPlayed, width_s: float, duration_s: float) -> str:
    """The label of a track's span: as much of number, title, tempo, tonality and reason as fits."""
    axes_in = WIDTH_IN * (MARGINS["right"] - MARGINS["left"])
    n_chars = int(width_s / duration_s * axes_in / LABEL_CHAR_IN) if duration_s > 0 else 0
    if n_chars < 6:
        return str(track.number)
    lines = (f"{track.number}. {track.title}", f"{track.tempo_bpm:.0f} BPM, {track.tonality}", track.reason)
    return "\n".join(_fit(line, n_chars) for line in lines)


def _crossfades(ax, tracks) -> None:
    """Hatch the crossfades between consecutive tracks (in session minutes)."""
    for track, following in itertools.pairwise(tracks):
        ax.axvspan(following.onset_s / 60, track.end_s / 60, zorder=0.5, **CROSSFADE)


def tracks_figure(data: SessionData, summary: SessionSummary):
    """The client's tracks lined up with the EEG: each track's span and its gain envelope
    (crossfades hatched), the feedback z-score with each track's mean, and the music's tempo."""
    tracks = summary.playlist.tracks
    fig, (ax_lane, ax_z, ax_tempo) = new_figure([0.9, 1.0, 0.8], 7.4)
    for i, track in enumerate(tracks):
        low = 1.05 if i % 2 == 0 else 0.05  # alternate rows, so that crossfades overlap visibly
        out_s = tracks[i + 1].onset_s if i + 1 < len(tracks) else track.end_s
        top_from = min(track.onset_s + track.fade_s, out_s)  # a crossfade out cutting a fade-in short
        ax_lane.fill([track.onset_s / 60, top_from / 60, out_s / 60, track.end_s / 60, track.end_s / 60],
                     [low, low + 0.9, low + 0.9, low + 0.9 if out_s >= track.end_s else low, low],
                     facecolor=TRACK_FILLS[i % 2], edgecolor="#555555", linewidth=0.8, zorder=2)
        # A label may spill out of its track's shape up to the tracks beside it on its row.
        centre = (track.onset_s + track.end_s) / 2
        left = tracks[i - 2].end_s if i >= 2 else 0.0
        right = tracks[i + 2].onset_s if i + 2 < len(tracks) else summary.duration_s
        ax_lane.text(centre / 60, low + 0.45,
                     _track_label(track, 2 * min(centre - left, right - centre), summary.duration_s),
                     ha="center", va="center", fontsize=7.5, linespacing=1.1, color="#111111", zorder=3,
                     clip_on=True, bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1})
    ax_lane.set_ylim(0, 2)
    ax_lane.set_yticks([])
    ax_lane.grid(False)
    ax_lane.set_title("The client's tracks (height: gain, crossfades hatched): title, tempo, "
                      "key, why chosen", pad=16)

    times = data.features["time_s"] / 60
    ax_z.plot(times, data.features.get("feedback_z", np.full(times.size, np.nan)), label="smoothed z-score",
              **SERIES["feedback"])
    label = "mean while each track was the louder"
    for track in tracks:
        if track.mean_z is not None:
            ax_z.plot([track.louder_from_s / 60, track.louder_to_s / 60], [track.mean_z] * 2, label=label,
                      **SERIES["track_z"])
            label = None  # one legend entry for them all
    ax_z.axhline(summary.reward_z, color="#222222", linewidth=1.0, linestyle="--",
                 label=f"reward on at z ≥ {summary.reward_z:g}")
    ax_z.set_ylabel("z (SD of baseline)")
    ax_z.set_title(_z_label(summary))
    legend_above_data(ax_z, ncol=3, fontsize=8)

    music = data.music
    ax_tempo.plot(music.get("time_s", np.empty(0)) / 60, music.get("tempo_bpm", np.empty(0)),
                  label="tempo played", **SERIES["tempo"])
    target = data.meta.get("preset_config", {}).get("iso", {}).get("target_tempo_bpm")
    if isinstance(target, (int, float)):
        ax_tempo.axhline(target, label=f"target {target:g} BPM", **SERIES["target"])
    ax_tempo.set_ylabel("BPM")
    ax_tempo.set_title("Tempo of the music")
    legend_above_data(ax_tempo, ncol=2, fontsize=8)
    for ax in (ax_lane, ax_z, ax_tempo):
        shade_phases(ax, _spans(summary), label=ax is ax_lane)
        _crossfades(ax, tracks)
        _time_axis(ax, summary, xlabel=ax is ax_tempo)
    return fig


def spectra_figure(spectra: Spectra):
    """Power spectra of the region of interest in each phase, overlaid on a log scale."""
    fig, (ax,) = new_figure([1.0], 4.0, sharex=False)
    for band, (low, high) in BANDS_HZ.items():
        for edge in (low, high):
            ax.axvline(edge, color="#888888", linewidth=0.9, linestyle=(0, (2, 2)), zorder=1)
        ax.text((low + high) / 2, 1.01, f"{band} {low:g}-{high:g} Hz", transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=8.5, color="#333333")
    for phase, psd in spectra.psd_uv2_per_hz.items():
        ax.semilogy(spectra.freqs_hz, psd, label=PHASE_LABELS.get(phase, phase), **PHASE_LINES[phase])
    ax.set_xlim(spectra.freqs_hz[0] if spectra.freqs_hz.size else 0, spectra.freqs_hz[-1] if
                spectra.freqs_hz.size else 40)
    ax.set_xlabel("Frequency (Hz)")
    ax.set_ylabel("Power spectral density (µV²/Hz)")
    shown = ", ".join(spectra.channels[:8]) + (", ..." if len(spectra.channels) > 8 else "")
    ax.set_title(f"Spectrum of the region of interest: {spectra.region} ({shown})", pad=16)
    legend_above_data(ax, 0.25, loc="upper right", ncol=3)
    return fig


def latency_figure(latency: dict, summary: SessionSummary):
    """Histogram of sample-to-engine latency with its percentiles."""
    fig, (ax,) = new_figure([1.0], 3.4, sharex=False)
    values = latency.get("sample_to_engine_s", np.empty(0)) * 1e3
    values = values[np.isfinite(values)]
    ax.hist(values, bins=int(np.clip(np.sqrt(values.size), 10, 60)), color="#a6a6a6", edgecolor="white")
    for name, value in summary.latency_ms.get("sample_to_engine_ms", {}).items():
        ax.axvline(value, color="#000000", linestyle=PERCENTILE_LINES.get(name, "-"), linewidth=1.4,
                   label=f"{name}: {value:.1f} ms")
    ax.set_xlabel("Sample-to-engine latency (ms)")
    ax.set_ylabel("Hops")
    ax.set_title(f"Latency from the newest EEG sample to the music engine ({values.size} hops)")
    ax.set_xlim(left=0)
    legend_above_data(ax, 0.3, loc="upper right", ncol=4)
    return fig


def progress_figure(numbers: list[SessionNumbers], trend: Trend | None, spec: FeatureDef):
    """A course of sessions: target change with its trend, time in target and reward, data quality."""
    fig, (ax_change, ax_target, ax_quality) = new_figure([1.3, 1.0, 0.8], 8.0)
    x = np.array([n.number for n in numbers], dtype=float)
    change = np.array([np.nan if n.change is None else n.change for n in numbers])
    unit = "%" if spec.relative_change else "ln ratio"
    if trend is not None:
        span = np.linspace(x.min() - 0.3, x.max() + 0.3, 50)
        band = trend.band(span)
        if band is not None:
            ax_change.fill_between(span, *band, color="#dddddd", linewidth=0, label="95% confidence band")
        ax_change.plot(span, trend.intercept + trend.slope * span, color="#444444", linestyle="--",
                       linewidth=1.2, label=f"trend {trend.describe()}")
    ax_change.plot(x, change, label=f"{spec.label} in training", **SERIES["change"])
    ax_change.axhline(0, color="#444444", linewidth=0.8)
    ax_change.set_ylabel(f"Change from\nbaseline ({unit})")
    ax_change.set_title(f"{spec.label}: change from baseline in training, per session")
    ax_change.legend(loc="upper left", fontsize=8)

    for key, label in (("in_target", "time in target"), ("reward", "reward on")):
        values = [np.nan if getattr(n, f"{key}_pct") is None else getattr(n, f"{key}_pct") for n in numbers]
        ax_target.plot(x, values, label=label, **SERIES[key])
    ax_target.set_ylim(0, 105)
    ax_target.set_ylabel("% of training")
    ax_target.set_title("Time in target and reward in training")
    ax_target.legend(loc="lower right", ncol=2)

    ax_quality.plot(x, [n.estimate_pct for n in numbers], label="windows with an estimate",
                    **SERIES["estimate"])
    ax_quality.set_ylim(0, 105)
    ax_quality.set_ylabel("% of session")
    ax_quality.set_title("Data quality")
    ax_quality.legend(loc="lower right")
    ax_quality.set_xticks(x, [f"{n.number}\n{n.date}" for n in numbers], fontsize=8)
    ax_quality.set_xlabel("Session")
    ax_quality.set_xlim(x.min() - 0.5, x.max() + 0.5)
    return fig
