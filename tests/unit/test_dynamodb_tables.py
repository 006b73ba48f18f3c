"""dynamodb_tables: a table recreated from its captured schema, with its TTL and its users' tags; a CreateTable
whose answer was lost (retried by botocore) is recognised only when the table is the one it would make."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb_tables import (
    apply_ttl_and_tags,
    recreate_table,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import schema_of
from tests.conftest import client
from tests.support.tables import create_table

GSI = [{"IndexName": "by-city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "city", "AttributeType": "S"}]


def captured(ddb: Any, name: str, ttl: dict[str, Any] | None, tags: list[dict[str, str]]) -> dict[str, Any]:
    """A schema as a backup captures it (TTL and tags are read by calls of their own)."""
    schema = schema_of(ddb.describe_table(TableName=name)["Table"])
    return {**schema, "TimeToLive": ttl, "Tags": tags}


@pytest.fixture
def source(moto_url: str, unique_name: str) -> tuple[Any, str]:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None, AttributeDefinitions=ATTRS, GlobalSecondaryIndexes=GSI)
    return ddb, unique_name


def tags_of(ddb: Any, table: dict[str, Any]) -> list[dict[str, str]]:
    return sorted(ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"], key=lambda t: t["Key"])


def test_the_table_comes_back_with_its_indexes_ttl_and_users_tags(source: tuple[Any, str]) -> None:
    ddb, name = source
    tags = [{"Key": "team", "Value": "shop"}, {"Key": "hippolyte:capacity-original", "Value": "e30="}]
    schema = captured(ddb, name, {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}, tags)
    table = recreate_table(ddb, schema, f"{name}-copy", timeout_s=30)
    assert table["TableName"] == f"{name}-copy" and table["TableStatus"] == "ACTIVE"
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-city"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName=f"{name}-copy")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires")
    assert tags_of(ddb, table) == [{"Key": "team", "Value": "shop"}]  # the run's own tag stays behind


@pytest.mark.parametrize("ttl", [None, {"TimeToLiveStatus": "DISABLED"}, {"TimeToLiveStatus": "ENABLED"}])
def test_no_ttl_and_no_tags_change_nothing(source: tuple[Any, str], ttl: dict[str, Any] | None) -> None:
    ddb, name = source
    table = recreate_table(ddb, captured(ddb, name, ttl, []), f"{name}-copy", timeout_s=30)
    assert ddb.describe_time_to_live(TableName=f"{name}-copy")["TimeToLiveDescription"]["TimeToLiveStatus"] \
        == "DISABLED"
    assert tags_of(ddb, table) == []


def test_apply_ttl_and_tags_to_a_table_an_import_made(source: tuple[Any, str]) -> None:
    ddb, name = source
    target = ddb.describe_table(TableName=name)["Table"]
    schema = {"TimeToLive": {"TimeToLiveStatus": "ENABLING", "AttributeName": "ttl"},
              "Tags": [{"Key": "env", "Value": "prod"}]}
    apply_ttl_and_tags(ddb, schema, target)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["AttributeName"] == "ttl"
    assert tags_of(ddb, target) == [{"Key": "env", "Value": "prod"}]


def test_a_lost_answer_is_recognised_by_an_empty_table_of_the_planned_shape(source: tuple[Any, str]) -> None:
    ddb, name = source
    schema = captured(ddb, name, None, [{"Key": "team", "Value": "shop"}])
    # The first CreateTable happened (its answer lost on the way); botocore's retry meets ResourceInUseException.
    create_table(ddb, f"{name}-copy", rcu=None, AttributeDefinitions=ATTRS, GlobalSecondaryIndexes=GSI)
    table = recreate_table(ddb, schema, f"{name}-copy", timeout_s=30)
    assert table["TableName"] == f"{name}-copy"
    assert tags_of(ddb, table) == [{"Key": "team", "Value": "shop"}]


def test_a_table_of_another_shape_is_never_taken_for_ours(source: tuple[Any, str]) -> None:
    ddb, name = source
    create_table(ddb, f"{name}-copy", rcu=None)  # no index
    with pytest.raises(ClientError) as raised:
        recreate_table(ddb, captured(ddb, name, None, []), f"{name}-copy", timeout_s=30)
    assert raised.value.response["Error"]["Code"] == "ResourceInUseException"


def test_a_table_of_the_same_shape_holding_items_is_never_taken_for_ours(source: tuple[Any, str]) -> None:
    ddb, name = source
    create_table(ddb, f"{name}-copy", rcu=None, AttributeDefinitions=ATTRS, GlobalSecondaryIndexes=GSI)
    ddb.put_item(TableName=f"{name}-copy", Item={"pk": {"S": "someone's"}, "city": {"S": "Oslo"}})
    with pytest.raises(ClientError, match="ResourceInUseException"):
        recreate_table(ddb, captured(ddb, name, None, []), f"{name}-copy", timeout_s=30)
    assert ddb.scan(TableName=f"{name}-copy")["Count"] == 1
