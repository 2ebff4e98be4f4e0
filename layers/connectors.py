"""Vertical connectors and walkers: OSM tags → connector kind of each way, and the two
editable tables of speeds, waits and who may use what (``data/gis/connectors.csv``,
``data/gis/walker_profiles.csv``).

A way's ``kind`` (first rule that applies):

- ``escalator``: ``highway=steps`` (or ``escalator``) with ``conveying`` ≠ ``no``;
  ``moving_walkway``: any other way with ``conveying``;
- ``elevator``: ``highway=elevator`` (a way; an elevator *node* is a node flag, ``lift``);
- ``steps``: ``highway=steps``;
- on foot ways (``footway``, ``path``, ``pedestrian``, ``corridor``): ``passage``
  (``highway=corridor``, ``tunnel=building_passage``, ``indoor`` ≠ ``no``), ``footbridge``
  (``bridge`` ≠ ``no``, or ``layer`` ≥ 1), ``underpass`` (``tunnel`` ≠ ``no``, or ``layer``
  ≤ −1), ``crossing_signals`` / ``crossing`` (``footway=crossing``; signals when
  ``crossing=traffic_signals``);
- ``street`` otherwise.

``direction`` (int8, along the way's node order): escalators and moving walkways follow
``conveying`` (``forward`` 1, ``backward`` −1, ``yes``/``reversible`` both ways, 0) or, failing
that, ``oneway``; any way follows ``oneway:foot``. ``incline`` (int8): 1 rises along the
way, −1 falls, 0 unknown (``up``/``down`` or a signed number). ``step_count``: the tag as a
number (NaN where absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layers.resources import data_dir
from layers.validate import Column, Problems, read_table

KINDS = ("street", "steps", "escalator", "moving_walkway", "elevator", "footbridge",
         "underpass", "passage", "crossing", "crossing_signals")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
# the tags the rules read, besides highway (scanned by every OSM reader in walk mode)
CONNECTOR_TAGS = ("conveying", "incline", "step_count", "bridge", "tunnel", "layer", "indoor",
                  "footway", "crossing", "oneway", "oneway:foot")
_FOOT = ("footway", "path", "pedestrian", "corridor")
_YES = ("yes", "true", "1")


def _series(tags, key: str) -> pd.Series | None:
    """Column ``key`` of ``tags`` as a pandas Series (None when absent)."""
    if key not in tags:
        return None
    col = tags[key]
    return col if isinstance(col, pd.Series) else pd.Series(np.asarray(col, dtype=object))


def _text(tags, key: str, rows: np.ndarray) -> pd.Series:
    """Values of tag ``key`` at ``rows``, stripped text (NA where untagged)."""
    col = _series(tags, key)
    if col is None:
        return pd.Series(pd.NA, index=pd.RangeIndex(len(rows)), dtype="string")
    got = col.iloc[rows].astype("string").str.strip()
    return got.reset_index(drop=True)


def _number(text: pd.Series) -> np.ndarray:
    """Leading signed number of each value (``"10%"`` → 10, ``"-3"`` → −3), NaN otherwise."""
    out = np.full(len(text), np.nan)
    has = np.flatnonzero(np.asarray(text.fillna("") != "", dtype=bool))
    if len(has):
        got = text.iloc[has].str.extract(r"^([+-]?\d+(?:[.,]\d+)?)")[0].str.replace(",", ".")
        out[has] = pd.to_numeric(got, errors="coerce").to_numpy(float)
    return out


def classify(tags) -> pd.DataFrame:
    """``kind`` (int8 code into :data:`KINDS`), ``direction``, ``incline`` (int8) and
    ``step_count`` (float) of ways from their tags (a mapping or table of tag columns;
    missing columns count as untagged). Only the ways with a connector tag are looked at."""
    highway = _series(tags, "highway")
    n = 0 if highway is None else len(highway)
    kind = np.zeros(n, np.int8)
    direction = np.zeros(n, np.int8)
    incline = np.zeros(n, np.int8)
    steps = np.full(n, np.nan)
    special = np.zeros(n, bool) if highway is None else np.array(
        highway.isin(("steps", "elevator", "corridor", "escalator")), dtype=bool)
    for key in CONNECTOR_TAGS:
        col = _series(tags, key)
        if col is not None:
            special |= np.asarray(col.notna(), dtype=bool)
    idx = np.flatnonzero(special)
    if not len(idx):
        return pd.DataFrame({"kind": kind, "direction": direction, "incline": incline,
                             "step_count": steps})
    t = {k: _text(tags, k, idx).fillna("") for k in ("highway", *CONNECTOR_TAGS)}
    hw = t["highway"]
    conveying = ~t["conveying"].isin(("", "no"))
    foot = hw.isin(_FOOT)
    on = {k: (~t[k].isin(("", "no"))).to_numpy(bool) for k in ("bridge", "tunnel", "indoor")}
    layer = _number(t["layer"])
    stairs = hw.isin(("steps", "escalator")).to_numpy(bool)
    rules = [  # (mask, kind), first match wins
        (stairs & conveying.to_numpy(bool), "escalator"),
        ((hw == "escalator").to_numpy(bool), "escalator"),
        (conveying.to_numpy(bool), "moving_walkway"),
        ((hw == "elevator").to_numpy(bool), "elevator"),
        ((hw == "steps").to_numpy(bool), "steps"),
        (((hw == "corridor") | foot & (t["tunnel"] == "building_passage")).to_numpy(bool)
         | foot.to_numpy(bool) & on["indoor"], "passage"),
        (foot.to_numpy(bool) & (on["bridge"] | (layer >= 1)), "footbridge"),
        (foot.to_numpy(bool) & (on["tunnel"] | (layer <= -1)), "underpass"),
        ((foot & (t["footway"] == "crossing") & (t["crossing"] == "traffic_signals"))
         .to_numpy(bool), "crossing_signals"),
        ((foot & (t["footway"] == "crossing")).to_numpy(bool), "crossing"),
    ]
    code = np.zeros(len(idx), np.int8)
    done = np.zeros(len(idx), bool)
    for mask, name in rules:
        hit = np.asarray(mask, bool) & ~done
        code[hit] = KIND_CODE[name]
        done |= hit
    kind[idx] = code
    conv = t["conveying"]
    machine = np.isin(code, (KIND_CODE["escalator"], KIND_CODE["moving_walkway"]))
    oneway = t["oneway"].str.lower()
    d = np.where(conv == "forward", 1, np.where(conv == "backward", -1, 0))
    by_oneway = np.where(oneway.isin(_YES), 1, np.where(oneway.isin(("-1", "reverse")), -1, 0))
    d = np.where(machine & (d == 0) & ~conv.isin(("reversible",)).to_numpy(bool), by_oneway, d)
    foot_way = t["oneway:foot"].str.lower()
    d = np.where(foot_way.isin(_YES), 1, np.where(foot_way.isin(("-1", "reverse")), -1,
                                                   np.where(foot_way == "no", 0, d)))
    direction[idx] = d
    inc = t["incline"].str.lower()
    num = _number(inc)
    incline[idx] = np.where(inc == "up", 1, np.where(inc == "down", -1,
                            np.sign(np.nan_to_num(num)).astype(np.int8)))
    count = _number(t["step_count"])
    steps[idx] = np.where(count > 0, count, np.nan)
    return pd.DataFrame({"kind": kind, "direction": direction, "incline": incline,
                         "step_count": steps})


def kind_names(codes) -> np.ndarray:
    """Kind names (object array) of :func:`classify`'s codes."""
    return np.asarray(KINDS, dtype=object)[np.asarray(codes, np.int64)]


