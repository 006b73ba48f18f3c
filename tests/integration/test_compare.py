"""A restored or live table compared with its backup item by item (restoring/compare.py), on moto and dynalite;
restores into another account and region through the restore role; drills that compare."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import canonical_bytes
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.compare import TableDiffers, compare_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.drill import Drill, run_drill
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    load_manifest,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module, run_playbook
from tests.support.items import every_type_item
from tests.support.role_account import ROLE_ACCOUNT, role_account_dynamodb
from tests.support.scan_tables import INDEXED, indexed_table_and_bucket
from tests.support.tables import canonical, create_table, put_items, scan_all, table_names
from tests.support.windows import open_window

NIGHT = datetime(2026, 11, 20, 1, 0, 0, tzinfo=UTC)
OTHER_REGION = "us-west-2"


def typed_table_with_backup(ddb: Any, name: str, tmp_path: Path, count: int = 40) -> tuple[Any, str]:
    """An on-demand table of every-type items and its backup in a local folder: (store, folder)."""
    create_table(ddb, name, rcu=None)
    put_items(ddb, name, [every_type_item(f"k{n:02d}") for n in range(count)])
    store = open_store(f"file://{tmp_path}/backups")
    return store, backup_table(ddb, store, name, REGION, ScanSettings(read_units_per_second=0), NIGHT).folder


def test_canonical_form_ignores_attribute_order_set_order_and_number_spelling() -> None:
    one = {"pk": {"S": "a"}, "n": {"N": "1.0"}, "ns": {"NS": ["2", "10E-1"]}, "m": {"M": {"x": {"N": "100"}}}}
    other = {"m": {"M": {"x": {"N": "1E2"}}}, "ns": {"NS": ["1", "2.00"]}, "n": {"N": "1"}, "pk": {"S": "a"}}
    assert canonical_bytes(one) == canonical_bytes(other)
    assert canonical_bytes(one) != canonical_bytes({**other, "n": {"N": "1.01"}})
    assert canonical_bytes({"n": {"N": "12345678901234567890123456789012345678"}}) != canonical_bytes(
        {"n": {"N": "12345678901234567890123456789012345679"}})  # 38 digits, none rounded away


@pytest.mark.parametrize("server", ["moto_server", "dynalite_server"])
def test_restore_with_compare_finds_every_type_equal(server: str, request: pytest.FixtureRequest, unique_name: str,
                                                     tmp_path: Path) -> None:
    ddb = client("dynamodb", request.getfixturevalue(server).url)
    store, folder = typed_table_with_backup(ddb, unique_name, tmp_path)

    result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings(workers=3, compare=True))

    assert result.comparison == {"equal": True, "backup_items": 40, "table_items": 40, "missing": [], "extra": [],
                                 "changed": [], "missing_count": 0, "extra_count": 0, "changed_count": 0}


def test_compare_names_the_items_altered_after_the_restore(dynalite_server: Any, unique_name: str,
                                                           tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    store, folder = typed_table_with_backup(ddb, unique_name, tmp_path)
    target = f"{unique_name}-r"
    restore_backup(ddb, store, folder, target, RestoreSettings())
    for pk in ("k03", "k17"):
        ddb.delete_item(TableName=target, Key={"pk": {"S": pk}})
    put_items(ddb, target, [dict(every_type_item("k05"), n={"N": "7"}), every_type_item("new-1")])
    # Written again in other spellings (set order, 1.0 for 1): the same item, so no difference.
    ddb.update_item(TableName=target, Key={"pk": {"S": "k08"}}, UpdateExpression="SET ss = :ss, l2 = :l",
                    ExpressionAttributeValues={":ss": {"SS": ["", "b", "a"]}, ":l": {"N": "1.0"}})
    ddb.update_item(TableName=target, Key={"pk": {"S": "k09"}}, UpdateExpression="SET ss = :ss",
                    ExpressionAttributeValues={":ss": {"SS": ["", "b", "a"]}})

    comparison = compare_table(ddb, store, folder, load_manifest(store, folder), target, segments=3)

    report = comparison.report()
    assert not report["equal"] and report["backup_items"] == 40 and report["table_items"] == 39
    assert report["missing"] == [{"pk": "k03"}, {"pk": "k17"}] and report["extra"] == [{"pk": "new-1"}]
    assert report["changed"] == [{"pk": "k05"}, {"pk": "k08"}]  # k08 gained an attribute; k09 only respelt
    assert (report["missing_count"], report["extra_count"], report["changed_count"]) == (2, 1, 2)
    assert 'missing 2 (first: {"pk": "k03"}, {"pk": "k17"})' in str(TableDiffers(comparison))


def test_compare_lists_at_most_ten_keys_but_counts_all(dynalite_server: Any, unique_name: str,
                                                       tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    store, folder = typed_table_with_backup(ddb, unique_name, tmp_path, count=30)
    target = f"{unique_name}-r"
    restore_backup(ddb, store, folder, target, RestoreSettings())
    for n in range(25):
        ddb.delete_item(TableName=target, Key={"pk": {"S": f"k{n:02d}"}})

    report = compare_table(ddb, store, folder, load_manifest(store, folder), target).report()

    assert report["missing_count"] == 25 and len(report["missing"]) == 10 and report["table_items"] == 5


def test_compare_with_reports_the_live_tables_drift(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Through the module: nothing is restored; items added, removed and changed since the backup, by key."""
    ddb = client("dynamodb", dynalite_server.url)
    typed_table_with_backup(ddb, unique_name, tmp_path, count=20)
    put_items(ddb, unique_name, [every_type_item(f"added-{n}") for n in range(3)]
              + [dict(every_type_item("k04"), s={"S": "edited"})])
    for pk in ("k00", "k11"):
        ddb.delete_item(TableName=unique_name, Key={"pk": {"S": pk}})
    tables_before = table_names(ddb)

    result = run_module("backup_restore", {"destination": f"file://{tmp_path}/backups", "table": unique_name,
                                           "compare_with": unique_name, "region": REGION,
                                           "endpoint_url": dynalite_server.url})

    assert not result.failed and result.result["changed"] is False, result.output[-3000:]
    assert result.result["drift"] == {
        "in_sync": False, "backup_items": 20, "table_items": 21, "added": 3, "removed": 2, "changed": 1,
        "added_keys": [{"pk": f"added-{n}"} for n in range(3)], "removed_keys": [{"pk": "k00"}, {"pk": "k11"}],
        "changed_keys": [{"pk": "k04"}]}
    assert table_names(ddb) == tables_before


