"""The token bucket, on a simulated clock so the arithmetic is checked exactly."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket, Unlimited


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        TokenBucket(0)


def test_waits_off_debt_before_the_next_call() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    bucket.wait()  # starts empty: the first call waits a moment for credit
    bucket.pay(50)  # one expensive page: 5 s of budget
    before = clock.now
    bucket.wait()
    assert clock.now - before == pytest.approx(5.0, abs=0.01)


@given(st.lists(st.floats(min_value=0.5, max_value=40), min_size=20, max_size=200),
       st.floats(min_value=1, max_value=500))
@settings(max_examples=100, deadline=None)
def test_long_run_consumption_stays_at_the_rate(pages: list[float], rate: float) -> None:
    """Whatever the page costs, consumed units never exceed rate * elapsed + burst + the last page."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst=rate * 0.2, clock=clock, sleep=clock.sleep)
    for units in pages:
        bucket.wait()
        bucket.pay(units)
        assert bucket.consumed <= rate * clock.now + rate * 0.2 + units + 1e-6
    assert bucket.consumed == pytest.approx(sum(pages))


def test_idle_time_does_not_bank_more_than_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst=2, clock=clock, sleep=clock.sleep)
    clock.now = 1000.0  # a long pause
    spent = 0.0
    while True:
        before = clock.now
        bucket.wait()
        if clock.now > before:
            break
        bucket.pay(1)
        spent += 1
    assert spent <= 3  # at most the burst (and the call that used its last credit)


def test_threads_share_one_budget() -> None:
    bucket = TokenBucket(1000)

    def work() -> None:
        for _call in range(50):
            bucket.wait()
            bucket.pay(1)
    threads = [threading.Thread(target=work) for _worker in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bucket.consumed == 200


def test_unlimited_only_counts() -> None:
    unlimited = Unlimited()
    unlimited.wait()
    unlimited.pay(3.5)
    assert unlimited.consumed == 3.5
