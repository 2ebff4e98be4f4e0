"""Community facilities: OSM tags mapped to the facility basket, or a user file with ``category``.

The basket (categories, life-circle level in minutes, OSM rules, source) lives in one
editable table, ``data/gis/facility_basket.csv``. A rule is a list of clauses separated
by ``;``; a clause matches when all its terms (joined by ``&``) match; a term is
``key=v1|v2`` (exact values) or ``key~regex`` (search in the value).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.resources import data_dir
from layers.validate import Column, LayerValidationError, read_table

log = logging.getLogger(__name__)

BASKET_SCHEMA = (
    Column("category"), Column("name_zh"), Column("name_en"),
    Column("level_min", "float", lo=1, hi=120, doc="life-circle level (minutes)"),
    Column("radius_m", "float", required=False, lo=0, hi=5000, doc="standard's service radius"),
    Column("aliases", required=False, doc="other names of the category in user files, '; '"),
    Column("osm_rules"), Column("source"),
)

#: Columns of a facility layer.
FACILITY_COLUMNS = {
    "category": "basket category key (or the user's own category)",
    "name": "facility name, where known",
    "osm_id": "OSM element, e.g. node/123 (empty for user files)",
    "source": "where the facility comes from",
    "geometry": "Point, EPSG:4326 (polygons are represented by an interior point)",
}


@dataclass(frozen=True)
class Term:
    key: str
    op: str  # "=" exact values, "~" regex search
    pattern: str

    def match(self, values: pd.Series) -> np.ndarray:
        text = values.astype("string").fillna("")
        if self.op == "=":
            return text.isin(self.pattern.split("|")).to_numpy(dtype=bool)
        return text.str.contains(self.pattern, regex=True).fillna(False).to_numpy(dtype=bool)


_TERM = re.compile(r"^\s*([^=~&;\s]+)\s*([=~])\s*(.+?)\s*$")


def parse_rules(text: str) -> list[list[Term]]:
    """Parse ``"amenity=school&name~小学; amenity=kindergarten"`` into clauses of terms."""
    clauses = []
    for clause in str(text).split(";"):
        if not clause.strip():
            continue
        terms = []
        for part in clause.split("&"):
            m = _TERM.match(part)
            if m is None:
                raise ValueError(f"cannot read rule term {part.strip()!r}: write key=value "
                                 "or key~regex")
            if m.group(2) == "~":
                re.compile(m.group(3))
            terms.append(Term(*m.groups()))
        clauses.append(terms)
    if not clauses:
        raise ValueError("empty rule")
    return clauses


def read_basket(path: Path | None = None) -> pd.DataFrame:
    """Read and check the facility basket table; rules are parsed into ``rules``."""
    path = Path(path) if path is not None else data_dir() / "facility_basket.csv"
    df, problems = read_table(path, BASKET_SCHEMA, unique="category")
    rules = []
    for i, text in enumerate(df.get("osm_rules", [])):
        try:
            rules.append(parse_rules(text))
        except (ValueError, re.error) as exc:
            problems.add(str(exc), row=i + 2, column="osm_rules")
            rules.append([])
    problems.raise_if_any()
    df["rules"] = rules
    return df.set_index("category", drop=False)


@lru_cache(maxsize=4)
def _basket(path: str) -> pd.DataFrame:
    return read_basket(Path(path))


def load_basket() -> pd.DataFrame:
    """The bundled facility basket (``data/gis/facility_basket.csv``)."""
    return _basket(str((data_dir() / "facility_basket.csv").resolve())).copy()


def rule_keys(basket: pd.DataFrame) -> list[str]:
    """Every OSM key the basket's rules look at."""
    return sorted({t.key for clauses in basket["rules"] for c in clauses for t in c})


