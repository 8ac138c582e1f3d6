"""Silence C libraries (ALSA, PortAudio, libjack) that print to file descriptor 2."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_stderr():
    """Send everything written to file descriptor 2 inside the block to /dev/null.

    Python's ``sys.stderr`` is redirected too, since it shares the descriptor.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
