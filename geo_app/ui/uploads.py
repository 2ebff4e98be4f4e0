"""The data page's uploads: any input replaced on its own (the rest stays the sample or OSM
data), each with its own datum, layer or sheet, columns and category mapping, checked with the
reader the pages use and shown on a preview map with its validation table.

What the user chose lives in ``st.session_state["uploads"]`` (one record per input) and in the
data choice (``st.session_state["data"]``), so that it survives page and language switches;
widgets are seeded from the records. No server path is shown: files go by their names.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from geo_app.labels import facility_label, t
from geo_app.ui.assets import UPLOAD_SUFFIXES, upload_types
from geo_app.ui.common import (
    INPUT_KINDS,
    LOAD_ERRORS,
    L,
    base_layers,
    data_choice,
    saved_upload,
    show_error,
    show_map,
)
from geo_app.ui.state import forget
from geo_app.workflows import inputs
from geo_app.workflows import upload_text as text

DATUM_CHOICES = ("file", "wgs84", "cgcs2000", "gcj02", "bd09", "epsg")
MAX_MAPPED_VALUES = 30  # category values offered in the mapping table
_WIDGETS = ("upl_layer_", "upl_datum_", "upl_epsg_", "upl_col_", "upl_cat_")


def records() -> dict:
    """The upload record of each input kind (kept for the session)."""
    return st.session_state.setdefault("uploads", {})


def remember(key: str, default) -> None:
    """Seed widget ``key`` from the value kept for it (widgets off the page lose theirs)."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.setdefault("upl_kept", {}).get(key, default)


def keep(key: str) -> None:
    st.session_state.setdefault("upl_kept", {})[key] = st.session_state.get(key)


def _seed(key: str, value, options=None) -> None:
    if options is not None and st.session_state.get(key, value) not in options:
        forget(key)
        value = value if value in options else options[0]
    if key not in st.session_state:
        st.session_state[key] = value


def _forget_widgets(kind: str) -> None:
    """Drop the widgets of ``kind``'s settings, so they are seeded again from its record."""
    for key in [k for k in st.session_state if isinstance(k, str)
                and k.startswith(tuple(f"{p}{kind}" for p in _WIDGETS))]:
        forget(key)  # and its value kept for the session (ui/state.py), or it would come back


def _digest(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:10]


def _default_datum(info) -> str:
    """GCJ-02 for coordinates in a table (Amap and Tencent exports), the file's own CRS for
    GIS files that carry one, WGS-84 otherwise."""
    if info.table:
        return "gcj02"
    return "file" if info.crs else "wgs84"


def _new_record(kind: str, f, path: str) -> dict:
    info = inputs.upload_info(kind, path)
    return {"name": f.name, "path": path, "file_id": f.file_id, "info": info,
            "settings": {"datum": _default_datum(info), "epsg": "EPSG:4545", "layer": info.layer,
                         "columns": dict(info.guess), "category_map": {}},
            "checked": None, "check": None, "preview": None, "values": {}, "used": False}


def _args(rec: dict) -> dict:
    """The reader options of a record's settings: the datum resolved, the columns the user
    changed from what the alias table found, the category mapping."""
    info, s = rec["info"], rec["settings"]
    datum = s["datum"]
    if info.osm or info.raster:
        datum = "wgs84"
    elif datum == "file":
        datum = info.crs_datum or "wgs84"
    elif datum == "epsg":
        code = str(s["epsg"]).strip().upper().removeprefix("EPSG:").strip()
        datum = f"EPSG:{code}"
    columns = {r: c for r, c in s["columns"].items() if c and c != info.guess.get(r)}
    return {"datum": datum, "layer": s["layer"] if info.layers else None, "columns": columns,
            "category_map": dict(sorted(s["category_map"].items()))}


# ---------------------------------------------------------------- the data in use


def with_upload(data: dict, kind: str, path: str, name: str) -> dict:
    """The data choice with ``kind`` read from ``path`` (an upload called ``name``)."""
    out = {**data, kind: path, "names": {**data.get("names", {}), kind: name}}
    out["source"] = "upload"
    return out


def without_upload(data: dict, kind: str) -> dict:
    """The data choice with ``kind`` back to its default (the sample's or the OSM download's)."""
    names = {k: v for k, v in data.get("names", {}).items() if k != kind}
    out = {**data, kind: data.get("defaults", {}).get(kind), "names": names}
    out["source"] = "upload" if names else data.get("base", "sample")
    return out