def match_categories(tags: pd.DataFrame, basket: pd.DataFrame) -> pd.DataFrame:
    """Long table (``row``, ``category``): which rows of ``tags`` each category matches.

    A feature may serve several categories (a school named 九年制 may be both).
    """
    out = []
    empty = pd.Series("", index=tags.index, dtype="string")
    for cat, clauses in zip(basket["category"], basket["rules"]):
        hit = np.zeros(len(tags), dtype=bool)
        for clause in clauses:
            ok = np.ones(len(tags), dtype=bool)
            for term in clause:
                ok &= term.match(tags[term.key] if term.key in tags.columns else empty)
            hit |= ok
        rows = np.flatnonzero(hit)
        out.append(pd.DataFrame({"row": rows, "category": cat}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["row", "category"])


def _expand_tags(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Tag table with a column per key, reading pyrosm's JSON ``tags`` column where needed."""
    tags = pd.DataFrame(index=df.index)
    extra = None
    for key in keys:
        if key in df.columns:
            tags[key] = df[key].astype("string")
            continue
        if extra is None:
            raw = df["tags"] if "tags" in df.columns else pd.Series(None, index=df.index)
            extra = [json.loads(t) if isinstance(t, str) and t else {} for t in raw]
        tags[key] = pd.Series([e.get(key) for e in extra], index=df.index, dtype="string")
    return tags


def _points_of(geoms: np.ndarray) -> np.ndarray:
    """Points as they are; lines and polygons by a point inside them."""
    pts = geoms.copy()
    other = ~np.isin(shapely.get_type_id(geoms), [0])  # 0 = Point
    pts[other] = shapely.point_on_surface(geoms[other])
    return pts


def osm_ids(features: pd.DataFrame) -> pd.Series:
    """``type/id`` of each OSM feature (pyrosm columns or OSMnx's (type, id) index)."""
    if "osm_type" in features.columns:
        return features["osm_type"].astype(str) + "/" + features["id"].astype(str)
    if isinstance(features.index, pd.MultiIndex):
        return pd.Series([f"{a}/{b}" for a, b in features.index], index=features.index)
    return features.get("id", pd.Series("", index=features.index)).astype(str)


def facilities_from_features(features: gpd.GeoDataFrame, basket: pd.DataFrame,
                             source: str) -> gpd.GeoDataFrame:
    """Map OSM features (tag columns) to basket categories; one row per (feature, category)."""
    tags = _expand_tags(features, rule_keys(basket) + ["name"])
    hits = match_categories(tags, basket)
    feats = features.iloc[hits["row"].to_numpy()]
    osm_id = osm_ids(feats)
    out = gpd.GeoDataFrame({
        "category": hits["category"].to_numpy(),
        "name": tags["name"].iloc[hits["row"].to_numpy()].fillna("").to_numpy(object),
        "osm_id": osm_id.to_numpy(object),
        "source": source,
    }, geometry=_points_of(feats.geometry.to_numpy()), crs=4326)
    return out.reset_index(drop=True)


def read_osm_features(path: str | Path, keys) -> gpd.GeoDataFrame | None:
    """Features of an ``.osm.pbf`` (pyrosm) or ``.osm`` XML (OSMnx) file carrying any of
    the OSM ``keys``; None when there are none."""
    path = Path(path)
    try:
        if path.name.lower().endswith(".pbf"):
            import pyrosm

            return pyrosm.OSM(str(path)).get_pois(custom_filter={k: True for k in keys})
        import osmnx as ox

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ox.features_from_xml(path, tags={k: True for k in keys})
    except Exception as exc:  # pyrosm/osmnx raise many kinds on unreadable files
        if ("no matching features" in str(exc).lower()
                or "InsufficientResponse" in type(exc).__name__):
            return None
        raise LayerValidationError(str(path), [f"cannot read OSM features: {exc}"]) from None


def read_osm_facilities(path: str | Path, basket: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Facilities of the basket from an ``.osm.pbf`` (pyrosm) or ``.osm`` XML (OSMnx) file."""
    path = Path(path)
    basket = load_basket() if basket is None else basket
    keys = {t.key for clauses in basket["rules"] for c in clauses for t in c}
    primary = sorted(k for k in keys if k not in ("name",) and ":" not in k)
    feats = read_osm_features(path, primary)
    if feats is None or len(feats) == 0:
        return gpd.GeoDataFrame(columns=list(FACILITY_COLUMNS), geometry="geometry", crs=4326)
    return facilities_from_features(feats, basket, f"OpenStreetMap ({path.name}), ODbL")


def _norm(text: str) -> str:
    """A category name compared without case, spaces, full-width forms or punctuation."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-·•()()]+", "", text)


def _default_minutes() -> float:
    from geo_app.config import DEFAULT

    return DEFAULT.urban_minutes


AMAP_SCHEMA = (
    Column("typecode", doc="Amap 类型代码: 6 digits, or the first 4 for a whole middle class"),
    Column("amap_type", doc="Amap 类型名称 of the code (大类;中类[;小类])"),
    Column("category", doc="basket key"), Column("confidence", allowed=("high", "medium")),
    Column("source"),
)
_CODES = re.compile(r"\d{5,6}(?:\s*\|\s*\d{5,6})*")  # one code, or several joined by |


def read_amap_typecodes(path: Path | None = None,
                        basket: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and check the Amap type-code table (``data/gis/amap_typecodes.csv``)."""
    path = Path(path) if path is not None else data_dir() / "amap_typecodes.csv"
    df, problems = read_table(path, AMAP_SCHEMA, unique="typecode")
    keys = set((load_basket() if basket is None else basket)["category"])
    for i, (code, cat) in enumerate(zip(df.get("typecode", []), df.get("category", []))):
        if not re.fullmatch(r"\d{4}|\d{6}", str(code)):
            problems.add(f"{code!r} is not a 6-digit code or a 4-digit class", row=i + 2,
                         column="typecode")
        if cat not in keys:
            problems.add(f"{cat!r} is not a basket category", row=i + 2, column="category")
    problems.raise_if_any()
    return df


@lru_cache(maxsize=4)
def _amap(path: str) -> pd.DataFrame:
    return read_amap_typecodes(Path(path))


def load_amap_typecodes() -> pd.DataFrame:
    """The Amap type-code table (typecode, amap_type, category, confidence, source) of the
    data folder (the bundled one when a ``GEO_APP_DATA_DIR`` folder has none)."""
    from layers.resources import bundled_data_dir

    path = data_dir() / "amap_typecodes.csv"
    path = path if path.is_file() else bundled_data_dir() / "amap_typecodes.csv"
    return _amap(str(path.resolve())).copy()


def typecode_key(value: str, codes: dict[str, str]) -> str | None:
    """The basket key of an Amap 类型代码 ("141204", or several as "141204|141201"; a code
    that lost its leading zero in a spreadsheet, "90100", counts as "090100"): the first
    code found, exactly or by its 4-digit class; None when none is."""
    text = str(value).strip()
    if not _CODES.fullmatch(text):
        return None
    for code in (c.strip().zfill(6) for c in text.split("|")):
        found = codes.get(code) or codes.get(code[:4])
        if found:
            return found
    return None


def category_lookup(basket: pd.DataFrame,
                    extra: dict[str, str] | None = None) -> dict[str, str]:
    """Normalised name → basket key: each key, its Chinese and English names and aliases, the
    most specific part of each Amap 类型名称 of ``data/gis/amap_typecodes.csv``, and
    ``extra`` (a planner's mapping, value → key, which wins)."""
    out: dict[str, str] = {}
    for row in basket.itertuples(index=False):
        names = [row.category, row.name_zh, row.name_en]
        aliases = getattr(row, "aliases", "")
        if isinstance(aliases, str):
            names += [a for a in aliases.split(";") if a.strip()]
        for name in names:
            out.setdefault(_norm(name), row.category)
    for amap_type, key in _amap_names(basket):
        out.setdefault(_norm(amap_type.split(";")[-1]), key)
    for value, key in (extra or {}).items():
        out[_norm(value)] = key
    return out


def _amap_names(basket: pd.DataFrame) -> list[tuple[str, str]]:
    """(类型名称, key) of the Amap table rows whose key is in ``basket``."""
    table = load_amap_typecodes()
    keys = set(basket["category"])
    return [(t, k) for t, k in zip(table["amap_type"], table["category"]) if k in keys]


def map_categories(values: pd.Series, basket: pd.DataFrame,
                   extra: dict[str, str] | None = None,
                   typecodes: pd.Series | None = None) -> tuple[np.ndarray, pd.Series]:
    """Each value's basket key, else the value itself. Returns (categories, counts of the
    values that matched nothing).

    A value matches by key, name or alias (``extra`` first: a planner's mapping), Amap-style
    "a;b;c" types (类型名称) by their most specific part first, and Amap 类型代码 ("141204")
    through ``data/gis/amap_typecodes.csv``. ``typecodes`` (a column of Amap codes beside
    the values) serves the rows whose value matches nothing.
    """
    lookup = category_lookup(basket, extra)
    table = load_amap_typecodes()
    codes = {c: k for c, k in zip(table["typecode"], table["category"])
             if k in set(basket["category"])}
    text = values.astype(str)
    uniq = pd.unique(text)

    def key_of(value: str) -> str | None:
        if _norm(value) in lookup:
            return lookup[_norm(value)]
        by_code = typecode_key(value, codes)
        if by_code:
            return by_code
        parts = reversed(re.split(r"[;|/>]", value)) if re.search(r"[;|/>]", value) else []
        return next((lookup[_norm(p)] for p in parts if _norm(p) in lookup), None)

    found = {v: key_of(v) for v in uniq}
    keys = text.map(found)
    if typecodes is not None and keys.isna().any():
        by_code = typecodes.astype("string").fillna("").map(lambda c: typecode_key(c, codes))
        keys = keys.fillna(pd.Series(by_code.to_numpy(object), index=keys.index))
    mapped = keys.where(keys.notna(), text.str.strip()).to_numpy(object)
    unknown = text[keys.isna().to_numpy()]
    return mapped, unknown.str.strip().value_counts()


def read_category_map(path: str | Path, basket: pd.DataFrame) -> dict[str, str]:
    """A planner's category mapping: a CSV with ``value`` and ``category`` (a basket key)."""
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig").fillna("")
    missing = {"value", "category"} - set(table.columns)
    if missing:
        raise LayerValidationError(str(path), [f"no column {', '.join(sorted(missing))} "
                                               "(expected value, category)"])
    keys = set(basket["category"])
    bad = [f"row {i + 2}, column 'category': {c!r} is not a basket category (one of "
           f"{', '.join(sorted(keys))})" for i, c in enumerate(table["category"]) if c not in keys]
    if bad:
        raise LayerValidationError(str(path), bad)
    return dict(zip(table["value"], table["category"]))


#: Headers of a column of Amap 类型代码 beside the category column.
TYPECODE_HEADERS = ("typecode", "type_code", "类型代码", "类型编码", "分类代码", "分类编码")


def _typecode_column(gdf: pd.DataFrame, category: str) -> pd.Series | None:
    from layers.columns import header_key

    keys = {header_key(h) for h in TYPECODE_HEADERS}
    col = next((c for c in gdf.columns if c != category and header_key(c) in keys), None)
    return None if col is None else gdf[col]


def read_user_facilities(path: str | Path, *, datum: str | int = "wgs84",
                         on_bad_rows: str = "raise",
                         category_map: dict[str, str] | None = None,
                         layer: str | None = None,
                         columns: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    """Facilities from a user file with a category column.

    Values map to the basket by key, Chinese and English name and aliases (case, spaces and
    full-width forms ignored), Amap 类型名称 and 类型代码 (also from a ``typecode`` column
    beside the category; see :func:`map_categories`), then by ``category_map``. Values
    that match nothing keep their own name and the default threshold, with a
    :class:`~geo_app.errors.DataWarning` listing them with their counts. Polygons and lines
    are represented by a point inside them. ``layer`` picks a layer or sheet; ``columns``
    names the user's columns by role ({"category": "设施类型"}).
    """
    from layers.sources import role_column, warn_rejected
    from layers.userfile import read_user_layer

    gdf, report = read_user_layer(path, datum=datum, required_columns=("category",),
                                  on_bad_rows=on_bad_rows, layer=layer, columns=columns)
    warn_rejected(path, report)
    column = role_column(gdf, report, "category")
    shown = report.columns.get("category", column)
    cats = gdf[column].astype("string").str.strip()
    bad = cats.isna() | (cats == "")
    if bad.any():
        raise LayerValidationError(str(path), [f"row {r}, column '{shown}': empty"
                                               for r in gdf.index[bad]])
    name = gdf["name"].astype(str) if "name" in gdf.columns else pd.Series("", index=gdf.index)
    mapped, unknown = map_categories(cats, load_basket(), category_map,
                                     typecodes=_typecode_column(gdf, column))
    if len(unknown):
        from geo_app.errors import DataWarning, warn

        listed = ", ".join(f"'{v}' ({n})" for v, n in unknown.head(10).items())
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        warn(None, f"{path}: {int(unknown.sum())} row(s) in column '{shown}' match no basket "
             f"category and keep the {_default_minutes():g}-minute default: {listed}{more}; "
             "map them with --category-map FILE (CSV: value, category)", DataWarning,
             key="warn_unknown_categories", stacklevel=3, path=str(path),
             values=dict(unknown.head(50)))
    out = gpd.GeoDataFrame({
        "category": mapped, "name": name.to_numpy(object), "osm_id": "",
        "source": str(path)}, geometry=_points_of(gdf.geometry.to_numpy()), crs=4326,
        index=gdf.index)
    for col in gdf.columns:  # the user's own columns (capacity, beds …) are kept
        if col not in out.columns and col != gdf.geometry.name and col != column:
            out[col] = gdf[col].to_numpy()
    return out
