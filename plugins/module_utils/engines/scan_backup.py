"""The in-process ("local") backup engine: a rate-limited parallel Scan streamed into gzip parts.

Workers take Scan segments from a queue; each worker streams the items it reads into its own
gzip part (`data/part-NNNNN.json.gz`, a new one every `part_max_bytes` of JSON), so memory holds
one page and one upload buffer per worker whatever the table's size. Every page's consumed
capacity is paid into one token bucket shared by all workers. The manifest is written last,
only when every segment finished; on any failure the partial folder is removed.
"""

from __future__ import annotations

import gzip
import itertools
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.page_lines import PageLines
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_scan import RAW_ITEMS, RawItemScans
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.process_memory import cap_malloc_arenas
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import read_boost
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import account_of, check_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.read_units import bytes_per_read_unit
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    HashingWriter,
    PartialFolderLeft,
    join,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import claim_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.rate_limiter import TokenBucket, Unlimited
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.read_allowance import (
    CapacityWatch,
    ReadAllowance,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import DEFAULT_ITEM_BYTES

SEGMENT_TARGET_BYTES = 1024**3  # more segments than workers only for big tables, to spread hot segments
MAX_SEGMENTS = 1_000_000  # DynamoDB's limit on TotalSegments
# Share of one second's budget that all workers' pages in flight may hold, and the bucket's burst:
# together they bound how far consumption can run over the target in any interval.
PAGE_BUDGET_SHARE = 0.2
BURST_SHARE = 0.2
# A Scan page is charged at least half a unit whatever it holds, so pages smaller than this waste the
# table's capacity; slow rates get fewer workers instead of smaller pages.
MIN_PAGE_UNITS = 1.0


@dataclass
class ScanSettings:
    workers: int = 4
    segments: int | None = None
    read_percentage: float = 0.5
    # The most the backup may take of the table's own capacity when it reads on a boost (the host's share, where
    # `read_percentage` is a plan's share of the boosted capacity); None: `read_percentage`.
    original_share: float | None = None
    on_demand_read_units: float = 100.0
    read_units_per_second: float | None = None  # explicit cap; overrides both of the above
    part_max_bytes: int = 64 * 1024**2
    compression_level: int = 1
    consistent_read: bool = False
    account_id: str | None = None
    run_id: str | None = None  # a table boosted by another run is read at a share of its recorded original
    night_id: str | None = None  # the night the backup belongs to (the plan's), recorded in its manifest's origin

    def validate(self) -> None:
        if self.workers < 1:
            raise InputError("workers", f"must be at least 1, got {self.workers}", "use 1 to 64")
        if self.segments is not None and not 1 <= self.segments <= MAX_SEGMENTS:
            raise InputError("segments", f"must be 1 to {MAX_SEGMENTS}, got {self.segments}", "or leave it unset")
        if not 0 < self.read_percentage <= 1:
            raise InputError("read_percentage", f"must be in (0, 1], got {self.read_percentage}",
                             "0.5 lets the backup use half the provisioned read capacity")
        if self.original_share is not None and not 0 < self.original_share <= 1:
            raise InputError("read_percentage", f"the host's share must be in (0, 1], got {self.original_share}", "")
        if self.on_demand_read_units <= 0:
            raise InputError("on_demand_read_units", f"must be positive, got {self.on_demand_read_units}", "")
        if self.read_units_per_second is not None and self.read_units_per_second < 0:
            raise InputError("read_units_per_second", "must be positive, or 0 for no limit", "")
        if self.part_max_bytes < 1024**2:
            raise InputError("part_size_mb", "must be at least 1 MiB", "64 is a good size")
        if not 0 <= self.compression_level <= 9:
            raise InputError("compression_level", f"must be 0 to 9, got {self.compression_level}", "")


@dataclass
class BackupResult:
    table: str
    url: str
    folder: str
    manifest: dict[str, Any]
    duration_s: float
    segments: int
    read_units_limit: float | None
    read_units_consumed: float

    @property
    def items_per_second(self) -> float:
        return self.manifest["item_count"] / self.duration_s if self.duration_s else 0.0


def read_allowance(table: dict[str, Any], settings: ScanSettings) -> ReadAllowance | None:
    """How the backup's rate follows the table's read capacity (see `read_allowance`); None when it does not
    (an explicit rate, an on-demand table)."""
    if settings.read_units_per_second is not None or table["BillingMode"] == ON_DEMAND:
        return None
    original, boosted = read_boost(table.get("Tags") or [], settings.run_id)
    return ReadAllowance(share=settings.read_percentage, original_share=settings.original_share or
                         settings.read_percentage, original=original, boosted=boosted)


def fixed_rate(table: dict[str, Any], settings: ScanSettings) -> float | None:
    """The rate of a backup whose rate does not follow the table's capacity (None: unlimited)."""
    if settings.read_units_per_second is not None:
        return settings.read_units_per_second or None
    return settings.on_demand_read_units


def _read_units(description: dict[str, Any]) -> int:
    return int(description.get("ProvisionedThroughput", {}).get("ReadCapacityUnits") or 0)


def read_capacity_of(ddb: Any, table: str, described: dict[str, Any] | None = None) -> Callable[[], int]:
    """The table's live provisioned read capacity, as DescribeTable reports it now; the first time, as
    `described` says when given (a description read just before the scan starts: not read twice)."""
    first = [described] if described is not None else []

    def read() -> int:
        return _read_units(first.pop() if first else describe_table(ddb, table))

    return read


def page_units(rate: float, workers: int) -> float:
    """A page's budget: all workers' pages in flight hold at most PAGE_BUDGET_SHARE of a second's rate."""
    return max(MIN_PAGE_UNITS, rate * PAGE_BUDGET_SHARE / workers)


def segment_count(size_bytes: int, settings: ScanSettings) -> int:
    if settings.segments:
        return settings.segments
    return min(MAX_SEGMENTS, max(settings.workers, math.ceil(size_bytes / SEGMENT_TARGET_BYTES)))


class _PartWriter:
    """One gzip part being streamed to the store."""

    def __init__(self, store: BackupStore, key: str, path: str, level: int) -> None:
        self.path = path
        self.raw = HashingWriter(store.open_writer(key))
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=level, mtime=0)
        self.items = 0
        self.json_bytes = 0

    def add(self, lines: str, count: int) -> None:
        """`count` items as newline-terminated dynamodb-json lines."""
        data = lines.encode()
        self.gz.write(data)
        self.items += count
        self.json_bytes += len(data)

    def finish(self) -> manifest_file.DataFile:
        self.gz.close()
        self.raw.close()
        return manifest_file.DataFile(self.path, self.items, self.raw.size, self.raw.sha256)

    def abort(self) -> None:
        self.raw.abort()


