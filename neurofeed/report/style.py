"""One look for every report figure, so that session and progress reports match.

Series differ by line style and marker as well as colour (the Okabe-Ito palette, safe
for colour-blind readers), so that a report printed in grey still tells them apart.
Phases are shaded in two greys (training is left white) and labelled.

Figures are built on :class:`matplotlib.figure.Figure` without pyplot, so making a
report changes no global matplotlib state beyond :func:`report_style`'s context and
needs no display.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from neurofeed.report.summary import PHASE_LABELS

#: Width of every figure, in inches; with the fixed side margins below, time axes of
#: stacked figures line up in the HTML.
WIDTH_IN = 10.0
MARGINS = {"left": 0.085, "right": 0.975}
#: Room above the top axes (title, phase labels) and below the bottom one (tick labels,
#: axis label), in inches, whatever the figure's height.
TOP_IN, BOTTOM_IN = 0.55, 0.6
DPI = 150

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "lines.linewidth": 1.6,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
}

# Okabe-Ito colours.
BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")

#: Line style of each series, by name; grey-safe through ``linestyle`` and ``marker``.
SERIES = {
    "alpha": {"color": BLUE, "linestyle": "-"},
    "theta": {"color": VERMILLION, "linestyle": "--"},
    "feedback": {"color": BLACK, "linestyle": "-", "linewidth": 1.3},
    "tempo": {"color": BLUE, "linestyle": "-"},
    "mode": {"color": PURPLE, "linestyle": "-"},
    "intensity": {"color": GREEN, "linestyle": "-"},
    "brightness": {"color": ORANGE, "linestyle": "--"},
    "entrainment": {"color": PURPLE, "linestyle": "-"},
    "change": {"color": BLUE, "linestyle": "-", "marker": "o", "markersize": 6},
    "in_target": {"color": GREEN, "linestyle": "-", "marker": "s", "markersize": 5},
    "reward": {"color": ORANGE, "linestyle": "--", "marker": "^", "markersize": 6},
    "estimate": {"color": SKY, "linestyle": ":", "marker": "D", "markersize": 5},
    "track_z": {"color": VERMILLION, "linestyle": "-", "linewidth": 3.0, "solid_capstyle": "butt"},
    "target": {"color": "#444444", "linestyle": "--", "linewidth": 1.0},
}
#: Line style of each phase where phases are overlaid (spectra).
PHASE_LINES = {
    "baseline": {"color": "#555555", "linestyle": ":", "linewidth": 2.0},
    "training": {"color": BLUE, "linestyle": "-", "linewidth": 2.0},
    "cooldown": {"color": VERMILLION, "linestyle": "--", "linewidth": 2.0},
}
#: Background of each phase on time axes; training stays white.
PHASE_SHADES = {"baseline": "#e4e4e4", "cooldown": "#cccccc"}
#: Fill of marked stretches (reward on, no estimate) in strips along a time axis.
STRIPS = {
    "reward": {"facecolor": "#f2c46d", "edgecolor": "#6b4a00", "linewidth": 0.8, "label": "reward on"},
    "no_estimate": {"facecolor": "white", "edgecolor": "#444444", "hatch": "////", "linewidth": 0,
                    "label": "no estimate"},
}


#: Fill of the client's tracks on a playlist's time axes, alternating from one track to the next.
TRACK_FILLS = ("#cfe3f3", "#f6dcc4")
#: Crossfades between tracks: hatched, so that they show in grey too.
CROSSFADE = {"facecolor": "none", "edgecolor": "#9a9a9a", "hatch": "///", "linewidth": 0}
#: Width of an average character of a track's label, in inches (7.5-pt DejaVu Sans).
LABEL_CHAR_IN = 0.062


@contextlib.contextmanager
def report_style():
    """Context in which report figures are built and saved."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(height_ratios: list[float], height_in: float, *, sharex: bool = True):
    """A figure of :data:`WIDTH_IN` with stacked axes; returns ``(figure, axes list)``."""
    fig = Figure(figsize=(WIDTH_IN, height_in))
    axes = fig.subplots(len(height_ratios), 1, sharex=sharex, squeeze=False,
                        gridspec_kw={"height_ratios": height_ratios})[:, 0]
    fig.subplots_adjust(**MARGINS, top=1 - TOP_IN / height_in, bottom=BOTTOM_IN / height_in, hspace=0.5)
    return fig, list(axes)


def shade_phases(ax, spans, *, label: bool = False) -> None:
    """Shade ``(phase, start_s, end_s)`` spans on a time axis in minutes; label them above the axes."""
    for name, start, end in spans:
        if name in PHASE_SHADES:
            ax.axvspan(start / 60, end / 60, color=PHASE_SHADES[name], zorder=0, linewidth=0)
        if label:
            ax.text((start + end) / 2 / 60, 1.02, PHASE_LABELS.get(name, name),
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=9,
                    fontstyle="italic", color="#333333")


def legend_above_data(ax, headroom: float = 0.35, loc: str = "upper left", **kwargs) -> None:
    """Put the legend at the top, raising the y limit by ``headroom`` so that it covers no data.

    Does nothing when nothing on the axes has a label.
    """
    if not ax.get_legend_handles_labels()[0]:
        return
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(low, high * (high / low) ** headroom)
    else:
        ax.set_ylim(low, high + headroom * (high - low))
    # Opaque, so that vertical markers (percentiles, thresholds) do not run through it.
    ax.legend(loc=loc, **{"frameon": True, "facecolor": "white", "edgecolor": "none", "framealpha": 1.0,
                          **kwargs})


def strip(ax, times_min, mask, kind: str, *, bottom: float, height: float = 0.07) -> None:
    """Mark where ``mask`` is true as a strip across ``[bottom, bottom + height]`` of the axes."""
    ax.fill_between(times_min, bottom, bottom + height, where=mask, step="mid",
                    transform=ax.get_xaxis_transform(), **STRIPS[kind])


def save_png(fig: Figure, path: Path) -> bytes:
    """Write ``fig`` to ``path`` as PNG and return the bytes (for embedding in HTML)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    png = buffer.getvalue()
    Path(path).write_bytes(png)
    return png
