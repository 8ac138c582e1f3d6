"""EEG acquisition: one :class:`Source` interface over BrainFlow boards, LSL streams
and recorded files.

Every source is a context manager whose :meth:`~Source.read` returns new samples in
volts, shape ``(n_channels, n_samples)``, with one LSL-clock timestamp per sample.
"""

from neurofeed.acquire.base import Chunk, Event, Gap, Source
from neurofeed.acquire.brainflow import BrainFlowSource, board_names, resolve_board

__all__ = ["BrainFlowSource", "Chunk", "Event", "Gap", "Source", "board_names", "resolve_board"]
