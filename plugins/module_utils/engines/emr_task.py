"""What emr_backup does with its options: terminate the run's cluster, preview it (check mode), or run it.

`emr_settings` checks every option before any AWS call; `EmrTask` is the run as a `cluster_engine.ClusterTask`
(start or find the job flow, watch its steps, put each boost back as its table ends, answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_capacity import (
    BoostsPutBack,
    ClusterCapacity,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    EngineClients,
    RunsAnEngine,
    Watched,
    Watching,
    engine_result,
    relaunch_cluster,
    run_task,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    JobFlowSettings,
    SpotSettings,
    build_job_flow,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_runner import (
    EmrRun,
    find_cluster,
    table_statuses,
    terminate,
)

# Builds the request before the account is known, to check it before the first AWS call (the account lookup).
_STAND_IN_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class EmrRequest:
    """emr_backup's options for state=present, checked."""

    cluster: PlannedCluster
    settings: JobFlowSettings  # its account is "" until looked up, unless account_id was given
    watching: Watching
    capacity: ClusterCapacity
    fail_on_table_failure: bool


def emr_settings(options: Mapping[str, Any], region: str, destination: str,
                 now: Callable[[], datetime] = utc_now) -> EmrRequest:
    """emr_backup's options as an EmrRequest; raises InputError naming the first bad option. No AWS call."""
    spot = options["spot"] or {}
    watching = Watching.from_options(options)
    capacity = ClusterCapacity.from_options(options)
    cluster = PlannedCluster.from_json(options["cluster"], default_engine="emr").with_refused_boosts(
        list(capacity.boost_refused))
    settings = JobFlowSettings(
        run_id=options["run_id"], destination=destination, account=options["account_id"] or "", region=region,
        subnet_id=options["subnet_id"], taken_at=now(), release_label=options["release_label"],
        service_role=options["service_role"], job_flow_role=options["job_flow_role"], log_uri=options["log_uri"],
        master_instance_type=options["master_instance_type"], core_instance_type=options["core_instance_type"],
        core_instance_count=options["core_instance_count"],
        spot=SpotSettings(core=spot.get("core") or False, task_count=spot.get("task_count") or 0,
                          task_instance_type=spot.get("task_instance_type"), bid_price=spot.get("bid_price")),
        jar=options["jar"], main_class=options["main_class"], read_percentage=options["read_percentage"],
        maximum_retries=options["maximum_retries"], tags={str(k): str(v) for k, v in options["tags"].items()},
        sse=options["sse"], kms_key_id=options["kms_key_id"])
    build_job_flow(cluster, replace(settings, account=settings.account or _STAND_IN_ACCOUNT))
    return EmrRequest(cluster, settings, watching, capacity, options["fail_on_table_failure"])


def cluster_to_end(options: Mapping[str, Any]) -> str:
    """state=absent needs only the planned cluster's id (its tables may be gone)."""
    cid = (options["cluster"] or {}).get("id")
    if not isinstance(cid, str) or not cid:
        raise InputError("cluster.id", "the cluster has no id", "pass the planned cluster (or {id: c01})")
    return cid


def terminate_cluster(run_id: str, cluster_id: str, clients: EngineClients, check_mode: bool) -> EngineAnswer:
    """state=absent: terminate the run's cluster if it is still active (check mode: say whether it would)."""
    emr = clients.client("emr")
    if check_mode:
        existing = find_cluster(emr, run_id, cluster_id)
        return EngineAnswer(False, dict(
            changed=existing is not None and existing["Status"]["State"] != "TERMINATING",
            cluster_id=existing["Id"] if existing else None,
            msg="would terminate the cluster (check mode)" if existing else "no active cluster"))
    ended_id, changed = terminate(emr, run_id, cluster_id)
    state = emr.describe_cluster(ClusterId=ended_id)["Cluster"]["Status"]["State"] if ended_id else None
    return EngineAnswer(False, dict(changed=changed, cluster_id=ended_id, cluster_state=state,
                                    msg=f"terminated {ended_id}" if changed else "no active cluster of this run"))


class EmrTask(RunsAnEngine[EmrRun]):
    """One planned cluster on EMR, ready to run (a `cluster_engine.ClusterTask`). Made with read calls only:
    the account (unless given), the destination, and the run's cluster if it exists (which fixes the folders)."""

    def __init__(self, request: EmrRequest, clients: EngineClients) -> None:
        account = request.settings.account or str(clients.client("sts").get_caller_identity()["Account"])
        self.request, self.cluster, self.watching, self.clients = request, request.cluster, request.watching, clients
        store = clients.store()
        self.root = store.url.rstrip("/")
        self.run = EmrRun(clients.client("emr"), clients.client("dynamodb"), store, self.cluster,
                          replace(request.settings, account=account))
        self.boosts = BoostsPutBack(clients, self.cluster, request.capacity, request.settings.run_id)

    def relaunched(self, tables: list[str], attempt: int, now: Callable[[], datetime] = utc_now) -> EmrTask:
        """This cluster again for just `tables` (`cluster_engine.relaunch_cluster`), on on-demand capacity (spot that
        was not there may still not be); their backups are taken now, in folders apart from the dead cluster's."""
        settings = replace(self.run.settings, spot=SpotSettings(), taken_at=now())
        return EmrTask(replace(self.request, cluster=relaunch_cluster(self.cluster, tables, attempt),
                               settings=settings), self.clients)

    def preview(self) -> EngineAnswer:
        run, existing = self.run, self.run.existing
        tables, state = [], None
        if existing is not None:
            state = existing["Status"]["State"]
            tables = table_statuses(run.emr, existing["Id"], run.planned, state)
        return EngineAnswer(False, dict(
            changed=existing is None, cluster_id=existing["Id"] if existing else None, cluster_state=state,
            created=False, done=False, tables=[t.outcome(self.root, self.cluster.id).to_result() for t in tables],
            steps=[t.to_dict(self.root) for t in tables], manifests_written=[], failed_tables=[],
            job_flow=run.request, capacity_put_back=[], capacity_notes=[],
            msg=(f"cluster {existing['Id']} of this run exists" if existing else
                 f"would start {run.request['Name']} with {len(run.request['Steps'])} export steps (check mode)")))

    def ended(self, outcomes: list[TableOutcome]) -> None:
        self.boosts(outcomes)

    def answer(self, watched: Watched) -> EngineAnswer:
        run = self.run
        failed, result = engine_result(
            watched.outcomes, watched.done, self.watching.wait, watched.timeout_s, f"cluster {run.cluster_id}",
            cluster_id=run.cluster_id,
            changed=watched.changed or run.retried or bool(run.manifests_written) or bool(self.boosts.put_back),
            created=run.created, cluster_state=run.cluster_state, steps=[t.to_dict(self.root) for t in run.tables],
            job_flow=run.request, manifests_written=[url_under(self.root, key) for key in run.manifests_written],
            **self.boosts.report())
        # A table that failed fails the task only with fail_on_table_failure; a timeout fails it regardless.
        return EngineAnswer(failed and (self.request.fail_on_table_failure or not result["failed_tables"]), result)


def run_emr_backup(options: Mapping[str, Any], clients: EngineClients, check_mode: bool,
                   now: Callable[[], datetime] = utc_now) -> EngineAnswer:
    """emr_backup: every option checked first, then terminate, preview or run the cluster."""
    destination = clients.destination()
    if options["state"] == "absent":
        return terminate_cluster(options["run_id"], cluster_to_end(options), clients, check_mode)
    request = emr_settings(options, clients.region, destination, now)
    return run_task(EmrTask(request, clients), check_mode, clients, now)
