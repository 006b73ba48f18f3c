"""A restore rebuilds the table's settings captured at backup time (restoring/table_settings.py).

On moto server: point-in-time recovery, the resource policy, deletion protection, warm throughput (table level)
and Application Auto Scaling targets and policies, end to end through a backup and a load restore. moto 5.2.5
does not model contributor insights, Kinesis streaming destinations, on-demand throughput, GSI warm throughput or
table classes: those paths run against botocore's Stubber below, and each test says so. dynalite offers no PITR,
resource policy or autoscaling at all: its backup records them as not captured, and the restore reports them.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import (
    NOT_CAPTURED,
    apply_table_settings,
    capture_settings,
    rewrite_table_arns,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import (
    create_table_request,
    schema_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    load_manifest,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.scan_tables import indexed_table_and_bucket
from tests.support.tables import create_table, put_items, simple_items

DIMENSIONS = ("ReadCapacityUnits", "WriteCapacityUnits")


def _policy(arn: str, other: str) -> dict[str, Any]:
    """A resource policy naming the table, its index and stream sub-ARNs, and a table whose name starts alike."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "App", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
         "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": [arn, f"{arn}/index/by-city"]},
        {"Sid": "Streams", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
         "Action": "dynamodb:GetRecords", "Resource": f"{arn}/stream/*"},
        {"Sid": "Archive", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteItem", "Resource": other}]}


def _autoscale(aas: Any, table: str) -> list[tuple[str, str]]:
    """Scalable targets and target-tracking policies on the table and its GSI, read and write."""
    made = []
    for resource, kind in ((f"table/{table}", "table"), (f"table/{table}/index/by-city", "index")):
        for n, dimension in enumerate(DIMENSIONS):
            scalable = f"dynamodb:{kind}:{dimension}"
            aas.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=resource,
                                         ScalableDimension=scalable, MinCapacity=3 + n, MaxCapacity=60 + n)
            metric = "DynamoDBReadCapacityUtilization" if n == 0 else "DynamoDBWriteCapacityUtilization"
            aas.put_scaling_policy(
                PolicyName=f"{kind}-{dimension}", ServiceNamespace="dynamodb", ResourceId=resource,
                ScalableDimension=scalable, PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={"TargetValue": 65.0 + n,
                                                          "PredefinedMetricSpecification": {
                                                              "PredefinedMetricType": metric}})
            made.append((resource, scalable))
    return made


def _scaling_of(aas: Any, table: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    ids = [f"table/{table}", f"table/{table}/index/by-city"]
    targets = aas.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=ids)["ScalableTargets"]
    policies = [p for i in ids for p in aas.describe_scaling_policies(ServiceNamespace="dynamodb",
                                                                      ResourceId=i)["ScalingPolicies"]]
    strip = len(f"table/{table}")
    return ({(t["ResourceId"][strip:], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets},
            {(p["ResourceId"][strip:], p["PolicyName"], p["ScalableDimension"],
              p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]) for p in policies})


def test_backup_then_restore_rebuilds_every_setting_moto_models(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 20)
    aas = client("application-autoscaling", moto_server.url)
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.update_table(TableName=unique_name, WarmThroughput={"ReadUnitsPerSecond": 900, "WriteUnitsPerSecond": 300})
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(_policy(arn, f"{arn}-archive")))
    ddb.update_table(TableName=unique_name, DeletionProtectionEnabled=True)
    _autoscale(aas, unique_name)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0), aas=aas).folder
    schema = load_manifest(store, folder)["schema"]
    assert {m["setting"] for m in schema[NOT_CAPTURED]} == {"contributor insights", "Kinesis streaming destinations"}
    target = f"{unique_name}-copy"

    result = restore_backup(ddb, store, folder, target, RestoreSettings(workers=4, autoscaling=aas))

    copy = ddb.describe_table(TableName=target)["Table"]
    assert result.counted_items == 21
    assert ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert copy["DeletionProtectionEnabled"] is True
    assert {k: copy["WarmThroughput"][k] for k in ("ReadUnitsPerSecond", "WriteUnitsPerSecond")} == {
        "ReadUnitsPerSecond": 900, "WriteUnitsPerSecond": 300}
    new = copy["TableArn"]
    assert json.loads(ddb.get_resource_policy(ResourceArn=new)["Policy"]) == _policy(new, f"{arn}-archive")
    assert _scaling_of(aas, target) == _scaling_of(aas, unique_name)
    assert len(_scaling_of(aas, target)[1]) == 4
    # Only what moto cannot show is reported, each naming why: nothing dropped silently.
    assert sorted(m["setting"] for m in result.not_restored or []) == ["Kinesis streaming destinations",
                                                                       "contributor insights"]
    assert all(m["reason"].startswith("not captured at backup time: the endpoint does not offer")
               for m in result.not_restored or [])
    assert "2 captured setting(s) not restored" in result.msg


