"""What backup_restore does, from its options to its answer.

Find the backup (or first make one: a dynamodump dump imported, a folder made elsewhere adopted), then either
restore it into a new or empty table by the engine the settings choose, or (compare_with) measure how far a live
table drifted from it. Every option is checked before a client is made: clients come from callables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import (
    folder_time,
    parse_at,
    parse_moment,
    parse_span,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import prices
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_account_id, check_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    Encryption,
    S3Store,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import find_backup
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.adoption import (
    SchemaSource,
    adopt_folder,
    find_format,
    resolve_schema,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import (
    TableDiffers,
    check_same_key,
    compare_table,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.dynodump import (
    ImportResult,
    discarded_on_failure,
    import_dump,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import (
    ImportSettings,
    check_staging,
    restore_with_engine,
    staging_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.increment_restore import (
    already_restored,
    apply_increments,
    find_chain,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.point_in_time import (
    PITR,
    choose_source,
    restore_point_in_time,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreResult,
    RestoreSettings,
    TargetDrifted,
    load_manifest,
)

RestoreRates = prices.RestoreRates  # for the module's ImportSettings(rates=...)


@dataclass(frozen=True)
class RestoreRequest:
    """backup_restore's options."""

    table: str  # the backed-up table
    region: str  # where its backups were taken (the module's region)
    settings: RestoreSettings = field(default_factory=RestoreSettings)
    import_settings: ImportSettings = field(default_factory=ImportSettings)
    at: str | None = None  # a date (its whole day) or a moment (the folder filed at exactly that time)
    imports: bool = False
    account_id: str | None = None
    target: str | None = None  # unset: <table>-restored-<taken>
    dynamodump: str | None = None
    adopt_from: str | None = None
    adopt_format: str = "auto"
    schema_from: str | None = None
    key_attributes: tuple[tuple[str, str], ...] = ()  # (name, S|N|B)
    stage_to: str | None = None
    stage_bucket_owner: str | None = None
    sse: str | None = None  # of the staged copy, as of the destination
    kms_key_id: str | None = None
    restore_autoscaling: bool = False
    compare_with: str | None = None
    point_in_time: str | None = None  # a second: restored by point-in-time recovery when it can be (point_in_time.py)
    increments_until: str | None = None  # a second: a full backup and its increments up to it (increment_restore.py)

    def validate(self) -> None:
        self.settings.validate()
        if self.point_in_time:
            clash = [name for name in ("at", "dynamodump", "adopt_from", "compare_with") if getattr(self, name)]
            if clash:
                raise InputError("point_in_time", f"is given with {', '.join(clash)}",
                                 "give point_in_time alone: it chooses between the recovery window and the backups")
        if self.increments_until:
            clash = [name for name in ("at", "point_in_time", "dynamodump", "adopt_from", "compare_with")
                     if getattr(self, name)]
            if clash:
                raise InputError("increments_until", f"is given with {', '.join(clash)}",
                                 "give increments_until alone: it chooses the full backup and its increments")
        self.import_settings.validate()
        # Names that become paths or tables are checked before any call.
        check_table_name("table", self.table)
        for name in ("target", "compare_with"):
            if getattr(self, name):
                check_table_name(name, getattr(self, name))
        if self.account_id:
            check_account_id("account_id", self.account_id)


@dataclass(frozen=True)
class RestoreClients:
    """How to get what the restore calls, once the request is known good."""

    dynamodb: Callable[[], Any]  # the module's connection: the backed-up table's account and region
    store: Callable[[int], BackupStore]  # the destination, for this many readers
    s3: Callable[[], Any]  # for s3:// sources and stage_to
    own_account: Callable[[], str]  # the account of the credentials (backups of which account to look at)
    caller_account: Callable[[], str]  # the owner stage_to's bucket must have when stage_bucket_owner is unset
    autoscaling: Callable[[], Any]  # Application Auto Scaling where the new table is (restore_autoscaling)
    target_dynamodb: Callable[[], Any] | None = None  # the new table's own account or region; None: dynamodb's


@dataclass(frozen=True)
class RestoreAnswer:
    """The module's result: a restore's, or a drift's (compare_with)."""

    backup_url: str
    result: RestoreResult | None = None
    drift: dict[str, Any] | None = None
    compared_table: str | None = None
    engine: dict[str, Any] = field(default_factory=dict)  # engine, engine_choice, import_report

    def facts(self) -> dict[str, Any]:
        if self.drift is not None:
            d = self.drift
            return {"changed": False, "backup_url": self.backup_url, "table": self.compared_table, "drift": d,
                    "msg": f"{self.compared_table} against {self.backup_url}: {d['added']} added, {d['removed']} "
                    f"removed, {d['changed']} changed"}
        r = self.result
        if r is None:
            raise ValueError("a RestoreAnswer holds a result or a drift")
        return {"changed": r.changed, "backup_url": self.backup_url, "target": r.target, "created": r.created,
                "expected_items": r.expected_items, "written_items": r.written_items,
                "counted_items": r.counted_items, "retried_items": r.retried_items,
                "duration_s": round(r.duration_s, 3), "msg": r.msg, "table_key": r.table_key,
                "not_restored": r.not_restored, **self.engine,
                **({"compare": r.comparison} if r.comparison else {})}


