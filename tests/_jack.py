"""A private JACK server on the dummy driver: a real real-time audio clock with no sound card.

Import the fixture into a test module with ``from _jack import jack_server  # noqa: F401``.
Each use starts ``jackd -n <private name> -d dummy``, waits until it accepts clients, points
``$JACK_DEFAULT_SERVER`` at it, and stops it by its pid afterwards. It needs no real-time
privileges. Where ``jackd`` is missing the test skips, saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLE_RATE = 44100
PERIOD = 256


@dataclass
class JackServer:
    """A running dummy JACK server: its name, pid and log file."""

    name: str
    pid: int
    log: Path

    def logged_xruns(self) -> int:
        """Xruns jackd has written to its log so far (one ``XRun`` line each)."""
        return sum("XRun" in line for line in self.log.read_text(errors="replace").splitlines())


@pytest.fixture
def jack_server(tmp_path, monkeypatch):
    if shutil.which("jackd") is None or shutil.which("jack_wait") is None:
        pytest.skip("jackd is not installed (make test installs Debian's jackd2 through "
                    "scripts/install-system-deps.sh)")
    name = f"neurofeed-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    log = tmp_path / "jackd.log"
    with open(log, "w") as out:
        process = subprocess.Popen(["jackd", "-n", name, "-d", "dummy",
                                    "-r", str(SAMPLE_RATE), "-p", str(PERIOD)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        waited = subprocess.run(["jack_wait", "-w", "-t", "10"], env=env, capture_output=True, text=True,
                                timeout=30)
        if waited.returncode != 0 or process.poll() is not None:
            pytest.fail(f"jackd -n {name} -d dummy did not start: {log.read_text(errors='replace')[-500:]}")
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        monkeypatch.setenv("JACK_NO_START_SERVER", "1")
        yield JackServer(name, process.pid, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
