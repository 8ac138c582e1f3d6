"""The closed loop: a session's hops, from EEG in to music out, everything recorded.

:class:`ClosedLoop` wires small parts, each with one job: the clock
(:mod:`~neurofeed.loop.clock`), the baseline calibrator (:mod:`~neurofeed.loop.calibrator`),
signal quality (:mod:`~neurofeed.loop.quality`), one source's state
(:mod:`~neurofeed.loop.source`), the feedback scale (:mod:`~neurofeed.loop.scale`),
artifact windows (:mod:`~neurofeed.loop.artifact`) and the hop writer
(:mod:`~neurofeed.loop.hops`).
"""

from neurofeed.loop.calibrator import MIN_BASELINE_WINDOWS, BaselineCalibrator, check_baseline
from neurofeed.loop.closed import ClosedLoop
from neurofeed.loop.hops import MUSIC_COLUMNS, HopWriter, lsl_channels
from neurofeed.loop.quality import QUALITY_LEVELS, ChannelQuality, SignalQuality
from neurofeed.loop.status import HopStatus, LoopResult

__all__ = ["MIN_BASELINE_WINDOWS", "MUSIC_COLUMNS", "QUALITY_LEVELS", "BaselineCalibrator",
           "ChannelQuality", "ClosedLoop", "HopStatus", "HopWriter", "LoopResult",
           "SignalQuality", "check_baseline", "lsl_channels"]
