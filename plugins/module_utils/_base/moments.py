# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The collection's one reading of time: every time a user gives or a folder carries goes through here.

Accepted (ISO 8601, and the backup folder's own form):
- a date: extended `2026-11-20`, compact `20261120`, week `2026-W47-5` / `2026W475`, ordinal `2026-324` /
  `2026324`, optionally followed by an offset (`Z`, `+01:00`, `+0100`);
- a date and time: any of those dates, `T` (or a space), `06:30`, `06:30:00` or `063000` (fractions allowed),
  optionally followed by an offset;
- a backup folder name, `2026-11-20-06-30-00` (always UTC).

A date alone names its whole day, in UTC unless it carries an offset, however it is spelt: it starts at
the day's first second and ends at its last. A time without an offset is UTC. Whatever names a moment,
the collection compares it in UTC, to the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError

FOLDER_FORMAT = "%Y-%m-%d-%H-%M-%S"
# How far ahead of this clock another writer's clock may run before what it dated is an anomaly.
CLOCK_SKEW = timedelta(minutes=5)
ACCEPTED = ("a date (2026-11-20, 20261120, 2026-W47-5 or 2026-324, optionally with an offset such as +01:00), "
            "a date and time (2026-11-20T06:30:00Z, 2026-11-20T07:30:00+01:00, 20261120T063000Z; UTC when "
            "no offset is given) or a backup folder name (2026-11-20-06-30-00, UTC)")

_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}")
_OFFSET = re.compile(r"(?P<body>.+?)(?P<offset>[zZ]|[+-]\d{2}(?::?\d{2})?)")
_ORDINAL = re.compile(r"(?P<year>\d{4})-?(?P<day>\d{3})")
_TIME = re.compile(r"\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?")


@dataclass(frozen=True)
class Span:
    """The seconds a text names: one instant (`first == last`), or a whole day for a date alone."""

    first: datetime  # UTC
    last: datetime  # UTC, the last whole second named
    whole_day: bool


def _offset(text: str) -> timezone:
    if text in ("z", "Z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} is out of range")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _date(text: str) -> date:
    ordinal = _ORDINAL.fullmatch(text)
    if not ordinal:
        return date.fromisoformat(text)
    first = date(int(ordinal["year"]), 1, 1)
    day = first + timedelta(days=int(ordinal["day"]) - 1)
    if int(ordinal["day"]) < 1 or day.year != first.year:
        raise ValueError(f"{text} names no day of its year")
    return day


def _split_zone(text: str) -> tuple[str, timezone | None]:
    """(the text without its offset, the offset). A date's own `-DD` is never read as an offset, nor is a bare
    `-HH` after a date alone (`2026-11-20-06` is a cut folder name, not a day in UTC-6)."""
    match = _OFFSET.fullmatch(text)
    if not match:
        return text, None
    body, offset = match["body"], match["offset"]
    if offset in ("z", "Z") or _has_time(body) or (len(offset) > 3 and _is_date(body)):
        return body, _offset(offset)
    return text, None


def _has_time(text: str) -> bool:
    return "T" in text or " " in text


def _is_date(text: str) -> bool:
    try:
        _date(text)
    except ValueError:
        return False
    return True


def _parse(text: str) -> Span:
    if _FOLDER.fullmatch(text):
        taken = datetime.strptime(text, FOLDER_FORMAT).replace(tzinfo=UTC)
        return Span(taken, taken, False)
    body, zone = _split_zone(text)
    if not _has_time(body):
        day = _date(body)
        first = datetime.combine(day, time(), zone or UTC).astimezone(UTC)
        return Span(first, first + timedelta(days=1, seconds=-1), True)
    day_text, clock = re.split(r"[T ]", body, maxsplit=1)
    if not _TIME.fullmatch(clock):
        raise ValueError(f"{clock} is not a time of day")
    if ":" not in clock and len(clock) > 2:  # compact 063000 -> 06:30:00, which fromisoformat reads
        clock = ":".join(clock[i:i + 2] for i in range(0, 6, 2)).rstrip(":") + clock[6:]
    moment = datetime.combine(_date(day_text), time.fromisoformat(clock), zone or UTC)
    instant = moment.astimezone(UTC).replace(microsecond=0)
    return Span(instant, instant, False)


def parse_span(text: object, field: str) -> Span:
    """What `text` names, or an InputError naming `field` and the accepted forms."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, f"{text!r} is not a time", f"give {ACCEPTED}")
    try:
        return _parse(text.strip())
    except ValueError as exc:
        raise InputError(field, f"{text!r} is not a time this collection reads ({exc})", f"give {ACCEPTED}") from exc


def parse_instant(text: object, field: str) -> datetime:
    """One moment, UTC: a date and time as given; a date alone is its first second."""
    return parse_span(text, field).first


def parse_since(text: object, field: str = "since") -> datetime:
    """The start of a range: a date alone starts at its first second."""
    return parse_span(text, field).first


def parse_until(text: object, field: str = "until") -> datetime:
    """The end of a range: a date alone ends at its last second."""
    return parse_span(text, field).last


def parse_at(text: object, now: datetime, field: str = "at") -> datetime:
    """The latest moment a backup chosen by `at` may be taken at: a date alone is up to the end of that day,
    or up to now for today; a moment after now is refused (nothing is backed up in the future)."""
    span = parse_span(text, field)
    if span.first > now:
        raise InputError(field, f"{text!r} is after now ({now.isoformat()})",
                         "give a time that has passed; the newest backup is chosen when at is left out")
    return min(span.last, now)


def folder_time(name: str) -> datetime | None:
    """The time a backup folder is named after, or None when `name` is not one."""
    if not _FOLDER.fullmatch(name):
        return None
    try:
        return datetime.strptime(name, FOLDER_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def folder_name(moment: datetime) -> str:
    """The folder name of a moment (UTC, to the second)."""
    return moment.astimezone(UTC).strftime(FOLDER_FORMAT)


def is_future(moment: datetime, now: datetime) -> bool:
    """Dated after now by more than the clock skew another writer may have: an anomaly, never trusted."""
    return moment > now + CLOCK_SKEW


def parse_moment(text: object, now: datetime, field: str) -> datetime:
    """One second (a restore's point_in_time or increments_until), not a day, and not after now."""
    span = parse_span(text, field)
    if span.whole_day:
        raise InputError(field, f"{text!r} is a day, not a second",
                         "give a date and time, e.g. 2026-11-20T06:30:15Z (use at to choose among a day's backups)")
    if span.first > now:
        raise InputError(field, f"{text!r} is after now ({now.isoformat()})", "give a time that has passed")
    return span.first