@dataclass
class _Run:
    """State shared by the workers of one backup."""

    ddb: Any
    store: BackupStore
    table: str
    folder: str
    settings: ScanSettings
    limiter: TokenBucket | Unlimited
    page_units: float | None
    units_per_item: float
    segments: queue.Queue[int]
    total_segments: int
    part_numbers: itertools.count[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: list[manifest_file.DataFile] = field(default_factory=list)
    failure: list[BaseException] = field(default_factory=list)
    # Parts begun and not finished: aborted on failure, wherever the worker was (an S3 upload holds parts).
    open_parts: list[_PartWriter] = field(default_factory=list)
    progress: Callable[[int], None] | None = None
    controller: TokenBucket | None = None  # the night's cap over every table read at once
    stop: threading.Event | None = None  # set: stop between pages, as on a failure
    measured: bool = False  # units_per_item comes from a page read, not from the table's (lagging) figures
    watch: CapacityWatch | None = None  # the rate follows the table's capacity, re-read during the scan
    workers: int = 1

    def new_part(self) -> _PartWriter:
        with self.lock:
            number = next(self.part_numbers)
        path = f"data/part-{number:05d}.json.gz"
        part = _PartWriter(self.store, join(self.folder, path), path, self.settings.compression_level)
        with self.lock:
            self.open_parts.append(part)
        return part

    def page_limit(self) -> int | None:
        if self.page_units is None:
            return None  # unlimited: let DynamoDB fill 1 MB pages
        # The first pages, before any was measured, hold one second's worth of pages (1 / PAGE_BUDGET_SHARE page
        # budgets, about the rate for one second): the bucket starts empty, so the workers then wait that second off,
        # and a small table read on a guessed cost per item (its size unreported for hours after its creation)
        # takes one page, not two.
        units = self.page_units if self.measured else self.page_units / PAGE_BUDGET_SHARE
        return max(1, int(units / max(self.units_per_item, 1e-6)))

    def worker(self) -> None:
        part: _PartWriter | None = None
        try:
            while not self.failure:
                try:
                    segment = self.segments.get_nowait()
                except queue.Empty:
                    break
                part = self._scan_segment(segment, part)
            raise_if_stopped(self.stop)  # stopped after its last page: still no manifest
            if part is not None and not self.failure:
                self._keep(part)
        except BaseException as exc:
            self.failure.append(exc)

    def _keep(self, part: _PartWriter) -> None:
        data_file = part.finish()
        with self.lock:
            self.open_parts.remove(part)
            self.files.append(data_file)

    def abort_open_parts(self) -> None:
        for part in self.open_parts:
            part.abort()

    def follow_capacity(self) -> None:
        """Apply the rate the table's capacity allows now, when a re-read is due (pages sized to it)."""
        rate = self.watch.due_rate() if self.watch else None
        if rate and isinstance(self.limiter, TokenBucket):  # 0: the table went on-demand, keep the last rate
            self.limiter.set_rate(rate, rate * BURST_SHARE)
            self.page_units = page_units(rate, self.workers)

    def _scan_segment(self, segment: int, part: _PartWriter | None) -> _PartWriter | None:
        kwargs: dict[str, Any] = {"TableName": self.table, "ReturnConsumedCapacity": "TOTAL",
                                  "ConsistentRead": self.settings.consistent_read}
        if self.total_segments > 1:
            kwargs.update(Segment=segment, TotalSegments=self.total_segments)
        while not self.failure:
            self.follow_capacity()
            limit = self.page_limit()
            if limit is not None:
                kwargs["Limit"] = limit
            self.limiter.wait(self.stop)
            if self.controller:
                self.controller.wait(self.stop)
            raise_if_stopped(self.stop)
            page = self.ddb.scan(**kwargs)
            units = float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))
            self.limiter.pay(units)
            if self.controller:
                self.controller.pay(units)
            lines: PageLines | None = page.get(RAW_ITEMS)
            if lines and lines.count:
                # Page sizes follow the observed cost per item, so pages stay near their budget; the first
                # page replaces the guess (DynamoDB's item count lags by hours: 0 on a new table).
                observed = units / lines.count
                self.units_per_item = 0.7 * self.units_per_item + 0.3 * observed if self.measured else observed
                self.measured = True
                if part is None:
                    part = self.new_part()
                part.add(lines.lines, lines.count)
                if self.progress:
                    self.progress(lines.count)
                if part.json_bytes >= self.settings.part_max_bytes:
                    self._keep(part)
                    part = None
            if "LastEvaluatedKey" not in page:
                return part
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return part


