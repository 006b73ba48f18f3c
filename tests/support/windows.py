"""Backup windows relative to the moment a test runs, so no test depends on the hour CI starts at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def window_from_now(start_h: float, length_h: float) -> dict[str, str]:
    """A UTC window opening `start_h` hours from now (negative: already open), `length_h` hours long."""
    start = datetime.now(UTC) + timedelta(hours=start_h)
    return {"start": f"{start:%H:%M}", "end": f"{start + timedelta(hours=length_h):%H:%M}", "timezone": "UTC"}


def open_window() -> dict[str, str]:
    """A window that opened a minute ago with hours left: a night started now plans every small table."""
    return window_from_now(-1 / 60, 8)
