"""What one controller can run at once: table scans placed in lanes under a scan-count and bytes/s cap.

A lane runs its scans one after another, so the number of lanes bounds the concurrent scans. The
bytes/s cap is kept on a time profile cut into at most PROFILE_STEPS steps: in each step a lane
counts at the highest rate of its scans touching that step, so the sum over lanes bounds the true
load at every instant (a step shared by two scans of one lane never counts both).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PROFILE_STEPS = 1024  # resolution of the bytes/s profile over the window
LANE_TRIES = 4  # lanes (earliest free first) tried before a scan is left out
RATE_SLACK = 1e-9  # relative: rates summed as floats must not fail an exact fit


@dataclass(frozen=True)
class Placement:
    lane: int
    start_s: int


def fit_lanes(scans: Sequence[tuple[int, float]], window_s: int, max_scans: int, max_bytes_per_s: float,
              ) -> list[Placement | None]:
    """Place each (duration_s, bytes_per_s) scan, in the order given, in the lane free first where it
    fits the window and the bytes/s cap; None for a scan that does not fit."""
    step = max(1, math.ceil(window_s / PROFILE_STEPS))
    total = [0.0] * math.ceil(window_s / step)
    lane_rates: dict[int, list[float]] = {}
    free = [(0, lane) for lane in range(max_scans)]  # (free from, lane): already a heap
    limit = max_bytes_per_s * (1 + RATE_SLACK)
    placed: list[Placement | None] = []
    for duration, rate in scans:
        if duration == 0:
            placed.append(Placement(free[0][1], free[0][0]))  # reads nothing, takes no time
            continue
        if duration > window_s or rate > limit:
            placed.append(None)
            continue
        tried: list[tuple[int, int]] = []
        found = None
        while free and len(tried) < LANE_TRIES:
            start, lane = heapq.heappop(free)
            tried.append((start, lane))
            if start + duration > window_s:
                break  # every other lane frees later still
            first, last = start // step, (start + duration - 1) // step
            rates = lane_rates.get(lane) or [0.0] * len(total)
            if all(load - own + (rate if rate > own else own) <= limit
                   for load, own in zip(total[first:last + 1], rates[first:last + 1], strict=True)):
                for index in range(first, last + 1):
                    if rate > rates[index]:
                        total[index] += rate - rates[index]
                        rates[index] = rate
                lane_rates[lane] = rates
                tried[-1] = (start + duration, lane)
                found = Placement(lane, start)
                break
        for entry in tried:
            heapq.heappush(free, entry)
        placed.append(found)
    return placed


@dataclass(frozen=True)
class Load:
    peak_scans: int
    peak_bytes_per_s: float
    steps: list[tuple[int, int, float]]  # (from offset, concurrent scans, bytes/s) where the load changes


def load_of(intervals: Iterable[tuple[int, int, float]]) -> Load:
    """The exact load of (start_s, duration_s, bytes_per_s) scans over time; a scan holds [start, end)."""
    events: list[tuple[int, int, float]] = []
    for start, duration, rate in intervals:
        if duration > 0:
            events += [(start, 1, rate), (start + duration, -1, -rate)]
    events.sort(key=lambda e: e[0])
    steps: list[tuple[int, int, float]] = []
    scans, rate_sum, peak_scans, peak_rate = 0, 0.0, 0, 0.0
    for index, (at, change, rate) in enumerate(events):
        scans += change
        rate_sum = max(0.0, rate_sum + rate) if scans else 0.0
        # The load from one instant on is what remains once every scan starting or ending then has.
        if index + 1 == len(events) or events[index + 1][0] != at:
            peak_scans, peak_rate = max(peak_scans, scans), max(peak_rate, rate_sum)
            steps.append((at, scans, rate_sum))
    return Load(peak_scans, peak_rate, steps)
