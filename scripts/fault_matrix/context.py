"""Where the fault matrix finds the tool and the recordings, and where it works."""
from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Input files made from the real recordings (absent when ../shared/data/eeg is).
EEG_INPUTS = ("S001R01.edf", "S001R01_third.edf", "eye.arff", "obci_")


@dataclass
class Ctx:
    work: Path
    files: Path           # the bad input files
    run: Path             # one folder per case: run/<id> ($D), NEUROFEED_HOME=$D/home
    templates: Path       # a finished and a SIGKILLed session folder, copied per case
    eeg: Path | None      # the real recordings, or None when absent
    nf_argv: list[str]    # the neurofeed command
    py: str               # the venv's python

    @property
    def nf(self) -> str:
        return shlex.join(self.nf_argv)


def neurofeed_argv() -> list[str]:
    """The venv's neurofeed: the console script beside this python, else python -m neurofeed."""
    for cand in (Path(sys.executable).parent / "neurofeed", REPO / ".venv" / "bin" / "neurofeed"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return [str(cand)]
    return [sys.executable, "-m", "neurofeed"]


def make_ctx(work: Path) -> Ctx:
    work = work.resolve()
    eeg = (REPO.parent / "shared" / "data" / "eeg").resolve()
    return Ctx(work=work, files=work / "files", run=work / "run", templates=work / "templates",
               eeg=eeg if (eeg / "S001R01.edf").exists() else None, nf_argv=neurofeed_argv(),
               py=sys.executable)
