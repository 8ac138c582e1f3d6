"""The one place that imports pyo, with the environment it needs set first."""

from __future__ import annotations

import os


def load_pyo():
    """Import and return the ``pyo`` module.

    ``PYO_GUI_WX=0`` keeps pyo from printing its wxPython notice to stdout, and
    ``JACK_NO_START_SERVER=1`` keeps libjack from starting a JACK server of its own when none
    is running (we report that instead).
    """
    os.environ.setdefault("PYO_GUI_WX", "0")
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    import pyo

    return pyo