def _default_source(data: dict, kind: str) -> str:
    if data.get("defaults", {}).get(kind):
        return "upl_src_osm" if data.get("base") == "osm" else "upl_src_sample"
    osm_net = inputs.is_osm_file(data["network"])
    return {"facilities": "upl_src_from_network" if osm_net else "upl_src_needed",
            "pois": "upl_src_from_network" if osm_net else "upl_src_needed",
            "demand": "upl_src_buildings" if osm_net else "upl_src_needed",
            "candidates": "upl_src_siting_page", "centres": "upl_src_bundled_centres",
            "bases": "upl_src_bundled_bases", "dem": "upl_src_flat"}.get(kind, "upl_src_needed")


def in_use_table(data: dict, lang: str) -> pd.DataFrame:
    """Each input, where it comes from and its file name (never a server path)."""
    names = data.get("names", {})
    return pd.DataFrame({
        t("upl_col_input", lang): [t(f"val_kind_{k}", lang) for k in INPUT_KINDS],
        t("upl_col_source", lang): [t("upl_src_upload" if k in names else
                                      _default_source(data, k), lang) for k in INPUT_KINDS],
        t("upl_col_file", lang): [names.get(k, "") for k in INPUT_KINDS]})


def adopt(kind: str, path: str, name: str) -> None:
    st.session_state["data"] = with_upload(data_choice(), kind, path, name)
    if kind == "network":  # another place: the study area follows the data again
        st.session_state.pop("study_area", None)


def reset(kind: str) -> None:
    st.session_state["data"] = without_upload(data_choice(), kind)
    rec = records().get(kind)
    if rec is not None:
        rec["used"] = False
    if kind == "network":
        st.session_state.pop("study_area", None)


def in_use() -> None:
    """The data in use, with a button per uploaded input to go back to its default."""
    lang = L()
    data = data_choice()
    st.markdown(f"**{t('upl_in_use', lang)}**")
    st.dataframe(in_use_table(data, lang), width="stretch", hide_index=True)
    uploaded = [k for k in INPUT_KINDS if k in data.get("names", {})]
    cols = st.columns(max(len(uploaded), 1))
    for col, kind in zip(cols, uploaded):
        if col.button(t("upl_reset", lang).format(kind=t(f"val_kind_{kind}", lang)),
                      key=f"upl_reset_{kind}"):
            reset(kind)
            st.rerun()


# ---------------------------------------------------------------- one upload


def _layer_and_datum(kind: str, rec: dict, lang: str) -> None:
    info, s = rec["info"], rec["settings"]
    if info.layers:
        key = f"upl_layer_{kind}"
        _seed(key, s["layer"], info.layers)
        layer = st.selectbox(t("upl_layer", lang), info.layers, key=key)
        if layer != info.layer:  # another layer: its columns and CRS
            info = rec["info"] = inputs.upload_info(kind, rec["path"], layer)
            s.update(layer=layer, columns=dict(info.guess))
            if not info.table:
                s["datum"] = _default_datum(info)
            for prefix in ("upl_datum_", "upl_col_"):
                for k in [k for k in st.session_state if str(k).startswith(prefix + kind)]:
                    del st.session_state[k]
    if info.osm:
        return
    if info.raster:
        if info.crs:
            st.caption(t("upl_datum_file", lang).format(crs=text.crs_label(info, lang)))
        return
    options = [k for k in DATUM_CHOICES if k != "file" or info.crs]
    key = f"upl_datum_{kind}"
    _seed(key, s["datum"], options)
    s["datum"] = st.selectbox(t("upl_datum", lang), options, key=key, format_func=lambda k: (
        t("upl_datum_file", lang).format(crs=text.crs_label(info, lang)) if k == "file"
        else t(k, lang)))
    if s["datum"] == "epsg":
        _seed(f"upl_epsg_{kind}", s["epsg"])
        s["epsg"] = st.text_input(t("epsg_code", lang), key=f"upl_epsg_{kind}")
    if info.table:
        st.caption(t("upl_datum_note", lang))
    elif not info.crs:
        st.caption(t("upl_no_crs", lang))


def _columns(kind: str, rec: dict, lang: str) -> None:
    info, s = rec["info"], rec["settings"]
    if not info.roles or not info.columns:
        return
    st.markdown(f"**{t('upl_columns', lang)}**")
    st.caption(t("upl_columns_note", lang))
    options = ["", *info.columns]
    cols = st.columns(min(4, len(info.roles)))
    for i, role in enumerate(info.roles):
        key = f"upl_col_{kind}_{role}"
        _seed(key, s["columns"].get(role, ""), options)
        s["columns"][role] = cols[i % len(cols)].selectbox(
            t(f"role_{role}", lang), options, key=key,
            format_func=lambda c: c or t("upl_none", lang))


@st.cache_resource(show_spinner=False)
def _basket() -> tuple[list[str], float]:
    return inputs.basket_categories()


