"""Throughput rules (pure) and the AWS error paths no emulator produces (botocore Stubber)."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_HOLD,
    DEFAULT_TAG_KEY,
    STALE_AFTER_HOLD,
    CapacityRecord,
    Dimension,
    original_read_units,
    parse_record,
    record_tags,
    validate_tag_key,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity import capacity_control as cc
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.read_allowance import (
    BOOST_POLL_S,
    BOOST_WAIT_S,
    CAPACITY_RECHECK_S,
    CapacityWatch,
    ReadAllowance,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import (
    DAILY_DECREASES,
    DecreaseState,
    Resource,
    Snapshot,
    Targets,
    apply_changes,
    check_targets,
    next_decrease_slot,
    next_midnight,
    plan_boost,
    plan_restore,
    put_back_dimension,
)

DAY = datetime(2026, 11, 22, tzinfo=UTC)
AT = "2026-11-22T01:00:00Z"
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))


# ---------------------------------------------------------------------------------------- decrease budget

def test_four_decreases_any_time_then_one_an_hour():
    now = DAY + timedelta(minutes=10)
    assert next_decrease_slot(DecreaseState(3, now), now) == now
    assert next_decrease_slot(DecreaseState(4, now), now) == now + timedelta(hours=1)
    late = DAY + timedelta(hours=9)
    assert next_decrease_slot(DecreaseState(4, late - timedelta(hours=2)), late) == late
    recent = DecreaseState(12, late - timedelta(minutes=5))
    assert next_decrease_slot(recent, late) == DAY + timedelta(hours=9, minutes=55)


def test_budget_is_spent_after_27_and_starts_again_at_midnight():
    now = DAY + timedelta(hours=23, minutes=30)
    assert next_decrease_slot(DecreaseState(27, now), now) == DAY + timedelta(days=1)
    yesterday = DecreaseState(27, now)
    assert next_decrease_slot(yesterday, now + timedelta(hours=1)) == now + timedelta(hours=1)


@given(moments, st.integers(0, 40), st.floats(0, 30 * 3600))
def test_slot_is_never_before_now_nor_after_midnight(now, count, ago):
    state = DecreaseState(count, now - timedelta(seconds=ago))
    slot = next_decrease_slot(state, now)
    assert now <= slot <= next_midnight(now)


@given(moments, st.integers(0, 26))
def test_more_decreases_never_open_an_earlier_slot(now, count):
    last = now - timedelta(minutes=1)
    fewer, more = DecreaseState(count, last), DecreaseState(count + 1, last)
    assert next_decrease_slot(fewer, now) <= next_decrease_slot(more, now)


@given(st.integers(0, 3600 * 24 - 1))
def test_taking_every_slot_never_exceeds_the_daily_rules(start_s):
    """A client that decreases at each slot we allow stays within 4 in hour 0, one more per hour, 27 a day."""
    now, state, taken = DAY + timedelta(seconds=start_s), DecreaseState(), []
    while True:
        slot = next_decrease_slot(state, now)
        if slot >= DAY + timedelta(days=1):
            break
        taken.append(slot)
        state, now = DecreaseState(state.count_today + 1, slot), slot
    assert len(taken) <= DAILY_DECREASES
    for n, moment in enumerate(taken, start=1):
        assert n <= 4 + (moment - DAY) // timedelta(hours=1)
        if n > 4:
            assert moment - taken[n - 2] >= timedelta(hours=1)


# ----------------------------------------------------------------------------------------------- record

dims = st.builds(Dimension, st.integers(1, 40000),
                 st.none() | st.tuples(st.integers(1, 100), st.integers(100, 40000)))
index_names = st.from_regex(r"[A-Za-z0-9_.\-]{3,40}", fullmatch=True)
resource_dims = st.dictionaries(st.sampled_from(["read", "write"]), dims, min_size=1)


@st.composite
def records(draw: Any) -> CapacityRecord:
    originals = draw(st.dictionaries(st.none() | index_names, resource_dims, max_size=20))
    # What the boost set, for some of the recorded dimensions (records of version 1 know none).
    boosted = {key: {name: draw(dims) for name in d if draw(st.booleans())} for key, d in originals.items()}
    return CapacityRecord(billing_mode="PROVISIONED", at="2026-11-22T01:00:00Z",
                          run_id=draw(st.none() | st.text(max_size=60)),
                          hold_until=draw(st.none() | st.just("2026-11-22T09:00:00Z")), originals=originals,
                          boosted={k: v for k, v in boosted.items() if v})


@given(records())
def test_record_round_trips_through_valid_tags(record):
    tags = record_tags(record, "hippolyte:capacity-original")
    for tag in tags:
        assert len(tag["Value"]) <= 256
        assert set(tag["Value"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    assert parse_record([{"Key": "other", "Value": "x"}, *reversed(tags)], "hippolyte:capacity-original") == record


def test_unreadable_record_is_an_error_not_a_guess():
    with pytest.raises(HippolyteError, match="cannot be read"):
        parse_record([{"Key": "k", "Value": "bm90IGpzb24="}], "k")


def test_merge_keeps_the_original_while_the_later_boost_starts_from_ours():
    first = CapacityRecord("PROVISIONED", "2026-11-22T01:00:00Z", "a", {None: {"read": Dimension(5)}},
                           boosted={None: {"read": Dimension(50)}})
    second = CapacityRecord("PROVISIONED", "2026-11-22T02:00:00Z", "b",
                            {None: {"read": Dimension(50), "write": Dimension(7)}},
                            boosted={None: {"read": Dimension(80), "write": Dimension(30)}})
    merged = first.merged_with(second)
    assert merged.originals == {None: {"read": Dimension(5), "write": Dimension(7)}}
    assert merged.boosted == {None: {"read": Dimension(80), "write": Dimension(30)}}
    assert merged.run_id == "a"


def test_merge_over_a_value_someone_changed_goes_back_to_that_value_not_to_the_old_original():
    """Boost 5 -> 50, the application raises to 60, a later boost takes it to 80: its put-back returns 60."""
    first = CapacityRecord("PROVISIONED", AT, "a", {None: {"read": Dimension(5)}},
                           boosted={None: {"read": Dimension(50)}})
    second = CapacityRecord("PROVISIONED", AT, "b", {None: {"read": Dimension(60)}},
                            boosted={None: {"read": Dimension(80)}})
    assert first.merged_with(second).originals == {None: {"read": Dimension(60)}}
    legacy = replace(first, boosted={})  # what the old boost set is unknown: the value before ours is the original
    assert legacy.merged_with(second).originals == {None: {"read": Dimension(60)}}


# ------------------------------------------------------------------------------------ holds (runs that overlap)


def held_record(run_id: str | None = "night-a", hold_until: str | None = "2026-11-22T09:00:00Z") -> CapacityRecord:
    return CapacityRecord("PROVISIONED", AT, run_id, {None: {"read": Dimension(5)}}, hold_until=hold_until)


def test_a_record_is_held_for_its_run_until_its_expiry_and_never_against_its_own_run():
    record = held_record()
    assert record.held_for_other_run("night-b", DAY + timedelta(hours=8, minutes=59))
    assert not record.held_for_other_run("night-b", DAY + timedelta(hours=9))  # expired: that run is over
    assert not record.held_for_other_run("night-a", DAY + timedelta(hours=2))  # its own run may restore it
    assert record.held_for_other_run(None, DAY + timedelta(hours=2))  # a caller without run id is another run


def test_a_record_without_expiry_is_held_for_the_default_hold_from_its_time():
    record = held_record(hold_until=None)
    assert record.held_until() == DAY + timedelta(hours=1) + DEFAULT_HOLD
    assert record.held_for_other_run("night-b", DAY + timedelta(hours=12, minutes=59))
    assert not record.held_for_other_run("night-b", DAY + timedelta(hours=13))


def test_renewal_pushes_the_expiry_and_never_pulls_it_in():
    record = held_record()
    later = record.renewed("night-a", DAY + timedelta(hours=11))
    assert later.hold_until == "2026-11-22T11:00:00Z" and later.originals == record.originals
    assert record.renewed("night-a", DAY + timedelta(hours=3)).hold_until == record.hold_until
    taken_over = record.renewed("night-b", DAY + timedelta(hours=10))
    assert taken_over.run_id == "night-b" and taken_over.originals == record.originals


def test_unreadable_expiry_makes_the_record_unreadable():
    broken = replace(held_record(), hold_until="tomorrow")
    with pytest.raises(HippolyteError, match="cannot be read"):
        parse_record(record_tags(broken, "k"), "k")


def test_plans_and_backups_read_the_original_of_another_runs_boost_only():
    tags = record_tags(held_record(), DEFAULT_TAG_KEY)
    assert original_read_units(tags, "night-b") == 5
    assert original_read_units(tags) == 5  # the planner: a boost is never the table's own capacity
    assert original_read_units(tags, "night-a") is None  # its own boost is what this run reads on
    assert original_read_units([], "night-b") is None
    write_only = CapacityRecord("PROVISIONED", AT, "night-a", {None: {"write": Dimension(5)}})
    assert original_read_units(record_tags(write_only, DEFAULT_TAG_KEY), "night-b") is None


@pytest.mark.parametrize("key", ["", "aws:thing", "bad{key}", "x" * 126])
def test_bad_tag_keys_are_input_errors(key):
    with pytest.raises(InputError, match="tag_key"):
        validate_tag_key(key)


# ------------------------------------------------------------------------------------------------ plans

def snapshot(table: tuple[int, int] = (5, 5), scaled: tuple[int, int] | None = None, **gsis: tuple[int, int]):
    res = {None: Resource(Dimension(table[0], scaled), Dimension(table[1]))}
    res.update({k: Resource(Dimension(r), Dimension(w)) for k, (r, w) in gsis.items()})
    return Snapshot("t", "PROVISIONED", res)


def test_boost_only_raises_and_autoscaled_dimensions_move_their_target():
    snap = snapshot((5, 50), scaled=(5, 20), idx=(10, 10))
    changes = plan_boost(snap, Targets(read=40, write=10, gsi_read=8, gsi_write=30))
    assert [(c.key, c.dimension, c.after) for c in changes] == [
        (None, "read", Dimension(40, (40, 40))), ("idx", "write", Dimension(30))]


def test_restore_puts_back_what_is_still_ours_and_notes_what_changed_since():
    record = CapacityRecord("PROVISIONED", AT, None,
                            {None: {"read": Dimension(5, (5, 20))}, "gone": {"read": Dimension(3)},
                             "idx": {"write": Dimension(4)}},
                            boosted={None: {"read": Dimension(40, (40, 40))}, "gone": {"read": Dimension(9)},
                                     "idx": {"write": Dimension(30)}})
    plan = plan_restore(snapshot((40, 5), scaled=(40, 40), idx=(10, 30)), record, DAY)
    assert [(c.key, c.dimension, c.after) for c in plan.changes] == [
        (None, "read", Dimension(40, (5, 20))), ("idx", "write", Dimension(4))]
    assert plan.notes == ["index gone no longer exists; nothing to put back for it"]
    assert plan.left == [] and plan.retired is None


# The reproduced cases of "put-back overwrites what others changed during the night".

def test_a_table_the_application_raised_after_the_boost_keeps_its_capacity():
    """Boost 5 -> 50 RCU, the application raises it to 500: put-back leaves 500 and reports it (it set 5)."""
    record = CapacityRecord("PROVISIONED", AT, "night", {None: {"read": Dimension(5)}},
                            boosted={None: {"read": Dimension(50)}})
    plan = plan_restore(snapshot((500, 5)), record, DAY)
    assert plan.changes == [] and plan.retired is None
    assert [one.to_result() for one in plan.left] == [{
        "resource": "table", "dimension": "read", "original": {"units": 5}, "boosted": {"units": 50},
        "current": {"units": 500}, "reason": "changed by someone else since the boost"}]
    assert plan.notes == ["table read: changed by someone else since the boost; left at 500 (original 5, boost set 50)"]


def test_a_scalable_target_ops_reset_keeps_its_min_and_max():
    """Scalable target boosted 5-100 -> 50-100, then set by ops to 200-1000: put-back leaves 200-1000 (it set 5-100)."""
    record = CapacityRecord("PROVISIONED", AT, "night", {None: {"read": Dimension(5, (5, 100))}},
                            boosted={None: {"read": Dimension(50, (50, 100))}})
    plan = plan_restore(snapshot((240, 5), scaled=(200, 1000)), record, DAY)
    assert plan.changes == [] and [one.current.scaling for one in plan.left] == [(200, 1000)]
    # Only the max set by ops: the min still ours goes back, the max is theirs.
    plan = plan_restore(snapshot((50, 5), scaled=(50, 1000)), record, DAY)
    assert [c.after.scaling for c in plan.changes] == [(5, 1000)] and len(plan.left) == 1


def test_a_record_of_an_older_version_never_lowers_anything():
    """Version 1 records hold the originals only: a value that is not the original may be anyone's, so it is
    left (and reported); what is already at its original stays there; the record is then removed."""
    v1 = {"v": 1, "run": "old", "at": AT, "bm": "PROVISIONED", "u": "2026-11-22T09:00:00Z",
          "t": {"r": 5, "w": 5}, "g": {"idx": {"r": 3, "rs": [3, 30]}}}
    tags = [{"Key": DEFAULT_TAG_KEY, "Value": base64.b64encode(json.dumps(v1).encode()).decode()}]
    record = parse_record(tags, DEFAULT_TAG_KEY)
    assert record is not None and record.boosted == {}
    snap = Snapshot("t", "PROVISIONED", {None: Resource(Dimension(50), Dimension(5)),
                                         "idx": Resource(Dimension(40, (40, 40)), Dimension(1))})
    plan = plan_restore(snap, record, DAY)
    assert plan.changes == [] and plan.retired is None
    assert [(one.key, one.dimension) for one in plan.left] == [(None, "read"), ("idx", "read")]
    assert all("older version" in one.reason for one in plan.left)


def test_a_billing_mode_switch_retires_the_record():
    record = CapacityRecord("PROVISIONED", AT, "night", {None: {"read": Dimension(5)}},
                            boosted={None: {"read": Dimension(50)}})
    plan = plan_restore(Snapshot("t", "PAY_PER_REQUEST", {None: Resource(Dimension(0), Dimension(0))}), record, DAY)
    assert plan.changes == [] and "billing mode switched" in (plan.retired or "")


def test_a_stale_record_that_no_longer_matches_is_dropped_never_applied():
    """Boost 5 -> 50, on-demand mid-night, weeks later provisioned at 1,000 by its team (reads 50 on write)."""
    record = CapacityRecord("PROVISIONED", AT, "night", {None: {"read": Dimension(5), "write": Dimension(5)}},
                            hold_until="2026-11-22T09:00:00Z",
                            boosted={None: {"read": Dimension(50), "write": Dimension(50)}})
    weeks_later = DAY + timedelta(days=21)
    plan = plan_restore(snapshot((1000, 50)), record, weeks_later)
    assert plan.changes == [] and "stale" in (plan.retired or "")  # even the write still at 50 is not applied
    # Within the margin the same table is the next night's ordinary case: ours goes back, theirs stays.
    next_night = plan_restore(snapshot((1000, 50)), record, DAY + timedelta(days=1))
    assert next_night.retired is None and [(c.dimension, c.after.units) for c in next_night.changes] == [("write", 5)]
    assert DAY + timedelta(hours=9) + STALE_AFTER_HOLD > DAY + timedelta(days=2)  # a skipped night is still within
    # A stale record whose boost is all still there (a crashed run never repaired) is applied.
    assert [c.after.units for c in plan_restore(snapshot((50, 50)), record, weeks_later).changes] == [5, 5]


# Property: over (original, what the boost set, what the table has at put-back), for provisioned units and
# scalable targets alike. Boosts only raise, so what they set is at or above the original.

units = st.integers(1, 40000)


@st.composite
def boosted_values(draw: Any, scaled: bool) -> tuple[Dimension, Dimension, Dimension]:
    """(original, boosted, current): current is drawn among the original, what the boost set, and anything else."""
    if not scaled:
        original = draw(units)
        boosted = draw(st.integers(original, 40000))
        return Dimension(original), Dimension(boosted), Dimension(draw(st.sampled_from([original, boosted]) | units))
    low0 = draw(st.integers(1, 1000))
    high0 = draw(st.integers(low0, 40000))
    low1 = draw(st.integers(low0, 40000))
    boosted = (low1, max(high0, low1))
    low = draw(st.sampled_from([low0, low1]) | st.integers(1, 40000))
    high = draw(st.sampled_from([v for v in (high0, boosted[1]) if v >= low] or [low]) | st.integers(low, 40000))
    return Dimension(low0, (low0, high0)), Dimension(low1, boosted), Dimension(draw(units), (low, high))


def values(d: Dimension) -> list[int]:
    return list(d.scaling) if d.scaling else [d.units]


@given(st.booleans().flatmap(boosted_values))
def test_put_back_lowers_only_what_is_still_ours_and_is_idempotent(case):
    original, boosted, current = case
    after = put_back_dimension(original, boosted, current)
    for ours, now, then in zip(values(boosted), values(current), values(after), strict=True):
        assert then <= now  # a put-back never raises anything
        if now != ours:
            assert then == now  # someone else's value (or already the original) is left as it is
    if after.scaling:
        low, high = after.scaling
        assert low <= high
        # A value still at what the boost set goes back (a max no lower than a min someone else set).
        if current.scaling[0] == boosted.scaling[0]:
            assert low == original.scaling[0]
        if current.scaling[1] == boosted.scaling[1]:
            assert high == max(original.scaling[1], low)
    elif current.units == boosted.units:
        assert after.units == original.units
    assert put_back_dimension(original, boosted, after) == after  # idempotent
    assert put_back_dimension(original, None, current) == current  # unknown boosted value: never changed


@given(st.dictionaries(st.none() | st.sampled_from(["by_a", "by_b"]),
                       st.tuples(st.booleans().flatmap(boosted_values), st.booleans().flatmap(boosted_values)),
                       min_size=1))
def test_plan_restore_on_table_and_gsis_leaves_others_values_and_a_second_run_changes_nothing(resources):
    record = CapacityRecord("PROVISIONED", AT, "night",
                            {k: {"read": r[0], "write": w[0]} for k, (r, w) in resources.items()},
                            boosted={k: {"read": r[1], "write": w[1]} for k, (r, w) in resources.items()})
    snap = Snapshot("t", "PROVISIONED", {k: Resource(r[2], w[2]) for k, (r, w) in resources.items()})
    plan = plan_restore(snap, record, DAY)
    after = apply_changes(snap, plan.changes)
    for key, (read, write) in resources.items():
        for name, (original, boosted, current) in (("read", read), ("write", write)):
            assert after.resources[key].dimension(name) == put_back_dimension(original, boosted, current)
            left = any(one.key == key and one.dimension == name for one in plan.left)
            assert left == (after.resources[key].dimension(name).setting != original.setting)
    again = plan_restore(after, record, DAY)
    assert again.changes == []
    assert [(one.key, one.dimension) for one in again.left] == [(one.key, one.dimension) for one in plan.left]


def test_targets_above_the_table_maximum_name_the_field():
    with pytest.raises(InputError, match="gsi_read_capacity"):
        check_targets(Targets(gsi_read=50000), snapshot(idx=(1, 1)), {"read": 40000, "write": 40000})


# ---------------------------------------------------------------------------- AWS errors (botocore Stubber)
# Injected with Stubber because neither moto nor dynalite ever answers LimitExceededException to a
# decrease or ResourceInUseException to an update of a busy table. (Throttling is botocore's to retry.)

ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"


def describe(read: int, status: str = "ACTIVE", decreases: int = 0) -> dict[str, Any]:
    table: dict[str, Any] = {"Table": {
        "TableName": "orders", "TableArn": ARN, "TableStatus": status,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": read, "WriteCapacityUnits": 5,
                                  "NumberOfDecreasesToday": decreases,
                                  "LastDecreaseDateTime": DAY + timedelta(hours=5)}}}
    if not decreases:  # the API model allows only counts of 1 or more here
        del table["Table"]["ProvisionedThroughput"]["NumberOfDecreasesToday"]
    return table


def record_tag_list(at: str = "2026-11-22T01:00:00Z", hold_until: str | None = None) -> list[dict[str, str]]:
    """The record of a boost 5 -> 50 RCU of the table (`describe(50)` is still where it left the table)."""
    return record_tags(CapacityRecord("PROVISIONED", at, "r", {None: {"read": Dimension(5)}}, hold_until,
                                      boosted={None: {"read": Dimension(50)}}), "hippolyte:capacity-original")


@pytest.fixture
def ddb():
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def settings(**kw: Any) -> cc.Settings:
    return cc.Settings(sleep=lambda s: None, clock=lambda: DAY + timedelta(hours=5, minutes=30), **kw)


def test_refused_decrease_keeps_the_tag_and_reports_the_next_slot(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50, decreases=4))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list()})
    stub.add_response("describe_table", describe(50, decreases=4))
    stub.add_client_error("update_table", "LimitExceededException", http_status_code=400)
    stub.add_response("describe_table", describe(50, decreases=4))
    result = cc.put_back(client, None, "orders", settings())
    assert result["pending"] == [{"resource": "table", "reason": "DynamoDB refused the decrease (decrease budget)",
                                  "next_decrease_slot": "2026-11-22T06:00:00Z"}]
    assert result["changed"] is False  # no untag_resource call was queued: the record stays


def test_busy_table_is_retried_until_the_update_lands(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list()})
    stub.add_response("describe_table", describe(50, status="UPDATING"))
    stub.add_response("describe_table", describe(50))
    stub.add_client_error("update_table", "ResourceInUseException", http_status_code=400)
    stub.add_response("describe_table", describe(50))
    stub.add_response("update_table", {}, {"TableName": "orders", "ProvisionedThroughput": {"ReadCapacityUnits": 5,
                                                                                            "WriteCapacityUnits": 5}})
    stub.add_response("describe_table", describe(5))
    stub.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["hippolyte:capacity-original"]})
    result = cc.put_back(client, None, "orders", settings())
    assert result["changed"] is True
    assert result["pending"] == []


def test_increase_refused_by_the_account_limit_fails_and_keeps_the_record(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(5))
    stub.add_response("describe_limits", {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                                          "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000})
    stub.add_response("list_tags_of_resource", {"Tags": []})
    stub.add_response("tag_resource", {}, {"ResourceArn": ARN, "Tags": ANY})
    stub.add_response("list_tags_of_resource", {"Tags": []})  # tags apply asynchronously: not readable yet
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list("2026-11-22T05:30:00Z",
                                                                        "2026-11-22T17:30:00Z")})
    stub.add_response("describe_table", describe(5))
    stub.add_client_error("update_table", "LimitExceededException", http_status_code=400)
    clock = settings().clock
    with pytest.raises(HippolyteError, match=r"stopped part-way.*state=restored"):
        cc.boost(client, None, "orders", Targets(read=50), cc.Settings(sleep=lambda s: None, clock=clock, run_id="r"))


def test_will_not_change_counts_as_done_when_the_table_is_already_there(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_client_error("update_table", "ValidationException", http_status_code=400)
    stub.add_response("describe_table", describe(5))
    assert cc.update_resource(client, "orders", None, {"read": 5}, settings()).done


# Stubber below: the clock is a fake one, so that a hold can be live or over without waiting hours.
LIVE_HOLD = "2026-11-22T09:00:00Z"  # the fake clock reads 05:30


def test_reconcile_reports_a_live_runs_record_as_held_and_changes_nothing(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list(hold_until=LIVE_HOLD)})
    result = cc.reconcile(client, None, settings(run_id="night-b"), only="orders")
    assert result["held"] == [{"table": "orders", "held_by": "r", "hold_until": LIVE_HOLD}]
    assert result["repaired"] == [] and result["changed"] is False  # no update_table or untag was queued


def test_reconcile_repairs_a_record_whose_hold_has_passed(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list(hold_until="2026-11-22T05:00:00Z")})
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list(hold_until="2026-11-22T05:00:00Z")})
    stub.add_response("describe_table", describe(50))
    stub.add_response("update_table", {}, {"TableName": "orders", "ProvisionedThroughput": {"ReadCapacityUnits": 5,
                                                                                            "WriteCapacityUnits": 5}})
    stub.add_response("describe_table", describe(5))
    stub.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["hippolyte:capacity-original"]})
    result = cc.reconcile(client, None, settings(run_id="night-b"), only="orders")
    assert result["repaired"] == ["orders"] and result["held"] == []


def test_restore_with_a_run_id_leaves_another_runs_record(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list(hold_until="2026-11-22T05:00:00Z")})
    result = cc.put_back(client, None, "orders", settings(run_id="night-b"))
    assert result["changed"] is False
    assert (result["held_by"], result["hold_until"]) == ("r", "2026-11-22T05:00:00Z")


def test_boost_of_a_table_a_live_run_holds_changes_nothing(ddb):
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("describe_limits", {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                                          "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000})
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list(hold_until=LIVE_HOLD)})
    result = cc.boost(client, None, "orders", Targets(read=100), settings(run_id="night-b"))
    assert result["changed"] is False and result["held_by"] == "r"
    assert result["after"] == result["before"]


def test_a_value_changed_while_the_put_back_waited_for_the_table_is_left(ddb):
    """The application's own UpdateTable (5 -> 50 boosted, raised to 500) keeps the table UPDATING while the
    put-back waits for ACTIVE: once ACTIVE, the value is no longer ours, so no UpdateTable is sent."""
    client, stub = ddb
    stub.add_response("describe_table", describe(50))
    stub.add_response("list_tags_of_resource", {"Tags": record_tag_list()})
    stub.add_response("describe_table", describe(50, status="UPDATING"))
    stub.add_response("describe_table", describe(500))
    stub.add_response("describe_table", describe(500))
    stub.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["hippolyte:capacity-original"]})
    result = cc.put_back(client, None, "orders", settings())
    assert result["pending"] == []
    assert result["changed_by_others"] == [{
        "resource": "table", "dimension": "read", "original": {"units": 5}, "boosted": {"units": 50},
        "current": {"units": 500}, "reason": "changed by someone else while the put-back waited for the table"}]
    assert result["after"]["table"]["read"] == {"units": 50}  # nothing applied: `after` is what the plan saw


def test_reconcile_of_a_table_switched_to_on_demand_drops_the_record_with_a_note(ddb):
    client, stub = ddb
    on_demand = describe(0)
    on_demand["Table"]["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    tags = record_tag_list(hold_until="2026-11-22T05:00:00Z")
    stub.add_response("describe_table", on_demand)
    stub.add_response("describe_table", on_demand)
    stub.add_response("list_tags_of_resource", {"Tags": tags})
    stub.add_response("describe_table", on_demand)
    stub.add_response("list_tags_of_resource", {"Tags": tags})
    stub.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["hippolyte:capacity-original"]})
    result = cc.reconcile(client, None, settings(run_id="night-b"), only="orders")
    assert result["repaired"] == [] and result["pending"] == []
    assert [r["table"] for r in result["retired"]] == ["orders"]
    assert "billing mode switched from PROVISIONED to PAY_PER_REQUEST" in result["retired"][0]["reason"]


# ------------------------------------------------------------------------ the scan's rate (read_allowance)

shares = st.floats(0.01, 1.0)


@given(st.integers(1, 40000), st.integers(0, 40000), st.integers(0, 80000), shares, shares)
def test_reads_never_exceed_what_the_boost_added_plus_the_share_of_the_original(original, extra, capacity, share,
                                                                                original_share):
    boosted = original + extra
    allowance = ReadAllowance(share, original_share, original, boosted)
    rate = allowance.rate(capacity)
    arrived = max(0, min(capacity, boosted) - original)  # what the boost has added so far
    assert rate <= arrived + original_share * min(capacity, original) + 1e-9
    assert rate <= share * capacity + 1e-9
    assert rate <= allowance.rate(capacity + 1) + 1e-9  # more capacity never slows the scan
    if capacity <= original:  # the boost is not there yet: the original share at most
        assert rate <= original_share * capacity + 1e-9
    # Another run's boost, or none: only the table's own capacity is read on, at the smaller share.
    assert ReadAllowance(share, original_share, original).rate(capacity) <= \
        min(share, original_share) * min(capacity, original) + 1e-9


def test_the_plans_boosted_share_applies_once_the_boost_is_there():
    """Plan: 5 RCU boosted to 50, the scan's share 0.9 of the boosted capacity (the 45 added), host share 0.5."""
    allowance = ReadAllowance(share=0.9, original_share=0.5, original=5, boosted=50)
    assert allowance.rate(5) == 2.5  # autoscaling has not raised it yet: half the original, not 90 % of it
    assert allowance.rate(20) == 15 + 2.5
    assert allowance.rate(50) == 45
    assert allowance.rate(500) == 45  # the application raised it for itself: not read on


