"""What datapipeline_backup does with its options: remove the run's pipeline, preview it (check mode), or run it.

`pipeline_settings` checks every option it can before any AWS call; `PipelineTask` is the run as a
`cluster_engine.ClusterTask` (create or find the pipeline, put its definition, activate it, watch each table,
put each boost back as its table ends, delete the pipeline once every table is done, answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import describe_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import account_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import S3Store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import pipeline_runner as runner
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
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    Definition,
    PipelineSettings,
    build_definition,
    unique_id,
)

# Options that go into PipelineSettings under their own name.
SETTING_NAMES = ("subnet_id", "release_label", "master_instance_type", "core_instance_type", "core_instance_count",
                 "core_instance_bid_price", "task_instance_type", "task_instance_count", "task_instance_bid_price",
                 "window_s", "maximum_retries", "sns_topic_arn", "max_objects", "service_role", "job_flow_role",
                 "jar", "main_class", "read_percentage")
# Builds the definition before the account is known, to check it before the first AWS call (the account lookup).
_STAND_IN_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class PipelineRequest:
    """datapipeline_backup's options for state present or active, checked."""

    run_id: str
    cluster: PlannedCluster  # with its refused boosts marked
    settings: PipelineSettings  # its account is "" until looked up, unless account_id was given
    unique_id: str
    name: str
    activate: bool
    delete_when_finished: bool
    watching: Watching
    capacity: ClusterCapacity
    check_encryption: bool = False  # sse asked: the bucket's default encryption must be it


def refuse_removed_state(options: Mapping[str, Any]) -> None:
    """state=executed_locally was removed in 0.x; for one release it says so, before any AWS call, instead of
    a bare "not one of the choices"."""
    if options["state"] == "executed_locally":
        raise InputError("state", "executed_locally was removed: it ran a definition with the in-process engine "
                         "for the collection's own tests and was never meant for users",
                         "use state=present or active to run the pipeline, or hippolyte.dynamodb.dynamodb_scan_backup "
                         "to back tables up in process")


def planned_cluster(options: Mapping[str, Any]) -> PlannedCluster:
    return PlannedCluster.from_json(options["cluster"], default_engine="datapipeline")


def pipeline_settings(options: Mapping[str, Any], region: str, destination: str,
                      now: Callable[[], datetime] = utc_now) -> PipelineRequest:
    """datapipeline_backup's options as a PipelineRequest; raises InputError naming the first bad option.
    No AWS call: the definition is built once with a stand-in account to check it."""
    capacity = ClusterCapacity.from_options(options)
    cluster = planned_cluster(options).with_refused_boosts(list(capacity.boost_refused))
    activate = options["state"] == "active"
    watching = Watching.from_options(options, wait=options["wait"] and activate)
    taken_at = parse_instant(options["taken_at"], "taken_at") if options["taken_at"] else now()
    if not destination.startswith("s3://"):
        raise InputError("destination", "Data Pipeline writes to S3 only", "use s3://bucket/prefix")
    # Without account_id, the account is the first table's (its ARN); no table: build_definition says so.
    account = options["account_id"] or (_STAND_IN_ACCOUNT if _first_table(options) else "")
    settings = PipelineSettings(
        destination=destination, account=account, region=region, taken_at=taken_at,
        log_uri=options["log_uri"] or f"{url_under(destination, 'datapipeline-logs')}/",
        **{name: options[name] for name in SETTING_NAMES})
    build_definition(cluster, settings)
    return PipelineRequest(options["run_id"], cluster, replace(settings, account=options["account_id"] or ""),
                           unique_id(options["run_id"], cluster.id), pipeline_name(options["run_id"], cluster.id),
                           activate, options["delete_when_finished"], watching, capacity, bool(options["sse"]))


def pipeline_name(run_id: str, cluster_id: str) -> str:
    return f"hippolyte-{run_id}-{cluster_id}"


def _first_table(options: Mapping[str, Any]) -> str | None:
    tables = (options["cluster"] or {}).get("tables") or []
    first = tables[0] if tables and isinstance(tables[0], dict) else {}
    return first.get("name") or None


def remove_pipeline(uid: str, clients: EngineClients, check_mode: bool) -> EngineAnswer:
    """state=absent: delete the run's pipeline if it exists (check mode: say whether it would)."""
    dp = clients.client("datapipeline")
    pipeline_id = runner.find_pipeline(dp, uid)
    if pipeline_id and not check_mode:
        runner.delete_pipeline(dp, pipeline_id)
    return EngineAnswer(False, dict(changed=bool(pipeline_id), pipeline_id=pipeline_id, unique_id=uid, done=True,
                                    tables=[], failed_tables=[], state="DELETED" if pipeline_id else "ABSENT"))


