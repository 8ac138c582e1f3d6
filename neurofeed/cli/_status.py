"""The live status line of run, replay and calibrate."""

from __future__ import annotations

import shutil
import sys
import time

#: Without a terminal, a status line is printed this often, in seconds of session time.
LOG_STATUS_EVERY_S = 10.0
#: Bad channels named on the status line; more are counted.
MAX_NAMED_BAD = 3


class StatusPrinter:
    """Prints the live status: rewritten in place on a terminal, a line every 10 s otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self._next_log_s = 0.0
        self._last_draw = 0.0

    def __call__(self, status) -> None:
        now = time.monotonic()
        if self.live:
            if now - self._last_draw < 0.2:
                return
            self._last_draw = now
            # A line wider than the terminal wraps, and "\r" would then redraw only its
            # last part: cut it to the width (the loud flags come first, so they stay).
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r" + format_status(status)[:width] + "\033[K")
            self.stream.flush()
        elif status.time_s >= self._next_log_s:
            self._next_log_s = status.time_s + LOG_STATUS_EVERY_S
            print(format_status(status), file=self.stream, flush=True)

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")


def format_quality(quality) -> str:
    """``quality 14 good 1 poor 1 bad (O1)``: channel counts per level, bad ones named."""
    if quality is None:
        return "quality n/a"
    counts = " ".join(f"{n} {level}" for level, n in quality.counts().items() if n)
    bad = quality.names("bad")
    if bad:
        more = len(bad) - MAX_NAMED_BAD
        counts += f" ({', '.join(bad[:MAX_NAMED_BAD])}{f' +{more}' if more > 0 else ''})"
    return f"quality {counts}"


#: How a playlist's track is shown, and at most how much of its title.
_TRACK_MARK = "track:"
_TRACK_CHARS = 32


def format_status(status) -> str:
    """One line: loud flags first (no usable EEG, stalled, audio lost, an artifact window),
    then phase, time left, alpha/theta z, music, reward, artifacts, channel quality, what
    the signal is when it is not a person's EEG, and a region that fell back."""
    step, state = status.step, status.step.state

    def z(value):
        return "  n/a" if value is None else f"{value:+5.2f}"
    minutes, seconds = divmod(round(status.remaining_s), 60)
    flags = [text for on, text in ((status.signal_lost, "NO USABLE EEG"),
                                   (status.stalled, "STALLED"),
                                   (status.audio == "lost", "AUDIO LOST"),
                                   (status.artifact_window, "ARTIFACT: holding")) if on]
    parts = [" ".join(flags)] if flags else []
    parts += [f"{step.phase:<8} {minutes:2d}:{seconds:02d} left",
              f"alpha z {z(status.alpha_z)} theta z {z(status.theta_z)}",
              f"{state.tempo_bpm:5.1f} BPM {state.key} {state.mode:<10}"
              + (f" {_TRACK_MARK} {status.track[:_TRACK_CHARS]}" if status.track else ""),
              f"reward {'ON ' if step.reward else 'off'}",
              f"artifacts {status.artifact_percent:3.0f}%",
              format_quality(status.quality)]
    if status.signal:
        parts.append(f"[{status.signal}]")
    if status.region_fallback:
        parts.append(f"[{status.region_fallback}]")
    return " | ".join(parts)
