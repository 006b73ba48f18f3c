"""dynamodb_backup_plan through the real `ansible` CLI: discovery on moto, inline what-ifs, files, check mode,
and bad input that must fail, naming the field, before any AWS call."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.windows import window_from_now

pytestmark = pytest.mark.xdist_group("moto")

GIB = 1024**3
# Nothing listens here: a module that tried to reach AWS with it would fail with a connection error.
DEAD_ENDPOINT = "http://127.0.0.1:9"
# What-ifs plan the whole default window (00:00-07:00 UTC) whatever the hour the tests run at: by default a
# plan made inside its window keeps only what is left of it.
WHOLE_NIGHT = "2026-11-23T00:00:00+00:00"
NO_AWS = {"region": REGION, "endpoint_url": DEAD_ENDPOINT, "starts_at": WHOLE_NIGHT}
WHAT_IF = [{"name": "orders", "size_bytes": 80 * GIB, "rcu": 200, "pitr": True},
           {"name": "orders-archive", "size_bytes": 300 * GIB, "rcu": 50},
           {"name": "sessions", "size_bytes": 2 * GIB, "billing_mode": "PAY_PER_REQUEST"},
           {"name": "users", "item_count": 9000, "rcu": 10},
           {"name": "empty", "rcu": 1}]


def planned(result: dict) -> dict[str, dict]:
    return {t["name"]: t for c in result["clusters"] for t in c["tables"]}


@pytest.fixture(scope="module")
def moto_tables(moto_server):
    ddb = client("dynamodb", moto_server.url)
    prefix = f"plan-{uuid.uuid4().hex[:6]}"
    for suffix, rcu in (("orders", 25), ("orders-archive", 5), ("users", 10)):
        ddb.create_table(TableName=f"{prefix}-{suffix}", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 1})
    ddb.put_item(TableName=f"{prefix}-orders", Item={"pk": {"S": "o-1"}})
    return prefix, moto_server.url


def test_discovers_plans_and_writes_the_plan_and_report(moto_tables, tmp_path):
    prefix, url = moto_tables
    args = {"include": [f"{prefix}-orders*", f"{prefix}-users"], "exclude": ["*-archive"], "region": REGION,
            "endpoint_url": url, "window": window_from_now(2, 8),
            # Pinned: a measured round trip differs from run to run, and so would the plan's files.
            "model": {"request_latency_s": 0.01},
            "plan_path": str(tmp_path / "plan.json"), "report_path": str(tmp_path / "report" / "plan.md")}
    run = run_module("dynamodb_backup_plan", args)
    assert not run.failed, run.output
    result = run.result
    assert set(planned(result)) == {f"{prefix}-orders", f"{prefix}-users"}
    assert result["window_s"] == 8 * 3600 and result["changed"] is True
    assert result["window"]["starts_at"] == result["window"]["opens_at"]
    orders = planned(result)[f"{prefix}-orders"]
    for key in ("name", "engine", "size_bytes", "item_count", "billing_mode", "rcu", "boost_rcu",
                "read_percentage", "start_offset_s", "duration_s"):
        assert key in orders
    assert (orders["rcu"], orders["item_count"]) == (25, 1)
    saved = json.loads((tmp_path / "plan.json").read_text())
    for key in ("window_s", "engine_counts", "estimated_cost_usd", "clusters", "unplannable", "packing", "baseline"):
        assert saved[key] == result[key]
    assert saved["warnings"] == result["plan_warnings"]
    assert (tmp_path / "report" / "plan.md").read_text() == result["report_markdown"]
    assert (tmp_path / "report" / "plan.svg").read_text().startswith("<svg")
    again = run_module("dynamodb_backup_plan", args)
    assert again.result["changed"] is False, "an unchanged plan must not rewrite its files"


def test_a_late_start_plans_what_is_left_of_the_open_window(moto_tables):
    prefix, url = moto_tables
    run = run_module("dynamodb_backup_plan", {"include": [f"{prefix}-users"], "region": REGION, "endpoint_url": url,
                                              "window": window_from_now(-1, 8)})
    assert not run.failed, run.output
    opens, starts = (datetime.fromisoformat(run.result["window"][k]) for k in ("opens_at", "starts_at"))
    assert 3540 <= (starts - opens).total_seconds() <= 3720
    assert abs(run.result["window_s"] - (8 * 3600 - (starts - opens).total_seconds())) <= 1


def test_a_run_outside_its_window_plans_from_its_own_start_or_fails_before_any_call():
    noon = "2026-11-23T12:00:00+00:00"  # the default window (00:00-07:00 UTC) is closed
    args = {**NO_AWS, "tables": WHAT_IF, "starts_at": noon}
    ahead = run_module("dynamodb_backup_plan", args)
    assert not ahead.failed, ahead.output
    assert ahead.result["window"]["starts_at"] == "2026-11-24T00:00:00+00:00" and not ahead.result["window"]["outside"]
    now = run_module("dynamodb_backup_plan", {**args, "outside_window": "now"})
    assert not now.failed, now.output
    # Planned from the run's start, for the window's length, and a night of its own (not the next night's).
    assert now.result["window"]["starts_at"] == now.result["window"]["opens_at"] == noon
    assert now.result["window"]["outside"] is True and now.result["window_s"] == 7 * 3600
    assert now.result["deadline"] == "2026-11-23T19:00:00+00:00" and now.result["night"]["id"] == "20261123T120000Z"
    refused = run_module("dynamodb_backup_plan", {**args, "outside_window": "fail"})
    assert refused.failed and refused.result["field"] == "window"
    assert "closed now (12:00)" in refused.result["msg"] and "outside_window" in refused.result["msg"]


def test_wait_plans_when_the_window_opens(moto_tables):
    prefix, url = moto_tables
    opening = datetime.now(UTC) + timedelta(seconds=4)
    window = {"start": f"{opening:%H:%M:%S}", "end": f"{opening + timedelta(hours=2):%H:%M:%S}", "timezone": "UTC"}
    run = run_module("dynamodb_backup_plan", {"include": [f"{prefix}-users"], "region": REGION, "endpoint_url": url,
                                              "window": window, "outside_window": "wait"})
    assert not run.failed, run.output
    assert datetime.now(UTC) >= opening.replace(microsecond=0)
    assert run.result["window"]["opens_at"] == opening.replace(microsecond=0).isoformat()
    assert datetime.fromisoformat(run.result["window"]["starts_at"]) >= opening.replace(microsecond=0)
    assert run.result["window_s"] <= 2 * 3600 and set(planned(run.result)) == {f"{prefix}-users"}


def test_include_that_matches_nothing_names_the_pattern(moto_tables):
    prefix, url = moto_tables
    run = run_module("dynamodb_backup_plan", {"include": [f"{prefix}-orders", f"{prefix}-nope*"],
                                              "region": REGION, "endpoint_url": url})
    assert run.failed
    assert f"{prefix}-nope*" in run.result["msg"] and run.result["field"] == "include"


def test_check_mode_plans_but_writes_nothing(tmp_path):
    args = {"tables": WHAT_IF, **NO_AWS,
            "plan_path": str(tmp_path / "plan.json"), "report_path": str(tmp_path / "plan.md")}
    run = run_module("dynamodb_backup_plan", args, check=True)
    assert not run.failed, run.output
    assert run.result["changed"] is True  # the files would be written
    assert len(planned(run.result)) + len(run.result["unplannable"]) == len(WHAT_IF)
    assert list(tmp_path.iterdir()) == []


def test_inline_what_if_without_aws():
    run = run_module("dynamodb_backup_plan", {"tables": WHAT_IF, "exclude": ["empty"], **NO_AWS,
                                              "engine": "datapipeline", "max_objects": 500,
                                              "model": {"instance_hour_usd": 0.3}})
    assert not run.failed, run.output
    result = run.result
    assert set(planned(result)) | {u["name"] for u in result["unplannable"]} == {t["name"] for t in WHAT_IF} - {
        "empty"}
    assert {c["engine"] for c in result["clusters"]} == {"datapipeline"}
    archive = planned(result)["orders-archive"]
    assert archive["boosted"] and archive["boost_rcu"] > 50
    assert planned(result)["sessions"]["rcu"] is None
    assert any("users" in w for w in result["plan_warnings"])  # size estimated from the item count
    assert result["packing"]["datapipeline"]["tables_per_cluster"] <= 166


def test_local_engine_puts_every_table_in_local_clusters():
    run = run_module("dynamodb_backup_plan", {"tables": WHAT_IF, "engine": "local", **NO_AWS})
    assert not run.failed, run.output
    assert {c["engine"] for c in run.result["clusters"]} == {"local"}
    assert {t["engine"] for t in planned(run.result).values()} == {"local"}


def test_controller_model_and_warm_throughput_through_the_module():
    tables = [{"name": f"small-{i:02d}", "size_bytes": 200 * 1024**2, "rcu": 20} for i in range(10)]
    tables.append({"name": "warm", "size_bytes": 50 * GIB, "billing_mode": "PAY_PER_REQUEST",
                   "warm_read_units": 12000})
    run = run_module("dynamodb_backup_plan", {"tables": tables, **NO_AWS,
                                              "model": {"local_max_lanes": 2, "controller_bytes_per_s": 10**7}})
    assert not run.failed, run.output
    result = run.result
    assert result["controller"]["max_scans"] == 2 and result["controller"]["bytes_per_s"] == 10**7
    assert 0 < result["controller"]["peak_scans"] <= 2
    assert len([c for c in result["clusters"] if c["engine"] == "local"]) <= 2
    assert planned(result)["warm"]["read_rate_source"] == "warm-throughput"
    assert planned(result)["small-00"]["read_rate_source"] == "provisioned"
    assert "Controller (local lanes)" in result["report_markdown"]


@pytest.mark.parametrize(("args", "field"), [
    ({"window": {"start": "01:00", "end": "01:00"}}, "window"),
    ({"window": {"start": "01:00", "end": "07:00", "timezone": "Moon/Base"}}, "window.timezone"),
    ({"read_percentage": 0}, "read_percentage"),
    ({"read_percentage": 1.5}, "read_percentage"),
    ({"max_objects": 4}, "max_objects"),
    ({"tables": [{"name": "a", "size_bytes": -5, "rcu": 1}]}, "tables[0].size_bytes"),
    ({"model": {"rcu_hour_usd": -1}}, "model.rcu_hour_usd"),
    ({"model": {"clusterbootstrap": 5}}, "model.clusterbootstrap"),
    ({"model": {"local_max_lanes": 2, "controller_max_scans": 3}}, "model.local_max_lanes"),
    ({"model": {"controller_max_scans": 0}}, "model.controller_max_scans"),
    ({"include": []}, "include"),
])
def test_bad_input_fails_before_any_aws_call(args, field):
    run = run_module("dynamodb_backup_plan", {**NO_AWS, **args})
    assert run.failed
    assert run.result.get("field") == field, run.result.get("msg")
    assert run.result["msg"].startswith(field)
    assert "Could not connect" not in run.result["msg"]


def test_unknown_engine_is_refused_by_its_choices():
    run = run_module("dynamodb_backup_plan", {"engine": "glacier", **NO_AWS,
                                              "tables": WHAT_IF})
    assert run.failed and "engine" in run.result["msg"] and "glacier" in run.result["msg"]


def test_the_plan_measures_the_round_trip_its_requests_wait(moto_tables):
    prefix, url = moto_tables
    args = {"include": [f"{prefix}-users"], "region": REGION, "endpoint_url": url, "window": window_from_now(2, 8)}
    measured = run_module("dynamodb_backup_plan", args)
    assert not measured.failed, measured.output
    controller = measured.result["controller"]
    # Measured: moto on loopback answers in milliseconds (under half a second even on a loaded machine).
    assert 0 < controller["request_latency_s"] < 0.5 and controller["requests_per_table"] == 9
    users = planned(measured.result)[f"{prefix}-users"]
    # An empty table: its start-up, its CPU (one table: no other lane takes turns) and 10 round trips, rounded up.
    startup = controller["local_activity_s"] + controller["local_cpu_s"]
    assert controller["local_cpu_s"] == controller["local_table_cpu_s"]
    assert users["duration_s"] == math.ceil(startup + 10 * controller["request_latency_s"])
    pinned = run_module("dynamodb_backup_plan", {**args, "model": {"request_latency_s": 0.5, "requests_per_table": 3}})
    assert (pinned.result["controller"]["request_latency_s"], pinned.result["controller"]["requests_per_table"]) == \
        (0.5, 3)
    # 3 requests and one Scan page, half a second each.
    assert planned(pinned.result)[f"{prefix}-users"]["duration_s"] == math.ceil(startup + 2)
