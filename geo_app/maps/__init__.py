"""Folium map builders: they take results and GeoDataFrames and only draw.

Options the CLI offers are defined here, so that ``geo-app --help`` needs no Folium.
"""

TILES = ("blank", "osm")
CHOROPLETH_VARIABLES = ("pop_2020", "density_per_km2", "region_group")
