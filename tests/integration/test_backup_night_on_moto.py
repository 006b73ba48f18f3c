"""backup_night's logic (night/backup_night.py) on moto server: a plan's EMR cluster and local lane run through the
night driver, each engine's options checked by its module's own spec (ansible_adapter.checked_options), the result
in the shapes the backup role registers per engine (night_results reads them).

What moto never does is SIMULATED, and only that: an EMR step ending (tests/support/emr_steps.SimulatedSteps) and
the export output it would leave in S3 (written by the test). A cluster dying is moto's own (TerminateJobFlows).
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.ansible_adapter import checked_options
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import EngineAnswer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.local_lanes import LanesRequest, run_lanes_task
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.backup_night import (
    night_clusters,
    night_engine_options,
    run_backup_night,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    night_failures,
    night_tables,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules import backup_night
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


@pytest.fixture
def night(moto_server: Any, unique_name: str) -> tuple[StandInClients, str, str]:
    return boosted_night(moto_server.url, unique_name)


def plan(on_cluster: str, local: str | None, hours: float = 1.0) -> dict[str, Any]:
    start = utc_now()
    clusters: list[dict[str, Any]] = [
        {"id": "c01", "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600,
         "tables": [{"name": on_cluster, "read_percentage": 0.5, "size_bytes": 1000, "rcu": OWN_RCU,
                     "duration_s": 1200, "boosted": True, "boost_rcu": BOOST_RCU}]}]
    if local:
        clusters.append({"id": "l01", "engine": "local", "start_offset_s": 0, "end_offset_s": 60, "tables": [
            {"name": local, "size_bytes": 10_000, "rcu": 5, "read_percentage": 0.5, "duration_s": 2}]})
    return {"window_s": int(hours * 3600), "engine": "auto", "clusters": clusters,
            "window": {"starts_at": start.isoformat()},
            "night": {"id": "n1", "at": start.isoformat(), "stamp": start.strftime("%Y-%m-%d-%H-%M-%S")},
            "deadline": (start + timedelta(hours=hours)).isoformat()}


def options(run_id: str, the_plan: dict[str, Any], **given: Any) -> dict[str, Any]:
    emr = {"subnet_id": "subnet-0abc", "account_id": "111111111111", "maximum_retries": 0}
    return module_options(backup_night.ARGUMENT_SPEC, **{"plan": the_plan, "run_id": run_id, "night_id": run_id,
                                                         "poll_interval": 1, "autoscaling": False, "emr": emr,
                                                         **given})


def engines(opts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """As the module does: each engine's options checked by its module's spec."""
    return {key: [checked_options(backup_night.SPECS[key], o, key) for o in each]
            for key, each in night_engine_options(opts, {}).items()}


def lanes_on(clients: StandInClients, opts: dict[str, Any], tmp_path: Path, before: Any = None) -> Any:
    def lanes(check_mode: bool) -> EngineAnswer:
        if before is not None:
            before()
        request = LanesRequest(opts["plan"], REGION, ScanSettings(run_id=opts["run_id"]), run_id=opts["run_id"])
        return run_lanes_task(request, clients.client("dynamodb"), None, open_store(f"file://{tmp_path}/dest"),
                              check_mode=check_mode)
    return lanes


def registered(result: dict[str, Any]) -> list[Any]:
    """What the role registers from the result: backup_exports, backup_emr, backup_pipelines, backup_local."""
    return [result["exports"], result["emr"], result["pipelines"], result["local"]]


def test_the_cluster_tables_boost_goes_back_before_the_local_lanes_start_their_table(
        moto_server: Any, night: tuple[StandInClients, str, str], tmp_path: Path) -> None:
    clients, on_cluster, local = night
    run_id = clients.destination().split("/")[2]
    clients._clients["emr"] = SimulatedSteps(client("emr", moto_server.url), {on_cluster: ["COMPLETED"]})
    opts = options(run_id, plan(on_cluster, local))
    seen: list[int] = []

    def wait_for_the_put_back() -> None:
        """The local lanes start only once the cluster table's boost is back (or give up after 60 s): the boost
        goes back while they are still to run."""
        ends = time.monotonic() + 60
        while read_capacity(clients, on_cluster) != OWN_RCU and time.monotonic() < ends:
            time.sleep(0.2)
        seen.append(read_capacity(clients, on_cluster))

    the_engines = engines(opts)
    at = utc_now()  # the backups' time: the test writes the step's output where the task will look for it
    [planned] = night_clusters(the_engines, clients, lambda: at)["emr"]
    export_output(clients.client("s3"), planned.task.run.planned[0].output,  # type: ignore[attr-defined]
                  [[ITEM_LINE] * 3], with_manifest=False)

    answer = run_backup_night(the_engines, opts, clients, False,
                              lanes_on(clients, opts, tmp_path, wait_for_the_put_back), now=lambda: at,
                              sleep=lambda _s: None)

    assert seen == [OWN_RCU], answer.result
    assert not answer.failed, answer.result["msg"]
    result = answer.result
    assert [(t["name"], t["status"]) for t in night_tables(registered(result))] == [
        (on_cluster, "ok"), (local, "ok")]
    assert night_failures(registered(result)) == []
    assert result["emr"]["results"][0]["capacity_put_back"] == [on_cluster]
    assert result["exports"] is None and result["pipelines"] is None and result["relaunches"] == []


def test_a_dead_cluster_is_relaunched_and_the_role_shape_counts_it_backed_up(
        moto_server: Any, night: tuple[StandInClients, str, str], tmp_path: Path) -> None:
    clients, on_cluster, _local = night
    run_id = clients.destination().split("/")[2]
    moto_emr = client("emr", moto_server.url)
    # Polls 1 and 2 are the first cluster's (moto's own states); from poll 3, the relaunched cluster's step ends.
    clients._clients["emr"] = SimulatedSteps(moto_emr, {on_cluster: ["COMPLETED"]}, after=3)
    opts = options(run_id, plan(on_cluster, None))
    the_engines = engines(opts)
    at = utc_now()

    def sleep(_seconds: float) -> None:
        """The first cluster dies after the first poll; the relaunched one's output is written once it exists."""
        clusters = moto_emr.list_clusters(ClusterStates=["STARTING", "RUNNING", "WAITING"])["Clusters"]
        for found in clusters:
            if not found["Name"].endswith("-r1"):
                moto_emr.terminate_job_flows(JobFlowIds=[found["Id"]])

    # The relaunch's step writes under the relaunch's time (the same fixed clock): its output is there already.
    [planned] = night_clusters(the_engines, clients, lambda: at)["emr"]
    again = planned.task.relaunched([on_cluster], 1, lambda: at)  # type: ignore[attr-defined]
    export_output(clients.client("s3"), again.run.planned[0].output, [[ITEM_LINE] * 2], with_manifest=False)

    answer = run_backup_night(the_engines, opts, clients, False, lanes_on(clients, opts, tmp_path), now=lambda: at,
                              sleep=sleep)

    result = answer.result
    [relaunched] = result["relaunches"]
    assert relaunched["relaunched"] and relaunched["tables"] == [on_cluster], relaunched
    [emr] = result["emr"]["results"]
    assert not emr["failed"] and emr["failed_tables"] == [] and emr["msg"].startswith("relaunched 1 time(s)"), emr
    assert [a["failed_tables"] for a in emr["earlier_attempts"]] == [[on_cluster]]
    assert [(t["name"], t["status"], t["lane"]) for t in emr["tables"]] == [(on_cluster, "ok", "c01-r1")]
    assert night_failures(registered(result)) == [] and not answer.failed
    assert result["local"] is None
    assert read_capacity(clients, on_cluster) == OWN_RCU