class PipelineTask(RunsAnEngine[runner.PipelineRun]):
    """One planned cluster's pipeline, ready to run (a `cluster_engine.ClusterTask`). Made with read calls only:
    the account (unless given: the first table's ARN), and the bucket's default encryption when sse is asked."""

    def __init__(self, request: PipelineRequest, clients: EngineClients) -> None:
        ddb = clients.client("dynamodb")
        account = request.settings.account
        if not account and request.cluster.tables:
            first = request.cluster.tables[0].name
            account = account_of(describe_table(ddb, first, "cluster.tables[0].name").get("TableArn"), None)
        self.settings = replace(request.settings, account=account)
        self.definition: Definition = build_definition(request.cluster, self.settings)
        # Its export activities cannot be asked for an encryption: the bucket's default must be the one asked for.
        if request.check_encryption:
            store = clients.store()  # opened only when needed: an S3 store asks STS for the expected owner
            if isinstance(store, S3Store):
                store.require_default_encryption()
        self.request, self.watching, self.clients = request, request.watching, clients
        self.run = runner.PipelineRun(clients.client("datapipeline"), ddb, clients.store, self.definition,
                                      self.settings, request.cluster.id, request.unique_id, activate=request.activate,
                                      delete_when_finished=request.delete_when_finished, name=request.name)
        self.boosts = BoostsPutBack(clients, request.cluster, request.capacity, request.run_id)

    def relaunched(self, tables: list[str], attempt: int, now: Callable[[], datetime] = utc_now) -> PipelineTask:
        """This pipeline again for just `tables` (`cluster_engine.relaunch_cluster`: a pipeline of its own), on
        on-demand instances (no bid prices); their backups are taken now, in folders apart from the failed run's."""
        cluster = relaunch_cluster(self.request.cluster, tables, attempt)
        settings = replace(self.settings, taken_at=now(), core_instance_bid_price=None, task_instance_bid_price=None)
        return PipelineTask(replace(self.request, cluster=cluster, settings=settings,
                                    unique_id=unique_id(self.request.run_id, cluster.id),
                                    name=pipeline_name(self.request.run_id, cluster.id)), self.clients)

    def _facts(self, **facts: Any) -> dict[str, Any]:
        return dict(pipeline_id=None, unique_id=self.request.unique_id, object_count=len(self.definition.objects),
                    state="ABSENT", **facts)

    def preview(self) -> EngineAnswer:
        dp = self.run.dp
        pipeline_id = runner.find_pipeline(dp, self.request.unique_id)
        state = runner.pipeline_state(dp, pipeline_id) if pipeline_id else "ABSENT"
        would = pipeline_id is None or (self.request.activate and state in ("PENDING", "INACTIVE"))
        not_run = [TableOutcome(t.table, runner.ENGINE, "running", engine_state="NOT_RUN", lane=self.request.cluster.id,
                                backup_url=url_under(self.settings.destination, t.folder)).to_result()
                   for t in self.definition.targets]
        return EngineAnswer(False, {**self._facts(), "definition": self.definition.objects,
                                    "msg": "check mode: nothing created", "pipeline_id": pipeline_id,
                                    "state": state, "changed": would, "tables": not_run})

    def ended(self, outcomes: list[TableOutcome]) -> None:
        self.boosts(outcomes)

    def answer(self, watched: Watched) -> EngineAnswer:
        run = self.run
        changed = watched.changed or run.manifests_written > 0 or bool(self.boosts.put_back)
        facts = {**self._facts(changed=changed), "pipeline_id": run.pipeline_id, "state": run.state,
                 **self.boosts.report()}
        failed, result = engine_result(watched.outcomes, watched.done, self.watching.wait, watched.timeout_s,
                                       f"pipeline of cluster {self.request.cluster.id}", **facts)
        return EngineAnswer(failed, result)


def run_datapipeline_backup(options: Mapping[str, Any], clients: EngineClients, check_mode: bool,
                            now: Callable[[], datetime] = utc_now) -> EngineAnswer:
    """datapipeline_backup: every option checked first, then remove, preview or run the pipeline."""
    refuse_removed_state(options)
    destination = clients.destination()
    if options["state"] == "absent":  # needs neither the tables nor the definition, only the uniqueId
        return remove_pipeline(unique_id(options["run_id"], planned_cluster(options).id), clients, check_mode)
    request = pipeline_settings(options, clients.region, destination, now)
    return run_task(PipelineTask(request, clients), check_mode, clients, now)
