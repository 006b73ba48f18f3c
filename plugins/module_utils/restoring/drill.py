"""The restore drill: restore one table's newest complete backup into a scratch table, compare it, drop it.

One table a night, rotating through the night's tables by the day of the year, so every table is drilled
once every N nights (N tables) without any state to keep. The scratch table is dropped whatever happens,
but only when this drill created it: a table that was there before is never deleted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    SEGMENT_MAX_CHARS,
    check_account_id,
    check_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import TableDiffers
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    inspect_target,
    restore_backup,
)

DELETE_POLL_S = 2.0


def pick_table(tables: list[str], night: datetime) -> str:
    """The table this night drills: the night's day of the year, modulo the number of tables (sorted)."""
    names = sorted(set(tables))
    if not names:
        raise InputError("tables", "no table to drill", "back up at least one table tonight, or name the table")
    return names[night.timetuple().tm_yday % len(names)]


def scratch_name(table: str, night: datetime) -> str:
    """`<table>-drill-<YYYYMMDD>`, the table part shortened so the name stays within DynamoDB's 255."""
    suffix = f"-drill-{night:%Y%m%d}"
    return check_table_name("scratch table", table[:SEGMENT_MAX_CHARS - len(suffix)] + suffix)


@dataclass
class Drill:
    """What the drill did so far; filled in as it goes, so a failure still says which table and backup."""

    table: str
    scratch_table: str
    backup_url: str | None = None
    expected_items: int | None = None
    counted_items: int | None = None
    written_items: int = 0
    scratch_deleted: bool = False
    comparison: dict[str, Any] | None = None  # compare.Comparison.report() of the scratch table
    duration_s: float = 0.0
    changed: bool = False
    msg: str = ""

    def facts(self) -> dict[str, Any]:
        return {"table": self.table, "scratch_table": self.scratch_table, "backup_url": self.backup_url,
                "expected_items": self.expected_items, "counted_items": self.counted_items,
                "written_items": self.written_items, "scratch_deleted": self.scratch_deleted,
                "compare": self.comparison,
                "duration_s": round(self.duration_s, 3)}


@dataclass(frozen=True)
class DrillRequest:
    """backup_drill's options."""

    tables: Sequence[str] = ()  # the night's tables, one drilled by rotation
    table: str | None = None  # this table instead
    night: str | None = None  # ISO time of the night; unset: now
    account_id: str | None = None
    settings: RestoreSettings = field(default_factory=RestoreSettings)

    def validate(self) -> None:
        self.settings.validate()
        for name in self.tables:
            check_table_name("tables", name)
        if self.table:
            check_table_name("table", self.table)
        if self.account_id:
            check_account_id("account_id", self.account_id)


def drill_request(request: DrillRequest, now: datetime | None = None) -> Drill:
    """The drill of this night, checked before any call: which table, into which scratch table."""
    request.validate()
    night = parse_instant(request.night, "night") if request.night else (now or utc_now())
    table = request.table or pick_table(list(request.tables), night)
    return Drill(table=table, scratch_table=scratch_name(table, night))


def run_drill(drill: Drill, ddb: Any, store: BackupStore, region: str, account: str | None,
              settings: RestoreSettings, check_mode: bool = False, stop: threading.Event | None = None) -> Drill:
    """Restore, count against the manifest and compare item by item (restore_backup fails on a difference,
    naming the first keys), drop the scratch table."""
    clock = time.monotonic()
    ref = find_backup(store, drill.table, region, account, now=utc_now())
    drill.backup_url = url_under(store.url, ref.folder)
    if inspect_target(ddb, drill.scratch_table).exists:
        raise InputError("scratch table", f"table {drill.scratch_table!r} already exists, and a drill deletes only "
                         "the scratch table it created", "delete it (a leftover of an earlier drill) or drill "
                         "another night")
    created = False
    try:
        # The drill proves the data restores; the table's settings (PITR, resource policy, autoscaling...) would
        # only be billed and need grants on a scratch table deleted minutes later.
        result = restore_backup(ddb, store, ref.folder, drill.scratch_table,
                                replace(settings, compare=True, table_settings=False), check_mode=check_mode, stop=stop)
        created = result.created and not check_mode
        drill.expected_items, drill.counted_items = result.expected_items, result.counted_items
        drill.written_items = result.written_items
        drill.changed, drill.comparison = result.changed, result.comparison
    except TableDiffers as exc:
        drill.comparison, created = exc.comparison.report(), True
        raise
    except BaseException:
        created = created or (not check_mode and inspect_target(ddb, drill.scratch_table).exists)
        raise
    finally:
        if created:
            drop_table(ddb, drill.scratch_table, settings.wait_timeout_s)
            drill.scratch_deleted = True
        drill.duration_s = time.monotonic() - clock
    verb = "would restore" if check_mode else "restored"
    drill.msg = (f"{verb} {drill.table} from {drill.backup_url} into {drill.scratch_table}: "
                 f"{drill.counted_items if drill.counted_items is not None else drill.expected_items} of "
                 f"{drill.expected_items} items" + (", equal item for item" if drill.comparison else "")
                 + ("; scratch table deleted" if drill.scratch_deleted else ""))
    return drill


def drop_table(ddb: Any, name: str, timeout_s: float) -> None:
    """Delete a table (its deletion protection, restored from the backup, turned off first) and wait until gone."""
    table = ddb.describe_table(TableName=name)["Table"]
    if table.get("DeletionProtectionEnabled"):
        ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
            if status == "ACTIVE":
                ddb.delete_table(TableName=name)
                continue  # a stand-in deletes at once: look again before waiting
        except Exception as exc:
            if is_error(exc, "ResourceNotFoundException"):
                return
            if not is_error(exc, "ResourceInUseException"):
                raise
        if time.monotonic() > deadline:
            raise HippolyteError(f"scratch table {name} is not deleted after {timeout_s:.0f} s: delete it yourself")
        time.sleep(DELETE_POLL_S)