def _source(url: str, clients: RestoreClients) -> BackupStore:
    return open_store(url, clients.s3() if url.startswith("s3://") else None)


def adopt_source(request: RestoreRequest, clients: RestoreClients, ddb: Any, store: BackupStore,
                 at: datetime | None, check_mode: bool) -> ImportResult | None:
    """The folder of adopt_from as a backup under the destination (None in check mode: only checked)."""
    if request.adopt_from is None:
        raise ValueError("adopt_source needs adopt_from")
    source = _source(request.adopt_from, clients)
    how = SchemaSource(request.schema_from, request.key_attributes)
    if check_mode:
        resolve_schema(ddb, request.table, how, find_format(source, request.adopt_format), request.region)
        return None
    return adopt_folder(source, store, ddb, request.table, request.region, how, request.adopt_format,
                        request.account_id, at, account_fallback=clients.own_account)


def locate_backup(request: RestoreRequest, clients: RestoreClients, store: BackupStore, imported: ImportResult | None,
                  at: datetime | None, now: datetime) -> tuple[str, datetime]:
    """The folder to restore and when it was taken: the import itself, whatever backups of the table share or
    follow its time; else the newest intact backup at or before `at`."""
    if imported is not None:
        taken = folder_time(imported.folder.rsplit("/", 1)[-1])
        if taken is None:  # import_dump and adopt_folder file under the layout's own folder names
            raise HippolyteError(f"{imported.url} is not named as a backup folder")
        return imported.folder, taken
    # A moment (not a date) names the folder filed at exactly that time, an import included.
    named = None if not request.at or parse_span(request.at, "at").whole_day else at
    ref = find_backup(store, request.table, request.region, request.account_id, at, own_account=clients.own_account,
                      now=now, named=named, imports=request.imports)
    return ref.folder, ref.taken_at


def drift_against(ddb: Any, store: BackupStore, folder: str, table: str, settings: RestoreSettings,
                  stop: threading.Event | None) -> dict[str, Any]:
    """compare_with: the live `table` against the backup; nothing is restored."""
    doc = load_manifest(store, folder)
    check_same_key(describe_table(ddb, table, "compare_with"), doc["schema"], "compare_with")
    return compare_table(ddb, store, folder, doc, table, settings.workers, settings.readers, stop).drift()


def restore_into(request: RestoreRequest, clients: RestoreClients, ddb: Any, store: BackupStore, folder: str,
                 taken: datetime, staging: S3Store | None, check_mode: bool, stop: threading.Event | None,
                 progress: Callable[[str], None] | None, compared: dict[str, Any]) -> RestoreAnswer:
    """Restore `folder` into the target table (new, or empty) by the engine the settings choose."""
    target = check_table_name("target", request.target or f"{request.table}-restored-{taken:%Y%m%d-%H%M%S}")
    # The new table's own region or account; the backup was found and is read with the module's connection.
    target_ddb = clients.target_dynamodb() if clients.target_dynamodb else ddb
    settings = request.settings
    if request.restore_autoscaling:
        settings = replace(settings, autoscaling=clients.autoscaling())
    try:
        outcome = restore_with_engine(target_ddb, store, folder, target, settings, request.import_settings, staging,
                                      check_mode=check_mode, stop=stop, progress=progress)
    except (TableDiffers, TargetDrifted) as exc:
        compared.update(exc.comparison.report())
        raise
    return RestoreAnswer(url_under(store.url, folder), outcome.result, engine={
        "engine": outcome.choice.engine, "engine_choice": outcome.choice.as_dict(),
        "import_report": outcome.report.as_dict() if outcome.report else None})


def _staging(request: RestoreRequest, clients: RestoreClients, store: BackupStore) -> S3Store | None:
    """stage_to's store, refused before anything is written if it overlaps a location holding backups."""
    if not request.stage_to:
        return None
    staging = staging_store(request.stage_to, clients.s3(), Encryption(request.sse, request.kms_key_id),
                            request.stage_bucket_owner or clients.caller_account())
    sources = [open_store(url, clients.s3()) for url in (request.dynamodump, request.adopt_from)
               if url and url.startswith("s3://")]
    check_staging(staging, store, *sources)
    return staging


