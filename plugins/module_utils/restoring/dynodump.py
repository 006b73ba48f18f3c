"""Importing a dynamodump folder (`<table>/schema.json` + `<table>/data/0001.json` ...) as a backup.

dynamodump writes DescribeTable's answer (`{"Table": {...}}`) as `schema.json` and every Scan page it
read, as returned (`{"Items": [...], "Count": n, ...}`, DynamoDB JSON with base64 binary), as
`data/NNNN.json`. Importing converts the folder into the backup layout once: one gzip dynamodb-json
part per page file, the schema in CreateTable's vocabulary, and `hippolyte-manifest.json` last. From
then on it restores, lists and verifies like any other backup. A dump is a Scan, so it is `fuzzy-scan`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import (
    CodecError,
    encode_json_line,
    from_json_item,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    account_of,
    check_segment,
    is_valid_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import schema_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    HashingWriter,
    join,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import claim_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.import_identity import (
    earlier_import,
    source_digest,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest

ENGINE = "dynodump"


@dataclass
class ImportResult:
    folder: str
    url: str
    changed: bool
    manifest: dict[str, Any]


def schema_from_description(table: dict[str, Any]) -> dict[str, Any]:
    """A DescribeTable `Table` from schema.json as the schema a hippolyte manifest carries."""
    try:
        return schema_of(table)
    except KeyError as exc:
        raise InputError("source", f"schema.json lacks {exc.args[0]}", "point at a folder dynamodump wrote") from exc


def _pages(source: BackupStore, table_dir: str) -> list[str]:
    return [k for k in source.list_files(join(table_dir, "data")) if k.endswith(".json")]


def _convert_pages(source: BackupStore, table_dir: str, dest: BackupStore, folder: str,
                   read: list[tuple[str, str]]) -> list[manifest_file.DataFile]:
    """One gzip part in `dest`'s `folder` per dynodump page file; `read` gets each page's (path, sha256)."""
    files = []
    for number, key in enumerate(_pages(source, table_dir)):
        raw_page = source.read_bytes(key)
        read.append((key[len(table_dir):].lstrip("/"), hashlib.sha256(raw_page).hexdigest()))
        try:
            doc = json.loads(raw_page)
        except ValueError as exc:
            raise HippolyteError(f"{url_under(source.url, key)} is not JSON: {exc}") from exc
        items = doc.get("Items") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise HippolyteError(f"{url_under(source.url, key)} has no Items list: not a dynamodump page")
        path = f"data/part-{number:05d}.json.gz"
        raw = HashingWriter(dest.open_writer(join(folder, path)))
        try:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                for item in items:
                    try:
                        from_json_item(item)  # refuse a damaged value now, not halfway through a restore
                    except (CodecError, AttributeError) as exc:
                        raise HippolyteError(f"{url_under(source.url, key)}: {exc}") from exc
                    gz.write((encode_json_line(item) + "\n").encode())
            raw.close()
        except BaseException:
            raw.abort()
            raise
        files.append(manifest_file.DataFile(path, len(items), raw.size, raw.sha256))
    return files


def import_dump(source: BackupStore, table_dir: str, dest: BackupStore, region: str,
                account_id: str | None = None, taken_at: datetime | None = None) -> ImportResult:
    """Convert `<source>/<table_dir>` (a dynamodump table folder) into a backup under `dest`, filed at `taken_at`
    (default now) or the next free second; the same dump imported before is found by its origin and reused."""
    check_segment("table", table_dir)  # schema.json is read from inside the dump, never beside it
    schema_key = join(table_dir, "schema.json")
    if not source.exists(schema_key):
        raise InputError("source", f"{url_under(source.url, schema_key)} does not exist",
                         "point at the table's folder inside a dynamodump dump (it holds schema.json and data/)")
    schema_raw = source.read_bytes(schema_key)
    try:
        described = json.loads(schema_raw)
    except ValueError as exc:
        raise HippolyteError(f"{url_under(source.url, schema_key)} is not JSON: {exc}") from exc
    schema = schema_from_description(described.get("Table", described) if isinstance(described, dict) else {})
    if not is_valid_table_name(schema["TableName"]):
        raise InputError("source", f"{url_under(source.url, schema_key)} names the table {schema['TableName']!r}, "
                         "which is not a DynamoDB table name", "import only dumps of DynamoDB tables")
    account = account_of(schema.get("TableArn"), account_id)
    taken = (taken_at or utc_now()).astimezone(UTC).replace(microsecond=0)
    origin = url_under(source.url, table_dir)
    earlier = earlier_import(dest, account, region, schema["TableName"], origin,
                             lambda: source_digest(source, [schema_key, *_pages(source, table_dir)], table_dir))
    if earlier is not None:
        folder, doc = earlier
        return ImportResult(folder, url_under(dest.url, folder), False, doc)
    # A night's backup, another import or another writer may hold that second's folder: the next free one.
    folder = claim_folder(dest, account, region, schema["TableName"], taken).folder
    url = url_under(dest.url, folder)
    read = [("schema.json", hashlib.sha256(schema_raw).hexdigest())]
    try:
        files = _convert_pages(source, table_dir, dest, folder, read)
    except BaseException:
        dest.delete_tree(folder)  # the claim with the rest: nothing of a failed import is left
        raise
    now = utc_now().isoformat()
    doc = write_manifest(dest, folder, schema=schema, account=account, region=region, engine=ENGINE,
                         data_format="dynamodb-json", consistency="fuzzy-scan", started=taken.isoformat(),
                         finished=now, files=files,
                         origin=manifest_file.import_origin(origin, manifest_file.content_digest(read), now))
    return ImportResult(folder, url, True, doc)


@contextmanager
def discarded_on_failure(dest: BackupStore, imported: ImportResult | None) -> Iterator[None]:
    """Remove the backup this very import adopted when what follows it (its restore) fails, so a failed
    restore leaves nothing behind; a backup found already imported is someone else's and stays."""
    try:
        yield
    except BaseException:
        if imported is not None and imported.changed:
            dest.delete_tree(imported.folder)
        raise
