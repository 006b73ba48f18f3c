"""A restore to an increment boundary: a point-in-time full backup, then its incremental exports in order.

The chain: the newest intact point-in-time full backup (the export engine's) at or before `until`, then the
complete increments that carry it forward end to end (increment_windows.chain) to the latest boundary at or
before `until`. The full backup is restored by the usual path (restore_task.restore_into); each increment's files
are checked against its manifest before any of its changes is written, then written as puts and deletes, oldest
increment first. Last, the table is verified against what the sequence implies: its item count and its keys.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import pages
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import RawBatchWrites
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import list_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import chain
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import (
    iter_lines,
    iter_put_requests,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import BackupRef, find_backup
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import (
    BASE_CONSISTENCY,
    INCREMENTAL_FORMAT,
    IncrementRef,
    list_increments,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.batch_writer import BatchWriter
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.increment_changes import (
    Change,
    apply_to_keys,
    key_text,
    net_changes,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RESTORED_FROM_TAG,
    RestoreSettings,
    count_items,
    refuse_damaged,
)

# Marks a table as the finished restore of a full backup and its increments up to a boundary (with RESTORED_FROM_TAG).
RESTORED_TO_TAG = "hippolyte:restored-to"


@dataclass
class IncrementChain:
    """What a restore to `until` applies: `full`, then `increments` (oldest first)."""

    full: BackupRef
    increments: list[IncrementRef]
    until: datetime
    applied: list[dict[str, Any]] = field(default_factory=list)  # per increment: its window, puts and deletes
    expected_items: int | None = None

    def marker(self) -> str:
        """The restored-to tag's value: the full backup's time and the boundary reached (a tag holds 256 characters:
        the full backup's folder is the restored-from tag's)."""
        return f"{folder_name(self.full.taken_at)}..{folder_name(self.reached)}"

    @property
    def reached(self) -> datetime:
        """The boundary the table is restored to: just before this second."""
        return self.increments[-1].window.end if self.increments else self.full.taken_at

    def report(self, store: BackupStore) -> dict[str, Any]:
        applied = {a["window_start"]: a for a in self.applied}
        return {"full_backup": url_under(store.url, self.full.folder),
                "full_backup_time": self.full.taken_at.isoformat(),
                "until": self.until.isoformat(), "restored_to": self.reached.isoformat(),
                "expected_items": self.expected_items,
                "increments": [{"window_start": r.window.start.isoformat(), "window_end": r.window.end.isoformat(),
                                "backup_url": url_under(store.url, r.folder),
                                **{k: v for k, v in applied.get(r.window.start.isoformat(), {}).items()
                                   if k in ("puts", "deletes")}} for r in self.increments]}


def find_chain(store: BackupStore, table: str, region: str, account: str | None, until: datetime, now: datetime,
               own_account: Callable[[], str] | None = None) -> IncrementChain:
    """The full backup and the increments that restore `table` to the latest boundary at or before `until`."""
    full = find_backup(store, table, region, account, until, own_account=own_account, now=now,
                       consistency=BASE_CONSISTENCY)
    refs = [r for r in list_increments(store, full.account, region, table, since=full.taken_at) if r.complete]
    by_window = {r.window: r for r in refs}
    return IncrementChain(full, [by_window[w] for w in chain(list(by_window), full.taken_at, until)], until)


def apply_increments(ddb: Any, store: BackupStore, target: str, found: IncrementChain, settings: RestoreSettings,
                     stop: threading.Event | None = None, write: bool = True) -> None:
    """Write every increment of `found` into `target` (which holds the full backup), then verify the table and mark
    it as this restore's. Without `write`, only the verification (a rerun of a restore already done)."""
    full_doc = _manifest(store, found.full.folder)
    key_names = [k["AttributeName"] for k in full_doc["schema"]["KeySchema"]]
    keys = _full_backup_keys(store, found.full.folder, full_doc, key_names)
    with RawBatchWrites(ddb) as raw:
        for ref in found.increments:
            doc = _manifest(store, ref.folder)
            if doc["data_format"] != INCREMENTAL_FORMAT:
                raise HippolyteError(f"{url_under(store.url, ref.folder)} holds {doc['data_format']!r}, not an "
                                     "incremental export")
            refuse_damaged(store, ref.folder, doc, settings.readers)
            changes = _changes(store, ref.folder, doc)
            if write:
                with BatchWriter(raw.send, target, workers=settings.workers,
                                 stall_timeout_s=settings.stall_timeout_s, stop=stop) as writer:
                    writer.put_requests(change.request() for change in changes)
            apply_to_keys(keys, changes)
            deletes = sum(1 for c in changes if c.new_image is None)
            found.applied.append({"window_start": ref.window.start.isoformat(), "puts": len(changes) - deletes,
                                  "deletes": deletes})
    found.expected_items = len(keys)
    _verify(ddb, target, keys, key_names, settings)
    if write:
        arn = ddb.describe_table(TableName=target)["Table"]["TableArn"]
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": RESTORED_TO_TAG, "Value": found.marker()}])


