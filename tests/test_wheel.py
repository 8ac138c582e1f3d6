"""A wheel install runs a session: build the wheel, install it into a fresh venv, and run the
installed ``neurofeed`` from outside the repository.

The fresh venv has no pip and no packages of its own: a ``.pth`` file puts this venv's
site-packages (the dependencies) after its own, so no dependency is downloaded and only
the wheel's ``neurofeed`` can be imported (the editable install's hook lives in a ``.pth``
file of this venv, which Python does not process for a path added that way).

The wheel is built with this venv's build backend when it is the one pyproject.toml
asks for (then the test runs offline); otherwise pip fetches that backend into an
isolated build environment, as any ``pip wheel`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mne
from _session_fixture import CHANNELS, SFREQ, synthesise_eeg
from packaging.requirements import Requirement

from neurofeed.folder import RAW_FILE, SESSION_FILE, STATUS_FINALISED

REPO = Path(__file__).resolve().parents[1]
BUILT_INS = ("deep-theta", "iso-lift", "iso-playlist", "mood-asymmetry", "relax-alpha")


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def _has_build_backend() -> bool:
    """Whether this venv has every package of pyproject.toml's ``[build-system] requires``."""
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    try:
        return all(version(r.name) in r.specifier for r in map(Requirement, requires))
    except PackageNotFoundError:
        return False


def _wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the sources (a build writes build/ and *.egg-info beside them)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "neurofeed", source / "neurofeed", ignore=shutil.ignore_patterns("__pycache__"))
    isolation = ["--no-build-isolation"] if _has_build_backend() else []
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet", "-w", tmp_path / "dist",
         source)
    (wheel,) = (tmp_path / "dist").glob("neurofeed-*.whl")
    return wheel


def _venv(tmp_path: Path, wheel: Path) -> Path:
    """A fresh venv with the wheel installed; the dependencies are this venv's."""
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run(python, "-c", purelib).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip comes from this venv through the .pth; --ignore-installed never touches this venv's
    # editable neurofeed, which pip can see there.
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet", wheel)
    return venv


def test_a_wheel_install_lists_the_presets_and_runs_a_session(tmp_path):
    venv = _venv(tmp_path, _wheel(tmp_path))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYO_GUI_WX": "0",
           "OPENBLAS_NUM_THREADS": "1", "NEUROFEED_HOME": str(tmp_path / "home")}
    where = _run(venv / "bin" / "python", "-c", "import neurofeed; print(neurofeed.__file__)", cwd=outside,
                 env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the wheel's, not the repository's

    listed = _run(venv / "bin" / "neurofeed", "presets", cwd=outside, env=env).stdout
    assert [line.split()[0] for line in listed.splitlines()] == list(BUILT_INS)
    shown = _run(venv / "bin" / "neurofeed", "presets", "show", "relax-alpha", cwd=outside, env=env).stdout
    assert str(venv) in shown.splitlines()[0] and 'feature = "alpha_posterior"' in shown

    recording = tmp_path / "recording_raw.fif"
    mne.io.RawArray(synthesise_eeg(1.5, seed=0), mne.create_info(CHANNELS, SFREQ, "eeg"),
                    verbose="error").save(recording, verbose="error")
    _run(venv / "bin" / "neurofeed", "replay", recording, "--preset", "relax-alpha", "--duration", "20",
         "--baseline", "5", "--audio", "none", "--no-status", cwd=outside, env=env)
    (meta_file,) = (tmp_path / "home").rglob(SESSION_FILE)
    meta = json.loads(meta_file.read_text())
    assert meta["status"] == STATUS_FINALISED
    assert meta["preset"] == "relax-alpha" and meta["duration_s"] == 20.0
    raw = mne.io.read_raw_fif(meta_file.parent / RAW_FILE, verbose="error")
    assert raw.n_times == 20 * SFREQ
    assert (meta_file.parent / "report" / "report.html").is_file()
    assert not list(outside.iterdir())  # nothing lands in the folder the command ran in
