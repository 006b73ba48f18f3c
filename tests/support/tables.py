"""Creating and reading test tables on the stand-ins."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

KEY_S = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTR_S = [{"AttributeName": "pk", "AttributeType": "S"}]


def create_table(ddb: Any, name: str, rcu: int | None = 100, wcu: int = 100, **extra: Any) -> None:
    """A table keyed on `pk` (S); provisioned when `rcu` is given, else on demand."""
    args: dict[str, Any] = {"TableName": name, "KeySchema": KEY_S, "AttributeDefinitions": ATTR_S}
    if rcu is None:
        args["BillingMode"] = "PAY_PER_REQUEST"
    else:
        args["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}
    args.update(extra)
    ddb.create_table(**args)
    wait_active(ddb, name)


def wait_active(ddb: Any, name: str) -> None:
    for _attempt in range(200):
        if ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never became ACTIVE")


def table_names(ddb: Any) -> list[str]:
    """Every table of the client's account and region: ListTables answers 100 at most per page, and a stand-in
    shared by many tests holds more."""
    return [name for page in ddb.get_paginator("list_tables").paginate() for name in page["TableNames"]]


def put_items(ddb: Any, name: str, items: Iterable[dict[str, Any]]) -> int:
    batch: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        requests = [{"PutRequest": {"Item": i}} for i in batch]
        while requests:
            left = ddb.batch_write_item(RequestItems={name: requests}).get("UnprocessedItems", {})
            requests = left.get(name, [])

    for item in items:
        batch.append(item)
        count += 1
        if len(batch) == 25:
            flush()
            batch = []
    if batch:
        flush()
    return count


def scan_all(ddb: Any, name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def canonical(items: list[dict[str, Any]]) -> list[str]:
    """Items as sorted canonical JSON (binary as hex), so two tables compare byte for byte."""
    def default(value: Any) -> str:
        if isinstance(value, bytes):
            return value.hex()
        raise TypeError(type(value))

    return sorted(json.dumps(i, sort_keys=True, default=default) for i in items)


def simple_items(count: int, pad: int = 150) -> Iterable[dict[str, Any]]:
    for n in range(count):
        yield {"pk": {"S": f"item-{n:08d}"}, "n": {"N": str(n)}, "pad": {"S": "x" * pad}}
