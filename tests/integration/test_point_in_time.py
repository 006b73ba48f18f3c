"""Any second back (backup_restore point_in_time) on moto: point-in-time recovery inside the window, the newest
backup at or before the second outside it, and the settings PITR does not carry put on the new table.

moto's RestoreTableToPointInTime copies the table's current items whatever the time asked, so the time itself is
checked on the request (RestoreDateTime, read by a proxy in front of moto), not on the items.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Request
from tests.support.inventory import inventory
from tests.support.tables import create_table, put_items, scan_all, simple_items, table_names


class RestoresSeen(ForwardingProxy):
    """Forwards everything to moto, keeping the body of each RestoreTableToPointInTime."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.restores: list[dict[str, Any]] = []

    def serve(self, request: Request, send: Answer) -> None:
        if request.operation == "RestoreTableToPointInTime":
            self.restores.append(json.loads(request.body))
        send(self.forward(request))


def a_table(moto_url: str, name: str, pitr: bool, tmp_path: Path) -> dict[str, Any]:
    ddb = client("dynamodb", moto_url)
    create_table(ddb, name, rcu=5)
    put_items(ddb, name, simple_items(12))
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "orders"}])
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    url = f"file://{tmp_path}/backups"
    an_hour_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    backup_table(ddb, open_store(url), name, REGION, ScanSettings(read_units_per_second=0, workers=1), an_hour_ago)
    return {"ddb": ddb, "url": url, "backup_at": an_hour_ago,
            "args": {"destination": url, "region": REGION, "table": name}}


def test_a_second_inside_the_window_is_restored_by_pitr_with_its_settings(moto_server: Any, unique_name: str,
                                                                          tmp_path: Path) -> None:
    table = a_table(moto_server.url, f"{unique_name}-orders", True, tmp_path)
    ddb = table["ddb"]
    window = ddb.describe_continuous_backups(TableName=f"{unique_name}-orders")[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    # moto's window is the instant PITR was switched on: the second it falls in is inside.
    moment = window["LatestRestorableDateTime"].astimezone(UTC).replace(microsecond=0)
    target = f"{unique_name}-pitr"
    with RestoresSeen(moto_server.url) as proxy:
        done = run_module("backup_restore", {**table["args"], "endpoint_url": proxy.url, "target": target,
                                             "point_in_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert not done.failed, done.output
    assert done.result["point_in_time"]["source"] == "point-in-time recovery"
    assert "inside" in done.result["point_in_time"]["reason"] and done.result["engine"] == "point-in-time"
    [request] = proxy.restores
    assert request["SourceTableName"] == f"{unique_name}-orders" and request["TargetTableName"] == target
    assert datetime.fromtimestamp(request["RestoreDateTime"], UTC) == moment  # the very second asked for
    assert done.result["counted_items"] == 12
    # What PITR does not carry, read from the source and put on the new table.
    assert ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["AttributeName"] == "ttl"
    arn = ddb.describe_table(TableName=target)["Table"]["TableArn"]
    assert {"Key": "team", "Value": "orders"} in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_outside_the_window_or_without_pitr_the_newest_backup_before_it_is_restored(
        moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    for pitr in (True, False):
        name = f"{unique_name}-{'on' if pitr else 'off'}"
        table = a_table(moto_server.url, name, pitr, tmp_path / name)
        # Half an hour ago: after the backup, before PITR was switched on (the window starts when it is).
        moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        target = f"{name}-back"
        with RestoresSeen(moto_server.url) as proxy:
            done = run_module("backup_restore", {**table["args"], "endpoint_url": proxy.url, "target": target,
                                                 "point_in_time": moment.isoformat()})
        assert not done.failed, done.output
        chosen = done.result["point_in_time"]
        assert chosen["source"] == "backup" and proxy.restores == []
        assert ("outside" in chosen["reason"]) if pitr else ("point-in-time recovery is off" in chosen["reason"])
        assert done.result["backup_url"].endswith(table["backup_at"].strftime("%Y-%m-%d-%H-%M-%S"))
        assert done.result["counted_items"] == 12 and target in table_names(table["ddb"])


def test_check_mode_and_bad_input(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    table = a_table(moto_server.url, f"{unique_name}-chk", True, tmp_path)
    latest = table["ddb"].describe_continuous_backups(TableName=f"{unique_name}-chk")[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"]
    args = {**table["args"], "endpoint_url": moto_server.url, "target": f"{unique_name}-chk-new"}
    preview = run_module("backup_restore", {**args, "point_in_time": latest.astimezone(UTC).isoformat()}, check=True)
    assert not preview.failed and preview.result["point_in_time"]["source"] == "point-in-time recovery", preview.output
    assert f"{unique_name}-chk-new" not in table_names(table["ddb"])
    for extra, says in (({"point_in_time": "2026-11-20"}, "is a day, not a second"),
                        ({"point_in_time": "2999-01-01T00:00:00Z"}, "is after now"),
                        ({"point_in_time": "2026-11-20T06:00:00Z", "at": "2026-11-20"}, "is given with at")):
        bad = run_module("backup_restore", {**args, **extra})
        assert bad.failed and says in bad.result["msg"], (says, bad.result.get("msg"))
    existing = run_module("backup_restore", {**args, "target": f"{unique_name}-chk",
                                             "point_in_time": latest.astimezone(UTC).isoformat()})
    assert existing.failed and "exists; a point-in-time restore creates its table" in existing.result["msg"]


def test_the_restore_playbook_takes_a_second_as_the_docs_write_it(moto_server: Any, unique_name: str,
                                                                  tmp_path: Path) -> None:
    """`ansible-playbook hippolyte.dynamodb.restore -e table=... -e point_in_time=...` (docs/catalog.md)."""
    table = a_table(moto_server.url, f"{unique_name}-orders", False, tmp_path)
    inv = inventory(tmp_path / "inventory.json", moto_server.url, table["url"])
    second = (table["backup_at"] + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    run = run_playbook("hippolyte.dynamodb.restore", inv, {"table": f"{unique_name}-orders", "point_in_time": second,
                                                           "target": f"{unique_name}-back"})

    assert run.returncode == 0, run.stdout[-4000:]
    # No point-in-time recovery on the table: the backup taken half an hour before that second.
    shown = run.stdout.split("TASK [hippolyte.dynamodb.restore : Show the restore]")[1]
    assert "second asked: backup" in shown, shown
    assert len(scan_all(table["ddb"], f"{unique_name}-back")) == 12
    refused = run_playbook("hippolyte.dynamodb.restore", inv, {"table": f"{unique_name}-orders", "at": "2026-01-01",
                                                               "point_in_time": second})
    assert refused.returncode != 0
    assert "hippolyte_restore_point_in_time is given with hippolyte_restore_at" in refused.stdout
