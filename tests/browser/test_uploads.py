"""An upload on the data page in headless Chromium, offline: an Amap-style facility file (GBK,
Chinese headers, GCJ-02) is checked and used over the sample network; its preview map draws
from the app itself and its validation table is shown. Screenshot in test-artifacts/.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from layers import wgs84_to_gcj02
from tests.browser.test_browser import MAP_FRAME

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api")


def _preview_frame(page, layer_text: str, timeout_ms: int = 60_000):
    """The map frame whose layer control (collapsed) lists ``layer_text`` (the page also shows
    the study area's map), once its legend is drawn."""
    page.wait_for_function("""([sel, text]) => [...document.querySelectorAll(sel)].some(f => {
        const doc = f.contentDocument;
        const control = doc && doc.querySelector(".leaflet-control-layers");
        return !!control && control.textContent.includes(text) && !!doc.querySelector(".cq-legend");
    })""", arg=[MAP_FRAME, layer_text], timeout=timeout_ms)
    frames = page.locator(MAP_FRAME)
    for i in range(frames.count()):
        frame = page.frame_locator(MAP_FRAME).nth(i)
        if layer_text in frame.locator(".leaflet-control-layers").text_content():
            return frame
    raise AssertionError(f"no map lists {layer_text!r}")


def test_upload_shows_preview_map_and_table(offline_page, app_url, artifacts, tmp_path):
    assert shutil.which("chromium")
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(106.555, 106.585, 12), rng.uniform(29.550, 29.565, 12)
    glon, glat = wgs84_to_gcj02(lon, lat)
    path = tmp_path / "高德设施.csv"
    kinds = ["幼儿园", "养老院", "菜市场", "公交站"]
    pd.DataFrame({"名称": [f"设施{i}" for i in range(12)], "类别": kinds * 3,
                  "经度": glon, "纬度": glat}).to_csv(path, index=False, encoding="gbk")

    page = offline_page
    page.goto(app_url)
    page.get_by_test_id("stSidebar").get_by_text("研究范围与数据").click()
    page.get_by_text("上传文件", exact=True).first.click()
    page.get_by_text("要替换的数据").wait_for(timeout=60_000)
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="检查并使用").wait_for(timeout=60_000)
    page.get_by_text("字段对应").wait_for()
    page.get_by_role("button", name="检查并使用").click()
    page.get_by_text("已通过检查,各页面将使用此文件。").wait_for(timeout=120_000)

    frame = _preview_frame(page, "公共服务设施 (12)")
    legend = frame.locator(".cq-legend").inner_text()
    assert "预览" in legend and "幼儿园与托育" in legend and "养老服务" in legend
    assert frame.locator("path.leaflet-interactive").count() >= 12  # discs (and districts)
    assert "渝中区" not in legend  # districts are outlines, not legend rows
    # the validation table: the file by its name, its rows, no server folder
    grids = page.get_by_test_id("stDataFrame")
    grids.first.wait_for()
    text = page.locator("section.main, [data-testid='stMain']").first.inner_text()
    assert "高德设施.csv" in text and "cache" not in text
    page.mouse.move(5, 5)
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(1500)
    shot = artifacts / "uploads_preview.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, "/tmp/uploads_preview.png")
    assert page.external == []
    assert [e for e in page.errors if "favicon" not in e] == []
