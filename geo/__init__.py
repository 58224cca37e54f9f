"""Pure spatial code: the grid hierarchy, GeoJSON import, point location and coordinate systems."""