def parse_ele(values) -> np.ndarray:
    """Elevations (m) from OSM ``ele`` text: ``"245"``, ``"245.5 m"``, ``"800 ft"``; NaN for
    anything else."""
    text = pd.Series(np.asarray(values, dtype=object)).astype("string").str.strip().str.lower()
    parts = text.str.extract(r"^([+-]?\d+(?:[.,]\d+)?)\s*(m|ft|feet)?$")
    number = pd.to_numeric(parts[0].str.replace(",", "."), errors="coerce").to_numpy(float)
    feet = parts[1].isin(("ft", "feet")).to_numpy(bool)
    return np.where(feet, number * 0.3048, number)


# ------------------------------------------------------------------------ tables

CONNECTORS_SCHEMA = (
    Column("kind", allowed=KINDS, doc="connector kind (see layers.connectors.KINDS)"),
    Column("osm", doc="the OSM tags that give this kind"),
    Column("speed_m_s", "float", required=False, lo=0.05, hi=5,
           doc="speed over the horizontal length (m/s); empty: the walker's own speed"),
    Column("wait_s", "float", lo=0, hi=1800, doc="waiting (and riding) time per use (s)"),
    Column("step_free", allowed=("yes", "no"), doc="usable without climbing steps"),
    Column("slope", allowed=("yes", "no"),
           doc="yes: the rise along it slows walkers (Tobler) and counts for max_grade"),
    Column("tread_m", "float", required=False, lo=0.15, hi=1.0,
           doc="steps only: horizontal run per step (m), for step_count"),
    Column("source"),
    Column("status", allowed=("ok", "verify")),
)

