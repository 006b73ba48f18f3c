"""Backups made elsewhere (no hippolyte-manifest.json) are adopted into the layout, then restored into dynalite.

A small generator here writes them as their tools lay them out: a native export's
`AWSDynamoDB/<ExportId>/` tree (manifest-summary.json, manifest-files.json with md5 and counts,
data/*.json.gz) in moto S3, and the original Hippolyte's Data Pipeline folders (data files named by UUID,
JSON lines with mixed type-key casing or legacy U+0003/U+0002 lines, with or without `manifest` and
`_SUCCESS`) in a local folder.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.adoption import SchemaSource, adopt_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.foreign_backups import ACCOUNT, EXPORT_ID, emr_connector_line, write_emr_folder, write_native_export
from tests.support.items import every_type_item
from tests.support.tables import canonical, create_table, scan_all, simple_items


def _items() -> list[dict[str, Any]]:
    return [every_type_item(f"k{n}") for n in range(8)] + list(simple_items(30, pad=20))


def test_a_native_export_tree_in_s3_is_adopted_and_restored(moto_server: Any, dynalite_server: Any,
                                                            unique_name: str) -> None:
    """The schema (keys and the GSI) comes from the table the export's own ARN names."""
    ddb = client("dynamodb", dynalite_server.url)
    gsi = {"IndexName": "by-pk", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "KEYS_ONLY"}}
    create_table(ddb, unique_name, rcu=None, GlobalSecondaryIndexes=[gsi])
    arn = ddb.describe_table(TableName=unique_name)["Table"]["TableArn"]
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    items = _items()
    write_native_export(s3, unique_name, "console-exports/orders", arn, items)
    args = {"destination": f"s3://{unique_name}/hippolyte", "table": unique_name, "target": f"{unique_name}-nx",
            "adopt_from": f"s3://{unique_name}/console-exports/orders", "region": REGION,
            "endpoint_url": dynalite_server.url, "s3_endpoint_url": moto_server.url, "bucket_owner": ACCOUNT}

    run = run_module("backup_restore", args)

    assert not run.failed, run.output[-3000:]
    assert run.result["counted_items"] == len(items)
    assert canonical(scan_all(ddb, f"{unique_name}-nx")) == canonical(items)
    restored = ddb.describe_table(TableName=f"{unique_name}-nx")["Table"]
    assert [i["IndexName"] for i in restored["GlobalSecondaryIndexes"]] == ["by-pk"]
    folder = run.result["backup_url"].split(f"s3://{unique_name}/", 1)[1]
    assert folder.endswith(f"/{REGION}/{unique_name}/2026-11-22-01-00-00")  # taken at the export time
    doc = manifest_file.loads(s3.get_object(Bucket=unique_name, Key=f"{folder}/hippolyte-manifest.json")["Body"]
                              .read(), folder)
    assert doc["data_format"] == "native-export" and doc["item_count"] == len(items)
    assert doc["origin"]["source"] == f"s3://{unique_name}/console-exports/orders/AWSDynamoDB/{EXPORT_ID}"
    assert all(f["path"].startswith(f"data/AWSDynamoDB/{EXPORT_ID}/data/") for f in doc["files"])
    again = run_module("backup_restore", args)
    assert not again.failed and not again.result["changed"]


@pytest.mark.parametrize(("legacy", "markers"), [(False, True), (False, False), (True, True), (True, False)],
                         ids=["json-with-manifest", "json-bare", "legacy-with-manifest", "legacy-bare"])
def test_an_emr_connector_folder_is_adopted_and_restored(dynalite_server: Any, unique_name: str, tmp_path: Path,
                                                         legacy: bool, markers: bool) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=5, wcu=5)
    items = _items()
    write_emr_folder(tmp_path / "legacy", items, legacy, markers)
    source = open_store(f"file://{tmp_path}/legacy")
    backups = open_store(f"file://{tmp_path}/backups")

    adopted = adopt_folder(source, backups, ddb, "orders", REGION, SchemaSource(schema_from=unique_name))
    result = restore_backup(ddb, backups, adopted.folder, f"{unique_name}-emr", RestoreSettings(workers=2))

    assert adopted.changed and adopted.manifest["data_format"] == "emr-connector"
    assert [f["items"] for f in adopted.manifest["files"]] == [len(items) // 2, len(items) - len(items) // 2]
    assert adopted.folder.split("/")[1:3] == [REGION, "orders"]
    assert result.counted_items == len(items)
    assert canonical(scan_all(ddb, f"{unique_name}-emr")) == canonical(items)
    assert ddb.describe_table(TableName=f"{unique_name}-emr")["Table"]["ProvisionedThroughput"][
        "WriteCapacityUnits"] == 5  # the live table's settings came with its keys


def test_key_attributes_given_as_options_restore_through_the_module(dynalite_server: Any, unique_name: str,
                                                                    tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    items = _items()
    write_emr_folder(tmp_path / "legacy", items, legacy=True, markers=True)
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "target": f"{unique_name}-keys",
            "adopt_from": f"file://{tmp_path}/legacy", "key_attributes": [{"name": "pk", "type": "S"}],
            "account_id": ACCOUNT, "at": "2019-03-01T01:00:00Z", "region": REGION,
            "endpoint_url": dynalite_server.url}

    run = run_module("backup_restore", args)

    assert not run.failed, run.output[-3000:]
    assert run.result["backup_url"] == (f"file://{tmp_path}/backups/{ACCOUNT}/{REGION}/{unique_name}/"
                                        "2019-03-01-01-00-00")
    assert canonical(scan_all(ddb, f"{unique_name}-keys")) == canonical(items)
    table = ddb.describe_table(TableName=f"{unique_name}-keys")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_an_item_without_its_key_fails_naming_the_line(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Before any table is created, and leaving nothing of the adoption behind."""
    ddb = client("dynamodb", dynalite_server.url)
    lines = [emr_connector_line(i, legacy=False, number=n) for n, i in enumerate(_items()[:6])]
    lines[4] = json.dumps({"other": {"s": "no key here"}})  # the second file's second line
    write_emr_folder(tmp_path / "legacy", [], legacy=False, markers=False, lines=lines)
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "target": f"{unique_name}-bad",
            "adopt_from": f"file://{tmp_path}/legacy", "key_attributes": [{"name": "pk", "type": "S"}],
            "account_id": ACCOUNT, "region": REGION, "endpoint_url": dynalite_server.url}

    run = run_module("backup_restore", args)

    assert run.failed
    assert f"{uuid.UUID(int=2)} line 2" in run.result["msg"] and "'pk'" in run.result["msg"], run.result["msg"]
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=f"{unique_name}-bad")
    assert not list((tmp_path / "backups").rglob("*.json*"))  # nothing of the failed adoption is left
