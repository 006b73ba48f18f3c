"""answer_checksum: a DynamoDB answer whose CRC32 never matched is an error, never a result."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ChecksumError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.answer_checksum import (
    body_intact,
    refuse_mismatched_answers,
)
from tests.conftest import REGION
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request
from tests.support.tables import create_table


def test_a_body_without_the_header_is_taken_as_it_is() -> None:
    assert body_intact({"headers": {}, "body": b"anything"}) and body_intact({"body": b""})


@settings(max_examples=50, deadline=None)
@given(body=st.binary(max_size=200), bit=st.integers(min_value=0))
def test_the_header_holds_for_the_body_and_for_no_body_one_bit_away(body: bytes, bit: int) -> None:
    header = {"x-amz-crc32": str(zlib.crc32(body))}
    assert body_intact({"headers": header, "body": body})
    if body:
        flipped = bytearray(body)
        flipped[(bit // 8) % len(body)] ^= 1 << (bit % 8)
        assert not body_intact({"headers": header, "body": bytes(flipped)})


class AlteringProxy(ForwardingProxy):
    """Changes `old` to `new` in the first `times` GetItem answers and keeps DynamoDB's CRC32 header: a body
    damaged on the way, still valid JSON. No stand-in damages its own answers, hence the proxy."""

    def __init__(self, upstream: str, times: int) -> None:
        super().__init__(upstream)
        self.times, self.get_items = times, 0

    def serve(self, request: Request, send: Answer) -> None:
        reply = self.forward(request)
        if request.operation == "GetItem":
            self.get_items += 1
            if self.get_items <= self.times:
                reply = Reply(reply.status, reply.headers, reply.body.replace(b"sent-value", b"bent-value"))
        send(reply)


@pytest.fixture
def table(moto_url: str, unique_name: str) -> Iterator[str]:
    ddb = dynamodb(moto_url)
    create_table(ddb, unique_name, rcu=None)
    ddb.put_item(TableName=unique_name, Item={"pk": {"S": "a"}, "v": {"S": "sent-value"}})
    yield unique_name
    ddb.delete_table(TableName=unique_name)


def dynamodb(url: str) -> Any:
    # Standard mode, as the modules' adaptive mode: it retries a CRC32 mismatch and, once the attempts are used
    # up, hands back the last answer (legacy mode would raise by itself).
    return boto3.client("dynamodb", region_name=REGION, endpoint_url=url,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 2}))


def get(ddb: Any, table: str) -> str:
    return str(ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["v"]["S"])


def test_botocore_alone_returns_an_answer_that_never_matched(moto_url: str, table: str) -> None:
    # The gap this module closes: once the retries are used up, botocore hands back the damaged answer.
    with AlteringProxy(moto_url, times=2) as proxy:
        assert get(dynamodb(proxy.url), table) == "bent-value"
        assert proxy.get_items == 2


def test_an_answer_that_never_matched_is_refused(moto_url: str, table: str) -> None:
    with AlteringProxy(moto_url, times=2) as proxy:
        ddb = dynamodb(proxy.url)
        refuse_mismatched_answers(ddb)
        refuse_mismatched_answers(ddb)  # a second registration changes nothing
        with pytest.raises(ChecksumError, match="crc32"):
            get(ddb, table)
        assert proxy.get_items == 2
        assert get(ddb, table) == "sent-value"  # answers that match pass as before


def test_a_damaged_answer_that_a_retry_mends_is_the_result(moto_url: str, table: str) -> None:
    with AlteringProxy(moto_url, times=1) as proxy:
        ddb = dynamodb(proxy.url)
        refuse_mismatched_answers(ddb)
        assert get(ddb, table) == "sent-value"
        assert proxy.get_items == 2
