"""A table's full schema as captured at backup time, and the CreateTable request that rebuilds it.

Captured: keys, attribute definitions, LSIs, GSIs with projections and capacities, billing mode,
capacities, TTL, streams, SSE, table class, deletion protection, tags, PITR status, and the settings
table_settings.py captures (resource policy, autoscaling, on-demand and warm throughput, contributor insights,
Kinesis streaming destinations). Calls that an
endpoint does not offer (UnknownOperationException, e.g. a local emulator) are recorded as
unavailable rather than failing the backup; any other error fails it.
"""

from __future__ import annotations

from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.aws_access import (
    all_items,
    describe_table,
    wait_table_active,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import (
    DEFAULT_TAG_KEY,
    parse_record,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import UNSUPPORTED_CALL_CODES, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.table_key import TableKey, backed_up_key
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.table_settings import (
    capture_settings,
    with_original_scaling,
)

# Tags of ours (e.g. the capacity record of a boosted table) describe a run, not the table.
OWN_TAG_PREFIX = "hippolyte:"
_FIRST_LOOK_S = 0.05  # first wait between looks at a table being created; doubles up to wait_table_active's cap


def _optional(call: Any, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return cast("dict[str, Any]", call(**kwargs))
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return None
        raise


def _capacity(throughput: dict[str, Any] | None) -> dict[str, int] | None:
    if not throughput:
        return None
    return {"ReadCapacityUnits": int(throughput.get("ReadCapacityUnits", 0)),
            "WriteCapacityUnits": int(throughput.get("WriteCapacityUnits", 0))}


def _index(index: dict[str, Any], with_capacity: bool) -> dict[str, Any]:
    out = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
    if with_capacity and _capacity(index.get("ProvisionedThroughput")):
        out["ProvisionedThroughput"] = _capacity(index["ProvisionedThroughput"])
    return out


def billing_mode(table: dict[str, Any]) -> str:
    """PROVISIONED or PAY_PER_REQUEST: the one rule every part of the collection reads a description with.

    DynamoDB leaves BillingModeSummary out of tables that were created provisioned and never switched
    (and some emulators never send it), so no summary means PROVISIONED. An on-demand table always has
    the summary, as it can only be made so by CreateTable or UpdateTable with BillingMode, both of which
    record it. Guessing from a zero read capacity instead would call a provisioned table on-demand.
    """
    return str((table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED")


def schema_of(table: dict[str, Any]) -> dict[str, Any]:
    """The schema of a DescribeTable `Table` in CreateTable's vocabulary; TTL, PITR and tags need calls of
    their own and are left empty here."""
    mode = billing_mode(table)
    return {
        "TableName": table["TableName"],
        "TableArn": table.get("TableArn"),
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": mode,
        "ProvisionedThroughput": _capacity(table.get("ProvisionedThroughput")) if mode == "PROVISIONED" else None,
        "LocalSecondaryIndexes": [_index(i, False) for i in table.get("LocalSecondaryIndexes", [])],
        "GlobalSecondaryIndexes": [_index(i, mode == "PROVISIONED") for i in table.get("GlobalSecondaryIndexes", [])],
        "StreamSpecification": table.get("StreamSpecification"),
        "SSEDescription": table.get("SSEDescription"),
        "TableClass": table.get("TableClassSummary", {}).get("TableClass", "STANDARD"),
        "DeletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled", False)),
        "ItemCount": table.get("ItemCount"),
        "TableSizeBytes": table.get("TableSizeBytes"),
        "TimeToLive": None,
        "PointInTimeRecovery": None,
        "Tags": [],
    }


def capture_schema(ddb: Any, name: str, aas: Any = None) -> dict[str, Any]:
    """Everything needed to recreate the table, in CreateTable's own vocabulary, and its settings beyond
    CreateTable (table_settings.py; `aas`: an Application Auto Scaling client, None: autoscaling not captured)."""
    table = describe_table(ddb, name)
    schema = schema_of(table)
    ttl = _optional(ddb.describe_time_to_live, TableName=name)
    schema["TimeToLive"] = ttl.get("TimeToLiveDescription") if ttl else None
    pitr = _optional(ddb.describe_continuous_backups, TableName=name)
    schema["PointInTimeRecovery"] = (
        pitr["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if pitr else None)
    schema["Tags"] = list_tags(ddb, table["TableArn"]) if table.get("TableArn") else []
    capture_settings(ddb, aas, table, schema)
    return with_original_capacity(schema)


def with_original_capacity(schema: dict[str, Any]) -> dict[str, Any]:
    """A table captured while a backup run has it boosted records the capacity it will go back to."""
    record = parse_record(schema["Tags"], DEFAULT_TAG_KEY)
    if record is None or schema["BillingMode"] != "PROVISIONED":
        return schema
    # What the table had while being read (the backup's rate follows it) is kept beside the original.
    schema["ProvisionedThroughputDuringBackup"] = dict(schema["ProvisionedThroughput"])
    targets = [(None, schema["ProvisionedThroughput"])] + [
        (g["IndexName"], g.get("ProvisionedThroughput")) for g in schema["GlobalSecondaryIndexes"]]
    for key, capacity in targets:
        for name, dimension in record.originals.get(key, {}).items():
            if capacity is not None:
                capacity["ReadCapacityUnits" if name == "read" else "WriteCapacityUnits"] = dimension.units
    with_original_scaling(schema, record.originals)
    schema["CapacityFromRecord"] = record.at
    return schema


def list_tags(ddb: Any, arn: str) -> list[dict[str, str]]:
    """All tags of a table. Errors propagate: the capacity record lives in a tag and must never be missed."""
    return all_items(ddb, "list_tags_of_resource", "Tags", ResourceArn=arn)


def create_table_request(schema: dict[str, Any], target: str, key: TableKey | None = None) -> dict[str, Any]:
    """CreateTable arguments rebuilding the captured table under the name `target` (tags come after), encrypted
    with `key` (table_key.py) when given, else as captured."""
    request: dict[str, Any] = {
        "TableName": target,
        "KeySchema": schema["KeySchema"],
        "AttributeDefinitions": schema["AttributeDefinitions"],
        "BillingMode": schema["BillingMode"],
    }
    if schema["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = schema["ProvisionedThroughput"]
    if schema.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = schema["LocalSecondaryIndexes"]
    if schema.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = schema["GlobalSecondaryIndexes"]
    stream = schema.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        request["StreamSpecification"] = stream
    sse = (key or TableKey(backed_up_key(schema), "as captured")).sse_specification()
    if sse:
        request["SSESpecification"] = sse
    if schema.get("TableClass", "STANDARD") != "STANDARD":
        request["TableClass"] = schema["TableClass"]
    # Deletion protection is not asked here: table_settings.py turns it on last, once the restore is done.
    return request


def restorable_tags(schema: dict[str, Any]) -> list[dict[str, str]]:
    return [t for t in schema.get("Tags", []) if not t["Key"].startswith(OWN_TAG_PREFIX)]


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
