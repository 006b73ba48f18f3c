"""The playbooks end to end, through ansible-playbook, against dynalite: back up, restore, compare."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REGION, client
from tests.support.ansible_run import run_playbook
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.inventory import inventory
from tests.support.items import big_item, every_type_item
from tests.support.scan_tables import INDEXED
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items, wait_active
from tests.support.windows import window_from_now


@pytest.fixture
def three_tables(dynalite_server: Any, unique_name: str) -> tuple[Any, list[str]]:
    """Every attribute type; keys with a GSI and an LSI; on demand. Plus one the include patterns leave out."""
    ddb = client("dynamodb", dynalite_server.url)
    names = [f"{unique_name}-types", f"{unique_name}-indexed", f"{unique_name}-ondemand"]
    create_table(ddb, names[0], rcu=200)
    put_items(ddb, names[0], [every_type_item(f"k{n}") for n in range(50)] + [big_item("big")])
    ddb.create_table(TableName=names[1], ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 50},
                     **INDEXED)
    wait_active(ddb, names[1])
    put_items(ddb, names[1], [{"pk": {"S": f"c{n % 30}"}, "sk": {"N": str(n)}, "city": {"S": f"city{n % 7}"},
                               "when": {"S": f"2026-11-{n % 28 + 1:02d}"}, "total": {"N": f"{n}.25"}}
                              for n in range(1500)])
    create_table(ddb, names[2], rcu=None)
    put_items(ddb, names[2], simple_items(2500))
    create_table(ddb, f"{unique_name}-types-archive", rcu=None)  # `-types` must not match it
    return ddb, names


def test_backup_then_restore_every_table(three_tables: tuple[Any, list[str]], dynalite_server: Any,
                                         unique_name: str, tmp_path: Path) -> None:
    ddb, names = three_tables
    backups = tmp_path / "backups"
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{backups}",
                    hippolyte_include=names)

    backup = run_playbook("playbooks/backup.yml", inv)
    assert backup.returncode == 0, backup.stdout[-3000:] + backup.stderr[-2000:]

    manifests = sorted(backups.rglob("hippolyte-manifest.json"))
    assert sorted(m.parent.parent.name for m in manifests) == sorted(names)  # not the -archive table
    (report,) = (tmp_path / "reports").glob("night-backup-*.md")
    assert all(f"| {n} |" in report.read_text() for n in names)
    (gantt,) = (tmp_path / "reports").glob("night-plan-*.svg")
    assert gantt.read_text().startswith("<svg") and all(n in gantt.read_text() for n in names)
    assert f"Plan: {gantt.with_suffix('.md')}" in report.read_text()
    # The summary printed at the end: the verdict, one line per table, the totals, where the reports are.
    assert f'"OK: night ({REGION}' in backup.stdout
    for name in names:
        assert re.search(rf'"{re.escape(name)} +local +[\d,]+ +[\d.]+ (B|KiB|MiB) +\d+(s|m\d\ds) +ok"', backup.stdout)
    assert '"Tables: 3 ok, 0 failed; items 4,051;' in backup.stdout
    (page,) = (tmp_path / "reports").glob("night-backup-*.html")
    html = page.read_text()
    assert f'"Report: {report}"' in backup.stdout
    assert f'"Report page (HTML, Gantt chart inline): {page}"' in backup.stdout
    assert page.stat().st_mode & 0o777 == 0o600
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", html) and "<link" not in html
    assert "<svg" in html and all(f"<td>{n}</td>" in html for n in names)

    for name in names:
        restore = run_playbook("hippolyte.dynamodb.restore", inv, {"table": name, "target": f"{name}-back"})
        assert restore.returncode == 0, restore.stdout[-3000:] + restore.stderr[-2000:]
        assert canonical(scan_all(ddb, f"{name}-back")) == canonical(scan_all(ddb, name)), name
    indexed = ddb.describe_table(TableName=f"{names[1]}-back")["Table"]
    assert [i["IndexName"] for i in indexed["GlobalSecondaryIndexes"]] == ["by-city"]
    assert [i["IndexName"] for i in indexed["LocalSecondaryIndexes"]] == ["by-when"]
    on_demand = ddb.describe_table(TableName=f"{names[2]}-back")["Table"]
    assert on_demand["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_run_outside_its_window_backs_up_now_and_says_so(dynalite_server: Any, unique_name: str,
                                                           tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=50)
    put_items(ddb, unique_name, simple_items(40))
    closed = window_from_now(3, 2)  # opens in three hours
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b",
                    hippolyte_include=[unique_name], hippolyte_window=closed)
    run = run_playbook("playbooks/backup.yml", inv)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert len(list((tmp_path / "b").rglob("hippolyte-manifest.json"))) == 1
    assert f"Started outside the window {closed['start']}-{closed['end']} UTC" in run.stdout
    (report,) = (tmp_path / "reports").glob("night-backup-*.md")
    assert "Outside the window:" in report.read_text()
    # Planned from the run's start for the window's two hours, not for the next night.
    (plan_file,) = (tmp_path / "reports").glob("night-plan-*.json")
    plan = json.loads(plan_file.read_text())
    deadline = datetime.fromisoformat(plan["deadline"])
    assert timedelta(hours=1, minutes=58) < deadline - datetime.now(UTC) <= timedelta(hours=2)

    refused = run_playbook("playbooks/backup.yml", inventory(
        tmp_path / "strict.json", dynalite_server.url, f"file://{tmp_path}/c", hippolyte_include=[unique_name],
        hippolyte_window=closed, hippolyte_outside_window="fail"))
    assert refused.returncode != 0 and "is closed now" in refused.stdout
    assert not (tmp_path / "c").exists()


def test_restore_at_a_time_and_default_target(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(100))
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b",
                    hippolyte_include=[unique_name])
    assert run_playbook("playbooks/backup.yml", inv).returncode == 0
    (first,) = (tmp_path / "b").rglob("hippolyte-manifest.json")
    put_items(ddb, unique_name, [{"pk": {"S": "added-later"}}])
    # Folder names have one-second resolution; rename the first so the second run cannot collide with it.
    older = first.parent.with_name("2026-01-01-00-00-00")
    first.parent.rename(older)
    assert run_playbook("playbooks/backup.yml", inv).returncode == 0

    restore = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "at": "2026-01-01"})

    assert restore.returncode == 0, restore.stdout[-3000:]
    restored = f"{unique_name}-restored-20260101-000000"
    assert len(scan_all(ddb, restored)) == 100  # the older backup, without the item added later
    assert f"table: {restored} (100 items counted) in " in restore.stdout


def test_a_failed_restore_prints_a_line_naming_the_table_and_the_failure(dynalite_server: Any, unique_name: str,
                                                                         tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b")
    (tmp_path / "b").mkdir()
    run = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-back"})
    assert run.returncode != 0
    (line,) = re.findall(r'"msg": "(FAILED: restore of [^"]*)"', run.stdout)
    assert line.startswith(f"FAILED: restore of {unique_name} into {unique_name}-back in {REGION}: "), line
    assert unique_name in line.split(": ", 1)[1], line  # the module's own reason, naming the table


def test_bad_inventory_fails_before_aws(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b",
                    hippolyte_read_percentage=0, hippolyte_window={"start": "02:00", "end": "02:00"})
    run = run_playbook("playbooks/backup.yml", inv)
    assert run.returncode != 0
    assert "Host night" in run.stdout and "hippolyte_read_percentage is 0.0" in run.stdout
    assert "hippolyte_window start and end are both 02:00" in run.stdout
    assert not (tmp_path / "b").exists()


def test_wrong_type_is_caught_by_the_argument_spec(dynalite_server: Any, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b",
                    hippolyte_engine="magic")
    run = run_playbook("playbooks/backup.yml", inv)
    assert run.returncode != 0 and "hippolyte_engine" in run.stdout and "magic" in run.stdout


def test_restore_needs_a_table_name(dynalite_server: Any, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", dynalite_server.url, f"file://{tmp_path}/b")
    run = run_playbook("playbooks/restore.yml", inv)
    assert run.returncode != 0 and "-e table=NAME" in run.stdout


def test_a_boosted_table_gets_its_capacity_back(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """A 1-minute window is too short for this table at 2 RCU: the plan boosts it, the role raises its read
    capacity for the backup, and puts it back (and removes the record) afterwards.

    dynalite reports every table's size as 0, so a proxy reports the real one, as AWS would."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=2, wcu=50)
    put_items(ddb, unique_name, simple_items(200, pad=950))
    # 800 KB: read at half its 2 RCU (8 KB a unit, eventually consistent), it needs twice the minute's 50 s.
    with DynamoDBProxy(dynalite_server.url, sizes={unique_name: (800 * 1000, 400)}) as proxy:
        inv = inventory(tmp_path / "inventory.json", proxy.url, f"file://{tmp_path}/b",
                        hippolyte_include=[unique_name], hippolyte_window={"start": "00:00", "end": "00:01"})
        run = run_playbook("playbooks/backup.yml", inv, timeout=120)

    assert run.returncode == 0, run.stdout[-4000:]
    report = next((tmp_path / "reports").glob("night-backup-*.md")).read_text()
    (row,) = [line for line in report.splitlines() if line.startswith(f"| {unique_name} |")]
    assert "(boosted)" in row, report
    assert f"- Capacity put back: {unique_name}\n" in report, report  # the local lane put its boost back
    table = ddb.describe_table(TableName=unique_name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
    assert not [t for t in tags if t["Key"].startswith("hippolyte:")]
    (manifest,) = (tmp_path / "b").rglob("hippolyte-manifest.json")
    doc = json.loads(manifest.read_text())
    assert doc["item_count"] == 200
    assert doc["schema"]["ProvisionedThroughputDuringBackup"]["ReadCapacityUnits"] > 2
    assert doc["schema"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 2  # the original, not the boost


def test_export_engine_backup_and_restore_on_moto(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    """The backup role on the native export engine (moto implements ExportTableToPointInTime and writes the
    data to its S3; it completes exports at once), then the restore role reading the native-export layout."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=20)
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    put_items(ddb, unique_name, [every_type_item(f"k{n}") for n in range(40)])
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_include=[unique_name], hippolyte_engine="export", hippolyte_autoscaling=True)

    backup = run_playbook("playbooks/backup.yml", inv)

    assert backup.returncode == 0, backup.stdout[-4000:]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    (manifest_key,) = [k for k in keys if k.endswith("hippolyte-manifest.json")]
    doc = json.loads(s3.get_object(Bucket=unique_name, Key=manifest_key)["Body"].read())
    assert doc["engine"] == "export" and doc["consistency"] == "point-in-time" and doc["item_count"] == 40
    report = next((tmp_path / "reports").glob("night-backup-*.md")).read_text()
    (row,) = [line for line in report.splitlines() if line.startswith(f"| {unique_name} | export |")]
    assert "| 40 |" in row and manifest_key.rsplit("/", 2)[0] in row, report

    restore = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": f"{unique_name}-back"})

    assert restore.returncode == 0, restore.stdout[-4000:]
    assert canonical(scan_all(ddb, f"{unique_name}-back")) == canonical(scan_all(ddb, unique_name))


def test_a_rerun_in_the_same_window_resumes_the_night(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Two runs inside one window are one night: the same run id (from the plan's `night`), so the second run
    finds the export the first started (its manifest already written) instead of exporting again, and every
    table keeps one backup. moto completes exports at once."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=20)
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    put_items(ddb, unique_name, simple_items(30))
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_include=[unique_name], hippolyte_engine="export", hippolyte_autoscaling=True,
                    hippolyte_window={"start": "00:00", "end": "23:59", "timezone": "UTC"})

    runs = [run_playbook("playbooks/backup.yml", inv), run_playbook("playbooks/backup.yml", inv)]

    for run in runs:
        assert run.returncode == 0, run.stdout[-4000:]
    plans = [json.loads(p.read_text()) for p in sorted((tmp_path / "reports").glob("night-plan-*.json"))]
    assert len(plans) == 2 and plans[0]["night"] == plans[1]["night"]
    assert plans[0]["night"]["at"] == plans[0]["window"]["opens_at"]
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    assert len(ddb.list_exports(TableArn=arn)["ExportSummaries"]) == 1  # the rerun started none
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    assert len([k for k in keys if k.endswith("hippolyte-manifest.json")]) == 1


def test_the_destination_group_gives_every_module_its_destination(dynalite_server: Any, unique_name: str,
                                                                  tmp_path: Path) -> None:
    """module_defaults group/hippolyte.dynamodb.destination, set once: no task names the destination."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(40))
    backups = tmp_path / "backups"
    playbook = tmp_path / "grouped.yml"
    playbook.write_text(json.dumps([{
        "name": "Back up and list, the destination given once", "hosts": "localhost", "gather_facts": False,
        "module_defaults": {
            "group/hippolyte.dynamodb.aws": {"region": REGION, "endpoint_url": dynalite_server.url},
            "group/hippolyte.dynamodb.destination": {"destination": f"file://{backups}"}},
        "tasks": [
            {"name": "Back up", "hippolyte.dynamodb.dynamodb_scan_backup": {"table": unique_name}, "register": "b"},
            {"name": "List", "hippolyte.dynamodb.backup_info": {"tables": [unique_name]}, "register": "info"},
            {"name": "The listing holds the backup", "ansible.builtin.assert": {"that": [
                "info.backups | length == 1", "info.backups[0].url == b.backup_url",
                "info.backups[0]['items'] == 40", "info.backups[0].intact"]}},
        ]}]))

    run = run_playbook(playbook, options=("-c", "local", "-i", "localhost,"))

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    (manifest,) = backups.rglob("hippolyte-manifest.json")
    assert json.loads(manifest.read_text())["item_count"] == 40


def test_the_data_pipeline_role_under_its_deprecated_name_is_passed_with_a_warning(
        moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    """hippolyte_datapipeline.role is read as service_role for one more release; job_flow_role by its own name."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=20)
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_include=[unique_name], hippolyte_engine="datapipeline",
                    hippolyte_datapipeline={"role": "OldNamePipelineRole", "job_flow_role": "NewNameEc2Role"})

    run = run_playbook("playbooks/backup.yml", inv, options=("--check", "-v"))  # the definition, nothing created

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert ('"DEPRECATED: Host night: hippolyte_datapipeline.role is deprecated: rename it service_role (the old name '
            'is read for one more release)"') in run.stdout
    assert "resource_role is deprecated" not in run.stdout
    started = "TASK [hippolyte.dynamodb.backup : Back up every local lane and cluster of the night"
    definition = run.stdout.split(started)[1].split("TASK [")[0]
    assert '"stringValue": "OldNamePipelineRole"' in definition and '"stringValue": "NewNameEc2Role"' in definition