def backup_table(ddb: Any, store: BackupStore, table: str, region: str, settings: ScanSettings,
                 started: datetime | None = None, progress: Callable[[int], None] | None = None,
                 controller: TokenBucket | None = None, stop: threading.Event | None = None,
                 read_capacity: Callable[[], int] | None = None, watch_clock: Callable[[], float] = time.monotonic,
                 aas: Any = None, known: TableFacts | None = None) -> BackupResult:
    """Back up one table into `<store>/<account>/<region>/<table>/<started>/`; returns what was written.

    The folder is claimed first: when another writer holds `<started>`'s, the next free second's is used.
    Once `stop` is set the workers stop between pages and it ends as a failure does: parts aborted,
    the folder removed, no manifest, `Cancelled` raised. The rate follows the table's read capacity
    (`read_capacity`, DescribeTable unless given) as `read_allowance` says, re-read during the scan.
    `aas` (Application Auto Scaling) records the table's scalable targets in the manifest; None: not captured.
    `known`: the table's tags, TTL and PITR status as the plan read them (`capture_schema`); None: read here.
    """
    cap_malloc_arenas()
    settings.validate()
    check_table_name("table", table)  # a stand-in may hold a table DynamoDB would refuse the name of
    described = describe_table(ddb, table)  # fails on an unknown table before anything is written
    schema = capture_schema(ddb, table, aas, described, known)
    store.check_writable()
    account = account_of(schema.get("TableArn"), settings.account_id)
    started = started or utc_now()
    allowance = read_allowance(schema, settings)
    watch = (CapacityWatch(allowance, read_capacity or read_capacity_of(ddb, table, described), clock=watch_clock)
             if allowance else None)
    # Read at the rate the capacity there now allows: a boost not arrived yet is not read on.
    rate = (watch.rate() or fixed_rate(schema, settings)) if watch else fixed_rate(schema, settings)
    # Workers for the rate the boost brings once it is there (a late boost speeds the scan up, pages follow).
    full_rate = allowance.rate(allowance.boosted) if allowance and allowance.boosted else rate
    size = int(schema.get("TableSizeBytes") or 0)
    count = int(schema.get("ItemCount") or 0)
    total_segments = segment_count(size, settings)
    per_unit = bytes_per_read_unit(settings.consistent_read)
    workers = settings.workers
    if full_rate:
        workers = max(1, min(workers, int(max(rate or 0, full_rate) * PAGE_BUDGET_SHARE / MIN_PAGE_UNITS)))
    folder = claim_folder(store, account, region, table, started).folder  # before the first byte
    run = _Run(
        ddb=ddb, store=store, table=table, folder=folder, settings=settings,
        limiter=TokenBucket(rate, burst=rate * BURST_SHARE) if rate else Unlimited(),
        page_units=page_units(rate, workers) if rate else None, watch=watch, workers=workers,
        # First guess from the table's average item size (unknown for hours after its creation: the planner's
        # per-item estimate); corrected by every page.
        units_per_item=(size / count if count else DEFAULT_ITEM_BYTES) / per_unit,
        segments=queue.Queue(), total_segments=total_segments, progress=progress, controller=controller,
        stop=stop,
    )
    for segment in range(total_segments):
        run.segments.put(segment)
    clock = time.monotonic()
    threads = [threading.Thread(target=run.worker, name=f"scan-{table}-{n}", daemon=True)
               for n in range(min(workers, total_segments))]
    with RawItemScans(ddb):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if run.failure:
        run.abort_open_parts()
        # Never leave something that looks like data without a manifest; what S3 refuses to delete is said.
        left = store.delete_tree(folder)
        if left:
            raise PartialFolderLeft(url_under(store.url, folder), left, run.failure[0]) from run.failure[0]
        raise run.failure[0]
    finished = utc_now()
    # Last, and only once: it marks the backup complete and lists only this writer's files.
    doc = write_manifest(store, folder, schema=schema, account=account, region=region, engine="local",
                         data_format="dynamodb-json", consistency="fuzzy-scan", started=started.isoformat(),
                         finished=finished.isoformat(), files=run.files,
                         origin=manifest_file.night_origin("local", settings.night_id, settings.run_id))
    return BackupResult(table=table, url=url_under(store.url, folder), folder=folder, manifest=doc,
                        duration_s=time.monotonic() - clock, segments=total_segments,
                        read_units_limit=max(rate or 0, watch.highest_rate) if watch else rate,
                        read_units_consumed=run.limiter.consumed)
