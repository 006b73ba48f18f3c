"""Run one planned cluster on EMR as a cluster engine (`EmrRun`, driven by `cluster_engine.watch`): start it
once, watch its steps, record finished tables, terminate.

- Start is idempotent: a run's cluster is found by name and tags before RunJobFlow is called (an
  active one, else one that already ended in the last two weeks), and its backup timestamp is taken
  from its tag, so a second call with the same run and cluster id monitors (or reports) that cluster
  instead of starting another. A new run needs a new run id.
- Monitoring reads ListSteps; each step is mapped back to its table by its arguments
  (output, table, read ratio) and reported as PENDING, RUNNING, COMPLETED, FAILED or CANCELLED.
- A table whose step FAILED is given a new step, up to `maximum_retries` times, while the cluster
  still runs. A cluster whose last step failed has already ended itself, so that table is reported.
- For every table whose step COMPLETED, `hippolyte-manifest.json` is written (engine `emr`, data
  format `emr-connector`, consistency `fuzzy-scan`), listing the data files under the folder's `data/`
  with size and sha256 computed from the stored bytes and item counts from their lines (one item per
  line in both the current and the legacy export format). When the export's own `manifest` file is
  present it decides which files are data. A failed or cancelled table never gets a manifest.

No Ansible here: boto3 clients and the backup store are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, is_error
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import (
    MANIFEST_NAME,
    DataFile,
    night_origin,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join, measure
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import connector_data_keys
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    TAG_CLUSTER,
    TAG_DESTINATION,
    TAG_RUN,
    JobFlowSettings,
    PlannedStep,
    build_job_flow,
    destination_tag,
    job_flow_name,
    step_request,
    taken_at_from_tags,
)

ACTIVE_CLUSTER_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING")
ENDED_CLUSTER_STATES = ("TERMINATED", "TERMINATED_WITH_ERRORS")
ENDED_LOOKBACK_DAYS = 14  # how far back a finished run's cluster is looked for
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
_STEP_STATES = {"PENDING": "PENDING", "CANCEL_PENDING": "CANCELLED", "RUNNING": "RUNNING", "COMPLETED": "COMPLETED",
                "CANCELLED": "CANCELLED", "FAILED": "FAILED", "INTERRUPTED": "FAILED"}
ENGINE = "emr"
DATA_FORMAT = "emr-connector"
CONSISTENCY = "fuzzy-scan"
_CHUNK = 1024 * 1024


@dataclass
class TableStatus:
    table: str
    status: str
    folder: str
    step_id: str | None = None
    started: str | None = None
    finished: str | None = None
    reason: str | None = None
    manifest: str | None = None  # key of hippolyte-manifest.json, relative to the destination
    manifest_written: bool = False
    attempts: int = 0

    def outcome(self, root: str, lane: str) -> TableOutcome:
        status = {"COMPLETED": "ok", "FAILED": "failed", "CANCELLED": "failed"}.get(self.status, "running")
        if status == "ok" and not self.manifest:
            status = "running"  # its manifest is written by the next poll
        return TableOutcome(self.table, ENGINE, status, started_at=self.started, finished_at=self.finished,
                            manifest_url=f"{root}/{self.manifest}" if self.manifest else None, error=self.reason,
                            backup_url=f"{root}/{self.folder}", engine_state=self.status, lane=lane)

    def to_dict(self, root: str) -> dict[str, Any]:
        return {"name": self.table, "status": self.status, "step_id": self.step_id, "started": self.started,
                "finished": self.finished, "reason": self.reason, "backup_url": f"{root}/{self.folder}",
                "manifest_url": f"{root}/{self.manifest}" if self.manifest else None,
                "manifest_written": self.manifest_written, "attempts": self.attempts}


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return None


def find_cluster(emr: Any, run_id: str, cluster_id: str, ended: bool = False) -> dict[str, Any] | None:
    """The active cluster of this run and planned cluster (same name and tags), if any.

    With `ended`, the newest cluster of the run that has already terminated (looked for over the last
    ENDED_LOOKBACK_DAYS), so a run that has finished is reported rather than started again."""
    name = job_flow_name(run_id, cluster_id)
    kwargs: dict[str, Any] = {"ClusterStates": list(ENDED_CLUSTER_STATES if ended else ACTIVE_CLUSTER_STATES)}
    if ended:
        kwargs["CreatedAfter"] = datetime.now(UTC) - timedelta(days=ENDED_LOOKBACK_DAYS)
    for page in emr.get_paginator("list_clusters").paginate(**kwargs):  # newest first
        for summary in page.get("Clusters", []):
            if summary.get("Name") != name:
                continue
            cluster = emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]
            tags = {t.get("Key"): t.get("Value") for t in cluster.get("Tags", [])}
            if tags.get(TAG_RUN) == run_id and tags.get(TAG_CLUSTER) == cluster_id:
                return cast("dict[str, Any]", cluster)
    return None


def step_states(emr: Any, cluster_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every step of each table on the cluster, newest first (as ListSteps lists them), by table name."""
    steps: dict[str, list[dict[str, Any]]] = {}
    for page in emr.get_paginator("list_steps").paginate(ClusterId=cluster_id):
        for step in page.get("Steps", []):
            args = step.get("Config", {}).get("Args", [])
            if len(args) >= 2:
                steps.setdefault(args[1], []).append(step)
    return steps


