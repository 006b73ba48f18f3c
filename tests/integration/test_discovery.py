"""Discovery against a real moto server: 250+ tables, GSIs, on-demand tables, PITR and autoscaling.

moto reports TableSizeBytes as 0 whatever a table holds, so the one test about sizes and limits
answers DescribeTable through botocore's Stubber; everything else goes over HTTP to moto.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.stub import Stubber

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    CapacityRecord,
    Dimension,
    record_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import PlanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.planner import plan_backups
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.table_discovery import discover, select
from tests.conftest import client

pytestmark = pytest.mark.xdist_group("moto")

PLAIN_TABLES = 252


def _create(ddb, name: str, rcu: int = 5, on_demand: bool = False, gsi_rcu: int | None = None) -> None:
    args = dict(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "g", "AttributeType": "S"}])
    if on_demand:
        args["BillingMode"] = "PAY_PER_REQUEST"
    else:
        args["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": 1}
    if gsi_rcu is not None or on_demand:
        gsi = {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
               "Projection": {"ProjectionType": "ALL"}}
        if not on_demand:
            gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": gsi_rcu, "WriteCapacityUnits": 1}
        args["GlobalSecondaryIndexes"] = [gsi]
    else:
        args["AttributeDefinitions"] = args["AttributeDefinitions"][:1]
    ddb.create_table(**args)


@pytest.fixture(scope="module")
def fleet(moto_server):
    """A prefix of its own on the shared server, with 252 plain tables and a few special ones."""
    ddb = client("dynamodb", moto_server.url)
    aas = client("application-autoscaling", moto_server.url)
    prefix = f"disc-{uuid.uuid4().hex[:6]}"
    plain = [f"{prefix}-t{i:03d}" for i in range(PLAIN_TABLES)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: _create(ddb, n, rcu=7), plain))
    _create(ddb, f"{prefix}-orders", rcu=40, gsi_rcu=15)
    _create(ddb, f"{prefix}-orders-archive", rcu=3)
    _create(ddb, f"{prefix}-sessions", on_demand=True)
    _create(ddb, f"{prefix}-scaled", rcu=10)
    ddb.update_continuous_backups(TableName=f"{prefix}-orders",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{prefix}-scaled",
                                 ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=10,
                                 MaxCapacity=900)
    # An index's target must not be mistaken for its table's.
    aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=f"table/{prefix}-orders/index/by-g",
                                 ScalableDimension="dynamodb:index:ReadCapacityUnits", MinCapacity=15,
                                 MaxCapacity=50)
    ddb.put_item(TableName=f"{prefix}-orders-archive", Item={"pk": {"S": "a"}})
    return ddb, aas, prefix, plain


def test_discovers_hundreds_of_tables_across_pages(fleet):
    ddb, aas, prefix, plain = fleet
    found = discover(ddb, aas, [f"{prefix}-*"], [], workers=16)
    names = [t.name for t in found.tables]
    assert len(names) == PLAIN_TABLES + 4  # ListTables pages hold 100 names: three pages at least
    assert set(plain) <= set(names)
    # In use counts every provisioned table and GSI in the region, ours included.
    assert found.account_rcu_in_use >= PLAIN_TABLES * 7 + 40 + 15 + 3 + 10
    assert found.table_max_rcu and found.account_max_rcu


def test_descriptions_carry_what_the_planner_needs(fleet):
    ddb, aas, prefix, _plain = fleet
    found = {t.name: t for t in discover(ddb, aas, [f"{prefix}-orders*", f"{prefix}-s*"], []).tables}
    orders = found[f"{prefix}-orders"]
    assert (orders.rcu, orders.pitr, orders.gsis, orders.autoscaling_max_rcu) == (40, True, (("by-g", 15),), None)
    assert found[f"{prefix}-orders-archive"].item_count == 1 and not found[f"{prefix}-orders-archive"].pitr
    sessions = found[f"{prefix}-sessions"]
    assert sessions.billing_mode == ON_DEMAND and sessions.rcu == 0
    scaled = found[f"{prefix}-scaled"]
    assert (scaled.autoscaling_min_rcu, scaled.autoscaling_max_rcu) == (10, 900)


def test_patterns_match_whole_names(fleet):
    ddb, aas, prefix, _plain = fleet
    exact = discover(ddb, aas, [f"{prefix}-orders"], []).tables
    assert [t.name for t in exact] == [f"{prefix}-orders"]  # not orders-archive
    star = discover(ddb, aas, [f"{prefix}-orders*"], ["*-archive"]).tables
    assert [t.name for t in star] == [f"{prefix}-orders"]
    assert select(["orders", "orders-archive", "xorders"], ["orders*"], []) == ["orders", "orders-archive"]


def test_include_matching_nothing_fails_before_describing(fleet):
    ddb, aas, prefix, _plain = fleet
    with pytest.raises(InputError) as caught:
        discover(ddb, aas, [f"{prefix}-orders", f"{prefix}-nothing-*"], [])
    assert caught.value.field == "include" and f"{prefix}-nothing-*" in str(caught.value)


def test_discovered_fleet_plans_every_table(fleet):
    ddb, aas, prefix, _plain = fleet
    found = discover(ddb, aas, [f"{prefix}-*"], [])
    result = plan_backups(found.tables, PlanSettings(window_s=7 * 3600, account_rcu_in_use=found.account_rcu_in_use))
    planned = [t.table.name for t in result.planned()]
    assert sorted(planned) + [u["name"] for u in result.unplannable] == sorted(t.name for t in found.tables)
    assert not result.unplannable


def test_sizes_and_limits_from_describe_calls():
    """Stubber, because moto reports TableSizeBytes as 0: the size DynamoDB reports reaches the plan."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="eu-west-1")
    aas = boto3.client("application-autoscaling", region_name="eu-west-1")
    table = {"TableName": "big", "TableStatus": "ACTIVE", "TableSizeBytes": 5 * 1024**3, "ItemCount": 10**6,
             "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 5}}
    with Stubber(ddb) as ddb_stub, Stubber(aas) as aas_stub:
        ddb_stub.add_response("list_tables", {"TableNames": ["big"]})
        ddb_stub.add_response("describe_table", {"Table": table}, {"TableName": "big"})
        ddb_stub.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}},
                              {"TableName": "big"})
        ddb_stub.add_response("describe_continuous_backups", {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}}, {"TableName": "big"})
        aas_stub.add_response("describe_scalable_targets", {"ScalableTargets": []}, {"ServiceNamespace": "dynamodb"})
        aas_stub.add_response("describe_scaling_policies", {"ScalingPolicies": []}, {"ServiceNamespace": "dynamodb"})
        ddb_stub.add_response("describe_limits", {"AccountMaxReadCapacityUnits": 160000,
                                                  "AccountMaxWriteCapacityUnits": 160000,
                                                  "TableMaxReadCapacityUnits": 80000,
                                                  "TableMaxWriteCapacityUnits": 80000})
        found = discover(ddb, aas, ["big"], [], workers=1)
    [big] = found.tables
    assert (big.size_bytes, big.item_count, big.rcu, big.pitr) == (5 * 1024**3, 10**6, 100, True)
    assert (found.table_max_rcu, found.account_max_rcu, found.account_rcu_in_use) == (80000, 160000, 100)


