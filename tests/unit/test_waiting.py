"""The shared waits of _base/waiting.py, on an injected clock and sleep (no real time passes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import sleep_until

START = datetime(2026, 11, 22, 23, 59, 0, tzinfo=UTC)


class WholeSecondClock:
    """A clock that reads whole seconds, as the collection's does, moved only by the sleeps it is given."""

    def __init__(self, at: datetime) -> None:
        self.exact = at
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.exact.replace(microsecond=0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.exact += timedelta(seconds=seconds)


def test_sleeps_until_the_moment_and_returns_it() -> None:
    clock = WholeSecondClock(START)

    woke = sleep_until(START + timedelta(minutes=1), clock, clock.sleep)

    assert woke == START + timedelta(minutes=1)
    assert clock.sleeps == [60.0]


def test_a_moment_already_past_returns_at_once_without_sleeping() -> None:
    clock = WholeSecondClock(START)

    assert sleep_until(START - timedelta(hours=1), clock, clock.sleep) == START
    assert clock.sleeps == []


@given(offset_ms=st.integers(min_value=1, max_value=10_000_000), late_us=st.integers(min_value=0, max_value=999_999))
def test_never_wakes_before_the_moment_by_a_whole_second_clock(offset_ms: int, late_us: int) -> None:
    """Started part-way into a second, the clock reads the second before: the wait still ends at or after the
    moment, and within one second of it."""
    clock = WholeSecondClock(START + timedelta(microseconds=late_us))
    at = START + timedelta(milliseconds=offset_ms)

    woke = sleep_until(at, clock, clock.sleep)

    assert at <= clock.exact < at + timedelta(seconds=1)
    assert woke == clock.exact.replace(microsecond=0)
