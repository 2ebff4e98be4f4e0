"""Maps for documents: title, north arrow, sources and Beijing date on the page, no
interactive controls; real PNG and PDF renders with headless Chromium (skipped without it,
failing on CI). Pictures go to test-artifacts/ for a person to look at."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from geo_app.io.print_map import HIDDEN, made_at, map_pdf, map_png, print_page
from geo_app.maps.offline import render_offline
from geo_app.maps.siting import siting_map
from geo_app.workflows.siting import evaluate, siting_view
from tests.geo_app.test_render import colours, pdf_pages


@pytest.fixture(scope="module")
def page(helsinki_siting):
    s = helsinki_siting
    ev = evaluate(s.run, s.result.sites)
    return render_offline(siting_map(siting_view(s.run, s.result.sites, evaluation=ev),
                                     existing=s.existing))


def test_print_page_dresses_the_map(page):
    out = print_page(page, title="选址方案 · 社区服务", when="2026-12-05 10:00")
    assert '<div class="cq-print-title">选址方案 · 社区服务</div>' in out
    assert "<svg" in out and ">N</text>" in out  # the north arrow
    assert "制图时间:2026-12-05 10:00(北京时间)" in out and "OpenStreetMap 贡献者" in out
    for control in HIDDEN:
        assert f"{control}{{display:none!important}}" in out
    assert "imperial: false" in out  # the map's own metric scale bar stays
    assert "A4 landscape" in print_page(page, title="x", pdf=True)
    english = print_page(page, title="Siting", lang="en", when="2026-12-05 10:00")
    assert "Made 2026-12-05 10:00 (Beijing time)" in english
    assert "<b>" not in print_page("<html><head></head><body></body></html>",
                                   title="<b>", when="x")  # the title is escaped


def test_made_at_is_beijing_time():
    utc = datetime(2026, 12, 4, 18, 30, tzinfo=timezone.utc)
    assert made_at("Asia/Shanghai", utc) == "2026-12-05 02:30"


def test_png_and_pdf_of_a_map(page, chromium_path, monkeypatch, artifacts):
    monkeypatch.delenv("GEO_APP_CHROMIUM", raising=False)
    png = map_png(page, title="选址方案(离线样例:赫尔辛基)")
    (artifacts / "print_map.png").write_bytes(png)
    size, n, top = colours(png)
    assert size == (1600, 1100) and n > 500 and top < 0.9
    pdf = map_pdf(page, title="选址方案(离线样例:赫尔辛基)")
    (artifacts / "print_map.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1
