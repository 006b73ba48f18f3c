"""The Data Pipeline engine against real stand-ins.

- Create / put definition / activate / describe / delete: the module through the real `ansible` CLI
  against moto server (DynamoDB, S3 and Data Pipeline in one server).
- Pipeline runs finishing and failing: moto never runs a pipeline (and answers QueryObjects with a bare
  HTTP 500), so those are SIMULATED with botocore's Stubber on a Data Pipeline client, stubbing
  QueryObjects and DescribeObjects with the instance objects AWS would return. The pipeline itself is
  real (created in moto), the exported files are written into moto's S3 as DynamoDBExport would, and the
  manifests are computed from them through the real runner code.
- A definition's export activities, run by the in-process engine (tests/support/pipeline_local.py), back up a
  real dynalite table end to end into a local folder.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import PlannedCluster
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import pipeline_runner as runner
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    PipelineSettings,
    build_definition,
    unique_id,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.pipeline_instances import instance
from tests.support.pipeline_local import execute_locally
from tests.support.tables import create_table, put_items, simple_items

TAKEN_AT = datetime(2026, 11, 22, 1, 0, 0, tzinfo=UTC)


def planned_cluster(cluster_id: str, names: list[str]) -> dict:
    return {"id": cluster_id, "engine": "datapipeline", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": 0.5, "start_offset_s": 600, "duration_s": 60} for n in names]}


def pipelines_with(dp, uid: str) -> list[str]:
    return [p for p in [runner.find_pipeline(dp, uid)] if p]


@pytest.fixture
def moto_setup(moto_server, unique_name):
    """A bucket and two small tables in moto; returns (url, bucket, table names)."""
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb = client("dynamodb", moto_server.url)
    names = [f"{unique_name}-orders", f"{unique_name}-users"]
    for name in names:
        create_table(ddb, name, rcu=10)
    return moto_server.url, unique_name, names


def test_module_creates_activates_and_deletes_a_pipeline(moto_setup):
    url, bucket, names = moto_setup
    dp = client("datapipeline", url)
    run_id = f"run-{bucket}"
    args = {"cluster": planned_cluster("c01", names), "run_id": run_id, "destination": f"s3://{bucket}/ddb",
            "region": REGION, "endpoint_url": url, "s3_endpoint_url": url, "subnet_id": "subnet-0abc",
            "taken_at": "2026-11-22-01-00-00", "sns_topic_arn": f"arn:aws:sns:{REGION}:123456789012:failures"}
    uid = unique_id(run_id, "c01")

    check = run_module("datapipeline_backup", {**args, "state": "active"}, check=True)
    assert not check.failed, check.output
    assert check.result["changed"] and check.result["object_count"] == 3 + 3 * 2
    assert len(check.result["definition"]) == 9 and pipelines_with(dp, uid) == []  # check mode created nothing

    present = run_module("datapipeline_backup", {**args, "state": "present"})
    assert not present.failed, present.output
    pid = present.result["pipeline_id"]
    assert present.result["changed"] and present.result["state"] == "PENDING" and pipelines_with(dp, uid) == [pid]
    stored = dp.get_pipeline_definition(pipelineId=pid)["pipelineObjects"]
    assert sorted(o["id"] for o in stored) == sorted(o["id"] for o in check.result["definition"])
    assert [t["backup_url"] for t in present.result["tables"]] == [
        f"s3://{bucket}/ddb/123456789012/{REGION}/{n}/2026-11-22-01-00-00" for n in names]

    again = run_module("datapipeline_backup", {**args, "state": "present", "taken_at": "2026-11-23-01-00-00"})
    assert not again.failed and not again.result["changed"] and again.result["pipeline_id"] == pid
    # the existing definition keeps its folders, whatever taken_at says now
    assert again.result["tables"] == present.result["tables"]

    active = run_module("datapipeline_backup", {**args, "state": "active", "wait": False})
    assert not active.failed, active.output
    assert active.result["changed"] and active.result["state"] == "SCHEDULED" and active.result["pipeline_id"] == pid
    assert [t["engine_state"] for t in active.result["tables"]] == ["WAITING_ON_DEPENDENCIES"] * 2
    assert [t["status"] for t in active.result["tables"]] == ["running"] * 2
    assert not active.result["done"]

    absent = run_module("datapipeline_backup", {**args, "state": "absent"})
    assert not absent.failed and absent.result["changed"] and absent.result["state"] == "DELETED"
    assert pipelines_with(dp, uid) == []
    gone = run_module("datapipeline_backup", {**args, "state": "absent"})
    assert not gone.failed and not gone.result["changed"] and gone.result["state"] == "ABSENT"


def test_bad_inputs_fail_clearly_and_create_nothing(moto_setup):
    url, bucket, names = moto_setup
    dp = client("datapipeline", url)
    base = {"run_id": f"bad-{bucket}", "destination": f"s3://{bucket}/ddb", "region": REGION, "endpoint_url": url,
            "account_id": "123456789012", "state": "present"}
    too_big = planned_cluster("c09", [f"table{i}" for i in range(33)])
    run = run_module("datapipeline_backup", {**base, "cluster": too_big})
    assert run.failed and run.result["field"] == "cluster" and "max_objects 100" in run.result["msg"]
    run = run_module("datapipeline_backup", {**base, "cluster": planned_cluster("c09", names), "role": ""})
    assert run.failed and run.result["field"] == "service_role"  # named as the option, whatever name was given
    run = run_module("datapipeline_backup", {**base, "cluster": planned_cluster("c09", names),
                                             "destination": "file:///tmp/x"})
    assert run.failed and run.result["field"] == "destination"
    assert pipelines_with(dp, unique_id(f"bad-{bucket}", "c09")) == []
    # absent needs only the uniqueId: tables that do not exist (any more) do not stop it
    gone = run_module("datapipeline_backup", {**base, "cluster": too_big, "state": "absent", "account_id": None})
    assert not gone.failed and not gone.result["changed"] and gone.result["state"] == "ABSENT"
    run = run_module("datapipeline_backup", {**base, "cluster": {"tables": []}, "state": "absent"})
    assert run.failed and run.result["field"] == "cluster.id"


def _stub_poll(stubber: Stubber, pid: str, instances: list[dict]) -> None:
    """One poll as AWS answers it: QueryObjects (INSTANCE sphere), then DescribeObjects of those ids."""
    ids = [i["id"] for i in instances]
    stubber.add_response("query_objects", {"ids": ids, "hasMoreResults": False},
                         {"pipelineId": pid, "sphere": "INSTANCE"})
    stubber.add_response("describe_objects", {"pipelineObjects": instances, "hasMoreResults": False},
                         {"pipelineId": pid, "objectIds": ids, "evaluateExpressions": False})


def test_simulated_run_one_table_finishes_one_fails(moto_setup):
    """SIMULATED run (Stubber on QueryObjects/DescribeObjects): the first poll finds both exports running,
    the second finds one FINISHED and one FAILED; only the finished table gets a manifest, computed from
    the files a DynamoDBExport step would have written (here put into moto's S3 by the test)."""
    url, bucket, names = moto_setup
    dp, ddb, s3 = client("datapipeline", url), client("dynamodb", url), client("s3", url)
    store = open_store(f"s3://{bucket}/ddb", s3)
    settings = PipelineSettings(destination=store.url, account="123456789012", region=REGION, taken_at=TAKEN_AT,
                                service_role="DataPipelineDefaultRole", job_flow_role="DataPipelineDefaultResourceRole",
                                log_uri=f"s3://{bucket}/logs/", maximum_retries=1)
    definition = build_definition(planned_cluster("c02", names), settings)
    pid, created = runner.create_pipeline(dp, "sim", unique_id(bucket, "c02"))
    assert created and runner.create_pipeline(dp, "sim", unique_id(bucket, "c02")) == (pid, False)
    runner.put_definition(dp, pid, definition.objects)
    assert runner.activate(dp, pid) and not runner.activate(dp, pid)
    assert runner.pipeline_state(dp, pid) == "SCHEDULED"

    done_folder = definition.targets[0].folder
    lines = [json.dumps({"pk": {"s": f"k{n}"}, "n": {"n": str(n)}}) for n in range(5)]
    part = ("\n".join(lines) + "\n").encode()
    s3.put_object(Bucket=bucket, Key=f"ddb/{done_folder}/data/0a1b2c3d-part", Body=part)
    s3.put_object(Bucket=bucket, Key=f"ddb/{done_folder}/data/manifest", Body=b'{"name":"DynamoDB-export"}')
    s3.put_object(Bucket=bucket, Key=f"ddb/{done_folder}/data/_SUCCESS", Body=b"")

    watcher = client("datapipeline", url)
    stubber = Stubber(watcher)
    _stub_poll(stubber, pid, [instance("Export001", "RUNNING"), instance("Export002", "WAITING_FOR_RUNNER")])
    _stub_poll(stubber, pid, [instance("Export001", "FINISHED"),
                              instance("Export002", "FAILED", error="ProvisionedThroughputExceeded"),
                              instance("Export002", "CASCADE_FAILED", start="2026-11-22T00:00:00")])
    polls: list[list[str]] = []
    with stubber:
        statuses, done = runner.wait(watcher, pid, definition.targets, timeout_s=3600, poll_s=60,
                                     sleep=lambda s: None, progress=lambda st: polls.append([x.status for x in st]))
        stubber.assert_no_pending_responses()
    assert done and polls == [["RUNNING", "WAITING_FOR_RUNNER"], ["FINISHED", "FAILED"]]
    assert statuses[1].error == "ProvisionedThroughputExceeded"

    written = runner.record(ddb, store, statuses, "123456789012", REGION, TAKEN_AT, datetime.now(UTC))
    assert written == 1
    doc = json.loads(store.read_bytes(f"{done_folder}/{MANIFEST_NAME}"))
    assert (doc["engine"], doc["data_format"], doc["consistency"]) == ("datapipeline", "emr-connector", "fuzzy-scan")
    assert doc["files"] == [{"path": "data/0a1b2c3d-part", "items": 5, "bytes": len(part),
                             "sha256": hashlib.sha256(part).hexdigest()}]
    assert doc["item_count"] == 5 and doc["table"] == names[0]
    assert not store.exists(f"{definition.targets[1].folder}/{MANIFEST_NAME}")  # never for a failed table
    assert runner.record(ddb, store, statuses, "123456789012", REGION, TAKEN_AT, datetime.now(UTC)) == 0

    runner.delete_pipeline(dp, pid)
    assert runner.find_pipeline(dp, unique_id(bucket, "c02")) is None


def test_simulated_success_without_data_is_a_failure_and_timeout_is_reported(moto_setup):
    """SIMULATED (Stubber): a table reported FINISHED with an empty data/ folder is recorded as FAILED;
    a run still going when the wait times out comes back not done."""
    url, bucket, names = moto_setup
    ddb, s3 = client("dynamodb", url), client("s3", url)
    store = open_store(f"s3://{bucket}/ddb", s3)
    settings = PipelineSettings(destination=store.url, account="123456789012", region=REGION, taken_at=TAKEN_AT,
                                service_role="r", job_flow_role="rr", log_uri="s3://l/")
    targets = build_definition(planned_cluster("c03", names[:1]), settings).targets
    watcher = client("datapipeline", url)
    stubber = Stubber(watcher)
    _stub_poll(stubber, "df-1", [instance("Export001", "FINISHED")])
    for _poll in range(3):  # polls at t=0, 60 and 100 (the deadline)
        _stub_poll(stubber, "df-1", [instance("Export001", "RUNNING")])
    now = [0.0]
    with stubber:
        statuses, done = runner.wait(watcher, "df-1", targets, timeout_s=10)
        assert done
        runner.record(ddb, store, statuses, "123456789012", REGION, TAKEN_AT, TAKEN_AT)
        assert statuses[0].status == "FAILED" and "holds no data files" in statuses[0].error
        late, done = runner.wait(watcher, "df-1", targets, timeout_s=100, poll_s=60, clock=lambda: now[0],
                                 sleep=lambda s: now.__setitem__(0, now[0] + s))
        stubber.assert_no_pending_responses()
    assert not done and late[0].status == "RUNNING" and now[0] == 100


def test_aws_validation_errors_fail_with_their_text(moto_server):
    """SIMULATED (Stubber): moto accepts any definition, so AWS's validation answer is stubbed."""
    dp = client("datapipeline", moto_server.url)
    stubber = Stubber(dp)
    stubber.add_response("put_pipeline_definition", {
        "errored": True, "validationErrors": [{"id": "EmrClusterForBackup", "errors": ["subnetId is not valid"]}],
        "validationWarnings": [{"id": "Default", "warnings": ["pipelineLogUri bucket is in another region"]}]})
    with stubber, pytest.raises(HippolyteError) as err:
        runner.put_definition(dp, "df-1", [])
    assert "subnetId is not valid" in str(err.value) and "another region" in str(err.value)


def test_a_definition_run_in_process_backs_up_a_dynalite_table(dynalite_server, unique_name, tmp_path):
    """No simulation: the definition's activities run with the in-process engine against dynalite."""
    ddb = client("dynamodb", dynalite_server.url)
    table = f"{unique_name}-orders"
    create_table(ddb, table, rcu=1000)
    put_items(ddb, table, simple_items(300))
    cluster = PlannedCluster.from_json(planned_cluster("c04", [table, f"{unique_name}-missing"]))
    settings = PipelineSettings(destination=tmp_path.as_uri(), account="123456789012", region=REGION,
                                taken_at=TAKEN_AT, service_role="DataPipelineDefaultRole",
                                job_flow_role="DataPipelineDefaultResourceRole", log_uri="s3://logs/",
                                maximum_retries=0)
    definition = build_definition(cluster, settings)
    store = open_store(tmp_path.as_uri())

    statuses = execute_locally(ddb, store, definition.objects, REGION, settings.account, TAKEN_AT)

    ok, missing = [s.outcome(tmp_path.as_uri(), "c04").to_result() for s in statuses]
    assert ok["status"] == "ok" and ok["items"] == 300 and missing["status"] == "failed"
    assert ok["engine_state"] == "FINISHED" and missing["name"] == f"{unique_name}-missing"
    assert ok["backup_url"].endswith(f"/{REGION}/{table}/2026-11-22-01-00-00")
    folder = ok["backup_url"][len(tmp_path.as_uri()) + 1:]
    doc = json.loads(store.read_bytes(f"{folder}/{MANIFEST_NAME}"))
    assert doc["item_count"] == 300 and doc["table"] == table
    assert not store.list_files(missing["backup_url"][len(tmp_path.as_uri()) + 1:])


def test_the_removed_executed_locally_state_fails_before_any_aws_call(tmp_path):
    """Nothing listens on the endpoint: any AWS call would fail on the connection, not with this message."""
    args = {"cluster": planned_cluster("c04", ["orders"]), "run_id": "dry-run", "destination": tmp_path.as_uri(),
            "region": REGION, "endpoint_url": "http://127.0.0.1:9", "state": "executed_locally"}

    run = run_module("datapipeline_backup", args)

    assert run.failed
    assert run.result["msg"].startswith("state: executed_locally was removed"), run.result["msg"]
    assert "hippolyte.dynamodb.dynamodb_scan_backup" in run.result["msg"]
    assert not any(tmp_path.iterdir())