@pytest.mark.parametrize(("args", "field", "problem"), [
    ({"compare_with": "no-such-table"}, "compare_with", "does not exist"),
    ({"compare_with": "{other}"}, "compare_with", "has the key"),
    ({"target_connection": {"region": "mars-1"}}, "target_connection.region", "not an AWS region"),
])
def test_bad_compare_or_target_fails_naming_the_field_and_creates_nothing(args: dict[str, Any], field: str,
                                                                          problem: str, dynalite_server: Any,
                                                                          unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    typed_table_with_backup(ddb, unique_name, tmp_path, count=5)
    other = f"{unique_name}-other"
    ddb.create_table(TableName=other, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                     BillingMode="PAY_PER_REQUEST")
    tables_before = sorted(table_names(ddb))
    args = json.loads(json.dumps(args).replace("{other}", other))

    run = run_module("backup_restore", {"destination": f"file://{tmp_path}/backups", "table": unique_name,
                                        "region": REGION, "endpoint_url": dynalite_server.url, **args})

    assert run.failed and run.result.get("field") == field, run.result.get("msg")
    assert problem in run.result["msg"]
    assert sorted(table_names(ddb)) == tables_before


def test_module_restore_with_compare_returns_the_comparison(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 25)
    backup_table(ddb, open_store(f"s3://{unique_name}/b", s3), unique_name, REGION,
                 ScanSettings(read_units_per_second=0))

    result = run_module("backup_restore", {"destination": f"s3://{unique_name}/b", "table": unique_name,
                                           "target": f"{unique_name}-r", "compare": True, "region": REGION,
                                           "endpoint_url": moto_server.url})

    assert not result.failed, result.output[-3000:]
    assert result.result["compare"]["equal"] is True and result.result["compare"]["table_items"] == 26


def test_a_drill_fails_naming_an_item_that_differs(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Injected: a hook on the drill's client changes one item of the scratch table just before the compare's
    first Scan (no emulator corrupts a write), as a lossy load would. The drill fails naming that key, and the
    scratch table is still deleted."""
    ddb = client("dynamodb", dynalite_server.url)
    store, _folder = typed_table_with_backup(ddb, unique_name, tmp_path, count=12)
    drill = Drill(table=unique_name, scratch_table=f"{unique_name}-drill-20261120")
    tamper = client("dynamodb", dynalite_server.url)
    tampered: list[str] = []

    def change_one_item(params: dict[str, Any], **_: Any) -> None:
        if params.get("ConsistentRead") and not tampered:  # only the compare's Scan reads consistently
            tampered.append("k07")
            tamper.put_item(TableName=drill.scratch_table, Item=dict(every_type_item("k07"), n={"N": "-1"}))

    ddb.meta.events.register("provide-client-params.dynamodb.Scan", change_one_item)

    with pytest.raises(TableDiffers, match=r'changed 1 \(first: \{"pk": "k07"\}\)'):
        run_drill(drill, ddb, store, REGION, None, RestoreSettings(workers=2))

    assert drill.comparison is not None and drill.comparison["changed"] == [{"pk": "k07"}]
    assert drill.scratch_deleted and drill.scratch_table not in table_names(ddb)


def test_a_good_drill_compares_item_for_item(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    store, _folder = typed_table_with_backup(ddb, unique_name, tmp_path, count=12)
    drill = run_drill(Drill(table=unique_name, scratch_table=f"{unique_name}-drill-20261120"), ddb, store, REGION,
                      None, RestoreSettings(workers=2))
    assert drill.facts()["compare"]["equal"] is True and "equal item for item" in drill.msg


LINE_SEPARATORS = ("\u2028", "\u2029", "\u0085")  # line ends to str.splitlines(), ordinary text to JSON


def test_text_holding_unicode_line_separators_restores_compares_and_drills_cleanly(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """On dynalite, which sends these characters raw (moto escapes non-ASCII, which would hide a split on them)."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    items = [{"pk": {"S": f"k{n}{sep}"}, "s": {"S": f"one{sep}two{sep}"}, "ss": {"SS": [sep, f"a{sep}b"]},
              "m": {"M": {f"key{sep}": {"L": [{"S": sep * 3}]}}}}
             for n, sep in enumerate(LINE_SEPARATORS)]
    put_items(ddb, unique_name, items)
    store = open_store(f"file://{tmp_path}/backups")
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0), NIGHT).folder

    result = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings(workers=2, compare=True))

    assert result.comparison is not None and result.comparison["equal"] and result.comparison["table_items"] == 3
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(items)
    again = restore_backup(ddb, store, folder, f"{unique_name}-r", RestoreSettings(workers=2))
    assert not again.changed  # the rerun's own comparison reads them too
    drill = run_drill(Drill(table=unique_name, scratch_table=f"{unique_name}-drill-20261120"), ddb, store, REGION,
                      None, RestoreSettings(workers=2))
    assert drill.comparison is not None and drill.comparison["equal"] and drill.scratch_deleted


