"""Great-circle distances, bearings and destinations on the WGS-84 mean sphere (haversine)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two (lon, lat) points in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_m_many(lon: float, lat: float, lons: npt.ArrayLike, lats: npt.ArrayLike) -> np.ndarray:
    """Great-circle distances in metres from one (lon, lat) point to arrays of points."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    dphi = phi2 - phi1
    dlam = np.radians(lons - lon)
    a = np.sin(dphi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Compass bearing (0 = north, 90 = east) of the great circle leaving the first (lon, lat) point for the second."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlam = math.radians(lon2 - lon1)
    east = math.sin(dlam) * math.cos(phi2)
    north = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlam)
    if east == 0 and north == 0:
        return 0.0
    return math.degrees(math.atan2(east, north)) % 360.0


def destination(lon: float, lat: float, distance_m: float, bearing: float) -> tuple[float, float]:
    """The (lon, lat) point distance_m metres away along the great circle leaving (lon, lat) at this compass bearing."""
    phi1, theta = math.radians(lat), math.radians(bearing)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    dlam = math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2)
    lon2 = lon + math.degrees(dlam)
    if not -180.0 <= lon2 <= 180.0:  # across the antimeridian
        lon2 = (lon2 + 540.0) % 360.0 - 180.0
    return lon2, math.degrees(phi2)
