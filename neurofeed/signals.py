"""Stop requests from outside: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 all end
a command like Ctrl-C.

A service manager (``systemctl stop``, ``docker stop``, ``timeout``) sends SIGTERM, a
closed terminal or SSH session SIGHUP (output to that terminal then goes to /dev/null),
Ctrl-\\ SIGQUIT; SIGUSR1 and SIGUSR2, which neurofeed gives no other meaning, would
otherwise kill the process before it finalised. While :func:`stop_on_signals` is in force,
each of them raises :class:`KeyboardInterrupt` in the main thread, which the loop already
takes as "stop, fade out and finalise". The signal is remembered, so the command exits with
``128 + signal number`` (130 SIGINT, 129 SIGHUP, 143 SIGTERM, 131 SIGQUIT, 138 SIGUSR1, 140
SIGUSR2 on Linux), as shells report it.

Only the first signal stops: repeats are noted on stderr and otherwise ignored, so that a
second Ctrl-C or a supervisor repeating SIGTERM cannot abort the fade-out, the finalising
of the session folder or the report half-way. Inside :func:`deferred`, even the first
signal is only remembered, not raised (the work there is the stopping itself).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

#: The signals handled like Ctrl-C. Only SIGINT and SIGTERM exist on Windows.
STOP_SIGNALS = tuple(getattr(signal, name) for name in
                     ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
                     if hasattr(signal, name))

_state = {"received": None, "deferred": 0, "terminals": ()}


def _handler(signum: int, frame) -> None:
    if signum == getattr(signal, "SIGHUP", None):
        _leave_closed_terminal()
    if _state["received"] is not None:
        # os.write, not print: a handler may run while the main thread is inside a print.
        os.write(2, f"neurofeed: {signal.Signals(signum).name} received while stopping; still "
                    "finishing the session (kill -9 aborts and loses up to 0.5 s)\n".encode())
        return
    _state["received"] = signum
    if not _state["deferred"]:
        raise KeyboardInterrupt(signal.Signals(signum).name)


def _leave_closed_terminal() -> None:
    """Point stdout and stderr at /dev/null where they are a terminal.

    SIGHUP usually means the terminal (or SSH session) is gone, and writing to it would
    fail with EIO: the stopping session, its last lines and its report must not.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in _state["terminals"]:
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def stop_on_signals(*, until_exit: bool = False) -> Iterator[None]:
    """Handle :data:`STOP_SIGNALS` like Ctrl-C while the block runs (main thread only).

    A signal the parent process set to be ignored stays ignored: ``nohup`` keeps a command
    running when its terminal closes, and a shell's background job ignores Ctrl-C.

    Parameters
    ----------
    until_exit : bool
        For a process's entry point: once a stop signal was received, ignore repeats
        after the block too, instead of restoring the previous handlers. The process is
        then on its way out, and a repeat arriving while the interpreter shuts down would
        otherwise kill it, turning exit 143 into death by SIGTERM.
    """
    # A hung-up terminal is no longer a tty (isatty fails with EIO): ask now.
    _state.update(received=None, deferred=0, terminals=tuple(fd for fd in (1, 2) if os.isatty(fd)))
    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _handler)
    try:
        yield
    finally:
        stopping = until_exit and _state["received"] is not None
        for signum, handler in previous.items():
            # Python's own finalisation puts Python-level handlers back to the default,
            # which dies: an ignored signal stays ignored until the process has exited.
            signal.signal(signum, signal.SIG_IGN if stopping else handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, a stop signal is remembered but does not interrupt it.

    For the work that stopping consists of (finalising a session folder): a signal that
    arrives there still sets the exit status, see :func:`exit_status`.
    """
    _state["deferred"] += 1
    try:
        yield
    finally:
        _state["deferred"] -= 1


def received() -> str | None:
    """The name of the stop signal received (``"SIGTERM"``, ...), or None."""
    signum = _state["received"]
    return None if signum is None else signal.Signals(signum).name


def exit_status(default: int = 0) -> int:
    """``128 + signal number`` once a stop signal was received, else ``default``.

    A :class:`KeyboardInterrupt` without a handled signal (raised by Python's own SIGINT
    handler, outside :func:`stop_on_signals`) counts as SIGINT: pass ``default=130``.
    """
    signum = _state["received"]
    return default if signum is None else 128 + int(signum)