PROFILES_SCHEMA = (
    Column("profile", doc="profile name used on the command line"),
    Column("label_zh"),
    Column("label_en"),
    Column("flat_m_s", "float", lo=0.1, hi=3, doc="walking speed on level ground (m/s)"),
    Column("stairs_up_m_s", "float", required=False, lo=0.05, hi=2,
           doc="horizontal speed climbing stairs (m/s); empty: stairs not usable"),
    Column("stairs_down_m_s", "float", required=False, lo=0.05, hi=2,
           doc="horizontal speed going down stairs (m/s); empty: stairs not usable"),
    Column("step_free_only", allowed=("yes", "no"),
           doc="yes: only step-free connectors (no steps, no escalators)"),
    Column("max_grade", "float", required=False, lo=0.005, hi=1,
           doc="steepest walkable grade (rise/run); empty: no limit"),
    Column("source"),
    Column("status", allowed=("ok", "verify")),
)


def load_connectors(path: str | Path | None = None) -> pd.DataFrame:
    """The connector table (``data/gis/connectors.csv`` unless ``path``), indexed by
    ``kind``: one row per kind of :data:`KINDS`, each checked (file, row, column named)."""
    path = Path(path) if path is not None else data_dir() / "connectors.csv"
    df, problems = read_table(path, CONNECTORS_SCHEMA, unique="kind")
    if "kind" in df.columns:
        missing = sorted(set(KINDS) - set(df["kind"].dropna()))
        if missing:
            problems.add(f"no row for kind(s) {', '.join(missing)}", column="kind")
    if {"kind", "tread_m"} <= set(df.columns):
        bad = (df["kind"] == "steps").to_numpy() & df["tread_m"].isna().to_numpy()
        if bad.any():
            problems.add("the steps row needs a tread_m (m per step)", column="tread_m")
    problems.raise_if_any()
    return df.set_index("kind", drop=False)


def load_walker_profiles(path: str | Path | None = None) -> pd.DataFrame:
    """The walker profiles (``data/gis/walker_profiles.csv`` unless ``path``), indexed by
    ``profile``; stairs speeds come in pairs (both or neither)."""
    path = Path(path) if path is not None else data_dir() / "walker_profiles.csv"
    df, problems = read_table(path, PROFILES_SCHEMA, unique="profile")
    if {"stairs_up_m_s", "stairs_down_m_s"} <= set(df.columns):
        half = df["stairs_up_m_s"].isna().to_numpy() != df["stairs_down_m_s"].isna().to_numpy()
        for i in np.flatnonzero(half):
            problems.add("give both stairs speeds or neither (neither: no stairs)",
                         row=int(i) + 2, column="stairs_up_m_s")
    problems.raise_if_any()
    return df.set_index("profile", drop=False)


# ------------------------------------------------------------------------ network columns

KIND_ALIASES = {"stairs": "steps", "lift": "elevator", "bridge": "footbridge",
                "tunnel": "underpass"}  # words a planner's centre-line table may use


def kind_codes(names) -> np.ndarray:
    """Codes of kind names (aliases such as ``stairs`` allowed); −1 for unknown names,
    0 (street) for empty ones."""
    text = pd.Series(np.asarray(names, dtype=object)).astype("string").str.strip().str.lower()
    text = text.replace(KIND_ALIASES).fillna("")
    code = text.map({**KIND_CODE, "": 0}).astype("float").fillna(-1)
    return code.to_numpy(np.int8)


def way_share(way_id: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    """Each segment's share of its way's length (segments of a way follow each other; a
    way of zero length shares equally)."""
    way = np.asarray(way_id)
    length = np.asarray(length_m, float)
    if not len(way):
        return np.zeros(0)
    start = np.flatnonzero(np.r_[True, way[1:] != way[:-1]])
    run = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(way)]))
    total = np.add.reduceat(length, start)[run]
    count = np.diff(np.r_[start, len(way)])[run]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, length / total, 1.0 / count)


def walk_columns(edges: pd.DataFrame) -> dict[str, np.ndarray]:
    """``kind`` (categorical names), ``direction``, ``incline`` (int8), ``steps`` (steps on
    the segment: the way's ``step_count`` × its share, NaN unknown) and ``way_share`` of
    walk segments.

    Reads codes already derived per way (the ``.osm.pbf`` reader), else the tag columns
    present; a ``kind`` column of names (a centre-line table) wins where filled.
    """
    if "kind" in edges.columns and pd.api.types.is_integer_dtype(edges["kind"].dtype):
        derived = {c: edges[c].to_numpy() for c in ("kind", "direction", "incline",
                                                    "step_count")}
    else:
        frame = classify(edges)
        derived = {c: frame[c].to_numpy() for c in frame.columns}
        if "kind" in edges.columns:
            named = kind_codes(edges["kind"].to_numpy(object))
            derived["kind"] = np.where(named > 0, named, derived["kind"]).astype(np.int8)
    length = edges["length"].to_numpy(float) if "length" in edges.columns \
        else edges["length_m"].to_numpy(float)
    way = edges["way_id"].to_numpy() if "way_id" in edges.columns else np.arange(len(edges))
    share = way_share(way, length)
    return {"kind": pd.Categorical.from_codes(np.asarray(derived["kind"], np.int8), KINDS),
            "direction": np.asarray(derived["direction"], np.int8),
            "incline": np.asarray(derived["incline"], np.int8),
            "steps": np.asarray(derived["step_count"], float) * share,
            "way_share": share}


