"""The live status line of run, replay and calibrate."""

from __future__ import annotations

import sys
import time

#: Without a terminal, a status line is printed this often, in seconds of session time.
LOG_STATUS_EVERY_S = 10.0


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
            self.stream.write("\r" + format_status(status) + "\033[K")
            self.stream.flush()
        elif status.time_s >= self._next_log_s:
            self._next_log_s = status.time_s + LOG_STATUS_EVERY_S
            print(format_status(status), file=self.stream, flush=True)

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")


def format_status(status) -> str:
    """One line: phase, time left, alpha/theta z, music, reward, artifacts, source and audio."""
    step, state = status.step, status.step.state

    def z(value):
        return "  n/a" if value is None else f"{value:+5.2f}"
    minutes, seconds = divmod(round(status.remaining_s), 60)
    flags = " STALLED" if status.stalled else ""
    flags += " AUDIO LOST" if status.audio == "lost" else ""
    return (f"{step.phase:<8} {minutes:2d}:{seconds:02d} left | alpha z {z(status.alpha_z)} "
            f"theta z {z(status.theta_z)} | {state.tempo_bpm:5.1f} BPM {state.key} {state.mode:<10} "
            f"| reward {'ON ' if step.reward else 'off'} | artifacts {status.artifact_percent:3.0f}%"
            f"{flags}")
