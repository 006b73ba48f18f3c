"""A thread-safe token bucket for read capacity units, fed by what DynamoDB reports as consumed.

A Scan's cost is known only after it returns (ReturnConsumedCapacity), so the bucket runs on
debt: a worker waits until the balance is positive, makes its call, then pays what was consumed.
Over any interval T the consumption is therefore at most rate * T + burst + the pages in flight,
which the caller keeps small by sizing pages from the observed cost per item.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        # Starting empty rather than full keeps the first second at the target too.
        self.burst = rate if burst is None else burst
        self._clock = clock
        self._sleep = sleep
        self._balance = 0.0
        self._last = clock()
        self._lock = threading.Lock()
        self.consumed = 0.0

    def _refill(self) -> None:
        now = self._clock()
        self._balance = min(self.burst, self._balance + (now - self._last) * self.rate)
        self._last = now

    def set_rate(self, rate: float, burst: float) -> None:
        """A new rate from now on (what was earned so far at the old one is kept, up to the new burst)."""
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        with self._lock:
            self._refill()
            self.rate, self.burst = rate, burst
            self._balance = min(self._balance, burst)

    def wait(self, stop: threading.Event | None = None) -> None:
        """Block until the balance is positive (there is credit for one more call), or until `stop` is set."""
        while True:
            with self._lock:
                self._refill()
                if self._balance > 0:
                    return
                shortfall = -self._balance
            delay = shortfall / self.rate + 0.001
            if stop is None:
                self._sleep(delay)
            elif stop.wait(delay):  # a big page's debt can mean a long wait: a stop cuts it short
                return

    def pay(self, units: float) -> None:
        """Record what a call consumed; the balance may go negative and later callers wait it off."""
        with self._lock:
            self._refill()
            self._balance -= units
            self.consumed += units


class Unlimited:
    """Stands in for a bucket when no limit applies; still counts consumption for the report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.consumed = 0.0

    def wait(self, stop: threading.Event | None = None) -> None:
        return None

    def pay(self, units: float) -> None:
        with self._lock:
            self.consumed += units
