"""The backup layout `<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/` and finding backups in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.names import (
    check_account_id,
    check_region,
    check_table_name,
    is_valid_account_id,
)

FOLDER_FORMAT = "%Y-%m-%d-%H-%M-%S"


@dataclass(frozen=True)
class BackupRef:
    account: str
    region: str
    table: str
    taken_at: datetime  # UTC
    complete: bool

    @property
    def folder(self) -> str:
        return backup_folder(self.account, self.region, self.table, self.taken_at)


def backup_folder(account: str, region: str, table: str, taken_at: datetime) -> str:
    """The folder of one backup, relative to the destination; every name is checked so it stays there."""
    return join(check_account_id("account_id", account), check_region("region", region),
                check_table_name("table", table), taken_at.astimezone(UTC).strftime(FOLDER_FORMAT))


def parse_time(text: str, field: str = "at") -> datetime:
    """A user's point in time: a date (end of that day), ISO 8601, or a backup folder name; UTC if no zone."""
    for fmt in (FOLDER_FORMAT, "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt).replace(tzinfo=UTC)
            return parsed.replace(hour=23, minute=59, second=59) if fmt == "%Y-%m-%d" else parsed
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(field, f"{text!r} is not a time", "use 2026-11-20, 2026-11-20T06:30:00Z or "
                         "a backup folder name like 2026-11-20-06-30-00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_backups(store: BackupStore, table: str, region: str, account: str | None = None) -> list[BackupRef]:
    """Every backup folder of a table, oldest first, each marked complete when its manifest exists.

    Folder names read back from the listing are only joined when they are what the layout puts
    there (a 12-digit account, a folder time); anything else is not a backup and is skipped."""
    check_table_name("table", table)
    check_region("region", region)
    if account:
        check_account_id("account_id", account)
    accounts = [account] if account else [a for a in store.list_children("") if is_valid_account_id(a)
                                          and table in store.list_children(join(a, region))]
    refs = []
    for acct in accounts:
        for name in store.list_children(join(acct, region, table)):
            try:
                taken = datetime.strptime(name, FOLDER_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                continue  # not a backup folder
            if taken.strftime(FOLDER_FORMAT) != name:
                continue  # parses (strptime takes unpadded fields) but is not the folder the layout names
            complete = store.exists(join(acct, region, table, name, MANIFEST_NAME))
            refs.append(BackupRef(acct, region, table, taken, complete))
    return sorted(refs, key=lambda r: (r.taken_at, r.account))


def find_backup(store: BackupStore, table: str, region: str, account: str | None = None,
                at: datetime | None = None) -> BackupRef:
    """The newest complete backup of `table`, at or before `at` when given."""
    refs = [r for r in list_backups(store, table, region, account) if r.complete]
    accounts = {r.account for r in refs}
    if len(accounts) > 1:
        raise InputError("account_id", f"backups of {table!r} in {region} exist for accounts {sorted(accounts)}",
                         "say which account's backup to restore")
    if at is not None:
        refs = [r for r in refs if r.taken_at <= at]
    if not refs:
        when = f" at or before {at.isoformat()}" if at else ""
        raise HippolyteError(f"no complete backup of table {table!r} in {region}{when} under {store.url}; "
                             "list them with the catalog or check the destination, region and table name")
    return refs[-1]
