"""The reports in a real headless browser (Debian's chromium): they load, decode and show figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

import matplotlib.image
import numpy as np
import pytest
from _session_fixture import write_session

from neurofeed.report import build_progress, build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                                "'chromium'; 'make test' installs it where it can)")
WIDTH, HEIGHT = 1280, 3000
#: The blue of posterior alpha and tempo traces (Okabe-Ito), as 0-1 RGB.
TRACE_BLUE = np.array([0x00, 0x72, 0xB2]) / 255


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def _loaded_dom(tmp_path, page) -> dict[str, str]:
    """The <body> attributes the page's check script sets once loaded."""
    result = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", result.stdout).group(1)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', body))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    sessions = [write_session(out, alpha_gain=gain, seed=i,
                              started=datetime(2026, 11, 2 + 7 * i, 10, tzinfo=UTC))
                for i, gain in enumerate((1.3, 1.6))]
    return build_report(sessions[-1]), build_progress("S01", home=out)


def test_session_report_renders_with_every_figure(reports, tmp_path):
    page = reports[0]
    body = _loaded_dom(tmp_path, page)
    assert "data-errors" not in body
    assert body["data-images-total"] == body["data-images-loaded"] == "5"

    shot = tmp_path / "session-report.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    assert pixels.std() > 0.1  # not blank
    blue = np.all(np.abs(pixels - TRACE_BLUE) < 0.06, axis=-1)
    rows_with_traces = np.flatnonzero(blue.any(axis=1))
    # Alpha traces appear in the features figure and tempo further down in the music figure.
    assert blue.sum() > 2000 and np.ptp(rows_with_traces) > 800


def test_progress_report_renders(reports, tmp_path):
    body = _loaded_dom(tmp_path, reports[1])
    assert "data-errors" not in body
    assert body["data-images-total"] == body["data-images-loaded"] == "1"
