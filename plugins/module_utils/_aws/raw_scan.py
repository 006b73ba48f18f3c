# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Scan pages whose items stay as DynamoDB sent them: JSON with base64 binary, i.e. already dynamodb-json.

botocore turns every attribute of every item into Python objects, walking the response shape in pure
Python; for a backup that only writes the items back out as JSON, that walk is most of the CPU cost.
A `before-parse` handler (a public botocore event) lifts the items out of the body before parsing,
as lines cut from the body's text (page_lines.py), so botocore parses only the small rest
(LastEvaluatedKey, ConsumedCapacity). A body whose CRC32 does not match is left alone, for botocore to
retry (answer_checksum explains why).
"""

from __future__ import annotations

import threading
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.answer_checksum import (
    body_intact,
    refuse_mismatched_answers,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.page_lines import split_page

RAW_ITEMS = "RawItems"
_EVENT = "before-parse.dynamodb.Scan"


def _lift_items(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if response_dict.get("status_code") != 200 or RAW_ITEMS in customized_response_dict:
        return  # errors are parsed as usual; a page already lifted stays so
    if not body_intact(response_dict):
        return  # a damaged body is left to botocore, which retries it
    page = split_page(response_dict["body"])
    if page is not None:
        customized_response_dict[RAW_ITEMS] = page
        response_dict["body"] = page.rest


_ID = "hippolyte-raw-scan"
# botocore's emitter is not made for registrations from many threads at once, and each real (un)registration
# empties its handler cache, which every later call of the client then rebuilds: with one counted registration
# per client, the tables a night backs up side by side share it, and the cache is emptied only when none is left.
_REGISTRATION = threading.Lock()


class RawItemScans:
    """While active, `client.scan` returns the page's items under RawItems, as dynamodb-json lines (PageLines).
    Any number may be active on one client at once (the local lanes share their client)."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events
        refuse_mismatched_answers(client)

    def __enter__(self) -> RawItemScans:
        with _REGISTRATION:
            self._events.register(_EVENT, _lift_items, unique_id=_ID, unique_id_uses_count=True)
        return self

    def __exit__(self, *exc: object) -> None:
        with _REGISTRATION:
            self._events.unregister(_EVENT, unique_id=_ID, unique_id_uses_count=True)
