"""Network edits compared in the app's workflow: who gains and who loses reach, against
networkx on the same streets with the edit's edge added or removed (GENERATED streets)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo_app.workflows.coverage import load_inputs
from geo_app.workflows.edit_compare import (
    GAIN,
    LOSE,
    SAME,
    compare_edits,
    drawn_edits,
    edit_effects,
)

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 3_300_000.0
TO_LONLAT = Transformer.from_crs(CRS, 4326, always_xy=True)
XS = 100.0 * np.arange(11)
SPEED = {"adult": 1.0, "elderly": 0.8}  # data/gis/walker_profiles.csv, flat


def lonlat(x, y):
    return TO_LONLAT.transform(X0 + np.asarray(x, float), Y0 + np.asarray(y, float))


def line(*xy) -> shapely.LineString:
    lon, lat = lonlat(*np.asarray(xy, float).T)
    return shapely.LineString(np.c_[lon, lat])


def street_lines(crossing_at_zero: bool):
    """Street A on y = 0 and street B on y = 300 m (0–1,000 m), a river between them crossed
    at x = 1,000 m (and at x = 0 when asked); one line per 100 m."""
    lines = [line((x, y), (x + 100, y)) for y in (0, 300) for x in XS[:-1]]
    lines.append(line((1000, 0), (1000, 300)))
    if crossing_at_zero:
        lines.append(line((0, 0), (0, 300)))
    return lines


def oracle_times(speed: float, crossings: list[float]) -> dict[float, float]:
    """networkx: seconds from the clinic at A 0 m to each resident at B x m."""
    g = nx.Graph()
    for y in (0, 300):
        for x in XS[:-1]:
            g.add_edge((x, y), (x + 100, y), weight=100 / speed)
    for x in crossings:
        g.add_edge((x, 0), (x, 300), weight=300 / speed)
    d = nx.single_source_dijkstra_path_length(g, (0.0, 0.0), weight="weight")
    return {x: d[(x, 300.0)] for x in XS}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("edit_compare")
    for name, zero in (("river.gpkg", False), ("bridged.gpkg", True)):
        gpd.GeoDataFrame({"highway": ["footway"] * len(street_lines(zero))}, geometry=street_lines(zero),
                         crs=4326).to_file(root / name)
    lon, lat = lonlat(XS, np.full(len(XS), 300.0))
    pd.DataFrame({"lon": lon, "lat": lat, "population": 1.0 + np.arange(len(XS))}).to_csv(
        root / "residents.csv", index=False)
    flon, flat = lonlat([0.0], [0.0])
    pd.DataFrame({"lon": flon, "lat": flat, "category": ["clinic"], "name": ["clinic A0"]}
                 ).to_csv(root / "facilities.csv", index=False)
    return root


def _inputs(files, network: str):
    return load_inputs(files / network, files / "facilities.csv", files / "residents.csv")


def _expected(before: dict, after: dict, limit_s: float) -> np.ndarray:
    was = np.array([before[x] <= limit_s + 1e-6 for x in XS])
    now = np.array([after[x] <= limit_s + 1e-6 for x in XS])
    return np.where(now & ~was, GAIN, np.where(was & ~now, LOSE, SAME))


@pytest.mark.parametrize("profile", ["adult", "elderly"])
def test_a_drawn_footbridge_gains_exactly_the_residents_networkx_brings_in_reach(files, profile):
    inputs = _inputs(files, "river.gpkg")
    bridge = {"type": "Feature", "geometry": shapely.geometry.mapping(line((0, 0), (0, 300)))}
    edits = drawn_edits([bridge], ["天桥"])  # planners' words are read as kinds
    assert list(edits.lines["kind"]) == ["footbridge"]
    done = compare_edits(inputs, edits, profile=profile, minutes=10.5)
    speed = SPEED[profile]
    want = _expected(oracle_times(speed, [1000.0]), oracle_times(speed, [0.0, 1000.0]), 630.0)
    np.testing.assert_array_equal(done.status["clinic"].to_numpy(), want)
    assert (want == GAIN).sum() == (4 if profile == "adult" else 3)  # x ≤ 330 m or ≤ 204 m
    row = done.summary.set_index("category").loc["clinic"]
    pop = 1.0 + np.arange(len(XS))
    assert row["gain"] == pop[want == GAIN].sum() and row["lose"] == 0
    assert row["net"] == row["covered_after"] - row["covered_before"]
    assert done.after.info("network_edits") == "1"
    assert done.after.info("walker_profile") == profile


def test_closing_a_crossing_loses_exactly_the_residents_networkx_puts_out_of_reach(files):
    inputs = _inputs(files, "bridged.gpkg")
    gate = {"type": "Feature", "geometry": shapely.geometry.mapping(line((0, 100), (0, 200)))}
    done = compare_edits(inputs, drawn_edits([gate], ["closed"]), profile="adult", minutes=10.5)
    want = _expected(oracle_times(1.0, [0.0, 1000.0]), oracle_times(1.0, [1000.0]), 630.0)
    np.testing.assert_array_equal(done.status["clinic"].to_numpy(), want)
    assert (want == LOSE).sum() == 4
    np.testing.assert_array_equal(done.status["basket"].to_numpy(), want)  # one category


def test_drawn_lines_are_checked_by_line_and_column(files):
    bad = [{"type": "Feature", "geometry": shapely.geometry.mapping(line((0, 0), (0, 300)))},
           {"type": "Feature", "geometry": shapely.geometry.mapping(shapely.Point(106, 29))}]
    with pytest.raises(ValueError) as err:
        drawn_edits(bad, ["rope bridge", "stairs"])
    text = str(err.value)
    assert "drawn edits" in text and "row 1" in text and "kind" in text
    assert "row 2" in text and "not a line" in text


def test_effects_need_the_same_residents(helsinki_coverage):
    fewer = type(helsinki_coverage)(**{**helsinki_coverage.__dict__,
                                       "demand": helsinki_coverage.demand.iloc[:-1]})
    with pytest.raises(ValueError, match="same residents"):
        edit_effects(helsinki_coverage, fewer)


def test_effect_map_names_gains_losses_and_kinds_in_the_language(files):
    from geo_app.maps.edit_compare import edit_effect_map

    inputs = _inputs(files, "river.gpkg")
    bridge = {"type": "Feature", "geometry": shapely.geometry.mapping(line((0, 0), (0, 300)))}
    done = compare_edits(inputs, drawn_edits([bridge], ["footbridge"]), minutes=10.5)
    for lang, words in (("zh", ("改动后新增可达", "人行天桥", "社区卫生服务 · 改动影响")),
                        ("en", ("Gains reach", "Footbridge", "Effect of the edits"))):
        page = edit_effect_map(done.status, done.after.demand, done.edits, category="clinic",
                               lang=lang).get_root().render()
        assert all(w in page for w in words), lang
        assert "ec_" not in page.replace("ec_effect", "")  # no label key shows
        assert "(10 " in page or "(10)" in page or "10 persons" in page or "10 人" in page
