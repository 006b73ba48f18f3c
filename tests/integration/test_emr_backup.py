"""The EMR engine against moto server (EMR, S3, STS, DynamoDB) over HTTP, through the module and in-process.

moto implements RunJobFlow, ListClusters, DescribeCluster, ListSteps and TerminateJobFlows but never
runs a step: its first step stays RUNNING and the others PENDING for ever. What a finished step leaves
behind is therefore simulated, and only that:
- `SimulatedSteps` wraps the real moto EMR client and rewrites only the State (and timeline) of the steps
  that ListSteps returns, from the second poll on; every other call, ListSteps included, goes to moto.
- The export output a DynamoDBExport step would write (items in the emr-connector format, its `manifest`
  file and `_SUCCESS`) is written by the test into moto S3, at the folder the step's arguments name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME, loads
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import (
    Settings as CapacitySettings,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import boost, put_back_many
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import watch
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    JobFlowSettings,
    job_flow_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_runner import (
    EmrRun,
    TableStatus,
    record_finished,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.emr_steps import SimulatedSteps, export_output
from tests.support.tables import create_table

ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def planned(cid: str, *names: str) -> dict[str, Any]:
    return {"id": cid, "engine": "emr", "start_offset_s": 0, "end_offset_s": 3600,
            "tables": [{"name": n, "read_percentage": 0.5, "size_bytes": 1000, "rcu": 10} for n in names]}


def module_args(moto: Any, bucket: str, run_id: str, cluster: dict[str, Any], **extra: Any) -> dict[str, Any]:
    args = {"cluster": cluster, "run_id": run_id, "destination": f"s3://{bucket}/ddb", "subnet_id": "subnet-0abc",
            "log_uri": f"s3://{bucket}/logs/", "endpoint_url": moto.url, "region": REGION, "wait": False}
    args.update(extra)
    return args


def active_clusters(emr: Any, name: str) -> list[dict[str, Any]]:
    return [c for c in emr.list_clusters(ClusterStates=ACTIVE)["Clusters"] if c["Name"] == name]


def bucket(moto: Any, name: str) -> None:
    client("s3", moto.url).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def test_start_is_idempotent_and_terminate_stops_the_cluster(moto_server: Any, unique_name: str) -> None:
    bucket(moto_server, unique_name)
    emr = client("emr", moto_server.url)
    cluster = planned("c01", "orders", "users", "events")
    args = module_args(moto_server, unique_name, unique_name, cluster)

    first = run_module("emr_backup", args)
    assert not first.failed, first.output
    r = first.result
    assert r["changed"] and r["created"] and r["cluster_id"].startswith("j-")
    assert [t["name"] for t in r["tables"]] == ["orders", "users", "events"]
    assert {t["engine_state"] for t in r["tables"]} <= {"PENDING", "RUNNING"} and r["manifests_written"] == []
    # moto's STS account (no account_id given) is in the backup path.
    assert r["tables"][0]["backup_url"].startswith(f"s3://{unique_name}/ddb/123456789012/{REGION}/orders/")

    described = emr.describe_cluster(ClusterId=r["cluster_id"])["Cluster"]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["hippolyte:run-id"] == unique_name and tags["hippolyte:cluster-id"] == "c01"
    assert described["LogUri"] == f"s3://{unique_name}/logs/"
    steps = emr.list_steps(ClusterId=r["cluster_id"])["Steps"][::-1]  # ListSteps lists newest first
    assert [s["Config"]["Args"][1] for s in steps] == ["orders", "users", "events"]
    assert all(s["ActionOnFailure"] == "CONTINUE" for s in steps)
    assert steps[0]["Config"]["Args"][0] == r["tables"][0]["backup_url"] + "/data/"

    second = run_module("emr_backup", dict(args, destination=args["destination"] + "/"))  # same place
    assert not second.failed, second.output
    assert second.result["cluster_id"] == r["cluster_id"]
    assert not second.result["changed"] and not second.result["created"]
    # The backup folders keep the first call's timestamp (read back from the cluster's tag).
    assert [t["backup_url"] for t in second.result["tables"]] == [t["backup_url"] for t in r["tables"]]
    assert len(active_clusters(emr, job_flow_name(unique_name, "c01"))) == 1

    absent = dict(args, state="absent")
    check_stop = run_module("emr_backup", absent, check=True)
    assert check_stop.result["changed"] and check_stop.result["cluster_id"] == r["cluster_id"]
    assert len(active_clusters(emr, job_flow_name(unique_name, "c01"))) == 1

    stop = run_module("emr_backup", absent)
    assert not stop.failed, stop.output
    assert stop.result["changed"] and stop.result["cluster_id"] == r["cluster_id"]
    assert emr.describe_cluster(ClusterId=r["cluster_id"])["Cluster"]["Status"]["State"].startswith("TERMINAT")
    assert active_clusters(emr, job_flow_name(unique_name, "c01")) == []
    again = run_module("emr_backup", absent)
    assert not again.failed and not again.result["changed"] and again.result["cluster_id"] is None


def test_check_mode_builds_the_request_and_creates_nothing(moto_server: Any, unique_name: str) -> None:
    bucket(moto_server, unique_name)
    emr = client("emr", moto_server.url)
    args = module_args(moto_server, unique_name, unique_name, planned("c02", "orders", "users"),
                       account_id="111111111111", spot={"core": True, "task_count": 2})
    result = run_module("emr_backup", args, check=True)
    assert not result.failed, result.output
    r = result.result
    assert r["changed"] and r["cluster_id"] is None
    flow = r["job_flow"]
    assert flow["Name"] == job_flow_name(unique_name, "c02") and flow["Instances"]["Ec2SubnetId"] == "subnet-0abc"
    assert [s["HadoopJarStep"]["Args"][1] for s in flow["Steps"]] == ["orders", "users"]
    assert [g["Market"] for g in flow["Instances"]["InstanceGroups"]] == ["ON_DEMAND", "SPOT", "SPOT"]
    assert active_clusters(emr, flow["Name"]) == []


def test_bad_input_fails_before_anything_is_created(moto_server: Any, unique_name: str) -> None:
    bucket(moto_server, unique_name)
    emr = client("emr", moto_server.url)
    no_subnet = module_args(moto_server, unique_name, unique_name, planned("c03", "orders"), subnet_id=None)
    result = run_module("emr_backup", no_subnet)
    assert result.failed and result.result["field"] == "subnet_id", result.output
    too_many = module_args(moto_server, unique_name, unique_name, planned("c03", *[f"t{n:03d}" for n in range(257)]))
    result = run_module("emr_backup", too_many)
    assert result.failed and result.result["field"] == "cluster.tables", result.output
    assert active_clusters(emr, job_flow_name(unique_name, "c03")) == []


def test_wait_times_out_while_steps_run(moto_server: Any, unique_name: str) -> None:
    """moto never finishes a step, so waiting ends at wait_timeout with the task failed and the states reported."""
    bucket(moto_server, unique_name)
    args = module_args(moto_server, unique_name, unique_name, planned("c04", "orders"), wait=True,
                       wait_timeout=1, poll_interval=1)
    result = run_module("emr_backup", args)
    assert result.failed and "still running after 1 s" in result.result["msg"], result.output
    assert result.result["tables"][0]["engine_state"] in ("PENDING", "RUNNING") and result.result["cluster_id"]


def test_a_watch_started_late_stops_when_the_window_closes(moto_server: Any, unique_name: str) -> None:
    """A watch that starts with 3 s of the window left stops then, not a whole window (wait_timeout) later:
    the deadline is the window's end, shared by every engine. moto never finishes a step, so it is still running."""
    bucket(moto_server, unique_name)
    closes = datetime.now(UTC) + timedelta(seconds=3)
    args = module_args(moto_server, unique_name, unique_name, planned("c05", "orders"), wait=True,
                       wait_timeout=7 * 3600, poll_interval=1, deadline=closes.isoformat())
    result = run_module("emr_backup", args)
    assert result.failed and "still running after" in result.result["msg"], result.output
    assert datetime.now(UTC) - closes < timedelta(seconds=60)  # not seven hours
    assert result.result["tables"][0]["status"] == "running"


