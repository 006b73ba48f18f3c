"""Run one cluster's Data Pipeline: create, define, activate, watch, record, delete. No Ansible import.

Clients are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    HippolyteError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.waiting import PollTimeout, poll_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join, measure
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import CONNECTOR, data_files
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    Definition,
    PipelineSettings,
    TableTarget,
    fields_of,
    targets_of,
)

ENGINE = "datapipeline"
DESCRIBE_BATCH = 25  # DescribeObjects / DescribePipelines take at most 25 ids
SUCCEEDED = "FINISHED"
FAILED_STATES = ("FAILED", "CANCELED", "CASCADE_FAILED", "TIMEDOUT", "SKIPPED")
TERMINAL_STATES = (SUCCEEDED, *FAILED_STATES)


@dataclass
class TableStatus:
    table: str
    status: str  # FINISHED, a failed state, or a waiting/running state
    folder: str
    error: str | None = None
    manifest: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATES

    def outcome(self, destination: str, lane: str) -> TableOutcome:
        url = url_under(destination, self.folder)
        status = "ok" if self.status == SUCCEEDED else "failed" if self.done else "running"
        outcome = TableOutcome(self.table, ENGINE, status, error=self.error, backup_url=url,
                               engine_state=self.status, lane=lane)
        if self.manifest:
            outcome.record(self.manifest, f"{url}/{manifest_file.MANIFEST_NAME}")
            outcome.started_at, outcome.finished_at = self.manifest["started"], self.manifest["finished"]
        return outcome


# ---------------------------------------------------------------- the pipeline
def find_pipeline(dp: Any, unique_id: str) -> str | None:
    """The id of the pipeline created with this uniqueId, if one exists."""
    ids: list[str] = []
    for page in dp.get_paginator("list_pipelines").paginate():
        ids += [p["id"] for p in page.get("pipelineIdList", [])]
    for start in range(0, len(ids), DESCRIBE_BATCH):
        for desc in dp.describe_pipelines(pipelineIds=ids[start:start + DESCRIBE_BATCH])["pipelineDescriptionList"]:
            if fields_of(desc).get("uniqueId") == unique_id:
                return str(desc["pipelineId"])
    return None


def create_pipeline(dp: Any, name: str, unique_id: str, description: str = "") -> tuple[str, bool]:
    """(pipeline id, created): an existing pipeline with the same uniqueId is reused."""
    existing = find_pipeline(dp, unique_id)
    if existing:
        return existing, False
    response = dp.create_pipeline(name=name[:1024], uniqueId=unique_id, description=description,
                                  tags=[{"key": "hippolyte:unique-id", "value": unique_id[:256]}])
    return response["pipelineId"], True


def pipeline_state(dp: Any, pipeline_id: str) -> str:
    descs = dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    if not descs:
        raise HippolyteError(f"pipeline {pipeline_id} does not exist")
    return fields_of(descs[0]).get("@pipelineState") or "UNKNOWN"


def stored_objects(dp: Any, pipeline_id: str) -> list[dict[str, Any]]:
    """The definition a pipeline holds (empty when none was put yet)."""
    return cast("list[dict[str, Any]]",
                dp.get_pipeline_definition(pipelineId=pipeline_id, version="latest").get("pipelineObjects", []))


def put_definition(dp: Any, pipeline_id: str, objects: list[dict[str, Any]]) -> None:
    """PutPipelineDefinition; AWS's validation errors and warnings fail with their text."""
    response = dp.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=objects)
    problems = [f"{kind} in {entry.get('id')}: {'; '.join(entry.get(key, []))}"
                for kind, key, entries in (("error", "errors", response.get("validationErrors", [])),
                                           ("warning", "warnings", response.get("validationWarnings", [])))
                for entry in entries]
    if problems or response.get("errored"):
        raise HippolyteError(f"Data Pipeline refused the definition of {pipeline_id}: "
                             + ("; ".join(problems) or "errored without details"))


