# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Where a table's incremental exports are kept, beside its backups, and finding them there.

    <account>/<region>/<table>/increments/<from YYYY-MM-DD-HH-MM-SS>_<to YYYY-MM-DD-HH-MM-SS>/
        data/AWSDynamoDB/<ExportId>/...   what DynamoDB writes (manifest-summary.json, manifest-files.json, data/)
        hippolyte-manifest.json           written last, once the export completed and its files checked

The window is in the folder's name, so a run knows the windows already asked for before any of them finished.
`increments` is no backup folder time: the catalog of full backups (catalog.py) never lists these folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_name, folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import Window
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    check_account_id,
    check_region,
    check_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join

INCREMENTS = "increments"
INCREMENTAL_FORMAT = "native-export-incremental"  # an increment manifest's data format: changes, not items
BASE_CONSISTENCY = "point-in-time"  # the full backups increments carry forward (a scan's time is no instant)


@dataclass(frozen=True)
class IncrementRef:
    account: str
    region: str
    table: str
    window: Window
    complete: bool  # its manifest is written

    @property
    def folder(self) -> str:
        return increment_folder(self.account, self.region, self.table, self.window)


def increment_folder(account: str, region: str, table: str, window: Window) -> str:
    """The folder of one window's export, relative to the destination; every name checked so it stays there."""
    return join(check_account_id("account_id", account), check_region("region", region),
                check_table_name("table", table), INCREMENTS,
                f"{folder_name(window.start)}_{folder_name(window.end)}")


def window_of(name: str) -> Window | None:
    """The window an increment folder is named after, or None when `name` is not one."""
    start_text, sep, end_text = name.partition("_")
    start, end = folder_time(start_text), folder_time(end_text) if sep else None
    return Window(start, end) if start and end and start < end else None


def list_increments(store: BackupStore, account: str, region: str, table: str,
                    since: datetime | None = None, before: datetime | None = None) -> list[IncrementRef]:
    """The increment folders of a table whose window ends after `since` and starts before `before` (all when None),
    oldest window first, each marked complete when its manifest exists (one question per folder: hence the
    bounds, a full backup's time)."""
    root = join(check_account_id("account_id", account), check_region("region", region),
                check_table_name("table", table), INCREMENTS)
    refs = []
    for name in store.list_children(root):
        window = window_of(name)
        if window is not None and (since is None or window.end > since) and (before is None or window.start < before):
            refs.append(IncrementRef(account, region, table, window,
                                     store.exists(join(root, name, MANIFEST_NAME))))
    return sorted(refs, key=lambda r: r.window)
