# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""A table's settings that CreateTable does not carry: captured beside the schema at backup time, put on a
restored table after its load, and the list of those that were not (`not_restored`), never dropped silently.

Captured into the schema: the resource policy, Application Auto Scaling targets and policies (table and GSIs),
on-demand and warm throughput, contributor insights, Kinesis streaming destinations (PITR, TTL, tags, deletion
protection and encryption are captured by table_capture.py). A call the endpoint does not offer (a local
stand-in) is recorded under `NotCaptured` with the reason, and the restore reports it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import wait_table_active
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import UNSUPPORTED_CALL_CODES, error_code

NOT_CAPTURED = "NotCaptured"  # [{setting, reason}] in a schema; absent in manifests older than this capture
_NAMESPACE = "dynamodb"
T = TypeVar("T")
_TABLE_NAME_CHAR = r"[A-Za-z0-9_.\-]"  # a longer table name continues with one of these: not the same table
_OLD_MANIFEST = ("resource policy, autoscaling, on-demand and warm throughput, contributor insights, "
                 "Kinesis streaming destinations")


# A bare HTTP 500 without an AWS error code is how a stand-in answers an operation it lacks (moto server);
# DynamoDB's own 500s name InternalServerError, which still fails the backup.
_NOT_OFFERED = (*UNSUPPORTED_CALL_CODES, "500")
# A backup role set up before these settings were captured lacks the new read grants: the night goes on and the
# manifest says which grant is missing.
_DENIED = ("AccessDeniedException", "AccessDenied")


def _uncaptured(exc: BaseException) -> str | None:
    """Why a capture call gave nothing, or None for an error that must fail the backup."""
    code, operation = error_code(exc), getattr(exc, "operation_name", "the call")
    if code in _NOT_OFFERED:
        return f"the endpoint does not offer {operation} ({code})"
    if code in _DENIED:
        return f"access denied to {operation} ({code}): grant it to the backup role"
    return None


# ------------------------------------------------------------------ capture

# The capture calls a stand-in may lack. Their bare 500 is final at once: retried (10 attempts with backoff in the
# modules) it would cost a backup minutes per table on such an endpoint for an answer that never changes.
_OPTIONAL_CALLS = ("GetResourcePolicy", "DescribeContributorInsights", "DescribeKinesisStreamingDestination")


def _bare_500_is_final(response: Any = None, operation: Any = None, **_kwargs: Any) -> None:
    """A `needs-retry` handler: raise a bare HTTP 500 (no AWS error code: the operation is not there) instead of
    letting botocore retry it; anything else (DynamoDB's InternalServerError included) is left to the retries."""
    if response is None:
        return
    http, parsed = response
    if getattr(http, "status_code", 0) == 500 and (parsed.get("Error") or {}).get("Code") in (None, "", "500"):
        from botocore.exceptions import ClientError  # imported here: adapters report a missing botocore

        error = {"Code": "500", "Message": (parsed.get("Error") or {}).get("Message", "")}
        raise ClientError({**parsed, "Error": error}, operation.name)


def _answer_optional_calls_once(ddb: Any) -> None:
    for name in _OPTIONAL_CALLS:
        ddb.meta.events.register_first(f"needs-retry.dynamodb.{name}", _bare_500_is_final,
                                       unique_id=f"hippolyte-bare-500-{name}")


# (endpoint, operation) -> None when it answered the call, or the answer saying it does not offer the call. That
# does not change while a run lives, so the next table's capture does not ask again (at real latency every request
# is a round trip). Process-wide: one module run. Until an endpoint's first answer, its other askers wait for it.
_ANSWERS: dict[tuple[str, str], tuple[dict[str, Any], str] | None] = {}
_FIRST_ASKS: dict[tuple[str, str], threading.Lock] = {}
_FIRST_ASKS_LOCK = threading.Lock()


def ask_if_offered(client: Any, operation: str, read: Callable[[], T]) -> T:
    """`read()`, which makes the `operation` call on `client`; when this endpoint already answered that the call is
    not offered, that answer is raised again without asking."""
    key = (f"{client.meta.region_name} {client.meta.endpoint_url}", operation)
    if key not in _ANSWERS:
        with _FIRST_ASKS_LOCK:
            first = _FIRST_ASKS.setdefault(key, threading.Lock())
        with first:
            if key not in _ANSWERS:
                return _first_ask(key, operation, read)
    known = _ANSWERS[key]
    if known is not None:
        from botocore.exceptions import ClientError  # imported here: adapters report a missing botocore

        raise ClientError(*known)
    return read()


def _first_ask(key: tuple[str, str], operation: str, read: Callable[[], T]) -> T:
    try:
        answer = read()
    except Exception as exc:
        not_offered = error_code(exc) in _NOT_OFFERED
        _ANSWERS[key] = (exc.response, getattr(exc, "operation_name", operation)) if not_offered else None  # type: ignore[attr-defined]
        raise
    _ANSWERS[key] = None
    return answer


def capture_settings(ddb: Any, aas: Any, table: dict[str, Any], schema: dict[str, Any],
                     autoscaling: dict[str, Any] | None = None) -> None:
    """Add the settings of the described `table` to its `schema` (in place). `aas`: an Application Auto Scaling
    client of the table's account and region, None when the caller has none (recorded as not captured).
    `autoscaling`: the table's targets and policies as the night's plan listed them (`autoscaling_of`); None: read
    here."""
    missing: list[dict[str, str]] = []
    _answer_optional_calls_once(ddb)
    name = table["TableName"]
    indexes = [g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])]

    def optional(setting: str, client: Any, operation: str, read: Callable[[], Any]) -> Any:
        try:
            return ask_if_offered(client, operation, read)
        except Exception as exc:
            reason = _uncaptured(exc)
            if reason is None:
                raise
            missing.append({"setting": setting, "reason": reason})
            return None

    if schema.get("PointInTimeRecovery") is None:  # table_capture.py asked; None: the endpoint has no such call
        missing.append({"setting": "point-in-time recovery", "reason": "the endpoint does not offer "
                        "DescribeContinuousBackups"})
    schema["ResourcePolicy"] = optional("resource policy", ddb, "GetResourcePolicy",
                                        lambda: _resource_policy(ddb, table.get("TableArn")))
    schema["OnDemandThroughput"] = _per_index(table, "OnDemandThroughput")
    schema["WarmThroughput"] = _per_index(table, "WarmThroughput")
    schema["ContributorInsights"] = optional("contributor insights", ddb, "DescribeContributorInsights",
                                             lambda: _insights(ddb, name, indexes))
    schema["KinesisStreamingDestinations"] = optional(
        "Kinesis streaming destinations", ddb, "DescribeKinesisStreamingDestination",
        lambda: ddb.describe_kinesis_streaming_destination(TableName=name).get("KinesisDataStreamDestinations", []))
    if aas is None:
        schema["Autoscaling"] = None
        missing.append({"setting": "autoscaling", "reason": "no Application Auto Scaling client was given to this "
                        "backup (the local engine reads it with autoscaling: true)"})
    elif autoscaling is not None:
        schema["Autoscaling"] = {kind: [dict(entry) for entry in entries] for kind, entries in autoscaling.items()}
    else:
        schema["Autoscaling"] = optional("autoscaling", aas, "DescribeScalableTargets",
                                         lambda: _autoscaling(aas, name, indexes))
    schema[NOT_CAPTURED] = missing


def _resource_policy(ddb: Any, arn: str | None) -> str | None:
    if not arn:
        return None
    try:
        return str(ddb.get_resource_policy(ResourceArn=arn)["Policy"])
    except Exception as exc:
        if error_code(exc) == "PolicyNotFoundException":
            return None
        raise


