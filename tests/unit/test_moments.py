"""The one time parser: every spelling of a day names the same day, every moment the same instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import (
    CLOCK_SKEW,
    folder_name,
    folder_time,
    is_future,
    parse_at,
    parse_instant,
    parse_since,
    parse_span,
    parse_until,
)

NOW = datetime(2026, 12, 7, 13, 0, 0, tzinfo=UTC)
DAY_START = datetime(2026, 11, 20, tzinfo=UTC)
DAY_END = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-20", "20261120", "2026-W47-5", "2026W475", "2026-324", "2026324",
                                  " 2026-11-20 ", "2026-11-20Z"])
def test_every_spelling_of_a_day_is_that_whole_day(text: str) -> None:
    span = parse_span(text, "at")
    assert (span.first, span.last, span.whole_day) == (DAY_START, DAY_END, True)
    assert parse_at(text, NOW) == DAY_END  # the newest backup up to the end of that day
    assert parse_since(text) == DAY_START and parse_until(text) == DAY_END


def test_a_day_with_an_offset_is_that_day_in_its_zone() -> None:
    span = parse_span("2026-11-20+01:00", "since")
    assert span.first == datetime(2026, 11, 19, 23, tzinfo=UTC)
    assert span.last == datetime(2026, 11, 20, 22, 59, 59, tzinfo=UTC)
    assert parse_span("20261120-0500", "until").last == datetime(2026, 11, 21, 4, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-20T06:30:00Z", "2026-11-20T06:30:00", "2026-11-20 06:30",
                                  "2026-11-20T07:30:00+01:00", "2026-11-20T01:30:00-0500", "20261120T063000Z",
                                  "2026-W47-5T06:30:00Z", "2026-324T06:30Z", "2026-11-20T06:30:00.750Z",
                                  "2026-11-20-06-30-00"])
def test_every_spelling_of_a_moment_is_that_instant_in_utc(text: str) -> None:
    span = parse_span(text, "at")
    moment = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    assert (span.first, span.last, span.whole_day) == (moment, moment, False)
    assert parse_instant(text, "at") == parse_at(text, NOW) == moment


@pytest.mark.parametrize("text", ["", "yesterday", "11/20/2026", "2026-13-01", "2026-11-31", "2026-366",
                                  "2026-W54-1", "2026-11-20T25:00", "2026-11-20-06-30", "2026-11-20-06",
                                  "2026-11-20T06:30+25:00", "1764000000", "2026-11-20T06:30:00Zjunk", None, 20261120])
def test_other_forms_are_refused_naming_the_field_and_the_accepted_ones(text: object) -> None:
    with pytest.raises(InputError) as failure:
        parse_span(text, "until")
    assert failure.value.field == "until"
    assert "2026-W47-5" in failure.value.fix and "2026-11-20-06-30-00" in failure.value.fix


def test_at_today_means_up_to_now_and_at_after_now_is_refused() -> None:
    assert parse_at("2026-12-07", NOW) == NOW
    assert parse_at("2026-W50-1", NOW) == NOW  # the same day, spelt as a week date
    for later in ("2026-12-08", "2026-12-07T13:00:01Z", "2026-12-07T14:30:00+01:00"):
        with pytest.raises(InputError, match="after now"):
            parse_at(later, NOW)


def test_folder_names_round_trip_and_near_names_are_not_folders() -> None:
    moment = datetime(2026, 11, 20, 6, 30, 5, tzinfo=UTC)
    assert folder_time(folder_name(moment)) == moment
    assert folder_name(moment.astimezone(timezone(timedelta(hours=-5)))) == "2026-11-20-06-30-05"
    for name in ("2026-11-20-6-30-05", "2026-11-20-06-30-05x", "2026-02-30-01-00-00", "latest"):
        assert folder_time(name) is None


def test_only_what_is_dated_beyond_the_clock_skew_is_in_the_future() -> None:
    assert not is_future(NOW + CLOCK_SKEW, NOW)
    assert is_future(NOW + CLOCK_SKEW + timedelta(seconds=1), NOW)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)))
def test_extended_compact_week_and_ordinal_spellings_agree(day: date) -> None:
    year, week, weekday = day.isocalendar()
    ordinal = day.timetuple().tm_yday
    spans = {parse_span(text, "at") for text in (
        day.isoformat(), day.strftime("%Y%m%d"), f"{year:04d}-W{week:02d}-{weekday}", f"{year:04d}W{week:02d}{weekday}",
        f"{day.year:04d}-{ordinal:03d}", f"{day.year:04d}{ordinal:03d}")}
    assert len(spans) == 1
    (span,) = spans
    assert span.first == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert span.last - span.first == timedelta(days=1, seconds=-1)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1)),
       st.integers(-14 * 60, 14 * 60))
def test_a_moment_written_with_any_offset_reads_back_as_the_same_instant(moment: datetime, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    written = moment.replace(microsecond=0, tzinfo=zone)
    expected = written.astimezone(UTC)
    assert parse_instant(written.isoformat(), "at") == expected
    assert parse_instant(written.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"), "at") == expected
    assert folder_time(folder_name(written)) == expected
