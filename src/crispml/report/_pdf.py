"""The report as PDF: headless Chromium prints the self-contained ``report.html``.

Why Chromium rather than a pure-Python renderer: the HTML report is the document the
reader sees, and it is already checked in Chromium (layout, no network request, no
console error); printing it with the same engine gives a PDF that looks exactly like
it, SVG plots included, with nothing to keep in step. Pure-Python routes either redraw
the document (a second layout to maintain) or render CSS and SVG partially. Chromium
is a system package (Debian's ``chromium``), not a Python dependency: when it is
missing the run records that the PDF was not written and why, and goes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from crispml._utils._io import atomic_write_bytes

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "CRISPML_CHROMIUM"
"""Environment variable naming the browser executable (else the first of BROWSERS found)."""
TIMEOUT_S = 180.0
_MSG_NO_BROWSER = (
    "no Chromium to print it with (looked for {names}); install Debian's chromium "
    "(apt-get install chromium) or set CRISPML_CHROMIUM, then run: crispml report RUN"
)


def find_browser() -> str | None:
    """Return the Chromium executable to print with, or ``None``.

    Examples
    --------
    >>> find_browser() is None or isinstance(find_browser(), str)
    True
    """
    named = os.environ.get(BROWSER_ENV)
    if named:
        return shutil.which(named)
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path, *, timeout_s: float = TIMEOUT_S) -> str | None:
    """Print ``html`` to ``pdf`` with headless Chromium.

    The PDF is written to a temporary file and moved into place only when it is a PDF,
    so a failed print never leaves a half-written file.

    Parameters
    ----------
    html : Path
        A self-contained HTML file.
    pdf : Path
        Where the PDF goes.
    timeout_s : float
        Longest wait for the browser.

    Returns
    -------
    str or None
        ``None`` when the PDF was written, else why not (one line).
    """
    browser = find_browser()
    if browser is None:
        return _MSG_NO_BROWSER.format(names=", ".join(BROWSERS))
    with tempfile.TemporaryDirectory(prefix="crispml-pdf-") as work:
        target = Path(work) / "out.pdf"
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # runs as root in containers and CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=timeout_s, check=False, text=True
            )
        except subprocess.TimeoutExpired:
            return f"{Path(browser).name} did not finish printing within {timeout_s:.0f} s"
        except OSError as exc:
            return f"{browser} could not be started ({exc.strerror or exc})"
        if not target.is_file() or target.read_bytes()[:5] != b"%PDF-":
            last = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            return f"{Path(browser).name} wrote no PDF (exit {done.returncode}: {last[0][:200]})"
        atomic_write_bytes(pdf, target.read_bytes())
    return None
