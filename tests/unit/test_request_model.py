"""request_model: the round trips a table's backup waits, and the measured round trip of the endpoint."""

from __future__ import annotations

from statistics import StatisticsError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.request_model import (
    SCAN_PAGE_BYTES,
    measured_round_trip_s,
    request_time_s,
    scan_pages,
)


@pytest.mark.parametrize(("size", "pages"), [(0, 1), (1, 1), (SCAN_PAGE_BYTES, 1), (SCAN_PAGE_BYTES + 1, 2),
                                             (10 * SCAN_PAGE_BYTES, 10)])
def test_scan_pages(size: int, pages: int) -> None:
    assert scan_pages(size) == pages


@settings(max_examples=100, deadline=None)
@given(size=st.integers(min_value=0, max_value=10**13), fixed=st.integers(min_value=0, max_value=50),
       latency=st.floats(min_value=0, max_value=1))
def test_request_time_is_every_request_times_the_round_trip(size: int, fixed: int, latency: float) -> None:
    pages = scan_pages(size)
    assert (pages - 1) * SCAN_PAGE_BYTES < size <= pages * SCAN_PAGE_BYTES or (size == 0 and pages == 1)
    assert request_time_s(size, fixed, latency) == pytest.approx((fixed + pages) * latency)


class SteppingClock:
    """A monotonic clock that moves only when the measured call runs: by the next of `steps`."""

    def __init__(self, steps: list[float]) -> None:
        self.now, self.steps = 100.0, list(steps)

    def __call__(self) -> float:
        return self.now

    def call(self) -> None:
        self.now += self.steps.pop(0)


def test_the_round_trip_is_the_median_of_the_samples_to_a_tenth_of_a_millisecond() -> None:
    clock = SteppingClock([0.2, 0.0123456, 0.015])  # one slow first call (a new connection) is left out
    assert measured_round_trip_s(clock.call, clock=clock) == 0.015
    assert clock.steps == []


def test_as_many_calls_as_samples() -> None:
    clock = SteppingClock([0.01, 0.03, 0.02, 0.9, 0.04])
    assert measured_round_trip_s(clock.call, samples=5, clock=clock) == 0.03
    with pytest.raises(StatisticsError, match="median"):
        measured_round_trip_s(clock.call, samples=0, clock=clock)  # no sample, no figure
