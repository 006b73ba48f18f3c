# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Creating a table from its captured schema: CreateTable, then TTL and tags, which it cannot carry."""

from __future__ import annotations

from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import wait_table_active
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import (
    create_table_request,
    restorable_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import TableKey

_FIRST_LOOK_S = 0.05  # first wait between looks at a table being created; doubles up to wait_table_active's cap


def _shape(table: dict[str, Any]) -> tuple[Any, ...]:
    """Keys, attribute definitions and indexes (name, keys, projection type), in a comparable order."""
    def indexes(kind: str) -> list[tuple[str, str, str]]:
        return sorted((i["IndexName"], repr(i["KeySchema"]), i["Projection"]["ProjectionType"])
                      for i in table.get(kind) or [])

    return (repr(table["KeySchema"]), sorted(repr(sorted(a.items())) for a in table["AttributeDefinitions"]),
            indexes("LocalSecondaryIndexes"), indexes("GlobalSecondaryIndexes"))


def _created_by_this_call(ddb: Any, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
    """After CreateTable answered ResourceInUseException: the table, if it is the one this very create made
    (the answer to an earlier attempt was lost and botocore retried): planned shape and still empty."""
    table = wait_table_active(ddb, request["TableName"], timeout_s)
    if _shape(table) != _shape(request):
        return None
    page = ddb.scan(TableName=request["TableName"], Limit=1)
    return None if page.get("Items") or page.get("LastEvaluatedKey") else table


def recreate_table(ddb: Any, schema: dict[str, Any], target: str, timeout_s: float = 600,
                   key: TableKey | None = None) -> dict[str, Any]:
    """Create `target` from the schema, wait for it, then apply TTL and tags (CreateTable cannot carry TTL)."""
    request = create_table_request(schema, target, key)
    try:
        ddb.create_table(**request)
    except Exception as exc:
        # A create is not idempotent: a retry of one whose answer was lost finds the table it made.
        if not is_error(exc, "ResourceInUseException") or _created_by_this_call(ddb, request, timeout_s) is None:
            raise
    # A new table can be ACTIVE within tens of milliseconds (on-demand, no index): the first looks come
    # soon, then double as for any wait, so the load starts when the table does, not a fixed 0.5 s later.
    table = wait_table_active(ddb, target, timeout_s, interval=_FIRST_LOOK_S)
    apply_ttl_and_tags(ddb, schema, table)
    return table


def apply_ttl_and_tags(ddb: Any, schema: dict[str, Any], table: dict[str, Any]) -> None:
    """The captured TTL and tags on a new table (`table`: its description); neither CreateTable nor
    ImportTable can carry TTL, and ImportTable carries no tags."""
    ttl = schema.get("TimeToLive") or {}
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and ttl.get("AttributeName"):
        ddb.update_time_to_live(TableName=table["TableName"],
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]})
    tags = restorable_tags(schema)
    if tags:
        ddb.tag_resource(ResourceArn=table["TableArn"], Tags=tags)
