"""Everything the data home holds about one subject: found, exported, or erased.

A subject's data is its session folders (``sub-<S>_...`` whose session.json names it) and
its folder ``subjects/<S>/`` (stored baseline, music library and ratings, outcomes, course,
progress reports). Folders written elsewhere with ``--out`` are the user's to find.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from neurofeed.errors import InvalidArgumentError, SessionFolderError
from neurofeed.folder import SESSION_FILE, read_session_json
from neurofeed.home import check_subject, data_home, make_home, subject_dir, unless_written


def subject_sessions(subject: str, home: Path | None = None) -> list[tuple[Path, dict | None]]:
    """The session folders of ``subject`` under the data home, each with its session.json
    (None when damaged: a folder named for the subject is theirs all the same)."""
    home = Path(home) if home is not None else data_home()
    check_subject(subject)
    found = []
    for meta_file in sorted(home.glob(f"sub-{subject}_*/{SESSION_FILE}")):
        try:
            meta = read_session_json(meta_file.parent)
        except SessionFolderError:
            meta = None
        if meta is None or meta.get("subject") == subject:
            found.append((meta_file.parent, meta))
    return found


def subject_paths(subject: str, home: Path | None = None) -> list[Path]:
    """The session folders and the subject folder of ``subject`` under the data home."""
    folder = subject_dir(subject, home)
    return [path for path, _ in subject_sessions(subject, home)] + ([folder] if folder.is_dir() else [])


def export_subject(subject: str, out: Path, home: Path | None = None) -> list[Path]:
    """Copy everything held about ``subject`` into ``out/<subject>/``; return what was copied.

    Raises
    ------
    InvalidArgumentError
        When nothing is held about the subject, or ``out/<subject>`` exists already.
    """
    paths = subject_paths(subject, home)
    if not paths:
        raise InvalidArgumentError(f"the data home holds nothing about subject {subject!r}")
    target = Path(out) / subject
    if target.exists():
        raise InvalidArgumentError(f"--out {str(target)!r} exists; accepted: a folder without "
                                   f"{subject}/ in it")
    make_home(target)
    for path in paths:
        shutil.copytree(path, target / ("subject" if path.name == subject else "sessions/" + path.name))
    return paths


def erase_subject(subject: str, home: Path | None = None) -> list[Path]:
    """Remove everything held about ``subject``; return what was removed.

    Raises
    ------
    InvalidArgumentError
        When nothing is held about the subject, or one of its sessions is still being written.
    """
    paths = subject_paths(subject, home)
    if not paths:
        raise InvalidArgumentError(f"the data home holds nothing about subject {subject!r}")
    for path in paths:
        with unless_written(path) as free:
            if not free:
                raise InvalidArgumentError(f"session {path.name} of subject {subject!r} is still being "
                                           "written; stop it first; nothing was removed")
    for path in paths:
        shutil.rmtree(path)
    return paths
