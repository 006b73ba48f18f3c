# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""DynamoDB's x-amz-crc32 answer checksum, checked where botocore leaves gaps.

botocore checks the CRC32 only to decide whether to retry (standard and adaptive modes): once the
attempts are used up, the last answer is returned as a success even if its checksum never matched.
And our `before-parse` handlers (raw_scan, raw_batch_write) read the body before that check.
So: before-parse handlers lift nothing out of a mismatched body (botocore then retries it), and
`refuse_mismatched_answers` makes a mismatch that outlived the retries an error, never a result.
"""

from __future__ import annotations

import zlib
from typing import Any

_HEADER = "x-amz-crc32"
_GUARD_ID = "hippolyte-crc32-guard"


def _expected(headers: Any) -> int | None:
    value = headers.get(_HEADER)
    return int(value) if value is not None else None


def body_intact(response_dict: dict[str, Any]) -> bool:
    """Whether a before-parse response body matches its CRC32 header (true when there is no header)."""
    expected = _expected(response_dict.get("headers", {}))
    return expected is None or zlib.crc32(response_dict["body"]) == expected


def _refuse(http_response: Any, **_: Any) -> None:
    expected = _expected(http_response.headers)
    if expected is None:
        return
    actual = zlib.crc32(http_response.content)
    if actual != expected:
        from botocore.exceptions import ChecksumError  # imported here: adapters report a missing botocore

        raise ChecksumError(checksum_type="crc32", expected_checksum=expected, actual_checksum=actual)


def refuse_mismatched_answers(client: Any) -> None:
    """Make every DynamoDB answer of `client` whose CRC32 still mismatches after the retries an error.
    Registering twice on one client is harmless (one unique id)."""
    client.meta.events.register("after-call.dynamodb", _refuse, unique_id=_GUARD_ID)
