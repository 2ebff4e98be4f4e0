"""The base map from the user's own data: water, green space and buildings read from an OSM
file (and nothing from centre-lines), cut to a map's view, drawn as one base layer with the
blank and OSM tiles, inside the page."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import shapely

from geo_app.maps.coverage import coverage_map
from geo_app.maps.local_base import add_local_base, view_bounds
from geo_app.workflows.coverage import sample_path
from geo_app.workflows.local_base import in_view, local_base
from layers.basemap import read_base_features

OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
{nodes}
 <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="natural" v="water"/></way>
 <way id="2"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="leisure" v="park"/></way>
 <way id="3"><nd ref="9"/><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="9"/>
  <tag k="building" v="yes"/></way>
 <way id="4"><nd ref="1"/><nd ref="5"/><tag k="highway" v="residential"/></way>
</osm>
"""


def _square(first: int, lon: float, lat: float, d: float) -> str:
    pts = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)]
    return "\n".join(f' <node id="{first + i}" lat="{y}" lon="{x}"/>' for i, (x, y) in
                     enumerate(pts))


def test_an_osm_file_gives_water_green_and_buildings(tmp_path):
    path = tmp_path / "small.osm"
    path.write_text(OSM.format(nodes="\n".join(
        [_square(1, 106.50, 29.50, 0.004), _square(5, 106.51, 29.50, 0.003),
         _square(9, 106.52, 29.50, 0.0002)])), encoding="utf-8")
    got = read_base_features(path)
    assert {k: len(v) for k, v in got.items()} == {"water": 1, "green": 1, "buildings": 1}
    assert all((shapely.get_type_id(v.geometry.values) == 3).all() for v in got.values())
    lake = got["water"].geometry.iloc[0]
    assert abs(lake.area - 0.004 ** 2) < 1e-9  # simplified by ~1 m only
    assert read_base_features(path, bbox=(106.505, 29.49, 106.53, 29.51))["water"].empty


def test_the_sample_and_centre_lines(tmp_path):
    got = read_base_features(sample_path())
    assert min(len(v) for v in got.values()) > 10
    w, s, e, n = local_base(str(sample_path())).streets.total_bounds
    for v in got.values():  # the file's own surroundings, not elsewhere
        b = v.total_bounds
        assert w - 0.02 < b[0] and b[2] < e + 0.02 and s - 0.02 < b[1] and b[3] < n + 0.02
    lines = tmp_path / "streets.gpkg"
    gpd.GeoDataFrame({"highway": ["residential"]},
                     geometry=[shapely.LineString([(106.5, 29.5), (106.51, 29.5)])],
                     crs=4326).to_file(lines)
    assert read_base_features(lines) == {}
    base = local_base(str(lines))
    assert len(base.streets) == 1 and base.areas == {}


def test_drawn_as_one_base_layer_inside_the_page(helsinki_coverage):
    m = coverage_map(helsinki_coverage, category="clinic", lang="zh", tiles="local")
    bounds = view_bounds(m)
    base = in_view(local_base(str(sample_path())), bounds)
    full = local_base(str(sample_path()))
    assert 0 < len(base.streets) <= len(full.streets)
    add_local_base(m, base.streets, base.areas, "zh")
    page = m.get_root().render()
    name = json.dumps("本地数据底图(离线)")[1:-1]  # Folium writes names \u-escaped
    assert '"pane": "cqBase"' in page and name in page
    # one base layer among the tiles: the control lists it with blank and OSM, after it
    control = re.search(r"base_layers\s*:\s*\{(.*?)\}", page, re.DOTALL).group(1)
    assert name in control and "OpenStreetMap" in control
    assert page.index("createPane") < page.index("base_layers")
    urls = {u for u in re.findall(r"https?://[^\s\"'<>]+", page)
            if "tile.openstreetmap.org" not in u and "openstreetmap.org/copyright" not in u}
    assert not any("geojson" in u or "base" in u for u in urls)  # nothing fetched for it
    assert 0 < len(base.areas["buildings"]) <= len(full.areas["buildings"])
