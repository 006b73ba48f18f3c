# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The backup window: its daily bounds in a time zone, and what a run started at a given time may plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

SECONDS_PER_DAY = 86400


def _clock(name: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(name, f"{text!r} is not a time of day", 'write it as "HH:MM", for example "00:30"') from None


@dataclass(frozen=True)
class Window:
    """The nightly window, in a time zone; it may cross midnight."""

    start: str = "00:00"
    end: str = "07:00"
    timezone: str = "UTC"

    def validate(self) -> None:
        start, end = _clock("window.start", self.start), _clock("window.end", self.end)
        self.zone()
        if start == end:
            raise InputError("window", f"start and end are both {self.start}: the window has no length",
                             "give an end different from the start (a window may cross midnight, 22:00 to 06:00)")

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            if not available_timezones():
                # Minimal images ship without zone files: the name is fine, the machine lacks the database.
                raise InputError("window.timezone", f"this Python finds no time zone database, not even for "
                                 f"{self.timezone!r}",
                                 "install the tzdata package for the controller's Python (pip install tzdata; "
                                 "requirements.txt lists it) or the system's tzdata") from None
            raise InputError("window.timezone", f"unknown time zone {self.timezone!r}",
                             "use an IANA name such as UTC or Europe/Paris") from None

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        zone = self.zone()
        start, end = _clock("window.start", self.start), _clock("window.end", self.end)
        end_day = day if end > start else day + timedelta(days=1)
        return datetime.combine(day, start, zone), datetime.combine(end_day, end, zone)

    def seconds(self, day: date | None = None) -> int:
        """Length of the window; given the night it starts, a daylight-saving change that night counts."""
        self.validate()
        if day is None:
            start, end = _clock("window.start", self.start), _clock("window.end", self.end)
            delta = (end.hour * 3600 + end.minute * 60 + end.second) - (start.hour * 3600 + start.minute * 60
                                                                        + start.second)
            return delta % SECONDS_PER_DAY
        start_at, end_at = self._bounds(day)
        # Aware datetimes in one zone subtract as wall clocks; UTC gives the real elapsed time.
        return int((end_at.astimezone(UTC) - start_at.astimezone(UTC)).total_seconds())

    def schedule(self, now: datetime, outside: str = "next") -> tuple[datetime, datetime, int]:
        """(when the night's window opens, when its plan starts, seconds planned): a run started late plans only
        what is left of an open window. A run started while the window is closed plans the whole next window
        (`outside` "next", a what-if), or a window of the same length from now (`outside` "now", a run that
        backs up now); `outside` "fail" refuses it."""
        opens = self.occurrence(now)
        length = self.seconds(opens.date())
        if opens > now:
            if outside == "now":
                return now, now, length
            if outside == "fail":
                raise InputError("window", f"the window {self.start}-{self.end} {self.timezone} is closed now "
                                 f"({now.astimezone(self.zone()):%H:%M}); it opens at {opens.isoformat()}",
                                 "run inside the window, or choose outside_window: now (run now for the window's "
                                 "length) or wait (wait for it to open)")
            return opens, opens, length
        ends = opens.astimezone(UTC) + timedelta(seconds=length)
        return opens, now, int((ends - now.astimezone(UTC)).total_seconds())

    def closed(self, now: datetime) -> bool:
        """True when no window is open at `now`."""
        return self.occurrence(now) > now

    def occurrence(self, now: datetime) -> datetime:
        """Start of the window open at `now`, or of the next one when none is open."""
        self.validate()
        today = now.astimezone(self.zone()).date()
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            start_at, end_at = self._bounds(day)
            if now < end_at:
                return start_at
        raise AssertionError("unreachable: one of three consecutive windows ends after now")
