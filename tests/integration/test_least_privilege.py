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
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.iam_grants import BACKUP, FLOWS, RESTORE
from tests.conftest import client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.iam_evaluator import Request, allowing, decide
from tests.support.recording_proxy import Call, RecordingProxy
from tests.support.tables import create_table, put_items, simple_items

REGIONS = ("eu-west-1", "us-east-1")
CONTROLLER = "arn:aws:iam::{account}:role/hippolyte-controller"
# Flows whose module needs a planned cluster or a night's plan, not run here: their grants are checked by
# test_iam_grants (rendering) only. Kept short on purpose: each entry is a gap, not a design.
NOT_RUN = {"plan and boost", "backup export", "backup emr", "backup datapipeline", "backup kms", "restore kms"}


@pytest.fixture
def account(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto account, so the roles' fixed names meet no other test's."""
    account_id = f"{random.randrange(10**11, 10**12):012d}"
    creds = client("sts", moto_server.url).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/admin", RoleSessionName="setup")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    return account_id


def role_policies(iam: Any, role: str) -> list[dict[str, Any]]:
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names]


def run_flows(moto_url: str, account: str, bucket: str, region: str, table: str) -> dict[str, list[Call]]:
    """Each flow of one region through its own recording proxy; the calls each made."""
    destination = f"s3://{bucket}/dynamodb"
    recorded: dict[str, list[Call]] = {}

    def flow(name: str, module: str, args: dict[str, Any]) -> dict[str, Any]:
        with RecordingProxy(moto_url, account) as proxy:
            run = run_module(module, {"region": region, "endpoint_url": proxy.url, **args})
        assert not run.failed, f"{name} in {region}: {run.output[-3000:]}"
        recorded.setdefault(name, []).extend(proxy.calls)
        return run.result

    lease = flow("lease", "backup_lease", {"state": "held", "run_id": f"night-{region}", "holder": region,
                                           "destination": destination})
    flow("backup local", "dynamodb_scan_backup", {"table": table, "destination": destination})
    flow("backup local", "dynamodb_scan_backup", {"table": table, "destination": destination})  # a second backup
    flow("drill", "backup_drill", {"table": table, "destination": destination})
    flow("retention", "backup_info", {"state": "pruned", "destination": destination, "accounts": [account],
                                      "regions": [region], "tables": [table], "keep_last": 1})
    flow("restore load", "backup_restore", {"table": table, "destination": destination, "engine": "load",
                                            "target": f"{table}-restored-load", "verify": True})
    flow("restore compare", "backup_restore", {"table": table, "destination": destination, "engine": "load",
                                               "target": f"{table}-restored-cmp", "compare": True})
    flow("restore import", "backup_restore", {"table": table, "destination": destination, "engine": "import",
                                              "target": f"{table}-restored-imp"})
    flow("lease", "backup_lease", {"state": "released", "run_id": f"night-{region}", "destination": destination,
                                   "account_id": lease["account_id"], "nonce": lease["lease"]["nonce"]})
    # The run summary: what community.aws.sns sends for the backup role's notify task.
    with RecordingProxy(moto_url, account) as proxy:
        boto3.client("sns", region_name=region, endpoint_url=proxy.url).publish(
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
        "hippolyte_setup": {"controller_arn": CONTROLLER.format(account=account)}}, "hosts": hosts}}))
    # One host after the other, as two setups of one account would run: the second must keep the first's grants.
    for host in hosts:
        setup = run_playbook("playbooks/setup.yml", inventory, options=("--limit", host))
        assert setup.returncode == 0, setup.stdout[-4000:] + setup.stderr[-2000:]
    assert "WARNING: no hippolyte_setup.controller_arn" not in setup.stdout  # a controller is named

    iam = boto3.client("iam", region_name=REGIONS[0], endpoint_url=moto_server.url)
    policies = {BACKUP: role_policies(iam, "hippolyte-backup"), RESTORE: role_policies(iam, "hippolyte-restore")}
    trust = iam.get_role(RoleName="hippolyte-backup")["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"]["AWS"] for s in trust] in ([CONTROLLER.format(account=account)],
                                                      [[CONTROLLER.format(account=account)]])

    def prepare(region: str) -> str:
        table = f"{unique_name}-{region}"
        ddb = boto3.client("dynamodb", region_name=region, endpoint_url=moto_server.url)
        create_table(ddb, table, rcu=5)
        put_items(ddb, table, simple_items(20))
        return table

    with ThreadPoolExecutor(len(REGIONS)) as pool:
        tables = list(pool.map(prepare, REGIONS))
        runs = list(pool.map(lambda rt: run_flows(moto_server.url, account, unique_name, *rt),
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
                       if (flow.role, grant.sid, action.lower()) not in used})
    assert unneeded == [], "grants no recorded call needs and none declared implied:\n" + "\n".join(unneeded)
