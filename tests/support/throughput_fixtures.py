"""Tables with known capacity for the throughput tests, created on a running stand-in."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import REGION, client


def create_table(url: str, name: str, read: int = 5, write: int = 5, gsis: dict[str, tuple[int, int]] | None = None,
                 on_demand: bool = False) -> dict[str, Any]:
    """Create a table (optionally with GSIs of given (read, write)) and return its description once ACTIVE."""
    ddb = client("dynamodb", url)
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    request: dict[str, Any] = {"TableName": name, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    if on_demand:
        request["BillingMode"] = "PAY_PER_REQUEST"
    else:
        request["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": write}
    if gsis:
        request["GlobalSecondaryIndexes"] = []
        for index, (r, w) in gsis.items():
            attributes.append({"AttributeName": f"{index}_key", "AttributeType": "S"})
            key = [{"AttributeName": f"{index}_key", "KeyType": "HASH"}]
            spec: dict[str, Any] = {"IndexName": index, "KeySchema": key, "Projection": {"ProjectionType": "KEYS_ONLY"}}
            if not on_demand:
                spec["ProvisionedThroughput"] = {"ReadCapacityUnits": r, "WriteCapacityUnits": w}
            request["GlobalSecondaryIndexes"].append(spec)
    ddb.create_table(AttributeDefinitions=attributes, **request)
    return wait_active(url, name)


def wait_active(url: str, name: str, timeout: float = 30.0) -> dict[str, Any]:
    ddb = client("dynamodb", url)
    deadline = time.monotonic() + timeout
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE" and all(i.get("IndexStatus", "ACTIVE") == "ACTIVE"
                                                    for i in table.get("GlobalSecondaryIndexes", [])):
            return table
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} not ACTIVE after {timeout}s")
        time.sleep(0.1)


def capacity(url: str, name: str) -> dict[str | None, tuple[int, int]]:
    """{None: (table read, write), index: (read, write)} as DynamoDB reports it now."""
    table = client("dynamodb", url).describe_table(TableName=name)["Table"]
    pt = table["ProvisionedThroughput"]
    out: dict[str | None, tuple[int, int]] = {None: (pt["ReadCapacityUnits"], pt["WriteCapacityUnits"])}
    for index in table.get("GlobalSecondaryIndexes", []):
        pt = index.get("ProvisionedThroughput", {})
        out[index["IndexName"]] = (pt.get("ReadCapacityUnits", 0), pt.get("WriteCapacityUnits", 0))
    return out


def tags(url: str, name: str) -> dict[str, str]:
    ddb = client("dynamodb", url)
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def register_scaling(url: str, table: str, index: str | None, dimension: str, low: int, high: int) -> None:
    resource = f"table/{table}" if index is None else f"table/{table}/index/{index}"
    kind = "table" if index is None else "index"
    client("application-autoscaling", url).register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=resource,
        ScalableDimension=f"dynamodb:{kind}:{dimension.capitalize()}CapacityUnits", MinCapacity=low, MaxCapacity=high)


def scaling(url: str, table: str) -> dict[tuple[str, str], tuple[int, int]]:
    """{(resource id, dimension): (min, max)} of the table's scalable targets."""
    targets = client("application-autoscaling", url).describe_scalable_targets(ServiceNamespace="dynamodb")
    return {(t["ResourceId"], t["ScalableDimension"]): (t["MinCapacity"], t["MaxCapacity"])
            for t in targets["ScalableTargets"] if t["ResourceId"].split("/")[1] == table}


def aws_args(url: str, **extra: Any) -> dict[str, Any]:
    return {"endpoint_url": url, "region": REGION, "access_key": "testing", "secret_key": "testing", **extra}