def restore_request(request: RestoreRequest, clients: RestoreClients, check_mode: bool = False,
                    stop: threading.Event | None = None, progress: Callable[[str], None] | None = None,
                    compared: dict[str, Any] | None = None, now: datetime | None = None) -> RestoreAnswer:
    """Run backup_restore's request. `compared` receives the comparison when the restored table differs from its
    backup (or a rerun finds the table it restored changed), for the failed result."""
    request.validate()
    compared = {} if compared is None else compared
    now = now or utc_now()
    at = parse_at(request.at, now) if request.at else None
    moment = parse_moment(request.point_in_time, now, "point_in_time") if request.point_in_time else None
    until = parse_moment(request.increments_until, now, "increments_until") if request.increments_until else None
    ddb = clients.dynamodb()
    if until is not None:
        return _restore_with_increments(request, clients, ddb, check_mode, stop, progress, compared, now, until)
    if moment is not None:
        choice = choose_source(ddb, request.table, moment, same_place=clients.target_dynamodb is None)
        if choice.source == PITR:
            settings = request.settings
            if request.restore_autoscaling:
                settings = replace(settings, autoscaling=clients.autoscaling())
            target = check_table_name("target", request.target or f"{request.table}-restored-{moment:%Y%m%d-%H%M%S}")
            result = restore_point_in_time(ddb, request.table, target, choice, settings, check_mode)
            return RestoreAnswer(f"point-in-time:{request.table}@{moment.isoformat()}", result,
                                 engine={"engine": "point-in-time", "point_in_time": choice.as_dict()})
        at = moment  # the newest backup at or before that second
        answer = _restore_from_backup(request, clients, ddb, check_mode, stop, progress, compared, now, at)
        answer.engine["point_in_time"] = choice.as_dict()
        return answer
    return _restore_from_backup(request, clients, ddb, check_mode, stop, progress, compared, now, at)


def _restore_with_increments(request: RestoreRequest, clients: RestoreClients, ddb: Any, check_mode: bool,
                             stop: threading.Event | None, progress: Callable[[str], None] | None,
                             compared: dict[str, Any], now: datetime, until: datetime) -> RestoreAnswer:
    """increments_until: the full backup restored as any backup is, then its increments applied and verified."""
    store = clients.store(request.settings.readers)
    found = find_chain(store, request.table, request.region, request.account_id, until, now, clients.own_account)
    target = check_table_name("target", request.target or f"{request.table}-restored-{found.reached:%Y%m%d-%H%M%S}")
    target_ddb = clients.target_dynamodb() if clients.target_dynamodb else ddb
    if not check_mode and not request.settings.force and already_restored(target_ddb, target, found):
        # A rerun: verified again (count and keys), nothing written.
        apply_increments(target_ddb, store, target, found, request.settings, stop, write=False)
        done = RestoreResult(found.full.folder, target, False, False, found.expected_items or 0, 0,
                             found.expected_items, 0.0, 0, f"{target} already holds the restore of "
                             f"{found.full.folder} and its increments to {found.reached.isoformat()}")
        return RestoreAnswer(url_under(store.url, found.full.folder), done, engine={"increments": found.report(store)})
    answer = restore_into(replace(request, target=target), clients, ddb, store, found.full.folder,
                          found.full.taken_at, _staging(request, clients, store), check_mode, stop, progress, compared)
    if not check_mode:
        apply_increments(target_ddb, store, target, found, request.settings, stop)
    answer.engine["increments"] = found.report(store)
    if answer.result is not None:
        answer.result.msg += (f"; then {len(found.increments)} increment(s) applied, restored to "
                              f"{found.reached.isoformat()}" if not check_mode else
                              f"; would apply {len(found.increments)} increment(s), to {found.reached.isoformat()}")
    return answer


def _restore_from_backup(request: RestoreRequest, clients: RestoreClients, ddb: Any, check_mode: bool,
                         stop: threading.Event | None, progress: Callable[[str], None] | None,
                         compared: dict[str, Any], now: datetime, at: datetime | None) -> RestoreAnswer:
    store = clients.store(request.settings.readers)
    staging = _staging(request, clients, store)
    imported = None
    if request.dynamodump and not check_mode:
        # A dump is first imported as an ordinary backup (taken at `at`), then restored like one.
        imported = import_dump(_source(request.dynamodump, clients), request.table, store, request.region,
                               request.account_id, at)
    if request.adopt_from:
        imported = adopt_source(request, clients, ddb, store, at, check_mode)
        if imported is None:  # check mode: the folder and its schema were checked, nothing was copied
            return RestoreAnswer(request.adopt_from, RestoreResult(
                request.adopt_from, request.target or "", True, True, 0, 0, None, 0.0, 0,
                f"would adopt {request.adopt_from} as a backup of {request.table} and restore it"))
    with discarded_on_failure(store, imported):
        folder, taken = locate_backup(request, clients, store, imported, at, now)
        if request.compare_with:
            return RestoreAnswer(url_under(store.url, folder), compared_table=request.compare_with,
                                 drift=drift_against(ddb, store, folder, request.compare_with, request.settings, stop))
        return restore_into(request, clients, ddb, store, folder, taken, staging, check_mode, stop, progress, compared)
