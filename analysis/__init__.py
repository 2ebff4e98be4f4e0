"""Pure computations on arrays and GeoDataFrames (walk graph, coverage, siting, clusters)."""
