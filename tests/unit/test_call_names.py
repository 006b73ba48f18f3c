"""call_names: a failed AWS call's message names the operation and what it was about."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.call_names import (
    failed_call_message,
    name_resources_in_errors,
    resource_named,
)
from tests.conftest import client


@pytest.mark.parametrize(("params", "named"), [
    ({"TableName": "orders"}, "table orders"),
    ({"TableName": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"}, "table orders"),
    ({"ExportArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/export/0176"}, "table orders/export/0176"),
    ({"ResourceArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "TableName": "x"}, "table x"),
    ({"ClusterId": "j-2AXXXXXXGAPLF"}, "cluster j-2AXXXXXXGAPLF"),
    ({"pipelineId": "df-0937003356ZJEXAMPLE"}, "pipeline df-0937003356ZJEXAMPLE"),
    ({"ResourceId": "table/orders"}, "table/orders"),
    ({"Bucket": "backups", "Key": "a/b.json"}, "s3://backups/a/b.json"),
    ({"Bucket": "backups", "Prefix": "a/"}, "s3://backups/a/"),
    ({"Bucket": "backups"}, "s3://backups/"),
    ({"TableName": "", "ExportArn": 7, "ClusterId": "j-1"}, "cluster j-1"),  # empty and non-strings are skipped
    ({"Limit": 10}, None),
    ({}, None),
])
def test_resource_named(params: dict[str, Any], named: str | None) -> None:
    assert resource_named(params) == named


def test_anything_but_a_failed_call_is_an_aws_call_that_failed() -> None:
    assert failed_call_message(ValueError("x")) == "AWS call failed"
    assert failed_call_message(EndpointConnectionError(endpoint_url="http://127.0.0.1:9")) == "AWS call failed"


def test_a_client_error_of_an_unnamed_client_names_the_operation_only() -> None:
    error = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "DescribeTable")
    assert failed_call_message(error) == "DescribeTable failed"


def test_failed_calls_of_a_named_client_say_what_they_were_about(moto_url: str, unique_name: str) -> None:
    ddb = name_resources_in_errors(client("dynamodb", moto_url))
    with pytest.raises(ClientError) as raised:
        ddb.describe_table(TableName=unique_name)
    assert failed_call_message(raised.value) == f"DescribeTable on table {unique_name} failed"
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"  # AWS's own fields are kept
    s3 = name_resources_in_errors(client("s3", moto_url))
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=unique_name, Key="data/part-00000.json.gz")
    assert failed_call_message(raised.value) == f"GetObject on s3://{unique_name}/data/part-00000.json.gz failed"


def test_a_call_without_a_resource_parameter_names_the_operation_only(moto_url: str, unique_name: str) -> None:
    ddb = name_resources_in_errors(client("dynamodb", moto_url))
    with pytest.raises(ClientError) as raised:
        ddb.batch_get_item(RequestItems={unique_name: {"Keys": [{"pk": {"S": "a"}}]}})
    assert failed_call_message(raised.value) == "BatchGetItem failed"


def test_a_call_that_succeeds_is_left_alone(moto_url: str, unique_name: str) -> None:
    s3 = name_resources_in_errors(client("s3", moto_url))
    assert s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert "HippolyteResource" not in s3.head_bucket(Bucket=unique_name)
