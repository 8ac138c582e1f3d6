"""The client's own tracks in a playlist session: which played when, and the EEG during each.

Read from the session folder's ``tracks.tsv`` (one row per track as the protocol chose it,
:meth:`neurofeed.protocol.playlist.Cue.to_row`) and ``playlist.json`` (the tracks the
session could play). Pure numbers, no matplotlib.

Definitions (times are session seconds):

- A track **plays** from its ``onset_s`` (the start of its crossfade in, or of the first
  track's fade-in) until the next track's ``onset_s + fade_s`` (the end of the crossfade
  between them); the last one until the session's end. Rows whose onset is at or after the
  session's end (chosen as it ended) never played and are left out; a span is cut at the
  session's end. **Played** is that span's length, crossfades included, so two tracks
  overlap during a crossfade.
- A track's **mean z** is the mean of the smoothed feedback z-score (``feedback_z``) over
  the hops with an estimate in which it was the louder track: from the middle of its
  crossfade in (an equal-power crossfade's crossing; the first track from its onset) to
  the middle of the next one's, or the session's end. None when no such hop has a z-score
  (the baseline phase has none).
- **Tempo start/end**: the analysed tempo of the first and the last track played.

Only names and paths relative to the library are kept: a path recorded as absolute is
reduced to its file name, so no report or summary shows where a client keeps music.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from neurofeed.errors import SessionFolderError
from neurofeed.folder import PLAYLIST_FILE, TRACKS_FILE, read_rows
from neurofeed.protocol.playlist import REASONS

#: tracks.tsv's text columns; every other column is a number (``n/a`` read as NaN).
TEXT_COLUMNS = ("reason", "track_id", "path", "title", "rating", "key", "quality", "mode")
#: The tracks.tsv columns the report cannot do without.
REQUIRED_COLUMNS = ("onset_s", "fade_s", "reason", "track_id", "path", "title", "tempo_bpm")


def relative_path(path: str) -> str:
    """``path`` as a report may show it: as recorded when relative, else its file name alone."""
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute() or path.startswith("~"):
        return PureWindowsPath(path).name  # splits on both / and \
    return path


def read_tracks(folder) -> list[dict]:
    """The rows of a session's ``tracks.tsv`` in onset order, paths made safe by
    :func:`relative_path`; [] when the session has none.

    Raises
    ------
    SessionFolderError
        When a required column is missing or a number does not parse.
    """
    path = Path(folder) / TRACKS_FILE
    header, rows, _ = read_rows(path)
    if not header:
        return []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise SessionFolderError(f"{str(path)!r} is damaged: it has no column {', '.join(missing)}")
    tracks = []
    for row in rows:
        track = {}
        for name, cell in zip(header, row):
            if name in TEXT_COLUMNS:
                track[name] = cell
                continue
            try:
                track[name] = math.nan if cell == "n/a" else float(cell)
            except ValueError:
                raise SessionFolderError(f"{str(path)!r} is damaged: {name} {cell[:40]!r} is not a "
                                         "number") from None
        track["path"] = relative_path(track["path"])
        tracks.append(track)
    return sorted(tracks, key=lambda t: t["onset_s"])


def read_playlist(folder) -> list[dict]:
    """The tracks a session could play, from its ``playlist.json``; [] when it has none.

    Raises
    ------
    SessionFolderError
        When the file is not JSON, or not ``{"tracks": [...]}``.
    """
    path = Path(folder) / PLAYLIST_FILE
    try:
        content = json.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except (OSError, ValueError, RecursionError) as err:
        raise SessionFolderError(f"{str(path)!r} is unreadable: {err}") from None
    tracks = content.get("tracks") if isinstance(content, dict) else None
    if not isinstance(tracks, list) or not all(isinstance(t, dict) for t in tracks):
        raise SessionFolderError(f'{str(path)!r} is damaged: {{"tracks": [...]}} was expected')
    return tracks


@dataclass(frozen=True)
class TrackPlayed:
    """One track as it played in the session (see module notes). Times in session seconds."""

    number: int
    track_id: str
    title: str
    path: str
    rating: str
    reason: str
    onset_s: float
    fade_s: float
    end_s: float
    louder_from_s: float
    louder_to_s: float
    tempo_bpm: float
    key: str
    quality: str
    mode: str
    followed: float
    mean_z: float | None

    @property
    def played_s(self) -> float:
        """Seconds it was heard, crossfades included."""
        return self.end_s - self.onset_s

    @property
    def tonality(self) -> str:
        """``G minor``, or the key alone when the quality was not found."""
        return f"{self.key} {self.quality}" if self.quality and self.quality != "n/a" else self.key


@dataclass(frozen=True)
class PlaylistSummary:
    """A playlist session's tracks and their numbers (see module notes).

    Attributes
    ----------
    tracks : tuple of TrackPlayed
        The tracks played, in order.
    reasons : dict
        How many of them were chosen for each of :data:`neurofeed.protocol.playlist.REASONS`.
    tempo_start_bpm, tempo_end_bpm : float or None
        The first and last track's tempo in BPM; None when no track played.
    n_different : int
        How many different tracks played (a repeat plays one again).
    n_offered : int
        The tracks the session could choose from (``playlist.json``).
    """

    tracks: tuple
    reasons: dict
    tempo_start_bpm: float | None
    tempo_end_bpm: float | None
    n_different: int
    n_offered: int

    def sentence(self) -> str:
        """The playlist in one sentence, for a report's headline."""
        offered = f" of the {self.n_offered} offered" if self.n_offered else ""
        if not self.tracks:
            return f"No track played{offered}."
        counts = ", ".join(f"{n} {reason}{'' if n == 1 else 'es' if reason == 'match' else 's'}"
                           for reason, n in self.reasons.items())
        return (f"{len(self.tracks)} tracks played, {self.n_different} different{offered} ({counts}); "
                f"tempo {self.tempo_start_bpm:.0f} to {self.tempo_end_bpm:.0f} BPM.")


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def summarise_playlist(rows: list[dict], offered: list, end_s: float, times_s: np.ndarray,
                       feedback_z: np.ndarray) -> PlaylistSummary:
    """The tracks of :func:`read_tracks` ``rows`` as they played in a session ending at
    ``end_s``, with the mean of ``feedback_z`` (NaN where a hop had none) at ``times_s``.

    ``offered`` is :func:`read_playlist`'s list. No I/O.
    """
    played = [row for row in rows if row["onset_s"] < end_s]
    louder = [min(row["onset_s"] + (row["fade_s"] / 2 if i else 0.0), end_s) for i, row in enumerate(played)]
    louder.append(end_s)
    tracks = []
    for i, row in enumerate(played):
        stop = played[i + 1]["onset_s"] + played[i + 1]["fade_s"] if i + 1 < len(played) else end_s
        during = (times_s >= louder[i]) & (times_s < louder[i + 1])
        tracks.append(TrackPlayed(
            number=i + 1, track_id=row["track_id"], title=row["title"], path=row["path"],
            rating=row.get("rating", "n/a"), reason=row["reason"], onset_s=row["onset_s"],
            fade_s=row["fade_s"], end_s=min(stop, end_s), louder_from_s=louder[i],
            louder_to_s=louder[i + 1], tempo_bpm=row["tempo_bpm"], key=row.get("key", "n/a"),
            quality=row.get("quality", "n/a"), mode=row.get("mode", "n/a"),
            followed=row.get("followed", math.nan), mean_z=_mean(feedback_z[during])))
    reasons = {reason: sum(t.reason == reason for t in tracks) for reason in REASONS}
    return PlaylistSummary(tuple(tracks), reasons, tracks[0].tempo_bpm if tracks else None,
                           tracks[-1].tempo_bpm if tracks else None, len({t.track_id for t in tracks}),
                           len(offered))
