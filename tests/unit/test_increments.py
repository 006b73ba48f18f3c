"""Incremental exports as pure logic: the windows a run exports (end to end, 15 min to 24 h, never a gap or an
overlap) and what applying a chain of them to a full backup gives (the table at the chain's end)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import (
    LONGEST,
    SHORTEST,
    Window,
    chain,
    next_windows,
    parse_every,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import CodecError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.increment_task import run_increments
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.increment_changes import (
    apply_changes,
    apply_to_keys,
    key_text,
    net_changes,
    parse_change,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.backup_increment import ARGUMENT_SPEC
from tests.support.engine_clients import StandInClients, module_options

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(("text", "minutes"), [("15m", 15), ("1h", 60), ("2h30m", 150), ("24h", 1440), (" 90m ", 90)])
def test_every_reads_hours_and_minutes(text: str, minutes: int) -> None:
    assert parse_every(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["14m", "25h", "0m", "", "15", "1d", "h", None, 15])
def test_every_outside_dynamodb_limits_or_unreadable_is_refused_naming_the_field(text: object) -> None:
    with pytest.raises(InputError) as err:
        parse_every(text, "incremental_every")
    assert err.value.field == "incremental_every"


@given(st.integers(15, 1440), st.integers(0, 3 * 24 * 60), st.integers(0, 3 * 24 * 60), st.integers(1, 400))
def test_windows_are_end_to_end_from_the_last_end_and_never_reach_past_now(every_min: int, after_min: int,
                                                                           elapsed_min: int, limit: int) -> None:
    every, after = timedelta(minutes=every_min), T0 + timedelta(minutes=after_min)
    now = after + timedelta(minutes=elapsed_min)
    windows = next_windows(after, every, now, limit)
    assert all(SHORTEST <= w.length <= LONGEST and w.length == every for w in windows)
    assert [w.start for w in windows] == ([after] + [w.end for w in windows[:-1]] if windows else [])  # end to end
    assert all(w.end <= now for w in windows)
    assert len(windows) == min(limit, (now - after) // every)  # every whole window that has ended, up to limit


@given(st.integers(15, 180), st.integers(1, 30), st.integers(1, 12))
def test_runs_one_after_another_cover_time_without_gap_or_overlap(every_min: int, runs: int, spacing_min: int) -> None:
    """A cron run every few minutes, each starting after the end the previous runs reached."""
    every, after, done = timedelta(minutes=every_min), T0, []
    for run in range(1, runs + 1):
        made = next_windows(after, every, T0 + run * spacing_min * MINUTE, limit=3)
        done += made
        after = made[-1].end if made else after
    assert [w.start for w in done] == ([T0] + [w.end for w in done[:-1]] if done else [])


def test_a_chain_starts_at_the_window_holding_the_base_and_stops_at_a_gap_or_until() -> None:
    w = [Window(T0 + i * 15 * MINUTE, T0 + (i + 1) * 15 * MINUTE) for i in range(6)]
    base = T0 + 20 * MINUTE  # inside the second window
    assert chain(w, base, T0 + 60 * MINUTE) == w[1:4]
    assert chain(w[:3] + w[4:], base, T0 + 120 * MINUTE) == w[1:3]  # w[3] missing: a gap
    assert chain(w, base, T0 + 29 * MINUTE) == []  # no boundary after the base yet


# ------------------------------------------------------------------ applying changes

def _key(n: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"k{n}"}}


def _export_line(keys: dict, old: dict | None, new: dict | None, micros: int) -> str:
    doc: dict = {"Metadata": {"WriteTimestampMicros": {"N": str(micros)}}, "Keys": keys}
    if old is not None:
        doc["OldImage"] = old
    if new is not None:
        doc["NewImage"] = new
    return json.dumps(doc)


def state_at(writes: list[tuple[int, int, int | None]], moment: int) -> dict[str, dict]:
    """The table at minute `moment`: every write before it, in order (value None: a delete)."""
    items: dict[str, dict] = {}
    for minute, key, value in sorted(writes, key=lambda w: w[0]):
        if minute >= moment:
            break
        if value is None:
            items.pop(key_text(_key(key)), None)
        else:
            items[key_text(_key(key))] = {**_key(key), "v": {"N": str(value)}}
    return items


def export_of(writes: list[tuple[int, int, int | None]], start: int, end: int) -> list[str]:
    """What DynamoDB's incremental export of [start, end) holds: each changed key once, its old and new image."""
    before, after = state_at(writes, start), state_at(writes, end)
    changed = {key for minute, key, _value in writes if start <= minute < end}
    return [_export_line(_key(k), before.get(key_text(_key(k))), after.get(key_text(_key(k))), end * 60_000_000)
            for k in sorted(changed)]


