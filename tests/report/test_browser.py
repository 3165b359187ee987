"""The HTML report opened in real headless Chromium: no console output, no requests, no
horizontal scroll at a desktop (1280 px) and a narrow (800 px) window."""

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib import image as mpimg

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and not os.environ.get("CI"):
    pytestmark.append(pytest.mark.skip(reason="chromium is not installed (make install-browser)"))


def _chromium(tmp_path, *args):
    return [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]


# Measured after layout (on load, so images are sized); written into the DOM that
# --dump-dom prints. The copy of the page allows this one inline script in its CSP.
_MEASURE = """<script>
window.addEventListener("load", () => {
  const root = document.documentElement, wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible")
      wide.push(el.tagName + ":" + el.scrollWidth + ">" + el.clientWidth);
    const box = el.getBoundingClientRect();
    if (box.right > root.clientWidth + 1) wide.push(el.tagName + " ends at " + box.right);
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 20)});
  document.body.appendChild(out);
});
</script>"""


def measure_width(html, tmp_path, width):
    """Open a copy of ``html`` at ``width`` px; return the page's widths and overflowing parts."""
    text = html.read_text(encoding="utf-8")
    text = text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    page = tmp_path / f"measure-{width}.html"
    page.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        _chromium(tmp_path, f"--window-size={width},900", "--dump-dom", page.resolve().as_uri()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.S)
    assert found, "the measuring script did not run"
    return json.loads(
        found.group(1).replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")
    )


def open_in_chromium(html, tmp_path):
    """Load ``html`` headless; return console lines, page-initiated URLs and a screenshot."""
    shot, netlog = tmp_path / "shot.png", tmp_path / "net.json"
    proc = subprocess.run(
        _chromium(
            tmp_path,
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={netlog}",
            "--window-size=1280,1800",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            html.resolve().as_uri(),
        ),
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


def test_width_detector_sees_a_page_wider_than_the_window(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text(
        '<html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '</head><body><div style="width:1500px">wide</div></body></html>'
    )
    measured = measure_width(page, tmp_path, 800)
    assert measured["scrollWidth"] > measured["clientWidth"]
    assert measured["wide"]


@pytest.mark.parametrize("width", [1280, 800])
def test_report_has_no_horizontal_scroll(run_project, tmp_path, width):
    measured = measure_width(run_project / "report/report.html", tmp_path, width)
    assert measured["innerWidth"] == width
    assert measured["scrollWidth"] <= measured["clientWidth"], measured
    assert measured["wide"] == [], measured
