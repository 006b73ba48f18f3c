# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Waiting: one poller, with a deadline, that names what it waited for; and sleeping until a moment."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError

T = TypeVar("T")


class PollTimeout(HippolyteError):
    """A wait gave up: what it waited for did not happen within its timeout."""


def poll_until(check: Callable[[], T | None], timeout: float, interval: float, what: str, *,
               max_interval: float | None = None, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call `check` until it returns something other than None, and return that.

    Sleeps `interval` between calls (doubling up to `max_interval` when one is given, for waits that may
    be long), never past the deadline; raises PollTimeout naming `what` once `timeout` seconds have passed.
    """
    deadline = clock() + timeout
    delay = interval
    while True:
        found = check()
        if found is not None:
            return found
        left = deadline - clock()
        if left <= 0:
            raise PollTimeout(f"gave up after {timeout:g} s {what}; raise the wait timeout or run again later")
        sleep(min(delay, left))
        if max_interval is not None:
            delay = min(delay * 2, max_interval)


def sleep_until(at: datetime, clock: Callable[[], datetime] = utc_now,
                sleep: Callable[[float], None] = time.sleep) -> datetime:
    """Sleep until `clock` reads `at` or later and return what it reads then (at once when `at` has passed).

    Sleeps again when it wakes early by the clock's reading: the collection's clock counts whole seconds."""
    while True:
        now = clock()
        left = (at - now).total_seconds()
        if left <= 0:
            return now
        sleep(left)
