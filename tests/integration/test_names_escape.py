"""Names cannot lead out of the destination: a bad destination, account, table (one moto accepts and DynamoDB
refuses), dump or restore variable is refused, through Ansible, and nothing is written outside its folder."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, scan_all, simple_items, table_names

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: any AWS call would fail with a connection error


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def aws(server: Any) -> dict[str, str]:
    return {"region": REGION, "endpoint_url": server.url}


def test_a_destination_with_dot_dot_segments_is_refused(dynalite_server: Any, unique_name: str,
                                                        tmp_path: Path) -> None:
    create_table(client("dynamodb", dynalite_server.url), unique_name, rcu=5)
    (tmp_path / "a" / "b" / "dest").mkdir(parents=True)
    run = run_module("dynamodb_scan_backup", {"table": unique_name,
                                              "destination": f"file://{tmp_path}/a/b/dest/../../../outside",
                                              **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "destination", run.output[-2000:]
    assert files_under(tmp_path) == [] and not (tmp_path / "outside").exists()


def test_an_account_id_leading_out_is_refused(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    create_table(client("dynamodb", dynalite_server.url), unique_name, rcu=5)
    dest = tmp_path / "nest" / "dest"
    backup = run_module("dynamodb_scan_backup", {"table": unique_name, "destination": f"file://{dest}",
                                                 "account_id": "../../..", **aws(dynalite_server)})
    assert backup.failed and backup.result["field"] == "account_id", backup.output[-2000:]
    assert files_under(tmp_path) == []
    restore = run_module("backup_restore", {"table": unique_name, "destination": f"file://{dest}",
                                            "account_id": "../../..", "region": REGION,
                                            "endpoint_url": CLOSED_PORT})
    assert restore.failed and restore.result["field"] == "account_id", restore.output[-2000:]


def test_restore_refuses_a_table_or_target_leading_out_before_any_call(tmp_path: Path) -> None:
    for option, value in (("table", "../../../x"), ("target", "../x"), ("target", "a/b/c")):
        args = {"table": "orders", "destination": f"file://{tmp_path}/dest", "region": REGION,
                "endpoint_url": CLOSED_PORT, option: value}
        run = run_module("backup_restore", args)
        assert run.failed and run.result["field"] == option, run.output[-2000:]
        assert "is not a DynamoDB table name" in run.result["msg"]
    assert files_under(tmp_path) == []


def test_a_table_moto_accepts_and_dynamodb_refuses_is_skipped_and_refused(moto_server: Any, unique_name: str,
                                                                          tmp_path: Path) -> None:
    """moto creates a table named `../../../<name>` (DynamoDB would refuse it): the plan reports it unplannable
    and plans the good one, and the local engine refuses it by name; nothing lands outside the destination."""
    ddb = client("dynamodb", moto_server.url)
    bad, good = f"../../../{unique_name}", f"{unique_name}-ok"
    create_table(ddb, bad, rcu=5)
    create_table(ddb, good, rcu=5)
    put_items(ddb, bad, simple_items(3))
    listed = table_names(ddb)
    assert bad in listed  # the stand-in took the name

    plan = run_module("dynamodb_backup_plan", {"include": [f"*{unique_name}*"], "engine": "local", **aws(moto_server)})
    assert not plan.failed, plan.output[-2000:]
    planned = [t["name"] for c in plan.result["clusters"] for t in c["tables"]]
    assert planned == [good]
    assert [u["name"] for u in plan.result["unplannable"]] == [bad]
    assert "not a DynamoDB table name" in plan.result["unplannable"][0]["reason"]

    dest = tmp_path / "a" / "b" / "c" / "dest"
    for check in (False, True):
        run = run_module("dynamodb_scan_backup", {"table": bad, "destination": f"file://{dest}",
                                                  **aws(moto_server)}, check=check)
        assert run.failed and run.result["field"] == "table", run.output[-2000:]
    assert files_under(tmp_path) == []


def _dump(root: Path, folder: str, description: dict[str, Any], items: Iterable[dict[str, Any]]) -> None:
    items = list(items)
    (root / folder / "data").mkdir(parents=True)
    (root / folder / "schema.json").write_text(json.dumps({"Table": description}, default=str))
    (root / folder / "data" / "0001.json").write_text(json.dumps({"Items": items, "Count": len(items)}))


def test_a_dump_naming_a_table_that_leads_out_is_refused(dynalite_server: Any, unique_name: str,
                                                         tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=5)
    described = dict(ddb.describe_table(TableName=unique_name)["Table"], TableName="../../../x")
    dump = tmp_path / "dump"
    _dump(dump, unique_name, described, simple_items(3))
    dest = tmp_path / "one" / "two" / "dest"
    before = files_under(tmp_path)
    run = run_module("backup_restore", {"table": unique_name, "destination": f"file://{dest}",
                                        "dynamodump": f"file://{dump}", "at": "2026-11-01T00:00:00Z",
                                        **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "source", run.output[-2000:]
    assert "'../../../x'" in run.result["msg"]
    assert files_under(tmp_path) == before

    # The dump's own folder comes from `table`: a schema.json beside the dump is never read.
    (tmp_path / "schema.json").write_text(json.dumps({"Table": dict(described, TableName=unique_name)},
                                                     default=str))
    run = run_module("backup_restore", {"table": "../dump/..", "destination": f"file://{dest}",
                                        "dynamodump": f"file://{dump}", **aws(dynalite_server)})
    assert run.failed and run.result["field"] == "table", run.output[-2000:]
    assert files_under(tmp_path) == sorted([*before, tmp_path / "schema.json"])


def test_a_failed_restore_drops_the_import_it_made_but_not_an_earlier_one(dynalite_server: Any, unique_name: str,
                                                                          tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(5))
    dump = tmp_path / "dump"
    _dump(dump, unique_name, ddb.describe_table(TableName=unique_name)["Table"], scan_all(ddb, unique_name))
    dest = tmp_path / "dest"
    busy = f"{unique_name}-busy"  # a target holding items: the restore refuses it (force is false)
    create_table(ddb, busy, rcu=None)
    put_items(ddb, busy, simple_items(1))
    args = {"table": unique_name, "destination": f"file://{dest}", "dynamodump": f"file://{dump}",
            "at": "2026-11-01T00:00:00Z", **aws(dynalite_server)}

    failed = run_module("backup_restore", dict(args, target=busy))
    assert failed.failed and "holds" in failed.result["msg"], failed.output[-2000:]
    assert files_under(dest) == []  # the import this restore made is gone

    done = run_module("backup_restore", dict(args, target=f"{unique_name}-back"))
    assert not done.failed and done.result["counted_items"] == 5, done.output[-2000:]
    kept = files_under(dest)
    assert any(p.name == "hippolyte-manifest.json" for p in kept)
    failed_again = run_module("backup_restore", dict(args, target=busy))
    assert failed_again.failed
    assert files_under(dest) == kept  # imported by an earlier run: not this restore's to remove


def test_restore_playbook_refuses_a_table_leading_out_before_any_call(tmp_path: Path) -> None:
    """The endpoint is a closed port and a role to assume is set: the first AWS call (AssumeRole) would fail with
    a connection error, so a message from the check proves nothing was called."""
    inv = inventory(tmp_path / "inventory.json", CLOSED_PORT, f"file://{tmp_path}/dest",
                    hippolyte_role_arn="arn:aws:iam::123456789012:role/hippolyte-backup")
    for extra, variable in (({"table": "../x"}, "hippolyte_restore_table is '../x'"),
                            ({"table": "orders", "target": "a/../b"}, "hippolyte_restore_target is 'a/../b'")):
        run = run_playbook("playbooks/restore.yml", inv, extra)
        assert run.returncode != 0
        assert f"{variable}, not a DynamoDB table name" in run.stdout, run.stdout[-3000:]
        assert "Assume the host's backup role" not in run.stdout
    run = run_playbook("playbooks/restore.yml", inv, {"table": "orders", "hippolyte_account_id": "../../.."})
    assert run.returncode != 0 and "hippolyte_account_id is '../../..'" in run.stdout and "12 digits" in run.stdout
    assert not (tmp_path / "dest").exists()
