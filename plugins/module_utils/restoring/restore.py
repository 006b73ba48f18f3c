"""Restore one backup into a new (or empty) table: recreate the schema, load every item, verify the count.

Data files are read concurrently by a few reader threads that feed one BatchWriter, so a backup of
many parts loads in parallel while memory holds only the bounded queue of batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb_tables import recreate_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import pages
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import RawBatchWrites
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import list_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import apply_table_settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.process_memory import cap_malloc_arenas
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import TableKey, choose_table_key
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import READERS, iter_put_requests
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.verify import find_damage
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings as CapacitySettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    boost as boost_capacity,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import put_back
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.batch_writer import BatchWriter
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import (
    Comparison,
    TableDiffers,
    compare_table,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.empty_table import empty_table

# Marks a table as the finished restore of one backup, so running the same restore again is a no-op.
RESTORED_FROM_TAG = "hippolyte:restored-from"


@dataclass
class RestoreSettings:
    workers: int = 8
    readers: int = 4
    force: bool = False
    verify: bool = True
    verify_before_write: bool = True  # check every file's size and sha256 before the table is created
    wait_timeout_s: float = 600.0
    stall_timeout_s: float = 300.0
    write_capacity: int | None = None  # load-time WCU of a new provisioned table and its GSIs
    run_id: str | None = None
    compare: bool = False  # compare the loaded table with the backup item by item (compare.py)
    target_kms_key_id: str | None = None  # the new table's KMS key (table_key.py); default the backed-up one
    target_account: Callable[[], str | None] = lambda: None  # the new table's account, asked only when needed
    autoscaling: Any = None  # Application Auto Scaling client of the new table's account and region
    restore_streaming: bool = False  # re-attach the captured Kinesis streaming destinations (table_settings.py)
    table_settings: bool = True  # put the captured settings on a table the restore creates (off for drills)

    def validate(self) -> None:
        for name in ("workers", "readers"):
            if getattr(self, name) < 1:
                raise InputError(name, f"must be at least 1, got {getattr(self, name)}", "use 1 to 64")
        if self.write_capacity is not None and self.write_capacity < 1:
            raise InputError("write_capacity", f"must be at least 1, got {self.write_capacity}",
                             "leave it unset to load at the backed-up capacity")


@dataclass
class TargetState:
    name: str
    exists: bool
    empty: bool
    restored_from: str | None
    arn: str | None


@dataclass
class RestoreResult:
    source: str
    target: str
    changed: bool
    created: bool
    expected_items: int
    written_items: int
    counted_items: int | None
    duration_s: float
    retried_items: int
    msg: str
    comparison: dict[str, Any] | None = None  # Comparison.report() when settings.compare
    table_key: dict[str, Any] | None = None  # TableKey.as_dict() of a table the restore creates
    not_restored: list[dict[str, str]] | None = None  # captured settings not put on the new table, and why


def load_manifest(store: BackupStore, folder: str) -> dict[str, Any]:
    key = join(folder, manifest_file.MANIFEST_NAME)
    where = url_under(store.url, key)
    if not store.exists(key):
        raise HippolyteError(f"{where} is missing: that backup is incomplete and cannot be restored")
    doc = manifest_file.loads(store.read_bytes(key), where)
    if doc["data_format"] not in READERS:
        raise HippolyteError(f"{where}: data format {doc['data_format']!r} cannot be restored by this version")
    return doc


def inspect_target(ddb: Any, name: str) -> TargetState:
    try:
        table = ddb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if is_error(exc, "ResourceNotFoundException"):
            return TargetState(name, exists=False, empty=True, restored_from=None, arn=None)
        raise
    tags = {t["Key"]: t["Value"] for t in list_tags(ddb, table["TableArn"])}
    empty = not ddb.scan(TableName=name, Limit=1, Select="COUNT").get("Count", 0)
    if empty:  # a page can come back empty with more to read; one more look decides
        page = ddb.scan(TableName=name, Limit=1)
        empty = not page.get("Items")
    return TargetState(name, True, empty, tags.get(RESTORED_FROM_TAG), table["TableArn"])


def check_target(target: TargetState, schema: dict[str, Any], source: str, force: bool,
                 ddb: Any) -> None:
    """Refuse to load into a table that holds data (unless forced) or whose keys differ."""
    if not target.exists or target.restored_from == source:
        return
    if not target.empty and not force:
        raise InputError("target", f"table {target.name!r} already exists and holds items",
                         "name a new target, empty it, or set force: true to load into it anyway")
    keys = ddb.describe_table(TableName=target.name)["Table"]["KeySchema"]
    if keys != schema["KeySchema"]:
        raise InputError("target", f"table {target.name!r} has key schema {keys}, the backup has "
                         f"{schema['KeySchema']}", "restore into a new table instead")


def count_items(ddb: Any, table: str, segments: int) -> int:
    """Exact item count by a parallel Select=COUNT scan (DescribeTable's count lags by hours)."""

    def count_segment(segment: int) -> int:
        return sum(int(page["Count"]) for page in pages(ddb, "scan", TableName=table, Select="COUNT",
                                                        Segment=segment, TotalSegments=segments))

    with ThreadPoolExecutor(segments) as pool:
        return sum(pool.map(count_segment, range(segments)))


def restore_backup(ddb: Any, store: BackupStore, folder: str, target: str, settings: RestoreSettings,
                   check_mode: bool = False, stop: threading.Event | None = None) -> RestoreResult:
    """Once `stop` is set the load stops at its next batch and fails; a write capacity it raised is put back."""
    cap_malloc_arenas()
    settings.validate()
    clock = time.monotonic()
    doc = load_manifest(store, folder)
    source = folder
    state = inspect_target(ddb, target)
    check_target(state, doc["schema"], source, settings.force, ddb)
    expected = doc["item_count"]
    reload = False
    if state.restored_from == source:
        done = rerun_check(ddb, store, folder, doc, target, settings, stop)
        if done is not None:
            return done
        reload = True  # forced over a table that drifted: emptied, then loaded as a new one
    key = None if state.exists else new_table_key(ddb, doc["schema"], settings)
    if check_mode:
        verb = "empty and reload" if reload else "load into existing" if state.exists else "create"
        return RestoreResult(source, target, True, not state.exists, expected, 0, None, 0.0, 0,
                             f"would {verb} table {target} and write {expected} items",
                             table_key=key.as_dict() if key else None)
    if settings.verify_before_write:
        refuse_damaged(store, folder, doc, settings.readers)
    raise_if_stopped(stop)
    if reload:
        empty_table(ddb, target, [k["AttributeName"] for k in doc["schema"]["KeySchema"]], settings.workers,
                    settings.stall_timeout_s, stop)
        state.empty = True
    arn = state.arn if state.exists else recreate_table(ddb, doc["schema"], target, settings.wait_timeout_s,
                                                        key)["TableArn"]
    boost = settings.write_capacity and not state.exists and doc["schema"]["BillingMode"] == PROVISIONED
    # The load starts once the raised capacity is on the table (DescribeTable shows it), not when it was asked for.
    capacity = CapacitySettings(run_id=settings.run_id, wait_timeout=settings.wait_timeout_s,
                                capacity_wait_s=settings.wait_timeout_s)
    raised: dict[str, Any] = {}
    if boost:
        # Recorded on the table first, like any boost, so a crash mid-load can still be put back.
        raised = boost_capacity(ddb, None, target,
                                Targets(write=settings.write_capacity, gsi_write=settings.write_capacity), capacity)
    back: dict[str, Any] = {}
    try:
        written, retried = _load(ddb, store, folder, target, doc, settings, stop)
    finally:
        if boost:  # only what is still at the boost goes back: a capacity someone else set meanwhile stays
            back = put_back(ddb, None, target, capacity)
    capacity_said = (f"; its write capacity is not back yet ({len(back['pending'])} setting(s) wait for "
                     "DynamoDB's next allowed decrease: run dynamodb_throughput state=reconciled then)"
                     if back.get("pending") else "")
    if raised.get("capacity_arrived") is False:
        capacity_said += (f"; the raised write capacity was not on the table after {settings.wait_timeout_s:g} s: "
                          "loaded on the table's own")
    if back.get("changed_by_others"):
        capacity_said += "; " + "; ".join(back["notes"])
    counted = count_items(ddb, target, max(1, settings.workers)) if settings.verify else None
    if counted is not None and state.empty and counted != expected:
        raise HippolyteError(f"{target} holds {counted} items after the restore, the backup has {expected}")
    comparison = compare_restored(ddb, store, folder, doc, target, settings, stop) if settings.compare else None
    # Settings only on a table this restore created, after the load and its boost's put back (why: table_settings).
    extra = (apply_captured_settings(ddb, doc["schema"], target, settings)
             if settings.table_settings and not state.exists else None)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": RESTORED_FROM_TAG, "Value": source}])
    return RestoreResult(source, target, True, not state.exists, expected, written, counted,
                         time.monotonic() - clock, retried,
                         f"restored {written} items from {source} into {target}{capacity_said}"
                         + (" (emptied first: it no longer held the backup)" if reload else "")
                         + not_restored_note(extra),
                         comparison, key.as_dict() if key else None, extra)


def apply_captured_settings(ddb: Any, schema: dict[str, Any], target: str,
                            settings: RestoreSettings) -> list[dict[str, str]]:
    """The captured settings on a new table (table_settings.py); the list of those not restored."""
    return apply_table_settings(ddb, settings.autoscaling, schema, target, settings.wait_timeout_s,
                                settings.restore_streaming).not_restored


def not_restored_note(not_restored: list[dict[str, str]] | None) -> str:
    return (f"; {len(not_restored)} captured setting(s) not restored (see not_restored)"
            if not_restored else "")


def new_table_key(ddb: Any, schema: dict[str, Any], settings: RestoreSettings) -> TableKey:
    """The KMS key of a table the restore creates, in the region of `ddb`; InputError before anything is created
    when the backed-up key cannot serve there."""
    return choose_table_key(schema, ddb.meta.region_name, settings.target_account, settings.target_kms_key_id)


def rerun_check(ddb: Any, store: BackupStore, folder: str, doc: dict[str, Any], target: str,
                settings: RestoreSettings, stop: threading.Event | None) -> RestoreResult | None:
    """A rerun into a table tagged as the restore of `folder`: a no-op result only if the table still holds
    exactly that backup (compared item by item, whatever `compare` says). A table that drifted since fails naming
    the drift, unless `force`: then None, and the caller empties the table and loads the backup again."""
    comparison = compare_table(ddb, store, folder, doc, target, settings.workers, settings.readers, stop)
    if comparison.equal:
        return RestoreResult(folder, target, False, False, doc["item_count"], 0, comparison.table_items, 0.0, 0,
                             f"{target} already holds the restore of {folder}, item for item",
                             comparison.report() if settings.compare else None)
    if settings.force:
        return None
    raise TargetDrifted(comparison, folder)


class TargetDrifted(HippolyteError):
    """A table tagged as a backup's restore no longer holds it; carries the comparison for the task's result."""

    def __init__(self, comparison: Comparison, folder: str) -> None:
        self.comparison = comparison
        super().__init__(f"table {comparison.table} is tagged as the restore of {folder} but no longer holds it: "
                         f"{comparison.summary()}; set force: true to empty it and load the backup again, or restore "
                         "to a new target")


def compare_restored(ddb: Any, store: BackupStore, folder: str, doc: dict[str, Any], target: str,
                     settings: RestoreSettings, stop: threading.Event | None) -> dict[str, Any]:
    """The restored table item by item against the backup, before it is tagged as the backup's restore: a
    table that differs raises TableDiffers, so running the restore again compares again."""
    comparison = compare_table(ddb, store, folder, doc, target, settings.workers, settings.readers, stop)
    if not comparison.equal:
        raise TableDiffers(comparison)
    return comparison.report()


def refuse_damaged(store: BackupStore, folder: str, doc: dict[str, Any], readers: int) -> None:
    """Fail before anything is created when a data file differs from the manifest."""
    damage = find_damage(store, folder, doc, workers=readers)
    if damage:
        more = f" (and {len(damage) - 1} more damaged file(s))" if len(damage) > 1 else ""
        raise HippolyteError(f"the backup {url_under(store.url, folder)} is damaged, so nothing was created or "
                             f"written: {damage[0].file}: {damage[0].reason}{more}; restore an older backup "
                             "(option at) or check the copy of these files")


def _load(ddb: Any, store: BackupStore, folder: str, target: str, doc: dict[str, Any],
          settings: RestoreSettings, stop: threading.Event | None) -> tuple[int, int]:
    """Write every item of the backup into `target`; (items written, items retried)."""
    expected = doc["item_count"]
    files = manifest_file.data_files(doc)
    failures: list[BaseException] = []
    failures_lock = threading.Lock()

    def read(data_file: manifest_file.DataFile) -> None:
        try:
            writer.put_requests(iter_put_requests(store, folder, data_file, doc["data_format"]))
        except BaseException as exc:
            with failures_lock:
                failures.append(exc)

    with RawBatchWrites(ddb) as raw:
        writer = BatchWriter(raw.send, target, workers=settings.workers, stall_timeout_s=settings.stall_timeout_s,
                             stop=stop)
        try:
            with writer, ThreadPoolExecutor(max(1, min(settings.readers, len(files)))) as readers:
                list(readers.map(read, files))
        except BaseException as exc:
            failures.append(exc)
    written = writer.stats.written
    if failures:
        raise HippolyteError(f"restore of {folder} into {target} failed with {expected - written} of {expected} "
                             f"items not written: {failures[0]}") from failures[0]
    return written, writer.stats.retried_items
