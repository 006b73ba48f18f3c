# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""BatchWriteItem calls whose request body is built straight from dynamodb-json lines.

A backup line is `{"Item": {...}}` in DynamoDB's own JSON, which is exactly a PutRequest. Going through
botocore would decode every attribute into Python objects (base64 binary into bytes), validate them and
serialize them back, attribute by attribute in pure Python: most of a restore's CPU. Here the body is
assembled from the lines as text.

Each body is first POSTed directly: signed by the client's own request signer (its credentials, refreshed
as they expire, and its region) and sent through the connection pool of the client's own HTTP session (its
TLS verification, proxy, timeouts and pool size), looked up once rather than per call. botocore's per-call
machinery around that (parameter validation and serialization, endpoint rules, user agent, retry
bookkeeping, and the session's per-request proxy and pool lookups) cost twice the signing and sending
themselves. Only an intact 200 answer is taken from that POST; anything else (a throttle, an error, a
dropped connection, a CRC32 mismatch) sends the same body again through a full botocore call, which
retries and reports as for any call. A batch of puts can be sent twice safely: a put of the same item
leaves the same item.

In that full call the body is swapped into a minimal call in botocore's `before-call` event (public API);
unprocessed items are lifted out of the response in `before-parse`, still as JSON, ready to be sent again;
a response whose CRC32 does not match is left alone, for botocore to retry (answer_checksum explains why).
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

try:
    from botocore.awsrequest import AWSRequest
    from urllib3.exceptions import HTTPError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency before anything here runs

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.answer_checksum import (
    body_intact,
    refuse_mismatched_answers,
)

_CALL = "before-call.dynamodb.BatchWriteItem"
_PARSE = "before-parse.dynamodb.BatchWriteItem"
_RAW_UNPROCESSED = "RawUnprocessedItems"
# Passes botocore's validation; the body actually sent is the one built from the lines.
_PLACEHOLDER = [{"PutRequest": {"Item": {"placeholder": {"NULL": True}}}}]
_OPERATION = "BatchWriteItem"


def put_request(line: bytes) -> bytes:
    """A dynamodb-json line (`{"Item": {...}}`) as a PutRequest, without parsing its attributes."""
    return b'{"PutRequest":' + line + b"}"


def item_line(request: bytes) -> bytes:
    """The dynamodb-json line (`{"Item": {...}}`) a PutRequest of `put_request` was made of."""
    return request[len(b'{"PutRequest":'):-1]


class RawBatchWrites:
    """While active, `send(table, requests)` writes PutRequests (UTF-8 JSON) and returns the unprocessed ones."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._events = client.meta.events
        self._id = f"hippolyte-raw-write-{uuid.uuid4().hex}"
        self._local = threading.local()
        # The client's own signer and HTTP session: botocore exposes no public way to sign and send a
        # prepared body, and these carry the client's credentials, region, TLS and proxy settings.
        self._signer = client._request_signer
        self._url = client.meta.endpoint_url
        self._pool, self._target = _connection_pool(client._endpoint.http_session, self._url)
        self._headers = {"Content-Type": "application/x-amz-json-1.0",
                         "X-Amz-Target": f"{client.meta.service_model.metadata['targetPrefix']}.{_OPERATION}"}
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

    def send(self, table: str, requests: list[bytes]) -> list[bytes]:
        body = b'{"RequestItems":{' + json.dumps(table).encode() + b":[" + b",".join(requests) + b"]}}"
        answer = self._post(body)
        unprocessed = answer.get("UnprocessedItems") if answer is not None else self._call(table, body)
        left = (unprocessed or {}).get(table, [])
        return [json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode() for request in left]

    def _post(self, body: bytes) -> dict[str, Any] | None:
        """The answer to `body` sent once, directly; None unless it is an intact 200."""
        request = AWSRequest(method="POST", url=self._url, data=body, headers=self._headers)
        self._signer.sign(_OPERATION, request)
        try:
            response = self._pool.request("POST", self._target, body=body, headers=dict(request.headers.items()),
                                          retries=False, assert_same_host=False, preload_content=True,
                                          decode_content=False)
        except (HTTPError, OSError):
            return None
        answer = {"status_code": response.status, "headers": response.headers, "body": response.data}
        if response.status != 200 or not body_intact(answer):
            return None
        doc: dict[str, Any] = json.loads(response.data)
        return doc

    def _call(self, table: str, body: bytes) -> dict[str, Any] | None:
        """`body` sent through a full botocore call; the UnprocessedItems of its answer, as JSON."""
        self._local.body = body
        try:
            response = self.client.batch_write_item(RequestItems={table: _PLACEHOLDER})
        finally:
            self._local.body = None
        unprocessed: dict[str, Any] | None = response.get(_RAW_UNPROCESSED)
        return unprocessed


def _connection_pool(session: Any, url: str) -> tuple[Any, str]:
    """The urllib3 pool the client's HTTP session sends `url` through, set up as the session sets it up for
    each request (its proxy, TLS verification), and the request target to use on it."""
    proxy = session._proxy_config.proxy_url_for(url)
    pool = session._get_connection_manager(url, proxy).connection_from_url(url)
    session._setup_ssl_cert(pool, url, session._verify)
    return pool, session._get_request_target(url, proxy)


def _lift_unprocessed(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if response_dict.get("status_code") != 200 or not body_intact(response_dict):
        return
    body = json.loads(response_dict["body"])
    if body.get("UnprocessedItems"):
        customized_response_dict[_RAW_UNPROCESSED] = body.pop("UnprocessedItems")
        response_dict["body"] = json.dumps(body).encode()
