"""Scorecard charts (Altair/Vega-Lite, drawn by the browser offline: Streamlit bundles Vega):
bars of one metric per zone coloured by region group, small-multiple maps of several metrics
and the life circles coloured by whether they meet the standard. They only draw."""

from __future__ import annotations

import json

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd

from geo_app.io.scorecard import column_label, is_share
from geo_app.labels import t

REGION_COLOURS = {"中心城区": "#d7301f", "主城新区": "#fc8d59",
                  "渝东北三峡库区城镇群": "#4575b4", "渝东南武陵山区城镇群": "#1a9850"}
MAP_METRICS = ("residents_census", "share_basket", "circles_meeting", "facilities_per_10k")


def values(frame: pd.DataFrame, metric: str) -> pd.Series:
    """A metric as charted: shares in percent."""
    v = pd.to_numeric(frame[metric], errors="coerce")
    return 100 * v if is_share(metric) else v


def number_format(metric: str) -> str:
    """Vega number format of a metric: one decimal for shares and rates, whole numbers."""
    return ",.1f" if is_share(metric) or metric.endswith("_10k") else ",.0f"


def bar_chart(card, metric: str, lang: str = "zh", *, top: int | None = None) -> alt.Chart:
    """One bar per zone, longest first, coloured by region group where there is one."""
    z = card.views["scorecard"]
    data = pd.DataFrame({"zone": z["zone"].astype(str), "value": values(z, metric)})
    group = "region_group" in z.columns
    if group:
        data["group"] = z["region_group"].astype(str)
    data = data.dropna(subset=["value"]).sort_values("value", ascending=False)
    if top:
        data = data.head(top)
    title = column_label(metric, lang)
    enc = {"x": alt.X("value:Q", title=title, axis=alt.Axis(format=number_format(metric))),
           "y": alt.Y("zone:N", sort=None, title=None,
                      axis=alt.Axis(labelLimit=200, labelOverlap=False)),
           "tooltip": [alt.Tooltip("zone:N", title=column_label("zone", lang)),
                       alt.Tooltip("value:Q", title=title, format=number_format(metric))]}
    if group:
        enc["color"] = alt.Color("group:N", title=t("region_group", lang),
                                 scale=alt.Scale(domain=list(REGION_COLOURS),
                                                 range=list(REGION_COLOURS.values())))
    return alt.Chart(data).mark_bar().encode(**enc).properties(height=alt.Step(18))


def _features(gdf: gpd.GeoDataFrame, keep: list[str], tolerance: float) -> list[dict]:
    """GeoJSON features (simplified by ``tolerance`` degrees) with the kept properties."""
    g = gdf.to_crs(4326)
    simple = g.geometry.simplify(tolerance, preserve_topology=True) if tolerance else g.geometry
    props = g[keep].astype(object).where(g[keep].notna(), None)
    shaped = gpd.GeoDataFrame(props, geometry=simple.to_numpy(), crs=4326)
    return json.loads(shaped.to_json(drop_id=True))["features"]


def small_multiples(card, metrics=MAP_METRICS, lang: str = "zh", *, width: int = 230,
                    tolerance: float = 0.01) -> alt.HConcatChart:
    """One small map per metric, each with its own colour scale; zones without a value
    grey."""
    z = card.zones.copy()
    charts = []
    for m in metrics:
        if m not in z.columns:
            continue
        z["_v"] = values(z, m)
        data = alt.Data(values=_features(z, ["zone", "_v"], tolerance))
        title = column_label(m, lang)
        base = alt.Chart(data).project("mercator").properties(width=width, height=width,
                                                                 title=title)
        grey = base.mark_geoshape(fill="#e6e6e6", stroke="#999", strokeWidth=0.3)
        shade = base.mark_geoshape(stroke="#555", strokeWidth=0.3).encode(
            color=alt.Color("properties._v:Q", title=None,
                            scale=alt.Scale(scheme="yellowgreenblue"),
                            legend=alt.Legend(orient="bottom", gradientLength=width - 40,
                                              format=number_format(m))),
            tooltip=[alt.Tooltip("properties.zone:N", title=column_label("zone", lang)),
                     alt.Tooltip("properties._v:Q", title=title, format=",.1f")],
        ).transform_filter("isValid(datum.properties._v)")
        charts.append(grey + shade)
    return alt.hconcat(*charts).resolve_scale(color="independent")


def circles_chart(circles: gpd.GeoDataFrame, lang: str = "zh", *,
                  width: int = 520) -> alt.LayerChart:
    """The life circles: green where they meet the standard, red where not, outlined
    dashed where they are outside the bounds."""
    c = circles.copy()
    c["status"] = np.where(c["meets_standard"], t("card_meets", lang), t("card_fails", lang))
    c["bounds"] = np.where(c["within_bounds"], t("card_in_bounds", lang),
                           t("card_out_bounds", lang))
    keep = ["circle", "status", "bounds", "residents", "basket_share", "lacking_zh"]
    c["basket_share"] = 100 * c["basket_share"]
    data = alt.Data(values=_features(c, keep, 2e-5))  # ~2 m: lighter, same picture
    return alt.Chart(data).mark_geoshape(stroke="#333", strokeWidth=0.6, opacity=0.8).encode(
        color=alt.Color("properties.status:N", title=None,
                        scale=alt.Scale(domain=[t("card_meets", lang), t("card_fails", lang)],
                                        range=["#1a9850", "#d73027"])),
        strokeDash=alt.StrokeDash("properties.bounds:N", title=None),
        tooltip=[alt.Tooltip("properties.circle:Q", title=column_label("circle", lang)),
                 alt.Tooltip("properties.residents:Q", title=column_label("residents", lang),
                             format=",.0f"),
                 alt.Tooltip("properties.basket_share:Q",
                             title=column_label("basket_share", lang), format=".1f"),
                 alt.Tooltip("properties.bounds:N", title=column_label("within_bounds", lang)),
                 alt.Tooltip("properties.lacking_zh:N", title=column_label("lacking_zh", lang))],
    ).project("mercator").properties(width=width, height=width)
