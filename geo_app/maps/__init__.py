"""Folium map builders: they take results and GeoDataFrames and only draw.

``geo_app.maps.coverage_map(result)`` and the other builders are loaded on first use, so the
options the CLI offers (defined here) need no Folium.
"""

from importlib import import_module

TILES = ("blank", "osm")
# the app also offers a base drawn from the user's own OSM data (maps/local_base.py); a map
# built without that data shows the blank base instead
APP_TILES = ("local", "blank", "osm")
CHOROPLETH_VARIABLES = ("pop_2020", "density_per_km2", "region_group")

_BUILDERS = {
    "overview_map": "geo_app.maps.base",
    "coverage_map": "geo_app.maps.coverage",
    "siting_map": "geo_app.maps.siting",
    "clusters_map": "geo_app.maps.clusters",
    "hotspot_map": "geo_app.maps.clusters",
    "density_map": "geo_app.maps.clusters",
    "catchment_map": "geo_app.maps.clusters",
    "service_area_map": "geo_app.maps.clusters",
    "upload_map": "geo_app.maps.uploads",
    "save_offline_html": "geo_app.maps.offline",
    "render_offline": "geo_app.maps.offline",
}

__all__ = ["APP_TILES", "CHOROPLETH_VARIABLES", "TILES", *_BUILDERS]


def __getattr__(name: str):
    if name in _BUILDERS:
        return getattr(import_module(_BUILDERS[name]), name)
    raise AttributeError(f"module 'geo_app.maps' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
