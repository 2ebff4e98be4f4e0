"""Reading every source into a validated GeoDataFrame in EPSG:4326."""

from layers.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_gdf,
    convert_geometries,
    convert_xy,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from layers.datum_check import DatumShiftWarning, datum_shift_suspicion, warn_if_shifted
from layers.districts import DISTRICT_COLUMNS, load_districts, read_boundaries_gcj02
from layers.places import (
    PLACE_COLUMNS,
    PLACE_LAYERS,
    load_business_circles,
    load_clusters,
    load_logistics_bases,
    load_places,
)
from layers.userfile import LoadReport, read_user_layer
from layers.validate import LayerValidationError

__all__ = [
    "DISTRICT_COLUMNS",
    "PLACE_COLUMNS",
    "PLACE_LAYERS",
    "DatumShiftWarning",
    "LayerValidationError",
    "LoadReport",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_gdf",
    "convert_geometries",
    "convert_xy",
    "datum_shift_suspicion",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "load_business_circles",
    "load_clusters",
    "load_districts",
    "load_logistics_bases",
    "load_places",
    "read_boundaries_gcj02",
    "read_user_layer",
    "warn_if_shifted",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
