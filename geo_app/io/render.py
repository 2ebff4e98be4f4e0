"""HTML pages to PDF and PNG with headless Chromium (a subprocess; no network needed).

The maps are offline pages (Leaflet inlined, blank base tiles), so Chromium renders
them from a temporary file. ``Settings.chromium`` (the ``GEO_APP_CHROMIUM`` environment
variable) names the browser when it is not on the ``PATH`` as chromium, chromium-browser or
google-chrome.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from geo_app.config import Settings

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_CHROMIUM = "no Chromium found: install chromium for PDF/PNG export"

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions",
          "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
          "--hide-scrollbars", "--mute-audio")


def find_chromium(settings: Settings | None = None) -> str | None:
    """Path of a Chromium-like browser: ``settings.chromium`` if set (default settings:
    :meth:`Settings.from_env`, so ``$GEO_APP_CHROMIUM``), else the first of chromium,
    chromium-browser, google-chrome on the ``PATH``; None if there is none."""
    given = (Settings.from_env() if settings is None else settings).chromium
    if given:
        return shutil.which(given) or (given if Path(given).is_file() else None)
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(html: str, out_name: str, flags: list[str], timeout_s: float) -> bytes:
    """Render ``html`` from a temporary file with ``flags`` (``{out}`` is the output path)
    and return the bytes Chromium wrote. Raises ``RuntimeError`` with its stderr tail."""
    browser = find_chromium()
    if browser is None:
        raise RuntimeError(NO_CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="cq_render_") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / out_name
        page.write_text(html, encoding="utf-8")
        cmd = [browser, *_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--crash-dumps-dir={tmp}", *(f.format(out=out) for f in flags), page.as_uri()]
        # its own session, so that a timeout ends the browser's helper processes too
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, cwd=tmp)
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            raise RuntimeError(f"Chromium ({browser}) did not finish within {timeout_s:g} s: "
                               f"{_tail(err)}") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            raise RuntimeError(f"Chromium ({browser}) failed (exit {proc.returncode}) to write "
                               f"{out_name}: {_tail(err)}")
        return out.read_bytes()


def _tail(err: bytes, n: int = 800) -> str:
    text = err.decode("utf-8", "replace").strip()
    return ("…" + text[-n:] if len(text) > n else text) or "(no output on stderr)"


def html_to_pdf(html: str, *, timeout_s: float = 60) -> bytes:
    """The page printed to PDF (A4 unless the page's CSS says otherwise; no header or
    footer). ``timeout_s``: seconds. Raises ``RuntimeError`` without Chromium or when it
    fails."""
    return _run(html, "page.pdf", ["--no-pdf-header-footer", "--run-all-compositor-stages-"
                                   "before-draw", "--virtual-time-budget=2000",
                                   "--print-to-pdf={out}"], timeout_s)


def html_to_png(html: str, *, width: int = 1200, height: int = 800, wait_ms: int = 1500,
                timeout_s: float = 60) -> bytes:
    """A ``width`` × ``height`` pixel screenshot of the page, after ``wait_ms`` of
    (virtual) time for scripts such as Leaflet to draw. ``timeout_s``: seconds. Raises
    ``RuntimeError`` without Chromium or when it fails."""
    if width <= 0 or height <= 0:
        raise ValueError(f"the image size must be positive pixels, got {width} × {height}")
    return _run(html, "page.png", [f"--window-size={int(width)},{int(height)}",
                                   f"--virtual-time-budget={int(wait_ms)}",
                                   "--run-all-compositor-stages-before-draw",
                                   "--screenshot={out}"], timeout_s)
