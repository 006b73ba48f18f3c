"""The local engine against real stand-ins: moto server (DynamoDB + S3) and dynalite."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import decode_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import list_backups
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.scan_tables import INDEXED, indexed_table_and_bucket
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items


def read_backup(store: Any, folder: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The manifest and every item of a backup, checking each file against the manifest on the way."""
    doc = json.loads(store.read_bytes(f"{folder}/{MANIFEST_NAME}"))
    items = []
    for f in doc["files"]:
        raw = store.read_bytes(f"{folder}/{f['path']}")
        assert hashlib.sha256(raw).hexdigest() == f["sha256"] and len(raw) == f["bytes"]
        lines = gzip.decompress(raw).decode().splitlines()
        assert len(lines) == f["items"]
        items.extend(decode_line(line) for line in lines)
    return doc, items


def test_backup_to_s3_captures_items_and_schema(moto_server: Any, unique_name: str) -> None:
    ddb, s3 = indexed_table_and_bucket(moto_server, unique_name, 60)
    store = open_store(f"s3://{unique_name}/nightly/dynamodb", s3)

    result = backup_table(ddb, store, unique_name, REGION, ScanSettings(workers=3, read_units_per_second=0))

    doc, items = read_backup(store, result.folder)
    assert canonical(items) == canonical(scan_all(ddb, unique_name))
    assert doc["item_count"] == 61 and doc["engine"] == "local" and doc["data_format"] == "dynamodb-json"
    assert doc["consistency"] == "fuzzy-scan" and doc["account"] == "123456789012" and doc["region"] == REGION
    schema = doc["schema"]
    assert schema["KeySchema"] == INDEXED["KeySchema"]
    assert schema["LocalSecondaryIndexes"][0]["IndexName"] == "by-when"
    assert schema["GlobalSecondaryIndexes"][0]["Projection"] == INDEXED["GlobalSecondaryIndexes"][0]["Projection"]
    assert schema["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {"ReadCapacityUnits": 7,
                                                                            "WriteCapacityUnits": 3}
    assert schema["ProvisionedThroughput"] == {"ReadCapacityUnits": 40, "WriteCapacityUnits": 5}
    assert schema["TimeToLive"]["AttributeName"] == "ttl"
    assert {"Key": "team", "Value": "payments"} in schema["Tags"]
    assert result.url.startswith(f"s3://{unique_name}/nightly/dynamodb/123456789012/{REGION}/{unique_name}/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_name)["Contents"]]
    assert all(k.startswith("nightly/dynamodb/") for k in keys)


def test_large_table_streams_into_numbered_parts(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(12_000, pad=400))
    store = open_store(f"file://{tmp_path}")
    settings = ScanSettings(workers=2, read_units_per_second=0, part_max_bytes=1024**2)

    result = backup_table(ddb, store, unique_name, REGION, settings)

    doc, items = read_backup(store, result.folder)
    paths = [f["path"] for f in doc["files"]]
    assert len(paths) >= 5  # ~5.5 MB of JSON in 1 MiB parts
    assert paths == [f"data/part-{n:05d}.json.gz" for n in range(len(paths))]
    assert len(items) == doc["item_count"] == 12_000
    assert canonical(items) == canonical(scan_all(ddb, unique_name))


def test_empty_table_still_records_its_schema(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=5)
    store = open_store(f"file://{tmp_path}")
    result = backup_table(ddb, store, unique_name, REGION, ScanSettings())
    doc, items = read_backup(store, result.folder)
    assert items == [] and doc["files"] == [] and doc["item_count"] == 0
    assert doc["schema"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5


class FailingScans:
    """Wraps a real client and fails the Nth Scan: an injected fault, since no emulator fails on demand."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def scan(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("injected: connection reset during scan")
        return self.inner.scan(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_scan_leaves_no_backup(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=None)
    put_items(ddb, unique_name, simple_items(4000, pad=600))  # ~2.5 MB: several 1 MB pages per segment
    store = open_store(f"file://{tmp_path}")
    settings = ScanSettings(workers=2, read_units_per_second=0, part_max_bytes=1024**2)
    failing = FailingScans(ddb, fail_at=3)
    with pytest.raises(RuntimeError, match="injected"):
        backup_table(failing, store, unique_name, REGION, settings, started=datetime(2026, 11, 22, tzinfo=UTC))
    assert failing.calls >= 3
    assert [r for r in list_backups(store, unique_name, REGION) if r.complete] == []
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "partial data files were left behind"


def test_consistent_read_and_explicit_segments(moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name, rcu=50)
    put_items(ddb, unique_name, simple_items(500))
    store = open_store(f"file://{tmp_path}")
    result = backup_table(ddb, store, unique_name, REGION, ScanSettings(segments=7, workers=3, consistent_read=True))
    _doc, items = read_backup(store, result.folder)
    assert result.segments == 7 and len(items) == 500
    assert result.read_units_limit == 25.0  # 50 RCU x the default read_percentage 0.5
