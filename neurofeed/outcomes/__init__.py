"""Outcomes beside the EEG: validated instruments, scored exactly as published (pure)."""

from neurofeed.outcomes.instruments import INSTRUMENTS, REPORTERS, Band, Instrument, Score, instrument, score

__all__ = ["INSTRUMENTS", "REPORTERS", "Band", "Instrument", "Score", "instrument", "score"]
