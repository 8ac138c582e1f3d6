"""Frequency bands: named half-open ranges ``[lo_hz, hi_hz)`` and their weight matrix."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from neurofeed._check import check_range
from neurofeed.errors import InvalidArgumentError

# A bin whose frequency is within this fraction of a bin width below an edge counts as
# on the edge, so that 8 Hz stays in alpha even if k * df rounds to 7.999999999.
_EDGE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Band:
    """A named frequency band, half-open: it holds the bins with ``lo_hz <= f < hi_hz``.

    Attributes
    ----------
    name : str
        The band's name, e.g. ``"alpha"``.
    lo_hz, hi_hz : float
        The lower (included) and upper (excluded) edges, in Hz.
    """

    name: str
    lo_hz: float
    hi_hz: float

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InvalidArgumentError(
                f"band name must be a Python identifier such as 'alpha', got {self.name!r}")
        lo = check_range(f"band {self.name!r} lower edge", self.lo_hz, 0, math.inf, unit=" Hz")
        hi = check_range(f"band {self.name!r} upper edge", self.hi_hz, lo, math.inf,
                         unit=" Hz", low_inclusive=False)
        object.__setattr__(self, "lo_hz", lo)
        object.__setattr__(self, "hi_hz", hi)

    def bins(self, df_hz: float) -> range:
        """Return the indices k of the bins ``k * df_hz`` that lie in ``[lo_hz, hi_hz)``."""
        first = math.ceil(self.lo_hz / df_hz - _EDGE_TOLERANCE)
        stop = math.ceil(self.hi_hz / df_hz - _EDGE_TOLERANCE)
        return range(first, stop)

    def __str__(self) -> str:
        return f"{self.name} [{self.lo_hz:g}, {self.hi_hz:g}) Hz"


class BandSet:
    """An ordered set of bands with unique names.

    Parameters
    ----------
    bands : iterable of Band, or mapping of name to ``(lo_hz, hi_hz)``
        The bands, in the order their powers are reported.

    Examples
    --------
    >>> BandSet({"theta": (4, 8), "alpha": (8, 12)}).names
    ('theta', 'alpha')
    """

    def __init__(self, bands: Iterable[Band] | Mapping[str, tuple[float, float]]):
        if isinstance(bands, Mapping):
            bands = [Band(name, *edges) for name, edges in bands.items()]
        self.bands: tuple[Band, ...] = tuple(bands)
        if not self.bands:
            raise InvalidArgumentError("a band set needs at least one band")
        for band in self.bands:
            if not isinstance(band, Band):
                raise InvalidArgumentError(f"bands must be Band objects, got {band!r}")
        names = [band.name for band in self.bands]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidArgumentError(f"band names must be unique; repeated: {duplicates}")
        self.names: tuple[str, ...] = tuple(names)

    def __len__(self) -> int:
        return len(self.bands)

    def __iter__(self):
        return iter(self.bands)

    def __getitem__(self, name: str) -> Band:
        return self.bands[self.index(name)]

    def __add__(self, other: BandSet) -> BandSet:
        return BandSet(self.bands + other.bands)

    def __repr__(self) -> str:
        return f"BandSet({', '.join(str(band) for band in self.bands)})"

    def index(self, name: str) -> int:
        """Return the position of the band called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise InvalidArgumentError(
                f"no band called {name!r}; the bands are {', '.join(self.names)}") from None

    @property
    def lo_hz(self) -> float:
        """float: The lowest lower edge, in Hz."""
        return min(band.lo_hz for band in self.bands)

    @property
    def hi_hz(self) -> float:
        """float: The highest upper edge, in Hz."""
        return max(band.hi_hz for band in self.bands)

    def bin_range(self, df_hz: float) -> range:
        """Return the contiguous bin indices from the lowest band's first bin to the
        highest band's last, at a resolution of ``df_hz``."""
        return range(min(b.bins(df_hz).start for b in self.bands),
                     max(b.bins(df_hz).stop for b in self.bands))

    def matrix(self, bins: range, df_hz: float) -> np.ndarray:
        """Return the weights that turn a PSD into band powers.

        Parameters
        ----------
        bins : range
            The indices of the PSD's bins (for instance :meth:`bin_range`).
        df_hz : float
            The bin width, in Hz.

        Returns
        -------
        weights : ndarray, shape (len(bins), n_bands)
            ``df_hz`` where bin k lies in the band, else 0, so that
            ``psd @ weights`` is the power in each band in V² for a PSD in V²/Hz
            (the rectangle rule: the sum of the band's bins times the bin width).
        """
        weights = np.zeros((len(bins), len(self.bands)))
        for j, band in enumerate(self.bands):
            band_bins = band.bins(df_hz)
            if not band_bins or band_bins.start < bins.start or band_bins.stop > bins.stop:
                raise InvalidArgumentError(
                    f"band {band} has no frequency bin within {bins.start * df_hz:g}-"
                    f"{(bins.stop - 1) * df_hz:g} Hz at a resolution of {df_hz:g} Hz; "
                    "widen the band or lengthen the segments")
            weights[band_bins.start - bins.start:band_bins.stop - bins.start, j] = df_hz
        return weights


#: delta 1-4, theta 4-8, alpha 8-12 and beta 12-30 Hz, as in the music-therapy literature.
DEFAULT_BANDS = BandSet({"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 12.0),
                         "beta": (12.0, 30.0)})

#: The range relative power is taken over: 1-40 Hz.
DEFAULT_TOTAL = Band("total", 1.0, 40.0)