WRITES = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 8), st.one_of(st.none(), st.integers(0, 99))),
                  max_size=60)


@given(WRITES, st.integers(0, 600), st.integers(15, 120), st.integers(1, 10))
def test_full_backup_then_increments_in_order_is_the_table_at_the_last_boundary(
        writes: list[tuple[int, int, int | None]], base: int, every: int, count: int) -> None:
    # Windows end to end; the first holds the full backup's time (the chain of the night before).
    first = base - base % every
    windows = [(first + i * every, first + (i + 1) * every) for i in range(count)]
    image = state_at(writes, base)
    for start, end in windows:
        image = apply_changes(image, net_changes(export_of(writes, start, end)).values())
    assert image == state_at(writes, windows[-1][1])


@given(WRITES, st.integers(15, 120), st.integers(1, 10))
def test_the_key_set_follows_the_same_changes(writes: list[tuple[int, int, int | None]], every: int,
                                              count: int) -> None:
    keys = set(state_at(writes, 0))
    for i in range(count):
        apply_to_keys(keys, net_changes(export_of(writes, i * every, (i + 1) * every)).values())
    assert keys == set(state_at(writes, count * every))


def test_a_line_without_new_image_is_a_delete_and_its_request_says_so() -> None:
    change = parse_change(_export_line(_key(1), {"pk": {"S": "k1"}, "v": {"N": "1"}}, None, 5))
    assert change.new_image is None
    assert json.loads(change.request()) == {"DeleteRequest": {"Key": {"pk": {"S": "k1"}}}}
    put = parse_change(_export_line(_key(1), None, {"pk": {"S": "k1"}, "v": {"N": "2"}}, 6))
    assert json.loads(put.request()) == {"PutRequest": {"Item": {"pk": {"S": "k1"}, "v": {"N": "2"}}}}


def test_the_later_write_of_a_key_wins_whatever_the_order_of_lines() -> None:
    later = _export_line(_key(1), None, None, 9)
    earlier = _export_line(_key(1), None, {"pk": {"S": "k1"}}, 3)
    assert net_changes([later, earlier])[key_text(_key(1))].new_image is None


@pytest.mark.parametrize("line", ['{"NewImage": {}}', "not json", '{"Keys": {"pk": {"S": "a"}}, "NewImage": 3}',
                                  '{"Keys": {"pk": {"S": "a"}}, "Metadata": {"WriteTimestampMicros": {"N": "x"}}}'])
def test_a_line_that_is_no_change_is_refused(line: str) -> None:
    with pytest.raises(CodecError):
        parse_change(line)


@pytest.mark.parametrize(("given", "field"), [
    ({"every": "5m"}, "every"), ({"every": "daily"}, "every"), ({"max_windows": 0}, "max_windows"),
    ({"poll_interval": 0}, "poll_interval"), ({"maximum_retries": -1}, "maximum_retries")])
def test_backup_increment_s_bad_options_fail_before_any_aws_call(given: dict, field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")  # nothing listens there
    with pytest.raises(InputError) as err:
        run_increments(module_options(ARGUMENT_SPEC, tables=["orders"], **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []
