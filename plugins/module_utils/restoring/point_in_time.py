"""Any second back: a restore to a given second through DynamoDB's point-in-time recovery when that second is in
the table's recovery window, else from the newest backup at or before it (restore_task decides, and says why).

RestoreTableToPointInTime carries the data, the key schema, indexes, billing mode and encryption, but not TTL,
tags, autoscaling, point-in-time recovery itself, the resource policy, contributor insights, on-demand and warm
throughput, Kinesis destinations or deletion protection. Those are read from the source table as it is now
(`capture_schema`, the same capture a backup records) and put on the new table the way a load restore puts a
backup's on (`apply_ttl_and_tags`, `apply_table_settings`); what cannot be put there is listed, never dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table, wait_table_active
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb_tables import apply_ttl_and_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreResult,
    RestoreSettings,
    apply_captured_settings,
    count_items,
    not_restored_note,
)

PITR, BACKUP = "point-in-time recovery", "backup"


@dataclass(frozen=True)
class PointInTimeChoice:
    """How a restore to `moment` is made, and why."""

    moment: datetime
    source: str  # PITR or BACKUP
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"moment": self.moment.isoformat(), "source": self.source, "reason": self.reason}


def choose_source(ddb: Any, table: str, moment: datetime, same_place: bool = True) -> PointInTimeChoice:
    """Point-in-time recovery when `moment` is inside `table`'s recovery window (and the new table is in the
    table's own account and region), the newest backup at or before `moment` otherwise."""
    if not same_place:
        return PointInTimeChoice(moment, BACKUP, "the new table is in another account or region than the table's "
                                                 "recovery points (target_connection)")
    try:
        found = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    except Exception as exc:
        if is_error(exc, "ResourceNotFoundException", "TableNotFoundException"):
            return PointInTimeChoice(moment, BACKUP, f"table {table} is gone, and its recovery points with it")
        if is_error(exc, "AccessDeniedException", "UnknownOperationException", "UnrecognizedClientException"):
            return PointInTimeChoice(moment, BACKUP, f"its recovery window cannot be read ({exc})")
        raise
    pitr = found.get("PointInTimeRecoveryDescription") or {}
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        return PointInTimeChoice(moment, BACKUP, f"point-in-time recovery is off on {table}")
    earliest, latest = pitr.get("EarliestRestorableDateTime"), pitr.get("LatestRestorableDateTime")
    if not isinstance(earliest, datetime) or not isinstance(latest, datetime):
        return PointInTimeChoice(moment, BACKUP, f"{table} reports no recovery window")
    # Seconds are what RestoreDateTime carries (botocore sends whole seconds): the window's opening second counts.
    if not earliest.replace(microsecond=0) <= moment <= latest:
        return PointInTimeChoice(moment, BACKUP, f"{moment.isoformat()} is outside {table}'s recovery window "
                                                 f"({earliest.isoformat()} to {latest.isoformat()})")
    return PointInTimeChoice(moment, PITR, f"{moment.isoformat()} is inside {table}'s recovery window "
                                           f"({earliest.isoformat()} to {latest.isoformat()})")


def restore_point_in_time(ddb: Any, table: str, target: str, choice: PointInTimeChoice, settings: RestoreSettings,
                          check_mode: bool = False) -> RestoreResult:
    """`table` as it was at `choice.moment`, into the new table `target`, with the settings PITR does not carry."""
    source = f"{table} at {choice.moment.isoformat()} (point-in-time recovery)"
    try:
        describe_table(ddb, target, "target")
    except InputError:
        pass  # the target does not exist: the one case a point-in-time restore can create it
    else:
        raise InputError("target", f"table {target!r} exists; a point-in-time restore creates its table",
                         "name a new target, or restore from a backup into the empty table")
    if check_mode:
        return RestoreResult(source, target, True, True, 0, 0, None, 0.0, 0,
                             f"would restore {source} into {target}: {choice.reason}")
    started = time.monotonic()
    schema = capture_schema(ddb, table, settings.autoscaling)  # its settings now: PITR restores none of them
    ddb.restore_table_to_point_in_time(SourceTableName=table, TargetTableName=target, RestoreDateTime=choice.moment)
    created = wait_table_active(ddb, target, settings.wait_timeout_s)
    apply_ttl_and_tags(ddb, schema, created)
    not_restored = (apply_captured_settings(ddb, schema, target, settings) if settings.table_settings else None)
    counted = count_items(ddb, target, settings.workers) if settings.verify else None
    msg = (f"restored {source} into {target}" + (f", {counted} item(s) counted" if counted is not None else "")
           + not_restored_note(not_restored))
    return RestoreResult(source, target, True, True, 0, 0, counted, time.monotonic() - started, 0, msg,
                         not_restored=not_restored)
