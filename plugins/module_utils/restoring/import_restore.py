"""Restore by DynamoDB's own ImportTable, and the choice between it and the load (`engine: auto`).

ImportTable builds a new table from gzip DynamoDB JSON in S3 on AWS's side, without write capacity,
priced per GB: the engine for tables too big to load from one controller. It creates keys, attribute
definitions, GSIs, billing mode, capacity and SSE only; what it cannot carry (streams, table class,
deletion protection, TTL, tags, point-in-time recovery) is applied once the import completed, with the
load's own functions. It cannot create local secondary indexes, nor write into an existing table.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import posixpath
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import wait_table_active
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb_tables import apply_ttl_and_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import item_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import PollTimeout, poll_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import PROVISIONED
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_destination
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.prices import (
    BYTES_PER_GB,
    SECONDS_PER_HOUR,
    Prices,
    RestoreRates,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import create_table_request
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import TableKey
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import iter_put_requests
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    Encryption,
    HashingWriter,
    S3Store,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RESTORED_FROM_TAG,
    RestoreResult,
    RestoreSettings,
    TargetState,
    apply_captured_settings,
    compare_restored,
    count_items,
    inspect_target,
    load_manifest,
    new_table_key,
    not_restored_note,
    refuse_damaged,
    rerun_check,
    restore_backup,
)

ENGINES = ("auto", "load", "import")
# What ImportTable's TableCreationParameters take of a CreateTable request; the rest is applied afterwards.
IMPORT_PARAMETERS = frozenset(("TableName", "AttributeDefinitions", "KeySchema", "BillingMode",
                               "ProvisionedThroughput", "GlobalSecondaryIndexes", "SSESpecification"))
IMPORTABLE_FORMATS = ("dynamodb-json", "native-export")  # `{"Item": {...}}` lines, as ImportTable reads them
STAGED_NAME = "hippolyte-staged.json"  # written last in a staged copy: its presence means "complete"
# Bytes of DynamoDB JSON per stored gzip byte, for a manifest whose schema lacks the table's size.
UNCOMPRESSED_PER_STORED_BYTE = 4
WRITE_UNIT_BYTES = 1024
LIVE_IMPORT_STATES = ("IN_PROGRESS", "COMPLETED")
FAILED_IMPORT_STATES = ("FAILED", "CANCELLED")
MAX_IMPORT_TRIES = 100  # failed imports of one backup into one target within AWS's 8 hours of token memory
ENDED_IMPORT_STATES = ("COMPLETED", *FAILED_IMPORT_STATES)


@dataclass
class ImportSettings:
    engine: str = "auto"
    max_rejected_items: int = 0
    max_load_hours: float = 6.0
    import_threshold_gb: float = 100.0
    rates: RestoreRates = field(default_factory=RestoreRates)
    prices: Prices = field(default_factory=Prices)
    poll_s: float = 5.0
    import_timeout_s: float = 2 * 24 * SECONDS_PER_HOUR  # the largest imports run for many hours

    def validate(self) -> None:
        if self.engine not in ENGINES:
            raise InputError("engine", f"is {self.engine!r}", f"choose one of {', '.join(ENGINES)}")
        if self.max_rejected_items < 0:
            raise InputError("max_rejected_items", f"must be at least 0, got {self.max_rejected_items}",
                             "use 0 to fail on any item DynamoDB rejects")
        if self.max_load_hours <= 0:
            raise InputError("max_load_hours", f"must be more than 0, got {self.max_load_hours}",
                             "give the longest load you accept, in hours")
        if self.import_threshold_gb < 0:
            raise InputError("import_threshold_gb", f"must not be negative, got {self.import_threshold_gb}",
                             "give a size in GB; 0 imports every backup auto can import")
        self.rates.validate()
        self.prices.validate("prices")


@dataclass(frozen=True)
class Estimate:
    hours: float
    usd: float


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # load or import: the engine that runs
    reason: str
    source_gb: float
    load: Estimate
    import_: Estimate

    def as_dict(self) -> dict[str, Any]:
        def rounded(estimate: Estimate) -> dict[str, float]:
            return {"hours": round(estimate.hours, 3), "usd": round(estimate.usd, 2)}

        return {"engine": self.engine, "reason": self.reason, "source_gb": round(self.source_gb, 3),
                "estimates": {"load": rounded(self.load), "import": rounded(self.import_)}}


@dataclass(frozen=True)
class ImportSource:
    bucket: str
    prefix: str  # S3KeyPrefix: every object below it is a data file of the backup
    owner: str | None
    staged_to: str | None = None  # URL of the staged copy, when the data was staged


@dataclass
class ImportReport:
    import_arn: str
    status: str
    processed_items: int
    processed_bytes: int
    imported_items: int
    rejected_items: int
    log_group: str | None
    source: str  # s3://bucket/prefix the import read
    staged_to: str | None

    @classmethod
    def of(cls, described: dict[str, Any], source: ImportSource) -> ImportReport:
        return cls(described["ImportArn"], described["ImportStatus"], int(described.get("ProcessedItemCount") or 0),
                   int(described.get("ProcessedSizeBytes") or 0), int(described.get("ImportedItemCount") or 0),
                   int(described.get("ErrorCount") or 0), described.get("CloudWatchLogGroupArn"),
                   f"s3://{source.bucket}/{source.prefix}", source.staged_to)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class EngineRestore:
    result: RestoreResult
    choice: EngineChoice
    report: ImportReport | None


def source_bytes(doc: dict[str, Any]) -> int:
    """Uncompressed size of the backup (what ImportTable bills): the table's size when backed up, else a
    multiple of the stored gzip bytes."""
    return int(doc["schema"].get("TableSizeBytes") or 0) or int(doc["byte_count"]) * UNCOMPRESSED_PER_STORED_BYTE


def estimates(doc: dict[str, Any], settings: ImportSettings, write_capacity: int | None) -> tuple[Estimate, Estimate]:
    """(load, import) time and cost of restoring `doc`'s backup."""
    size, items = source_bytes(doc), int(doc["item_count"])
    units_per_item = max(1, math.ceil(size / max(items, 1) / WRITE_UNIT_BYTES))
    schema, rates, prices = doc["schema"], settings.rates, settings.prices
    if schema["BillingMode"] == PROVISIONED:
        wcu = write_capacity or int((schema.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits") or 1)
        load_s = items / min(rates.load_items_per_s, wcu / units_per_item)
        load_usd = prices.provisioned_write_cost(wcu, load_s)
    else:
        load_s = items / rates.load_items_per_s
        load_usd = prices.on_demand_write_cost(items * units_per_item)
    import_s = rates.import_startup_s + size / rates.import_bytes_per_s
    return (Estimate(load_s / SECONDS_PER_HOUR, load_usd),
            Estimate(import_s / SECONDS_PER_HOUR, prices.import_cost(size)))


def local_indexes(schema: dict[str, Any]) -> list[str]:
    return [i["IndexName"] for i in schema.get("LocalSecondaryIndexes") or []]


def in_place_source(store: BackupStore, folder: str, doc: dict[str, Any]) -> tuple[ImportSource | None, str]:
    """Where ImportTable can read the backup as it is stored, or (None, why it cannot)."""
    if not isinstance(store, S3Store):
        return None, f"the backup is in {store.url}, and ImportTable reads from S3 only"
    if doc["data_format"] not in IMPORTABLE_FORMATS:
        return None, (f"the backup's data format is {doc['data_format']}, and ImportTable reads DynamoDB JSON "
                      "lines only")
    files = manifest_file.data_files(doc)
    if any(not f.path.endswith(".gz") for f in files):
        return None, "the backup's data files are not all gzip, and ImportTable reads one compression per import"
    # ImportTable reads every object below its prefix: the data files' common folder must hold nothing else.
    common = posixpath.commonpath([posixpath.dirname(f.path) for f in files]) if files else "data"
    wanted = {join(folder, f.path) for f in files}
    others = [o.key for o in store.list_objects(join(folder, common)) if o.key not in wanted]
    if others:
        return None, (f"{join(folder, common)}/ holds {len(others)} object(s) that are not data files "
                      f"({others[0]}), which ImportTable would read as data")
    return ImportSource(store.bucket, join(store.prefix, folder, common) + "/", store.expected_owner), ""


def choose_engine(doc: dict[str, Any], folder: str, target: TargetState, settings: ImportSettings,
                  write_capacity: int | None, why_not_in_place: str, can_stage: bool) -> EngineChoice:
    """The engine that restores `doc`'s backup into `target`, and why. An explicit engine is kept (import
    checks its limits itself); `auto` imports what import can restore and a load would not do well."""
    load, imported = estimates(doc, settings, write_capacity)
    size = source_bytes(doc)

    def choice(engine: str, reason: str) -> EngineChoice:
        return EngineChoice(engine, reason, size / BYTES_PER_GB, load, imported)

    if settings.engine != "auto":
        return choice(settings.engine, f"engine: {settings.engine} was asked for")
    lsis = local_indexes(doc["schema"])
    if lsis:
        return choice("load", f"the table has local secondary indexes ({', '.join(lsis)}), which ImportTable "
                              "cannot create")
    if target.exists:
        return choice("load", f"table {target.name} exists, and ImportTable only creates new tables")
    if why_not_in_place and not can_stage:
        return choice("load", f"{why_not_in_place} (stage_to would copy it to S3 first)")
    if not doc["item_count"]:
        return choice("load", "the backup holds no items")
    costs = (f"import about {imported.hours:.1f} h and {imported.usd:.2f} USD, load about {load.hours:.1f} h "
             f"and {load.usd:.2f} USD")
    if size >= settings.import_threshold_gb * BYTES_PER_GB:
        return choice("import", f"{size / BYTES_PER_GB:.1f} GB reaches import_threshold_gb "
                                f"({settings.import_threshold_gb:g}); {costs}")
    if load.hours > settings.max_load_hours:
        return choice("import", f"the load would take longer than max_load_hours ({settings.max_load_hours:g}); "
                                f"{costs}")
    return choice("load", f"{size / BYTES_PER_GB:.3f} GB is below import_threshold_gb "
                          f"({settings.import_threshold_gb:g}) and the load fits in max_load_hours; {costs}")


def client_token(backup_url: str, request: dict[str, Any], failed_before: int = 0) -> str:
    """ImportTable's idempotency token: the same backup asked the same way (the request without its token) asks for
    the same import, so a rerun never starts a second one; `failed_before` (earlier tries that failed) makes a retry
    after a failure a new import, where AWS would answer the failed one again for 8 hours."""
    asked = json.dumps({"backup": backup_url, "request": request, "failed_before": failed_before}, sort_keys=True)
    return hashlib.sha256(asked.encode()).hexdigest()[:32]


def import_table_request(schema: dict[str, Any], target: str, source: ImportSource,
                         key: TableKey | None = None) -> dict[str, Any]:
    """ImportTable's parameters, less its ClientToken."""
    bucket: dict[str, str] = {"S3Bucket": source.bucket, "S3KeyPrefix": source.prefix}
    if source.owner:
        bucket["S3BucketOwner"] = source.owner
    parameters = {k: v for k, v in create_table_request(schema, target, key).items() if k in IMPORT_PARAMETERS}
    return {"S3BucketSource": bucket, "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": "GZIP", "TableCreationParameters": parameters}


def find_import(ddb: Any, table_arn: str, source: ImportSource) -> str | None:
    """The ARN of a running or completed import of `source` into the table (one an earlier run started)."""
    kwargs: dict[str, Any] = {"TableArn": table_arn}
    while True:
        try:
            page = ddb.list_imports(**kwargs)
        except Exception as exc:
            if is_error(exc, *UNSUPPORTED_CALL_CODES):
                return None
            raise
        for summary in page.get("ImportSummaryList", []):
            bucket = summary.get("S3BucketSource") or {}
            if (summary.get("ImportStatus") in LIVE_IMPORT_STATES and bucket.get("S3Bucket") == source.bucket
                    and bucket.get("S3KeyPrefix") == source.prefix):
                return str(summary["ImportArn"])
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def start_import(ddb: Any, schema: dict[str, Any], target: str, source: ImportSource, backup_url: str,
                 key: TableKey | None = None) -> str:
    """Start the import (the ARN of the one an earlier run started with the same token, if it still runs or
    completed). AWS answers a token it has seen with that import for 8 hours, also a failed one: such an answer
    means an earlier try failed, and the next token is asked, so a retry after a failure is a new import."""
    request = import_table_request(schema, target, source, key)
    for failed_before in range(MAX_IMPORT_TRIES):
        token = client_token(backup_url, request, failed_before)
        described = ddb.import_table(ClientToken=token, **request)["ImportTableDescription"]
        if described.get("ImportStatus") not in FAILED_IMPORT_STATES:
            return str(described["ImportArn"])
    raise HippolyteError(f"the last {MAX_IMPORT_TRIES} imports of {backup_url} into {target} failed: look at their "
                         "causes (DescribeImport, ListImports), fix them, and run the restore again after 8 hours")


def wait_import(ddb: Any, import_arn: str, settings: ImportSettings, stop: threading.Event | None,
                progress: Callable[[str], None] | None) -> dict[str, Any]:
    """DescribeImport until the import ends; its last description."""
    def ended() -> dict[str, Any] | None:
        raise_if_stopped(stop)
        described: dict[str, Any] = ddb.describe_import(ImportArn=import_arn)["ImportTableDescription"]
        if progress:
            progress(f"import {import_arn}: {described['ImportStatus']}, {described.get('ProcessedItemCount', 0)} "
                     f"items ({described.get('ProcessedSizeBytes', 0)} bytes) processed, "
                     f"{described.get('ErrorCount', 0)} rejected")
        return described if described["ImportStatus"] in ENDED_IMPORT_STATES else None

    try:
        return poll_until(ended, settings.import_timeout_s, settings.poll_s, f"waiting for import {import_arn}",
                          max_interval=max(settings.poll_s, 60.0))
    except PollTimeout as exc:
        raise HippolyteError(f"{exc}; the import goes on in AWS: run the restore again to wait for it") from None


def staging_store(url: str, s3_client: Any, encryption: Encryption | None = None,
                  bucket_owner: str | None = None) -> S3Store:
    """The store of `stage_to`: an S3 location, as ImportTable reads nothing else; every call on it (and the
    import's S3BucketOwner) names `bucket_owner`, so a bucket of that name in another account gets nothing."""
    check_destination(url, "stage_to")
    if not url.startswith("s3://"):
        raise InputError("stage_to", f"{url!r} is not in S3, and ImportTable reads from S3 only",
                         "write it as s3://bucket/prefix")
    try:
        store = open_store(url, s3_client, bucket_owner, encryption=encryption)
    except InputError as exc:
        field = "stage_bucket_owner" if exc.field == "bucket_owner" else "stage_to"
        raise InputError(field, exc.problem, exc.fix) from None
    if not isinstance(store, S3Store):
        raise AssertionError(f"{url!r} opened {type(store).__name__}, not an S3 store")
    return store


def check_staging(staging: S3Store, *backups: BackupStore) -> None:
    """Refuse, before anything is written, a staging location inside, equal to or containing a location that holds
    backups (the destination, a folder adopted or imported from): a staged copy is written under
    `<stage_to>/<backup folder>/`, which there can be a backup's own folder."""
    staged = _segments(staging.prefix)
    for store in backups:
        if not isinstance(store, S3Store) or store.bucket != staging.bucket:
            continue
        held = _segments(store.prefix)
        if staged[:len(held)] == held or held[:len(staged)] == staged:
            raise InputError("stage_to", f"{staging.url} overlaps {store.url}, which holds backups: staging there "
                                         "could overwrite a backup's own files",
                             "stage to a prefix outside every backup location, e.g. another bucket or "
                             "s3://bucket/staging beside the destination")


def _segments(prefix: str) -> list[str]:
    return [part for part in prefix.split("/") if part]


def staged_source(staging: S3Store, folder: str) -> ImportSource:
    """Where a staged copy of the backup in `folder` lives: the backup's own folder path under `staging`."""
    return ImportSource(staging.bucket, join(staging.prefix, folder, "data") + "/", staging.expected_owner,
                        url_under(staging.url, folder))


def stage(store: BackupStore, folder: str, doc: dict[str, Any], staging: S3Store, readers: int) -> ImportSource:
    """Copy the backup's items to `staging` as gzip DynamoDB JSON (checked against the manifest on the way),
    under the backup's own folder path; a complete staged copy of the same backup is reused.

    Nothing is deleted: the marker (`hippolyte-staged.json`, naming the backup) is written first and marked
    complete last, so a rerun overwrites only the part files a staging of the same backup wrote; a folder holding
    anything else is refused, as ImportTable would read every object below its prefix."""
    marker = join(folder, STAGED_NAME)
    origin = url_under(store.url, folder)
    source = staged_source(staging, folder)
    files = manifest_file.data_files(doc)
    parts = [join(folder, "data", f"part-{number:05d}.json.gz") for number in range(len(files))]
    staged = json.loads(staging.read_bytes(marker)) if staging.exists(marker) else None
    where = url_under(staging.url, folder)
    if staged is not None and staged.get("staged_from") != origin:
        raise InputError("stage_to", f"{where} holds a staged copy of {staged.get('staged_from')}, not of {origin}",
                         "stage to another prefix, or remove that copy if it is no longer needed")
    if staged is not None and staged.get("complete", True):  # older markers were written last: complete
        return source
    others = [o.key for o in staging.list_objects(join(folder, "data"))
              if staged is None or o.key not in parts]
    if others:
        raise InputError("stage_to", f"{where}/data/ holds {len(others)} object(s) this staging did not write "
                                     f"({others[0]}), which ImportTable would read as data",
                         "stage to another prefix; nothing there is deleted")
    staging.put_bytes(marker, json.dumps({"staged_from": origin, "item_count": doc["item_count"],
                                          "complete": False}).encode())

    def copy(numbered: tuple[int, manifest_file.DataFile]) -> None:
        number, data_file = numbered
        # A rerun of an unfinished staging of this backup rewrites the parts it wrote (the marker says so).
        raw = HashingWriter(staging.open_writer(parts[number], replace=staged is not None))
        try:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                for request in iter_put_requests(store, folder, data_file, doc["data_format"]):
                    gz.write(item_line(request) + b"\n")
            raw.close()
        except BaseException:
            raw.abort()
            raise

    with ThreadPoolExecutor(max(1, min(readers, len(files) or 1))) as pool:
        list(pool.map(copy, enumerate(files)))
    staging.put_bytes(marker, json.dumps({"staged_from": origin, "item_count": doc["item_count"],
                                          "complete": True}).encode())
    return source


def apply_what_import_cannot_create(ddb: Any, schema: dict[str, Any], target: str, timeout_s: float) -> None:
    """Streams, table class, TTL and tags as captured, on the imported table (then apply_captured_settings).
    Each UpdateTable change is made only when the table lacks it, so a rerun after a crash can finish."""
    table = wait_table_active(ddb, target, timeout_s)
    left = {k: v for k, v in create_table_request(schema, target).items()
            if k not in IMPORT_PARAMETERS and k != "LocalSecondaryIndexes"}
    have = {"StreamSpecification": table.get("StreamSpecification"),
            "TableClass": (table.get("TableClassSummary") or {}).get("TableClass", "STANDARD"),
            "DeletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled"))}
    apply_ttl_and_tags(ddb, schema, table)
    # One change per UpdateTable; PITR, deletion protection (last) and the rest come from apply_captured_settings.
    for key in ("StreamSpecification", "TableClass"):
        if key in left and have[key] != left[key]:
            ddb.update_table(TableName=target, **{key: left[key]})
            wait_table_active(ddb, target, timeout_s)


