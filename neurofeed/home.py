"""Where sessions and per-subject data live, and what a session folder is called.

The data home is one folder per user, so that ``neurofeed progress`` finds a subject's
whole course wherever the commands ran: ``$NEUROFEED_HOME`` when set, else the platform's
per-user data folder (``~/.local/share/neurofeed`` on Linux, ``~/Library/Application
Support/neurofeed`` on macOS, ``%LOCALAPPDATA%\\neurofeed`` on Windows). It holds EEG and
subject identifiers, so neurofeed creates it readable by its owner only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from neurofeed.errors import InvalidArgumentError
from neurofeed.folder import BASELINE_FILE, LOCK_FILE, SESSION_FILE

#: Environment variable that moves the data home (the repository's Makefile sets it to recordings/).
HOME_VARIABLE = "NEUROFEED_HOME"
#: Permissions of a data home neurofeed creates: owner only (EEG is health data).
HOME_MODE = 0o700
#: Names that are safe as folder names everywhere: subjects and presets.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def data_home() -> Path:
    """Return the data home: ``$NEUROFEED_HOME`` when set, else the per-user data folder.

    Nothing is created; :func:`make_home` creates it.
    """
    if os.environ.get(HOME_VARIABLE):
        return Path(os.environ[HOME_VARIABLE])
    import platformdirs

    return Path(platformdirs.user_data_dir("neurofeed", appauthor=False))


def check_home() -> Path:
    """Check, before anything starts, that the data home can be created and written.

    Raises :class:`~neurofeed.errors.InvalidArgumentError` in one line naming it (and
    ``NEUROFEED_HOME`` when that is where it comes from).
    """
    from neurofeed.folder import check_output_folder

    name = HOME_VARIABLE if os.environ.get(HOME_VARIABLE) else "the data home"
    return check_output_folder(data_home(), name=name)


def make_home(home: Path | None = None) -> Path:
    """Create the data home (or ``home``) if missing, readable by its owner only; return it.

    Missing parents are created with the same mode. An existing folder keeps the
    permissions its owner gave it.
    """
    home = Path(home) if home is not None else data_home()
    missing = [p for p in (home, *home.parents) if not p.exists()]
    home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(HOME_MODE)  # mkdir's mode is masked by the umask
    return home


def check_subject(subject: str) -> str:
    """Return ``subject`` if it is a safe folder name, else raise naming what is accepted."""
    if not isinstance(subject, str) or not SAFE_NAME.match(subject):
        raise InvalidArgumentError(f"--subject {subject!r} is not accepted; use 1-64 letters, "
                                   "digits, '-' or '_', starting with a letter or digit")
    return subject


def subject_dir(subject: str, home: Path | None = None) -> Path:
    """Return the folder of one subject's data (baselines) under the data home."""
    return (home or data_home()) / "subjects" / check_subject(subject)


def session_folder(out: Path, subject: str, label: str, started: datetime) -> Path:
    """Return a new ``out/sub-<subject>_<YYYYmmdd-HHMMSS>_<label>`` (``-2``, ``-3``... when taken)."""
    stem = Path(out) / f"sub-{check_subject(subject)}_{started:%Y%m%d-%H%M%S}_{label}"
    folder, n = stem, 1
    while folder.exists():
        n += 1
        folder = stem.with_name(f"{stem.name}-{n}")
    return folder


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a session's numbers depend on."""
    versions = {"python": platform.python_version()}
    for name in ("neurofeed", "numpy", "scipy", "mne", "brainflow", "pylsl", "pyo", "mido", "librosa",
                 "soundfile"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


#: The folder of the data home that a session being imported is copied into, before it is
#: renamed into place (a session folder one level deeper is no session of the home).
_IMPORTING_DIR = ".importing"


@contextlib.contextmanager
def unless_written(folder: Path):
    """Yield False while a process holds the folder's :class:`neurofeed.folder.FolderLock`
    (a session still writing it), else True, holding a shared lock meanwhile.

    Read-only: a folder without a lock file has no writer (the recorder creates it), and
    one with a lock file is opened for reading only, so folders on read-only media import.
    """
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            free = False
        except OSError:  # no locks on this file system (some network mounts): no writer seen
            free = True
        else:
            free = True
        yield free
    finally:
        os.close(fd)  # releases the lock


@dataclass
class Imported:
    """What :func:`import_sessions` did: folder names brought in, and those left out."""

    sessions: list[str] = field(default_factory=list)
    baselines: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)


def import_sessions(source, home: Path | None = None, *, move: bool = False) -> Imported:
    """Bring session folders (and stored baselines) from ``source`` into the data home.

    For folders written to ``./recordings`` by versions before the per-user data home.
    A session whose folder name is already in the home is left where it is, as is a
    subject's baseline when the home already has one: nothing in the home is replaced. A
    session still being written (its :class:`neurofeed.folder.FolderLock` held) is left
    out too. The source is only read (it may be on read-only media), unless ``move``; each
    session is copied into a temporary folder of the home, then renamed into place.

    Parameters
    ----------
    source : path-like
        A folder of session folders (each holding ``session.json``), optionally with
        ``subjects/<subject>/baseline.json``.
    home : Path or None
        The destination; default :func:`data_home`.
    move : bool
        Move instead of copy.
    """
    source = Path(source)
    if not source.is_dir():
        raise InvalidArgumentError(f"DIR {str(source)!r} is not a folder; accepted: a folder of "
                                   "session folders, such as ./recordings")
    home = make_home(home)
    if source.resolve() == home.resolve():
        raise InvalidArgumentError(f"DIR {str(source)!r} is the data home itself; nothing to import")
    sessions = sorted(p for p in source.iterdir() if (p / SESSION_FILE).is_file())
    baselines = sorted(source.glob(f"subjects/*/{BASELINE_FILE}"))
    if not sessions and not baselines:
        raise InvalidArgumentError(f"DIR {str(source)!r} holds no session folders (folders with "
                                   f"{SESSION_FILE}); accepted: a folder such as ./recordings")
    done = Imported()
    for folder in sessions:
        target = home / folder.name
        if target.exists():
            done.existing.append(folder.name)
            continue
        with unless_written(folder) as free:
            if not free:  # a session still writes it: not ours to take
                done.running.append(folder.name)
                continue
            # Into a temporary name, then renamed into place: a copy that fails half-way
            # (a full disk, an unreadable file) is never taken for an imported session,
            # and the next import replaces what it left.
            partial = home / _IMPORTING_DIR / folder.name
            if partial.exists():
                shutil.rmtree(partial)
            partial.parent.mkdir(exist_ok=True)
            if move:
                shutil.move(folder, partial)
                with contextlib.suppress(FileNotFoundError):
                    (partial / LOCK_FILE).unlink()
            else:
                shutil.copytree(folder, partial, ignore=shutil.ignore_patterns(LOCK_FILE))
            os.rename(partial, target)
        with contextlib.suppress(OSError):
            partial.parent.rmdir()  # only once empty
        done.sessions.append(folder.name)
    for baseline in baselines:
        target = subject_dir(baseline.parent.name, home) / BASELINE_FILE
        if target.exists():
            done.existing.append(f"subjects/{baseline.parent.name}/{BASELINE_FILE}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.move if move else shutil.copy2)(baseline, target)
        done.baselines.append(baseline.parent.name)
    return done
