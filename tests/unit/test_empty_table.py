"""empty_table: every item of a table deleted, the table itself kept, against moto over HTTP."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import Cancelled
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.empty_table import empty_table
from tests.conftest import client
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.tables import create_table, put_items, scan_all

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "B"}, {"AttributeName": "sk", "AttributeType": "N"}]


@pytest.fixture
def table(moto_url: str, unique_name: str) -> tuple[Any, str]:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None, KeySchema=KEYS, AttributeDefinitions=ATTRS)
    put_items(ddb, unique_name, ({"pk": {"B": bytes([n % 7, 0, 255])}, "sk": {"N": str(n)}, "v": {"S": "x" * 50}}
                                 for n in range(80)))
    return ddb, unique_name


def test_every_item_goes_and_the_table_stays(table: tuple[Any, str]) -> None:
    ddb, name = table
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert empty_table(ddb, name, ["pk", "sk"], workers=3, stall_timeout_s=30) == 80
    assert scan_all(ddb, name) == []
    assert ddb.describe_table(TableName=name)["Table"]["TableArn"] == arn
    assert empty_table(ddb, name, ["pk", "sk"], workers=1, stall_timeout_s=30) == 0


def test_deletes_left_unprocessed_are_sent_again(moto_url: str, table: tuple[Any, str]) -> None:
    _ddb, name = table
    # DynamoDB under load answers part of a batch as UnprocessedItems; no emulator does: the proxy plays it.
    with DynamoDBProxy(moto_url, unprocessed=(3, 5)) as proxy:
        assert empty_table(client("dynamodb", proxy.url), name, ["pk", "sk"], workers=2, stall_timeout_s=30) == 80
        assert proxy.held_back > 0
    assert scan_all(client("dynamodb", moto_url), name) == []


def test_a_stopped_run_deletes_nothing_more(table: tuple[Any, str]) -> None:
    ddb, name = table
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        empty_table(ddb, name, ["pk", "sk"], workers=2, stall_timeout_s=30, stop=stop)
    assert len(scan_all(ddb, name)) == 80
