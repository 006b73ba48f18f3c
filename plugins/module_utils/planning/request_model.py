"""What a table's backup costs besides its bytes: the requests it makes, each one round trip to the endpoint.

A local backup makes a fixed number of requests before and after its data (describing the table and its
settings, claiming its folder, writing its manifest) and one Scan request per page. Each waits one round
trip, which the loopback stand-ins hide and a controller in AWS's region pays in full.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

SCAN_PAGE_BYTES = 1024**2  # DynamoDB answers a Scan with at most 1 MB of data
ROUND_TRIP_SAMPLES = 3


def scan_pages(size_bytes: int) -> int:
    """Scan requests a table's data takes: an empty table still answers one."""
    return max(1, math.ceil(size_bytes / SCAN_PAGE_BYTES))


def request_time_s(size_bytes: int, requests_per_table: int, request_latency_s: float) -> float:
    """Seconds a table's backup spends waiting on round trips: its fixed requests plus its Scan pages."""
    return (requests_per_table + scan_pages(size_bytes)) * request_latency_s


def measured_round_trip_s(call: Callable[[], object], samples: int = ROUND_TRIP_SAMPLES,
                          clock: Callable[[], float] = time.monotonic) -> float:
    """The median time of `samples` calls of a cheap request: the round trip every request of a night pays."""
    times = []
    for _sample in range(samples):
        started = clock()
        call()
        times.append(clock() - started)
    return round(statistics.median(times), 4)  # to a tenth of a millisecond: more is noise
