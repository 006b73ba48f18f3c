"""What backup_night does: the whole night of a plan (its exports, EMR clusters, pipelines and local lanes) through
the one driver (`night_driver.drive_night`), answered in the shapes the backup role registers per engine.

`night_engine_options` turns the night's settings into each engine module's options (one set per planned cluster:
the same options the role used to give dynamodb_export, emr_backup and datapipeline_backup); the module checks them
by each engine's own argument spec. `run_backup_night` builds every task from them (read calls only: bad input fails
before anything in AWS changes), then previews them (check mode) or drives the night: a cluster table's boost goes
back when its step ends while the local lanes still run, and a dead cluster is relaunched while the window allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import (
    PlanDocument,
    PlannedCluster,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import (
    EngineAnswer,
    EngineClients,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import EmrTask, emr_settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import ExportTask, export_settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import (
    PipelineTask,
    pipeline_settings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_driver import (
    NightCluster,
    NightRun,
    drive_night,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_model import Model

EXPORTS = "exports"  # the one NightCluster of the night's exports (they end on their own: never relaunched)
LocalLanes = Callable[[bool], EngineAnswer]  # the local lanes' run (check mode or not): dynamodb_scan_backup's


def night_plan(options: Mapping[str, Any]) -> PlanDocument:
    plan = PlanDocument.from_json(options["plan"])
    if plan.deadline is None or plan.night is None:
        raise InputError("plan", "has no deadline or night (an old plan?)",
                         "pass the result of hippolyte.dynamodb.dynamodb_backup_plan as registered")
    return plan


def night_engine_options(options: Mapping[str, Any], destination: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each engine's module options (result key -> one per task), before the engine's spec fills the defaults.
    `destination`: the destination options every engine reads (sse, kms_key_id, bucket_owner, s3_endpoint_url)."""
    plan = night_plan(options)
    night = plan.night
    assert_positive(options)
    deadline = plan.deadline.isoformat() if plan.deadline else None
    watched = {"wait": True, "deadline": deadline, "poll_interval": options["poll_interval"], **destination}
    capacity = {"boost_refused": list(options["boost_refused"]), "capacity_run_id": options["run_id"],
                "autoscaling": options["autoscaling"]}
    exports = [t.name for c in plan.clusters_of("export") for t in c.tables]
    return {
        "exports": [{"tables": exports, "run_id": options["night_id"], "export_time": night.at if night else None,
                     "clamp_export_time": True, **watched}] if exports else [],
        "emr": [{**(options["emr"] or {}), "cluster": c.to_json(), "run_id": options["night_id"], **capacity,
                 **watched} for c in plan.clusters_of("emr")],
        "pipelines": [{**(options["datapipeline"] or {}), "cluster": c.to_json(), "state": "active",
                       "run_id": options["night_id"], "taken_at": night.stamp if night else None,
                       "window_s": plan.window_s, "sns_topic_arn": options["sns_topic_arn"], **capacity, **watched}
                      for c in plan.clusters_of("datapipeline")],
    }


def assert_positive(options: Mapping[str, Any]) -> None:
    for name, least in (("poll_interval", 1), ("relaunch_limit", 0)):
        if options[name] < least:
            raise InputError(name, f"must be at least {least}, got {options[name]}", f"set {name} to {least} or more")


def night_clusters(engines: Mapping[str, list[dict[str, Any]]], clients: EngineClients,
                   now: Callable[[], datetime] = utc_now) -> dict[str, list[NightCluster]]:
    """Every task of the night, ready to run, by result key. Every option is checked before the first task is made
    (its read calls), so bad input fails before any AWS call."""
    destination = clients.destination()
    exports = [export_settings(o) for o in engines["exports"]]
    emr = [emr_settings(o, clients.region, destination, now) for o in engines["emr"]]
    pipelines = [pipeline_settings(o, clients.region, destination, now) for o in engines["pipelines"]]
    bootstrap_s = float(Model().cluster_bootstrap_s)

    def relaunchable(planned: PlannedCluster, task: EmrTask | PipelineTask) -> NightCluster:
        return NightCluster(planned.id, task, {t.name: t.duration_s for t in planned.tables}, bootstrap_s,
                            lambda tables, attempt: task.relaunched(tables, attempt, now))

    return {"exports": [NightCluster(EXPORTS, ExportTask(r, clients, now), dict.fromkeys(r.tables, 0.0))
                        for r in exports],
            "emr": [relaunchable(r.cluster, EmrTask(r, clients)) for r in emr],
            "pipelines": [relaunchable(r.cluster, PipelineTask(r, clients)) for r in pipelines]}


