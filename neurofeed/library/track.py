"""A track of the music library and what its analysis found (pure data, JSON both ways)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import PurePosixPath

from neurofeed._check import check_option

#: A client's ratings of a track; the playlist prefers liked tracks and avoids disliked ones.
RATINGS = ("liked", "neutral", "disliked")
#: The rating of a track nobody has rated.
DEFAULT_RATING = "neutral"


@dataclass(frozen=True)
class TrackAnalysis:
    """What :func:`neurofeed.library.analysis.analyse` measures of one audio file.

    Attributes
    ----------
    duration_s : float
        The whole file, in seconds.
    sample_rate : int
        The file's rate, in Hz.
    channels : int
        The file's channels.
    tempo_bpm : float
        The beat's tempo in BPM, guarded against octave errors.
    beat_times_s : tuple of float
        Beat positions in the file, in seconds, on the grid of ``tempo_bpm``.
    key : str
        The tonal centre, spelled as :data:`neurofeed.synth.theory.KEYS`.
    quality : str
        ``"major"`` or ``"minor"``.
    key_confidence : float
        0-1, from the margin of the best key over the next.
    mode : str or None
        One of :data:`neurofeed.synth.theory.MODES` when the centre is clear, else None.
    valence : float
        -1 (dark) to 1 (bright): :func:`neurofeed.synth.theory.mode_valence` of the mode, or of
        Ionian (major) or Aeolian (minor) when the mode is not known.
    loudness_lufs : float
        Integrated loudness, ITU-R BS.1770-4, in LUFS.
    loudness_range_lu : float
        Loudness range, EBU Tech 3342, in LU.
    true_peak_dbtp : float
        True peak, BS.1770-4 Annex 2, in dBTP.
    brightness_hz : float
        Mean spectral centroid of the music at level, in Hz.
    brightness : float
        0-1: ``brightness_hz`` on a log scale from 500 Hz (0) to 4 kHz (1), clipped.
    arousal : float
        0-1 energy estimate from tempo, onset rate, loudness and brightness.
    start_s : float
        Where the music is at level (lead-in silence and fade-in skipped), on a beat, in s.
    end_s : float
        Where it stops being at level (fade-out and trailing silence left out), on a beat, in s.
    """

    duration_s: float
    sample_rate: int
    channels: int
    tempo_bpm: float
    beat_times_s: tuple[float, ...]
    key: str
    quality: str
    key_confidence: float
    mode: str | None
    valence: float
    loudness_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    brightness_hz: float
    brightness: float
    arousal: float
    start_s: float
    end_s: float

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (beat times as a list)."""
        out = asdict(self)
        out["beat_times_s"] = list(self.beat_times_s)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> TrackAnalysis:
        """The analysis stored by :meth:`to_dict`; unknown keys are ignored."""
        values = {f.name: d[f.name] for f in fields(cls)}
        values["beat_times_s"] = tuple(float(t) for t in values["beat_times_s"])
        return cls(**values)


@dataclass(frozen=True)
class Track:
    """One audio file of a library: where it is, what it is, and how the client rated it.

    Attributes
    ----------
    track_id : str
        The first 16 hex digits of the file's SHA-256: the content, so a moved or renamed file
        keeps its id (and its rating).
    path : str
        POSIX path relative to the library folder (it may start with ``../``).
    title : str
        The file's name without its extension.
    size : int
        Bytes, when analysed.
    mtime_ns : int
        Modification time in ns, when analysed: with ``size``, how a re-run sees a change.
    analysis : TrackAnalysis
        What the file's audio measured.
    rating : str
        One of :data:`RATINGS`.
    """

    track_id: str
    path: str
    title: str
    size: int
    mtime_ns: int
    analysis: TrackAnalysis
    rating: str = DEFAULT_RATING

    def __post_init__(self):
        check_option("rating", self.rating, RATINGS)

    @property
    def shared_path(self) -> str:
        """The path a session folder records: :attr:`path` when it lies inside the library
        folder, else the file's name alone (a path that climbs out of the library would name
        the folders above it, a user's among them; docs/privacy.md)."""
        parts = PurePosixPath(self.path).parts
        return self.path if ".." not in parts and not PurePosixPath(self.path).is_absolute() \
            else PurePosixPath(self.path).name

    def to_dict(self) -> dict:
        """The fields as JSON-ready values, the analysis nested."""
        out = asdict(self)
        out["analysis"] = self.analysis.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Track:
        """The track stored by :meth:`to_dict`."""
        return cls(track_id=str(d["track_id"]), path=str(d["path"]), title=str(d["title"]),
                   size=int(d["size"]), mtime_ns=int(d["mtime_ns"]),
                   analysis=TrackAnalysis.from_dict(d["analysis"]),
                   rating=str(d.get("rating", DEFAULT_RATING)))