def table_statuses(emr: Any, cluster_id: str, planned: list[PlannedStep], cluster_state: str) -> list[TableStatus]:
    found = step_states(emr, cluster_id)
    out = []
    for p in planned:
        attempts = found.get(p.table, [])
        if not attempts:
            ended = cluster_state in ENDED_CLUSTER_STATES
            out.append(TableStatus(p.table, "FAILED" if ended else "PENDING", p.folder,
                                   reason="the cluster has no export step for this table" if ended else None))
            continue
        step = attempts[0]
        status = step.get("Status", {})
        state = _STEP_STATES.get(status.get("State", ""), "PENDING")
        if cluster_state in ENDED_CLUSTER_STATES and state not in TERMINAL:
            state = "CANCELLED"  # the cluster ended under it
        timeline = status.get("Timeline", {})
        reason = status.get("FailureDetails", {}).get("Message") or status.get("StateChangeReason", {}).get("Message")
        out.append(TableStatus(p.table, state, p.folder, step.get("Id"), _iso(timeline.get("StartDateTime")),
                               _iso(timeline.get("EndDateTime")), reason if state != "COMPLETED" else None,
                               attempts=len(attempts)))
    return out


def _retry(emr: Any, cluster_id: str, cluster_state: str, statuses: list[TableStatus],
           planned: list[PlannedStep], s: JobFlowSettings) -> bool:
    """Add a new step for each failed table with retries left, while the cluster runs; True if any was added."""
    if cluster_state not in ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"):
        return False
    by_table = {p.table: p for p in planned}
    added = False
    for status in statuses:
        if status.status != "FAILED" or not status.step_id or status.attempts > s.maximum_retries:
            continue
        try:
            emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=[step_request(by_table[status.table], s)])
        except Exception as exc:
            if is_error(exc, "ValidationException", "InvalidRequestException"):
                return added  # the cluster is ending: what failed stays failed
            raise
        status.reason = f"attempt {status.attempts} failed ({status.reason or 'no reason given'}); retrying"
        status.status, status.attempts, added = "PENDING", status.attempts + 1, True
    return added


# ---------------------------------------------------------------- manifests

def _data_keys(store: BackupStore, data: str) -> list[str]:
    """Keys of the data files under `data`; a folder without the export's `manifest` or `_SUCCESS` is unfinished."""
    return connector_data_keys(store, data, require_marker=True)


def record_finished(store: BackupStore, ddb: Any, status: TableStatus, account: str, region: str,
                    taken_at: datetime, night: str | None = None) -> str:
    """Write the table's hippolyte-manifest.json (unless it is there already); returns its key."""
    key = join(status.folder, MANIFEST_NAME)
    if store.exists(key):
        return key
    data = join(status.folder, "data")
    files = []
    for file_key in _data_keys(store, data):
        facts = measure(store, file_key)
        files.append(DataFile(path=file_key[len(status.folder) + 1:], items=facts.items, bytes=facts.size,
                              sha256=facts.sha256))
    # A second writer of it is an error, not a rewrite.
    write_manifest(store, status.folder, schema=capture_schema(ddb, status.table), account=account, region=region,
                   engine=ENGINE, data_format=DATA_FORMAT, consistency=CONSISTENCY,
                   started=status.started or taken_at.isoformat(),
                   finished=status.finished or datetime.now(UTC).replace(microsecond=0).isoformat(), files=files,
                   origin=night_origin(ENGINE, night, None))  # the run id names the night (one cluster a night)
    status.manifest_written = True
    return key


