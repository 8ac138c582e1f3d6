"""EEG acquisition: one :class:`Source` interface over BrainFlow boards, LSL streams
and recorded files.

Every source is a context manager whose :meth:`~Source.read` returns new samples in
volts, shape ``(n_channels, n_samples)``, with one LSL-clock timestamp per sample.
"""

import importlib

from neurofeed.acquire.base import Chunk, Event, Gap, Source
from neurofeed.acquire.brainflow import BrainFlowSource, board_names, resolve_board
from neurofeed.acquire.channels import Channel, standardize, standardize_label
from neurofeed.acquire.montage import BUILTIN_MONTAGES, parse_montage

# Imported on first use, so that importing one source does not load the others' libraries.
_LAZY = {
    "FileSource": "neurofeed.acquire.replay",
    "read_recording": "neurofeed.acquire.files",
    "load_recording": "neurofeed.acquire.files",
    "LSLSource": "neurofeed.acquire.lsl",
    "EEGOutlet": "neurofeed.acquire.outlet",
    "SimulatedListener": "neurofeed.acquire.simulated",
}

__all__ = ["BUILTIN_MONTAGES", "BrainFlowSource", "Channel", "Chunk", "Event", "Gap", "Source",
           "board_names", "parse_montage", "resolve_board", "standardize", "standardize_label",
           *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