def test_check_mode_previews_every_engine_and_starts_nothing(
        moto_server: Any, night: tuple[StandInClients, str, str], tmp_path: Path) -> None:
    clients, on_cluster, local = night
    run_id = clients.destination().split("/")[2]
    opts = options(run_id, plan(on_cluster, local))

    answer = run_backup_night(engines(opts), opts, clients, True, lanes_on(clients, opts, tmp_path))

    result = answer.result
    assert not answer.failed and result["changed"], result
    [emr] = result["emr"]["results"]
    assert emr["cluster_id"] is None and "would start" in emr["msg"] and emr["changed"], emr
    assert result["local"]["msg"] == "would back up 1 of 1 table(s) (0 kept from earlier tonight)"
    names = [c["Name"] for c in client("emr", moto_server.url).list_clusters()["Clusters"]]
    assert [name for name in names if run_id in name] == []  # moto's EMR is shared by the tests: this run's none
    assert not (tmp_path / "dest").exists()
    assert read_capacity(clients, on_cluster) == BOOST_RCU  # the plan's boost, left as it was


@pytest.mark.parametrize(("emr", "named"), [
    ({"core_instance_count": "many"}, "emr"),  # by emr_backup's own spec
    ({"subnet_id": None}, "subnet_id"),  # by emr_backup's own settings check
])
def test_bad_engine_settings_fail_before_any_aws_call(emr: dict[str, Any], named: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")
    opts = options("r1", plan("orders", "sessions"), emr={"account_id": "111111111111", **emr})

    with pytest.raises(InputError) as raised:  # the checks of the engine's own module, before any client
        run_backup_night(engines(opts), opts, clients, False, lambda _check: EngineAnswer(False, {}))

    assert raised.value.field == named, raised.value
    assert clients.asked == []