def restore_by_import(ddb: Any, store: BackupStore, folder: str, target: str, restore_settings: RestoreSettings,
                      settings: ImportSettings, staging: S3Store | None = None, check_mode: bool = False,
                      stop: threading.Event | None = None,
                      progress: Callable[[str], None] | None = None) -> tuple[RestoreResult, ImportReport | None]:
    """Restore `folder` into the new table `target` by ImportTable; refuses, before anything is created, what
    import cannot do (LSIs, an existing table it did not import, a backup it cannot read without staging)."""
    doc = load_manifest(store, folder)
    state = inspect_target(ddb, target)
    expected = doc["item_count"]
    if state.restored_from == folder:
        done = rerun_check(ddb, store, folder, doc, target, restore_settings, stop)
        if done is None:  # forced over a table that drifted
            raise InputError("engine", f"table {target!r} no longer holds the restore of {folder}, and ImportTable "
                                       "only creates new tables", "use engine: load with force: true to empty it and "
                                       "load the backup again, or restore to a new target")
        return done, None
    lsis = local_indexes(doc["schema"])
    if lsis:
        raise InputError("engine", f"the backed-up table has local secondary indexes ({', '.join(lsis)}), which "
                                   "ImportTable cannot create; nothing was created",
                         "use engine: load (or auto, which loads such tables)")
    if staging is not None:
        check_staging(staging, store)
    source, why_not = in_place_source(store, folder, doc)
    planned = source or (staged_source(staging, folder) if staging else None)
    if planned is None:
        raise InputError("engine", f"this backup cannot be imported as stored: {why_not}",
                         "set stage_to: s3://bucket/prefix to copy it there first, or use engine: load")
    found = find_import(ddb, state.arn, planned) if state.exists and state.arn else None
    if state.exists and found is None:
        raise InputError("target", f"table {target!r} exists, and ImportTable only creates new tables",
                         "name a new target, or use engine: load to load into it")
    key = None if found else new_table_key(ddb, doc["schema"], restore_settings)
    if check_mode:
        verb = f"wait for import {found} into" if found else "import"
        staged = f" after staging it to {planned.staged_to}" if source is None else ""
        return RestoreResult(folder, target, True, not state.exists, expected, 0, None, 0.0, 0,
                             f"would {verb} table {target} from {expected} items{staged}",
                             table_key=key.as_dict() if key else None), None
    clock = time.monotonic()
    if found is None:
        if source is None and staging is not None:
            planned = stage(store, folder, doc, staging, restore_settings.readers)
        elif restore_settings.verify_before_write:
            refuse_damaged(store, folder, doc, restore_settings.readers)
        raise_if_stopped(stop)
        found = start_import(ddb, doc["schema"], target, planned, url_under(store.url, folder), key)
    described = wait_import(ddb, found, settings, stop, progress)
    report = ImportReport.of(described, planned)
    if report.status != "COMPLETED":
        raise HippolyteError(f"import {report.import_arn} into {target} ended {report.status}: "
                             f"{described.get('FailureCode') or 'no code'}: {described.get('FailureMessage') or ''}"
                             f"{_log_note(report)}; nothing else was applied to {target}; once the cause is fixed, "
                             "run the restore again: it starts a new import")
    if report.rejected_items > settings.max_rejected_items:
        raise HippolyteError(f"import {report.import_arn} rejected {report.rejected_items} of {expected} items "
                             f"(max_rejected_items: {settings.max_rejected_items}){_log_note(report)}; {target} "
                             f"holds the {report.imported_items} imported and is not marked restored: delete it, or "
                             f"run again with max_rejected_items: {report.rejected_items} to accept them")
    wait_table_active(ddb, target, restore_settings.wait_timeout_s)
    counted = count_items(ddb, target, max(1, restore_settings.workers)) if restore_settings.verify else None
    if counted is not None and counted != expected - report.rejected_items:
        raise HippolyteError(f"{target} holds {counted} items after import {report.import_arn}, the backup has "
                             f"{expected} and {report.rejected_items} were rejected")
    comparison = (compare_restored(ddb, store, folder, doc, target, restore_settings, stop)
                  if restore_settings.compare else None)
    apply_what_import_cannot_create(ddb, doc["schema"], target, restore_settings.wait_timeout_s)
    extra = apply_captured_settings(ddb, doc["schema"], target, restore_settings)  # an import always made the table
    arn = ddb.describe_table(TableName=target)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": RESTORED_FROM_TAG, "Value": folder}])
    rejected = f", {report.rejected_items} rejected (accepted by max_rejected_items)" if report.rejected_items else ""
    return RestoreResult(folder, target, True, not state.exists, expected, report.imported_items, counted,
                         time.monotonic() - clock, 0,
                         f"imported {report.imported_items} items from {folder} into {target}{rejected}"
                         + not_restored_note(extra), comparison, key.as_dict() if key else None, extra), report


def _log_note(report: ImportReport) -> str:
    return f"; DynamoDB logged the details in {report.log_group}" if report.log_group else ""


def restore_with_engine(ddb: Any, store: BackupStore, folder: str, target: str, restore_settings: RestoreSettings,
                        settings: ImportSettings, staging: S3Store | None = None, check_mode: bool = False,
                        stop: threading.Event | None = None,
                        progress: Callable[[str], None] | None = None) -> EngineRestore:
    """Restore by the engine `settings.engine` names, `auto` choosing by the backup's size and cost."""
    settings.validate()
    restore_settings.validate()
    doc = load_manifest(store, folder)
    state = inspect_target(ddb, target)
    why_not = "" if settings.engine == "load" else in_place_source(store, folder, doc)[1]
    choice = choose_engine(doc, folder, state, settings, restore_settings.write_capacity, why_not, staging is not None)
    if choice.engine == "import":
        result, report = restore_by_import(ddb, store, folder, target, restore_settings, settings, staging,
                                           check_mode, stop, progress)
        return EngineRestore(result, choice, report)
    return EngineRestore(restore_backup(ddb, store, folder, target, restore_settings, check_mode, stop), choice, None)
