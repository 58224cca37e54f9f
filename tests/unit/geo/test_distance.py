"""Great-circle bearings and destinations agree with the product's one distance function (haversine)."""

from __future__ import annotations

import math

import pytest

from geo.distance import bearing_deg, destination, haversine_m


def test_bearing_is_a_compass_bearing():
    assert bearing_deg(120.0, 30.0, 120.0, 30.001) == pytest.approx(0.0, abs=1e-3)
    assert bearing_deg(120.0, 30.0, 120.001, 30.0) == pytest.approx(90.0, abs=1e-3)
    assert bearing_deg(120.0, 30.0, 120.0, 29.999) == pytest.approx(180.0, abs=1e-3)
    assert bearing_deg(120.0, 30.0, 119.999, 30.0) == pytest.approx(270.0, abs=1e-3)
    assert bearing_deg(120.0, 30.0, 120.0, 30.0) == 0.0  # no direction: north, not NaN


def test_bearing_of_a_long_great_circle_is_its_initial_course():
    # due "east" along the 60th parallel the great circle sets off north-east: atan(2 / sqrt(3)) = 49.107°
    assert bearing_deg(0.0, 60.0, 90.0, 60.0) == pytest.approx(math.degrees(math.atan(2 / math.sqrt(3))))


@pytest.mark.parametrize("bearing", [0.0, 37.0, 90.0, 181.5, 270.0, 359.0])
@pytest.mark.parametrize("distance_m", [3.0, 150.0, 900.0, 50_000.0])
def test_destination_lies_at_the_distance_and_bearing_asked_for(distance_m, bearing):
    lon, lat = destination(120.16, 30.27, distance_m, bearing)
    assert haversine_m(120.16, 30.27, lon, lat) == pytest.approx(distance_m, rel=1e-9, abs=1e-6)
    assert (bearing_deg(120.16, 30.27, lon, lat) - bearing + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)


def test_destination_of_nothing_is_the_start_and_wraps_across_the_antimeridian():
    assert destination(120.16, 30.27, 0.0, 45.0) == pytest.approx((120.16, 30.27))
    lon, lat = destination(179.9999, 0.0, 1_000.0, 90.0)
    assert -180.0 <= lon < -179.99 and lat == pytest.approx(0.0, abs=1e-9)
    assert haversine_m(179.9999, 0.0, lon, lat) == pytest.approx(1_000.0, rel=1e-9)
