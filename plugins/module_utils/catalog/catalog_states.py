"""The three things done with a catalog: list it and verify it (backup_info), prune it by a retention policy
(backup_prune)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import is_future
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, LockState
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import (
    CatalogEntry,
    Selection,
    scan_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import BASE_CONSISTENCY
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.verify import verify_entries
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.increment_retention import (
    Series,
    orphaned_increments,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import (
    Backup,
    Decision,
    Policy,
    decide,
)


@dataclass
class CatalogOutcome:
    backups: list[dict[str, Any]]
    changed: bool = False
    damaged: int = 0
    deleted: list[str] = field(default_factory=list)
    diff: list[dict[str, str]] = field(default_factory=list)  # one per table that loses a folder
    refused: dict[str, list[str]] = field(default_factory=dict)  # folder -> files the store would not delete
    locked: dict[str, dict[str, Any]] = field(default_factory=dict)  # folder -> its lock, when retention skipped it
    increments_deleted: list[str] = field(default_factory=list)  # increment folders no kept full backup reaches
    warnings: tuple[str, ...] = ()
    msg: str = ""


def describe(store: BackupStore, entry: CatalogEntry, now: datetime) -> dict[str, Any]:
    """One backup as the module returns it."""
    ref, doc = entry.ref, entry.manifest or {}
    described = {
        "account": ref.account, "region": ref.region, "table": ref.table, "folder": ref.folder,
        "url": url_under(store.url, ref.folder), "taken_at": ref.taken_at.isoformat(),
        "complete": ref.complete, "engine": doc.get("engine"), "data_format": doc.get("data_format"),
        "items": doc.get("item_count"), "bytes": doc.get("byte_count", entry.stored_bytes),
        "age_s": int((now - ref.taken_at).total_seconds()),
        "intact": entry.intact, "origin": entry.origin,
        # A folder dated after now (beyond the clock skew) is an anomaly: never resumed, restored or counted.
        "future_dated": is_future(ref.taken_at, now),
    }
    if entry.manifest_error:
        described["manifest_error"] = entry.manifest_error
    return described


def list_catalog(store: BackupStore, selection: Selection, workers: int, now: datetime | None = None) -> CatalogOutcome:
    now = now or utc_now()
    entries = scan_catalog(store, selection, workers)
    backups = [describe(store, e, now) for e in entries]
    incomplete = sum(1 for e in entries if not e.ref.complete)
    damaged = sum(1 for e in entries if e.ref.complete and not e.intact)
    future = [b["folder"] for b in backups if b["future_dated"]]
    anomalies = f"; {len(future)} dated after now, never trusted: {', '.join(future[:3])}" if future else ""
    return CatalogOutcome(backups, damaged=damaged, msg=f"{len(entries)} backup(s), {incomplete} of them incomplete, "
                          f"{damaged} with a damaged manifest{anomalies}")


def verify_catalog(store: BackupStore, selection: Selection, workers: int,
                   now: datetime | None = None) -> CatalogOutcome:
    now = now or utc_now()
    complete = [e for e in scan_catalog(store, selection, workers) if e.ref.complete]
    backups = []
    for check in verify_entries(store, complete, workers):
        described = describe(store, check.entry, now)
        described.update(status="ok" if check.ok else "damaged", files_checked=check.files,
                         bytes_read=check.bytes_read,
                         damage=[{"file": d.file, "reason": d.reason} for d in check.damage])
        backups.append(described)
    damaged = [b for b in backups if b["status"] == "damaged"]
    first = f"; first: {damaged[0]['damage'][0]['file']}: {damaged[0]['damage'][0]['reason']}" if damaged else ""
    return CatalogOutcome(backups, damaged=len(damaged),
                          msg=f"{len(backups)} complete backup(s) verified, {len(damaged)} damaged{first}")


def prune_catalog(store: BackupStore, selection: Selection, policy: Policy, workers: int, check_mode: bool,
                  now: datetime | None = None) -> CatalogOutcome:
    """Delete what `policy` does not keep (nothing in check mode); the diff shows, per table that loses a folder,
    its backups before and after."""
    now = now or utc_now()
    policy.validate()
    entries = scan_catalog(store, selection, workers)
    by_folder = {e.ref.folder: e for e in entries}
    candidates = [Backup((e.ref.account, e.ref.region, e.ref.table), e.ref.folder, e.ref.taken_at, e.ref.complete,
                         e.last_write, intact=e.intact, imported=e.imported) for e in entries]
    backups, deleted = [], []
    locked: dict[str, dict[str, Any]] = {}
    series: dict[str, list[Decision]] = {}
    for decision in decide(candidates, policy, now):
        described = describe(store, by_folder[decision.backup.folder], now)
        held = _lock_of(store.lock_states(decision.backup.folder), now) if decision.delete else None
        if held:
            # S3 keeps every locked version anyway; deleting would only hide the backup behind delete markers.
            locked[decision.backup.folder] = held
            decision = Decision(decision.backup, False, (*decision.reasons, _lock_reason(held)))
        described.update(action="delete" if decision.delete else "keep", reasons=list(decision.reasons))
        backups.append(described)
        series.setdefault(f"{described['account']}/{described['region']}/{described['table']}", []).append(decision)
        if decision.delete:
            deleted.append(decision.backup.folder)
    orphans = []
    for ref in orphaned_increments(store, _oldest_bases(entries, deleted, now), now,
                                   timedelta(hours=policy.incomplete_grace_hours)):
        held = _lock_of(store.lock_states(ref.folder), now)
        if held:
            locked[ref.folder] = held
        else:
            orphans.append(ref.folder)
    refused: dict[str, list[str]] = {}
    if not check_mode:
        for folder in [*deleted, *orphans]:
            # S3 answers a refused key inside a 200 (a role without s3:DeleteObject): such a folder is not gone.
            left = store.delete_tree(folder)
            if left:
                refused[folder] = [key.removeprefix(f"{folder}/") for key in left]  # relative to the folder
    gone = [f for f in deleted if f not in refused]
    increments_gone = [f for f in orphans if f not in refused]
    verb = "would delete" if check_mode else "deleted"
    msg = f"{verb} {len(gone)} of {len(entries)} backup folder(s)"
    if increments_gone:
        msg += f", and {len(increments_gone)} increment folder(s) no kept full backup carries forward"
    if locked:
        msg += f"; {len(locked)} still locked or under legal hold, left for a later prune (locked)"
    unknown = store.lock_unknown()
    if refused:
        first = next(iter(refused))
        msg += (f"; {len(refused)} folder(s) the store refused to delete (first: {first}/{refused[first][0]}): "
                "give the retention step's role s3:DeleteObject on the destination (docs/security.md)")
    return CatalogOutcome(backups, changed=bool(gone or increments_gone), deleted=gone, refused=refused, locked=locked,
                          increments_deleted=increments_gone, warnings=(unknown,) if unknown else (),
                          diff=[_table_diff(table, decisions) for table, decisions in series.items()
                                if any(d.delete for d in decisions)],
                          msg=msg)


def _oldest_bases(entries: list[CatalogEntry], deleted: list[str], now: datetime) -> dict[Series, datetime | None]:
    """Per series the catalog holds, the time of its oldest intact point-in-time full backup that stays (None: none
    stays): increments older than it are no longer reachable."""
    oldest: dict[Series, datetime | None] = {}
    gone = set(deleted)
    for entry in entries:
        series = (entry.ref.account, entry.ref.region, entry.ref.table)
        base = (entry.intact and entry.ref.folder not in gone and not is_future(entry.ref.taken_at, now)
                and (entry.manifest or {}).get("consistency") == BASE_CONSISTENCY)
        known = oldest.get(series)
        if base and (known is None or entry.ref.taken_at < known):
            oldest[series] = entry.ref.taken_at
        else:
            oldest.setdefault(series, None)
    return oldest


def _lock_of(states: list[LockState], now: datetime) -> dict[str, Any] | None:
    """What still protects a folder from deletion at `now`: its latest retain-until date, whether any object is
    under legal hold, and how many objects are protected; None when nothing is."""
    active = [state for state in states if state.locked_at(now)]
    if not active:
        return None
    dates = [state.retain_until for state in active if state.retain_until is not None and state.retain_until > now]
    return {"retain_until": max(dates).isoformat() if dates else None,
            "legal_hold": any(state.legal_hold for state in active), "objects": len(active)}


def _lock_reason(held: dict[str, Any]) -> str:
    why = [f"locked until {held['retain_until']}"] if held["retain_until"] else []
    why += ["under legal hold"] if held["legal_hold"] else []
    return f"not deleted: {' and '.join(why)} (S3 Object Lock)"


def _table_diff(table: str, decisions: list[Decision]) -> dict[str, str]:
    """One table's backups as Ansible shows a diff: every folder before (with why it goes or stays), the kept
    ones after, so only the removed lines differ."""
    def line(decision: Decision) -> str:
        return f"{decision.backup.folder.rsplit('/', 1)[-1]}  {'; '.join(decision.reasons)}\n"
    return {"before_header": table, "after_header": table,
            "before": "".join(line(d) for d in decisions),
            "after": "".join(line(d) for d in decisions if not d.delete)}
