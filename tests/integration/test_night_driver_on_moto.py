"""The night driver (night/night_driver.py) on moto server: a real EMR task (`EmrTask`) beside the real local lanes
(`local_lanes.run_plan`), boosts raised and put back on moto's DynamoDB.

What moto never does is SIMULATED, and only that: an EMR step ending (tests/support/emr_steps.SimulatedSteps
rewrites ListSteps' states), a Data Pipeline's run instances (tests/support/pipeline_instances.SimulatedInstances)
and the output either would leave in S3 (written by the test, `export_output`). A
cluster dying is moto's own: the test terminates it with TerminateJobFlows, and moto reports it TERMINATED with its
step unfinished. The driver's timing rules with a scripted clock are in tests/unit/test_night_driver.py.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.outcome import TableOutcome
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlanDocument
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import job_flow_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import EmrTask, emr_settings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import ControllerLimits, run_plan
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import (
    PipelineTask,
    pipeline_settings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_driver import NightCluster, drive_night
from ansible_collections.hippolyte.dynamodb.plugins.modules import datapipeline_backup, emr_backup
from tests.conftest import REGION, client
from tests.support.emr_steps import SimulatedSteps, export_output
from tests.support.engine_clients import (
    BOOST_RCU,
    ITEM_LINE,
    OWN_RCU,
    StandInClients,
    boosted_night,
    module_options,
    read_capacity,
)
from tests.support.pipeline_instances import SimulatedInstances, instance


@pytest.fixture
def night(moto_server: Any, unique_name: str) -> tuple[StandInClients, str, str]:
    return boosted_night(moto_server.url, unique_name)


def emr_task(clients: StandInClients, run_id: str, table: str, **given: Any) -> EmrTask:
    cluster = {"id": "c01", "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600,
               "tables": [{"name": table, "read_percentage": 0.5, "size_bytes": 1000, "rcu": OWN_RCU,
                           "duration_s": 1200, "boosted": True, "boost_rcu": BOOST_RCU}]}
    options = module_options(emr_backup.ARGUMENT_SPEC, cluster=cluster, run_id=run_id, subnet_id="subnet-0abc",
                             tags={}, account_id="111111111111", autoscaling=False, maximum_retries=0, **given)
    return EmrTask(emr_settings(options, REGION, clients.destination()), clients)


def night_cluster(task: EmrTask, bootstrap_s: float = 600.0) -> NightCluster:
    return NightCluster(task.cluster.id, task, {t.name: t.duration_s for t in task.cluster.tables}, bootstrap_s,
                        task.relaunched)


def test_a_cluster_tables_boost_goes_back_while_the_local_lanes_still_run(
        moto_server: Any, night: tuple[StandInClients, str, str], tmp_path: Path) -> None:
    clients, on_cluster, local = night
    run_id = clients.destination().split("/")[2]
    clients._clients["emr"] = SimulatedSteps(client("emr", moto_server.url), {on_cluster: ["COMPLETED"]})
    task = emr_task(clients, run_id, on_cluster)
    export_output(clients.client("s3"), task.run.planned[0].output, [[ITEM_LINE] * 3], with_manifest=False)

    # The local lanes wait until the cluster table was handed on, so that they are certainly still running then.
    handed_on = threading.Event()
    seen: list[tuple[list[str], int, bool]] = []  # (tables, the cluster table's RCU, local lanes still running)

    def ended(outcomes: list[TableOutcome]) -> None:
        EmrTask.ended(task, outcomes)
        seen.append(([o.name for o in outcomes], read_capacity(clients, on_cluster), not lanes_done.is_set()))
        handed_on.set()

    task.ended = ended  # type: ignore[method-assign]
    lanes_done = threading.Event()
    deadline = utc_now() + timedelta(hours=1)
    plan = {"window_s": 3600, "window": {"starts_at": utc_now().isoformat()}, "clusters": [
        {"id": "l01", "engine": "local", "start_offset_s": 0, "end_offset_s": 60, "tables": [
            {"name": local, "size_bytes": 10_000, "rcu": 5, "read_percentage": 0.5, "duration_s": 2}]}]}

    def lanes() -> dict[str, Any]:
        assert handed_on.wait(60)
        try:
            return run_plan(clients.client("dynamodb"), None, open_store(f"file://{tmp_path}/dest"), REGION,
                            PlanDocument.from_json(plan),
                            ScanSettings(), ControllerLimits(), Settings(run_id=run_id))
        finally:
            lanes_done.set()

    assert read_capacity(clients, on_cluster) == BOOST_RCU
    ran = drive_night([night_cluster(task)], lanes, deadline, poll_s=1, sleep=lambda _s: None)

    assert seen == [([on_cluster], OWN_RCU, True)]  # back to its own capacity while the local lanes ran
    assert ran.done and ran.local_error is None and ran.relaunches == []
    assert [(t["name"], t["status"]) for t in ran.tables()] == [(local, "ok"), (on_cluster, "ok")]
    assert ran.answers[0].result["capacity_put_back"] == [on_cluster]
    assert ran.answers[0].result["manifests_written"]


def test_a_dead_cluster_is_relaunched_on_demand_for_its_unfinished_table(
        moto_server: Any, night: tuple[StandInClients, str, str]) -> None:
    clients, on_cluster, _local = night
    run_id = clients.destination().split("/")[2]
    moto_emr = client("emr", moto_server.url)
    # Polls 1 and 2 are the first cluster's (moto's own states); from poll 3, the relaunched cluster's step ends.
    clients._clients["emr"] = SimulatedSteps(moto_emr, {on_cluster: ["COMPLETED"]}, after=3)
    task = emr_task(clients, run_id, on_cluster, spot={"core": True})
    relaunched: list[EmrTask] = []

    def relaunch(tables: list[str], attempt: int) -> EmrTask:
        again = task.relaunched(tables, attempt)
        export_output(clients.client("s3"), again.run.planned[0].output, [[ITEM_LINE] * 2], with_manifest=False)
        relaunched.append(again)
        return again

    def sleep(_seconds: float) -> None:  # the first cluster dies after the first poll
        if not relaunched and task.run.cluster_id:
            moto_emr.terminate_job_flows(JobFlowIds=[task.run.cluster_id])

    ran = drive_night([NightCluster("c01", task, {on_cluster: 1200.0}, 600.0, relaunch)], None,
                      utc_now() + timedelta(hours=1), poll_s=1, sleep=sleep)

    [again] = ran.relaunches
    assert again.relaunched and again.tables == [on_cluster] and again.attempt == 1, again
    first, second = task.run.cluster_id, relaunched[0].run.cluster_id
    assert moto_emr.describe_cluster(ClusterId=second)["Cluster"]["Name"] == job_flow_name(run_id, "c01-r1")
    markets = {cid: {g["Market"] for g in moto_emr.list_instance_groups(ClusterId=cid)["InstanceGroups"]
                     if g["InstanceGroupType"] == "CORE"} for cid in (first, second)}
    assert markets == {first: {"SPOT"}, second: {"ON_DEMAND"}}  # spot that died is replaced by on-demand
    assert [s["Config"]["Args"][1] for s in moto_emr.list_steps(ClusterId=second)["Steps"]] == [on_cluster]
    assert ran.done and [(o.name, o.status, o.lane) for o in ran.outcomes] == [(on_cluster, "ok", "c01-r1")]
    assert [a.failed for a in ran.answers] == [True, False]  # the dead cluster's answer, then the relaunch's
    assert read_capacity(clients, on_cluster) == OWN_RCU  # its boost went back as the first cluster died


def test_a_dead_cluster_is_not_relaunched_when_the_window_has_no_room(
        moto_server: Any, night: tuple[StandInClients, str, str]) -> None:
    clients, on_cluster, _local = night
    run_id = clients.destination().split("/")[2]
    moto_emr = client("emr", moto_server.url)
    task = emr_task(clients, run_id, on_cluster)

    def sleep(_seconds: float) -> None:
        if task.run.cluster_id:
            moto_emr.terminate_job_flows(JobFlowIds=[task.run.cluster_id])

    # Ten minutes left: a new cluster's bootstrap (600 s) and the table's planned 1,200 s do not fit.
    ran = drive_night([night_cluster(task)], None, utc_now() + timedelta(minutes=10), poll_s=1, sleep=sleep)

    [refused] = ran.relaunches
    assert not refused.relaunched and "needs 1800 s" in refused.reason, refused
    names = [c["Name"] for c in moto_emr.list_clusters()["Clusters"]]
    assert job_flow_name(run_id, "c01-r1") not in names
    assert ran.done and [(o.name, o.status) for o in ran.outcomes] == [(on_cluster, "failed")]
    assert read_capacity(clients, on_cluster) == OWN_RCU


def test_a_pipeline_with_a_failed_table_is_relaunched_for_it_alone_without_bid_prices(
        moto_server: Any, night: tuple[StandInClients, str, str]) -> None:
    """Data Pipeline's run instances are SIMULATED (moto never runs a pipeline): the first pipeline's export of
    the table FAILS, the relaunched pipeline's FINISHES; the export output is written by the test."""
    clients, on_cluster, _local = night
    run_id = clients.destination().split("/")[2]
    cluster = {"id": "c02", "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 3600,
               "tables": [{"name": on_cluster, "read_percentage": 0.5, "duration_s": 600, "boosted": True,
                           "boost_rcu": BOOST_RCU}]}
    options = module_options(datapipeline_backup.ARGUMENT_SPEC, cluster=cluster, run_id=run_id, state="active",
                             account_id="111111111111", autoscaling=False, core_instance_bid_price=0.1)
    dp = SimulatedInstances(clients.client("datapipeline"), [
        [instance("Export001", "FAILED", error="simulated: the spot nodes were taken back")],
        [instance("Export001", "FINISHED")]])
    clients._clients["datapipeline"] = dp
    task = PipelineTask(pipeline_settings(options, REGION, clients.destination()), clients)
    relaunched: list[PipelineTask] = []

    def relaunch(tables: list[str], attempt: int) -> PipelineTask:
        again = task.relaunched(tables, attempt)
        folder = again.definition.targets[0].folder
        export_output(clients.client("s3"), f"{clients.destination()}/{folder}/data/", [[ITEM_LINE]],
                      with_manifest=False)
        relaunched.append(again)
        return again

    ran = drive_night([NightCluster("c02", task, {on_cluster: 600.0}, 600.0, relaunch)], None,
                      utc_now() + timedelta(hours=1), poll_s=1, sleep=lambda _s: None)

    [again] = ran.relaunches
    assert again.relaunched and again.tables == [on_cluster] and "spot nodes were taken back" in again.reason
    definition = json.dumps(relaunched[0].definition.objects)
    assert "coreInstanceBidPrice" in json.dumps(task.definition.objects) and "BidPrice" not in definition
    assert relaunched[0].request.unique_id != task.request.unique_id
    assert ran.done and [(o.name, o.status, o.lane) for o in ran.outcomes] == [(on_cluster, "ok", "c02-r1")]
    assert read_capacity(clients, on_cluster) == OWN_RCU
