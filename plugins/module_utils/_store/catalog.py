# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The backup layout `<account>/<region>/<table>/<YYYY-MM-DD-HH-MM-SS>/` and finding backups in it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import (
    folder_name,
    folder_time,
    is_future,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import IMPORT, MANIFEST_NAME, origin_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    check_account_id,
    check_region,
    check_table_name,
    is_valid_account_id,
    is_valid_region,
    is_valid_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    StoredObject,
    join,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under


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
                check_table_name("table", table), folder_name(taken_at))


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
            taken = folder_time(name)
            if taken is None:
                continue  # not a backup folder
            complete = store.exists(join(acct, region, table, name, MANIFEST_NAME))
            refs.append(BackupRef(acct, region, table, taken, complete))
    return sorted(refs, key=lambda r: (r.taken_at, r.account))


def read_manifest(store: BackupStore, ref: BackupRef) -> tuple[dict[str, Any] | None, str | None]:
    """A complete folder's manifest, or None and why it cannot be trusted (unreadable, or its digest fails)."""
    key = join(ref.folder, MANIFEST_NAME)
    try:
        return manifest_file.loads(store.read_bytes(key), url_under(store.url, key)), None
    except (HippolyteError, KeyError, TypeError, ValueError) as exc:
        return None, f"unreadable manifest: {exc}"


def find_backup(store: BackupStore, table: str, region: str, account: str | None = None,
                at: datetime | None = None, own_account: Callable[[], str] | None = None, *,
                now: datetime, named: datetime | None = None, imports: bool = False,
                consistency: str | None = None) -> BackupRef:
    """The newest intact backup of `table` a night took, at or before `at` when given (and of that `consistency`,
    when given: `point-in-time` for a base that incremental exports carry forward).

    Intact: its manifest reads and its own digest holds (a damaged one is skipped, never "the newest").
    A folder dated after `now` (beyond the clock skew) is an anomaly and never chosen. An import is chosen
    only when asked for (`imports`) or named: `named` is the exact time of the folder wanted.
    When no `account` is given and the destination holds backups of the table for several accounts,
    `own_account()` (the account of the caller's credentials, asked only then) chooses among them."""
    refs = [r for r in list_backups(store, table, region, account) if r.complete]
    accounts = {r.account for r in refs}
    if len(accounts) > 1 and own_account is not None:
        account = own_account()
        refs = [r for r in refs if r.account == account]
        if not refs:
            raise InputError("account_id", f"backups of {table!r} in {region} exist for accounts {sorted(accounts)}, "
                             f"none for this host's account {account}", "set account_id to the account to restore")
    elif len(accounts) > 1:
        raise InputError("account_id", f"backups of {table!r} in {region} exist for accounts {sorted(accounts)}",
                         "say which account's backup to restore")
    skipped: list[str] = []
    for ref in reversed(refs):
        if is_future(ref.taken_at, now) or (at is not None and ref.taken_at > at):
            continue
        doc, error = read_manifest(store, ref)
        if doc is None:
            skipped.append(f"{ref.folder} ({error})")
        elif consistency is not None and doc.get("consistency") != consistency:
            continue
        elif origin_of(doc)["kind"] != IMPORT or imports or ref.taken_at == named:
            return ref
    when = (f" at or before {at.isoformat()}" if at else "") + (f" ({consistency})" if consistency else "")
    damaged = f"; skipped as damaged: {'; '.join(skipped)}" if skipped else ""
    raise HippolyteError(f"no intact backup a night took of table {table!r} in {region}{when} under {store.url}"
                         f"{damaged}; list them with backup_info (imports are restored when named by their exact "
                         "time in at, or with imports: true)")


@dataclass(frozen=True)
class Selection:
    """Which backups of a catalog to look at: whole-name table globs, accounts, regions, a time range."""

    tables: Sequence[str] = ("*",)
    accounts: Sequence[str] = ()  # empty: every account
    regions: Sequence[str] = ()  # empty: every region
    since: datetime | None = None
    until: datetime | None = None

    def validate(self) -> None:
        if not self.tables or not all(isinstance(p, str) and p for p in self.tables):
            raise InputError("tables", f"must be a non-empty list of non-empty globs, got {list(self.tables)!r}",
                             'for example ["orders*", "users"], or leave it out for every table')
        for account in self.accounts:
            check_account_id("accounts", account)
        for region in self.regions:
            check_region("regions", region)
        if self.since and self.until and self.since > self.until:
            raise InputError("since", f"{self.since.isoformat()} is after until ({self.until.isoformat()})",
                             "give a time range whose start comes first")

    def takes(self, account: str, region: str, table: str, taken_at: datetime) -> bool:
        return (any(fnmatchcase(table, p) for p in self.tables)
                and (not self.accounts or account in self.accounts)
                and (not self.regions or region in self.regions)
                and (self.since is None or taken_at >= self.since)
                and (self.until is None or taken_at <= self.until))


@dataclass(frozen=True)
class CatalogEntry:
    """One backup folder as the catalog sees it: its files as listed, and its manifest when complete."""

    ref: BackupRef
    objects: tuple[StoredObject, ...]
    manifest: dict[str, Any] | None  # None when incomplete, or when the manifest cannot be read
    manifest_error: str | None = None

    @property
    def intact(self) -> bool:
        """Complete, and its manifest reads and holds its own digest."""
        return self.manifest is not None

    @property
    def origin(self) -> dict[str, Any] | None:
        return origin_of(self.manifest) if self.manifest is not None else None

    @property
    def imported(self) -> bool:
        return self.origin is not None and self.origin["kind"] == IMPORT

    @property
    def last_write(self) -> datetime:
        return max(o.modified for o in self.objects)

    @property
    def stored_bytes(self) -> int:
        return sum(o.size for o in self.objects)


def scan_catalog(store: BackupStore, selection: Selection, workers: int = 8) -> list[CatalogEntry]:
    """Every selected backup under the destination, oldest first, from ONE recursive listing.

    Keys are grouped by backup folder; only the manifests of complete folders are read (in parallel),
    nothing is asked per object. Names read back must be what the layout writes (a 12-digit account,
    a region, a table name DynamoDB accepts, a folder time); anything else is not a backup and is skipped."""
    selection.validate()
    folders: dict[tuple[str, str, str, datetime], list[StoredObject]] = {}
    for obj in store.list_objects(""):
        parts = obj.key.split("/")
        if len(parts) < 5:
            continue  # a file above the backup folders
        account, region, table, name = parts[:4]
        taken = folder_time(name)
        if (taken is None or not is_valid_account_id(account) or not is_valid_region(region)
                or not is_valid_table_name(table) or not selection.takes(account, region, table, taken)):
            continue
        folders.setdefault((account, region, table, taken), []).append(obj)
    refs = []
    for (account, region, table, taken), objects in folders.items():
        manifest_key = join(backup_folder(account, region, table, taken), MANIFEST_NAME)
        complete = any(o.key == manifest_key for o in objects)
        refs.append((BackupRef(account, region, table, taken, complete), tuple(objects)))
    refs.sort(key=lambda r: (r[0].taken_at, r[0].account, r[0].region, r[0].table))

    def entry(item: tuple[BackupRef, tuple[StoredObject, ...]]) -> CatalogEntry:
        ref, objects = item
        if not ref.complete:
            return CatalogEntry(ref, objects, None)
        return CatalogEntry(ref, objects, *read_manifest(store, ref))

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(entry, refs))