# ---------------------------------------------------------------- steps finishing and failing (simulated)

def test_completed_steps_get_manifests_failed_ones_never(moto_server: Any, unique_name: str) -> None:
    bucket(moto_server, unique_name)
    s3, ddb = client("s3", moto_server.url), client("dynamodb", moto_server.url)
    names = [f"{unique_name}-{t}" for t in ("orders", "users", "events", "late")]
    orders, users, events, late = names
    for name in names:
        create_table(ddb, name, rcu=10)
    store = open_store(f"s3://{unique_name}/ddb", s3)
    settings = JobFlowSettings(run_id=unique_name, destination=f"s3://{unique_name}/ddb", account="111111111111",
                               region=REGION, subnet_id="subnet-0abc",
                               taken_at=datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    cluster = planned("c05", *names)
    # orders fails once and succeeds on its retry; users fails every attempt (1 + maximum_retries 2).
    emr = SimulatedSteps(client("emr", moto_server.url), {orders: ["FAILED", "COMPLETED"], users: ["FAILED"],
                                                          events: ["COMPLETED"], late: ["COMPLETED"]})
    polls: list[list[str]] = []

    def on_poll(statuses: list[Any]) -> None:
        polls.append([s.status for s in statuses])
        if len(polls) == 1:  # the steps' output, written while they "run"
            out = {s.table: f"s3://{unique_name}/ddb/{s.folder}/data/" for s in statuses}
            written["orders"] = export_output(s3, out[orders], [['{"pk":{"s":"a"},"n":{"n":"1"}}',
                                                                 '{"pk":{"s":"b"},"sS":{"sS":["x","y"]}}'],
                                                                ['{"pk":{"s":"c"}}']])
            written["events"] = export_output(s3, out[events], [["pk\x03{\"s\":\"e1\"}\x02n\x03{\"n\":\"7\"}"] * 3],
                                              compress=True, with_manifest=False)
            # `late` "completed" but left no output: no _SUCCESS, no manifest.

    written: dict[str, dict[str, bytes]] = {}

    class Observed(EmrRun):
        def statuses(self) -> list[TableStatus]:
            seen = super().statuses()
            on_poll(seen)
            return seen

    ended: list[list[str]] = []  # what watch hands on_done (a boost is put back there), poll by poll
    result = Observed(emr, ddb, store, cluster, settings)
    _outcomes, done, changed = watch(result, wait=True, timeout_s=60, poll_s=0, sleep=lambda _s: None,
                                     on_done=lambda outcomes: ended.append(sorted(o.name for o in outcomes)))
    assert result.created and done and changed
    assert polls[0][0] == "RUNNING" and set(polls[0][1:]) == {"PENDING"}
    # Each table is handed on once, at the poll that first sees it ended, not all at the cluster's end.
    assert sorted(n for names in ended for n in names) == sorted(names) and len(ended) > 1
    by_table = {t.table: t for t in result.tables}
    assert by_table[orders].status == "COMPLETED" and by_table[events].status == "COMPLETED"
    assert by_table[users].status == "FAILED" and by_table[users].reason == "simulated: step failed"
    assert by_table[late].status == "FAILED" and "_SUCCESS" in by_table[late].reason
    assert sorted(t.table for t in result.tables if t.status == "FAILED") == sorted([users, late])
    assert sorted(result.manifests_written) == sorted([by_table[orders].manifest, by_table[events].manifest])
    assert (by_table[orders].attempts, by_table[users].attempts, by_table[events].attempts) == (2, 3, 1)
    real_steps = emr.real.list_steps(ClusterId=result.cluster_id)["Steps"]
    assert [s["Config"]["Args"][1] for s in real_steps].count(users) == 3 and len(real_steps) == 7

    for table, key in ((orders, "orders"), (events, "events")):
        folder = by_table[table].folder
        doc = loads(store.read_bytes(f"{folder}/{MANIFEST_NAME}"), folder)  # what restore reads
        assert (doc["engine"], doc["data_format"], doc["consistency"]) == ("emr", "emr-connector", "fuzzy-scan")
        assert doc["table"] == table and doc["account"] == "111111111111" and doc["region"] == REGION
        assert doc["schema"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        files = {f["path"].rsplit("/", 1)[-1]: f for f in doc["files"]}
        assert set(files) == set(written[key]) and all(f["path"].startswith("data/") for f in doc["files"])
        for name, body in written[key].items():
            assert files[name]["bytes"] == len(body) and files[name]["sha256"] == hashlib.sha256(body).hexdigest()
        assert doc["item_count"] == 3
    for table in (users, late):
        assert not store.exists(f"{by_table[table].folder}/{MANIFEST_NAME}")

    # A second call finds the same cluster and rewrites nothing.
    again = EmrRun(emr, ddb, store, cluster, settings)
    watch(again, wait=False, timeout_s=0, poll_s=0)
    assert not again.created and again.cluster_id == result.cluster_id and again.manifests_written == []
    assert {t.table: t.status for t in again.tables}[orders] == "COMPLETED"
    # Once the cluster has ended, the run is reported, not started again, and gets no new steps.
    emr.real.terminate_job_flows(JobFlowIds=[result.cluster_id])
    over = EmrRun(emr, ddb, store, cluster, replace(settings, maximum_retries=5))
    _outcomes, done, _changed = watch(over, wait=False, timeout_s=0, poll_s=0)
    assert over.cluster_id == result.cluster_id and not over.created and done
    assert str(over.cluster_state).startswith("TERMINATED")
    assert {t.table: t.status for t in over.tables}[users] == "FAILED" and over.manifests_written == []
    assert len(emr.real.list_steps(ClusterId=result.cluster_id)["Steps"]) == 7


def test_manifest_edge_cases(moto_server: Any, unique_name: str) -> None:
    """Export output written by the test into moto S3: a last line without a newline still counts as an item;
    an export manifest naming a file that is not there, or output with no _SUCCESS, gets no manifest."""
    bucket(moto_server, unique_name)
    s3, ddb = client("s3", moto_server.url), client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=5)
    store = open_store(f"s3://{unique_name}/ddb", s3)
    taken = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    def status(folder: str) -> TableStatus:
        return TableStatus(unique_name, "COMPLETED", folder)

    ok = f"111111111111/{REGION}/{unique_name}/ok"
    s3.put_object(Bucket=unique_name, Key=f"ddb/{ok}/data/part-0", Body=b'{"pk":{"s":"a"}}\n{"pk":{"s":"b"}}')
    s3.put_object(Bucket=unique_name, Key=f"ddb/{ok}/data/_SUCCESS", Body=b"")
    key = record_finished(store, ddb, status(ok), "111111111111", REGION, taken)
    doc = loads(store.read_bytes(key), key)
    assert [(f["path"], f["items"]) for f in doc["files"]] == [("data/part-0", 2)] and doc["item_count"] == 2

    broken = f"111111111111/{REGION}/{unique_name}/broken"
    entries = {"name": "DynamoDB-export", "version": 3,
               "entries": [{"url": f"s3://{unique_name}/ddb/{broken}/data/gone", "mandatory": True}]}
    s3.put_object(Bucket=unique_name, Key=f"ddb/{broken}/data/manifest", Body=json.dumps(entries).encode())
    unfinished = f"111111111111/{REGION}/{unique_name}/unfinished"
    s3.put_object(Bucket=unique_name, Key=f"ddb/{unfinished}/data/part-0", Body=b'{"pk":{"s":"a"}}\n')
    for folder, words in ((broken, "not in"), (unfinished, "did not finish")):
        with pytest.raises(HippolyteError, match=words):
            record_finished(store, ddb, status(folder), "111111111111", REGION, taken)
        assert not store.exists(f"{folder}/{MANIFEST_NAME}")


def test_a_boost_goes_back_when_its_tables_step_ends(moto_server: Any, unique_name: str) -> None:
    """Per-step put back: the watch hands each ended table to put_back_many at the poll that sees it end, so
    the first table's boost is back while the second table's step still runs. Step states are rewritten
    (SimulatedSteps): moto's EMR never runs a step."""
    bucket(moto_server, unique_name)
    s3, ddb = client("s3", moto_server.url), client("dynamodb", moto_server.url)
    first, second = f"{unique_name}-first", f"{unique_name}-second"
    capacity = CapacitySettings(run_id=unique_name, poll_s=0.01)
    for name in (first, second):
        create_table(ddb, name, rcu=10)
        boost(ddb, None, name, Targets(read=40), capacity)
    settings = JobFlowSettings(run_id=unique_name, destination=f"s3://{unique_name}/ddb", account="111111111111",
                               region=REGION, subnet_id="subnet-0abc", maximum_retries=0,
                               taken_at=datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    emr = SimulatedSteps(client("emr", moto_server.url), {first: ["FAILED"]})
    seen: list[tuple[list[str], int, int]] = []

    def rcu(name: str) -> int:
        return int(ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"])

    def on_done(ended: list[Any]) -> None:
        done = put_back_many(ddb, None, [o.name for o in ended], capacity)
        assert done["notes"] == [] and sorted(done["put_back"]) == sorted(o.name for o in ended)
        seen.append((sorted(o.name for o in ended), rcu(first), rcu(second)))
        emr.outcomes[second] = ["FAILED"]  # the second step ends after the first

    run = EmrRun(emr, ddb, open_store(f"s3://{unique_name}/ddb", s3), planned("c09", first, second), settings)
    _outcomes, done, _changed = watch(run, wait=True, timeout_s=60, poll_s=0, sleep=lambda _s: None, on_done=on_done)
    assert done
    assert seen == [([first], 10, 40), ([second], 10, 10)]
