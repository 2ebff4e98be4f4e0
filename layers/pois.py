"""Points of interest for cluster maps: OSM features or a user file with a category column.

Each POI gets a ``category`` (``key=value`` of its main OSM tag, or the user's own
value) and, where the editable table ``data/gis/poi_sectors.csv`` maps it, the plan's
"9611" service sector. The first sector whose rules match wins (table order).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.facilities import (
    _expand_tags,
    _points_of,
    match_categories,
    osm_ids,
    parse_rules,
    read_osm_features,
)
from layers.places import read_seed_sections
from layers.resources import data_dir
from layers.validate import Column, LayerValidationError, read_table

log = logging.getLogger(__name__)

#: OSM keys that make a feature a POI, in the order used to name its category.
POI_KEYS = ("amenity", "shop", "office", "tourism", "leisure", "healthcare", "craft")

#: Street furniture and infrastructure tagged like POIs but not services (dropped from OSM).
NOT_SERVICES = tuple(f"amenity={v}" for v in (
    "bench", "waste_basket", "waste_disposal", "recycling_bin", "bicycle_parking", "parking",
    "parking_entrance", "parking_space", "motorcycle_parking", "post_box", "fountain", "clock",
    "life_ring", "drinking_water", "telephone", "grit_bin", "shelter", "vending_machine",
    "bicycle_rental", "taxi", "charging_station", "loading_dock", "watering_place",
    "hunting_stand"))

POI_COLUMNS = {
    "category": "main OSM tag (key=value) or the user's category",
    "sector_9611": "the plan's '9611' service sector, empty when no rule matches",
    "sector_group": "producer or lifestyle",
    "name": "name, where known",
    "osm_id": "OSM element, e.g. node/123 (empty for user files)",
    "source": "where the POI comes from",
    "geometry": "Point, EPSG:4326",
}


def read_sector_rules(path: Path | None = None) -> pd.DataFrame:
    """Read and check the OSM-tag → '9611' sector table; rules are parsed into ``rules``."""
    path = Path(path) if path is not None else data_dir() / "poi_sectors.csv"
    schema = (Column("sector_9611"), Column("osm_rules"),
              Column("confidence", allowed=("high", "medium", "low", "inferred")), Column("basis"))
    df, problems = read_table(path, schema, unique="sector_9611")
    groups = read_seed_sections().dropna(subset=["sector_9611"]).drop_duplicates("sector_9611")
    groups = groups.set_index("sector_9611")["sector_group"]
    rules = []
    for i, (sector, text) in enumerate(zip(df.get("sector_9611", []), df.get("osm_rules", []))):
        if sector not in groups.index:
            problems.add(f"'{sector}' is not a sector of data/gis/seed_sections.csv", row=i + 2,
                         column="sector_9611")
        try:
            rules.append(parse_rules(text))
        except (ValueError, re.error) as exc:
            problems.add(str(exc), row=i + 2, column="osm_rules")
            rules.append([])
    problems.raise_if_any()
    df["rules"] = rules
    df["sector_group"] = df["sector_9611"].map(groups)
    return df


@lru_cache(maxsize=2)
def _sector_rules(path: str) -> pd.DataFrame:
    return read_sector_rules(Path(path))


def load_sector_rules() -> pd.DataFrame:
    """The bundled sector table (``data/gis/poi_sectors.csv``)."""
    return _sector_rules(str((data_dir() / "poi_sectors.csv").resolve())).copy()


def sectors_of(tags: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """``sector_9611`` and ``sector_group`` for each row of an OSM tag table (first match wins)."""
    rules = load_sector_rules() if rules is None else rules
    hits = match_categories(tags, rules.rename(columns={"sector_9611": "category"}))
    rank = hits["category"].map({s: k for k, s in enumerate(rules["sector_9611"])})
    first = hits.assign(rank=rank).sort_values(["row", "rank"]).drop_duplicates("row")
    sector = pd.Series("", index=range(len(tags)), dtype=object)
    sector.iloc[first["row"].to_numpy()] = first["category"].to_numpy()
    group = sector.map(rules.set_index("sector_9611")["sector_group"]).fillna("")
    return pd.DataFrame({"sector_9611": sector.to_numpy(), "sector_group": group.to_numpy()})


def main_tag(tags: pd.DataFrame) -> np.ndarray:
    """``key=value`` of each row's first present key of :data:`POI_KEYS` (empty if none)."""
    out = np.full(len(tags), "", dtype=object)
    for key in reversed(POI_KEYS):
        if key in tags.columns:
            v = tags[key].astype("string").fillna("").to_numpy(dtype=object)
            has = (v != "") & (v != "no")
            out[has] = key + "=" + v[has]
    return out