def activate(dp: Any, pipeline_id: str) -> bool:
    """Activate a pipeline that is not yet running; True when this call activated it."""
    if pipeline_state(dp, pipeline_id) not in ("PENDING", "INACTIVE"):
        return False
    dp.activate_pipeline(pipelineId=pipeline_id)
    return True


def delete_pipeline(dp: Any, pipeline_id: str) -> None:
    dp.delete_pipeline(pipelineId=pipeline_id)


# ---------------------------------------------------------------- monitoring
def _instances(dp: Any, pipeline_id: str) -> list[dict[str, Any]]:
    """Every run instance of the pipeline's objects (QueryObjects sphere INSTANCE, then DescribeObjects)."""
    ids: list[str] = []
    try:
        for page in dp.get_paginator("query_objects").paginate(pipelineId=pipeline_id, sphere="INSTANCE"):
            ids += page.get("ids", [])
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return []  # an endpoint that never runs pipelines has no instances to show
        raise
    objects: list[dict[str, Any]] = []
    for start in range(0, len(ids), DESCRIBE_BATCH):
        response = dp.describe_objects(pipelineId=pipeline_id, objectIds=ids[start:start + DESCRIBE_BATCH],
                                       evaluateExpressions=False)
        objects += response.get("pipelineObjects", [])
    return objects


def table_statuses(dp: Any, pipeline_id: str, targets: list[TableTarget]) -> list[TableStatus]:
    """Each table's state, from its export activity's newest instance (WAITING when none exists yet)."""
    latest: dict[str, dict[str, str]] = {}
    for obj in _instances(dp, pipeline_id):
        values = fields_of(obj)
        parent = values.get("@componentParent")
        if parent and (parent not in latest or
                       values.get("@scheduledStartTime", "") >= latest[parent].get("@scheduledStartTime", "")):
            latest[parent] = values
    statuses = []
    for target in targets:
        values = latest.get(target.activity_id, {})
        status = (values.get("@status") or "WAITING_ON_DEPENDENCIES").upper()
        error = values.get("errorMessage") or values.get("@errorMessage") if status in FAILED_STATES else None
        statuses.append(TableStatus(target.table, status, target.folder, error))
    return statuses


def wait(dp: Any, pipeline_id: str, targets: list[TableTarget], timeout_s: float, poll_s: float = 30.0,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
         progress: Callable[[list[TableStatus]], None] | None = None) -> tuple[list[TableStatus], bool]:
    """Poll until every table is finished or failed, or the timeout passes: (statuses, all done)."""
    last: list[TableStatus] = []

    def finished() -> list[TableStatus] | None:
        last[:] = table_statuses(dp, pipeline_id, targets)
        if progress:
            progress(last)
        return list(last) if all(s.done for s in last) else None

    try:
        return poll_until(finished, timeout_s, poll_s, f"waiting for pipeline {pipeline_id}", sleep=sleep,
                          clock=clock), True
    except PollTimeout:
        return list(last), False


# ---------------------------------------------------------------- recording
def _file_entry(store: BackupStore, key: str, folder: str) -> manifest_file.DataFile:
    facts = measure(store, key)
    return manifest_file.DataFile(key[len(folder) + 1:], facts.items, facts.size, facts.sha256)


def _record_one(ddb: Any, store: BackupStore, status: TableStatus, account: str, region: str,
                started: datetime, finished: datetime) -> dict[str, Any]:
    """hippolyte-manifest.json of a finished export, from the files really in its data/ folder."""
    data = join(status.folder, "data")
    keys = data_files(store.list_files(data), data, CONNECTOR)
    if not keys:
        raise HippolyteError(f"{status.table}: the pipeline reports success but {data} holds no data files")
    files = [_file_entry(store, key, status.folder) for key in keys]
    return write_manifest(store, status.folder, schema=capture_schema(ddb, status.table), account=account,
                          region=region, engine=ENGINE, data_format="emr-connector",
                          consistency="fuzzy-scan", started=started.isoformat(), finished=finished.isoformat(),
                          files=files, origin=manifest_file.night_origin(ENGINE, None, None))


