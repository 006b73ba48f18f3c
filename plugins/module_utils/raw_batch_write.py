"""BatchWriteItem calls whose request body is built straight from dynamodb-json lines.

A backup line is `{"Item": {...}}` in DynamoDB's own JSON, which is exactly a PutRequest. Going through
botocore would decode every attribute into Python objects (base64 binary into bytes), validate them and
serialize them back, attribute by attribute in pure Python: most of a restore's CPU. Here the body is
assembled from the lines as text, and swapped into a minimal call in botocore's `before-call` event (public
API); botocore still signs, sends, retries and parses the response. Unprocessed items are lifted out of the
response in `before-parse`, still as JSON, ready to be sent again; a response whose CRC32 does not match
is left alone, for botocore to retry (answer_checksum explains why).
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.answer_checksum import (
    body_intact,
    refuse_mismatched_answers,
)

_CALL = "before-call.dynamodb.BatchWriteItem"
_PARSE = "before-parse.dynamodb.BatchWriteItem"
_RAW_UNPROCESSED = "RawUnprocessedItems"
# Passes botocore's validation; the body actually sent is the one built from the lines.
_PLACEHOLDER = [{"PutRequest": {"Item": {"placeholder": {"NULL": True}}}}]


def put_request(line: str) -> str:
    """A dynamodb-json line (`{"Item": {...}}`) as a PutRequest, without parsing its attributes."""
    return '{"PutRequest":' + line + "}"


class RawBatchWrites:
    """While active, `send(table, requests)` writes PutRequest JSON strings and returns the unprocessed ones."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._events = client.meta.events
        self._id = f"hippolyte-raw-write-{uuid.uuid4().hex}"
        self._local = threading.local()
        refuse_mismatched_answers(client)

    def __enter__(self) -> RawBatchWrites:
        # unique_id is per emitter, not per event: each handler needs its own.
        self._events.register(_CALL, self._swap_body, unique_id=self._id + "-call")
        self._events.register(_PARSE, _lift_unprocessed, unique_id=self._id + "-parse")
        return self

    def __exit__(self, *exc: object) -> None:
        self._events.unregister(_CALL, unique_id=self._id + "-call")
        self._events.unregister(_PARSE, unique_id=self._id + "-parse")

    def _swap_body(self, params: dict[str, Any], **_: Any) -> None:
        body = getattr(self._local, "body", None)
        if body is not None:
            params["body"] = body

    def send(self, table: str, requests: list[str]) -> list[str]:
        self._local.body = ('{"RequestItems":{' + json.dumps(table) + ":[" + ",".join(requests) + "]}}").encode()
        try:
            response = self.client.batch_write_item(RequestItems={table: _PLACEHOLDER})
        finally:
            self._local.body = None
        left = response.get(_RAW_UNPROCESSED, {}).get(table, [])
        return [json.dumps(request, separators=(",", ":"), ensure_ascii=False) for request in left]


def _lift_unprocessed(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if response_dict.get("status_code") != 200 or not body_intact(response_dict):
        return
    body = json.loads(response_dict["body"])
    if body.get("UnprocessedItems"):
        customized_response_dict[_RAW_UNPROCESSED] = body.pop("UnprocessedItems")
        response_dict["body"] = json.dumps(body).encode()
