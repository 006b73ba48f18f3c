"""The roles setup creates are exactly enough: every documented flow runs against moto server through a
recording proxy, and each call it makes is judged against the policies setup created (read back with
iam:GetRolePolicy) by tests/support/iam_evaluator.py, for two regions of one account.

moto evaluates neither IAM resources nor conditions (it accepts every call), which is why the calls are
judged by the evaluator, with AWS's documented rules, rather than by moto's answers. A flow that needs a
call its role does not grant fails; so does a grant of an exercised flow that no recorded call needs and
that iam_grants.py does not declare implied (a call AWS makes on the caller's behalf, no proxy sees).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import S3Store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.iam_grants import BACKUP, FLOWS, RESTORE
from tests.support.ansible_run import COLLECTIONS, run_playbook
from tests.support.iam_evaluator import Request, allowing, decide
from tests.support.iam_readback import attached_policies
from tests.support.recording_proxy import Call, RecordingProxy
from tests.support.setup_accounts import fresh_account
from tests.support.tables import create_table, put_items, simple_items

REGIONS = ("eu-west-1", "us-east-1")
CONTROLLER = "arn:aws:iam::{account}:role/hippolyte-controller"
# Flows not run here: S3 calls KMS on the caller's behalf, so no proxy sees a call (every grant of theirs is
# declared implied in iam_grants.py; moto's S3 does not call KMS either).
# The object lock flow runs in test_object_lock (moto server does not evaluate IAM there; its grants are S3's
# documented permissions for the lock headers and HeadObject's lock fields).
NOT_RUN = {"backup kms", "restore kms", "object lock"}
# Calls of a run flow that moto cannot play, each with why; the grant stays, named here.
UNPLAYABLE = {
    ("FindImports", "dynamodb:ListImports"): "moto server answers ListImports with a 500; the rerun after a crash "
    "before the restored-from marker calls it (import_restore.find_import)",
    ("OwnPipelinesOnly", "datapipeline:QueryObjects"): "moto server answers QueryObjects on an active pipeline with "
    "a 500; watching a pipeline's runs calls it (pipeline_runner._instances)",
    ("OwnPipelinesOnly", "datapipeline:DescribeObjects"): "called with what QueryObjects found (see QueryObjects)",
    ("ReadTableDefinitions", "dynamodb:DescribeContributorInsights"): "moto server answers it with a 500 (not "
    "implemented); the capture records contributor insights as not captured (table_settings.capture_settings)",
    ("ReadTableDefinitions", "dynamodb:DescribeKinesisStreamingDestination"): "moto server answers it with a 500 (not "
    "implemented); the capture records the destinations as not captured",
    # Not moto: no flow here makes these calls since deletion protection comes last and drills skip settings.
    ("DrillScratch", "dynamodb:UpdateTable"): "the drill turns deletion protection off before deleting a scratch "
    "table; its restore no longer turns it on, but a scratch table left by an older version may have it",
    ("BoostAndPutBack", "dynamodb:UpdateTable"): "this test's tables are autoscaled, so a boost moves the scalable "
    "target; UpdateTable boosts are proven by test_throughput_module (recorded here only through the drill before)",
    ("RestoreTableSettings", "dynamodb:UpdateContributorInsights"): "moto has no contributor insights, so no backup "
    "captures them enabled (table_settings.apply_table_settings; tests/integration/test_restore_settings.py stubs it)",
    ("RestoreTableSettings", "dynamodb:EnableKinesisStreamingDestination"): "moto has no Kinesis streaming "
    "destinations to capture; re-attached only with restore_streaming (stubbed in test_restore_settings.py)",
}


@pytest.fixture
def account(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto account, so the roles' fixed names meet no other test's."""
    fresh = fresh_account(moto_server.url)
    for name, value in fresh.env.items():
        monkeypatch.setenv(name, value)
    return fresh.id


def aws(service: str, region: str, url: str) -> Any:
    """A client with the fresh account's credentials (the environment the fixture set, read now)."""
    return boto3.Session(region_name=region).client(service, endpoint_url=url)