def pois_from_features(features: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """POIs (one per feature) from OSM features with tag columns or pyrosm's ``tags``."""
    rules = load_sector_rules()
    keys = sorted({t.key for clauses in rules["rules"] for c in clauses for t in c}
                  | set(POI_KEYS) | {"name"})
    tags = _expand_tags(features, keys).reset_index(drop=True)
    category = main_tag(tags)
    keep = (category != "") & ~np.isin(category, NOT_SERVICES)
    sectors = sectors_of(tags, rules)
    osm_id = osm_ids(features)
    out = gpd.GeoDataFrame({
        "category": category, **{c: sectors[c].to_numpy() for c in sectors},
        "name": tags["name"].fillna("").to_numpy(object), "osm_id": osm_id.to_numpy(object),
        "source": source}, geometry=_points_of(features.geometry.to_numpy()), crs=4326)
    return out.loc[keep].reset_index(drop=True)


def read_osm_pois(path: str | Path) -> gpd.GeoDataFrame:
    """POIs of an ``.osm.pbf`` (pyrosm) or ``.osm`` XML (OSMnx) file."""
    path = Path(path)
    if not path.is_file():
        raise LayerValidationError(str(path), ["file not found"])
    feats = read_osm_features(path, POI_KEYS)
    if feats is None or len(feats) == 0:
        raise LayerValidationError(str(path), ["no points of interest (amenity, shop, office, "
                                               "tourism, leisure, healthcare or craft tags)"])
    return pois_from_features(feats, f"OpenStreetMap ({path.name}), ODbL")


def read_user_pois(path: str | Path, *, category_column: str = "category",
                   datum: str | int = "wgs84", layer: str | None = None,
                   columns: Mapping[str, str] | None = None,
                   on_bad_rows: str = "raise") -> gpd.GeoDataFrame:
    """POIs from a user file with a category column.

    A ``sector_9611`` column is kept when present; otherwise categories written as OSM
    ``key=value`` get their sector from the table, and categories that are sector names
    are their own sector. The file's other columns are kept (weights for hot spots,
    floor areas …; a population or capacity column cleaned to numbers). ``layer`` picks a
    layer or sheet; ``columns`` names the user's columns by role ({"category": "类型"};
    ``category_column`` is the older form).
    """
    from layers.sources import role_column, warn_rejected, with_role
    from layers.userfile import read_user_layer

    columns = with_role(columns, "category", category_column)
    gdf, report = read_user_layer(path, datum=datum, required_columns=("category",),
                                  layer=layer, columns=columns, on_bad_rows=on_bad_rows)
    warn_rejected(path, report)
    column = role_column(gdf, report, "category")
    cats = gdf[column].astype("string").str.strip().fillna("")
    empty = cats == ""
    if empty.any():
        rows = ", ".join(map(str, gdf.index[empty][:10]))
        raise LayerValidationError(str(path), [f"column '{report.columns.get('category', column)}'"
                                               f" is empty in {int(empty.sum())} row(s): {rows}"])
    rules = load_sector_rules()
    if "sector_9611" in gdf.columns:
        sector = gdf["sector_9611"].astype("string").fillna("").to_numpy(object)
    else:
        kv = cats.str.split("=", n=1, expand=True).reindex(columns=[0, 1])
        tags = pd.DataFrame({k: kv[1].where(kv[0] == k) for k in POI_KEYS}).reset_index(drop=True)
        sector = sectors_of(tags, rules)["sector_9611"].to_numpy(object)
        own = cats.isin(rules["sector_9611"]).to_numpy()
        sector[own] = cats.to_numpy(object)[own]
    group = pd.Series(sector).map(rules.set_index("sector_9611")["sector_group"]).fillna("")
    name = gdf["name"].astype(str) if "name" in gdf.columns else pd.Series("", index=gdf.index)
    out = gpd.GeoDataFrame({
        "category": cats.to_numpy(object), "sector_9611": sector,
        "sector_group": group.to_numpy(object), "name": name.to_numpy(object), "osm_id": "",
        "source": str(path)}, geometry=_points_of(gdf.geometry.to_numpy()), crs=4326,
        index=gdf.index)
    for col in gdf.columns:  # the user's own columns (weights, floor areas …) are kept
        if col not in out.columns and col not in (gdf.geometry.name, column):
            out[col] = gdf[col].to_numpy()
    return out


def read_osm_places(path: str | Path) -> gpd.GeoDataFrame:
    """Named ``place=*`` nodes (suburbs, neighbourhoods…) of an OSM file, for labels."""
    path = Path(path)
    try:
        if path.name.lower().endswith(".pbf"):
            import pyrosm

            feats = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
                custom_filter={"place": True}, keep_ways=False, keep_relations=False)
        else:
            import osmnx as ox

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                feats = ox.features_from_xml(path, tags={"place": True})
    except Exception:  # no place nodes is not an error: labels fall back to POI names
        feats = None
    if feats is None or len(feats) == 0:
        return gpd.GeoDataFrame({"name": [], "place": []}, geometry=[], crs=4326)
    tags = _expand_tags(feats, ["name", "place"]).reset_index(drop=True)
    out = gpd.GeoDataFrame({"name": tags["name"].fillna("").to_numpy(object),
                            "place": tags["place"].fillna("").to_numpy(object)},
                           geometry=_points_of(feats.geometry.to_numpy()), crs=4326)
    return out.loc[out["name"] != ""].reset_index(drop=True)
