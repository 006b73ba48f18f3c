"""Undo an accidental delete: put back into a live table the items a backup holds and the table lost.

The table is compared with the backup first (compare.table_differences: the backup's keys and digests, then one
parallel Scan of the table), so a dry run (check mode) says exactly what a run would write. A run then streams
the backup again and writes only the selected items:

- a missing item goes back with a conditional PutItem (`attribute_not_exists` on the partition key), so an item
  the application wrote meanwhile is never overwritten: it is counted as `appeared` and left as it is;
- an item that exists but differs is listed, and overwritten only with `overwrite_changed` (DynamoDB keeps no
  write time, so the table's version may be newer than the backup's);
- items outside `key_prefix` (of the partition key) or `keys` are left alone.

Writes are held to `write_units_per_second` (each item's units: one per started KB), by a token bucket shared by
the writers. The backup's files are checked against the manifest as they stream (backup_reader).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_at
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import from_json_item
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import iter_put_requests
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup, read_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import (
    FIRST_KEYS,
    backup_key_names,
    check_same_key,
    key_bytes,
    table_differences,
)

WRITE_UNIT_BYTES = 1024  # a standard write unit covers an item of up to 1 KB
WRITES_IN_FLIGHT = 64  # items handed to the writers at a time: the backup streams, it is never held


@dataclass(frozen=True)
class UndeleteRequest:
    table: str  # the live table the items go back into
    write_units_per_second: float
    overwrite_changed: bool = False
    key_prefix: str | None = None  # only items whose partition key (a string) starts with this
    keys: tuple[dict[str, Any], ...] = ()  # only these keys, in DynamoDB JSON ({"pk": {"S": "a"}})
    workers: int = 4
    segments: int = 8

    def validate(self) -> None:
        if self.write_units_per_second <= 0:
            raise InputError("write_units_per_second", f"must be above 0, got {self.write_units_per_second}",
                             "give the write units per second the live table can spare, e.g. 100")
        if self.workers < 1 or self.segments < 1:
            raise InputError("workers", "workers and segments must be at least 1", "use 1 to 64")
        for index, key in enumerate(self.keys):
            if not isinstance(key, dict) or not key or not all(
                    isinstance(v, dict) and len(v) == 1 for v in key.values()):
                raise InputError(f"keys[{index}]", f"is {key!r}, not a key in DynamoDB JSON",
                                 'write each key with its types, e.g. {"pk": {"S": "order-1"}}')


@dataclass
class UndeleteOutcome:
    missing: int = 0  # selected items the backup holds and the table does not
    differing: int = 0  # selected items both hold, with other values
    written: int = 0  # missing items put back
    overwritten: int = 0  # changed items overwritten (overwrite_changed)
    appeared: int = 0  # missing items the application wrote back meanwhile: left as they are
    write_units: float = 0.0
    missing_keys: list[dict[str, Any]] = field(default_factory=list)
    differing_keys: list[dict[str, Any]] = field(default_factory=list)
    compare: dict[str, Any] = field(default_factory=dict)  # the whole comparison, every difference counted

    def to_result(self) -> dict[str, Any]:
        return {"missing": self.missing, "differing": self.differing, "written": self.written,
                "overwritten": self.overwritten, "appeared": self.appeared, "write_units": round(self.write_units, 1),
                "missing_keys": self.missing_keys, "differing_keys": self.differing_keys, "compare": self.compare}


def undelete_items(ddb: Any, store: BackupStore, folder: str, doc: dict[str, Any], request: UndeleteRequest,
                   check_mode: bool = False, stop: threading.Event | None = None,
                   bucket: Callable[[float], TokenBucket] = TokenBucket) -> UndeleteOutcome:
    """Compare, then (unless `check_mode`) write back the selected missing items, and the changed ones if asked."""
    request.validate()
    check_same_key(describe_table(ddb, request.table), doc["schema"], "table")
    names = backup_key_names(doc)
    wanted = _selector(request, names)
    found = table_differences(ddb, store, folder, doc, request.table, request.segments, request.workers, stop)
    missing = {k for k in found.missing if wanted(k)}
    changed = {k for k in found.changed if wanted(k)}
    outcome = UndeleteOutcome(missing=len(missing), differing=len(changed), compare=found.comparison.report(),
                              missing_keys=_first(missing, names), differing_keys=_first(changed, names))
    to_write = missing | changed if request.overwrite_changed else missing
    if check_mode or not to_write:
        return outcome
    limiter = bucket(request.write_units_per_second)
    lock = threading.Lock()

    def put(entry: tuple[bytes, bytes]) -> None:
        key, line = entry
        item = json.loads(line)["PutRequest"]["Item"]
        units = max(1, math.ceil(len(line) / WRITE_UNIT_BYTES))
        limiter.wait(stop)
        limiter.pay(units)
        kwargs: dict[str, Any] = {"TableName": request.table, "Item": from_json_item(item)}
        if key in missing:  # put back only while it is still gone
            kwargs.update(ConditionExpression="attribute_not_exists(#pk)", ExpressionAttributeNames={"#pk": names[0]})
        try:
            ddb.put_item(**kwargs)
        except Exception as exc:
            if is_error(exc, "ConditionalCheckFailedException"):
                with lock:
                    outcome.appeared += 1
                return
            raise
        with lock:
            outcome.write_units += units
            if key in missing:
                outcome.written += 1
            else:
                outcome.overwritten += 1

    with ThreadPoolExecutor(request.workers) as pool:
        batch: list[tuple[bytes, bytes]] = []
        for entry in _backup_items(store, folder, doc, names, to_write, stop):
            batch.append(entry)
            if len(batch) == WRITES_IN_FLIGHT:
                list(pool.map(put, batch))
                batch = []
        list(pool.map(put, batch))
    return outcome


def _backup_items(store: BackupStore, folder: str, doc: dict[str, Any], names: list[str], keys: set[bytes],
                  stop: threading.Event | None) -> Iterator[tuple[bytes, bytes]]:
    """(key, PutRequest line) of each backup item whose key is in `keys`, once per key."""
    left = set(keys)
    for data_file in manifest_file.data_files(doc):
        for line in iter_put_requests(store, folder, data_file, doc["data_format"]):
            raise_if_stopped(stop)
            key = key_bytes(json.loads(line)["PutRequest"]["Item"], names)
            if key in left:
                left.discard(key)
                yield key, line


def _selector(request: UndeleteRequest, names: list[str]) -> Callable[[bytes], bool]:
    """Whether a canonical key is one the request puts back."""
    for index, key in enumerate(request.keys):
        if set(key) != set(names):
            raise InputError(f"keys[{index}]", f"names {sorted(key)}, the table's key is {names}",
                             "give every key attribute, and only those")
    chosen = {key_bytes(k, names) for k in request.keys} if request.keys else None
    prefix = request.key_prefix

    def wanted(key: bytes) -> bool:
        if chosen is not None and key not in chosen:
            return False
        if prefix is None:
            return True
        partition = json.loads(key)[0]
        return isinstance(partition.get("S"), str) and partition["S"].startswith(prefix)

    return wanted


def _first(keys: set[bytes], names: list[str]) -> list[dict[str, Any]]:
    return [dict(zip(names, json.loads(k), strict=True)) for k in sorted(keys)[:FIRST_KEYS]]


def undelete_answer(ddb: Any, store: BackupStore, region: str, request: UndeleteRequest, *, source_table: str | None,
                    account: str | None, at: str | None, own_account: Callable[[], str] | None = None,
                    check_mode: bool = False, stop: threading.Event | None = None,
                    now: Callable[[], datetime] = utc_now) -> dict[str, Any]:
    """The module's whole job: the newest intact backup of `source_table` (the table itself by default) at or before
    `at`, compared with the live table, then its selected items put back; the module's result."""
    request.validate()
    describe_table(ddb, request.table)  # a live table that is not there is the news, before any backup is looked for
    moment = now()
    latest = parse_at(at, moment) if at else None
    ref = find_backup(store, source_table or request.table, region, account, latest, own_account, now=moment)
    doc, error = read_manifest(store, ref)
    if doc is None:
        raise HippolyteError(f"the backup {ref.folder} cannot be read: {error}")
    outcome = undelete_items(ddb, store, ref.folder, doc, request, check_mode, stop)
    selected = outcome.overwritten + outcome.written
    verb = "would put back" if check_mode else "put back"
    # In check mode nothing is written: what a run would write is every selected missing (and changed) item.
    shown = (outcome.missing + (outcome.differing if request.overwrite_changed else 0)) if check_mode else selected
    msg = (f"{verb} {shown} item(s) into {request.table} from {url_under(store.url, ref.folder)}: "
           f"{outcome.missing} missing, {outcome.differing} differing"
           + ("" if request.overwrite_changed else " (left as they are: overwrite_changed is false)")
           + (f", {outcome.appeared} written back meanwhile by someone else (left as they are)"
              if outcome.appeared else ""))
    return {**outcome.to_result(), "changed": bool(selected) or (check_mode and bool(shown)),
            "backup_url": url_under(store.url, ref.folder), "msg": msg}
