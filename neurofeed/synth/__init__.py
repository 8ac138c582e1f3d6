"""The music: what to play (:mod:`state`, :mod:`theory`, :mod:`composer`, :mod:`sequencer`),
how it sounds (the pyo :mod:`engine` and its :mod:`palettes`), and what was played (:mod:`score`).

Importing this package does not import pyo; :class:`Engine` is loaded on first use.
"""

from neurofeed.synth.score import ScoreLog
from neurofeed.synth.state import ENTRAINMENT_KINDS, MODES, Entrainment, MusicState, mode_from_valence

__all__ = ["ENTRAINMENT_KINDS", "MODES", "Engine", "Entrainment", "MusicState", "ScoreLog",
           "mode_from_valence"]


def __getattr__(name):
    if name == "Engine":
        from neurofeed.synth.engine import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
