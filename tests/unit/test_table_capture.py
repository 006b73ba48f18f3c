"""table_capture: everything needed to rebuild a table, read from moto over HTTP; calls an endpoint lacks are
recorded as unavailable, any other error fails the capture; a boosted table records the capacity it goes back to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import (
    capture_schema,
    list_tags,
    with_original_capacity,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    CapacityRecord,
    Dimension,
    record_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import shape_of
from tests.conftest import client
from tests.support.refusing_proxy import RefusingProxy
from tests.support.tables import create_table

GSI = [{"IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 40, "WriteCapacityUnits": 2}}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "city", "AttributeType": "S"}]


@pytest.fixture
def table(moto_url: str, unique_name: str) -> str:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=100, wcu=5, AttributeDefinitions=ATTRS, GlobalSecondaryIndexes=GSI,
                 Tags=[{"Key": "team", "Value": "shop"}])
    ddb.update_time_to_live(TableName=unique_name,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return unique_name


def test_the_schema_holds_keys_capacities_ttl_pitr_and_tags(moto_url: str, table: str) -> None:
    schema = capture_schema(client("dynamodb", moto_url), table)
    assert schema["TableName"] == table and schema["TableArn"].endswith(f":table/{table}")
    assert schema["BillingMode"] == "PROVISIONED"
    assert schema["ProvisionedThroughput"] == {"ReadCapacityUnits": 100, "WriteCapacityUnits": 5}
    assert schema["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {"ReadCapacityUnits": 40,
                                                                            "WriteCapacityUnits": 2}
    assert schema["TimeToLive"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    assert schema["PointInTimeRecovery"] == "ENABLED"
    assert schema["Tags"] == [{"Key": "team", "Value": "shop"}]
    assert "CapacityFromRecord" not in schema and "ProvisionedThroughputDuringBackup" not in schema


def test_a_description_in_hand_is_not_read_again(moto_url: str, table: str) -> None:
    described = client("dynamodb", moto_url).describe_table(TableName=table)["Table"]
    with RefusingProxy(moto_url, {}) as proxy:
        schema = capture_schema(client("dynamodb", proxy.url), table, table=described)
    assert "DescribeTable" not in proxy.calls and "ListTagsOfResource" in proxy.calls
    assert schema == capture_schema(client("dynamodb", moto_url), table)


def test_the_plans_facts_are_used_while_the_table_has_the_shape_they_were_read_with(moto_url: str,
                                                                                    table: str) -> None:
    """Tags, TTL and PITR read by the plan are not read again: the schema is the one a full capture makes."""
    ddb = client("dynamodb", moto_url)
    described = ddb.describe_table(TableName=table)["Table"]
    full = capture_schema(ddb, table, table=described)
    facts = TableFacts(shape=shape_of(described), tags=(("team", "shop"),), point_in_time_recovery="ENABLED",
                       time_to_live=(("AttributeName", "expires"), ("TimeToLiveStatus", "ENABLED")))
    with RefusingProxy(moto_url, {}) as proxy:
        schema = capture_schema(client("dynamodb", proxy.url), table, table=described, known=facts)
    assert not {"ListTagsOfResource", "DescribeTimeToLive", "DescribeContinuousBackups"} & set(proxy.calls)
    assert schema == full


def test_facts_of_another_shape_or_holding_our_tags_are_read_again(moto_url: str, table: str) -> None:
    ddb = client("dynamodb", moto_url)
    described = ddb.describe_table(TableName=table)["Table"]
    stale = TableFacts(shape="a table of that name deleted since", tags=(), point_in_time_recovery="DISABLED")
    with RefusingProxy(moto_url, {}) as proxy:
        schema = capture_schema(client("dynamodb", proxy.url), table, table=described, known=stale)
    assert {"ListTagsOfResource", "DescribeTimeToLive", "DescribeContinuousBackups"} <= set(proxy.calls)
    assert (schema["Tags"], schema["PointInTimeRecovery"]) == ([{"Key": "team", "Value": "shop"}], "ENABLED")
    # A capacity record in the plan's tags may be gone by now (reconcile): the tags are read again, only they.
    ours = TableFacts(shape=shape_of(described), tags=((f"{DEFAULT_TAG_KEY}", "{}"),), point_in_time_recovery="ENABLED")
    with RefusingProxy(moto_url, {}) as proxy:
        schema = capture_schema(client("dynamodb", proxy.url), table, table=described, known=ours)
    assert "ListTagsOfResource" in proxy.calls and "DescribeContinuousBackups" not in proxy.calls
    assert schema["Tags"] == [{"Key": "team", "Value": "shop"}]


def test_a_settings_call_an_endpoint_does_not_offer_is_asked_once(moto_url: str, table: str) -> None:
    """Its first answer stands for every later table of the run; each schema still names it as not captured."""
    with RefusingProxy(moto_url, {"GetResourcePolicy": "UnknownOperationException"}) as proxy:
        ddb = client("dynamodb", proxy.url)
        schemas = [capture_schema(ddb, table) for _n in range(3)]
    assert proxy.calls.count("GetResourcePolicy") == 1
    assert proxy.calls.count("DescribeTimeToLive") == 3  # offered: asked for each table
    for schema in schemas:
        assert {"setting": "resource policy", "reason": "the endpoint does not offer GetResourcePolicy "
                "(UnknownOperationException)"} in schema["NotCaptured"]


@pytest.mark.parametrize("code", ["UnknownOperationException", "UnrecognizedClientException"])
def test_ttl_and_pitr_an_endpoint_lacks_are_recorded_as_unavailable(moto_url: str, table: str, code: str) -> None:
    refuse = {"DescribeTimeToLive": code, "DescribeContinuousBackups": code}
    with RefusingProxy(moto_url, refuse) as proxy:
        schema = capture_schema(client("dynamodb", proxy.url), table)
    assert schema["TimeToLive"] is None and schema["PointInTimeRecovery"] is None
    assert {"setting": "point-in-time recovery",
            "reason": "the endpoint does not offer DescribeContinuousBackups"} in schema["NotCaptured"]


@pytest.mark.parametrize("operation", ["DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource"])
def test_any_other_error_fails_the_capture(moto_url: str, table: str, operation: str) -> None:
    with RefusingProxy(moto_url, {operation: "AccessDeniedException"}) as proxy, \
            pytest.raises(ClientError) as raised:
        capture_schema(client("dynamodb", proxy.url), table)
    assert raised.value.operation_name == operation


def test_every_tag_is_listed(moto_url: str, table: str) -> None:
    ddb = client("dynamodb", moto_url)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{n:02d}", "Value": str(n)} for n in range(40)])
    assert sorted(t["Key"] for t in list_tags(ddb, arn)) == sorted([f"k{n:02d}" for n in range(40)] + ["team"])


def boosted_schema(tags: list[dict[str, str]], billing: str = "PROVISIONED") -> dict[str, Any]:
    return {"BillingMode": billing, "Tags": tags,
            "ProvisionedThroughput": {"ReadCapacityUnits": 900, "WriteCapacityUnits": 5},
            "GlobalSecondaryIndexes": [{"IndexName": "by-city",
                                        "ProvisionedThroughput": {"ReadCapacityUnits": 400, "WriteCapacityUnits": 2}},
                                       {"IndexName": "by-day"}]}


RECORD = CapacityRecord(billing_mode="PROVISIONED", at="2026-11-20T01:00:00Z", run_id="run-1",
                        originals={None: {"read": Dimension(100)}, "by-city": {"read": Dimension(40)},
                                   "by-day": {"read": Dimension(7)}},
                        boosted={None: {"read": Dimension(900)}, "by-city": {"read": Dimension(400)}})


def test_a_boosted_table_records_the_capacity_it_goes_back_to() -> None:
    schema = with_original_capacity(boosted_schema(record_tags(RECORD, DEFAULT_TAG_KEY)))
    assert schema["ProvisionedThroughput"] == {"ReadCapacityUnits": 100, "WriteCapacityUnits": 5}
    assert schema["ProvisionedThroughputDuringBackup"] == {"ReadCapacityUnits": 900, "WriteCapacityUnits": 5}
    assert schema["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 40
    assert "ProvisionedThroughput" not in schema["GlobalSecondaryIndexes"][1]  # nothing to put a capacity on
    assert schema["CapacityFromRecord"] == "2026-11-20T01:00:00Z"


@pytest.mark.parametrize("schema", [boosted_schema([{"Key": "team", "Value": "shop"}]),
                                    boosted_schema(record_tags(RECORD, DEFAULT_TAG_KEY), billing="PAY_PER_REQUEST")])
def test_without_a_record_or_on_demand_the_schema_is_as_captured(schema: dict[str, Any]) -> None:
    before = json.dumps(schema, sort_keys=True)
    assert json.dumps(with_original_capacity(schema), sort_keys=True) == before


def test_an_unreadable_record_fails_naming_its_tag() -> None:
    with pytest.raises(HippolyteError, match=f"the capacity record in tag '{DEFAULT_TAG_KEY}' cannot be read"):
        with_original_capacity(boosted_schema([{"Key": DEFAULT_TAG_KEY, "Value": "not base64!"}]))