def test_a_denied_describe_limits_plans_boosts_without_an_account_cap():
    """Stubber, because moto does not refuse DescribeLimits to a role: a least-privilege role without it
    plans boosts with no account cap, and both the discovery and the plan say so."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="eu-west-1")
    aas = boto3.client("application-autoscaling", region_name="eu-west-1")
    table = {"TableName": "big", "TableStatus": "ACTIVE", "TableSizeBytes": 100 * 1024**3, "ItemCount": 10**8,
             "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 5}}
    with Stubber(ddb) as ddb_stub, Stubber(aas) as aas_stub:
        ddb_stub.add_response("list_tables", {"TableNames": ["big"]})
        ddb_stub.add_response("describe_table", {"Table": table}, {"TableName": "big"})
        ddb_stub.add_response("describe_time_to_live", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}},
                              {"TableName": "big"})
        ddb_stub.add_response("describe_continuous_backups", {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "DISABLED"}}, {"TableName": "big"})
        aas_stub.add_response("describe_scalable_targets", {"ScalableTargets": []}, {"ServiceNamespace": "dynamodb"})
        aas_stub.add_response("describe_scaling_policies", {"ScalingPolicies": []}, {"ServiceNamespace": "dynamodb"})
        ddb_stub.add_client_error("describe_limits", "AccessDeniedException", "not allowed")
        found = discover(ddb, aas, ["big"], [], workers=1)
    assert found.account_max_rcu is None
    assert any("DescribeLimits" in w and "no account cap" in w for w in found.warnings)
    plan = plan_backups(found.tables, PlanSettings(window_s=7 * 3600, engine="emr",
                                                   account_rcu_in_use=found.account_rcu_in_use)).document().to_json()
    assert plan["unplannable"] == [] and plan["clusters"][0]["tables"][0]["boosted"]
    assert any("limit is unknown" in w for w in plan["warnings"])


def test_on_demand_warm_throughput_reaches_the_plan(moto_server):
    ddb = client("dynamodb", moto_server.url)
    aas = client("application-autoscaling", moto_server.url)
    name = f"warm-{uuid.uuid4().hex[:6]}"
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     WarmThroughput={"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000})
    [warm] = discover(ddb, aas, [name], []).tables
    assert warm.on_demand and warm.warm_read_units == 15000
    result = plan_backups([warm], PlanSettings(window_s=7 * 3600, read_percentage=0.5)).document().to_json()
    [planned] = [t for c in result["clusters"] for t in c["tables"]]
    assert planned["read_rate_source"] == "warm-throughput"


def test_a_table_another_run_boosted_is_planned_on_its_recorded_original(moto_server):
    """The boost goes away when its run ends: planning on it would read the application's capacity."""
    ddb = client("dynamodb", moto_server.url)
    aas = client("application-autoscaling", moto_server.url)
    name = f"held-{uuid.uuid4().hex[:6]}"
    _create(ddb, name, rcu=5)
    record = CapacityRecord("PROVISIONED", "2026-11-22T01:00:00Z", "other-night", {None: {"read": Dimension(5)}},
                            hold_until="2026-11-22T09:00:00Z")
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=record_tags(record, DEFAULT_TAG_KEY))
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 11, "WriteCapacityUnits": 1})

    [held] = discover(ddb, aas, [name], []).tables
    assert held.rcu == 5
