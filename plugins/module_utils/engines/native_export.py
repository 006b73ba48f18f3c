"""The export engine: DynamoDB's own ExportTableToPointInTime into the backup layout.

`ExportRun` is its engine class, driven by `cluster_engine.watch` like EMR's and Data Pipeline's.

Every table of a run is exported at the same ExportTime into its backup folder,
`<destination>/<account>/<region>/<table>/<export time>/data/` (DynamoDB adds `AWSDynamoDB/<ExportId>/`
below it, with `manifest-summary.json`, `manifest-files.json` and `data/*.json.gz`). The export reads
the table's PITR history, not the table, so it costs no read capacity and is a true point in time.

When an export completes, `hippolyte-manifest.json` is written: item counts from the native
manifest when there is one (else counted from the data), sizes and sha256 from the stored bytes, the
md5 AWS recorded checked on the way. A failed export never gets one. Runs are idempotent: an export
already started into the same folder is picked up instead of started again (also by ClientToken).

A plan with a `window` is an incremental export of that window's changes (view NEW_AND_OLD_IMAGES) into its
increment folder (see `_store/increment_folders.py`); its manifest's data format is `native-export-incremental`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import Window
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    account_of,
    check_relative_key,
    check_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    S3Store,
    join,
    measure,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import (
    NATIVE,
    NATIVE_FILES,
    NATIVE_SUMMARY,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import (
    data_files as export_data_files,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.increment_folders import INCREMENTAL_FORMAT
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest

ENGINE = "export"
DATA_FORMAT = "native-export"
VIEW = "NEW_AND_OLD_IMAGES"  # the old image too: a line's deleted item is then told from a bare key
EXPORT_FORMAT = "DYNAMODB_JSON"
DONE = ("COMPLETED", "FAILED")
_READ_CHUNK = 1024 * 1024


@dataclass
class ExportSettings:
    """What the exports of one call share (fields named as dynamodb_export's options); how they are watched is
    `cluster_engine.Watching`, the bucket's owner the store's."""

    run_id: str
    export_time: datetime | None = None  # default: now, the same for every table of the call
    account_id: str | None = None
    maximum_retries: int = 0  # new exports of a table after DynamoDB reports its export FAILED
    # A night's time may be before a table could be restored to (created, or PITR turned on, since) or, for a
    # run started before its window, still to come: export each table at the nearest time it can be.
    clamp_export_time: bool = False

    def validate(self, now: datetime) -> None:
        if not self.run_id or not self.run_id.strip():
            raise InputError("run_id", "is empty", "pass the run's id, e.g. the backup run's timestamp")
        if self.export_time is not None and self.export_time > now and not self.clamp_export_time:
            raise InputError("export_time", f"{self.export_time.isoformat()} is in the future",
                             "DynamoDB exports only the past: leave it unset for now")
        if self.maximum_retries < 0:
            raise InputError("maximum_retries", f"must be 0 or more, got {self.maximum_retries}")


@dataclass
class TableExport:
    table: str
    folder: str  # relative to the store
    backup_url: str
    schema: dict[str, Any]
    account: str
    region: str
    export_time: datetime  # the call's, or this table's nearest restorable time (clamp_export_time)
    export_arn: str | None = None
    status: str = "PENDING"  # PENDING (check mode) | IN_PROGRESS | COMPLETED | FAILED
    started: bool = False  # this call started the export (as opposed to finding it running or done)
    wrote_manifest: bool = False  # this call wrote hippolyte-manifest.json
    attempts: int = 1  # exports started for this table in this run (a picked-up export counts as one)
    history: list[str] = field(default_factory=list)  # failed attempts that were retried
    item_count: int | None = None
    failure: str | None = None
    manifest: dict[str, Any] | None = field(default=None, repr=False)
    window: Window | None = None  # an incremental export of this window's changes; None: a full export

    def outcome(self) -> TableOutcome:
        status = {"COMPLETED": "ok", "FAILED": "failed"}.get(self.status, "running")
        outcome = TableOutcome(self.table, ENGINE, status if status != "ok" or self.manifest else "running",
                               error=self.failure, backup_url=self.backup_url, engine_state=self.status)
        if self.manifest:
            outcome.record(self.manifest, f"{self.backup_url}/{manifest_file.MANIFEST_NAME}")
            outcome.started_at, outcome.finished_at = self.manifest["started"], self.manifest["finished"]
        return outcome

    def result(self) -> dict[str, Any]:
        window = {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat()
                  } if self.window else {}
        return {**window, "table": self.table, "export_arn": self.export_arn, "status": self.status,
                "export_time": self.export_time.isoformat(),
                "backup_url": self.backup_url, "item_count": self.item_count, "failure": self.failure,
                "started": self.started, "attempts": self.attempts, "retried_failures": self.history,
                "manifest_url": f"{self.backup_url}/{manifest_file.MANIFEST_NAME}" if self.manifest else None}


def client_token(run_id: str, table: str) -> str:
    """The same run and table always give the same token, so a retried call never starts a second export."""
    return hashlib.sha256(f"hippolyte/{run_id}/{table}".encode()).hexdigest()[:36]


def _s3_store(store: BackupStore) -> S3Store:
    if not isinstance(store, S3Store):
        raise InputError("destination", f"{store.url} is not in S3; DynamoDB exports only to S3",
                         "use an s3://bucket/prefix destination, or the local engine for a folder")
    return store


def prepare(ddb: Any, store: BackupStore, tables: list[str], region: str, settings: ExportSettings,
            now: datetime | None = None) -> list[TableExport]:
    """Check every table and the bucket; nothing is created. Raises InputError naming the first bad table."""
    now = now or utc_now()
    settings.validate(now)
    s3 = _s3_store(store)
    if not tables:
        raise InputError("tables", "is empty", "name at least one table")
    if len(set(tables)) != len(tables):
        raise InputError("tables", "names a table twice", "list each table once")
    at = min(settings.export_time or now, now).astimezone(UTC).replace(microsecond=0)
    plans = []
    for name in tables:
        check_table_name("tables", name)
        describe_table(ddb, name, field="tables")
        table_at = min(_restorable_time(ddb, name, at, settings.clamp_export_time), now.replace(microsecond=0))
        schema = capture_schema(ddb, name)
        account = account_of(schema.get("TableArn"), settings.account_id)
        folder = backup_folder(account, region, name, table_at)
        plans.append(TableExport(table=name, folder=folder, backup_url=url_under(s3.url, folder),
                                 schema=schema, account=account, region=region, export_time=table_at))
    s3.check_writable()
    settings.export_time = at
    return plans


def _restorable_time(ddb: Any, name: str, at: datetime, clamp: bool) -> datetime:
    """The time to export the table at: `at`, or with `clamp` its earliest restorable second when that is
    later. PITR must be on, and the time inside its window (else AWS refuses that table after others have
    started)."""
    earliest = restorable_span(ddb, name)[0]
    if earliest is None or at >= earliest.replace(microsecond=0):
        return at
    if clamp:  # the next whole second: folder names and export times have no fraction
        return (earliest + timedelta(seconds=1)).replace(microsecond=0)
    raise InputError("export_time", f"{at.isoformat()} is before table {name!r}'s earliest restorable time "
                     f"{earliest.isoformat()}", "choose a later export_time, or leave it unset")


def restorable_span(ddb: Any, name: str) -> tuple[datetime | None, datetime | None]:
    """The table's earliest and latest restorable times (UTC; None where DynamoDB does not say); InputError when
    PITR is off, since nothing can be exported then."""
    try:
        described = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            described = {}
        else:
            raise
    pitr = described.get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise InputError("tables", f"table {name!r} has point-in-time recovery off, so it cannot be exported",
                         "enable PITR on it (update_continuous_backups) or back it up with another engine")
    return _utc(pitr.get("EarliestRestorableDateTime")), _utc(pitr.get("LatestRestorableDateTime"))


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def _data_prefix(store: S3Store, folder: str) -> str:
    return join(store.prefix, folder, "data")


def _describe(ddb: Any, arn: str) -> dict[str, Any]:
    return cast("dict[str, Any]", ddb.describe_export(ExportArn=arn)["ExportDescription"])


def _started_before(export_arn: str, at: datetime) -> bool:
    """Whether an AWS export id (`<start epoch ms>-<hex>`) shows it started before `at` (so it is not ours)."""
    started_ms = export_arn.rsplit("/", 1)[-1].split("-", 1)[0]
    return started_ms.isdigit() and len(started_ms) >= 13 and int(started_ms) < at.timestamp() * 1000


def _find_existing(ddb: Any, store: S3Store, plan: TableExport, at: datetime) -> dict[str, Any] | None:
    """An export of this table already sent to this folder (a re-run of the same run), if any."""
    arn = plan.schema.get("TableArn")
    kwargs: dict[str, Any] = {"TableArn": arn}
    while True:  # botocore has no paginator for ListExports
        page = ddb.list_exports(**kwargs)
        for summary in page.get("ExportSummaries", []):
            if _started_before(summary["ExportArn"], at):  # older nights' exports: skip without describing
                continue
            described = _describe(ddb, summary["ExportArn"])
            if (described.get("S3Bucket") == store.bucket
                    and described.get("S3Prefix", "").strip("/") == _data_prefix(store, plan.folder)
                    and described.get("ExportStatus") != "FAILED"):
                return described
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def _apply(plan: TableExport, described: dict[str, Any]) -> None:
    plan.export_arn = described["ExportArn"]
    plan.status = described.get("ExportStatus", "IN_PROGRESS")
    if plan.status == "FAILED":
        plan.failure = f"{described.get('FailureCode') or 'FAILED'}: {described.get('FailureMessage') or ''}".strip()


def start(ddb: Any, store: BackupStore, plans: list[TableExport], settings: ExportSettings) -> None:
    """Start (or pick up) the export of every planned table, all at settings.export_time."""
    s3 = _s3_store(store)
    for plan in plans:
        if store.exists(join(plan.folder, manifest_file.MANIFEST_NAME)):  # finished by an earlier call
            plan.manifest = manifest_file.loads(store.read_bytes(join(plan.folder, manifest_file.MANIFEST_NAME)),
                                                plan.backup_url)
            plan.status, plan.item_count = "COMPLETED", plan.manifest["item_count"]
            plan.export_arn = plan.manifest.get("export_arn")
            continue
        if plan.export_arn:  # already started or found by this call
            continue
        existing = _find_existing(ddb, s3, plan, plan.export_time)
        if existing is not None:
            _apply(plan, existing)
            continue
        _start_one(ddb, s3, plan, settings, attempt=1)


def _start_one(ddb: Any, s3: S3Store, plan: TableExport, settings: ExportSettings, attempt: int) -> None:
    name = plan.table if plan.window is None else f"{plan.table}@{plan.window.start.isoformat()}"
    token = client_token(settings.run_id, name if attempt == 1 else f"{name}#{attempt}")
    request: dict[str, Any] = {
        "TableArn": plan.schema["TableArn"], "ClientToken": token,
        "S3Bucket": s3.bucket, "S3Prefix": _data_prefix(s3, plan.folder), "ExportFormat": EXPORT_FORMAT}
    if plan.window is None:
        request["ExportTime"] = plan.export_time
    else:
        request["ExportType"] = "INCREMENTAL_EXPORT"
        request["IncrementalExportSpecification"] = {"ExportFromTime": plan.window.start,
                                                     "ExportToTime": plan.window.end, "ExportViewType": VIEW}
    if s3.encryption.sse:  # DynamoDB writes the export's objects: ask it for the store's encryption
        request["S3SseAlgorithm"] = "KMS" if s3.encryption.sse == "aws:kms" else "AES256"
        if s3.encryption.kms_key_id:
            request["S3SseKmsKeyId"] = s3.encryption.kms_key_id
    if s3.expected_owner:  # DynamoDB writes there on our behalf: the same check as the store's own writes
        request["S3BucketOwner"] = s3.expected_owner
    try:
        described = ddb.export_table_to_point_in_time(**request)["ExportDescription"]
    except Exception as exc:
        if is_error(exc, "PointInTimeRecoveryUnavailableException"):
            raise InputError("tables", f"table {plan.table!r} has point-in-time recovery off",
                             "enable PITR on it or back it up with another engine") from exc
        if is_error(exc, "IdempotentParameterMismatchException"):
            raise InputError("export_time", f"run {settings.run_id!r} already started an export of "
                             f"{plan.table!r} with other parameters (another export_time or destination)",
                             "re-run with the run's original export_time, or use a new run_id") from exc
        raise
    plan.started, plan.attempts, plan.failure = True, attempt, None
    _apply(plan, described)


class ExportRun:
    """A night's exports as a `cluster_engine.ClusterEngine`: start starts (or finds) every table's export at
    its time; poll describes the unfinished ones, starts a failed one again while `maximum_retries` last, and records
    the manifest of each completed one (a damaged one fails instead); there is nothing to clean up."""

    def __init__(self, ddb: Any, store: BackupStore, plans: list[TableExport], settings: ExportSettings) -> None:
        self.ddb, self.store, self.plans, self.settings = ddb, store, plans, settings

    def start(self) -> bool:
        start(self.ddb, self.store, self.plans, self.settings)
        return any(plan.started for plan in self.plans)

    def poll(self) -> list[TableOutcome]:
        for plan in self.plans:
            if plan.status not in DONE and plan.export_arn:
                _apply(plan, _describe(self.ddb, plan.export_arn))
                if plan.status == "FAILED" and plan.attempts <= self.settings.maximum_retries:  # DynamoDB's: try again
                    plan.history.append(f"{plan.export_arn}: {plan.failure}")
                    _start_one(self.ddb, _s3_store(self.store), plan, self.settings, attempt=plan.attempts + 1)
            if plan.status == "COMPLETED" and plan.manifest is None:
                try:
                    finish(self.ddb, self.store, plan, self.settings.run_id)
                except HippolyteError as exc:  # data that does not check out is a failed backup, not a good one
                    plan.status, plan.failure = "FAILED", str(exc)
        return [plan.outcome() for plan in self.plans]

    def finish(self) -> bool:
        return False


# ------------------------------------------------------------------ finishing a completed export

def _native_manifests(store: S3Store, folder: str, files: list[str]) -> tuple[dict[str, Any] | None,
                                                                              list[dict[str, Any]] | None]:
    """The export's manifest-summary.json and manifest-files.json entries, when DynamoDB wrote them."""
    summaries = [f for f in files if f.rsplit("/", 1)[-1] == NATIVE_SUMMARY]
    if not summaries:
        return None, None
    if len(summaries) > 1:
        raise HippolyteError(f"{url_under(store.url, folder)}/data holds {len(summaries)} native exports; "
                             "expected one per backup folder")
    summary_key = summaries[0]
    where = url_under(store.url, summary_key)
    try:
        summary = json.loads(store.read_bytes(summary_key))
    except ValueError as exc:
        raise HippolyteError(f"{where} is not JSON: {exc}") from exc
    files_key = summary_key.rsplit("/", 1)[0] + "/" + NATIVE_FILES
    if not store.exists(files_key):
        raise HippolyteError(f"{where} has no {NATIVE_FILES} beside it: the export is incomplete")
    entries = []
    for number, line in enumerate(store.read_bytes(files_key).splitlines(), 1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError as exc:
                raise HippolyteError(f"{url_under(store.url, files_key)} line {number} is not JSON: {exc}") from exc
    return summary, entries


def _relative(store: S3Store, folder: str, bucket_key: str) -> str:
    """A bucket key (as manifest-files.json gives it) relative to the backup folder."""
    base = join(store.prefix, folder) + "/"
    if not bucket_key.startswith(base):
        raise HippolyteError(f"data file s3://{store.bucket}/{bucket_key} lies outside the backup folder {base}")
    # The AWSDynamoDB/<ExportId>/ part comes from the export's own manifest: `..` in it would lead out.
    return check_relative_key(NATIVE_FILES, bucket_key[len(base):])


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value) if value else utc_now().isoformat()


def _own_files(listed: list[str], plan: TableExport) -> list[str]:
    """The files of this export's `AWSDynamoDB/<ExportId>/` tree, leaving a failed earlier attempt's out.

    Falls back to every file when no tree carries the export's id (a stand-in naming it otherwise)."""
    export_id = (plan.export_arn or "").rsplit("/", 1)[-1]
    own = [k for k in listed if export_id and f"/AWSDynamoDB/{export_id}/" in k]
    return own or listed


def finish(ddb: Any, store: BackupStore, plan: TableExport, night: str | None = None) -> None:
    """Write hippolyte-manifest.json for a COMPLETED export (from the native manifest when present)."""
    s3 = _s3_store(store)
    described = _describe(ddb, plan.export_arn) if plan.export_arn else {}
    listed = _own_files(store.list_files(join(plan.folder, "data")), plan)
    summary, entries = _native_manifests(s3, plan.folder, listed)
    data_files: list[manifest_file.DataFile] = []
    if entries is not None:
        for entry in entries:
            key = _relative(s3, plan.folder, entry["dataFileS3Key"])
            facts = measure(store, join(plan.folder, key))
            if entry.get("md5Checksum") and entry["md5Checksum"] != facts.md5_base64:
                raise HippolyteError(f"{plan.backup_url}/{key}: md5 differs from the export's manifest-files.json; "
                                     "the export is damaged, no manifest written")
            data_files.append(manifest_file.DataFile(key, int(entry["itemCount"]), facts.size, facts.sha256))
        expected = summary.get("itemCount") if summary else None
        if expected is not None and int(expected) != sum(f.items for f in data_files):
            raise HippolyteError(f"{plan.backup_url}: {NATIVE_FILES} counts {sum(f.items for f in data_files)} items, "
                                 f"{NATIVE_SUMMARY} says {expected}")
    else:  # no native manifest (some stand-ins write data only): the export's .gz files are data
        for key in export_data_files(listed, join(plan.folder, "data"), NATIVE):
            facts = measure(store, key)
            data_files.append(manifest_file.DataFile(key[len(plan.folder) + 1:], facts.items, facts.size,
                                                     facts.sha256))
        reported = described.get("ItemCount")
        if reported is not None and int(reported) != sum(f.items for f in data_files):
            raise HippolyteError(f"{plan.backup_url}: the data files hold {sum(f.items for f in data_files)} items, "
                                 f"DescribeExport says {reported}")
    extra: dict[str, Any] = {"export_arn": plan.export_arn, "native_manifest": summary is not None,
                             "export_time": _iso(described.get("ExportTime")) if described.get("ExportTime") else None}
    if plan.window is not None:
        extra.update(export_from=plan.window.start.isoformat(), export_to=plan.window.end.isoformat(),
                     export_view=VIEW)
    doc = write_manifest(store, plan.folder, extra=extra, schema=plan.schema, account=plan.account,
                         region=plan.region, engine=ENGINE, consistency="point-in-time",
                         data_format=DATA_FORMAT if plan.window is None else INCREMENTAL_FORMAT,
                         started=_iso(described.get("StartTime") or described.get("ExportTime")),
                         finished=_iso(described.get("EndTime")), files=data_files,
                         origin=manifest_file.night_origin(ENGINE, night, None))
    plan.manifest, plan.item_count, plan.wrote_manifest = doc, doc["item_count"], True