def _record(store: BackupStore, ddb: Any, statuses: list[TableStatus], s: JobFlowSettings) -> None:
    for status in statuses:
        if status.status != "COMPLETED":
            continue
        try:
            status.manifest = record_finished(store, ddb, status, s.account, s.region, s.taken_at, s.run_id)
        except HippolyteError as exc:
            status.status, status.reason = "FAILED", str(exc)


# ---------------------------------------------------------------- the run

def prepare(emr: Any, cluster: Any, settings: JobFlowSettings
            ) -> tuple[dict[str, Any], list[PlannedStep], JobFlowSettings, dict[str, Any] | None]:
    """Validate (before any AWS call), then look for the run's cluster; a found one fixes the timestamp."""
    request, planned = build_job_flow(cluster, settings)
    cid = PlannedCluster.from_json(cluster).id
    existing = find_cluster(emr, settings.run_id, cid)
    if existing is None:
        existing = find_cluster(emr, settings.run_id, cid, ended=True)
    if existing is not None:
        tags = existing.get("Tags", [])
        destination = {t.get("Key"): t.get("Value") for t in tags}.get(TAG_DESTINATION)
        if destination and destination != destination_tag(settings.destination):
            raise HippolyteError(f"cluster {existing['Id']} of run {settings.run_id} writes to {destination}, "
                                 f"not {settings.destination}; use a new run_id or the same destination")
        taken_at = taken_at_from_tags(tags)
        if taken_at is not None and taken_at != settings.taken_at:
            settings = replace(settings, taken_at=taken_at)
            request, planned = build_job_flow(cluster, settings)
    return request, planned, settings, existing


class EmrRun:
    """One planned cluster as a `cluster_engine.ClusterEngine`: start finds the run's cluster or starts it
    (one export step per table); poll reads the steps, adds a step for a failed table with retries left and
    records the manifest of every completed table; the cluster ends itself once its steps are done."""

    def __init__(self, emr: Any, ddb: Any, store: BackupStore, cluster: Any, settings: JobFlowSettings) -> None:
        self.emr, self.ddb, self.store = emr, ddb, store
        self.request, self.planned, self.settings, self.existing = prepare(emr, cluster, settings)
        self.lane = PlannedCluster.from_json(cluster).id
        self.cluster_id: str | None = None
        self.cluster_state: str | None = None
        self.created = self.retried = False
        self.tables: list[TableStatus] = []
        self.manifests_written: list[str] = []  # keys written by this call, over all polls

    def start(self) -> bool:
        if self.existing is None:
            self.cluster_id, self.created = self.emr.run_job_flow(**self.request)["JobFlowId"], True
        else:
            self.cluster_id = self.existing["Id"]
        return self.created

    def statuses(self) -> list[TableStatus]:
        state = self.emr.describe_cluster(ClusterId=self.cluster_id)["Cluster"]["Status"]["State"]
        statuses = table_statuses(self.emr, str(self.cluster_id), self.planned, state)
        self.retried = _retry(self.emr, str(self.cluster_id), state, statuses, self.planned, self.settings) \
            or self.retried
        _record(self.store, self.ddb, statuses, self.settings)
        self.manifests_written += [t.manifest for t in statuses if t.manifest_written and t.manifest]
        for t in statuses:
            t.manifest_written = t.manifest in self.manifests_written
        self.cluster_state, self.tables = state, statuses
        return statuses

    def poll(self) -> list[TableOutcome]:
        root = self.store.url.rstrip("/")
        return [t.outcome(root, self.lane) for t in self.statuses()]

    def finish(self) -> bool:
        return False  # the cluster terminates itself when its last step ends (no KeepJobFlowAlive)


def terminate(emr: Any, run_id: str, cluster_id: str) -> tuple[str | None, bool]:
    """Terminate the run's cluster if it is active; (its id or None, whether anything changed)."""
    existing = find_cluster(emr, run_id, cluster_id)
    if existing is None:
        return None, False
    if existing["Status"]["State"] == "TERMINATING":
        return existing["Id"], False
    emr.terminate_job_flows(JobFlowIds=[existing["Id"]])
    return existing["Id"], True