def test_deletion_protection_comes_last_so_a_failed_load_leaves_a_deletable_table(moto_server: Any,
                                                                                  unique_name: str) -> None:
    """The load fails (a data file damaged after the check, verify_before_write off): the new table exists without
    deletion protection, PITR or the resource policy, and can be deleted."""
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 5)
    ddb.update_table(TableName=unique_name, DeletionProtectionEnabled=True)
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    part = load_manifest(store, folder)["files"][0]["path"]
    s3.put_object(Bucket=unique_name, Key=f"dynamodb/{folder}/{part}", Body=b"not gzip")
    target = f"{unique_name}-copy"

    with pytest.raises(Exception, match="failed"):
        restore_backup(ddb, store, folder, target, RestoreSettings(verify_before_write=False))

    assert ddb.describe_table(TableName=target)["Table"].get("DeletionProtectionEnabled") is False
    ddb.delete_table(TableName=target)


def test_dynalite_backup_records_what_it_cannot_capture_and_the_restore_reports_it(dynalite_server: Any,
                                                                                   unique_name: str,
                                                                                   tmp_path: Any) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(30))
    store = open_store(f"file://{tmp_path}/backups")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    missing = {m["setting"]: m["reason"] for m in load_manifest(store, folder)["schema"][NOT_CAPTURED]}
    assert set(missing) == {"point-in-time recovery", "resource policy", "contributor insights",
                            "Kinesis streaming destinations", "autoscaling"}
    assert "no Application Auto Scaling client was given" in missing["autoscaling"]

    result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings())

    assert result.counted_items == 30
    assert {m["setting"] for m in result.not_restored or []} == set(missing)


def test_an_older_manifest_restores_as_before_and_says_what_it_lacks(moto_server: Any, unique_name: str) -> None:
    """A schema without the settings fields (a manifest written before them): PITR and deletion protection, which
    it did record, are applied; the rest is reported as not captured, in one line."""
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=5)
    old = schema_of(ddb.describe_table(TableName=unique_name)["Table"])
    old.update(PointInTimeRecovery="ENABLED", DeletionProtectionEnabled=True)

    outcome = apply_table_settings(ddb, None, old, unique_name, 30)

    assert outcome.restored == ["point-in-time recovery", "deletion protection"]
    assert [m["reason"] for m in outcome.not_restored] == [
        ("not captured: the manifest does not record them (a backup older than their capture, or adopted "
         "from elsewhere)")]
    assert ddb.describe_table(TableName=unique_name)["Table"]["DeletionProtectionEnabled"] is True
    ddb.update_table(TableName=unique_name, DeletionProtectionEnabled=False)


