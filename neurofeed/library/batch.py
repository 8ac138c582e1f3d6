"""Reading audio files and analysing many of them in parallel, each failure a one-line reason."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from neurofeed.errors import InvalidArgumentError
from neurofeed.library.analysis import analyse
from neurofeed.library.track import TrackAnalysis

#: File name endings searched for in a folder: what libsndfile reads (MP3 from libsndfile 1.1).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
#: Digits of the SHA-256 kept as a track's id (64 bits: no collision in any library).
TRACK_ID_DIGITS = 16
_HASH_BLOCK = 1 << 20


def file_id(path: Path) -> str:
    """The first :data:`TRACK_ID_DIGITS` hex digits of the file's SHA-256 (its content, not its name)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()[:TRACK_ID_DIGITS]


def read_audio(path) -> tuple[np.ndarray, int]:
    """Read an audio file with libsndfile (soundfile) as float64 at full scale 1.

    Returns
    -------
    samples : ndarray, shape (n, channels)
    sample_rate : int
        In Hz.

    Raises
    ------
    InvalidArgumentError
        One line: not found, a folder, unreadable (permissions), an unsupported format, or
        data that does not decode.
    """
    import soundfile

    path = Path(path)
    if not path.exists():
        raise InvalidArgumentError("not found")
    if path.is_dir():
        raise InvalidArgumentError("a folder, not an audio file")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise InvalidArgumentError(f"unsupported format {path.suffix or '(no extension)'!r}; "
                                   f"accepted: {', '.join(AUDIO_SUFFIXES)}")
    if not os.access(path, os.R_OK):
        raise InvalidArgumentError("unreadable: permission denied")
    try:
        samples, sample_rate = soundfile.read(path, dtype="float64", always_2d=True)
    except PermissionError:
        raise InvalidArgumentError("unreadable: permission denied") from None
    except (soundfile.LibsndfileError, RuntimeError, ValueError, EOFError, OSError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InvalidArgumentError(f"does not decode as audio ({reason})") from None
    if not np.isfinite(samples).all():
        raise InvalidArgumentError("does not decode as audio (samples that are not numbers)")
    return samples, int(sample_rate)


def audio_files(folder: Path) -> list[Path]:
    """The audio files (by :data:`AUDIO_SUFFIXES`) under ``folder``, recursively, sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def analyse_file(path) -> TrackAnalysis:
    """:func:`read_audio` then :func:`~neurofeed.library.analysis.analyse`; one-line errors."""
    samples, sample_rate = read_audio(path)
    return analyse(samples, sample_rate)


def _job(path: str) -> tuple[str, TrackAnalysis | None, str | None]:
    """One file in a worker: the analysis, or a one-line reason (never an exception)."""
    try:
        return path, analyse_file(path), None
    except InvalidArgumentError as err:
        return path, None, str(err)
    except Exception as err:  # a decoder's or analyser's fault on one file must not stop the batch
        return path, None, f"analysis failed ({type(err).__name__}: {' '.join(str(err).split())})"


def analyse_files(paths, *, jobs: int | None = None,
                  progress: bool = False) -> dict[str, TrackAnalysis | str]:
    """Analyse files in parallel; each path maps to its analysis or a one-line reason.

    Parameters
    ----------
    paths : iterable of str or Path
    jobs : int or None
        Worker processes (default ``os.cpu_count()``); 1 analyses in this process.
    progress : bool
        A progress bar on stderr (shown only when stderr is a terminal).
    """
    from tqdm import tqdm

    paths = [str(p) for p in paths]
    jobs = (os.cpu_count() or 1) if jobs is None else int(jobs)
    if jobs < 1:
        raise InvalidArgumentError(f"jobs must be at least 1, got {jobs}")
    # disable=None lets tqdm hide the bar when stderr is not a terminal (logs, CI).
    bar = tqdm(total=len(paths), unit="track", desc="analysing", file=sys.stderr,
               disable=None if progress else True, leave=False)
    out = {}
    with bar:
        if jobs == 1 or len(paths) <= 1:
            for path, analysis, reason in map(_job, paths):
                out[path] = analysis if reason is None else reason
                bar.update()
        else:
            # spawn: the workers start clean (no pyo server, no threads copied by fork).
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
                for path, analysis, reason in pool.map(_job, paths):
                    out[path] = analysis if reason is None else reason
                    bar.update()
    return out
