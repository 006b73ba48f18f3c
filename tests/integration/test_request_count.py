"""What the plan and the local engine ask DynamoDB per table, counted through a proxy in front of dynalite: at real
latency every request is a round trip, so the per-table overhead must not creep back up (issue "the night as
planned"). The bounds are the figures reached; a new call per table fails this test until it is justified here."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.request_model import ROUND_TRIP_SAMPLES
from tests.conftest import client
from tests.support.ansible_run import run_module
from tests.support.delaying_proxy import DelayingProxy
from tests.support.tables import create_table, put_items, simple_items
from tests.support.windows import open_window

TABLES = 6
# Requests per table of the plan (discovery, its tables read side by side): the description, and what the backup
# will not read again (tags, TTL, PITR: carried in the plan's `facts`). Once a night: the listing and the round
# trips the plan times, the autoscaling targets, the account's limits.
MOST_PER_TABLE_PLANNING = {
    "ListTables": (1 + ROUND_TRIP_SAMPLES) / TABLES,
    "DescribeScalableTargets": 1 / TABLES,
    "DescribeLimits": 1 / TABLES,
    "DescribeTable": 1.0,  # and one for every other table of the region
    "ListTagsOfResource": 1.0,
    "DescribeTimeToLive": 1.0,
    "DescribeContinuousBackups": 1 / TABLES,  # dynalite does not offer it: asked once (where offered, once a table)
}
# Requests per table of one local night on that plan (resume on, as the role runs it; no boost, no autoscaling
# client). DescribeTable: the backup's one description (schema, the scan's first rate, the check that the plan's
# facts are still the table's) and, once per night, the account lookup of `resume`. The settings calls an endpoint
# does not offer are asked once a night (dynalite: all three); where offered, once a table.
MOST_PER_TABLE_BACKUP = {
    "DescribeTable": 1.0 + 1 / TABLES,
    "GetResourcePolicy": 1 / TABLES,
    "DescribeContributorInsights": 1 / TABLES,
    "DescribeKinesisStreamingDestination": 1 / TABLES,
    # A small table's items fit one page: its first page is sized to what the table may hold, not to a guess per
    # item, when the table is small enough to be read within one page's budget.
    "Scan": 1.0,
}


def _over(counted: Counter[str], bounds: dict[str, float]) -> dict[str, float]:
    per_table = {operation: count / TABLES for operation, count in counted.items()}
    return {op: n for op, n in per_table.items() if n > bounds.get(op, 0) + 1e-9}


def _small_tables(ddb: Any, prefix: str) -> list[str]:
    names = [f"{prefix}-{n}" for n in range(TABLES)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=100)
        put_items(ddb, name, simple_items(100))
    return names


def _plan(url: str, prefix: str) -> dict[str, Any]:
    run = run_module("dynamodb_backup_plan", {"include": [f"{prefix}-*"], "region": "eu-west-1", "endpoint_url": url,
                                              "engine": "local", "window": open_window()})
    assert not run.failed, run.output
    return run.result


def _counted_night(url: str, plan: dict[str, Any], tmp_path: Path, **options: Any) -> tuple[Any, Counter[str]]:
    """One local night on `plan` through a counting proxy in front of `url`: its result and its requests."""
    proxy = DelayingProxy(url, 0)  # no delay: it only counts
    with proxy:
        run = run_module("dynamodb_scan_backup", {
            "plan": plan, "destination": f"file://{tmp_path}/dest", "region": "eu-west-1",
            "endpoint_url": proxy.url, "run_id": "night-1", **options})
    assert not run.failed, run.result
    return run, Counter(proxy.operations)


def test_a_small_table_costs_its_description_and_one_scan_on_top_of_the_plan(dynalite_server: Any, unique_name: str,
                                                                             tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    names = _small_tables(ddb, unique_name)
    in_region = sum(len(page["TableNames"]) for page in ddb.get_paginator("list_tables").paginate())
    proxy = DelayingProxy(dynalite_server.url, 0)  # no delay: it only counts
    with proxy:
        plan = _plan(proxy.url, unique_name)
        planning = Counter(proxy.operations)
    run, backup = _counted_night(dynalite_server.url, plan, tmp_path, autoscaling=False, resume=True)

    assert sorted(t["name"] for t in run.result["tables"]) == names
    assert [t["items"] for t in run.result["tables"]] == [100] * TABLES
    # Every table of the region is described (the account's capacity in use counts them all), not only these.
    # ListTables pages through the region (100 names a page; a shared stand-in holds other tests' tables too).
    listing = (math.ceil(in_region / 100) + ROUND_TRIP_SAMPLES) / TABLES
    planning_bounds = dict(MOST_PER_TABLE_PLANNING, DescribeTable=in_region / TABLES, ListTables=listing)
    assert not _over(planning, planning_bounds), f"plan requests per table over their bound: {planning}"
    assert not _over(backup, MOST_PER_TABLE_BACKUP), f"backup requests per table over their bound: {backup}"
    # Nothing a restore needs is lost: the manifest holds what the plan read, as a backup reading it would.
    manifest = json.loads(Path(run.result["tables"][0]["manifest_url"].removeprefix("file://")).read_text())
    schema = manifest["schema"]
    ttl = ddb.describe_time_to_live(TableName=names[0])["TimeToLiveDescription"]
    assert (schema["Tags"], schema["TimeToLive"], schema["PointInTimeRecovery"]) == ([], ttl, None)
    assert {m["setting"] for m in schema["NotCaptured"]} >= {"resource policy", "contributor insights",
                                                             "Kinesis streaming destinations", "point-in-time recovery"}


def test_a_table_made_again_since_the_plan_is_captured_again(dynalite_server: Any, unique_name: str,
                                                             tmp_path: Path) -> None:
    """The plan's facts belong to the table it described: a table deleted and made again (other keys, new tags)
    between plan and backup is read again, and its manifest holds the new table's schema and tags."""
    ddb = client("dynamodb", dynalite_server.url)
    names = _small_tables(ddb, unique_name)
    plan = _plan(dynalite_server.url, unique_name)
    remade = names[0]
    ddb.delete_table(TableName=remade)
    ddb.get_waiter("table_not_exists").wait(TableName=remade, WaiterConfig={"Delay": 0.1})
    ddb.create_table(TableName=remade, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                     ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100})
    ddb.get_waiter("table_exists").wait(TableName=remade, WaiterConfig={"Delay": 0.1})
    ddb.tag_resource(ResourceArn=ddb.describe_table(TableName=remade)["Table"]["TableArn"],
                     Tags=[{"Key": "team", "Value": "payments"}])
    ddb.put_item(TableName=remade, Item={"id": {"N": "1"}})
    run, counted = _counted_night(dynalite_server.url, plan, tmp_path, autoscaling=False)
    assert counted["ListTagsOfResource"] == 1, counted  # the remade table's, and no other
    (outcome,) = [t for t in run.result["tables"] if t["name"] == remade]
    schema = json.loads(Path(outcome["manifest_url"].removeprefix("file://")).read_text())["schema"]
    assert schema["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert schema["Tags"] == [{"Key": "team", "Value": "payments"}]


def test_the_nightly_reconcile_reads_each_tables_tags_and_describes_one_table(dynalite_server: Any, unique_name: str
                                                                              ) -> None:
    """Reconcile looks at every table of the region for a record an earlier run left: one ARN names them all, so
    it costs one ListTagsOfResource a table (a put-back, when one is due, reads the table again itself)."""
    ddb = client("dynamodb", dynalite_server.url)
    for n in range(3):
        create_table(ddb, f"{unique_name}-{n}", rcu=5, wcu=5)
    proxy = DelayingProxy(dynalite_server.url, 0)
    with proxy:
        run = run_module("dynamodb_throughput", {"state": "reconciled", "region": "eu-west-1",
                                                 "endpoint_url": proxy.url, "run_id": "night-1",
                                                 "autoscaling": False})
        counted = Counter(proxy.operations)
    assert not run.failed, run.result
    listed = run.result["checked"]
    assert listed >= 3
    assert counted["DescribeTable"] == 1
    assert counted["ListTagsOfResource"] == listed


def test_autoscaling_is_listed_once_by_the_plan_not_read_again_for_each_table(moto_server: Any, unique_name: str,
                                                                              tmp_path: Path) -> None:
    """A table's scalable targets and policies take two calls or more of its own; the plan lists the region's once
    and hands each table its own, which its manifest records as a read of its own would."""
    ddb = client("dynamodb", moto_server.url)
    aas = client("application-autoscaling", moto_server.url)
    names = _small_tables(ddb, unique_name)
    scaled = f"table/{names[0]}"
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=scaled, MinCapacity=50, MaxCapacity=400,
                                 ScalableDimension="dynamodb:table:ReadCapacityUnits")
    tracking = {"TargetValue": 70.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}
    aas.put_scaling_policy(PolicyName="reads", ServiceNamespace="dynamodb", ResourceId=scaled,
                           ScalableDimension="dynamodb:table:ReadCapacityUnits", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration=tracking)
    run, counted = _counted_night(moto_server.url, _plan(moto_server.url, unique_name), tmp_path, autoscaling=True)
    assert (counted["DescribeScalableTargets"], counted["DescribeScalingPolicies"]) == (0, 0), counted
    schemas = {t["name"]: json.loads(Path(t["manifest_url"].removeprefix("file://")).read_text())["schema"]
               for t in run.result["tables"]}
    scaling = schemas[names[0]]["Autoscaling"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in scaling["ScalableTargets"]] == [
        (scaled, 50, 400)]
    assert [(p["PolicyName"], p["PolicyType"]) for p in scaling["ScalingPolicies"]] == [
        ("reads", "TargetTrackingScaling")]
    assert all(schemas[name]["Autoscaling"] == {"ScalableTargets": [], "ScalingPolicies": []} for name in names[1:])
    assert not any(m["setting"] == "autoscaling" for s in schemas.values() for m in s["NotCaptured"])
