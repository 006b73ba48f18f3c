"""The cluster engines' tasks (engines/emr_task, pipeline_task, export_task) called directly, as a module or a
night's driver calls them, against moto server (EMR, Data Pipeline, S3, STS, DynamoDB).

What moto never does is SIMULATED, and only that: EMR steps ending (tests/support/emr_steps.SimulatedSteps
rewrites ListSteps' states) and Data Pipeline run instances (tests/support/pipeline_instances.SimulatedInstances
answers QueryObjects and DescribeObjects); the export output those would leave is written into moto's S3 by the
test. moto runs native exports and finishes them at once. Option checks that need no server are in
tests/unit/test_{emr,pipeline,export}_task.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings, boost
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import pipeline_runner as runner
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import run_task
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import job_flow_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_task import (
    EmrTask,
    emr_settings,
    run_emr_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_task import run_exports
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import unique_id
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import (
    PipelineTask,
    pipeline_settings,
    run_datapipeline_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules import datapipeline_backup, dynamodb_export, emr_backup
from tests.conftest import REGION, client
from tests.support.emr_steps import SimulatedSteps
from tests.support.engine_clients import StandInClients, module_options
from tests.support.pipeline_instances import SimulatedInstances, instance
from tests.support.tables import create_table, put_items, simple_items

NIGHT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def emr_options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(emr_backup.ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1",
                                                       "subnet_id": "subnet-0abc", "tags": {}, **given})


def emr_cluster(cid: str, *tables: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600, "tables": list(tables)}


def emr_table(name: str, share: float = 0.5, boost_rcu: int | None = None) -> dict[str, Any]:
    return {"name": name, "read_percentage": share, "size_bytes": 1000, "rcu": 10,
            **({"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {})}


def active(emr: Any, name: str) -> list[str]:
    return [c["Id"] for c in emr.list_clusters(ClusterStates=ACTIVE)["Clusters"] if c["Name"] == name]


def pipeline_cluster(cid: str, names: list[str], boost_rcu: int | None = None) -> dict[str, Any]:
    boosted = {"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {}
    return {"id": cid, "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": 0.5, **boosted} for n in names]}


def pipeline_options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(datapipeline_backup.ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1",
                                                                **given})


def export_options(tables: list[str], **given: Any) -> dict[str, Any]:
    return module_options(dynamodb_export.ARGUMENT_SPEC, **{"tables": tables, "run_id": "night-1", **given})


# ---------------------------------------------------------------- EMR

@pytest.fixture
def bucket(moto_server: Any, unique_name: str) -> str:
    client("s3", moto_server.url).create_bucket(Bucket=unique_name,
                                                CreateBucketConfiguration={"LocationConstraint": REGION})
    return unique_name


def test_check_mode_previews_and_a_run_caps_a_refused_boost(moto_server: Any, bucket: str) -> None:
    """Check mode builds the request and starts nothing; the run starts one cluster whose step for a table whose
    boost was refused reads at the host's share (read_percentage), as the preview said."""
    clients = StandInClients(moto_server.url, f"s3://{bucket}/ddb")
    cluster = emr_cluster("c01", emr_table("orders", 0.9, boost_rcu=40), emr_table("users", 0.9))
    given = emr_options(cluster, run_id=bucket, boost_refused=["orders"], read_percentage=0.25, wait=False,
                        put_back_boosts=False)

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
    cluster = emr_cluster("c02", emr_table(first, boost_rcu=40), emr_table(second, boost_rcu=40))
    given = emr_options(cluster, run_id=bucket, account_id="111111111111", maximum_retries=0, autoscaling=False,
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


# ---------------------------------------------------------------- Data Pipeline

@pytest.fixture
def stand_in(moto_server: Any, unique_name: str) -> tuple[StandInClients, list[str]]:
    """A bucket and two tables in moto; the clients, and the tables' names."""
    client("s3", moto_server.url).create_bucket(Bucket=unique_name,
                                                CreateBucketConfiguration={"LocationConstraint": REGION})
    names = [f"{unique_name}-orders", f"{unique_name}-users"]
    for name in names:
        create_table(client("dynamodb", moto_server.url), name, rcu=10)
    return StandInClients(moto_server.url, f"s3://{unique_name}/ddb"), names


def test_check_mode_present_and_absent(stand_in: tuple[StandInClients, list[str]]) -> None:
    clients, names = stand_in
    given = pipeline_options(pipeline_cluster("c01", names), run_id=names[0], state="present")
    uid = unique_id(given["run_id"], "c01")
    dp = clients.client("datapipeline")

    preview = run_datapipeline_backup(given, clients, check_mode=True, now=lambda: NIGHT)
    assert not preview.failed and preview.result["changed"] and preview.result["pipeline_id"] is None
    assert preview.result["object_count"] == 2 + 3 * 2 == len(preview.result["definition"])
    assert [t["engine_state"] for t in preview.result["tables"]] == ["NOT_RUN"] * 2
    assert runner.find_pipeline(dp, uid) is None

    present = run_datapipeline_backup(given, clients, check_mode=False, now=lambda: NIGHT)
    assert present.result["changed"] and present.result["state"] == "PENDING"
    assert runner.find_pipeline(dp, uid) == present.result["pipeline_id"]
    # The account is the first table's (moto's), the folders the night's.
    assert [t["backup_url"] for t in present.result["tables"]] == [
        f"{clients.destination()}/123456789012/{REGION}/{n}/2026-11-22-01-00-00" for n in names]

    absent = run_datapipeline_backup({**given, "state": "absent"}, clients, check_mode=False)
    assert absent.result["changed"] and absent.result["state"] == "DELETED" and runner.find_pipeline(dp, uid) is None


def test_a_run_records_the_finished_table_puts_boosts_back_and_deletes_the_pipeline(
        stand_in: tuple[StandInClients, list[str]]) -> None:
    clients, names = stand_in
    ddb, s3 = clients.client("dynamodb"), clients.client("s3")
    for name in names:
        boost(ddb, None, name, Targets(read=40), Settings(run_id="night-7", poll_s=0.01))
    given = pipeline_options(pipeline_cluster("c02", names, boost_rcu=40), run_id="night-7", account_id="111111111111",
                             autoscaling=False, taken_at="2026-11-22-01-00-00")
    task = PipelineTask(pipeline_settings(given, REGION, clients.destination()), clients)
    # The first table's export output, as DynamoDBExport writes it, then the simulated run instances.
    bucket, prefix = clients.destination()[5:].split("/", 1)
    folder = task.definition.targets[0].folder
    lines = "".join(json.dumps({"pk": {"s": f"k{n}"}}) + "\n" for n in range(3)).encode()
    for key, body in (("part-0", lines), ("manifest", b'{"name":"DynamoDB-export"}'), ("_SUCCESS", b"")):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{folder}/data/{key}", Body=body)
    dp = SimulatedInstances(clients.client("datapipeline"), [
        [instance("Export001", "FINISHED"), instance("Export002", "FAILED", error="ProvisionedThroughputExceeded")]])
    task.run.dp = dp

    answer = run_task(task, check_mode=False, clients=clients)

    assert answer.failed and answer.result["done"] and answer.result["failed_tables"] == [names[1]]
    assert answer.result["state"] == "DELETED" and runner.find_pipeline(dp.real, task.request.unique_id) is None
    ok = answer.result["tables"][0]
    assert ok["status"] == "ok" and ok["items"] == 3 and ok["manifest_url"].endswith("/hippolyte-manifest.json")
    assert "ProvisionedThroughputExceeded" in answer.result["msg"]
    assert sorted(answer.result["capacity_put_back"]) == sorted(names)
    assert clients.slept == [60]  # activated by this call: no instance to ask for until the next poll


# ---------------------------------------------------------------- native export

def test_check_mode_then_a_run(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(4))
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    clients = StandInClients(moto_server.url, f"s3://{unique_name}/dynamodb", bucket_owner="123456789012")
    at = datetime.now(UTC).replace(microsecond=0)  # inside the PITR window just opened
    given = export_options([unique_name], export_time=at.isoformat(), maximum_retries=0)

    preview = run_exports(given, clients, check_mode=True)
    assert not preview.failed and preview.result["export_time"] == at.isoformat()
    assert [e["status"] for e in preview.result["exports"]] == ["PENDING"]
    assert s3.list_objects_v2(Bucket=unique_name).get("KeyCount") == 0
    assert ddb.list_exports(TableArn=ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]).get(
        "ExportSummaries", []) == []

    ran = run_exports(given, clients, check_mode=False)
    assert not ran.failed and ran.result["done"] and ran.result["changed"], ran.result
    export, = ran.result["exports"]
    assert export["status"] == "COMPLETED" and export["item_count"] == 4 and export["started"]
    assert export["backup_url"].endswith(at.strftime("/%Y-%m-%d-%H-%M-%S")) and export["manifest_url"]
    assert ran.result["tables"][0]["status"] == "ok" and clients.slept == []  # moto finishes at once