def test_a_setting_dynamodb_refuses_is_reported_and_the_rest_still_applied(moto_server: Any,
                                                                           unique_name: str) -> None:
    """moto refuses a scalable dimension outside the API's values, as AWS does (here a damaged capture)."""
    ddb = client("dynamodb", moto_server.url)
    aas = client("application-autoscaling", moto_server.url)
    create_table(ddb, unique_name, rcu=5)
    schema = schema_of(ddb.describe_table(TableName=unique_name)["Table"])
    schema.update(PointInTimeRecovery="ENABLED", NotCaptured=[], Autoscaling={"ScalableTargets": [
        {"ResourceId": f"table/{unique_name}", "ScalableDimension": "dynamodb:table:ReadUnits",
         "MinCapacity": 5, "MaxCapacity": 10}], "ScalingPolicies": []})

    outcome = apply_table_settings(ddb, aas, schema, unique_name, 30)

    assert outcome.restored == ["point-in-time recovery"]
    [refused] = outcome.not_restored
    assert refused["setting"].startswith(f"autoscaling target table/{unique_name}")
    assert refused["reason"].startswith("RegisterScalableTarget refused: ValidationException (1 validation error")


# ------------------------------------------------------------------ what moto does not model: botocore Stubber

def _stubbed(service: str) -> tuple[Any, Stubber]:
    api = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return api, Stubber(api)