class LaggingTable:
    """A table whose read capacity follows a raised scalable-target minimum only after `lag_s` (moto and dynalite
    do not model autoscaling lag, so it is simulated here), then is raised by the application at `raised_at`."""

    def __init__(self, clock: list[float], lag_s: float, raised_at: float = float("inf")) -> None:
        self.clock, self.lag_s, self.raised_at = clock, lag_s, raised_at
        self.reads: list[float] = []

    def read_capacity(self) -> int:
        self.reads.append(self.clock[0])
        return 500 if self.clock[0] >= self.raised_at else 50 if self.clock[0] >= self.lag_s else 5


def test_the_scan_polls_until_the_boost_arrives_then_rechecks_and_never_reads_the_applications_raise():
    now = [0.0]
    table = LaggingTable(now, lag_s=42.0, raised_at=400.0)
    watch = CapacityWatch(ReadAllowance(0.9, 0.5, 5, 50), table.read_capacity, clock=lambda: now[0])
    assert watch.rate() == 2.5
    rates = []
    while now[0] < 500:
        now[0] += 1.0
        rate = watch.due_rate()
        if rate is not None:
            rates.append((now[0], rate))
    # Every BOOST_POLL_S while the boost is not there, then every CAPACITY_RECHECK_S.
    assert [t for t, _rate in rates if t <= 45] == [BOOST_POLL_S * n for n in range(1, 10)]
    assert watch.arrived_after_s == 45.0
    assert all(rate == 2.5 for t, rate in rates if t < 45) and all(rate == 45 for t, rate in rates if t >= 45)
    assert rates[9][0] - rates[8][0] == CAPACITY_RECHECK_S
    assert watch.capacity == 500 and watch.highest_rate == 45


def test_a_boost_that_never_arrives_is_waited_for_a_bounded_time_and_read_at_the_original_share():
    now = [0.0]
    table = LaggingTable(now, lag_s=float("inf"))
    watch = CapacityWatch(ReadAllowance(0.9, 0.5, 5, 50), table.read_capacity, clock=lambda: now[0])
    watch.rate()
    while now[0] < BOOST_WAIT_S + 3 * CAPACITY_RECHECK_S:
        now[0] += 1.0
        assert watch.due_rate() in (None, 2.5)
    assert watch.arrived_after_s is None
    after_wait = [t for t in table.reads if t > BOOST_WAIT_S]
    assert [b - a for a, b in itertools.pairwise(after_wait)] == [CAPACITY_RECHECK_S] * 2
