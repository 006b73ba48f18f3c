"""Which incremental exports a run asks for, per table, from what the destination already holds.

A table's increments carry its newest point-in-time full backup (the export engine's) forward: the first window
starts at that backup's time, each next one where the last one asked for ended (finished or not: the folder names
its window), one every `every`, up to the latest time DynamoDB can export. Windows asked for earlier and not
finished are picked up (their export found by ListExports, or the same ClientToken). Read calls only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import (
    Window,
    chain,
    next_windows,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import account_of, check_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import (
    BASE_CONSISTENCY,
    increment_folder,
    list_increments,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.native_export import (
    TableExport,
    restorable_span,
)


@dataclass
class TableIncrements:
    """One table's increments in a run."""

    table: str
    base: datetime | None  # the newest point-in-time full backup's time
    plans: list[TableExport] = field(default_factory=list)  # windows picked up, then new ones
    finished: list[Window] = field(default_factory=list)  # windows already complete before this run
    skipped: str | None = None  # why no window could be asked for
    gap: str | None = None  # why the chain starts later than it should

    def newest_point(self) -> datetime | None:
        """The newest time the table can be restored to: the end of the chain from its base, else the base."""
        if self.base is None:
            return None
        done = self.finished + [p.window for p in self.plans if p.window and p.manifest is not None]
        links = chain(done, self.base, datetime.max.replace(tzinfo=self.base.tzinfo))
        return links[-1].end if links else self.base

    def view(self, now: datetime) -> dict[str, Any]:
        point = self.newest_point()
        return {"table": self.table, "full_backup_time": self.base.isoformat() if self.base else None,
                "newest_point": point.isoformat() if point else None,
                "age_s": int((now - point).total_seconds()) if point else None,
                "skipped": self.skipped, "gap": self.gap}


def plan_increments(ddb: Any, store: BackupStore, tables: list[str], region: str, every: timedelta, limit: int,
                    account_id: str | None, now: datetime) -> list[TableIncrements]:
    """Every table checked (it exists, PITR is on) before anything is asked; the windows to export for each."""
    if not tables:
        raise InputError("tables", "is empty", "name at least one table")
    if len(set(tables)) != len(tables):
        raise InputError("tables", "names a table twice", "list each table once")
    if limit < 1:
        raise InputError("max_windows", f"must be at least 1, got {limit}", "use 96 (a day of 15-minute windows)")
    return [_plan_table(ddb, store, check_table_name("tables", name), region, every, limit, account_id, now)
            for name in tables]


def _plan_table(ddb: Any, store: BackupStore, name: str, region: str, every: timedelta, limit: int,
                account_id: str | None, now: datetime) -> TableIncrements:
    describe_table(ddb, name, field="tables")
    earliest, latest = restorable_span(ddb, name)
    schema = capture_schema(ddb, name)
    account = account_of(schema.get("TableArn"), account_id)
    try:
        base = find_backup(store, name, region, account, now=now, consistency=BASE_CONSISTENCY).taken_at
    except HippolyteError:
        return TableIncrements(name, None, skipped="no intact point-in-time full backup yet (the export engine "
                               "makes one): increments carry a full backup forward, so none is asked for")
    refs = list_increments(store, account, region, name, since=base)
    found = TableIncrements(name, base, finished=[r.window for r in refs if r.complete])

    def plan(window: Window) -> TableExport:
        folder = increment_folder(account, region, name, window)
        return TableExport(table=name, folder=folder, backup_url=url_under(store.url, folder), schema=schema,
                           account=account, region=region, export_time=window.end, window=window)

    found.plans = [plan(r.window) for r in refs if not r.complete]
    start = max([base] + [r.window.end for r in refs])
    # PITR forgot that time: the chain restarts where it can (to the second, as the full export's time is checked)
    if earliest is not None and start < earliest.replace(microsecond=0):
        found.gap = (f"{start.isoformat()} is before the table's earliest restorable time {earliest.isoformat()}: "
                     "points between them cannot be restored until the next full backup")
        start = (earliest + timedelta(seconds=1)).replace(microsecond=0)
    until = min(now, latest) if latest is not None else now
    found.plans += [plan(window) for window in next_windows(start, every, until, limit)]
    return found