def _described(name: str, **extra: Any) -> dict[str, Any]:
    table = {"TableName": name, "TableStatus": "ACTIVE", "TableArn": f"arn:aws:dynamodb:{REGION}:1:table/{name}",
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
             "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
             "GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                         "Projection": {"ProjectionType": "ALL"}, "IndexStatus": "ACTIVE"}]}
    table.update(extra)
    return table


STREAM = f"arn:aws:kinesis:{REGION}:1:stream/orders-changes"


def test_capture_records_insights_kinesis_and_on_demand_limits_stubbed() -> None:
    """Stubber: moto has no contributor insights, Kinesis destinations or OnDemandThroughput."""
    ddb, stub = _stubbed("dynamodb")
    table = _described("orders", OnDemandThroughput={"MaxReadRequestUnits": 800, "MaxWriteRequestUnits": 200},
                       TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"})
    table["GlobalSecondaryIndexes"][0]["OnDemandThroughput"] = {"MaxReadRequestUnits": 400}
    stub.add_response("get_resource_policy", {"Policy": "{}"}, {"ResourceArn": table["TableArn"]})
    stub.add_response("describe_contributor_insights", {"ContributorInsightsStatus": "ENABLED"},
                      {"TableName": "orders"})
    stub.add_response("describe_contributor_insights", {"ContributorInsightsStatus": "DISABLED"},
                      {"TableName": "orders", "IndexName": "gsi"})
    stub.add_response("describe_kinesis_streaming_destination", {
        "TableName": "orders", "KinesisDataStreamDestinations": [{"StreamArn": STREAM, "DestinationStatus": "ACTIVE"}]},
        {"TableName": "orders"})
    schema = schema_of(table)
    schema["PointInTimeRecovery"] = "DISABLED"

    with stub:
        capture_settings(ddb, None, table, schema)

    assert schema["ContributorInsights"] == {"table": "ENABLED", "indexes": {"gsi": "DISABLED"}}
    assert schema["KinesisStreamingDestinations"] == [{"StreamArn": STREAM, "DestinationStatus": "ACTIVE"}]
    assert schema["OnDemandThroughput"] == {"table": {"MaxReadRequestUnits": 800, "MaxWriteRequestUnits": 200},
                                            "indexes": {"gsi": {"MaxReadRequestUnits": 400}}}
    assert [m["setting"] for m in schema[NOT_CAPTURED]] == ["autoscaling"]
    # The table class rides on CreateTable (moto ignores TableClass, so only the request is checked).
    assert create_table_request(schema, "orders-r")["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def _settings_schema() -> dict[str, Any]:
    schema = schema_of(_described("orders"))
    schema.update(NotCaptured=[], PointInTimeRecovery="DISABLED", ResourcePolicy=None, Autoscaling=None,
                  OnDemandThroughput={"table": {"MaxReadRequestUnits": 800, "MaxWriteRequestUnits": 200},
                                      "indexes": {"gsi": {"MaxReadRequestUnits": 400}}},
                  WarmThroughput={"table": None, "indexes": {}},
                  ContributorInsights={"table": "ENABLED", "indexes": {"gsi": "DISABLED"}},
                  KinesisStreamingDestinations=[{"StreamArn": STREAM, "DestinationStatus": "ACTIVE"},
                                                {"StreamArn": f"{STREAM}-old", "DestinationStatus": "DISABLED"}])
    return schema


@pytest.mark.parametrize("restore_streaming", [False, True])
def test_restore_applies_insights_and_on_demand_limits_and_streams_only_when_asked_stubbed(
        restore_streaming: bool) -> None:
    """Stubber: moto has no contributor insights, Kinesis destinations or OnDemandThroughput. The stub fails the
    test on any call not listed, so a stream re-attached without restore_streaming cannot pass."""
    ddb, stub = _stubbed("dynamodb")
    target = _described("orders-r")
    stub.add_response("describe_table", {"Table": target}, {"TableName": "orders-r"})
    stub.add_response("update_table", {}, {"TableName": "orders-r", "OnDemandThroughput": {
        "MaxReadRequestUnits": 800, "MaxWriteRequestUnits": 200}, "GlobalSecondaryIndexUpdates": [
        {"Update": {"IndexName": "gsi", "OnDemandThroughput": {"MaxReadRequestUnits": 400}}}]})
    stub.add_response("describe_table", {"Table": target}, {"TableName": "orders-r"})
    stub.add_response("update_contributor_insights", {"ContributorInsightsStatus": "ENABLING"},
                      {"TableName": "orders-r", "ContributorInsightsAction": "ENABLE"})
    if restore_streaming:
        stub.add_response("enable_kinesis_streaming_destination", {"StreamArn": STREAM},
                          {"TableName": "orders-r", "StreamArn": STREAM})

    with stub:
        outcome = apply_table_settings(ddb, None, _settings_schema(), "orders-r", 5, restore_streaming)
    stub.assert_no_pending_responses()

    assert outcome.restored[:2] == ["on-demand throughput", "contributor insights (table)"]
    streams = [m for m in outcome.not_restored if m["setting"].startswith("Kinesis")]
    if restore_streaming:
        assert streams == [] and outcome.restored[-1] == f"Kinesis streaming destination {STREAM}"
    else:
        assert streams == [{"setting": f"Kinesis streaming destination {STREAM}", "reason": (
            "not re-attached: restored writes would flow into the source's stream; set restore_streaming: true to "
            "re-attach it")}]


# ------------------------------------------------------------------ the resource policy's ARNs

_NAME = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", min_size=3, max_size=30)
_ACCOUNT = st.text("0123456789", min_size=12, max_size=12)
_REGION = st.sampled_from(["eu-west-1", "us-east-1", "ap-southeast-2"])
# Never a table-name character, so an ARN ends where filler starts (in a policy: a quote); at least one between
# two ARNs, as in any JSON.
_FILLER = st.text(" \"',:{}[]\n*?", min_size=1, max_size=12)


def _arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


@given(source=st.tuples(_REGION, _ACCOUNT, _NAME), target=st.tuples(_REGION, _ACCOUNT, _NAME),
       parts=st.lists(st.tuples(_FILLER, st.sampled_from(["own", "index", "stream", "longer", "other account"])),
                      max_size=8), tail=_FILLER | st.just(""))
def test_every_source_arn_becomes_the_targets_and_nothing_else_changes(
        source: tuple[str, str, str], target: tuple[str, str, str], parts: list[tuple[str, str]], tail: str) -> None:
    src, dst = _arn(*source), _arn(*target)
    other_account = _arn(source[0], "999999999999" if source[1] != "999999999999" else "888888888888", source[2])

    def piece(kind: str, arn: str) -> str:
        return {"own": arn, "index": f"{arn}/index/by-city", "stream": f"{arn}/stream/2026-11-20T01:00:00.000",
                "longer": f"{src}-archive", "other account": other_account}[kind]

    text = "".join(f + piece(k, src) for f, k in parts) + tail
    expected = "".join(f + piece(k, dst if k in ("own", "index", "stream") else src) for f, k in parts) + tail

    assert rewrite_table_arns(text, src, dst) == expected
