"""batch_writer: parallel BatchWriteItem that never drops an item. The writer takes its `send` as a parameter:
most tests give it one that records and answers as DynamoDB would under load; the refusals are DynamoDB's own,
from moto over HTTP through raw_batch_write."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import RawBatchWrites
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import Cancelled
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.batch_writer import (
    BATCH_SIZE,
    BatchWriter,
    ItemRefused,
    StalledError,
)
from tests.conftest import client
from tests.support.tables import create_table, scan_all


def request(n: int, pad: int = 10) -> bytes:
    return json.dumps({"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "v": {"S": "x" * pad}}}},
                      separators=(",", ":")).encode()


class Table:
    """A `send` that keeps what it is sent, leaving the first `hold` items of each of the first `busy` calls
    unprocessed, or raising `errors` first, one per call."""

    def __init__(self, busy: int = 0, hold: int = 0, errors: list[Exception] | None = None) -> None:
        self.busy, self.hold, self.errors = busy, hold, list(errors or [])
        self.batches: list[int] = []
        self.items: set[bytes] = set()
        self.lock = threading.Lock()

    def __call__(self, table: str, requests: list[bytes]) -> list[bytes]:
        with self.lock:
            if self.errors:
                raise self.errors.pop(0)
            self.batches.append(len(requests))
            left = requests[: self.hold] if self.busy else []
            self.busy = max(0, self.busy - 1)
            self.items.update(requests[len(left):])
            return left


def throttled(code: str = "ThrottlingException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "slow down"}}, "BatchWriteItem")


def test_batches_of_at_most_25_and_every_item_written() -> None:
    table = Table()
    with BatchWriter(table, "t", workers=3) as writer:
        writer.put_requests(request(n) for n in range(60))
    assert sorted(table.batches) == [10, 25, 25] and all(b <= BATCH_SIZE for b in table.batches)
    assert table.items == {request(n) for n in range(60)} and writer.stats.written == 60


def test_a_batch_is_cut_where_its_json_would_pass_the_byte_limit_and_a_big_item_goes_alone() -> None:
    table = Table()
    big = request(99, pad=500)
    with BatchWriter(table, "t", workers=1, batch_bytes=3 * len(request(0)) + 3) as writer:
        writer.put_requests([*(request(n) for n in range(7)), big, request(7)])
    assert table.batches == [3, 3, 1, 1, 1]
    assert big in table.items and len(table.items) == 9


def test_unprocessed_and_throttled_items_are_sent_again_with_backoff() -> None:
    table = Table(busy=2, hold=5, errors=[throttled(), throttled("ProvisionedThroughputExceededException")])
    sleeps: list[float] = []
    with BatchWriter(table, "t", workers=1, sleep=sleeps.append, base_delay_s=0.05, max_delay_s=0.1) as writer:
        writer.put_requests(request(n) for n in range(25))
    assert table.items == {request(n) for n in range(25)}
    assert writer.stats.written == 25 and writer.stats.throttled_calls == 2
    assert writer.stats.retried_items == 2 * 25 + 2 * 5
    assert len(sleeps) == 4 and all(0 <= s <= 0.1 for s in sleeps)


def test_a_table_that_takes_nothing_stalls_naming_the_missing_items() -> None:
    table = Table(busy=10**9, hold=25)
    writer = BatchWriter(table, "t", workers=1, stall_timeout_s=0.0, sleep=lambda s: None)
    with pytest.raises(StalledError, match="DynamoDB accepted none of 4 items for 0 s"), writer:
        writer.put_requests(request(n) for n in range(4))


def test_any_other_error_fails_the_load() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchWriteItem")
    writer = BatchWriter(Table(errors=[denied]), "t", workers=2)
    with pytest.raises(ClientError, match="AccessDeniedException"), writer:
        writer.put_requests(request(n) for n in range(30))


def test_a_stopped_load_sends_nothing_more() -> None:
    stop = threading.Event()
    stop.set()
    table = Table()
    writer = BatchWriter(table, "t", workers=1, stop=stop)
    with pytest.raises(Cancelled), writer:
        writer.put_requests(request(n) for n in range(5))
    assert table.items == set()


@pytest.fixture
def moto_table(moto_url: str, unique_name: str) -> tuple[Any, str]:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, unique_name, rcu=None)
    return ddb, unique_name


def put(pk: str, value: str) -> bytes:
    return json.dumps({"PutRequest": {"Item": {"pk": {"S": pk}, "v": {"S": value}}}}).encode()


class RefusesDuplicates(Table):
    """DynamoDB refuses a whole batch that puts one key twice (ValidationException), which a backup made by another
    tool can hold; moto accepts such a batch, so the refusal is played here."""

    def __call__(self, table: str, requests: list[bytes]) -> list[bytes]:
        keys = [json.loads(r)["PutRequest"]["Item"]["pk"]["S"] for r in requests]
        if len(set(keys)) < len(keys):
            error = {"Code": "ValidationException", "Message": "Provided list of item keys contains duplicates"}
            raise ClientError({"Error": error}, "BatchWriteItem")
        self.order = [*getattr(self, "order", []), *requests]
        return super().__call__(table, requests)


def test_two_puts_of_one_key_are_written_apart_and_the_later_wins() -> None:
    table = RefusesDuplicates()
    with BatchWriter(table, "t", workers=1) as writer:
        writer.put_requests([put("a", "first"), put("b", "b"), put("a", "second"), put("c", "c")])
    assert table.order == [put("a", "first"), put("b", "b"), put("a", "second"), put("c", "c")]
    assert writer.stats.written == 4


def test_an_item_refused_on_its_own_is_named_after_the_rest_is_written(moto_table: tuple[Any, str]) -> None:
    ddb, name = moto_table
    bad = json.dumps({"PutRequest": {"Item": {"pk": {"S": ""}, "v": {"S": "empty key"}}}}).encode()
    with RawBatchWrites(ddb) as raw:
        writer = BatchWriter(raw.send, name, workers=1)
        with pytest.raises(ItemRefused, match=r"DynamoDB refused an item of the backup: .*empty key"), writer:
            writer.put_requests([put("a", "a"), bad, put("b", "b")])
    assert sorted(i["pk"]["S"] for i in scan_all(ddb, name)) == ["a", "b"]
