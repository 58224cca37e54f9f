"""Helpers for the geo unit tests: a tiny hand-made city as GeoJSON."""

from __future__ import annotations

DISTRICT, STREET, COMMUNITY = "110101", "110101001", "110101001001"


def _square(x0: float, y0: float, x1: float, y1: float, hole: tuple | None = None) -> dict:
    """GeoJSON Polygon of a box, optionally with a box hole."""
    outer = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    if hole is None:
        return {"type": "Polygon", "coordinates": [outer]}
    hx0, hy0, hx1, hy1 = hole
    inner = [[hx0, hy0], [hx0, hy1], [hx1, hy1], [hx1, hy0], [hx0, hy0]]
    return {"type": "Polygon", "coordinates": [outer, inner]}


def _feature(code: str, level: str, parent: str | None, geometry: dict, **extra) -> dict:
    """One grid feature."""
    props = {"code": code, "name": f"网格{code}", "level": level, "parent": parent, **extra}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def tiny_collection() -> dict:
    """A district with one street, one community and five unit grids.

    Units (lon 120.00–120.04, lat 30.00–30.02), codes chosen so the smallest code is not the
    first in reading order:
        003 | 001 |
        ----+-----+  005 (with an empty hole in the middle)
        004 | 002 |
    The 4-way corner of 001–004 is (120.01, 30.01).
    """
    whole = _square(120.0, 30.0, 120.04, 30.02)
    units = [
        ("001", _square(120.01, 30.01, 120.02, 30.02)),
        ("002", _square(120.01, 30.00, 120.02, 30.01)),
        ("003", _square(120.00, 30.01, 120.01, 30.02)),
        ("004", _square(120.00, 30.00, 120.01, 30.01)),
        ("005", _square(120.02, 30.00, 120.04, 30.02, hole=(120.025, 30.005, 120.035, 30.015))),
    ]
    features = [
        _feature(DISTRICT, "district", None, whole),
        _feature(STREET, "street", DISTRICT, whole),
        _feature(COMMUNITY, "community", STREET, whole, leader_name="王芳", leader_phone="13800000000"),
    ]
    features += [_feature(COMMUNITY + serial, "unit", COMMUNITY, geom, households=300) for serial, geom in units]
    return {"type": "FeatureCollection", "features": features}