def _per_index(table: dict[str, Any], key: str) -> dict[str, Any]:
    """{"table": the table's `key`, "indexes": {gsi: its `key`}}, numbers only (no status)."""
    def numbers(value: dict[str, Any] | None) -> dict[str, int] | None:
        kept = {k: int(v) for k, v in (value or {}).items() if isinstance(v, int) and not isinstance(v, bool)}
        return kept or None

    return {"table": numbers(table.get(key)),
            "indexes": {g["IndexName"]: numbers(g.get(key)) for g in table.get("GlobalSecondaryIndexes", [])
                        if numbers(g.get(key))}}


def _insights(ddb: Any, name: str, indexes: list[str]) -> dict[str, Any]:
    def status(**index: str) -> str:
        return str(ddb.describe_contributor_insights(TableName=name, **index).get("ContributorInsightsStatus",
                                                                                  "DISABLED"))

    return {"table": status(), "indexes": {i: status(IndexName=i) for i in indexes}}


def _autoscaling(aas: Any, name: str, indexes: list[str]) -> dict[str, Any]:
    ids = _resource_ids(name, indexes)
    targets = all_items(aas, "describe_scalable_targets", "ScalableTargets", ServiceNamespace=_NAMESPACE,
                        ResourceIds=ids)
    policies = [p for rid in ids for p in all_items(aas, "describe_scaling_policies", "ScalingPolicies",
                                                    ServiceNamespace=_NAMESPACE, ResourceId=rid)]
    return autoscaling_of(AutoscalingListing(targets, policies), name, indexes)


@dataclass(frozen=True)
class AutoscalingListing:
    """Every DynamoDB scalable target and scaling policy of an account and region, as two listings return them."""

    targets: list[dict[str, Any]]
    policies: list[dict[str, Any]]


def _resource_ids(name: str, indexes: list[str]) -> list[str]:
    return [f"table/{name}"] + [f"table/{name}/index/{i}" for i in indexes]


def autoscaling_of(listing: AutoscalingListing, name: str, indexes: list[str]) -> dict[str, Any]:
    """The table's (and its indexes') scalable targets and policies as a backup records them, in one order whether
    they come from the table's own calls or from the namespace's listing: the table first, then each index."""
    ids = _resource_ids(name, indexes)
    rank = {rid: n for n, rid in enumerate(ids)}
    keep_target = ("ResourceId", "ScalableDimension", "MinCapacity", "MaxCapacity", "SuspendedState")
    keep_policy = ("PolicyName", "ResourceId", "ScalableDimension", "PolicyType",
                   "TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration")
    targets = sorted((t for t in listing.targets if t["ResourceId"] in rank),
                     key=lambda t: (rank[t["ResourceId"]], t["ScalableDimension"]))
    policies = sorted((p for p in listing.policies if p["ResourceId"] in rank), key=lambda p: rank[p["ResourceId"]])
    return {"ScalableTargets": [{k: t[k] for k in keep_target if k in t} for t in targets],
            "ScalingPolicies": [{k: p[k] for k in keep_policy if k in p} for p in policies]}


def with_original_scaling(schema: dict[str, Any], originals: dict[Any, dict[str, Any]]) -> None:
    """A table captured while boosted: its scalable targets' min/max as the capacity record keeps them (the
    boost raised MinCapacity; the restore must rebuild what the table has outside a backup)."""
    targets = (schema.get("Autoscaling") or {}).get("ScalableTargets", [])
    for target in targets:
        parts = target["ResourceId"].split("/")
        key = parts[3] if len(parts) == 4 else None
        dimension = "read" if target["ScalableDimension"].endswith("ReadCapacityUnits") else "write"
        scaling = getattr(originals.get(key, {}).get(dimension), "scaling", None)
        if scaling:
            target["MinCapacity"], target["MaxCapacity"] = scaling


# ------------------------------------------------------------------ ARN rewriting

