"""The music library on disk: the clinic's, and each client's, as one ``library.json`` each.

A library stores what its tracks measured and how the client rated them, never the audio:
each track's file is named by its path relative to the library folder, so a library and
the music beside it can move together, and nothing of the music is copied into the data home.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from neurofeed._check import check_option
from neurofeed.errors import InvalidArgumentError
from neurofeed.library.analysis import ANALYSIS_VERSION
from neurofeed.library.batch import analyse_files, audio_files, file_id
from neurofeed.library.track import RATINGS, Track

#: The file of a library, in its folder.
LIBRARY_FILE = "library.json"
#: The folder of a library, under the data home (clinic) or a subject's folder (one client).
LIBRARY_DIR = "library"
#: The layout of ``library.json``; a newer one is refused.
LIBRARY_SCHEMA = 1
#: Shortest unique id prefix accepted by :meth:`Library.find`.
MIN_ID_PREFIX = 6


def library_folder(subject: str | None = None, home: Path | None = None) -> Path:
    """The folder of the clinic's library (``subject`` None) or of one client's.

    ``<data home>/library`` or ``<data home>/subjects/<subject>/library``; nothing is created.
    """
    from neurofeed.home import data_home, subject_dir

    if subject is None:
        return Path(home or data_home()) / LIBRARY_DIR
    return subject_dir(subject, home) / LIBRARY_DIR


@dataclass
class AddReport:
    """What :meth:`Library.add` did: tracks analysed for the first time, re-analysed or moved,
    left as they were, and paths that failed with a one-line reason each."""

    added: list[Track] = field(default_factory=list)
    updated: list[Track] = field(default_factory=list)
    unchanged: list[Track] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Library:
    """One library: its tracks (by id), and ratings of other libraries' tracks (by id).

    Use :meth:`open`; change it with :meth:`add`, :meth:`remove` and :meth:`rate`, then
    :meth:`save`.

    Attributes
    ----------
    folder : Path
        Where ``library.json`` lives; track paths are relative to it.
    subject : str or None
        The client, or None for the clinic's library.
    """

    def __init__(self, folder: Path, subject: str | None, home: Path | None = None):
        self.folder = Path(folder)
        self.subject = subject
        self._home = home
        self._tracks: dict[str, Track] = {}
        self._versions: dict[str, int] = {}
        # Ratings of tracks held by the clinic's library, given for this client.
        self._ratings: dict[str, str] = {}

    @classmethod
    def open(cls, subject: str | None = None, home: Path | None = None) -> Library:
        """The library of ``subject`` (None: the clinic's), empty if none is stored yet."""
        library = cls(library_folder(subject, home), subject, home)
        path = library.folder / LIBRARY_FILE
        if not path.is_file():
            return library
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            if int(content.get("schema", 0)) > LIBRARY_SCHEMA:
                raise InvalidArgumentError(f"library {str(path)!r} is of a newer neurofeed (schema "
                                           f"{content['schema']}); accepted: schema {LIBRARY_SCHEMA}")
            for entry in content.get("tracks", []):
                track = Track.from_dict(entry)
                library._tracks[track.track_id] = track
                library._versions[track.track_id] = int(entry.get("analysis_version", 0))
            library._ratings = {str(k): str(check_option("rating", v, RATINGS))
                                for k, v in content.get("ratings", {}).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            if isinstance(err, InvalidArgumentError):
                raise
            raise InvalidArgumentError(f"library {str(path)!r} cannot be read ({type(err).__name__}: "
                                       f"{' '.join(str(err).split())}); move it away to start a new "
                                       "one") from None
        return library

    @property
    def tracks(self) -> list[Track]:
        """The tracks, sorted by path."""
        return sorted(self._tracks.values(), key=lambda t: (t.path, t.track_id))

    @property
    def ratings(self) -> dict[str, str]:
        """Ratings of tracks held by the clinic's library, by track id (a client's library only)."""
        return dict(self._ratings)

    def resolve(self, track: Track) -> Path:
        """The absolute path of the track's audio file."""
        return Path(os.path.normpath(self.folder.absolute() / track.path))

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(self.folder))).as_posix()

    def find(self, name: str) -> Track:
        """The track named by its id (or a unique prefix of at least 6 digits), relative path or title.

        Raises
        ------
        InvalidArgumentError
            Naming ``name`` and the closest titles.
        """
        return _find(self.tracks, str(name), self._where())

    def _where(self) -> str:
        return "the clinic's library" if self.subject is None else f"the library of {self.subject}"

    def add(self, paths, *, jobs: int | None = None, progress: bool = False) -> AddReport:
        """Analyse audio files (folders are searched recursively) into the library.

        Incremental: a file whose size and modification time are as stored, or whose content
        hash is, is not analysed again unless its analysis is older than
        :data:`~neurofeed.library.analysis.ANALYSIS_VERSION`. A file that moved (the same
        content at another path, the old path gone) keeps its analysis and rating. Files that
        fail are reported, each with a one-line reason, and never stop the others. Call
        :meth:`save` to store the result.

        Parameters
        ----------
        paths : iterable of str or Path
            Audio files and folders.
        jobs : int or None
            Worker processes for the analyses (default ``os.cpu_count()``).
        progress : bool
            A progress bar on stderr when it is a terminal.
        """
        report = AddReport()
        by_path = {t.path: t for t in self._tracks.values()}
        pending: dict[str, tuple[str, str, os.stat_result, Track | None]] = {}
        for given in (paths if not isinstance(paths, str | Path) else [paths]):
            for file, reason in _expand(Path(given)):
                if reason is not None:
                    report.failed.append((str(given if file is None else file), reason))
                    continue
                rel = self._relative(file)
                try:
                    stat = file.stat()
                    old = by_path.get(rel)
                    if old is not None and self._current(old) and (old.size, old.mtime_ns) == \
                            (stat.st_size, stat.st_mtime_ns):
                        report.unchanged.append(old)
                        continue
                    track_id = file_id(file)
                except OSError as err:
                    report.failed.append((str(file), f"unreadable: {err.strerror or err}"))
                    continue
                known = self._tracks.get(track_id)
                if known is not None and self._current(known):
                    if known.path == rel or not self.resolve(known).exists():
                        # Touched, or moved: the same content, its analysis and rating kept.
                        moved = known.path != rel
                        known = replace(known, path=rel, title=file.stem, size=stat.st_size,
                                        mtime_ns=stat.st_mtime_ns)
                        self._tracks[track_id] = known
                    else:  # a copy of a track at another path: listed once
                        moved = False
                    (report.updated if moved else report.unchanged).append(known)
                    continue
                pending[str(file)] = (rel, track_id, stat, old if old is not None else known)
        results = analyse_files(list(pending), jobs=jobs, progress=progress)
        for file, result in results.items():
            rel, track_id, stat, old = pending[file]
            if isinstance(result, str):
                report.failed.append((file, result))
                continue
            if old is not None:
                self._tracks.pop(old.track_id, None)
            rating = old.rating if old is not None else self._ratings.get(track_id, "neutral")
            track = Track(track_id=track_id, path=rel, title=Path(file).stem, size=stat.st_size,
                          mtime_ns=stat.st_mtime_ns, analysis=result, rating=rating)
            self._tracks[track_id] = track
            self._versions[track_id] = ANALYSIS_VERSION
            (report.updated if old is not None else report.added).append(track)
        return report

    def _current(self, track: Track) -> bool:
        return self._versions.get(track.track_id, 0) >= ANALYSIS_VERSION

    def remove(self, name: str) -> Track:
        """Take a track out of the library (its file is left alone); returns it."""
        track = self.find(name)
        del self._tracks[track.track_id]
        self._versions.pop(track.track_id, None)
        return track

    def rate(self, name: str, rating: str) -> Track:
        """Rate a track ``liked``, ``neutral`` or ``disliked``; returns it with the rating.

        In a client's library, a track of the clinic's library may be rated too: the rating is
        kept in the client's library, by track id.
        """
        rating = str(check_option("rating", rating, RATINGS))
        try:
            track = self.find(name)
        except InvalidArgumentError:
            if self.subject is None:
                raise
            clinic = Library.open(None, self._home)
            try:
                track = clinic.find(name)
            except InvalidArgumentError:
                raise InvalidArgumentError(f"track {name!r} is in neither {self._where()} nor the "
                                           "clinic's library; see 'neurofeed library list'") from None
            self._ratings[track.track_id] = rating
            return replace(track, rating=rating)
        rated = replace(track, rating=rating)
        self._tracks[track.track_id] = rated
        return rated

    def save(self) -> None:
        """Store the library atomically, creating its folder readable by its owner only."""
        from neurofeed.folder import write_json
        from neurofeed.home import make_home

        make_home(self.folder)
        write_json(self.folder / LIBRARY_FILE, {
            "schema": LIBRARY_SCHEMA,
            "tracks": [{**t.to_dict(), "analysis_version": self._versions.get(t.track_id, 0)}
                       for t in self.tracks],
            "ratings": dict(sorted(self._ratings.items())),
        })


