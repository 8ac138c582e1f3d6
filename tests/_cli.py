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


def run_in_mount_namespace(mount: str, script: str, env: dict | None = None,
                           **kwargs) -> subprocess.CompletedProcess:
    """Run ``mount`` then the shell ``script`` in a private mount namespace (``unshare -m``).

    For read-only mounts and full disks, which need root: the test is skipped, saying why,
    where there is no root, no unshare, or mounting is not allowed. ``env`` is as for
    :func:`run_cli`.
    """
    import shutil

    import pytest

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting needs root and unshare -m (a private mount namespace); as root, "
                    "permission bits alone do not stop writes")
    env = {**os.environ, "PYO_GUI_WX": "0", "OPENBLAS_NUM_THREADS": "1", "NEUROFEED_HOME": _TEST_HOME,
           **(env or {})}
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"{mount} || exit 99\n{script}"], env=env,
                          capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode == 99:
        pytest.skip(f"mounting is not allowed here: {done.stderr.strip()}")
    return done
