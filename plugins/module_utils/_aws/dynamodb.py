# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""DynamoDB tables as the plain Python reads them: DescribeTable, the table-ACTIVE waiter, ListTables.

Retries are not here: botocore's adaptive mode, set once on every client (ansible_adapter.aws_client),
retries throttling and transient errors; code here only waits for states to change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import PollTimeout, poll_until


def describe_table(ddb: Any, name: str, field: str = "table") -> dict[str, Any]:
    """DescribeTable's `Table`; an unknown table is bad input naming `field`."""
    try:
        return cast("dict[str, Any]", ddb.describe_table(TableName=name)["Table"])
    except Exception as exc:
        if is_error(exc, "ResourceNotFoundException"):
            raise InputError(field, f"table {name!r} does not exist in this account and region",
                             "check the name, region and endpoint") from exc
        raise


def busy_parts(table: dict[str, Any]) -> list[str]:
    """The parts of a described table that are not ACTIVE: the table itself and any of its GSIs."""
    busy = [] if table["TableStatus"] == "ACTIVE" else [f"table ({table['TableStatus']})"]
    return busy + [f"index {i['IndexName']} ({i.get('IndexStatus')})" for i in table.get("GlobalSecondaryIndexes", [])
                   if i.get("IndexStatus", "ACTIVE") != "ACTIVE"]


def wait_table_active(ddb: Any, name: str, timeout: float, interval: float = 0.5, *,
                      max_interval: float | None = 10.0, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Wait until the table and every GSI are ACTIVE; returns the table's description.

    botocore's `table_exists` waiter looks at TableStatus only, while UpdateTable and CreateTable leave
    indexes CREATING or UPDATING after the table itself is ACTIVE: hence this waiter of our own.
    """
    last: list[str] = []

    def active() -> dict[str, Any] | None:
        table = describe_table(ddb, name)
        last[:] = busy_parts(table)
        return None if last else table

    try:
        return poll_until(active, timeout, interval, f"waiting for table {name} to be ACTIVE",
                          max_interval=max_interval, sleep=sleep)
    except PollTimeout as exc:
        raise PollTimeout(f"{exc} (still busy: {', '.join(last)}); or look at the table in the console") from None


def list_table_names(ddb: Any) -> list[str]:
    """Every table of the client's account and region."""
    return all_items(ddb, "list_tables", "TableNames")