def run_module(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """The module's own code with its arguments, without Ansible's controller around it (its AWS calls are the
    same; starting ansible for each of about twenty runs would take most of the test's time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, file)
        file.flush()
        proc = subprocess.run([sys.executable, "-m", f"ansible_collections.hippolyte.dynamodb.plugins.modules.{name}",
                               file.name], capture_output=True, text=True, timeout=300, check=False,
                              env={**os.environ, "PYTHONPATH": str(COLLECTIONS)})
    try:
        result: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        result = {"failed": True, "msg": proc.stdout[-2000:] + proc.stderr[-2000:]}
    return result


def run_flows(moto_url: str, account: str, bucket: str, region: str, table: str,
              export_time: str) -> dict[str, list[Call]]:
    """Each flow of one region through its own recording proxy; the calls each made."""
    destination = f"s3://{bucket}/dynamodb"
    recorded: dict[str, list[Call]] = {}
    created: dict[str, dict[str, str]] = {}  # the tags of the clusters and pipelines the flows created

    def flow(name: str, module: str, args: dict[str, Any]) -> dict[str, Any]:
        with RecordingProxy(moto_url, account, created) as proxy:
            result = run_module(module, {"region": region, "endpoint_url": proxy.url, **args})
        assert not result.get("failed"), f"{name} in {region}: {result.get('msg')}"
        recorded.setdefault(name, []).extend(proxy.calls)
        return result

    night = f"night-{region}"
    lease = flow("lease", "backup_lease", {"state": "held", "run_id": night, "holder": region, "hold_s": 3600,
                                           "destination": destination})
    flow("plan and boost", "dynamodb_backup_plan", {"include": [table], "outside_window": "now", "engine": "local",
                                                    "window": {"start": "00:00", "end": "00:01"}})
    boost = {"table": table, "read_capacity": 50, "run_id": night, "autoscaling": True}
    flow("plan and boost", "dynamodb_throughput", {**boost, "state": "boosted", "hold_s": 3600})
    flow("plan and boost", "dynamodb_throughput", {**boost, "state": "restored"})
    flow("backup export", "dynamodb_export", {"tables": [table], "destination": destination, "run_id": night,
                                              "export_time": export_time, "poll_interval": 1, "wait_timeout": 30})
    cluster = {"id": "c01", "start_offset_s": 0, "end_offset_s": 3600,
               "tables": [{"name": table, "read_percentage": 0.5, "size_bytes": 1000, "rcu": 5,
                           "start_offset_s": 600, "duration_s": 60}]}
    emr = {"cluster": {**cluster, "engine": "emr"}, "run_id": night, "destination": destination,
           "subnet_id": "subnet-0abc", "log_uri": f"s3://{bucket}/emr-logs/", "wait": False}
    flow("backup emr", "emr_backup", emr)
    flow("backup emr", "emr_backup", {**emr, "state": "absent"})
    pipeline = {"cluster": {**cluster, "engine": "datapipeline"}, "run_id": night, "destination": destination,
                "subnet_id": "subnet-0abc", "sse": "AES256"}  # sse: the bucket's default encryption is checked
    flow("backup datapipeline", "datapipeline_backup", {**pipeline, "state": "present"})
    flow("backup datapipeline", "datapipeline_backup", {**pipeline, "state": "present"})  # found, its definition read
    flow("backup datapipeline", "datapipeline_backup", {**pipeline, "state": "active", "wait": False})
    flow("backup datapipeline", "datapipeline_backup", {**pipeline, "state": "absent"})
    flow("backup local", "dynamodb_scan_backup", {"table": table, "destination": destination})
    flow("backup local", "dynamodb_scan_backup", {"table": table, "destination": destination})  # a second backup
    # A data file above a part goes as a multipart upload; the tables here stay far below S3_PART_BYTES (8 MiB)
    # to keep this test short, so the store's writer itself sends one file of 5 MiB + 1 in 5 MiB parts.
    with RecordingProxy(moto_url, account, created) as proxy:
        store = S3Store(aws("s3", region, proxy.url), bucket, "dynamodb", destination, part_bytes=5 * 1024**2,
                        expected_owner=account)
        writer = store.open_writer(f"multipart-{region}/data/part-00000.json")
        writer.write(b"x" * (store.part_bytes + 1))
        writer.close()
    recorded["backup local"].extend(proxy.calls)
    flow("drill", "backup_drill", {"table": table, "destination": destination})
    flow("retention", "backup_prune", {"destination": destination, "accounts": [account],
                                       "regions": [region], "tables": [table], "keep_last": 1})
    load = {"table": table, "destination": destination, "engine": "load", "target": f"{table}-restored-load",
            "verify": True, "write_capacity": 200}
    flow("restore load", "backup_restore", load)
    flow("restore load", "backup_restore", load)  # a rerun finds the restore done by its marker
    # The restore role's last task: the new table's write capacity back, its record removed.
    flow("restore load", "dynamodb_throughput", {"state": "restored", "table": load["target"], "autoscaling": False})
    flow("restore compare", "backup_restore", {"table": table, "destination": destination, "engine": "load",
                                               "target": f"{table}-restored-cmp", "compare": True})
    # An item deleted by mistake from the live table, put back by backup_undelete (hippolyte_setup.undelete_tables).
    aws("dynamodb", region, moto_url).delete_item(TableName=table, Key={"pk": {"S": "item-00000003"}})
    undone = flow("restore undelete", "backup_undelete", {"table": table, "destination": destination})
    assert undone["written"] == 1, undone
    imported = {"table": table, "destination": destination, "engine": "import", "target": f"{table}-restored-imp"}
    flow("restore import", "backup_restore", imported)
    # A backup ImportTable cannot read as stored (a file:// one) is staged to hippolyte_setup.stage_to first.
    with tempfile.TemporaryDirectory() as local:
        flow("backup local", "dynamodb_scan_backup", {"table": table, "destination": f"file://{local}"})
        flow("restore import staged", "backup_restore", {**imported, "destination": f"file://{local}",
                                                         "target": f"{table}-restored-stg",
                                                         "stage_to": f"s3://{bucket}-stage/imports"})
    flow("lease", "backup_lease", {"state": "released", "run_id": f"night-{region}", "destination": destination,
                                   "account_id": lease["account_id"], "nonce": lease["lease"]["nonce"]})
    # The run summary: what community.aws.sns sends for the backup role's notify task.
    with RecordingProxy(moto_url, account) as proxy:
        aws("sns", region, proxy.url).publish(
            TopicArn=f"arn:aws:sns:{region}:{account}:hippolyte-backup-runs", Message="night ok")
    recorded["notification"] = proxy.calls
    return recorded


def flow_role(name: str) -> str:
    return next(f.role for f in FLOWS if f.name == name)


def test_every_flow_is_granted_exactly_what_it_calls(moto_server: Any, account: str, unique_name: str,
                                                     tmp_path: Path) -> None:
    hosts = {f"acct-{region}": {"ansible_connection": "local", "hippolyte_region": region,
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                                "hippolyte_endpoint_url": moto_server.url} for region in REGIONS}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"vars": {
        "hippolyte_destination": f"s3://{unique_name}/dynamodb", "hippolyte_engine": "auto",
        "hippolyte_retention": {"keep_last": 1}, "hippolyte_drill": True,
        "hippolyte_setup": {"controller_arn": CONTROLLER.format(account=account),
                            "stage_to": f"s3://{unique_name}-stage/imports",
                            "undelete_tables": [f"{unique_name}-eu-*", f"{unique_name}-us-*"]}}, "hosts": hosts}}))
    # Both regions of the account in one run: with names shared by the regions, one region's policies would
    # replace the other's.
    setup = run_playbook("playbooks/setup.yml", inventory)
    assert setup.returncode == 0, setup.stdout[-4000:] + setup.stderr[-2000:]
    assert "WARNING: no hippolyte_setup.controller_arn" not in setup.stdout  # a controller is named

    # moto enforces the bucket's TLS-only policy and its stand-in speaks plain HTTP: the rule is checked by
    # test_setup_playbook, and taken away here so the flows can reach the bucket.
    aws("s3", REGIONS[0], moto_server.url).delete_bucket_policy(Bucket=unique_name)
    aws("s3", REGIONS[0], moto_server.url).create_bucket(  # the staging bucket, which setup does not create
        Bucket=f"{unique_name}-stage", CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
    iam = aws("iam", REGIONS[0], moto_server.url)
    policies = {role: list(attached_policies(iam, f"hippolyte-{role}").values()) for role in (BACKUP, RESTORE)}
    assert [iam.list_role_policies(RoleName=f"hippolyte-{role}")["PolicyNames"] for role in (BACKUP, RESTORE)] \
        == [[], []]  # every grant is in the managed policies read back
    trust = iam.get_role(RoleName="hippolyte-backup")["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"]["AWS"] for s in trust] in ([CONTROLLER.format(account=account)],
                                                      [[CONTROLLER.format(account=account)]])

    def prepare(region: str) -> str:
        table = f"{unique_name}-{region}"
        ddb = aws("dynamodb", region, moto_server.url)
        create_table(ddb, table, rcu=5)
        put_items(ddb, table, simple_items(20))
        # What makes a restore call everything it may: TTL, a tag, PITR, a resource policy and deletion protection.
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}])
        ddb.update_continuous_backups(TableName=table,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        ddb.update_table(TableName=table, DeletionProtectionEnabled=True)
        ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": arn}]}))
        aws("application-autoscaling", region, moto_server.url).register_scalable_target(
            ServiceNamespace="dynamodb", ResourceId=f"table/{table}",
            ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=5, MaxCapacity=100)
        return table

    with ThreadPoolExecutor(len(REGIONS)) as pool:
        tables = list(pool.map(prepare, REGIONS))
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # inside the PITR window of the tables just made
        runs = list(pool.map(lambda rt: run_flows(moto_server.url, account, unique_name, *rt, at),
                             zip(REGIONS, tables, strict=True)))

    denied, used = [], set()
    for calls_by_flow in runs:
        for flow, calls in calls_by_flow.items():
            assert calls, f"{flow} recorded no call"
            docs = policies[flow_role(flow)]
            for call in calls:
                request = Request(call.action, call.resource, call.context)
                if decide(docs, request) != "Allow":
                    denied.append(f"{flow}: {call.operation} = {call.action} on {call.resource} {call.context}")
                used |= {(flow_role(flow), s.get("Sid"), call.action.lower()) for s in allowing(docs, request)}
    assert denied == [], "calls the roles do not grant:\n" + "\n".join(sorted(set(denied)))

    unneeded = sorted({f"{flow.role} {grant.sid}: {action}" for flow in FLOWS if flow.name not in NOT_RUN
                       for grant in flow.grants if not grant.implied for action in grant.actions
                       if action not in grant.on_failure and (grant.sid, action) not in UNPLAYABLE
                       and (flow.role, grant.sid, action.lower()) not in used})
    assert unneeded == [], "grants no recorded call needs and none declared implied:\n" + "\n".join(unneeded)
