"""Where sessions and per-subject data live, and what a session folder is called."""

from __future__ import annotations

import os
import platform
import re
from datetime import datetime
from importlib import metadata
from pathlib import Path

from neurofeed.errors import InvalidArgumentError

#: Environment variable that moves the data home away from ./recordings.
HOME_VARIABLE = "NEUROFEED_HOME"
#: Names that are safe as folder names everywhere: subjects and presets.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def data_home() -> Path:
    """Return the data home: ``$NEUROFEED_HOME`` when set, else ``recordings/`` here."""
    return Path(os.environ.get(HOME_VARIABLE) or "recordings")


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
    for name in ("neurofeed", "numpy", "scipy", "mne", "brainflow", "pylsl", "pyo", "mido"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
