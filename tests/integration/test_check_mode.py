"""`ansible-playbook --check` of the backup and restore playbooks against the stand-ins: a dry run of every
engine goes through the whole role, says what it would do, and changes nothing in AWS or on disk; and `--check` of
the local lanes on a rerun of a finished night, which would keep what the night already backed up."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items, table_names


def test_backup_check_mode_on_the_local_engine(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=20)
    put_items(ddb, unique_name, simple_items(30))
    backups, reports = tmp_path / "backups", tmp_path / "reports"
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{backups}",
                    hippolyte_include=[unique_name])

    run = run_playbook("playbooks/backup.yml", inv, options=("--check",))

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # the report is shown, from the dry run
    assert "would back up 1 of 1 table(s) (0 kept from earlier tonight)" in run.stdout
    assert not backups.exists() and not reports.exists()


def test_backup_check_diff_shows_the_boost_and_the_backup_and_changes_nothing(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """`--check --diff` of the night: the boost the plan gives a table too slow for the window (its read
    capacity before and after) and the backup folder it would write, and not a capacity, tag or file changed.

    dynalite reports every table's size as 0, so a proxy reports the real one, as AWS would."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=2, wcu=50)
    put_items(ddb, unique_name, simple_items(200, pad=950))
    backups = tmp_path / "backups"
    before = ddb.describe_table(TableName=unique_name)["Table"]
    # 800 KB: read at half its 2 RCU (8 KB a unit, eventually consistent), it needs twice the minute's 50 s.
    with DynamoDBProxy(dynalite_server.url, sizes={unique_name: (800 * 1000, 400)}) as proxy:
        inv = inventory(tmp_path / "inventory.json", proxy.url, f"file://{backups}",
                        hippolyte_include=[unique_name], hippolyte_window={"start": "00:00", "end": "00:01"})
        run = run_playbook("playbooks/backup.yml", inv, options=("--check", "--diff"), timeout=300)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    task = run.stdout.split("TASK [hippolyte.dynamodb.backup : Back up every local lane")[1].split("TASK [")[0]
    added = [line for line in task.splitlines() if line.startswith("+")]
    removed = [line for line in task.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert any(f'"{unique_name}": "file://{backups}/' in line and f"/{unique_name}/" in line for line in added), task
    raised = [line for line in added if '"units":' in line]
    assert raised and all(int(line.split(":")[1].strip(" ,")) > 2 for line in raised), task
    assert any('"units": 2' in line for line in removed), task
    after = ddb.describe_table(TableName=unique_name)["Table"]
    assert after["ProvisionedThroughput"] == before["ProvisionedThroughput"]
    assert ddb.list_tags_of_resource(ResourceArn=after["TableArn"]).get("Tags", []) == []
    assert not backups.exists() and not (tmp_path / "reports").exists()


def test_check_mode_on_a_rerun_of_a_finished_night_keeps_what_the_night_backed_up(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """A night run for real, then the same night in check mode with `resume`: every table would be kept, so
    nothing would change and nothing is written; once one table's backup is gone, only that one would be."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-{n}" for n in range(3)]
    for name in names:
        create_table(ddb, name, rcu=100, wcu=50)
        put_items(ddb, name, simple_items(20))
    opens = datetime.now(UTC).isoformat()
    lane = [{"name": name, "size_bytes": 10_000, "rcu": 100, "boost_rcu": 100, "boosted": False,
             "read_percentage": 0.5, "read_units_per_second": None, "start_offset_s": n, "duration_s": 2}
            for n, name in enumerate(names)]
    plan = {"window_s": 3600, "window": {"starts_at": opens}, "night": {"id": "finished-night", "at": opens},
            "clusters": [{"id": "c01", "engine": "local", "tables": lane}]}
    dest = tmp_path / "dest"
    args = {"plan": plan, "destination": f"file://{dest}", "region": REGION, "endpoint_url": dynalite_server.url,
            "autoscaling": False, "resume": True}
    night = run_module("dynamodb_scan_backup", args)
    assert not night.failed and night.result["changed"], night.output
    files = sorted(dest.rglob("*"))

    rerun = run_module("dynamodb_scan_backup", args, check=True, diff=True)

    assert not rerun.failed, rerun.output
    assert rerun.result["changed"] is False
    assert sorted(rerun.result["resumed"]) == sorted(names)
    assert rerun.result["msg"] == "would back up 0 of 3 table(s) (3 kept from earlier tonight)"
    assert rerun.result["diff"]["after"]["backups"] == {}
    assert sorted(dest.rglob("*")) == files

    gone = next(m for m in dest.rglob("hippolyte-manifest.json") if f"/{names[1]}/" in str(m)).parent
    shutil.rmtree(gone)
    files = sorted(dest.rglob("*"))

    partial = run_module("dynamodb_scan_backup", args, check=True, diff=True)

    assert not partial.failed, partial.output
    assert partial.result["changed"] is True
    assert sorted(partial.result["resumed"]) == sorted([names[0], names[2]])
    assert partial.result["msg"] == "would back up 1 of 3 table(s) (2 kept from earlier tonight)"
    assert list(partial.result["diff"]["after"]["backups"]) == [names[1]]
    assert sorted(dest.rglob("*")) == files


@pytest.mark.parametrize("engine", ["export", "emr", "datapipeline"])
def test_backup_check_mode_on_the_cluster_engines(engine: str, moto_server: Any, unique_name: str,
                                                  tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    emr, dp = client("emr", moto_server.url), client("datapipeline", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=20)
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    put_items(ddb, unique_name, simple_items(30))
    clusters_before = {c["Id"] for c in emr.list_clusters()["Clusters"]}
    pipelines_before = {p["id"] for p in dp.list_pipelines()["pipelineIdList"]}
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_include=[unique_name], hippolyte_engine=engine,
                    hippolyte_emr={"subnet_id": "subnet-0abc"})

    run = run_playbook("playbooks/backup.yml", inv, options=("--check",))

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "hippolyte.dynamodb.backup : Show the report" in run.stdout
    assert "Contents" not in s3.list_objects_v2(Bucket=unique_name)
    assert ddb.list_exports(TableArn=ddb.describe_table(TableName=unique_name)["Table"]["TableArn"])[
        "ExportSummaries"] == []
    assert {c["Id"] for c in emr.list_clusters()["Clusters"]} == clusters_before
    assert {p["id"] for p in dp.list_pipelines()["pipelineIdList"]} == pipelines_before
    assert not (tmp_path / "reports").exists()


def test_restore_check_mode_creates_no_table(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(40))
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b",
                    hippolyte_include=[unique_name])
    assert run_playbook("playbooks/backup.yml", inv).returncode == 0

    run = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-back",
                                                      "write_capacity": 100},
                       options=("--check",))

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"table: {unique_name}-back (items not counted) in " in run.stdout  # a dry run counts nothing
    assert f"{unique_name}-back" not in table_names(ddb)
