"""How fast a backup may read a table whose capacity moves under it: a boost arriving late, an application or an
operator changing it mid-scan.

The rule: a scan takes its share of the capacity that is there now, and never more than what its own boost
has added so far plus its allowed share of the table's own capacity. Capacity a boost asked for and that has not
arrived yet (autoscaling raises a new minimum minutes later), and capacity the application raised for itself,
are never read on. `CapacityWatch` re-reads the live capacity during the scan and gives the rate to apply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# While a boost has not arrived, the table's capacity is read this often, so that the backup speeds up soon after
# autoscaling (or UpdateTable) delivers it; for this long at most, then at the ordinary interval.
BOOST_POLL_S = 5.0
BOOST_WAIT_S = 900.0
# A long scan re-reads the table's capacity this often (one DescribeTable), so that a capacity lowered or raised
# by someone else during the night moves the scan's rate with it.
CAPACITY_RECHECK_S = 60.0


@dataclass(frozen=True)
class ReadAllowance:
    """The shares a scan may read at, and what a boost of the table did.

    `share` applies to the live capacity (the plan's share of a boosted table, or the host's); `original_share`
    to the table's own capacity (the host's share: what the application can always spare). `original` is the
    table's own read capacity when a boost record is on it (None: the live capacity is the table's own);
    `boosted` what this run's boost set (None: no boost of this run to read on)."""

    share: float
    original_share: float
    original: int | None = None
    boosted: int | None = None

    def rate(self, capacity: int) -> float:
        """Read units per second allowed while the table has `capacity` read units."""
        own = capacity if self.original is None else min(capacity, self.original)
        added = 0
        if self.original is not None and self.boosted is not None:
            added = max(0, min(capacity, self.boosted) - self.original)
        return min(self.share * (own + added), added + self.original_share * own)

    def arrived(self, capacity: int) -> bool:
        """Whether this run's boost is all there (always, without one)."""
        return self.boosted is None or capacity >= self.boosted


class CapacityWatch:
    """The scan's rate from the table's live read capacity, re-read every `recheck_s` (every `poll_s` while a boost
    has not arrived, for `wait_s` at most). Shared by a scan's workers: one of them reads, the others go on."""

    def __init__(self, allowance: ReadAllowance, read_capacity: Callable[[], int],
                 clock: Callable[[], float] = time.monotonic, recheck_s: float = CAPACITY_RECHECK_S,
                 poll_s: float = BOOST_POLL_S, wait_s: float = BOOST_WAIT_S) -> None:
        self.allowance = allowance
        self._read = read_capacity
        self._clock = clock
        self._recheck_s, self._poll_s = recheck_s, poll_s
        self._started = clock()
        self._wait_until = self._started + wait_s
        self._next = self._started
        self._lock = threading.Lock()
        self.capacity = 0
        self.arrived_after_s: float | None = None  # seconds until this run's boost was all there
        self.highest_rate = 0.0

    def rate(self) -> float:
        """Read the capacity now and return the rate it allows (the first call, before the scan starts)."""
        with self._lock:
            return self._measure()

    def due_rate(self) -> float | None:
        """The rate to apply when a re-read is due (None: not due, or another worker is reading)."""
        if self._clock() < self._next or not self._lock.acquire(blocking=False):
            return None
        try:
            return self._measure() if self._clock() >= self._next else None
        finally:
            self._lock.release()

    def _measure(self) -> float:
        self.capacity = int(self._read())
        now = self._clock()
        if self.arrived_after_s is None and self.allowance.arrived(self.capacity):
            self.arrived_after_s = round(now - self._started, 3)
        waiting = self.arrived_after_s is None and now < self._wait_until
        self._next = now + (self._poll_s if waiting else self._recheck_s)
        rate = self.allowance.rate(self.capacity)
        self.highest_rate = max(self.highest_rate, rate)
        return rate
