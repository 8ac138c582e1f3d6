"""Band powers, artifact flags and features from streaming EEG.

:class:`FeatureExtractor` is the stage the loop calls once per hop: chunks of samples in,
one :class:`Frame` per window out. Its parts can be used alone:
:class:`StreamingWelch` (Welch PSD and band powers, all channels at once),
:class:`BandSet` (half-open bands), :class:`ArtifactDetector`, :class:`FeatureComputer`,
:class:`Baseline` and :class:`ExponentialSmoother`.
"""

from neurofeed.bands.artifacts import ARTIFACT_KINDS, ArtifactDetector, ArtifactFlags, ArtifactThresholds
from neurofeed.bands.bandset import DEFAULT_BANDS, DEFAULT_TOTAL, Band, BandSet
from neurofeed.bands.baseline import Baseline, ExponentialSmoother, FeatureStats
from neurofeed.bands.extractor import FeatureExtractor, Frame
from neurofeed.bands.features import FeatureComputer, Features, Region, resolve_region
from neurofeed.bands.welch import StreamingWelch

__all__ = ["ARTIFACT_KINDS", "DEFAULT_BANDS", "DEFAULT_TOTAL", "ArtifactDetector",
           "ArtifactFlags", "ArtifactThresholds", "Band", "BandSet", "Baseline",
           "ExponentialSmoother", "FeatureComputer", "FeatureExtractor", "FeatureStats",
           "Features", "Frame", "Region", "StreamingWelch", "resolve_region"]