def _category_map(kind: str, rec: dict, lang: str) -> None:
    """Category values outside the basket, each with a choice of basket category."""
    values = list(rec["values"].items())[:MAX_MAPPED_VALUES]
    if kind != "facilities" or not values:
        return
    keys, minutes = _basket()
    st.markdown(f"**{t('upl_category_map', lang)}**")
    st.caption(t("upl_category_map_note", lang).format(minutes=f"{minutes:g}"))
    chosen = rec["settings"]["category_map"]
    cols = st.columns(3)
    for i, (value, n) in enumerate(values):
        key = f"upl_cat_{kind}_{_digest(value)}"
        _seed(key, chosen.get(value, ""), ["", *keys])
        pick = cols[i % 3].selectbox(
            t("upl_value_rows", lang).format(value=value, n=n), ["", *keys], key=key,
            format_func=lambda k: facility_label(k, lang) if k else t("upl_keep_value", lang))
        if pick:
            chosen[value] = pick
        else:
            chosen.pop(value, None)


def _check(kind: str, rec: dict) -> bool:
    """Check the upload with its settings and use it when it passes; False when its checked
    copy cannot be written (the message is shown)."""
    lang = L()
    args = _args(rec)
    tag = _digest(json.dumps(args, sort_keys=True, ensure_ascii=False))
    with st.spinner(t("checking", lang)):
        check = inputs.check_upload(kind, rec["path"], **args)
        try:
            preview = inputs.preview_layer(check)
            copy = inputs.checked_copy(check, tag=tag, datum=args["datum"],
                                       layer=args["layer"]) if check.ok else None
        except LOAD_ERRORS as exc:  # a copy that cannot be written
            show_error(exc)
            return False
    check.data = None  # the pages read the copy; the session keeps the preview only
    rec.update(check=check, preview=preview, checked=tag, used=check.ok)
    for value, n in check.summary.get("unmatched", {}).items():
        rec["values"].setdefault(value, n)
    if check.ok:
        adopt(kind, copy, rec["name"])
    return True


def _results(kind: str, rec: dict, lang: str) -> None:
    check = rec["check"]
    if check is None:
        return
    args = _args(rec)
    if rec["checked"] != _digest(json.dumps(args, sort_keys=True, ensure_ascii=False)):
        st.info(t("upl_settings_changed", lang))
    if check.error:
        st.error(text.error_line(check, lang))
    if rec["used"]:
        st.success(t("upl_used", lang))
    elif not check.ok:
        st.warning(t("upl_not_used", lang))
    st.dataframe(inputs.checks_table([check], lang), width="stretch", hide_index=True)
    if text.read_text(check, lang):
        st.caption(text.read_text(check, lang))
    for line in text.warnings_of(check, lang):
        st.warning(line)
    unmapped = {v: n for v, n in check.summary.get("unmatched", {}).items()
                if v not in args["category_map"]}
    if unmapped:
        st.warning(text.unmatched_text(unmapped, lang, _basket()[1]))
    if check.rejected:
        st.markdown(f"**{t('upl_rejected', lang)}**")
        st.dataframe(text.rejected_table(check, lang), width="stretch", hide_index=True)
    if rec["preview"] is not None:
        from geo_app.maps.uploads import upload_map

        st.markdown(f"**{t('upl_preview', lang)}**")
        show_map(upload_map(rec["preview"], kind, lang=lang, districts=base_layers().districts,
                            total=rec["preview"].attrs.get("total")),
                 None, f"upl_map_{kind}", height=420)


def upload_panel() -> None:
    """Choose an input, upload its file, set how to read it, check it and use it."""
    lang = L()
    st.caption(t("upl_intro", lang))
    remember("upl_kind", INPUT_KINDS[1])
    kind = st.radio(t("upl_kind", lang), INPUT_KINDS, key="upl_kind", horizontal=True,
                    format_func=lambda k: t(f"val_kind_{k}", lang))
    keep("upl_kind")
    f = st.file_uploader(f"{t('upl_file', lang)}:{t('val_kind_' + kind, lang)}",
                         type=upload_types(kind), key=f"upl_file_{kind}")
    st.caption(t("upl_formats", lang).format(formats=" ".join(UPLOAD_SUFFIXES[kind])))
    rec = records().get(kind)
    if f is not None and (rec is None or rec["file_id"] != f.file_id):
        path = saved_upload(kind, f)
        if path is None:
            return
        rec = records()[kind] = _new_record(kind, f, path)
        _forget_widgets(kind)
    if rec is None:
        return
    if f is None:
        st.caption(t("upl_current", lang).format(name=rec["name"]))
    _layer_and_datum(kind, rec, lang)
    _columns(kind, rec, lang)
    _category_map(kind, rec, lang)
    if st.button(t("upl_check", lang), key=f"upl_check_{kind}", type="primary"):
        if _check(kind, rec):
            st.rerun()  # the table of the data in use, above, shows the new input
    _results(kind, rec, lang)
