"""Backups written into a store the way the engines leave them: data files, then the manifest, last."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import encode_line
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest

ACCOUNT = "123456789012"
REGION = "eu-west-1"
TAKEN = datetime(2026, 11, 20, 1, 0, 0, tzinfo=UTC)


def schema_of_table(table: str) -> dict[str, Any]:
    """The smallest captured schema a manifest needs: a string hash key."""
    return {"TableName": table, "TableArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": None, "Tags": []}


def gzipped_lines(items: Iterable[dict[str, Any]]) -> bytes:
    """A local-engine data part: one dynamodb-json line per item, gzipped."""
    return gzip.compress("".join(encode_line(item) + "\n" for item in items).encode(), mtime=0)


def line_count(data: bytes) -> int:
    text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return sum(1 for line in text.splitlines() if line.strip())


def write_backup(store: BackupStore, files: dict[str, bytes], *, table: str = "orders", taken: datetime = TAKEN,
                 account: str = ACCOUNT, data_format: str = "dynamodb-json",
                 origin: dict[str, Any] | None = None, consistency: str = "fuzzy-scan") -> tuple[str, dict[str, Any]]:
    """A complete backup of `table` holding `files` (path in the folder -> bytes); (its folder, its manifest)."""
    folder = backup_folder(account, REGION, table, taken)
    for path, data in files.items():
        store.put_bytes(join(folder, path), data)
    data_files = [manifest_file.DataFile(path, line_count(data), len(data), hashlib.sha256(data).hexdigest())
                  for path, data in files.items()]
    doc = write_manifest(store, folder, schema=schema_of_table(table), account=account, region=REGION,
                         engine="local" if consistency == "fuzzy-scan" else "export", data_format=data_format,
                         consistency=consistency,
                         started=taken.isoformat(), finished=taken.isoformat(), files=data_files,
                         origin=origin or manifest_file.night_origin("local", None, None))
    return folder, doc
