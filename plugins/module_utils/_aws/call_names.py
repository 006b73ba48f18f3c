# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Naming the failed call: each failed AWS call carries what it was about, for its error message."""

from __future__ import annotations

from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import parse_arn

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