def _expand(path: Path):
    """Yield ``(file, None)`` for each file ``path`` names, or ``(None, reason)``."""
    if path.is_dir():
        files = audio_files(path)
        if not files:
            yield None, "a folder with no audio files (searched recursively for " \
                        "WAV, FLAC, OGG, Opus, MP3 and AIFF)"
        for file in files:
            yield file, None
    elif not path.exists():
        yield None, "not found"
    else:
        yield path, None


def _find(tracks: list[Track], name: str, where: str) -> Track:
    for matches in ([t for t in tracks if t.track_id == name],
                    [t for t in tracks if len(name) >= MIN_ID_PREFIX and t.track_id.startswith(name)],
                    [t for t in tracks if t.path == Path(name).as_posix()],
                    [t for t in tracks if t.title == name]):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgumentError(f"track {name!r} names {len(matches)} tracks in {where}: "
                                       f"{', '.join(t.track_id for t in matches)}; give its id")
    close = difflib.get_close_matches(name, [t.title for t in tracks], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InvalidArgumentError(f"track {name!r} is not in {where}{hint}; accepted: an id (or its first "
                               f"{MIN_ID_PREFIX}+ digits), a path as listed or a title; see "
                               "'neurofeed library list'")


def session_tracks(subject: str | None, home: Path | None = None) -> list[tuple[Track, Path]]:
    """The tracks a playlist session for ``subject`` may play, each with its absolute path.

    The client's own tracks and the clinic's, deduplicated by track id (the client's entry
    wins), with the client's ratings applied; sorted by path. Empty if there are none.
    """
    clinic = Library.open(None, home)
    merged = {t.track_id: (t, clinic.resolve(t)) for t in clinic.tracks}
    if subject is not None:
        client = Library.open(subject, home)
        merged.update({t.track_id: (t, client.resolve(t)) for t in client.tracks})
        for track_id, rating in client.ratings.items():
            if track_id in merged:
                track, path = merged[track_id]
                merged[track_id] = (replace(track, rating=rating), path)
    return sorted(merged.values(), key=lambda tp: (str(tp[1]), tp[0].track_id))
