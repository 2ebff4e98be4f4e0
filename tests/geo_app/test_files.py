"""The one atomic writer (geo_app.io.files) and the exports that go through it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_app.errors import OutputError
from geo_app.io.export import csv_bytes, write_geotiff, write_gpkg_layers
from geo_app.io.files import check_output_path, replace_atomically, write_atomic
from geo_app.io.project import Scenario, list_scenarios, save_scenario
from geo_app.maps.offline import save_offline_html


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    """Run the test under a known umask (restored afterwards); the mode a new file gets."""
    old = os.umask(request.param)
    try:
        yield 0o666 & ~request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_atomic_gives_the_mode_of_a_new_file(tmp_path, umask):
    out = write_atomic(tmp_path / "a.txt", "重庆\n")
    assert out == tmp_path / "a.txt" and out.read_text(encoding="utf-8") == "重庆\n"
    assert mode(out) == umask  # not 0600, the mode of a temporary file
    write_atomic(out, b"\x00\x01")  # replacing keeps it
    assert out.read_bytes() == b"\x00\x01" and mode(out) == umask
    assert names(tmp_path) == ["a.txt"]


def test_new_folders_are_made(tmp_path):
    out = write_atomic(tmp_path / "x" / "y" / "b.txt", "b")
    assert out.read_text() == "b"


def test_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    out = tmp_path / "result.gpkg"
    out.write_bytes(b"old")

    def half(tmp: str) -> None:
        Path(tmp).write_bytes(b"half a fi")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        replace_atomically(out, half, ".gpkg")
    assert out.read_bytes() == b"old"
    assert names(tmp_path) == ["result.gpkg"]

    def nothing(tmp: str) -> None:  # a writer that makes no file
        pass

    with pytest.raises(FileNotFoundError):
        replace_atomically(out, nothing)
    assert out.read_bytes() == b"old" and names(tmp_path) == ["result.gpkg"]


def test_interrupted_write_cleans_up(tmp_path):
    out = tmp_path / "map.html"

    def interrupted(tmp: str) -> None:
        Path(tmp).write_text("<html")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_atomically(out, interrupted)
    assert names(tmp_path) == []


def test_the_temporary_name_ends_with_the_suffix(tmp_path):
    seen = []

    def write(tmp: str) -> None:
        seen.append(Path(tmp))
        Path(tmp).write_text("x")

    replace_atomically(tmp_path / "out.gpkg", write, ".gpkg")
    (tmp,) = seen
    assert tmp.parent == tmp_path and tmp.name.startswith(".out.gpkg.")
    assert tmp.name.endswith(".gpkg")  # writers that check the extension (GDAL's GPKG) accept it


def test_without_overwrite_an_existing_file_is_kept(tmp_path, umask):
    out = tmp_path / "p.sqlite"
    replace_atomically(out, lambda tmp: Path(tmp).write_text("first"), overwrite=False)
    assert out.read_text() == "first" and mode(out) == umask
    replace_atomically(out, lambda tmp: Path(tmp).write_text("second"), overwrite=False)
    assert out.read_text() == "first"
    assert names(tmp_path) == ["p.sqlite"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_refused_and_untouched():
    before = os.stat("/dev/null")
    with pytest.raises(OutputError, match="/dev/null: is not a regular file"):
        write_atomic("/dev/null", "x")
    with pytest.raises(OutputError, match="not a regular file"):
        write_gpkg_layers({"t": pd.DataFrame({"a": [1]})}, "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert after.st_mode == before.st_mode


def test_a_folder_is_refused_and_untouched(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep.txt").write_text("k")
    with pytest.raises(OutputError, match="is a folder"):
        write_atomic(folder, "x")
    with pytest.raises(OutputError, match="is a folder"):
        save_offline_html(folium.Map(), folder)
    assert folder.is_dir() and names(folder) == ["keep.txt"]
    assert names(tmp_path) == ["out"]  # no temporary file beside it
    assert check_output_path(tmp_path / "new.txt") == tmp_path / "new.txt"


def test_exports_have_the_mode_of_a_new_file(tmp_path, umask):
    pts = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=shapely.points([106.5, 106.6],
                                                                        [29.5, 29.6]), crs=4326)
    gpkg = write_gpkg_layers({"sites": pts, "run_info": pd.DataFrame({"key": ["a"],
                                                                       "value": ["1"]})},
                             tmp_path / "r.gpkg")
    assert gpd.read_file(gpkg, layer="sites")["name"].tolist() == ["甲", "乙"]
    tif = write_geotiff(np.ones((3, 4)), (500_000.0, 100.0, 0.0, 3_300_000.0, 0.0, -100.0),
                        "EPSG:32648", tmp_path / "d.tif")
    html = save_offline_html(folium.Map(location=[29.56, 106.55], zoom_start=10),
                             tmp_path / "map.html")
    assert "<script" in html.read_text(encoding="utf-8")
    for out in (gpkg, tif, html):
        assert mode(out) == umask, out.name
    assert names(tmp_path) == ["d.tif", "map.html", "r.gpkg"]


def test_project_file_has_the_mode_of_a_new_file(tmp_path, umask):
    path = tmp_path / "p.cqproj.sqlite"
    save_scenario(path, Scenario("A"))
    assert mode(path) == umask and list(list_scenarios(path)["name"]) == ["A"]
    assert names(tmp_path) == [path.name]


def test_csv_bytes_has_a_bom_and_lon_lat():
    pts = gpd.GeoDataFrame({"order": [1, 2], "名称": ["解放碑", "观音桥"]},
                           geometry=shapely.points([106.58, 106.53], [29.56, 29.58]), crs=4326)
    data = csv_bytes(pts)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "lon,lat,order,名称" and lines[1] == "106.58,29.56,1,解放碑"
    assert csv_bytes(pts, lonlat_at=1).decode("utf-8-sig").splitlines()[0] == "order,lon,lat,名称"
    projected = csv_bytes(pts.to_crs(32648)).decode("utf-8-sig").splitlines()[1]
    lon, lat = map(float, projected.split(",")[:2])
    assert lon == pytest.approx(106.58) and lat == pytest.approx(29.56)
    assert csv_bytes(pts.iloc[:0]).decode("utf-8-sig").strip() == "lon,lat,order,名称"
    table = csv_bytes(pd.DataFrame({"区": ["渝中区"]})).decode("utf-8-sig")
    assert table.splitlines() == ["区", "渝中区"]
