"""The increments playbook as cron runs it (docs/cron.md): the schedule is the inventory's hippolyte_increments.

moto runs the night's full native export for real; it does not run incremental exports, so these runs stay where
no window is due yet (tests/integration/test_incremental_exports.py plays DynamoDB's side for the windows).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import REGION, client
from tests.support.ansible_run import run_playbook
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, simple_items


def test_the_inventory_s_schedule_starts_from_the_night_s_full_export(moto_server: Any, unique_name: str,
                                                                      tmp_path: Path) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name, rcu=20)
    ddb.update_continuous_backups(TableName=unique_name,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    put_items(ddb, unique_name, simple_items(10))
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_include=[unique_name], hippolyte_engine="export",
                    hippolyte_increments={"tables": [unique_name], "every": "1h"})
    night = run_playbook("playbooks/backup.yml", inv)
    assert night.returncode == 0, night.stdout[-4000:]

    run = run_playbook("hippolyte.dynamodb.increments", inv)

    assert run.returncode == 0, run.stdout[-4000:]
    # The full export just taken is the table's newest point; its first hour is not over, so nothing is asked.
    shown = run.stdout.split("Show each table's newest recovery point")[1]
    assert f'"table": "{unique_name}"' in shown and '"skipped": null' in shown, shown
    (full,) = re.findall(r'"full_backup_time": "([^"]+)"', shown)
    assert re.search(f'"newest_point": "{re.escape(full)}"', shown), shown
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    assert not [k for k in keys if "/increments/" in k]


def test_a_schedule_outside_dynamodb_s_window_fails_naming_the_variable(moto_server: Any, unique_name: str,
                                                                        tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly",
                    hippolyte_increments={"tables": ["orders"], "every": "5m"})

    run = run_playbook("hippolyte.dynamodb.increments", inv)

    assert run.returncode != 0
    assert ("hippolyte_increments.every '5m' is outside DynamoDB's incremental export window; give 15m to 24h"
            in run.stdout)
    assert "Take the increments due" not in run.stdout.split("Check every hippolyte_* variable")[1]


def test_a_host_without_a_schedule_is_left_alone(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    inv = inventory(tmp_path / "inventory.json", moto_server.url, f"s3://{unique_name}/nightly")

    run = run_playbook("hippolyte.dynamodb.increments", inv)

    assert run.returncode == 0, run.stdout[-3000:]
    # Every task of the block skipped: nothing asked of AWS, nothing shown.
    assert "skipping: [night]" in run.stdout
    assert "ok: [night]" not in run.stdout and "changed: [night]" not in run.stdout
