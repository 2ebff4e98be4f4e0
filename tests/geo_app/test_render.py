"""HTML to PNG and PDF with headless Chromium: real renders where Chromium is installed
(skipped otherwise, failing on CI), and the errors with stand-in browsers."""

from __future__ import annotations

import io
import re
import stat
import time

import pytest
from PIL import Image

from geo_app.io import render
from geo_app.io.render import find_chromium, html_to_pdf, html_to_png
from geo_app.maps.offline import render_offline
from geo_app.maps.siting import siting_map
from geo_app.workflows.siting import evaluate, siting_view

ZH_PAGE = ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><style>"
           "body{font-family:'Noto Sans CJK SC',sans-serif}</style></head><body>"
           "<h1>重庆15分钟生活圈</h1><p>社区服务(渝邻汇)覆盖率 90.2 %</p></body></html>")


def colours(png: bytes) -> tuple[tuple[int, int], int, float]:
    """Size (pixels), number of distinct colours and the share of the commonest one."""
    im = Image.open(io.BytesIO(png)).convert("RGB")
    counts = im.getcolors(im.width * im.height)
    return im.size, len(counts), max(n for n, _ in counts) / (im.width * im.height)


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.fixture
def browser(monkeypatch, chromium_path):
    monkeypatch.delenv("GEO_APP_CHROMIUM", raising=False)
    return chromium_path


def test_map_png_shows_the_map(browser, helsinki_siting):
    s = helsinki_siting
    ev = evaluate(s.run, s.result.sites)
    page = render_offline(siting_map(siting_view(s.run, s.result.sites, evaluation=ev), existing=s.existing))
    started = time.perf_counter()
    png = html_to_png(page, width=900, height=600)
    seconds = time.perf_counter() - started
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    size, n, top = colours(png)
    assert size == (900, 600)
    # residents in four colours, isochrones, labels and legend: thousands of colours
    assert n > 500 and top < 0.9, (n, top)
    assert seconds < 30


def test_blank_page_png_is_blank(browser):
    size, n, top = colours(html_to_png("<html><body style='background:#fff'></body></html>",
                                       width=320, height=200, wait_ms=100))
    assert size == (320, 200) and n <= 2 and top > 0.99


def test_chinese_pdf_embeds_a_cjk_font(browser):
    pdf = html_to_pdf(ZH_PAGE)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf_pages(pdf) == 1
    # Skia writes the font's name uncompressed, e.g. /FontName /AAAAAA+NotoSansCJKsc-Bold
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSans\w*CJK", pdf), "no Noto CJK font"


def test_find_chromium(monkeypatch, tmp_path):
    fake = _script(tmp_path / "my-chrome", "exit 0")
    monkeypatch.setenv("GEO_APP_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.setenv("GEO_APP_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None
    monkeypatch.delenv("GEO_APP_CHROMIUM")
    monkeypatch.setattr(render.shutil, "which",
                        lambda name: "/opt/gc" if name == "google-chrome" else None)
    assert find_chromium() == "/opt/gc"
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    assert find_chromium() is None


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_no_chromium_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(render, "find_chromium", lambda: None)
    for call in (lambda: html_to_pdf(ZH_PAGE), lambda: html_to_png(ZH_PAGE)):
        with pytest.raises(RuntimeError, match="no Chromium found: install chromium"):
            call()


def test_a_failing_browser_is_reported_with_its_stderr(monkeypatch, tmp_path):
    fake = _script(tmp_path / "chromium", "echo 'GPU process unusable' >&2\n"
                   "echo 'FATAL: no display' >&2\nexit 3")
    monkeypatch.setenv("GEO_APP_CHROMIUM", str(fake))
    with pytest.raises(RuntimeError, match=r"(?s)failed \(exit 3\).*page\.pdf.*FATAL: no display"):
        html_to_pdf(ZH_PAGE)
    quiet = _script(tmp_path / "quiet", "exit 0")  # exits cleanly but writes nothing
    monkeypatch.setenv("GEO_APP_CHROMIUM", str(quiet))
    with pytest.raises(RuntimeError, match=r"page\.png.*no output on stderr"):
        html_to_png(ZH_PAGE)


def test_a_hanging_browser_times_out(monkeypatch, tmp_path):
    fake = _script(tmp_path / "chromium", "echo starting >&2\nsleep 30")
    monkeypatch.setenv("GEO_APP_CHROMIUM", str(fake))
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"did not finish within 0.5 s: starting"):
        html_to_png(ZH_PAGE, timeout_s=0.5)
    assert time.perf_counter() - started < 5


def test_bad_size():
    with pytest.raises(ValueError, match="positive pixels"):
        html_to_png(ZH_PAGE, width=0)
