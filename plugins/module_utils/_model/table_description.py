# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""A table's schema in CreateTable's vocabulary, read from its description, and the CreateTable request
that rebuilds it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import PROVISIONED, billing_mode
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import TableKey, backed_up_key

# Tags of ours (e.g. the capacity record of a boosted table) describe a run, not the table.
OWN_TAG_PREFIX = "hippolyte:"


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
        "ProvisionedThroughput": _capacity(table.get("ProvisionedThroughput")) if mode == PROVISIONED else None,
        "LocalSecondaryIndexes": [_index(i, False) for i in table.get("LocalSecondaryIndexes", [])],
        "GlobalSecondaryIndexes": [_index(i, mode == PROVISIONED) for i in table.get("GlobalSecondaryIndexes", [])],
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


def shape_of(table: dict[str, Any]) -> str:
    """A short fingerprint of what a DescribeTable `Table` says about the table's identity and structure: its ARN
    and creation time (a table deleted and made again is another table), keys and indexes. Equal fingerprints:
    facts read about the table earlier (its tags, TTL, PITR) still belong to it."""
    indexes = [[i["IndexName"], i["KeySchema"], i.get("Projection")]
               for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes") for i in table.get(kind, [])]
    text = json.dumps([table.get("TableArn"), str(table.get("CreationDateTime")), table.get("KeySchema"),
                       sorted(table.get("AttributeDefinitions", []), key=lambda a: str(a["AttributeName"])), indexes],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def create_table_request(schema: dict[str, Any], target: str, key: TableKey | None = None) -> dict[str, Any]:
    """CreateTable arguments rebuilding the captured table under the name `target` (tags come after), encrypted
    with `key` (table_key.py) when given, else as captured."""
    request: dict[str, Any] = {
        "TableName": target,
        "KeySchema": schema["KeySchema"],
        "AttributeDefinitions": schema["AttributeDefinitions"],
        "BillingMode": schema["BillingMode"],
    }
    if schema["BillingMode"] == PROVISIONED:
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
