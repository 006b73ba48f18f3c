"""The example AWX project (examples/awx-project) as AWX would use it, on moto server: its collection requirements
install offline from the tarball `ansible-galaxy collection build` makes, and its job templates run through
ansible-runner with a private data directory (the project, its own inventory, the extra vars), only pointed at
the stand-in (endpoint, destination and table patterns given as extra variables, which AWX would not need). The
inventory's placeholder role ARNs are assumed as they are: moto's STS accepts any role, and each host's calls
land in its role's account."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.sts import RoleToAssume, assumed_role_session
from tests.support.ansible_run import BIN, REPO, ansible_env
from tests.support.collection_artifact import build_collection, install_offline
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items
from tests.support.windows import open_window

PROJECT = REPO / "examples" / "awx-project"
INVENTORY = PROJECT / "inventory" / "hosts.yml"


def inventory_hosts() -> dict[str, dict[str, Any]]:
    """Each host of the example inventory with its variables, as ansible-inventory resolves them."""
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(INVENTORY), "--list"], capture_output=True,
                            text=True, env=ansible_env(), timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    return dict(json.loads(listed.stdout)["_meta"]["hostvars"])


def account_dynamodb(moto_url: str, role_arn: str, region: str) -> Any:
    """A DynamoDB client of the role's account and region, to set up and check what the job saw."""
    session = assumed_role_session(RoleToAssume(role_arn, None, "test-setup"), boto3.session.Session(), region,
                                   moto_url)
    return session.client("dynamodb", region_name=region, endpoint_url=moto_url)


def restore_survey() -> dict[str, Any]:
    """The restore survey spec as docs/awx.md gives it."""
    text = (REPO / "docs" / "awx.md").read_text()
    (block,) = [b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"spec"' in b]
    return dict(json.loads(block))


@dataclass
class Job:
    """A finished job: its output and its artifact folder (where ansible-runner keeps what the job leaves)."""

    returncode: int
    stdout: str
    stderr: str
    artifacts: Path


def run_job(playbook: str, collections: Path, extra_vars: dict[str, Any], private: Path,
            limit: str | None = None) -> Job:
    """The job template through ansible-runner, as AWX runs it: a private data directory holding the project,
    the inventory and the template's extra vars (a survey's answers among them), only the installed collections
    on the path."""
    shutil.copytree(PROJECT, private / "project")
    (private / "inventory").mkdir()
    shutil.copy(INVENTORY, private / "inventory" / "hosts.yml")
    (private / "env").mkdir()
    (private / "env" / "extravars").write_text(json.dumps(extra_vars))
    cmd = [str(BIN / "ansible-runner"), "run", str(private), "-p", playbook, "--ident", "job",
           *(("--limit", limit) if limit else ())]
    env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(collections), "PATH": f"{BIN}:{os.environ['PATH']}"})
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    return Job(done.returncode, done.stdout, done.stderr, private / "artifacts" / "job")


@pytest.fixture(scope="module")
def installed_collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's collections/requirements.yml, installed offline into a fresh collections path."""
    root = tmp_path_factory.mktemp("awx-project")
    collections = root / "collections"
    install_offline(build_collection(root / "dist"), collections)
    again = install_offline(PROJECT / "collections" / "requirements.yml", collections, cwd=PROJECT)
    assert "Nothing to do" in again  # both requirements are met by the tarball and the ansible package
    assert (collections / "ansible_collections" / "hippolyte" / "dynamodb" / "MANIFEST.json").is_file()
    return collections


def test_backup_job_backs_up_every_account_and_region(installed_collections: Path, moto_server: Any,
                                                      unique_name: str, tmp_path: Path) -> None:
    hosts = inventory_hosts()
    accounts = {v["hippolyte_role_arn"].split(":")[4] for v in hosts.values()}
    assert len(hosts) == 3 and len(accounts) == 2
    tables = {}
    for n, (host, hostvars) in enumerate(sorted(hosts.items())):
        ddb = account_dynamodb(moto_server.url, hostvars["hippolyte_role_arn"], hostvars["hippolyte_region"])
        tables[host] = f"{unique_name}-{n}"
        create_table(ddb, tables[host], rcu=20)
        put_items(ddb, tables[host], simple_items(20 + n))
    backups = tmp_path / "backups"
    stand_in = {"hippolyte_endpoint_url": moto_server.url, "hippolyte_destination": f"file://{backups}",
                "hippolyte_include": [f"{unique_name}-*"], "hippolyte_window": open_window()}

    backup = run_job("backup.yml", installed_collections, stand_in, tmp_path / "backup-job")

    assert backup.returncode == 0, backup.stdout[-4000:] + backup.stderr[-2000:]
    # The reports land in the job's artifact folder (AWX_ISOLATED_DATA_DIR, set by ansible-runner), one per host.
    reports = sorted((backup.artifacts / "hippolyte-reports").glob("*-backup-*.md"))
    assert sorted(r.name.split("-backup-")[0] for r in reports) == sorted(hosts), backup.stdout[-3000:]
    assert str(backup.artifacts / "hippolyte-reports") in backup.stdout  # and the summary says where
    for n, (host, hostvars) in enumerate(sorted(hosts.items())):
        account = hostvars["hippolyte_role_arn"].split(":")[4]
        (manifest,) = (backups / account / hostvars["hippolyte_region"] / tables[host]).glob(
            "*/hippolyte-manifest.json")
        assert json.loads(manifest.read_text())["item_count"] == 20 + n, host

    # The restore template, answered as its survey asks (docs/awx.md), limited to one account and region.
    host = "payments-eu-west-1"
    answers = {q["variable"]: q["default"] for q in restore_survey()["spec"]}
    assert set(answers) == {"table", "at", "point_in_time", "target"}
    answers |= {"table": tables[host], "target": f"{tables[host]}-back"}  # `at`, `point_in_time` empty: the newest
    restore = run_job("restore.yml", installed_collections, stand_in | answers, tmp_path / "restore-job", host)

    assert restore.returncode == 0, restore.stdout[-4000:] + restore.stderr[-2000:]
    ddb = account_dynamodb(moto_server.url, hosts[host]["hippolyte_role_arn"], hosts[host]["hippolyte_region"])
    assert canonical(scan_all(ddb, f"{tables[host]}-back")) == canonical(scan_all(ddb, tables[host]))


def test_plan_job_changes_nothing(installed_collections: Path, moto_server: Any, unique_name: str,
                                  tmp_path: Path) -> None:
    host = "analytics-eu-west-1"
    hostvars = inventory_hosts()[host]
    ddb = account_dynamodb(moto_server.url, hostvars["hippolyte_role_arn"], hostvars["hippolyte_region"])
    create_table(ddb, unique_name, rcu=20)
    put_items(ddb, unique_name, simple_items(10))
    backups = tmp_path / "backups"

    plan = run_job("plan.yml", installed_collections,
                   {"hippolyte_endpoint_url": moto_server.url, "hippolyte_destination": f"file://{backups}",
                    "hippolyte_include": [unique_name], "hippolyte_window": open_window()},
                   tmp_path / "plan-job", host)

    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-2000:]
    assert "would back up 1 of 1 table(s)" in plan.stdout
    assert not backups.exists()