def record(ddb: Any, store: BackupStore, statuses: list[TableStatus], account: str, region: str,
           started: datetime, finished: datetime) -> int:
    """Manifests for the tables that finished (never for a failed one); returns how many were written.

    A manifest already there (an earlier poll recorded it) is read back, not rewritten; a table that
    "finished" without data files becomes FAILED.
    """
    written = 0
    for status in statuses:
        if status.status != SUCCEEDED:
            continue
        key = join(status.folder, manifest_file.MANIFEST_NAME)
        if store.exists(key):
            status.manifest = manifest_file.loads(store.read_bytes(key), key)
            continue
        try:
            status.manifest = _record_one(ddb, store, status, account, region, started, finished)
            written += 1
        except HippolyteError as exc:
            status.status, status.error = "FAILED", str(exc)
    return written


# ---------------------------------------------------------------- the engine
class PipelineRun:
    """One planned cluster's pipeline as a `cluster_engine.ClusterEngine`: start creates (or finds) it, puts
    its definition and, with `activate`, activates it; poll reports each table and records the finished
    ones; finish deletes the pipeline once every table is done (with `delete_when_finished`)."""

    def __init__(self, dp: Any, ddb: Any, store: Callable[[], BackupStore], definition: Definition,
                 settings: PipelineSettings, cluster_id: str, unique_id: str, activate: bool = True,
                 delete_when_finished: bool = True, name: str = "") -> None:
        self.dp, self.ddb, self.store, self.definition, self.settings = dp, ddb, store, definition, settings
        self.cluster_id, self.unique_id, self.name = cluster_id, unique_id, name or f"hippolyte-{unique_id}"
        self.activate, self.delete_when_finished = activate, delete_when_finished
        self.pipeline_id: str | None = None
        self.state = "ABSENT"
        self.targets = definition.targets
        self.just_activated = False
        self.manifests_written = 0

    def start(self) -> bool:
        pid, created = create_pipeline(self.dp, self.name, self.unique_id,
                                       f"DynamoDB backup of cluster {self.cluster_id}")
        stored = [] if created else stored_objects(self.dp, pid)
        if stored:
            self.targets = targets_of(stored, self.settings.destination)  # an existing pipeline keeps its folders
        else:
            put_definition(self.dp, pid, self.definition.objects)
        self.just_activated = self.activate and activate(self.dp, pid)
        self.pipeline_id, self.state = pid, pipeline_state(self.dp, pid)
        return created or not stored or self.just_activated

    def statuses(self) -> list[TableStatus]:
        if not self.activate:
            return [TableStatus(t.table, "NOT_ACTIVATED", t.folder) for t in self.targets]
        if self.just_activated or self.pipeline_id is None:
            # Activated by this very call: no run instance exists yet, so there is nothing to query.
            self.just_activated = False
            return [TableStatus(t.table, "WAITING_ON_DEPENDENCIES", t.folder) for t in self.targets]
        statuses = table_statuses(self.dp, self.pipeline_id, self.targets)
        if any(s.status == SUCCEEDED for s in statuses):
            started = folder_time(self.targets[0].folder.rsplit("/", 1)[-1]) or datetime.now(UTC).replace(microsecond=0)
            self.manifests_written += record(self.ddb, self.store(), statuses, self.settings.account,
                                             self.settings.region, started, datetime.now(UTC).replace(microsecond=0))
        return statuses

    def poll(self) -> list[TableOutcome]:
        return [s.outcome(self.settings.destination, self.cluster_id) for s in self.statuses()]

    def finish(self) -> bool:
        if not self.delete_when_finished or self.pipeline_id is None or not self.activate:
            return False
        delete_pipeline(self.dp, self.pipeline_id)
        self.state = "DELETED"
        return True
