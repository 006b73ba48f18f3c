"""emr_backup's work, called directly: options checked before any AWS call, check mode, a run whose refused boost
caps its step, boosts put back as steps end, fail_on_table_failure, and terminate.

Against moto server (EMR, S3, STS, DynamoDB). moto never runs a step, so step ends are SIMULATED by
tests/support/emr_steps.SimulatedSteps (only ListSteps' states are rewritten); everything else is moto's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings, boost
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import run_task
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import job_flow_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import (
    EmrTask,
    emr_settings,
    run_emr_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.emr_backup import ARGUMENT_SPEC
from tests.conftest import REGION, client
from tests.support.emr_steps import SimulatedSteps
from tests.support.engine_clients import StandInClients, module_options
from tests.support.tables import create_table

NIGHT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1",
                                            "subnet_id": "subnet-0abc", "tags": {}, **given})


def planned(cid: str, *tables: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600, "tables": list(tables)}


def table(name: str, share: float = 0.5, boost_rcu: int | None = None) -> dict[str, Any]:
    return {"name": name, "read_percentage": share, "size_bytes": 1000, "rcu": 10,
            **({"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {})}


def active(emr: Any, name: str) -> list[str]:
    return [c["Id"] for c in emr.list_clusters(ClusterStates=ACTIVE)["Clusters"] if c["Name"] == name]


@pytest.mark.parametrize(("given", "field"), [
    ({"wait_timeout": -1}, "wait_timeout"),
    ({"poll_interval": 0}, "poll_interval"),
    ({"deadline": "when the window closes"}, "deadline"),
    ({"read_percentage": 1.5}, "read_percentage"),
    ({"subnet_id": None}, "subnet_id"),
    ({"jar": "https://example.com/tools.jar"}, "jar"),
    ({"cluster": {"id": "c01", "tables": []}}, "cluster.tables"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")  # nothing listens there
    with pytest.raises(InputError) as err:
        run_emr_backup(options(planned("c01", table("orders")), **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []


def test_absent_needs_the_cluster_id_only() -> None:
    clients = StandInClients("http://127.0.0.1:9", "s3://bucket/ddb")
    with pytest.raises(InputError) as err:
        run_emr_backup(options({"tables": []}, state="absent"), clients, check_mode=False)
    assert err.value.field == "cluster.id" and clients.asked == []


@pytest.fixture
def bucket(moto_server: Any, unique_name: str) -> str:
    client("s3", moto_server.url).create_bucket(Bucket=unique_name,
                                                CreateBucketConfiguration={"LocationConstraint": REGION})
    return unique_name


def test_check_mode_previews_and_a_run_caps_a_refused_boost(moto_server: Any, bucket: str) -> None:
    """Check mode builds the request and starts nothing; the run starts one cluster whose step for a table whose
    boost was refused reads at the host's share (read_percentage), as the preview said."""
    clients = StandInClients(moto_server.url, f"s3://{bucket}/ddb")
    given = options(planned("c01", table("orders", 0.9, boost_rcu=40), table("users", 0.9)), run_id=bucket,
                    boost_refused=["orders"], read_percentage=0.25, wait=False, put_back_boosts=False)

    preview = run_emr_backup(given, clients, check_mode=True, now=lambda: NIGHT)
    assert not preview.failed and preview.result["changed"] and preview.result["cluster_id"] is None
    ratios = [s["HadoopJarStep"]["Args"][2] for s in preview.result["job_flow"]["Steps"]]
    assert ratios == ["0.25", "0.9"]
    emr = client("emr", moto_server.url)
    assert active(emr, job_flow_name(bucket, "c01")) == []

    ran = run_emr_backup(given, clients, check_mode=False, now=lambda: NIGHT)
    assert not ran.failed and ran.result["created"] and ran.result["changed"], ran.result
    steps = emr.list_steps(ClusterId=ran.result["cluster_id"])["Steps"][::-1]
    assert [s["Config"]["Args"][1:] for s in steps] == [["orders", "0.25"], ["users", "0.9"]]
    assert [t["backup_url"] for t in ran.result["tables"]] == [
        f"s3://{bucket}/ddb/123456789012/{REGION}/{name}/2026-11-22-01-00-00" for name in ("orders", "users")]

    again = run_emr_backup(given, clients, check_mode=True)
    assert not again.result["changed"] and again.result["cluster_id"] == ran.result["cluster_id"]

    ended = run_emr_backup({**given, "state": "absent"}, clients, check_mode=False)
    assert ended.result["changed"] and ended.result["cluster_id"] == ran.result["cluster_id"]
    assert active(emr, job_flow_name(bucket, "c01")) == []


@pytest.mark.parametrize("fail_on_table_failure", [True, False])
def test_a_boost_goes_back_as_its_step_ends_and_a_failed_table_is_reported(
        moto_server: Any, bucket: str, fail_on_table_failure: bool) -> None:
    """One step COMPLETES without output (no _SUCCESS: a failed backup), one FAILS; both boosts go back as their
    steps end. The task fails for them only with fail_on_table_failure."""
    ddb = client("dynamodb", moto_server.url)
    first, second = f"{bucket}-first", f"{bucket}-second"
    for name in (first, second):
        create_table(ddb, name, rcu=10)
        boost(ddb, None, name, Targets(read=40), Settings(run_id=bucket, poll_s=0.01))
    clients = StandInClients(moto_server.url, f"s3://{bucket}/ddb")
    given = options(planned("c02", table(first, boost_rcu=40), table(second, boost_rcu=40)), run_id=bucket,
                    account_id="111111111111", maximum_retries=0, autoscaling=False,
                    fail_on_table_failure=fail_on_table_failure)
    clients._clients["emr"] = SimulatedSteps(client("emr", moto_server.url), {first: ["COMPLETED"],
                                                                              second: ["FAILED"]})
    task = EmrTask(emr_settings(given, REGION, clients.destination(), lambda: NIGHT), clients)

    answer = run_task(task, check_mode=False, clients=clients)

    assert answer.failed is fail_on_table_failure and answer.result["done"]
    assert sorted(answer.result["failed_tables"]) == sorted([first, second])
    assert "_SUCCESS" in {t["name"]: t["error"] for t in answer.result["tables"]}[first]
    assert sorted(answer.result["capacity_put_back"]) == sorted([first, second]) and answer.result["changed"]
    for name in (first, second):
        assert ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert clients.slept == [30]  # one poll interval between the first poll (running) and the second (ended)
