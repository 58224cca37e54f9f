"""Chinese display coordinate systems and haversine distances."""

from __future__ import annotations

import numpy as np
import pytest

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.distance import haversine_m, haversine_m_many


def test_published_reference_values():
    # wandergis/coordtransform test values for (116.404, 39.915), Beijing
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-9)


def test_gcj02_offset_is_a_few_hundred_metres_in_china():
    shift = haversine_m(116.404, 39.915, *wgs84_to_gcj02(116.404, 39.915))
    assert 300 < shift < 700


@pytest.mark.parametrize(
    ("lon", "lat"), [(116.404, 39.915), (120.16, 30.27), (121.47, 31.23), (87.6, 43.8), (113.26, 23.13)]
)
def test_round_trips_within_a_metre(lon, lat):
    assert haversine_m(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))) < 0.5
    assert haversine_m(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))) < 1.0
    assert haversine_m(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 1.0


def test_no_shift_outside_china():
    assert out_of_china(2.35, 48.85) and not out_of_china(120.16, 30.27)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_haversine_known_distances():
    # one degree of latitude on the mean sphere, and Beijing → Shanghai (~1,067 km great circle)
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)
    assert haversine_m(120.16, 30.27, 120.16, 30.27) == 0.0


def test_haversine_many_matches_scalar():
    lons, lats = np.array([121.4737, 120.16, 0.0]), np.array([31.2304, 30.27, 0.0])
    many = haversine_m_many(116.4074, 39.9042, lons, lats)
    assert many == pytest.approx([haversine_m(116.4074, 39.9042, x, y) for x, y in zip(lons, lats)])
