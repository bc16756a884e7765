"""Delivery's one travel-time model (delivery/travel.py), used by the façade and transport."""

from datetime import timedelta

import pytest

from delivery.travel import TYPICAL_SPEED_KMH, UNKNOWN_RIDE, ride_time, travel_time
from prime_now.kernel.geo import distance_km


def test_travel_time_is_the_distance_at_the_speed():
    assert travel_time(9.0, 18.0) == timedelta(minutes=30)


def test_travel_time_defaults_to_the_typical_speed():
    assert travel_time(TYPICAL_SPEED_KMH) == timedelta(hours=1)


def test_a_speed_that_is_not_positive_is_refused():
    with pytest.raises(ValueError):
        travel_time(1.0, 0)


def test_a_ride_is_the_kernels_distance_at_the_typical_speed():
    hub, door = (47.6, -122.33), (47.65, -122.30)

    ride = ride_time(from_lat=hub[0], from_lon=hub[1], to_lat=door[0], to_lon=door[1])

    assert ride == travel_time(distance_km(*hub, *door), TYPICAL_SPEED_KMH)


def test_a_door_without_coordinates_gets_a_typical_ride():
    assert ride_time(from_lat=47.6, from_lon=-122.33, to_lat=None, to_lon=None) == UNKNOWN_RIDE
