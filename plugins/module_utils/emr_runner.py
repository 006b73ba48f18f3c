"""Run one planned cluster on EMR: start it once, watch its steps, record finished tables, terminate.

- Start is idempotent: a run's cluster is found among active clusters by name and tags before
  RunJobFlow is called, and its backup timestamp is taken from its tag, so a second call with the
  same run and cluster id monitors the running cluster instead of starting another.
- Monitoring reads ListSteps; each step is mapped back to its table by its arguments
  (output, table, read ratio) and reported as PENDING, RUNNING, COMPLETED, FAILED or CANCELLED.
- For every table whose step COMPLETED, `hippolyte-manifest.json` is written (engine `emr`, data
  format `emr-connector`, consistency `fuzzy-scan`), listing the data files under the folder's `data/`
  with size and sha256 computed from the stored bytes and item counts from their lines (one item per
  line in both the current and the legacy export format). When the export's own `manifest` file is
  present it decides which files are data. A failed or cancelled table never gets a manifest.

No Ansible here: boto3 clients and the backup store are passed in.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.emr_job_flow import (
    TAG_CLUSTER,
    TAG_DESTINATION,
    TAG_RUN,
    JobFlowSettings,
    PlannedStep,
    build_job_flow,
    job_flow_name,
    taken_at_from_tags,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.manifest import (
    MANIFEST_NAME,
    DataFile,
    build_manifest,
    dumps,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.table_schema import capture_schema

ACTIVE_CLUSTER_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING")
ENDED_CLUSTER_STATES = ("TERMINATED", "TERMINATED_WITH_ERRORS")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
_STEP_STATES = {"PENDING": "PENDING", "CANCEL_PENDING": "CANCELLED", "RUNNING": "RUNNING", "COMPLETED": "COMPLETED",
                "CANCELLED": "CANCELLED", "FAILED": "FAILED", "INTERRUPTED": "FAILED"}
EXPORT_MANIFEST = "manifest"  # written by DynamoDBExport next to its data files
SUCCESS_MARKER = "_SUCCESS"
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

    def to_dict(self, root: str) -> dict[str, Any]:
        return {"name": self.table, "status": self.status, "step_id": self.step_id, "started": self.started,
                "finished": self.finished, "reason": self.reason, "backup_url": f"{root}/{self.folder}",
                "manifest_url": f"{root}/{self.manifest}" if self.manifest else None,
                "manifest_written": self.manifest_written}


@dataclass
class RunResult:
    cluster_id: str | None
    cluster_state: str | None
    created: bool
    request: dict[str, Any]
    tables: list[TableStatus] = field(default_factory=list)
    done: bool = False
    timed_out: bool = False

    @property
    def failed_tables(self) -> list[str]:
        return [t.table for t in self.tables if t.status in ("FAILED", "CANCELLED")]

    @property
    def manifests_written(self) -> list[str]:
        return [t.manifest for t in self.tables if t.manifest_written and t.manifest]


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return None


def find_cluster(emr: Any, run_id: str, cluster_id: str) -> dict[str, Any] | None:
    """The active cluster of this run and planned cluster (same name and tags), if any."""
    name = job_flow_name(run_id, cluster_id)
    for page in emr.get_paginator("list_clusters").paginate(ClusterStates=list(ACTIVE_CLUSTER_STATES)):
        for summary in page.get("Clusters", []):
            if summary.get("Name") != name:
                continue
            cluster = emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]
            tags = {t.get("Key"): t.get("Value") for t in cluster.get("Tags", [])}
            if tags.get(TAG_RUN) == run_id and tags.get(TAG_CLUSTER) == cluster_id:
                return cluster
    return None


def step_states(emr: Any, cluster_id: str) -> dict[str, dict[str, Any]]:
    """The newest step of each table on the cluster, by table name (ListSteps lists newest first)."""
    steps: dict[str, dict[str, Any]] = {}
    for page in emr.get_paginator("list_steps").paginate(ClusterId=cluster_id):
        for step in page.get("Steps", []):
            args = step.get("Config", {}).get("Args", [])
            if len(args) >= 2:
                steps.setdefault(args[1], step)
    return steps


def table_statuses(emr: Any, cluster_id: str, planned: list[PlannedStep], cluster_state: str) -> list[TableStatus]:
    found = step_states(emr, cluster_id)
    out = []
    for p in planned:
        step = found.get(p.table)
        if step is None:
            ended = cluster_state in ENDED_CLUSTER_STATES
            out.append(TableStatus(p.table, "FAILED" if ended else "PENDING", p.folder,
                                   reason="the cluster has no export step for this table" if ended else None))
            continue
        status = step.get("Status", {})
        state = _STEP_STATES.get(status.get("State", ""), "PENDING")
        if cluster_state in ENDED_CLUSTER_STATES and state not in TERMINAL:
            state = "CANCELLED"  # the cluster ended under it
        timeline = status.get("Timeline", {})
        reason = status.get("FailureDetails", {}).get("Message") or status.get("StateChangeReason", {}).get("Message")
        out.append(TableStatus(p.table, state, p.folder, step.get("Id"), _iso(timeline.get("StartDateTime")),
                               _iso(timeline.get("EndDateTime")), reason if state != "COMPLETED" else None))
    return out


# ---------------------------------------------------------------- manifests

def _file_facts(store: BackupStore, key: str) -> tuple[int, str, int]:
    """(bytes, sha256, items) of one stored data file, read as a stream."""
    sha, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
    head = b""
    with store.open_reader(key) as body:
        while chunk := body.read(_CHUNK):
            if not head:
                head = chunk[:2]
            sha.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if head == b"\x1f\x8b":  # a compressed export: count the lines inside
        lines, last = 0, b"\n"
        with store.open_reader(key) as raw, gzip.GzipFile(fileobj=raw) as body:
            while chunk := body.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    if last not in (b"\n", b""):
        lines += 1  # a last item without a newline
    return size, sha.hexdigest(), lines


def _data_keys(store: BackupStore, data: str) -> list[str]:
    """Keys of the data files under `data` (relative to the store): the export manifest's entries when present."""
    keys = store.list_files(data)
    names = {k.rsplit("/", 1)[-1]: k for k in keys}
    if EXPORT_MANIFEST in names:
        try:
            doc = json.loads(store.read_bytes(names[EXPORT_MANIFEST]))
            urls = [e["url"] for e in doc["entries"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise HippolyteError(f"{data}/{EXPORT_MANIFEST} is not an export manifest ({exc})") from exc
        wanted = [u.rstrip("/").rsplit("/", 1)[-1] for u in urls]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise HippolyteError(f"the export manifest names files that are not in {data}: {', '.join(missing)}")
        return sorted(names[w] for w in wanted)
    if SUCCESS_MARKER not in names:
        raise HippolyteError(f"{data} has neither {SUCCESS_MARKER} nor {EXPORT_MANIFEST}: the export did not finish")
    return sorted(k for n, k in names.items() if not n.startswith(("_", ".")) and n != EXPORT_MANIFEST)


def write_manifest(store: BackupStore, ddb: Any, status: TableStatus, account: str, region: str,
                   taken_at: datetime) -> str:
    """Write the table's hippolyte-manifest.json (unless it is there already); returns its key."""
    key = join(status.folder, MANIFEST_NAME)
    if store.exists(key):
        return key
    data = join(status.folder, "data")
    files = []
    for file_key in _data_keys(store, data):
        size, sha, items = _file_facts(store, file_key)
        files.append(DataFile(path=file_key[len(status.folder) + 1:], items=items, bytes=size, sha256=sha))
    schema = capture_schema(ddb, status.table)
    doc = build_manifest(schema=schema, account=account, region=region, engine=ENGINE, data_format=DATA_FORMAT,
                         consistency=CONSISTENCY, started=status.started or taken_at.isoformat(),
                         finished=status.finished or datetime.now(UTC).replace(microsecond=0).isoformat(),
                         files=files)
    store.put_bytes(key, dumps(doc))
    status.manifest_written = True
    return key


def _record(store: BackupStore, ddb: Any, statuses: list[TableStatus], s: JobFlowSettings) -> None:
    for status in statuses:
        if status.status != "COMPLETED":
            continue
        try:
            status.manifest = write_manifest(store, ddb, status, s.account, s.region, s.taken_at)
        except HippolyteError as exc:
            status.status, status.reason = "FAILED", str(exc)


# ---------------------------------------------------------------- the run

def prepare(emr: Any, cluster: Any, settings: JobFlowSettings
            ) -> tuple[dict[str, Any], list[PlannedStep], JobFlowSettings, dict[str, Any] | None]:
    """Validate (before any AWS call), then look for the run's cluster; a found one fixes the timestamp."""
    request, planned = build_job_flow(cluster, settings)
    existing = find_cluster(emr, settings.run_id, cluster["id"])
    if existing is not None:
        tags = existing.get("Tags", [])
        destination = {t.get("Key"): t.get("Value") for t in tags}.get(TAG_DESTINATION)
        if destination and destination != settings.destination[:256]:
            raise HippolyteError(f"cluster {existing['Id']} of run {settings.run_id} writes to {destination}, "
                                 f"not {settings.destination}; use a new run_id or the same destination")
        taken_at = taken_at_from_tags(tags)
        if taken_at is not None and taken_at != settings.taken_at:
            settings = replace(settings, taken_at=taken_at)
            request, planned = build_job_flow(cluster, settings)
    return request, planned, settings, existing


def run_cluster(emr: Any, ddb: Any, store: BackupStore, cluster: Any, settings: JobFlowSettings, *,
                wait: bool = True, wait_timeout: float = 7200, poll_interval: float = 30,
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                progress: Callable[[list[TableStatus]], None] | None = None) -> RunResult:
    """Start (or find) the cluster, watch its steps, write manifests for completed tables."""
    request, planned, settings, existing = prepare(emr, cluster, settings)
    if existing is None:
        cluster_id, created = emr.run_job_flow(**request)["JobFlowId"], True
    else:
        cluster_id, created = existing["Id"], False
    result = RunResult(cluster_id, None, created, request)
    deadline = clock() + wait_timeout
    while True:
        state = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]
        statuses = table_statuses(emr, cluster_id, planned, state)
        _record(store, ddb, statuses, settings)
        result.cluster_state, result.tables = state, statuses
        result.done = all(t.status in TERMINAL for t in statuses)
        if progress:
            progress(statuses)
        if result.done or not wait:
            return result
        if clock() >= deadline:
            result.timed_out = True
            return result
        sleep(min(poll_interval, max(0.0, deadline - clock())))


def terminate(emr: Any, run_id: str, cluster_id: str) -> tuple[str | None, bool]:
    """Terminate the run's cluster if it is active; (its id or None, whether anything changed)."""
    existing = find_cluster(emr, run_id, cluster_id)
    if existing is None:
        return None, False
    if existing["Status"]["State"] == "TERMINATING":
        return existing["Id"], False
    emr.terminate_job_flows(JobFlowIds=[existing["Id"]])
    return existing["Id"], True
