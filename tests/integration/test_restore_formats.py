"""Restore reads every engine's data format (docs/engines.md), and a dynamodump folder, into dynalite, exactly.

The backup folders are written here the way each tool lays them out: the DynamoDBExport tool's
plain-text files with its `manifest` and `_SUCCESS` (both line styles, mixed type-key casing), and a
native export's `AWSDynamoDB/<ExportId>/` tree; each with a hippolyte-manifest as the engines write it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import emr_connector_codec as emr
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import encode_line, to_json_item
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder, find_backup
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import CONNECTOR, data_files
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.dynodump import import_dump
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.foreign_backups import mixed_case
from tests.support.items import every_type_item
from tests.support.tables import canonical, create_table, scan_all, simple_items

TAKEN = datetime(2026, 11, 22, 1, 0, 0, tzinfo=UTC)
ACCOUNT = "111111111111"


def _write_backup(store: BackupStore, schema: dict[str, Any], engine: str, data_format: str,
                  files: dict[str, tuple[bytes, int]], extra: dict[str, bytes]) -> str:
    folder = backup_folder(ACCOUNT, REGION, schema["TableName"], TAKEN)
    for path, data in extra.items():
        store.put_bytes(join(folder, path), data)
    for path, (data, _count) in files.items():
        store.put_bytes(join(folder, path), data)
    data_files = [manifest_file.DataFile(path, items, len(data), hashlib.sha256(data).hexdigest())
                  for path, (data, items) in files.items()]
    doc = manifest_file.build_manifest(schema=schema, account=ACCOUNT, region=REGION, engine=engine,
                                       data_format=data_format, consistency="point-in-time",
                                       started=TAKEN.isoformat(), finished=TAKEN.isoformat(), files=data_files,
                                       origin=manifest_file.night_origin(engine, None, None))
    store.put_bytes(join(folder, manifest_file.MANIFEST_NAME), manifest_file.dumps(doc))
    return folder


@pytest.fixture
def source(dynalite_server: Any, unique_name: str) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    """An (empty) source table whose schema the backups carry, and the items they hold."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    items = [every_type_item(f"k{n}") for n in range(6)] + list(simple_items(40))
    return ddb, capture_schema(ddb, unique_name), items


def test_emr_connector_backup_in_both_line_styles(source: tuple[Any, dict[str, Any], list[dict[str, Any]]],
                                                  tmp_path: Path) -> None:
    ddb, schema, items = source
    store = open_store(f"file://{tmp_path}/backups")
    json_items = [to_json_item(i) for i in items]
    new_style = [json.dumps({n: mixed_case(v, upper=k % 2 == 1) for n, v in emr.to_emr_item(j).items()})
                 for k, j in enumerate(json_items[:25])]
    legacy = [emr.encode_legacy_line(j) for j in json_items[25:]]
    part_a = ("\n".join(new_style) + "\n").encode()
    part_b = ("\n".join(legacy) + "\n").encode()
    entries = [{"url": f"s3://bucket/x/data/{name}", "mandatory": True} for name in ("a1b2", "c3d4")]
    tool_manifest = json.dumps({"name": "DynamoDB-export", "version": 3, "entries": entries}).encode()
    folder = _write_backup(store, schema, "emr", "emr-connector",
                           {"data/5b3c1f4e-a1b2": (part_a, 25), "data/5b3c1f4e-c3d4": (part_b, len(legacy))},
                           {"data/manifest": tool_manifest, "data/_SUCCESS": b""})
    data = join(folder, "data")
    listed = [f[len(folder) + 1:] for f in data_files(store.list_files(data), data, CONNECTOR)]
    assert listed == ["data/5b3c1f4e-a1b2", "data/5b3c1f4e-c3d4"]  # the tool's manifest and _SUCCESS are not data
    target = f"{schema['TableName']}-emr"

    result = restore_backup(ddb, store, folder, target, RestoreSettings(workers=2))

    assert result.written_items == result.counted_items == len(items)
    assert canonical(scan_all(ddb, target)) == canonical(items)