def rewrite_table_arns(text: str, source_arn: str, target_arn: str) -> str:
    """Every occurrence of `source_arn` (alone or as the head of its index/stream/export sub-ARNs) replaced by
    `target_arn`; another table whose name merely starts with the source's (orders-archive for orders) and
    everything else are left as they are."""
    return re.sub(re.escape(source_arn) + f"(?!{_TABLE_NAME_CHAR})", lambda _m: target_arn, text)


# ------------------------------------------------------------------ restore

@dataclass
class SettingsOutcome:
    restored: list[str] = field(default_factory=list)
    not_restored: list[dict[str, str]] = field(default_factory=list)

    def skip(self, setting: str, reason: str) -> None:
        self.not_restored.append({"setting": setting, "reason": reason})


def apply_table_settings(ddb: Any, aas: Any, schema: dict[str, Any], target: str, timeout_s: float,
                         restore_streaming: bool = False) -> SettingsOutcome:
    """Put the captured settings on `target`, a table this restore created and loaded; returns what was and was
    not restored. Order matters, each step after the load:
    - on-demand maximum and warm throughput: UpdateTable, before the rest so the table is ACTIVE again first;
    - point-in-time recovery: enabled after the load so its first restorable point holds the whole table;
    - contributor insights: after the load, which would otherwise be billed as insight events and swamp the
      source's top keys with the restore's own writes;
    - autoscaling: after the load and after its write boost is put back (a scalable target registered earlier
      would fight the boost, and its policy could scale the table down between batches);
    - Kinesis destinations, only when asked: after the load, so only writes made after the restore flow;
    - the resource policy: after the load, as it may deny the restore's own writes;
    - deletion protection last: until everything else is done, a failed restore can still be deleted.
    A setting DynamoDB refuses (a policy naming principals that do not exist there, an endpoint without the
    call) is reported in `not_restored` with DynamoDB's reason; the data is already loaded and stays.
    """
    outcome = SettingsOutcome()
    if NOT_CAPTURED not in schema:
        outcome.skip(_OLD_MANIFEST, "not captured: the manifest does not record them (a backup older than their "
                     "capture, or adopted from elsewhere)")
    else:
        outcome.not_restored.extend({"setting": m["setting"], "reason": f"not captured at backup time: {m['reason']}"}
                                    for m in schema[NOT_CAPTURED])
    table = wait_table_active(ddb, target, timeout_s)

    def attempt(setting: str, call: Callable[..., Any], **kwargs: Any) -> None:
        try:
            call(**kwargs)
            outcome.restored.append(setting)
        except Exception as exc:
            code = error_code(exc)
            if not code:
                raise
            message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
            outcome.skip(setting, f"{getattr(exc, 'operation_name', 'the call')} refused: {code}"
                         + (f" ({message})" if message else ""))

    for key, label in (("OnDemandThroughput", "on-demand throughput"), ("WarmThroughput", "warm throughput")):
        change = _throughput_update(schema.get(key), table, key)
        if change:
            attempt(label, _update, ddb=ddb, target=target, change=change, timeout_s=timeout_s)
    if schema.get("PointInTimeRecovery") == "ENABLED":
        attempt("point-in-time recovery", ddb.update_continuous_backups, TableName=target,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    insights = schema.get("ContributorInsights") or {}
    for index in ([None] if insights.get("table") in ("ENABLED", "ENABLING") else []) + [
            i for i, s in (insights.get("indexes") or {}).items() if s in ("ENABLED", "ENABLING")]:
        attempt(f"contributor insights ({index or 'table'})", ddb.update_contributor_insights, TableName=target,
                ContributorInsightsAction="ENABLE", **({"IndexName": index} if index else {}))
    _autoscaling_restore(aas, schema.get("Autoscaling"), schema["TableName"], target, outcome, attempt)
    for destination in schema.get("KinesisStreamingDestinations") or []:
        if destination.get("DestinationStatus") not in ("ACTIVE", "ENABLING"):
            continue
        stream = destination["StreamArn"]
        if not restore_streaming:
            outcome.skip(f"Kinesis streaming destination {stream}", "not re-attached: restored writes would flow "
                         "into the source's stream; set restore_streaming: true to re-attach it")
            continue
        attempt(f"Kinesis streaming destination {stream}", ddb.enable_kinesis_streaming_destination,
                TableName=target, StreamArn=stream)
    policy = schema.get("ResourcePolicy")
    if policy:
        source_arn = schema.get("TableArn")
        attempt("resource policy", ddb.put_resource_policy, ResourceArn=table["TableArn"],
                Policy=rewrite_table_arns(policy, source_arn, table["TableArn"]) if source_arn else policy)
    if schema.get("DeletionProtectionEnabled") and not table.get("DeletionProtectionEnabled"):
        attempt("deletion protection", _update, ddb=ddb, target=target, change={"DeletionProtectionEnabled": True},
                timeout_s=timeout_s)
    return outcome


def _update(ddb: Any, target: str, change: dict[str, Any], timeout_s: float) -> None:
    ddb.update_table(TableName=target, **change)
    wait_table_active(ddb, target, timeout_s)


def _throughput_update(captured: dict[str, Any] | None, table: dict[str, Any], key: str) -> dict[str, Any] | None:
    """UpdateTable arguments setting `key` (OnDemandThroughput or WarmThroughput) on the table and its GSIs where
    the new table differs from the capture; None when nothing differs. Warm throughput only rises (DynamoDB
    refuses a decrease): a value below the new table's is already served."""
    if not captured:
        return None

    def wanted(want: dict[str, int] | None, have: dict[str, Any] | None) -> dict[str, int] | None:
        if not want:
            return None
        have = have or {}
        if key == "WarmThroughput":  # both numbers sent, each at least the new table's own
            if not any(v > int(have.get(k) or 0) for k, v in want.items()):
                return None
            return {k: max(v, int(have.get(k) or 0)) for k, v in want.items()}
        return want if any(have.get(k) != v for k, v in want.items()) else None

    change: dict[str, Any] = {}
    own = wanted(captured.get("table"), table.get(key))
    if own:
        change[key] = own
    gsis = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
    updates = [{"Update": {"IndexName": name, key: value}} for name, want in (captured.get("indexes") or {}).items()
               if name in gsis and (value := wanted(want, gsis[name].get(key)))]
    if updates:
        change["GlobalSecondaryIndexUpdates"] = updates
    return change or None


def _autoscaling_restore(aas: Any, captured: dict[str, Any] | None, source: str, target: str,
                         outcome: SettingsOutcome, attempt: Callable[..., None]) -> None:
    """Register each captured scalable target and put each policy, their resource ids renamed to `target`."""
    if not captured or not (captured.get("ScalableTargets") or captured.get("ScalingPolicies")):
        return
    if aas is None:
        outcome.skip("autoscaling", "not asked: set restore_autoscaling: true (it needs "
                     "application-autoscaling:RegisterScalableTarget and PutScalingPolicy, which the restore role "
                     "set up by this collection does not hold)")
        return

    def renamed(resource_id: str) -> str:
        head = f"table/{source}"
        return f"table/{target}{resource_id[len(head):]}" if resource_id.startswith(head) else resource_id

    for t in captured.get("ScalableTargets", []):
        rid = renamed(t["ResourceId"])
        attempt(f"autoscaling target {rid} {t['ScalableDimension']}", aas.register_scalable_target,
                ServiceNamespace=_NAMESPACE, ResourceId=rid, ScalableDimension=t["ScalableDimension"],
                MinCapacity=t["MinCapacity"], MaxCapacity=t["MaxCapacity"],
                **({"SuspendedState": t["SuspendedState"]} if t.get("SuspendedState") else {}))
    for p in captured.get("ScalingPolicies", []):
        rid = renamed(p["ResourceId"])
        attempt(f"scaling policy {p['PolicyName']}", aas.put_scaling_policy,
                **{**p, "ServiceNamespace": _NAMESPACE, "ResourceId": rid})
