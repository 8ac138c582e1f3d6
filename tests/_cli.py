"""Run the real ``neurofeed`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

#: The data home of commands run without one: never the user's own (``make test`` sets
#: NEUROFEED_HOME to the repository's recordings/; a bare pytest gets this folder).
_TEST_HOME = os.environ.get("NEUROFEED_HOME") or tempfile.mkdtemp(prefix="neurofeed-test-home-")


def run_cli(*args: str, timeout: float = 120, env: dict | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m neurofeed ARGS`` and return the completed process (text output).

    ``env`` adds to (or overrides) this process's environment. Without NEUROFEED_HOME
    anywhere, the command's data home is a temporary folder shared by this test process.
    """
    env = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1", "NEUROFEED_HOME": _TEST_HOME,
           **(env or {})}
    return subprocess.run([sys.executable, "-m", "neurofeed", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, **kwargs)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Assert exit status 2, a single-line error naming ``fragments``, and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
