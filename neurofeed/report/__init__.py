"""Session reports and course progress, as self-contained HTML with PNG figures.

- :func:`build_report` turns one finalised session folder into ``report/report.html``
  (and a PNG per figure, and ``summary.json``) inside that folder.
- :func:`build_progress` puts all sessions of one subject in order, with the trend of
  the target feature across them, as HTML, PNG and TSV.

The numbers come from :mod:`neurofeed.report.summary`, which needs no matplotlib; a
playlist session's tracks, and the EEG during each, from :mod:`neurofeed.report.tracks`.
"""

import importlib

from neurofeed.errors import SessionIncompleteError
from neurofeed.report.summary import session_summary

# Imported on first use: they bring in matplotlib and MNE.
_LAZY = {"build_report": "neurofeed.report.session", "build_progress": "neurofeed.report.progress"}

__all__ = ["SessionIncompleteError", "build_progress", "build_report", "session_summary"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