def run_backup_night(engines: Mapping[str, list[dict[str, Any]]], options: Mapping[str, Any], clients: EngineClients,
                     check_mode: bool, lanes: LocalLanes, lease_lost: Callable[[], str | None] | None = None,
                     now: Callable[[], datetime] = utc_now,
                     sleep: Callable[[float], None] | None = None) -> EngineAnswer:
    """backup_night: every task made, then each previewed (check mode) or the night driven. The result holds
    `local`, `exports`, `emr` and `pipelines` in the shapes the role registered from the engine modules (a module's
    result; for EMR and pipelines, a loop's `results`), None for an engine the plan does not use."""
    plan = night_plan(options)
    clusters = night_clusters(engines, clients, now)
    has_local = bool(plan.clusters_of("local"))
    if check_mode:
        parts: dict[str, Any] = {key: [_registered(c.task.preview()) for c in made] for key, made in clusters.items()}
        local = _registered(lanes(True)) if has_local else None
        answer = _answer(local, parts, None)
        if local is not None and "diff" in local:  # --diff: what the local lanes would write and boost
            answer.result["diff"] = local.pop("diff")
        return answer
    every = [c for made in clusters.values() for c in made]
    deadline = plan.deadline or now()
    ran = drive_night(every, (lambda: _registered(lanes(False))) if has_local else None, deadline,
                      float(options["poll_interval"]), now=now, sleep=sleep or time.sleep,
                      relaunch_limit=options["relaunch_limit"], lease_lost=lease_lost)
    parts = {key: [_cluster_result(ran.by_cluster.get(c.name, [])) for c in made] for key, made in clusters.items()}
    local = ran.local
    if has_local and ran.local_error:
        local = {"failed": True, "msg": f"local lanes: {ran.local_error}", "tables": [], "failed_tables": []}
    return _answer(local, parts, ran)


def _registered(answer: EngineAnswer) -> dict[str, Any]:
    """A task's answer as the role registered it (`failed` set by Ansible then, by this module now)."""
    return {**answer.result, "failed": answer.failed}


def _cluster_result(answers: list[EngineAnswer]) -> dict[str, Any]:
    """One planned cluster's result from its answers (the first cluster's, then each relaunch's): the last answer,
    with every table's last outcome, failed only for what the relaunches did not make good."""
    if not answers:
        return {"failed": True, "msg": "the cluster never answered", "tables": [], "failed_tables": []}
    last = answers[-1]
    if len(answers) == 1:
        return _registered(last)
    tables = {t["name"]: t for a in answers for t in a.result.get("tables", [])}
    failed_tables = [name for name, t in tables.items() if t.get("status") == "failed"]
    failed = last.failed or bool(failed_tables)
    return {**last.result, "tables": list(tables.values()), "failed_tables": failed_tables, "failed": failed,
            "msg": f"relaunched {len(answers) - 1} time(s): {last.result.get('msg', '')}",
            "earlier_attempts": [a.result for a in answers[:-1]]}


def _answer(local: dict[str, Any] | None, parts: Mapping[str, list[dict[str, Any]]],
            ran: NightRun | None) -> EngineAnswer:
    shaped: dict[str, Any] = {
        "local": local,
        "exports": parts["exports"][0] if parts["exports"] else None,
        "emr": {"results": parts["emr"]} if parts["emr"] else None,
        "pipelines": {"results": parts["pipelines"]} if parts["pipelines"] else None}
    results = [r for r in (local, *parts["exports"], *parts["emr"], *parts["pipelines"]) if r is not None]
    failed = [str(r.get("msg") or "failed") for r in results if r.get("failed")]
    changed = any(r.get("changed") for r in results)
    extra: dict[str, Any] = {"relaunches": [], "put_back_at_deadline": [], "notes": [], "done": ran is None}
    if ran is not None:
        extra = {"relaunches": [r.to_result() for r in ran.relaunches],
                 "put_back_at_deadline": ran.put_back_at_deadline, "notes": ran.notes, "done": ran.done}
        changed = changed or any(r.relaunched for r in ran.relaunches)
    ran_msg = f"{len(results)} engine task(s) " + ("previewed (check mode)" if ran is None else "ran")
    msg = "; ".join(failed) if failed else ran_msg
    return EngineAnswer(bool(failed), {**shaped, **extra, "changed": changed, "msg": msg})