def test_native_export_backup(source: tuple[Any, dict[str, Any], list[dict[str, Any]]], tmp_path: Path) -> None:
    ddb, schema, items = source
    store = open_store(f"file://{tmp_path}/backups")
    base = "data/AWSDynamoDB/01763773200000-0a1b2c3d"
    parts = {f"{base}/data/{name}.json.gz": items[k::2] for k, name in enumerate(("qv4e3hcl3a", "zx7k1m2n9p"))}
    files = {path: (gzip.compress("".join(encode_line(i) + "\n" for i in chunk).encode()), len(chunk))
             for path, chunk in parts.items()}
    summary = {"version": "2020-06-30", "itemCount": len(items), "outputFormat": "DYNAMODB_JSON"}
    folder = _write_backup(store, schema, "export", "native-export", files,
                           {f"{base}/manifest-summary.json": json.dumps(summary).encode(),
                            f"{base}/manifest-files.json": b"{}\n", f"{base}/_started": b""})
    target = f"{schema['TableName']}-native"

    result = restore_backup(ddb, store, folder, target, RestoreSettings(workers=2))

    assert result.counted_items == len(items)
    assert canonical(scan_all(ddb, target)) == canonical(items)


def test_a_damaged_emr_line_fails_the_restore_and_says_so(source: tuple[Any, dict[str, Any], list[dict[str, Any]]],
                                                          tmp_path: Path) -> None:
    ddb, schema, _items = source
    store = open_store(f"file://{tmp_path}/backups")
    data = b'{"pk":{"s":"ok"}}\n{"pk":{"q":"what"}}\n'
    folder = _write_backup(store, schema, "emr", "emr-connector", {"data/part-0": (data, 2)}, {})
    with pytest.raises(HippolyteError, match="unknown attribute type 'q'"):
        restore_backup(ddb, store, folder, f"{schema['TableName']}-bad", RestoreSettings(workers=1))


def test_dynamodump_folder_is_imported_then_restored(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    gsi = {"IndexName": "by-n", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "KEYS_ONLY"},
           "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}}
    create_table(ddb, unique_name, rcu=7, wcu=3, GlobalSecondaryIndexes=[gsi])
    items = [every_type_item(f"k{n}") for n in range(5)] + list(simple_items(30))
    dump = tmp_path / "dump" / unique_name
    (dump / "data").mkdir(parents=True)
    # As dynamodump writes them: DescribeTable's answer, and each Scan page as returned (binary as base64).
    (dump / "schema.json").write_text(json.dumps(ddb.describe_table(TableName=unique_name), default=str, indent=2))
    for page, start in enumerate(range(0, len(items), 20), 1):
        chunk = [to_json_item(i) for i in items[start:start + 20]]
        (dump / "data" / f"{page:04d}.json").write_text(json.dumps({"Count": len(chunk), "Items": chunk,
                                                                    "ScannedCount": len(chunk)}, indent=2))
    source = open_store(f"file://{tmp_path}/dump")
    backups = open_store(f"file://{tmp_path}/backups")

    imported = import_dump(source, unique_name, backups, REGION, taken_at=TAKEN)
    again = import_dump(source, unique_name, backups, REGION, taken_at=TAKEN)

    assert imported.changed and not again.changed and imported.manifest["item_count"] == len(items)
    assert imported.manifest["engine"] == "dynodump" and len(imported.manifest["files"]) == 2
    ref = find_backup(backups, unique_name, REGION, now=TAKEN + timedelta(days=1), imports=True)  # an import: asked for
    assert ref.folder == imported.folder
    target = f"{unique_name}-from-dump"
    result = restore_backup(ddb, backups, ref.folder, target, RestoreSettings(workers=2))
    assert result.counted_items == len(items)
    assert canonical(scan_all(ddb, target)) == canonical(items)
    table = ddb.describe_table(TableName=target)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by-n"
    with pytest.raises(InputError, match=r"schema\.json") as err:
        import_dump(source, "no-such-table", backups, REGION)
    assert err.value.field == "source"
