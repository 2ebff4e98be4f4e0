"""Upload checks: rejected rows, datum-shift warnings, summaries and the display table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from layers.uploads import as_table, validate_upload

GOOD_AND_BAD = """name,lon,lat,population
a,106.5770,29.5570,120
b,,29.5580,80
c,106.5790,29.5590,60
d,106.5800,29.5600,many
e,106.5810,29.5610,40
"""


def test_csv_bad_rows_are_listed_and_dropped(tmp_path):
    path = tmp_path / "residents.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    check = validate_upload("demand", path)
    assert check.ok and not check.error
    assert (check.rows_read, check.rows_kept) == (5, 3)
    assert [r for r, _ in check.rejected] == [3, 5]  # file rows; the header is row 1
    assert "not numbers" in check.rejected[0][1] and "'lon'" in check.rejected[0][1]
    assert "population" in check.rejected[1][1] and "'many'" in check.rejected[1][1]
    assert check.summary["population"] == 220 and check.summary["estimate"] is False
    assert len(check.data) == 3
    west, south, east, north = check.bounds
    assert west == pytest.approx(106.577) and north == pytest.approx(29.561)


def test_points_as_network_fail_clearly(tmp_path):
    path = tmp_path / "residents.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    check = validate_upload("network", path)
    assert not check.ok and "not a street network" in check.error and "Point" in check.error


def test_empty_category_names_the_row(tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text("category,lon,lat\nclinic,106.57,29.55\n,106.58,29.56\n", encoding="utf-8")
    check = validate_upload("facilities", path)
    assert not check.ok and "row 3" in check.error and "category" in check.error
    with pytest.raises(ValueError, match="kind must be one of"):
        validate_upload("roads", path)


def _gcj02_copy(tmp_path):
    """Points in 渝中区 around 解放碑, shifted to GCJ-02 (as Amap would give them)."""
    from layers import load_districts, wgs84_to_gcj02

    yuzhong = load_districts().set_index("name_zh").geometry["渝中区"]
    x, y = np.meshgrid(np.linspace(106.560, 106.590, 13), np.linspace(29.548, 29.566, 13))
    inside = shapely.contains_xy(yuzhong, x.ravel(), y.ravel())
    lon, lat = wgs84_to_gcj02(x.ravel()[inside], y.ravel()[inside])
    path = tmp_path / "amap_sites.csv"
    pd.DataFrame({"name": [f"site {i}" for i in range(len(lon))], "category": "clinic",
                  "区县": "渝中区", "lon": lon, "lat": lat}).to_csv(path, index=False)
    return path


def test_gcj02_shift_is_named(tmp_path):
    path = _gcj02_copy(tmp_path)
    check = validate_upload("facilities", path, datum="wgs84")
    assert check.ok and check.summary["per_category"] == {"clinic": check.rows_kept}
    assert any("GCJ02" in w and "datum='gcj02'" in w for w in check.warnings)
    assert validate_upload("facilities", path, datum="gcj02").warnings == []
    assert validate_upload("centres", path).warnings  # the same check for named points


def test_geotiff_demand(tmp_path):
    from geo_app.io.export import write_geotiff

    cells = np.array([[10.0, 0.0, 5.0], [np.nan, 20.0, 1.5]])
    path = write_geotiff(cells, (106.50, 0.001, 0, 29.56, 0, -0.001), 4326,
                         tmp_path / "pop.tif", nodata=np.nan)
    check = validate_upload("demand", path)
    assert check.ok and check.rows_read == check.rows_kept == 4  # populated cells
    assert check.summary["population"] == 36 and check.summary["estimate"] is False
    assert check.bounds[0] == pytest.approx(106.5005) and check.bounds[3] == pytest.approx(29.5595)


@pytest.fixture(scope="module")
def helsinki_checks():
    from geo_app.workflows.coverage import sample_path

    return validate_upload("network", sample_path()), validate_upload("pois", sample_path())


def test_helsinki_pbf_as_network_and_pois(helsinki_checks):
    net, pois = helsinki_checks
    assert net.ok and net.summary["nodes"] > 5000 and net.summary["street_km"] > 50
    assert net.rows_read == net.rows_kept == net.summary["edges"] and not net.warnings
    west, south, east, north = net.bounds
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2
    assert pois.ok and pois.rows_read > 1000 and pois.summary["with_sector"] > 100
    assert pois.summary["per_category"]["amenity=restaurant"] > 10


def test_table_in_both_languages(tmp_path, helsinki_checks):
    path = tmp_path / "residents.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    checks = [validate_upload("demand", path), validate_upload("network", path),
              helsinki_checks[0]]
    en = as_table(checks, "en")
    assert list(en.columns) == ["Data", "File", "Rows read", "Rows kept", "Rows rejected",
                                "Status", "Notes"]
    assert list(en["Status"]) == ["OK (bad rows dropped)", "Not usable", "OK"]
    assert list(en["Rows kept"]) == [3, 0, checks[2].rows_kept]
    assert list(en["Rows rejected"]) == [2, 1, 0]  # the missing lon, though it fails anyway
    assert "row 3:" in en.at[0, "Notes"] and "residents 220" in en.at[0, "Notes"]
    assert "not a street network" in en.at[1, "Notes"] and "street km" in en.at[2, "Notes"]
    zh = as_table(checks, "zh")
    assert list(zh.columns[:3]) == ["数据类型", "文件", "读取行数"]
    assert list(zh["状态"]) == ["可用(已剔除问题行)", "不可用", "可用"]
    assert zh.iloc[0, 0] == "居民(需求)" and "人口 220" in zh.iloc[0, -1]
