# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The windows of DynamoDB's incremental exports: one every `every`, end to end after the last, never a gap.

An incremental export holds the changes of [ExportFromTime, ExportToTime): DynamoDB takes 15 minutes to 24 hours.
Each window's end is a recovery point: the full backup, then every window up to it, restores the table as it was
just before that second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

SHORTEST = timedelta(minutes=15)  # DynamoDB's limits for one incremental export's window
LONGEST = timedelta(hours=24)
_EVERY = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?")


@dataclass(frozen=True, order=True)
class Window:
    start: datetime  # ExportFromTime, included
    end: datetime  # ExportToTime, excluded: the recovery point

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def parse_every(text: object, field: str = "every") -> timedelta:
    """`15m`, `1h`, `2h30m`: how often an increment is exported; InputError outside DynamoDB's 15 min to 24 h."""
    match = _EVERY.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise InputError(field, f"{text!r} is not a duration", "give hours and/or minutes, e.g. 15m, 1h or 2h30m")
    every = timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))
    if not SHORTEST <= every <= LONGEST:
        raise InputError(field, f"{text!r} is outside DynamoDB's incremental export window",
                         "give 15m to 24h")
    return every


def next_windows(after: datetime, every: timedelta, now: datetime, limit: int) -> list[Window]:
    """The windows to export now: end to end from `after` (the end of the last one, or the full export's time),
    each `every` long and ended by `now`; at most `limit` of them (the oldest first), so a long outage is caught
    up over a few runs rather than in one burst of exports."""
    if not SHORTEST <= every <= LONGEST:
        raise ValueError(f"window length {every} is outside {SHORTEST}..{LONGEST}")
    windows: list[Window] = []
    start = after
    while start + every <= now and len(windows) < limit:
        windows.append(Window(start, start + every))
        start += every
    return windows


def chain(windows: list[Window], base: datetime, until: datetime) -> list[Window]:
    """The windows that carry a full backup taken at `base` forward to the latest end at or before `until`: the
    first holds `base` (or starts there), each next one starts where the one before ended. Stops at a gap."""
    ordered = sorted(windows)
    links: list[Window] = []
    reached = base
    for window in ordered:
        if window.end > until:
            break
        if window.end <= reached:
            continue  # wholly before the base, or before the chain's end
        if window.start > reached:
            break  # a gap: nothing later can be applied
        links.append(window)
        reached = window.end
    return links