def two_host_inventory(path: Path, moto_url: str, destination: str, far: dict[str, Any]) -> Path:
    """`night`: moto's default account in REGION, where the backup is; `far`: another account or region."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
             "hippolyte_endpoint_url": moto_url, "hippolyte_autoscaling": False, "hippolyte_window": open_window()}
    doc = {"all": {"vars": {"hippolyte_destination": destination, "hippolyte_engine": "local",
                            "hippolyte_report_dir": str(path.parent / "reports")},
                   "hosts": {"night": {**local, "hippolyte_region": REGION}, "far": {**local, **far}}}}
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("where", ["account", "region"])
def test_restore_role_restores_into_the_target_hosts_account_or_region(where: str, moto_server: Any,
                                                                       unique_name: str, tmp_path: Path) -> None:
    """The backup is found under `night` (--limit), the table recreated (indexes, TTL, tags) and compared in `far`:
    another account through moto's STS assume-role, or another region."""
    ddb, _s3 = indexed_table_and_bucket(moto_server, unique_name, 30)
    url = f"s3://{unique_name}/nightly"
    far = ({"hippolyte_region": REGION, "hippolyte_role_arn": f"arn:aws:iam::{ROLE_ACCOUNT}:role/{unique_name}",
            "hippolyte_role_external_id": "night-guard-7f3e"} if where == "account"
           else {"hippolyte_region": OTHER_REGION})
    inv = two_host_inventory(tmp_path / "inventory.json", moto_server.url, url,
                             {**far, "hippolyte_include": [unique_name]})
    backup = run_playbook("playbooks/backup.yml", inv, options=("--limit", "night"))
    assert backup.returncode == 0, backup.stdout[-4000:]

    target = f"{unique_name}-there"
    run = run_playbook("playbooks/restore.yml", inv, {"table": unique_name, "target": target, "compare": True,
                                                      "target_host": "far", "write_capacity": 20},
                       options=("--limit", "night"))

    assert run.returncode == 0, run.stdout[-4000:]
    assert f"in {far['hippolyte_region']} (host far)" in run.stdout
    assert "compare: equal to the backup, 31 items" in run.stdout
    there = (role_account_dynamodb(moto_server.url, unique_name) if where == "account"
             else boto3.client("dynamodb", region_name=OTHER_REGION, endpoint_url=moto_server.url))
    assert target not in table_names(ddb)  # not in the backup's own account and region
    assert canonical(scan_all(there, target)) == canonical(scan_all(ddb, unique_name))
    copy = there.describe_table(TableName=target)["Table"]
    assert copy["TableArn"].split(":")[3:5] == [far["hippolyte_region"],
                                                ROLE_ACCOUNT if where == "account" else "123456789012"]
    assert copy["GlobalSecondaryIndexes"][0]["Projection"] == INDEXED["GlobalSecondaryIndexes"][0]["Projection"]
    assert copy["ProvisionedThroughput"]["WriteCapacityUnits"] == 5  # the load-time boost was put back there
    assert there.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["AttributeName"] == "ttl"
    assert {"Key": "team", "Value": "payments"} in there.list_tags_of_resource(ResourceArn=copy["TableArn"])["Tags"]


def test_restore_role_refuses_an_unknown_or_bad_target_host(moto_server: Any, tmp_path: Path) -> None:
    """Checked before any AWS call: nothing is written to the destination."""
    inv = two_host_inventory(tmp_path / "inventory.json", moto_server.url, f"file://{tmp_path}/b",
                             {"hippolyte_region": "eu-nowhere-9", "hippolyte_role_arn": "arn:aws:iam::1:role/x"})
    unknown = run_playbook("playbooks/restore.yml", inv, {"table": "orders", "target_host": "nowhere"},
                           options=("--limit", "night"))
    bad = run_playbook("playbooks/restore.yml", inv, {"table": "orders", "target_host": "far"},
                       options=("--limit", "night"))

    assert unknown.returncode != 0 and "nowhere is not a host of the inventory" in unknown.stdout
    assert bad.returncode != 0 and "Target host far" in bad.stdout
    assert "hippolyte_region" in bad.stdout and "eu-nowhere-9" in bad.stdout
    assert "hippolyte_role_arn is 'arn:aws:iam::1:role/x', not an IAM role ARN" in bad.stdout
    assert not (tmp_path / "b").exists()
