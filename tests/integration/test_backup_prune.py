"""backup_prune through Ansible on moto S3 and on file://, with backups made by the real local engine.

Table A has five backups, one a day from 5 to 1 days ago; table B one, 3 days ago. `keep_last: 2` is the
policy throughout: it gives the same answer whatever today's date (the module reads the real clock; the
policy's calendar rules are tested with a fixed `now` in test_backup_info.py and tests/unit/test_retention.py).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection, backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_states import (
    list_catalog,
    prune_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import BIN, ansible_env, run_module
from tests.support.s3_refusals import RefusingDeletes
from tests.support.tables import create_table, put_items, simple_items

ACCOUNT = "123456789012"  # moto's account, which the tables' ARNs name


@dataclass
class Fleet:
    store: BackupStore
    args: dict[str, Any]
    table_a: str
    table_b: str
    a_folders: list[str]  # oldest first
    b_folder: str

    def folders(self) -> set[str]:
        return {b["folder"] for b in list_catalog(self.store, Selection(), 4).backups}


@pytest.fixture(params=["s3", "file"])
def fleet(request: pytest.FixtureRequest, moto_server: Any, unique_name: str, tmp_path: Path) -> Fleet:
    ddb = client("dynamodb", moto_server.url)
    if request.param == "s3":
        client("s3", moto_server.url).create_bucket(Bucket=unique_name,
                                                    CreateBucketConfiguration={"LocationConstraint": REGION})
        url = f"s3://{unique_name}/dynamodb"
        store = open_store(url, client("s3", moto_server.url))
    else:
        url = f"file://{tmp_path}/backups"
        store = open_store(url)
    now = utc_now()
    folders: dict[str, list[str]] = {}
    for table, days_ago in ((f"{unique_name}-a", [5, 4, 3, 2, 1]), (f"{unique_name}-b", [3])):
        create_table(ddb, table, rcu=None)
        put_items(ddb, table, simple_items(4))
        for days in days_ago:
            backup_table(ddb, store, table, REGION, ScanSettings(read_units_per_second=0, workers=1),
                         now - timedelta(days=days))
        folders[table] = [backup_folder(ACCOUNT, REGION, table, now - timedelta(days=d)) for d in days_ago]
    a, b = list(folders)  # the two tables, in the order made
    return Fleet(store, {"destination": url, "region": REGION, "endpoint_url": moto_server.url}, a, b,
                 folders[a], folders[b][0])


def test_check_mode_deletes_nothing_and_reports_what_it_would(fleet: Fleet) -> None:
    before = fleet.folders()

    dry = run_module("backup_prune", {**fleet.args, "keep_last": 2}, check=True)

    assert not dry.failed, dry.output[-2000:]
    assert fleet.folders() == before
    assert dry.result["changed"] and dry.result["deleted"] == fleet.a_folders[:3]
    assert "would delete 3 of 6" in dry.result["msg"]
    actions = {b["folder"]: (b["action"], b["reasons"]) for b in dry.result["backups"]}
    assert [actions[f][0] for f in fleet.a_folders] == ["delete"] * 3 + ["keep"] * 2
    assert actions[fleet.a_folders[0]][1] == ["kept by no rule"]
    assert actions[fleet.b_folder][0] == "keep" and "newest intact" in actions[fleet.b_folder][1][0]
    assert "diff" not in dry.result  # asked for only with --diff


def test_prune_deletes_what_the_policy_drops_and_a_second_run_changes_nothing(fleet: Fleet) -> None:
    done = run_module("backup_prune", {**fleet.args, "keep_last": 2}, diff=True)

    assert not done.failed, done.output[-2000:]
    assert done.result["changed"] and done.result["deleted"] == fleet.a_folders[:3]
    assert fleet.folders() == {*fleet.a_folders[3:], fleet.b_folder}
    again = run_module("backup_prune", {**fleet.args, "keep_last": 2}, diff=True)
    assert not again.failed and not again.result["changed"], again.output[-2000:]
    assert again.result["deleted"] == [] and again.result["diff"] == []
    assert fleet.folders() == {*fleet.a_folders[3:], fleet.b_folder}


def test_diff_shows_each_table_that_loses_a_folder_before_and_after(fleet: Fleet) -> None:
    # The default (human) output of `ansible --check --diff`, as an operator reads it.
    cmd = [str(BIN / "ansible"), "localhost", "-c", "local", "-m", "hippolyte.dynamodb.backup_prune",
           "-a", json.dumps({**fleet.args, "keep_last": 2}), "--check", "--diff"]
    shown = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), timeout=600, check=False)

    assert shown.returncode == 0, shown.stdout[-2000:] + shown.stderr[-2000:]
    a_path = f"{ACCOUNT}/{REGION}/{fleet.table_a}"
    assert f"--- before: {a_path}" in shown.stdout and f"+++ after: {a_path}" in shown.stdout
    shown_diff, _result = shown.stdout.split("localhost | CHANGED", 1)
    assert fleet.table_b not in shown_diff  # no diff for a table that keeps everything
    lines = shown_diff.splitlines()
    removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
    assert removed == [f"-{folder.rsplit('/', 1)[-1]}  kept by no rule" for folder in fleet.a_folders[:3]]
    assert not any(line.startswith("+") and not line.startswith("+++") for line in lines)
    newest = fleet.a_folders[-1].rsplit("/", 1)[-1]
    assert f" {newest}  newest intact backup of its table: always kept; keep_last: one of the 2 newest" in lines


def test_bad_policy_fails_naming_the_field_and_deletes_nothing(fleet: Fleet) -> None:
    before = fleet.folders()

    bad = run_module("backup_prune", {**fleet.args, "keep_last": 0})
    negative = run_module("backup_prune", {**fleet.args, "keep_last": 2, "max_age_days": 0})

    assert bad.failed and bad.result["field"] == "keep_last", bad.output[-2000:]
    assert negative.failed and negative.result["field"] == "max_age_days"
    assert fleet.folders() == before


def test_backup_info_state_pruned_fails_naming_backup_prune_and_deletes_nothing(fleet: Fleet) -> None:
    before = fleet.folders()

    old = run_module("backup_info", {**fleet.args, "state": "pruned", "keep_last": 1})
    # Nowhere to read from: the same answer, so it came before any call.
    unreachable = run_module("backup_info", {"destination": "s3://no-such-bucket/x", "region": REGION,
                                             "endpoint_url": "http://127.0.0.1:9", "state": "pruned",
                                             "keep_last": 1})

    for run in (old, unreachable):
        assert run.failed and run.result["field"] == "state", run.output[-2000:]
        assert "moved to hippolyte.dynamodb.backup_prune" in run.result["msg"]
        assert "backup_info only reads" in run.result["msg"]
        assert "deleted" not in run.result
    assert fleet.folders() == before


def test_folders_the_store_refuses_to_delete_are_not_reported_deleted(moto_server: Any, unique_name: str) -> None:
    """A retention role without s3:DeleteObject: S3 answers DeleteObjects with 200 and each key in Errors (injected:
    moto server does not evaluate identity policies). Such a folder stays, is named, and is not counted deleted."""
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(3))
    writer = open_store(f"s3://{unique_name}/dynamodb", s3)
    now = utc_now()
    folders = [backup_folder(ACCOUNT, REGION, unique_name, now - timedelta(days=d)) for d in (3, 2, 1)]
    for days in (3, 2, 1):
        backup_table(ddb, writer, unique_name, REGION, ScanSettings(read_units_per_second=0, workers=1),
                     now - timedelta(days=days))
    refusing = open_store(f"s3://{unique_name}/dynamodb", RefusingDeletes(s3, folders[0]))

    outcome = prune_catalog(refusing, Selection(), Policy(keep_last=1), 2, check_mode=False, now=now)

    assert outcome.deleted == [folders[1]] and list(outcome.refused) == [folders[0]]
    assert outcome.refused[folders[0]] and "refused to delete" in outcome.msg and folders[0] in outcome.msg
    remaining = {b["folder"] for b in list_catalog(writer, Selection(), 2).backups}
    assert remaining == {folders[0], folders[2]}
