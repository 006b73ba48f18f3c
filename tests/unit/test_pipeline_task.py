"""datapipeline_backup's work, called directly: the removed state and bad options fail before any AWS call; check
mode, present, absent; a run whose tables end one ok and one failed, boosts put back and the pipeline deleted.

Against moto server (Data Pipeline, S3, DynamoDB). moto never runs a pipeline, so its run instances are SIMULATED
by tests/support/pipeline_instances.SimulatedInstances (QueryObjects and DescribeObjects only); the export's files
are written into moto's S3 by the test, as DynamoDBExport would write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings, boost
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import pipeline_runner as runner
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import run_task
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import unique_id
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_task import (
    PipelineTask,
    pipeline_settings,
    run_datapipeline_backup,
)
from ansible_collections.hippolyte.dynamodb.plugins.modules.datapipeline_backup import ARGUMENT_SPEC
from tests.conftest import REGION, client
from tests.support.engine_clients import StandInClients, module_options
from tests.support.pipeline_instances import SimulatedInstances, instance
from tests.support.tables import create_table

NIGHT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def planned(cid: str, names: list[str], boost_rcu: int | None = None) -> dict[str, Any]:
    boosted = {"boosted": True, "boost_rcu": boost_rcu} if boost_rcu else {}
    return {"id": cid, "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": 0.5, **boosted} for n in names]}


def options(planned_cluster: dict[str, Any], **given: Any) -> dict[str, Any]:
    return module_options(ARGUMENT_SPEC, **{"cluster": planned_cluster, "run_id": "night-1", **given})


def test_the_removed_state_fails_first() -> None:
    clients = StandInClients("http://127.0.0.1:9", None)  # no destination either: the state is named first
    with pytest.raises(InputError) as err:
        run_datapipeline_backup(options(planned("c01", ["orders"]), state="executed_locally"), clients, False)
    assert err.value.field == "state" and "dynamodb_scan_backup" in str(err.value) and clients.asked == []


@pytest.mark.parametrize(("given", "field"), [
    ({"destination": "file:///var/backups"}, "destination"),
    ({"service_role": ""}, "service_role"),
    ({"read_percentage": 2.0}, "read_percentage"),
    ({"poll_interval": 0}, "poll_interval"),
    ({"taken_at": "tonight"}, "taken_at"),
    ({"cluster": planned("c01", [f"t{n:03d}" for n in range(40)])}, "cluster"),
    ({"cluster": {"tables": []}, "state": "absent"}, "cluster.id"),
])
def test_bad_options_fail_before_any_aws_call(given: dict[str, Any], field: str) -> None:
    clients = StandInClients("http://127.0.0.1:9", given.pop("destination", "s3://bucket/ddb"))
    with pytest.raises(InputError) as err:
        run_datapipeline_backup(options(planned("c01", ["orders"]), **given), clients, check_mode=False)
    assert err.value.field == field and clients.asked == []


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
    given = options(planned("c01", names), run_id=names[0], state="present")
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
    given = options(planned("c02", names, boost_rcu=40), run_id="night-7", account_id="111111111111",
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
