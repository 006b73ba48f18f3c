"""The modules through Ansible itself: bad input fails with a message naming the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REGION, client
from tests.support.ansible_run import REPO, run_module
from tests.support.tables import create_table, put_items, scan_all, simple_items, table_names


def aws(server: Any) -> dict[str, str]:
    return {"region": REGION, "endpoint_url": server.url}


def test_missing_bucket(moto_server: Any, unique_name: str) -> None:
    create_table(client("dynamodb", moto_server.url), unique_name, rcu=5)
    run = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"s3://{unique_name}-gone/x",
                                              **aws(moto_server)})
    assert run.failed
    assert f"bucket '{unique_name}-gone'" in run.result["msg"] and "does not exist" in run.result["msg"]
    assert run.result["field"] == "destination"
    assert f"{unique_name}-gone" not in [b["Name"] for b in client("s3", moto_server.url).list_buckets()["Buckets"]]


def test_unknown_table(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    run = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"file://{tmp_path}/b",
                                              **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "table"
    assert f"table '{unique_name}' does not exist" in run.result["msg"]
    assert not (tmp_path / "b").exists()


def test_unwritable_folder(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    create_table(client("dynamodb", dynalite_server.url), unique_name, rcu=5)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"file://{blocker}/backups",
                                              **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "destination"
    assert "is not writable" in run.result["msg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_read_percentage_out_of_range(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    create_table(client("dynamodb", dynalite_server.url), unique_name, rcu=5)
    run = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"file://{tmp_path}/b",
                                              "read_percentage": 1.5, **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "read_percentage" and "(0, 1]" in run.result["msg"]
    assert not (tmp_path / "b").exists()


def test_check_mode_backup_writes_nothing(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    create_table(client("dynamodb", dynalite_server.url), unique_name, rcu=5)
    run = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"file://{tmp_path}/b",
                                              **aws(dynalite_server)}, check=True)
    assert not run.failed and run.result["changed"]
    assert run.result["backup_url"].startswith(f"file://{tmp_path}/b/000000000000/{REGION}/{unique_name}/")
    assert not (tmp_path / "b").exists()


def test_non_empty_restore_target(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(30))
    destination = f"file://{tmp_path}/b"
    backup = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": destination,
                                                 **aws(dynalite_server)})
    assert not backup.failed and backup.result["item_count"] == 30
    target = f"{unique_name}-taken"
    create_table(ddb, target, rcu=None)
    put_items(ddb, target, [{"pk": {"S": "keep-me"}}])

    run = run_module("backup_restore", {"destination": destination, "table": unique_name, "target": target,
                                        **aws(dynalite_server)})

    assert run.failed and run.result["field"] == "target"
    assert "already exists and holds items" in run.result["msg"] and "force: true" in run.result["msg"]
    assert [i["pk"]["S"] for i in scan_all(ddb, target)] == ["keep-me"]


def test_restore_without_any_backup(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    run = run_module("backup_restore", {"destination": f"file://{tmp_path}", "table": unique_name,
                                        **aws(dynalite_server)})
    assert run.failed and f"no intact backup a night took of table '{unique_name}'" in run.result["msg"]
    tables = table_names(client("dynamodb", dynalite_server.url))
    assert not any(n.startswith(unique_name) for n in tables)


# Each module of the destination group with its other required options: only the destination is missing.
WITHOUT_DESTINATION = {
    "backup_copy": {"copy_to": {"destination": "file:///srv/copy"}}, "backup_undelete": {"table": "orders"},
    "backup_night": {"plan": {"clusters": []}, "run_id": "r1", "night_id": "n1"},
    "backup_drill": {}, "backup_increment": {"tables": ["orders"]}, "backup_info": {},
    "backup_prune": {"keep_last": 1}, "backup_lease": {"run_id": "r1"}, "backup_hold": {"table": "orders"},
    "backup_restore": {"table": "orders"}, "dynamodb_scan_backup": {"table": "orders"},
    "dynamodb_export": {"tables": ["orders"], "run_id": "r1"},
    "emr_backup": {"cluster": {"id": "c01", "tables": []}, "run_id": "r1"},
    "datapipeline_backup": {"cluster": {"id": "c01", "tables": []}, "run_id": "r1"},
}


def test_the_destination_group_lists_every_module_that_takes_a_destination() -> None:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    takes = {path.stem for path in (REPO / "plugins" / "modules").glob("*.py")
             if "hippolyte.dynamodb.destination" in path.read_text()}
    assert set(runtime["action_groups"]["destination"]) == takes == set(WITHOUT_DESTINATION)


@pytest.mark.parametrize("module", sorted(WITHOUT_DESTINATION))
def test_a_module_without_destination_names_the_field_and_the_group(module: str) -> None:
    # An endpoint where nothing listens: any AWS call made before the check would fail with another message.
    run = run_module(module, {**WITHOUT_DESTINATION[module], "region": REGION, "endpoint_url": "http://127.0.0.1:9"})
    assert run.failed and run.result.get("field") == "destination", run.output[-2000:]
    assert run.result["msg"] == ("destination: is not set; set it, or module_defaults "
                                 "group/hippolyte.dynamodb.destination")