def already_restored(ddb: Any, target: str, found: IncrementChain) -> bool:
    """Whether `target` is marked as the finished restore of this full backup and these increments."""
    try:
        arn = ddb.describe_table(TableName=target)["Table"]["TableArn"]
    except Exception as exc:
        if is_error(exc, "ResourceNotFoundException"):
            return False
        raise
    tags = {t["Key"]: t["Value"] for t in list_tags(ddb, arn)}
    return tags.get(RESTORED_FROM_TAG) == found.full.folder and tags.get(RESTORED_TO_TAG) == found.marker()


def _manifest(store: BackupStore, folder: str) -> dict[str, Any]:
    key = join(folder, manifest_file.MANIFEST_NAME)
    return manifest_file.loads(store.read_bytes(key), url_under(store.url, key))


def _changes(store: BackupStore, folder: str, doc: dict[str, Any]) -> list[Change]:
    """One increment's changes, one per key, every file read whole (and checked) before any is written."""
    lines = (line for data_file in manifest_file.data_files(doc) for line in iter_lines(store, folder, data_file))
    return list(net_changes(lines).values())


def _full_backup_keys(store: BackupStore, folder: str, doc: dict[str, Any], key_names: list[str]) -> set[str]:
    """The keys the full backup holds (its items' key attributes, in any format a backup is read in), what the
    increments then change."""
    keys: set[str] = set()
    for data_file in manifest_file.data_files(doc):
        for request in iter_put_requests(store, folder, data_file, doc["data_format"]):
            item = json.loads(request)["PutRequest"]["Item"]
            keys.add(key_text({name: item[name] for name in key_names}))
    return keys


def _verify(ddb: Any, target: str, keys: set[str], key_names: list[str], settings: RestoreSettings) -> None:
    """The table holds exactly the keys the full backup and the increments imply (counted, then compared)."""
    counted = count_items(ddb, target, max(1, settings.workers))
    if counted != len(keys):
        raise HippolyteError(f"{target} holds {counted} items after the increments, the backup and its increments "
                             f"imply {len(keys)}")
    names = {f"#k{i}": name for i, name in enumerate(key_names)}
    found = {key_text({name: _as_exported(item[name]) for name in key_names})
             for page in pages(ddb, "scan", TableName=target, ProjectionExpression=", ".join(names),
                               ExpressionAttributeNames=names)
             for item in page.get("Items", [])}
    if found != keys:
        raise HippolyteError(f"{target} holds {len(found - keys)} key(s) the backup and its increments do not imply "
                             f"and lacks {len(keys - found)} they do")


def _as_exported(value: dict[str, Any]) -> dict[str, Any]:
    """A key attribute as boto3 reads it (B as bytes) in the exports' JSON (B as base64 text)."""
    return {kind: base64.b64encode(v).decode() if isinstance(v, bytes) else v for kind, v in value.items()}
