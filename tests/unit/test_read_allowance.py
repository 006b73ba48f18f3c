"""read_allowance: a scan reads its share of the capacity that is there, never capacity a boost has not
delivered yet nor capacity the application raised for itself; the live capacity is re-read on a controlled clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.read_allowance import (
    CapacityWatch,
    ReadAllowance,
)

UNITS = st.integers(min_value=1, max_value=40_000)
SHARES = st.floats(min_value=0.01, max_value=1.0)


def test_without_a_boost_the_smaller_share_of_the_live_capacity() -> None:
    assert ReadAllowance(share=0.5, original_share=0.25).rate(200) == 50
    assert ReadAllowance(share=0.5, original_share=0.25).arrived(1)


def test_a_boost_is_read_on_as_far_as_it_has_arrived() -> None:
    allowance = ReadAllowance(share=0.8, original_share=0.25, original=100, boosted=1000)
    assert allowance.rate(100) == 25  # nothing arrived: the host's share of the table's own
    assert allowance.rate(300) == pytest.approx(225)  # 200 arrived, all ours, and the host share of the own 100
    assert allowance.rate(500) == pytest.approx(400)  # 400 arrived: now the plan share of what is there bounds it
    assert allowance.rate(1000) == pytest.approx(800)  # all there: the plan's share of it
    assert not allowance.arrived(999) and allowance.arrived(1000)


def test_capacity_raised_beyond_the_boost_is_the_applications() -> None:
    allowance = ReadAllowance(share=0.8, original_share=0.25, original=100, boosted=1000)
    assert allowance.rate(5000) == allowance.rate(1000)


def test_capacity_lowered_under_the_original_lowers_the_rate() -> None:
    allowance = ReadAllowance(share=0.8, original_share=0.25, original=100, boosted=1000)
    assert allowance.rate(40) == 10


def test_another_runs_boost_is_never_read_on() -> None:
    # The table carries a record (original 100) of a boost this run did not make.
    assert ReadAllowance(share=0.8, original_share=0.25, original=100).rate(1000) == 25


@settings(max_examples=200, deadline=None)
@given(share=SHARES, original_share=SHARES, original=st.none() | UNITS, boosted=st.none() | UNITS,
       capacity=UNITS, more=st.integers(min_value=0, max_value=40_000))
def test_the_rate_stays_within_both_limits_and_grows_with_capacity(share: float, original_share: float,
                                                                   original: int | None, boosted: int | None,
                                                                   capacity: int, more: int) -> None:
    allowance = ReadAllowance(share, original_share, original, boosted)
    rate = allowance.rate(capacity)
    own = capacity if original is None else min(capacity, original)
    assert 0 <= rate <= share * capacity + 1e-9
    added = rate - original_share * own
    ours = 0 if original is None or boosted is None else max(0, min(capacity, boosted) - original)
    assert added <= ours + 1e-9
    assert allowance.rate(capacity + more) >= rate - 1e-9


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Table:
    """The live read capacity, as DescribeTable would give it, with the reads counted."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.reads = capacity, 0

    def __call__(self) -> int:
        self.reads += 1
        return self.capacity


def test_a_boost_not_yet_there_is_polled_then_the_ordinary_recheck_resumes() -> None:
    clock, table = Clock(), Table(100)
    watch = CapacityWatch(ReadAllowance(0.8, 0.25, original=100, boosted=1000), table, clock=clock,
                          recheck_s=60, poll_s=5, wait_s=900)
    assert watch.rate() == 25 and watch.arrived_after_s is None
    clock.now += 4.9
    assert watch.due_rate() is None and table.reads == 1
    clock.now += 0.1
    table.capacity = 1000  # autoscaling delivered the new minimum
    assert watch.due_rate() == pytest.approx(800)
    assert watch.arrived_after_s == 5.0 and watch.capacity == 1000 and watch.highest_rate == pytest.approx(800)
    clock.now += 59
    assert watch.due_rate() is None
    clock.now += 1
    table.capacity = 300  # someone lowered it mid-scan
    assert watch.due_rate() == pytest.approx(0.25 * 100 + 200)
    assert watch.highest_rate == pytest.approx(800) and table.reads == 3


def test_a_boost_that_never_arrives_is_polled_for_wait_s_only() -> None:
    clock, table = Clock(), Table(100)
    watch = CapacityWatch(ReadAllowance(0.8, 0.25, original=100, boosted=1000), table, clock=clock,
                          recheck_s=60, poll_s=5, wait_s=12)
    watch.rate()
    for _poll in range(2):
        clock.now += 5
        assert watch.due_rate() == 25
    clock.now += 5  # 15 s: past the wait, the next read is a minute away
    watch.due_rate()
    clock.now += 5
    assert watch.due_rate() is None and table.reads == 4
    assert watch.arrived_after_s is None


def test_without_a_boost_the_capacity_is_rechecked_at_the_ordinary_interval() -> None:
    clock, table = Clock(), Table(400)
    watch = CapacityWatch(ReadAllowance(0.5, 0.5), table, clock=clock, recheck_s=60, poll_s=5)
    assert watch.rate() == 200 and watch.arrived_after_s == 0.0
    clock.now += 5
    assert watch.due_rate() is None
    clock.now += 55
    assert watch.due_rate() == 200 and table.reads == 2
