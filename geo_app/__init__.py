"""Chongqing 15-minute life-circle planner: the Python API.

``import geo_app as ga`` gives GeoDataFrame-first functions (loaded on first use, so importing
the package is instant)::

    net = ga.read_network("streets.osm.pbf")          # or ga.sample_path(): Helsinki, offline
    fac = ga.read_facilities("sites.csv", datum="gcj02")
    dem = ga.read_demand("homes.csv")
    res = ga.coverage(net, fac, dem, minutes=15)      # .demand has t_<category> seconds
    m = ga.maps.coverage_map(res, category="clinic")  # Folium map; ga.maps.save_offline_html

Readers: ``read_network``, ``read_facilities``, ``read_demand``, ``read_points``,
``load_districts``, ``sample_path``. Analyses: ``coverage``, ``site``, ``evaluate``,
``grid_candidates``, ``clusters``, ``hotspots``, ``catchments``, ``service_areas``.
Configuration: ``Settings``. Errors: ``GeoAppError`` (and ``InputError``, ``ParameterError``,
``OutputError``); warnings: ``GeoAppWarning`` (``DataWarning``, ``CoverageWarning``,
``EstimateWarning``), raised with :func:`warnings.warn` and listed on results.
"""

from importlib import import_module

__version__ = "0.2.0"

_API = {
    **dict.fromkeys(["read_network", "read_facilities", "read_demand", "read_points",
                     "load_districts", "sample_path", "coverage", "site", "evaluate",
                     "grid_candidates", "clusters", "hotspots", "catchments", "service_areas",
                     "SitingOutcome", "ServiceAreaResult"], "geo_app.api"),
    "Settings": "geo_app.config",
    **dict.fromkeys(["GeoAppError", "InputError", "ParameterError", "OutputError",
                     "GeoAppWarning", "DataWarning", "CoverageWarning", "EstimateWarning"],
                    "geo_app.errors"),
    "CoverageResult": "geo_app.workflows.coverage",
    "ClusterResult": "geo_app.workflows.clusters",
    "HotspotResult": "geo_app.workflows.hotspots",
    "CatchmentResult": "geo_app.workflows.catchments",
}

__all__ = ["__version__", "maps", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(import_module(_API[name]), name)
        globals()[name] = value
        return value
    if name == "maps":
        return import_module("geo_app.maps")
    raise AttributeError(f"module 'geo_app' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
