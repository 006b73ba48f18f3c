"""human_units: sizes, durations and times as the run report and the printed summary show them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.human_units import (
    UNITS,
    human_bytes,
    human_duration,
    human_time,
    parse_time,
)


@pytest.mark.parametrize(("count", "shown"), [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10 * 1024**2 - 1, "10.0 MiB"),
    (3 * 1024**3, "3.0 GiB"), (5 * 1024**4, "5.0 TiB"), (2 * 1024**5, "2.0 PiB"), (4096 * 1024**5, "4096.0 PiB"),
])
def test_human_bytes(count: int, shown: str) -> None:
    assert human_bytes(count) == shown


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=1024**6))
def test_human_bytes_reads_back_within_rounding(count: int) -> None:
    number, unit = human_bytes(count).split(" ")
    power = UNITS.index(unit)
    assert power == 0 or float(number) >= 1.0
    assert power == len(UNITS) - 1 or float(number) < 1024.05  # 1023.96 KiB rounds to 1024.0 KiB
    assert abs(float(number) * 1024**power - count) <= 0.05 * 1024**power


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "-"), (0, "0s"), (12.4, "12s"), (59.4, "59s"), (59.6, "1m00s"), (245, "4m05s"), (3599.4, "59m59s"),
    (3599.6, "1h00m"), (7380, "2h03m"), (90061, "25h01m"),
])
def test_human_duration(seconds: float | None, shown: str) -> None:
    assert human_duration(seconds) == shown


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10 * 86400))
def test_human_duration_reads_back_to_the_minute(seconds: int) -> None:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", human_duration(seconds))
    assert match is not None
    hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
    shown = hours * 3600 + minutes * 60 + secs
    assert shown == seconds if seconds < 3600 else 0 <= seconds - shown < 60


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-13-01T00:00:00Z", 0])
def test_parse_time_of_anything_but_a_time_is_none(value: object) -> None:
    assert parse_time(value) is None


def test_parse_time_reads_the_spellings_of_the_collections_parser() -> None:
    moment = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    assert parse_time("2026-11-23T01:02:03Z") == moment
    assert parse_time("2026-11-23T02:02:03+01:00") == moment


def test_human_time() -> None:
    moment = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    assert human_time(moment) == "2026-11-23 01:02:03 UTC"
    assert human_time(moment.astimezone(timezone(timedelta(hours=-5)))) == "2026-11-23 01:02:03 UTC"
    assert human_time("2026-11-23T03:02:03+02:00") == "2026-11-23 01:02:03 UTC"
    assert human_time(datetime(2026, 11, 23, 1, 2, 3)) == "2026-11-23 01:02:03"  # naive: shown as given, no zone
    assert human_time(None) == human_time("") == human_time("not a time") == "-"