NODE_KEYS = ("highway", "ele", "crossing")  # the node tags the readers keep (walk mode)


def node_columns(nodes: pd.DataFrame) -> dict[str, np.ndarray]:
    """``lift`` (a ``highway=elevator`` node), ``signal`` (``highway=traffic_signals`` or
    ``crossing=traffic_signals``: a signalled crossing) and ``ele_m`` (OSM ``ele``, m, NaN
    where untagged) from the ``node:highway`` / ``node:crossing`` / ``node:ele`` columns a
    reader kept."""
    n = len(nodes)
    signal = np.zeros(n, bool)
    for key in ("node:highway", "node:crossing"):
        if key in nodes.columns:
            signal |= (nodes[key].astype("string") == "traffic_signals").fillna(False) \
                .to_numpy(bool)
    lift = np.zeros(n, bool)
    ele = np.full(n, np.nan)
    if "node:highway" in nodes.columns:
        lift = (nodes["node:highway"].astype("string") == "elevator").fillna(False)
        lift = lift.to_numpy(bool)
    if "node:ele" in nodes.columns:
        col = nodes["node:ele"]
        has = np.flatnonzero(np.asarray(col.notna(), dtype=bool))
        ele[has] = parse_ele(col.iloc[has].to_numpy(object))
    return {"lift": lift, "signal": signal, "ele_m": ele}


def tags_from_json(edges: pd.DataFrame, keys, column: str = "tags") -> pd.DataFrame:
    """``edges`` with a column per key of ``keys`` filled from a JSON text column of other
    tags (pyrosm's ``tags``) where the key has no column of its own or it is empty."""
    import json
    import re

    if column not in edges.columns:
        return edges
    text = edges[column].astype("string")
    has = np.flatnonzero(np.asarray(text.notna(), dtype=bool))
    out = edges.copy() if len(has) else edges
    for key in keys:
        pattern = '"' + re.escape(key) + r'":\s*"((?:[^"\\]|\\.)*)"'
        got = text.iloc[has].str.extract(pattern)[0]
        escaped = got.str.contains("\\", regex=False).fillna(False).to_numpy(bool)
        if escaped.any():
            got[escaped] = [json.loads(f'"{v}"') for v in got[escaped]]
        col = (out[key].astype("string") if key in out.columns
               else pd.Series(pd.NA, index=out.index, dtype="string"))
        values = col.to_numpy(object)
        fill = pd.isna(values[has]) & got.notna().to_numpy(bool)
        values[has[fill]] = got.to_numpy(object)[fill]
        out[key] = pd.array(values, dtype="string")
    return out


def node_tags_from_dicts(nodes: pd.DataFrame, keys, column: str = "tags") -> pd.DataFrame:
    """``nodes`` with a ``node:<key>`` column per key, from a column of tag dicts (pyrosm's
    nodes); only the tagged nodes are looked at."""
    tagged = nodes[column].to_numpy(object) if column in nodes.columns else np.zeros(0, object)
    has = np.flatnonzero(pd.notna(tagged)) if len(tagged) else np.zeros(0, np.int64)
    out = nodes.copy()
    for key in keys:
        col = np.full(len(nodes), None, dtype=object)
        col[has] = [tagged[i].get(key) if isinstance(tagged[i], dict) else None for i in has]
        out[f"node:{key}"] = pd.array(col, dtype="string")
    return out


def check_kind_column(kind: pd.Series, source: str) -> None:
    """Refuse ``kind`` values (a centre-line table's) that name no connector kind, by row."""
    bad = np.flatnonzero(kind_codes(kind.to_numpy(object)) < 0)
    problems = Problems(source)
    allowed = ", ".join([*KINDS, *KIND_ALIASES])
    for i in bad[:20]:
        problems.add(f"unknown kind {kind.iloc[i]!r}; use one of {allowed} (or leave empty)",
                     row=int(i) + 1, column="kind")
    problems.raise_if_any()
