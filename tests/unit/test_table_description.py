"""table_description: a DescribeTable answer read into CreateTable's vocabulary, and the CreateTable request
that rebuilds it (checked against botocore's own model of CreateTable)."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.validate import validate_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import (
    OWN_TAG_PREFIX,
    create_table_request,
    restorable_tags,
    schema_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import TableKey

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/k"
# No call is made: the client only lends its service model, to validate requests as botocore would send them.
CREATE_TABLE = boto3.client("dynamodb", region_name="eu-west-1").meta.service_model.operation_model("CreateTable")


def throughput(rcu: int, wcu: int) -> dict[str, Any]:
    # As DescribeTable answers: with the bookkeeping fields CreateTable does not take.
    return {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu, "NumberOfDecreasesToday": 0,
            "LastIncreaseDateTime": "2026-11-20T01:00:00Z"}


def gsi(name: str, capacity: dict[str, Any] | None) -> dict[str, Any]:
    index: dict[str, Any] = {"IndexName": name, "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "KEYS_ONLY"}, "IndexStatus": "ACTIVE",
                             "IndexArn": f"{ARN}/index/{name}", "ItemCount": 3}
    if capacity is not None:
        index["ProvisionedThroughput"] = capacity
    return index


def description(on_demand: bool = False, **extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "TableName": "orders", "TableArn": ARN, "TableStatus": "ACTIVE", "ItemCount": 3, "TableSizeBytes": 420,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "city", "day")],
        # An on-demand table still reports 0/0 here, and its GSIs too.
        "ProvisionedThroughput": throughput(0, 0) if on_demand else throughput(12, 3),
        "GlobalSecondaryIndexes": [gsi("by-city", throughput(0, 0) if on_demand else throughput(5, 1))],
        "LocalSecondaryIndexes": [{"IndexName": "by-day", "Projection": {"ProjectionType": "ALL"},
                                   "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "day", "KeyType": "RANGE"}],
                                   "IndexSizeBytes": 10, "ItemCount": 3, "IndexArn": f"{ARN}/index/by-day"}],
    }
    if on_demand:
        table["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    return {**table, **extra}


def test_a_provisioned_table_keeps_its_capacities_without_describe_table_bookkeeping() -> None:
    schema = schema_of(description())
    assert schema["BillingMode"] == "PROVISIONED"
    assert schema["ProvisionedThroughput"] == {"ReadCapacityUnits": 12, "WriteCapacityUnits": 3}
    assert schema["GlobalSecondaryIndexes"] == [{
        "IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1}}]
    assert schema["LocalSecondaryIndexes"][0].keys() == {"IndexName", "KeySchema", "Projection"}
    assert (schema["TableArn"], schema["ItemCount"], schema["TableSizeBytes"]) == (ARN, 3, 420)
    # Defaults where the description says nothing; the calls of their own are left for table_capture.
    assert (schema["TableClass"], schema["DeletionProtectionEnabled"]) == ("STANDARD", False)
    assert (schema["TimeToLive"], schema["PointInTimeRecovery"], schema["Tags"]) == (None, None, [])


def test_an_on_demand_table_has_no_capacity_even_where_describe_table_reports_zeros() -> None:
    schema = schema_of(description(on_demand=True))
    assert schema["BillingMode"] == "PAY_PER_REQUEST" and schema["ProvisionedThroughput"] is None
    assert "ProvisionedThroughput" not in schema["GlobalSecondaryIndexes"][0]
    request = create_table_request(schema, "orders-copy")
    assert "ProvisionedThroughput" not in request
    assert "ProvisionedThroughput" not in request["GlobalSecondaryIndexes"][0]


def test_a_table_without_indexes_has_empty_index_lists_and_a_request_without_them() -> None:
    table = description()
    del table["GlobalSecondaryIndexes"], table["LocalSecondaryIndexes"]
    schema = schema_of(table)
    assert schema["GlobalSecondaryIndexes"] == schema["LocalSecondaryIndexes"] == []
    request = create_table_request(schema, "copy")
    assert "GlobalSecondaryIndexes" not in request and "LocalSecondaryIndexes" not in request


def test_the_request_carries_the_target_name_class_and_an_enabled_stream_never_deletion_protection() -> None:
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    schema = schema_of(description(StreamSpecification=stream, DeletionProtectionEnabled=True,
                                   TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"}))
    assert schema["DeletionProtectionEnabled"] is True
    request = create_table_request(schema, "orders-restored")
    assert request["TableName"] == "orders-restored"
    assert request["StreamSpecification"] == stream
    assert request["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert "DeletionProtectionEnabled" not in request  # turned on last, once the load is done
    validate_parameters(request, CREATE_TABLE.input_shape)


def test_a_disabled_stream_and_the_standard_class_are_left_out() -> None:
    request = create_table_request(schema_of(description(StreamSpecification={"StreamEnabled": False})), "copy")
    assert "StreamSpecification" not in request and "TableClass" not in request


def test_encryption_follows_the_given_key_else_the_captured_one() -> None:
    sse = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY_ARN}
    schema = schema_of(description(SSEDescription=sse))
    as_captured = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY_ARN}
    assert create_table_request(schema, "copy")["SSESpecification"] == as_captured
    given_key = create_table_request(schema, "copy", TableKey("alias/dr", "target_kms_key_id was given"))
    assert given_key["SSESpecification"]["KMSMasterKeyId"] == "alias/dr"
    default = create_table_request(schema, "copy", TableKey(None, "default encryption"))
    assert "SSESpecification" not in default
    assert "SSESpecification" not in create_table_request(schema_of(description()), "copy")


def test_restorable_tags_leave_out_only_the_collections_own() -> None:
    tags = [{"Key": "team", "Value": "shop"}, {"Key": f"{OWN_TAG_PREFIX}original-capacity", "Value": "{}"},
            {"Key": "hippolyte", "Value": "a user's tag that merely starts alike"}]
    assert restorable_tags({"Tags": tags}) == [tags[0], tags[2]]
    assert restorable_tags({}) == []


CAPACITY = st.builds(throughput, st.integers(1, 40_000), st.integers(1, 40_000))


@settings(max_examples=50, deadline=None)
@given(on_demand=st.booleans(), capacities=st.lists(CAPACITY, min_size=0, max_size=3), table_capacity=CAPACITY,
       stream=st.sampled_from([None, {"StreamEnabled": False}, {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}]))
def test_every_rebuilt_request_is_a_valid_create_table_call(on_demand: bool, capacities: list[dict[str, Any]],
                                                            table_capacity: dict[str, Any],
                                                            stream: dict[str, Any] | None) -> None:
    table = description(on_demand=on_demand, StreamSpecification=stream)
    table["GlobalSecondaryIndexes"] = [gsi(f"gsi-{n}", None if on_demand else c) for n, c in enumerate(capacities)]
    if not on_demand:
        table["ProvisionedThroughput"] = table_capacity
    before = copy.deepcopy(table)
    request = create_table_request(schema_of(table), "target")
    assert table == before  # the description is only read
    validate_parameters(request, CREATE_TABLE.input_shape)  # raises on any key or type botocore would refuse
    assert ("ProvisionedThroughput" in request) is not on_demand
    assert [g["IndexName"] for g in request.get("GlobalSecondaryIndexes", [])] == [f"gsi-{n}" for n in
                                                                                   range(len(capacities))]
    if not on_demand:
        assert request["ProvisionedThroughput"]["ReadCapacityUnits"] == table_capacity["ReadCapacityUnits"]


@pytest.mark.parametrize("field", ["KeySchema", "AttributeDefinitions", "TableName"])
def test_a_description_missing_a_required_field_is_not_read_as_a_schema(field: str) -> None:
    table = description()
    del table[field]
    with pytest.raises(KeyError, match=field):
        schema_of(table)
