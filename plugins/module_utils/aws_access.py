"""How the plain Python talks to AWS: botocore paginators, one poller, the table-ACTIVE waiter, ARN parts.

Retries are not here: botocore's adaptive mode, set once on every client (ansible_adapter.aws_client),
retries throttling and transient errors; code here only waits for states to change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError, InputError, is_error

T = TypeVar("T")


class PollTimeout(HippolyteError):
    """A wait gave up: what it waited for did not happen within its timeout."""


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated call, through botocore's own paginator for it."""
    yield from client.get_paginator(operation).paginate(**kwargs)


def all_items(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """The `key` list of every page of a paginated call, concatenated."""
    return [item for page in pages(client, operation, **kwargs) for item in page.get(key, [])]


def poll_until(check: Callable[[], T | None], timeout: float, interval: float, what: str, *,
               max_interval: float | None = None, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call `check` until it returns something other than None, and return that.

    Sleeps `interval` between calls (doubling up to `max_interval` when one is given, for waits that may
    be long), never past the deadline; raises PollTimeout naming `what` once `timeout` seconds have passed.
    """
    deadline = clock() + timeout
    delay = interval
    while True:
        found = check()
        if found is not None:
            return found
        left = deadline - clock()
        if left <= 0:
            raise PollTimeout(f"gave up after {timeout:g} s {what}; raise the wait timeout or run again later")
        sleep(min(delay, left))
        if max_interval is not None:
            delay = min(delay * 2, max_interval)


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


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> Arn | None:
    """The parts of an ARN (`arn:partition:service:region:account:resource`), or None for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


# ------------------------------------------------------------------ naming the failed call

# Request parameters that say what a call is about, in the order they are looked for.
_RESOURCE_PARAMS = ("TableName", "ExportArn", "TableArn", "ResourceArn", "ClusterId", "pipelineId", "ResourceId")
_RESOURCE_KEY = "HippolyteResource"  # put into a failed call's Error, beside Code and Message


def resource_named(params: dict[str, Any]) -> str | None:
    """What a call with these parameters is about, as a message says it ("table orders", "s3://b/k")."""
    if params.get("Bucket"):
        return f"s3://{params['Bucket']}/{params.get('Key') or params.get('Prefix') or ''}"
    for key in _RESOURCE_PARAMS:
        value = params.get(key)
        if not isinstance(value, str) or not value:
            continue
        arn = parse_arn(value)
        if arn is not None:
            return arn.resource.replace("/", " ", 1)
        if key == "TableName":
            return f"table {value}"
        return f"{key.removesuffix('Id').lower()} {value}" if key in ("ClusterId", "pipelineId") else value
    return None


def _note_resource(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_RESOURCE_KEY] = resource_named(params)


def _tag_error(parsed: Any, context: dict[str, Any], **_: Any) -> None:
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and context.get(_RESOURCE_KEY):
        error.setdefault(_RESOURCE_KEY, context[_RESOURCE_KEY])


def name_resources_in_errors(client: Any) -> Any:
    """Make each failed call of `client` carry what it was about, for failed_call_message (returns the client)."""
    client.meta.events.register("before-parameter-build", _note_resource, unique_id="hippolyte-note-resource")
    client.meta.events.register("after-call", _tag_error, unique_id="hippolyte-tag-error")
    return client


def failed_call_message(exc: BaseException) -> str:
    """"DescribeTable on table orders failed": the operation, and the resource where the call named one."""
    operation = getattr(exc, "operation_name", None)
    if not operation:
        return "AWS call failed"
    response = getattr(exc, "response", None)
    resource = response.get("Error", {}).get(_RESOURCE_KEY) if isinstance(response, dict) else None
    return f"{operation} on {resource} failed" if resource else f"{operation} failed"
