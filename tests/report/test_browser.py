"""The HTML report opened in real headless Chromium: no console output, no requests."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib import image as mpimg

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytestmark.append(pytest.mark.skip(reason="chromium is not installed (make install-browser)"))


def open_in_chromium(html, tmp_path):
    """Load ``html`` headless; return console lines, page-initiated URLs and a screenshot."""
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    proc = subprocess.run(
        [
            CHROMIUM or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={netlog}",
            "--window-size=1280,1800",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    events = json.loads(netlog.read_text())["events"]
    requests = sorted(
        {
            e["params"]["url"]
            for e in events
            if "url" in e.get("params", {})
            and str(e["params"].get("network_isolation_key", "")).startswith("file://")
        }
    )
    return console, requests, shot


def test_detector_sees_console_errors_and_external_requests(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><img src="http://example.invalid/a.png">'
        '<script>console.error("planted-error")</script></body></html>'
    )
    console, requests, _ = open_in_chromium(page, tmp_path)
    assert any("planted-error" in line for line in console)
    assert "http://example.invalid/a.png" in requests


def test_report_loads_cleanly_and_renders(run_project, tmp_path):
    console, requests, shot = open_in_chromium(run_project / "report/report.html", tmp_path)
    assert console == []
    assert requests == []
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    assert float(np.std(pixels)) > 0.05  # not blank: text, tables and plots
    assert len(np.unique((pixels * 255).astype(int).reshape(-1, 3), axis=0)) > 50
