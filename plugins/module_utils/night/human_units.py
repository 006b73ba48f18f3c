"""Sizes, durations and times as people read them in the run report and the printed summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant

UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KiB': binary units, one decimal above bytes."""
    size, unit = float(count), 0
    while size >= 1024 and unit < len(UNITS) - 1:
        size, unit = size / 1024, unit + 1
    return f"{count} B" if unit == 0 else f"{size:.1f} {UNITS[unit]}"


def human_duration(seconds: float | None) -> str:
    """'12s', '4m05s', '2h03m'; '-' when the table did not both start and finish."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def parse_time(value: Any) -> datetime | None:
    """A time from a result (read by the collection's one parser), or None when absent or not a time."""
    try:
        return parse_instant(str(value), "time") if value else None
    except InputError:
        return None


def human_time(moment: datetime | str | None) -> str:
    """'2026-11-23 01:02:03 UTC' from a time or an ISO 8601 string; '-' when there is none."""
    moment = parse_time(moment) if isinstance(moment, str) else moment
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else moment.isoformat(" ")
