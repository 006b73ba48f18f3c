"""raw_batch_write: BatchWriteItem bodies built from dynamodb-json lines; a direct POST first, any answer but an
intact 200 sent again through botocore; unprocessed items handed back as the PutRequests they were."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import (
    RawBatchWrites,
    item_line,
    put_request,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import encode_line, to_json_item
from tests.conftest import client
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.fault_proxy import FaultProxy
from tests.support.items import every_type_item, items
from tests.support.tables import canonical, create_table, scan_all


def requests_of(batch: list[dict[str, Any]]) -> list[bytes]:
    return [put_request(encode_line(item).encode()) for item in batch]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items)
def test_a_put_request_is_its_line_wrapped_and_unwrapped_unchanged(item: dict[str, Any]) -> None:
    line = encode_line(item).encode()
    request = put_request(line)
    assert json.loads(request) == {"PutRequest": {"Item": to_json_item(item)}}
    assert item_line(request) == line


@pytest.fixture
def table(moto_url: str, unique_name: str) -> str:
    create_table(client("dynamodb", moto_url), unique_name, rcu=None)
    return unique_name


BATCH = [every_type_item(f"k{n}") for n in range(6)]


def test_a_batch_is_written_whole_with_every_type_intact(moto_url: str, table: str) -> None:
    ddb = client("dynamodb", moto_url)
    with RawBatchWrites(ddb) as writes:
        assert writes.send(table, requests_of(BATCH)) == []
    assert canonical(scan_all(ddb, table)) == canonical(BATCH)
    ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}]})
    assert len(scan_all(ddb, table)) == 5  # after the block, calls are botocore's own again


def test_unprocessed_items_of_the_direct_post_come_back_as_requests(moto_url: str, table: str) -> None:
    with DynamoDBProxy(moto_url, unprocessed=(1, 2)) as proxy:
        ddb = client("dynamodb", proxy.url)
        with RawBatchWrites(ddb) as writes:
            left = writes.send(table, requests_of(BATCH))
            assert [json.loads(r) for r in left] == [json.loads(r) for r in requests_of(BATCH[2:])]
            assert writes.send(table, left) == []
        assert proxy.batch_calls == 2
    assert canonical(scan_all(client("dynamodb", moto_url), table)) == canonical(BATCH)


@pytest.mark.parametrize("kind", ["throttle", "error500", "drop_before", "drop_after", "corrupt", "truncate"])
def test_a_failed_post_is_sent_again_through_botocore(moto_url: str, table: str, kind: str) -> None:
    with FaultProxy(moto_url, seed=1).aim(kind, "BatchWriteItem", nth=1) as proxy:
        ddb = client("dynamodb", proxy.url)
        with RawBatchWrites(ddb) as writes:
            assert writes.send(table, requests_of(BATCH)) == []
        assert proxy.injected[kind] == 1
    assert canonical(scan_all(client("dynamodb", moto_url), table)) == canonical(BATCH)


def test_unprocessed_items_of_the_botocore_call_come_back_as_requests(moto_url: str, table: str) -> None:
    # The direct POST is throttled; the DynamoDB proxy then holds back all but 4 items of the botocore call.
    with DynamoDBProxy(moto_url, unprocessed=(1, 4)) as partial, \
            FaultProxy(partial.url).aim("throttle", "BatchWriteItem", nth=1) as faults:
        ddb = client("dynamodb", faults.url)
        with RawBatchWrites(ddb) as writes:
            left = writes.send(table, requests_of(BATCH))
        assert faults.injected["throttle"] == 1 and partial.held_back == 2
    assert [json.loads(r) for r in left] == [json.loads(r) for r in requests_of(BATCH[4:])]
    assert canonical(scan_all(client("dynamodb", moto_url), table)) == canonical(BATCH[:4])


def test_an_error_is_botocores_own(moto_url: str, unique_name: str) -> None:
    ddb = client("dynamodb", moto_url)
    with RawBatchWrites(ddb) as writes, pytest.raises(ClientError) as raised:
        writes.send(unique_name, requests_of(BATCH[:1]))
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.operation_name == "BatchWriteItem"
