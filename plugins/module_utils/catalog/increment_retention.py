"""Retention of incremental exports: the increments no kept full backup can carry forward any more.

An increment chain starts at its point-in-time full backup's time (backup_increment), and a restore applies the
increments after a full backup at or before their window (restoring/increment_restore.py). Once retention has
deleted the full backups a window started after, no restore can reach it: it is only paid-for storage. Retention
of the full backups decides; the increments follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import (
    IncrementRef,
    list_increments,
)

Series = tuple[str, str, str]  # account, region, table


def orphaned_increments(store: BackupStore, oldest_base: Mapping[Series, datetime | None], now: datetime,
                        grace: timedelta) -> list[IncrementRef]:
    """The increment folders of each series whose window starts before its oldest kept point-in-time full backup
    (every folder, when none is kept), oldest first. A folder without its manifest whose window ended less than
    `grace` ago may still be written by its export: it is left for a later prune."""
    found = []
    for (account, region, table), oldest in sorted(oldest_base.items()):
        found += [ref for ref in list_increments(store, account, region, table, before=oldest)
                  if ref.complete or now - ref.window.end >= grace]
    return found
