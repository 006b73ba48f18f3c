"""dynamodb_throughput through the real `ansible` CLI against moto server and dynalite over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    CapacityRecord,
    Dimension,
    iso,
    record_tags,
)
from tests.conftest import client
from tests.support.ansible_run import BIN, ansible_env, run_module
from tests.support.throughput_fixtures import (
    aws_args,
    capacity,
    create_table,
    register_scaling,
    scaling,
    tags,
    wait_active,
)

MODULE = "dynamodb_throughput"
TAG = "hippolyte:capacity-original"


def throughput(url: str, check: bool = False, diff: bool = False, **args):
    return run_module(MODULE, aws_args(url, **args), check=check, diff=diff)


def test_plain_table_boost_restore_and_idempotence(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)

    boosted = throughput(url, state="boosted", table=unique_name, read_capacity=50, run_id="run-1")
    assert not boosted.failed, boosted.output
    assert boosted.result["changed"] is True
    assert capacity(url, unique_name)[None] == (50, 5)
    assert boosted.result["original"]["table"] == {"read": {"units": 5, "boosted": {"units": 50}}}
    assert boosted.result["original"]["run_id"] == "run-1"
    assert TAG in tags(url, unique_name)

    again = throughput(url, state="boosted", table=unique_name, read_capacity=50, run_id="run-2")
    assert again.result["changed"] is False
    assert again.result["original"]["run_id"] == "run-1"

    restored = throughput(url, state="restored", table=unique_name)
    assert restored.result["changed"] is True, restored.output
    assert capacity(url, unique_name)[None] == (5, 5)
    assert TAG not in tags(url, unique_name)

    twice = throughput(url, state="restored", table=unique_name)
    assert twice.result["changed"] is False
    assert twice.result["original"] is None


def test_boosting_twice_never_overwrites_the_original(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    throughput(url, state="boosted", table=unique_name, read_capacity=40)
    higher = throughput(url, state="boosted", table=unique_name, read_capacity=80, write_capacity=30)
    assert higher.result["changed"] is True
    assert higher.result["original"]["table"] == {"read": {"units": 5, "boosted": {"units": 80}},
                                                  "write": {"units": 5, "boosted": {"units": 30}}}
    assert capacity(url, unique_name)[None] == (80, 30)
    throughput(url, state="restored", table=unique_name)
    assert capacity(url, unique_name)[None] == (5, 5)


def test_gsi_table_on_dynalite_counts_decreases_per_resource(dynalite_server, unique_name):
    url = dynalite_server.url
    create_table(url, unique_name, read=5, write=5, gsis={"by_a": (3, 3), "by_b": (4, 4)})
    boosted = throughput(url, state="boosted", table=unique_name, read_capacity=60, gsi_write_capacity=20,
                         indexes={"by_b": {"write_capacity": 30, "read_capacity": 9}}, autoscaling=False)
    assert not boosted.failed, boosted.output
    assert capacity(url, unique_name) == {None: (60, 5), "by_a": (3, 20), "by_b": (9, 30)}

    restored = throughput(url, state="restored", table=unique_name, autoscaling=False)
    assert not restored.failed, restored.output
    assert capacity(url, unique_name) == {None: (5, 5), "by_a": (3, 3), "by_b": (4, 4)}
    table = wait_active(url, unique_name)
    # One decrease each: read and write of one resource go back in a single UpdateTable.
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1
    assert [i["ProvisionedThroughput"]["NumberOfDecreasesToday"] for i in table["GlobalSecondaryIndexes"]] == [1, 1]


def test_boost_refused_when_decrease_budget_is_spent_unless_forced(dynalite_server, unique_name):
    url = dynalite_server.url
    create_table(url, unique_name, read=100, write=5)
    ddb = client("dynamodb", url)
    for units in range(99, 72, -1):  # dynalite counts every decrease: spend today's 27
        ddb.update_table(TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": units,
                                                                       "WriteCapacityUnits": 5})
        time.sleep(0.05)
        wait_active(url, unique_name)
    assert wait_active(url, unique_name)["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 27

    refused = throughput(url, state="boosted", table=unique_name, read_capacity=200, autoscaling=False)
    assert refused.failed
    assert "force=true" in refused.result["msg"]
    assert capacity(url, unique_name)[None] == (73, 5)
    assert TAG not in tags(url, unique_name)

    forced = throughput(url, state="boosted", table=unique_name, read_capacity=200, force=True, autoscaling=False)
    assert not forced.failed, forced.output
    assert capacity(url, unique_name)[None] == (200, 5)
    assert forced.result["next_decrease_slot"].endswith("T00:00:00Z")


def test_autoscaled_table_and_gsi_change_scalable_targets_not_capacity(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5, gsis={"by_a": (5, 5)})
    register_scaling(url, unique_name, None, "read", 5, 100)
    register_scaling(url, unique_name, "by_a", "read", 5, 20)
    before = scaling(url, unique_name)

    boosted = throughput(url, state="boosted", table=unique_name, read_capacity=50, gsi_read_capacity=40)
    assert not boosted.failed, boosted.output
    after = scaling(url, unique_name)
    assert after[(f"table/{unique_name}", "dynamodb:table:ReadCapacityUnits")] == (50, 100)
    assert after[(f"table/{unique_name}/index/by_a", "dynamodb:index:ReadCapacityUnits")] == (40, 40)
    assert capacity(url, unique_name) == {None: (5, 5), "by_a": (5, 5)}  # no UpdateTable against autoscaling
    assert boosted.result["original"]["indexes"]["by_a"]["read"]["autoscaling"] == {"min": 5, "max": 20}

    restored = throughput(url, state="restored", table=unique_name)
    assert not restored.failed, restored.output
    assert scaling(url, unique_name) == before
    assert TAG not in tags(url, unique_name)


def test_on_demand_table_is_left_alone(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, on_demand=True)
    result = throughput(url, state="boosted", table=unique_name, read_capacity=100)
    assert not result.failed, result.output
    assert result.result["changed"] is False
    assert result.result["on_demand"] is True
    assert "on-demand" in result.result["msg"]
    assert TAG not in tags(url, unique_name)


def test_a_switch_to_on_demand_mid_night_retires_the_record(moto_server, unique_name):
    """Boost 5 -> 30, the table goes on-demand during the night: the put-back drops the record with a note (it
    is not kept pending for a later run to apply) and changes no capacity."""
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    throughput(url, state="boosted", table=unique_name, read_capacity=30)
    client("dynamodb", url).update_table(TableName=unique_name, BillingMode="PAY_PER_REQUEST")

    retired = throughput(url, state="restored", table=unique_name)
    assert not retired.failed, retired.output
    assert retired.result["billing_mode_changed"] is True and retired.result["changed"] is True
    assert "billing mode switched from PROVISIONED to PAY_PER_REQUEST" in retired.result["record_retired"]
    assert any("record dropped" in w for w in retired.result["warnings"])
    assert TAG not in tags(url, unique_name)
    assert wait_active(url, unique_name)["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


# Put back only where we left it: dynalite for provisioned tables (real UPDATING status and decrease counters),
# moto for Application Auto Scaling.

def test_capacity_the_application_raised_during_the_night_is_left_and_reported(dynalite_server, unique_name):
    """Table boosted 5 -> 50 RCU, then raised by the application to 500 (and one GSI's write by an operator):
    the put-back leaves 500 and that GSI's write, puts back the rest, and says what it left."""
    url = dynalite_server.url
    create_table(url, unique_name, read=5, write=5, gsis={"by_a": (3, 3), "by_b": (4, 4)})
    boosted = throughput(url, state="boosted", table=unique_name, read_capacity=50, gsi_write_capacity=20,
                         run_id="night", autoscaling=False)
    assert not boosted.failed, boosted.output
    assert boosted.result["original"]["table"] == {"read": {"units": 5, "boosted": {"units": 50}}}
    ddb = client("dynamodb", url)
    ddb.update_table(TableName=unique_name, ProvisionedThroughput={"ReadCapacityUnits": 500, "WriteCapacityUnits": 5})
    wait_active(url, unique_name)
    ddb.update_table(TableName=unique_name, GlobalSecondaryIndexUpdates=[{"Update": {
        "IndexName": "by_b", "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 120}}}])
    wait_active(url, unique_name)

    restored = throughput(url, state="restored", table=unique_name, run_id="night", autoscaling=False)
    assert not restored.failed, restored.output
    assert capacity(url, unique_name) == {None: (500, 5), "by_a": (3, 3), "by_b": (4, 120)}
    assert [(c["resource"], c["dimension"], c["current"]["units"]) for c in restored.result["changed_by_others"]] == [
        ("table", "read", 500), ("index by_b", "write", 120)]
    assert len([w for w in restored.result["warnings"] if "changed by someone else" in w]) == 2
    assert TAG not in tags(url, unique_name)
    table = wait_active(url, unique_name)
    assert table["ProvisionedThroughput"].get("NumberOfDecreasesToday", 0) == 0  # the table was never lowered

    again = throughput(url, state="restored", table=unique_name, run_id="night", autoscaling=False)
    assert again.result["changed"] is False and capacity(url, unique_name)[None] == (500, 5)


def test_next_nights_reconcile_leaves_what_the_application_raised(dynalite_server, unique_name):
    """A run killed while boosted (5 -> 50), the application raising the table to 500 before the next night:
    that night's reconcile leaves 500 and removes the record."""
    url = dynalite_server.url
    create_table(url, unique_name, read=5, write=5)
    throughput(url, state="boosted", table=unique_name, read_capacity=50, run_id="crashed", hold_s=0,
               autoscaling=False)
    client("dynamodb", url).update_table(TableName=unique_name,
                                         ProvisionedThroughput={"ReadCapacityUnits": 500, "WriteCapacityUnits": 5})
    wait_active(url, unique_name)

    reconciled = throughput(url, state="reconciled", table=unique_name, run_id="next-night", autoscaling=False)
    assert not reconciled.failed, reconciled.output
    assert reconciled.result["repaired"] == [unique_name]
    assert [(c["table"], c["current"]["units"]) for c in reconciled.result["changed_by_others"]] == [
        (unique_name, 500)]
    assert capacity(url, unique_name)[None] == (500, 5)
    assert TAG not in tags(url, unique_name)


def test_a_stale_record_no_longer_matching_is_dropped_never_applied(dynalite_server, unique_name):
    """Boost 5 -> 50, the table went on-demand and, weeks later, came back provisioned at 1,000 RCU by its team;
    the record of that night (written here as that run left it, with its times weeks ago) is dropped with a
    warning by the next reconcile, and the 1,000 RCU stay."""
    url = dynalite_server.url
    create_table(url, unique_name, read=1000, write=5)
    weeks_ago = datetime.now(UTC) - timedelta(days=30)
    record = CapacityRecord("PROVISIONED", iso(weeks_ago), "old-night", {None: {"read": Dimension(5)}},
                            hold_until=iso(weeks_ago + timedelta(hours=8)), boosted={None: {"read": Dimension(50)}})
    ddb = client("dynamodb", url)
    ddb.tag_resource(ResourceArn=wait_active(url, unique_name)["TableArn"], Tags=record_tags(record, TAG))

    reconciled = throughput(url, state="reconciled", table=unique_name, run_id="tonight", autoscaling=False)
    assert not reconciled.failed, reconciled.output
    assert [r["table"] for r in reconciled.result["retired"]] == [unique_name]
    assert "stale" in reconciled.result["retired"][0]["reason"] and reconciled.result["repaired"] == []
    assert any("record dropped" in w and "stale" in w for w in reconciled.result["warnings"])
    assert capacity(url, unique_name)[None] == (1000, 5)
    assert TAG not in tags(url, unique_name)


def test_scalable_targets_ops_changed_during_the_night_are_left(moto_server, unique_name):
    """Scalable target boosted 5-100 -> 50-100, then set by ops to 200-1000: the put-back leaves 200-1000; the
    GSI's target, still where the boost left it, goes back; the next run's reconcile does the same."""
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5, gsis={"by_a": (5, 5)})
    register_scaling(url, unique_name, None, "read", 5, 100)
    register_scaling(url, unique_name, "by_a", "read", 5, 20)
    table_target = (f"table/{unique_name}", "dynamodb:table:ReadCapacityUnits")
    index_target = (f"table/{unique_name}/index/by_a", "dynamodb:index:ReadCapacityUnits")

    for put_back in ("restored", "reconciled"):
        boosted = throughput(url, state="boosted", table=unique_name, read_capacity=50, gsi_read_capacity=40,
                             run_id="night", hold_s=0)
        assert not boosted.failed, boosted.output
        assert scaling(url, unique_name)[table_target] == (50, 100)
        register_scaling(url, unique_name, None, "read", 200, 1000)  # ops, during the night

        args = {"run_id": "night"} if put_back == "restored" else {"run_id": "next-night"}
        result = throughput(url, state=put_back, table=unique_name, **args)
        assert not result.failed, result.output
        assert scaling(url, unique_name)[table_target] == (200, 1000)
        assert scaling(url, unique_name)[index_target] == (5, 20)
        left = result.result["changed_by_others"]
        assert [(c["resource"], c["current"]["autoscaling"]) for c in left] == [("table", {"min": 200, "max": 1000})]
        assert TAG not in tags(url, unique_name)
        register_scaling(url, unique_name, None, "read", 5, 100)  # as it was, for the reconcile round


def test_check_mode_and_diff_change_nothing(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    planned = throughput(url, check=True, diff=True, state="boosted", table=unique_name, read_capacity=25)
    assert not planned.failed, planned.output
    assert planned.result["changed"] is True
    assert planned.result["diff"]["before"]["table"]["read"]["units"] == 5
    assert planned.result["diff"]["after"]["table"]["read"]["units"] == 25
    assert capacity(url, unique_name)[None] == (5, 5)
    assert TAG not in tags(url, unique_name)

    throughput(url, state="boosted", table=unique_name, read_capacity=25)
    would = throughput(url, check=True, diff=True, state="restored", table=unique_name)
    assert would.result["diff"]["after"]["table"]["read"]["units"] == 5
    assert capacity(url, unique_name)[None] == (25, 5)
    assert TAG in tags(url, unique_name)


def test_many_tables_diff_shows_each_table_gsi_and_scalable_target_in_check_mode_and_for_real(
        moto_server, unique_name):
    """`tables` with --diff: the before and after of every table whose capacity moves, keyed by name (its GSI and
    scalable targets included), the same in check mode (nothing written) as for real; a table already at its
    target shows nothing. A reconcile's diff shows the put-back."""
    url = moto_server.url
    scaled, plain, high = (f"{unique_name}-{n}" for n in ("scaled", "plain", "high"))
    create_table(url, scaled, read=5, write=5, gsis={"by_a": (5, 5)})
    register_scaling(url, scaled, None, "read", 5, 100)
    create_table(url, plain, read=5, write=5)
    create_table(url, high, read=80, write=5)
    rows = [{"name": n, "read_capacity": 40} for n in (scaled, plain, high)]

    planned = throughput(url, check=True, diff=True, state="boosted", tables=rows, run_id="night-1", hold_s=3600)
    assert not planned.failed, planned.output
    diff = planned.result["diff"]
    assert sorted(diff["before"]) == sorted(diff["after"]) == sorted([scaled, plain])
    assert diff["before"][scaled]["table"]["read"]["autoscaling"] == {"min": 5, "max": 100}
    assert diff["after"][scaled]["table"]["read"]["autoscaling"]["min"] == 40
    assert diff["before"][scaled]["indexes"]["by_a"]["read"]["units"] == 5
    assert (diff["before"][plain]["table"]["read"]["units"], diff["after"][plain]["table"]["read"]["units"]) == (5, 40)
    assert capacity(url, plain)[None] == (5, 5) and TAG not in tags(url, plain)
    assert scaling(url, scaled)[(f"table/{scaled}", "dynamodb:table:ReadCapacityUnits")] == (5, 100)

    done = throughput(url, diff=True, state="boosted", tables=rows, run_id="night-1", hold_s=3600)
    assert not done.failed, done.output
    assert done.result["diff"] == diff  # what check mode showed is what happened
    assert capacity(url, plain)[None] == (40, 5)

    dead = f"{unique_name}-dead"
    create_table(url, dead, read=5, write=5)
    throughput(url, state="boosted", table=dead, read_capacity=30, run_id="yesterday", hold_s=0)  # the run died
    repaired = throughput(url, diff=True, state="reconciled", table=dead, run_id="night-2")
    assert not repaired.failed, repaired.output
    assert repaired.result["diff"]["before"][dead]["table"]["read"]["units"] == 30
    assert repaired.result["diff"]["after"][dead]["table"]["read"]["units"] == 5


def test_many_tables_in_one_call_with_a_refusal_listed_not_failed(moto_server, unique_name):
    """`tables`: one task boosts a night's cluster tables (the plan's cluster_boosts rows as they are); a table
    held by another live run is listed in `refused` and the others are boosted; `state=restored` with the same
    names puts back only this run's records."""
    url = moto_server.url
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(url, name, read=5, write=5)
    held = throughput(url, state="boosted", table=names[2], read_capacity=20, run_id="other-run", hold_s=3600)
    assert held.result["changed"], held.output
    rows = [{"name": n, "rcu": 5, "boost_rcu": 40, "read_capacity": 40} for n in names]

    boosted = throughput(url, state="boosted", tables=rows, run_id="night-1", hold_s=3600)
    assert not boosted.failed, boosted.output
    assert sorted(boosted.result["boosted"]) == names[:2] and boosted.result["refused"] == [names[2]]
    assert [capacity(url, n)[None] for n in names] == [(40, 5), (40, 5), (20, 5)]

    restored = throughput(url, state="restored", tables=names, run_id="night-1")
    assert not restored.failed, restored.output
    assert sorted(restored.result["put_back"]) == names[:2]
    assert [capacity(url, n)[None] for n in names] == [(5, 5), (5, 5), (20, 5)]  # the other run's stays
    assert TAG in tags(url, names[2]) and TAG not in tags(url, names[0])


def test_a_boost_whose_capacity_has_not_arrived_is_not_read_on(moto_server, unique_name):
    """Cluster engines fix their rate when they start, so the night's boosts wait (`capacity_wait_s`) for the
    capacity. moto's Application Auto Scaling never raises the table (no autoscaling there, as with autoscaling
    lagging): the autoscaled table is listed in `refused` (read on its own capacity), still boosted and recorded
    for the put-back; the provisioned table's UpdateTable capacity is there."""
    url = moto_server.url
    scaled, plain = f"{unique_name}-as", f"{unique_name}-pt"
    for name in (scaled, plain):
        create_table(url, name, read=5, write=5)
    register_scaling(url, scaled, None, "read", 5, 100)
    rows = [{"name": scaled, "read_capacity": 50}, {"name": plain, "read_capacity": 50}]

    boosted = throughput(url, state="boosted", tables=rows, run_id="night", hold_s=600, capacity_wait_s=2)
    assert not boosted.failed, boosted.output
    assert boosted.result["refused"] == [scaled]
    assert sorted(boosted.result["boosted"]) == sorted([scaled, plain])
    arrived = {r["table"]: r["capacity_arrived"] for r in boosted.result["per_table"]}
    assert arrived == {scaled: False, plain: True}
    assert scaling(url, scaled)[(f"table/{scaled}", "dynamodb:table:ReadCapacityUnits")] == (50, 100)
    assert capacity(url, scaled)[None] == (5, 5) and capacity(url, plain)[None] == (50, 5)
    assert TAG in tags(url, scaled)

    throughput(url, state="restored", tables=[scaled, plain], run_id="night")
    assert scaling(url, scaled)[(f"table/{scaled}", "dynamodb:table:ReadCapacityUnits")] == (5, 100)
    assert capacity(url, plain)[None] == (5, 5)


@pytest.mark.parametrize(("tables", "field"), [
    ([{"name": "t", "read_capacity": "many"}], "tables[0].read_capacity"),
    ([{"read_capacity": 5}], "tables[0].name"),
])
def test_many_tables_bad_rows_fail_before_anything_changes(moto_server, unique_name, tables, field):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    rows = [dict(row, name=unique_name) if "name" in row else row for row in tables] + [
        {"name": unique_name, "read_capacity": 50}]
    result = throughput(url, state="boosted", tables=rows, run_id="night-1")
    assert result.failed and result.result["field"] == field
    assert capacity(url, unique_name)[None] == (5, 5)


@pytest.mark.parametrize(("args", "field"), [
    ({"read_capacity": -5}, "read_capacity"),
    ({"gsi_write_capacity": 0}, "gsi_write_capacity"),
    ({"read_capacity": 10001}, "read_capacity"),  # moto's DescribeLimits says 10000 per table
    ({"indexes": {"nope": {"read_capacity": 10}}}, "indexes"),
    ({"indexes": {"by_a": {"reads": 10}}}, "indexes.by_a"),
    ({}, "read_capacity"),
])
def test_bad_input_fails_before_anything_changes(moto_server, unique_name, args, field):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5, gsis={"by_a": (5, 5)})
    result = throughput(url, state="boosted", table=unique_name, **args)
    assert result.failed
    assert result.result["field"] == field
    assert capacity(url, unique_name) == {None: (5, 5), "by_a": (5, 5)}
    assert TAG not in tags(url, unique_name)


@pytest.mark.parametrize("state", ["boosted", "restored", "reconciled"])
def test_unknown_table_is_a_clear_error(moto_server, unique_name, state):
    result = throughput(moto_server.url, state=state, table=unique_name, read_capacity=10)
    assert result.failed
    assert result.result["field"] == "table"
    assert "does not exist" in result.result["msg"]


def test_reconcile_skips_this_runs_records_and_repairs_the_rest(moto_server, unique_name):
    url = moto_server.url
    mine, crashed = f"{unique_name}-live", f"{unique_name}-old"
    for name in (mine, crashed):
        create_table(url, name, read=5, write=5)
    throughput(url, state="boosted", table=mine, read_capacity=20, run_id="now")
    throughput(url, state="boosted", table=crashed, read_capacity=20, run_id="yesterday", hold_s=0)

    result = throughput(url, state="reconciled", run_id="now")
    assert not result.failed, result.output
    assert crashed in result.result["repaired"]
    assert {"table": mine, "reason": "recorded by this run (now)"} in result.result["left_alone"]
    assert capacity(url, crashed)[None] == (5, 5)
    assert capacity(url, mine)[None] == (20, 5)
    assert TAG in tags(url, mine)


def test_another_live_runs_boost_is_neither_stacked_nor_taken_back(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    first = throughput(url, state="boosted", table=unique_name, read_capacity=11, run_id="night-a", hold_s=3600)
    assert first.result["changed"] is True, first.output
    hold = first.result["hold_until"]
    assert first.result["original"]["hold_until"] == hold

    second = throughput(url, state="boosted", table=unique_name, read_capacity=11, run_id="night-b", hold_s=3600)
    assert not second.failed, second.output
    assert second.result["changed"] is False
    assert (second.result["held_by"], second.result["hold_until"]) == ("night-a", hold)
    assert second.result["original"]["table"] == {"read": {"units": 5, "boosted": {"units": 11}}}

    reconciled = throughput(url, state="reconciled", run_id="night-b")
    assert not reconciled.failed, reconciled.output
    assert {"table": unique_name, "held_by": "night-a", "hold_until": hold} in reconciled.result["held"]
    assert unique_name not in reconciled.result["repaired"]

    others = throughput(url, state="restored", table=unique_name, run_id="night-b")
    assert others.result["changed"] is False and others.result["held_by"] == "night-a"
    assert capacity(url, unique_name)[None] == (11, 5)
    assert TAG in tags(url, unique_name)

    renewed = throughput(url, state="boosted", table=unique_name, read_capacity=11, run_id="night-a", hold_s=7200)
    assert renewed.result["changed"] is False and renewed.result["hold_until"] > hold

    own = throughput(url, state="restored", table=unique_name, run_id="night-a")
    assert own.result["changed"] is True, own.output
    assert capacity(url, unique_name)[None] == (5, 5)
    assert TAG not in tags(url, unique_name)


def test_a_dead_runs_record_is_repaired_once_its_hold_has_passed(moto_server, unique_name):
    url = moto_server.url
    create_table(url, unique_name, read=5, write=5)
    throughput(url, state="boosted", table=unique_name, read_capacity=20, run_id="dead", hold_s=0)
    taken = throughput(url, state="boosted", table=unique_name, read_capacity=30, run_id="alive", hold_s=600)
    assert taken.result["changed"] is True, taken.output
    assert taken.result["original"]["run_id"] == "alive"
    # The dead run's original is kept (the table was still at what it set); what is boosted is now 30.
    assert taken.result["original"]["table"] == {"read": {"units": 5, "boosted": {"units": 30}}}
    restored = throughput(url, state="restored", table=unique_name, run_id="alive")
    assert restored.result["changed"] is True
    assert capacity(url, unique_name)[None] == (5, 5)


def descendants(pid: int) -> list[int]:
    """PIDs of every process below `pid` (Ansible's workers start sessions of their own, out of its group)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the run and everything it started, as a crashed controller host would lose them."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)


CRASH_PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Boost
      hippolyte.dynamodb.dynamodb_throughput: {args}
    - name: The backup that never finishes
      ansible.builtin.command: sleep 600
"""


@pytest.mark.parametrize("kill_when", ["during the job", "during the boost"])
def test_crash_after_boost_is_repaired_by_reconcile(dynalite_server, unique_name, tmp_path: Path, kill_when):
    url = dynalite_server.url
    gsis = {f"gsi{i}": (2, 2) for i in range(5)}
    create_table(url, unique_name, read=5, write=5, gsis=gsis)
    original = capacity(url, unique_name)
    args = aws_args(url, state="boosted", table=unique_name, read_capacity=50, gsi_read_capacity=40,
                    run_id="crashed", hold_s=1, autoscaling=False)
    playbook = tmp_path / "crash.yml"
    playbook.write_text(CRASH_PLAYBOOK.format(args=json.dumps(args)))
    proc = subprocess.Popen([str(BIN / "ansible-playbook"), str(playbook)], env=ansible_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            now = capacity(url, unique_name)
            boosted_gsis = sum(now[g][0] == 40 for g in gsis)
            ready = (boosted_gsis == len(gsis)) if kill_when == "during the job" else now[None][0] == 50
            if TAG in tags(url, unique_name) and ready:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
        kill_tree(proc)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    assert capacity(url, unique_name)[None] == (50, 5)  # left boosted by the killed run
    time.sleep(1)  # its hold has run out: the run is over

    repaired = throughput(url, state="reconciled", table=unique_name, autoscaling=False)
    assert not repaired.failed, repaired.output
    assert repaired.result["repaired"] == [unique_name]
    assert capacity(url, unique_name) == original
    assert TAG not in tags(url, unique_name)
