# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""A table's full schema as captured at backup time (the CreateTable request that rebuilds it:
table_description.py).

Captured: keys, attribute definitions, LSIs, GSIs with projections and capacities, billing mode,
capacities, TTL, streams, SSE, table class, deletion protection, tags, PITR status, and the settings
table_settings.py captures (resource policy, autoscaling, on-demand and warm throughput, contributor insights,
Kinesis streaming destinations). Calls that an
endpoint does not offer (UnknownOperationException, e.g. a local emulator) are recorded as
unavailable rather than failing the backup; any other error fails it.
"""

from __future__ import annotations

from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import (
    ask_if_offered,
    capture_settings,
    with_original_scaling,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import UNSUPPORTED_CALL_CODES, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import (
    DEFAULT_TAG_KEY,
    parse_record,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import (
    OWN_TAG_PREFIX,
    schema_of,
    shape_of,
)


def _optional(ddb: Any, operation: str, call: Any, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return cast("dict[str, Any]", ask_if_offered(ddb, operation, lambda: call(**kwargs)))
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return None
        raise


def capture_schema(ddb: Any, name: str, aas: Any = None, table: dict[str, Any] | None = None,
                   known: TableFacts | None = None) -> dict[str, Any]:
    """Everything needed to recreate the table, in CreateTable's own vocabulary, and its settings beyond
    CreateTable (table_settings.py; `aas`: an Application Auto Scaling client, None: autoscaling not captured).
    `table`: the table's description when the caller has just read it (one DescribeTable per backup), else read
    here. `known`: its tags, TTL, PITR status and autoscaling as the night's plan read them, used when `table` still
    has the shape they were read with; tags of ours among them (a capacity record, which reconcile may have removed
    since) are read again, and so is its autoscaling."""
    table = table if table is not None else describe_table(ddb, name)
    schema = schema_of(table)
    autoscaling = None
    if known is not None and known.shape == shape_of(table):
        schema["TimeToLive"] = None if known.time_to_live is None else dict(known.time_to_live)
        schema["PointInTimeRecovery"] = known.point_in_time_recovery
        ours = any(key.startswith(OWN_TAG_PREFIX) for key, _value in known.tags)
        schema["Tags"] = known.tag_list() if not ours else _tags(ddb, table)
        autoscaling = None if ours else known.autoscaling  # a run's boost may have moved its scalable targets
    else:
        ttl = _optional(ddb, "DescribeTimeToLive", ddb.describe_time_to_live, TableName=name)
        schema["TimeToLive"] = ttl.get("TimeToLiveDescription") if ttl else None
        pitr = _optional(ddb, "DescribeContinuousBackups", ddb.describe_continuous_backups, TableName=name)
        schema["PointInTimeRecovery"] = (
            pitr["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
            .get("PointInTimeRecoveryStatus") if pitr else None)
        schema["Tags"] = _tags(ddb, table)
    capture_settings(ddb, aas, table, schema, autoscaling)
    return with_original_capacity(schema)


def _tags(ddb: Any, table: dict[str, Any]) -> list[dict[str, str]]:
    return list_tags(ddb, table["TableArn"]) if table.get("TableArn") else []


def with_original_capacity(schema: dict[str, Any]) -> dict[str, Any]:
    """A table captured while a backup run has it boosted records the capacity it will go back to."""
    record = parse_record(schema["Tags"], DEFAULT_TAG_KEY)
    if record is None or schema["BillingMode"] != PROVISIONED:
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
