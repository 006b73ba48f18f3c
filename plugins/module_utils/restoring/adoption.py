"""Adopting a backup made elsewhere - a native export tree or an emr-connector folder - as an ordinary backup.

Such a folder has no hippolyte-manifest.json and, for an emr-connector folder (the original Hippolyte's
Data Pipeline output), no schema at all. Adoption copies its data files unchanged into a new backup folder,
`<destination>/<account>/<region>/<table>/<time>/data/`, reading every line on the way with the restore's
own readers (backup_reader) to count the items and to refuse an item that lacks a key attribute, naming
the file and line; then writes hippolyte-manifest.json last, with the copies' sizes and sha256. From then
on the folder restores, lists and verifies like a backup of the engine that wrote that format.

The key schema and indexes come, in this order, from a live table (`schema_from`), from key attributes
given as options, or, for a native export, from the table its manifest-summary.json names when that table
still exists in the region.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import capture_schema
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import CodecError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    check_account_id,
    check_relative_key,
    parse_arn,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import schema_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import READERS
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    HashingWriter,
    join,
    line_stream,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import (
    CONNECTOR,
    NATIVE,
    NATIVE_FILES,
    NATIVE_SUMMARY,
    connector_data_keys,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.export_files import (
    data_files as export_data_files,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import claim_folder
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.import_identity import (
    earlier_import,
    source_digest,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.dynodump import ImportResult

FORMATS = ("auto", NATIVE, CONNECTOR)
KEY_TYPES = ("S", "N", "B")
_SOURCE = "adopt_from"
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SchemaSource:
    """Where the adopted backup's schema comes from (the first one given wins)."""

    schema_from: str | None = None  # a live table whose keys, indexes and settings the backup takes
    key_attributes: tuple[tuple[str, str], ...] = ()  # (name, S|N|B): partition key, then the sort key

    def validate(self) -> None:
        if not 0 <= len(self.key_attributes) <= 2:
            raise InputError("key_attributes", f"names {len(self.key_attributes)} attributes",
                             "give the partition key, and the sort key when the table has one")
        for name, kind in self.key_attributes:
            if not name or kind not in KEY_TYPES:
                raise InputError("key_attributes", f"{name!r} of type {kind!r} is not a key attribute",
                                 f"give each a name and a type among {', '.join(KEY_TYPES)}")


@dataclass(frozen=True)
class _Found:
    data_format: str
    root: str  # the export's AWSDynamoDB/<id> folder, or the connector folder, relative to the source
    keys: list[str]  # data files, relative to the source
    extra: list[str]  # files copied beside them (the native manifests)
    summary: dict[str, Any]  # manifest-summary.json ({} for a connector folder)
    entries: dict[str, dict[str, Any]]  # manifest-files.json by data file key ({} when absent)


def _read_json(source: BackupStore, key: str) -> Any:
    try:
        return json.loads(source.read_bytes(key))
    except ValueError as exc:
        raise InputError(_SOURCE, f"{url_under(source.url, key)} is not JSON ({exc})",
                         "point at an unmodified native export") from exc


def _native(source: BackupStore, summary_key: str) -> _Found:
    root = summary_key.rsplit("/", 1)[0] if "/" in summary_key else ""
    summary = _read_json(source, summary_key)
    if not isinstance(summary, dict) or summary.get("outputFormat", "DYNAMODB_JSON") != "DYNAMODB_JSON":
        raise InputError(_SOURCE, f"{url_under(source.url, summary_key)} is not a DYNAMODB_JSON export",
                         "adopt exports made with ExportFormat DYNAMODB_JSON")
    files_key = join(root, NATIVE_FILES)
    entries: dict[str, dict[str, Any]] = {}
    if source.exists(files_key):
        for number, line in enumerate(source.read_bytes(files_key).splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                # The key names the bucket the export was written to; the file sits in this tree's data/.
                name = str(entry["dataFileS3Key"]).rstrip("/").rsplit("/", 1)[-1]
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(_SOURCE, f"{url_under(source.url, files_key)} line {number} is not a "
                                 f"file entry ({exc})", "point at an unmodified native export") from exc
            entries[check_relative_key(NATIVE_FILES, join(root, "data", name))] = entry
        keys = sorted(entries)
        missing = [k for k in keys if not source.exists(k)]
        if missing:
            raise InputError(_SOURCE, f"{NATIVE_FILES} names files the export lacks: {', '.join(missing[:3])}",
                             "copy the whole AWSDynamoDB/<export id>/ folder")
    else:
        keys = export_data_files(source.list_files(root), root, NATIVE)
    extra = [k for k in (summary_key, files_key) if source.exists(k)]
    return _Found(NATIVE, root, keys, extra, summary, entries)


def find_format(source: BackupStore, wanted: str) -> _Found:
    """What the source folder holds: one native export tree (anywhere below it) or an emr-connector folder."""
    if wanted not in FORMATS:
        raise InputError("adopt_format", f"{wanted!r} is not a format", f"use one of {', '.join(FORMATS)}")
    listed = source.list_files("")
    summaries = [k for k in listed if k.rsplit("/", 1)[-1] == NATIVE_SUMMARY]
    if len(summaries) > 1:
        raise InputError(_SOURCE, f"{source.url} holds {len(summaries)} native exports",
                         "point at one of them, the AWSDynamoDB/<export id>/ folder")
    if summaries and wanted in ("auto", NATIVE):
        return _native(source, summaries[0])
    if wanted == NATIVE:
        raise InputError(_SOURCE, f"{source.url} holds no {NATIVE_SUMMARY}",
                         "point at a native export's AWSDynamoDB/<export id>/ folder, or one above it")
    keys = connector_data_keys(source, "", require_marker=False)
    if not keys:
        raise InputError(_SOURCE, f"{source.url} holds no data files", "point at the folder the export wrote")
    return _Found(CONNECTOR, "", keys, [], {}, {})


def _schema_from_keys(table: str, keys: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """An on-demand table with only these keys, described as DescribeTable would describe it."""
    roles = ("HASH", "RANGE")[:len(keys)]
    return schema_of({"TableName": table, "BillingModeSummary": {"BillingMode": ON_DEMAND},
                      "KeySchema": [{"AttributeName": n, "KeyType": r} for (n, _k), r in zip(keys, roles, strict=True)],
                      "AttributeDefinitions": [{"AttributeName": n, "AttributeType": k} for n, k in keys]})


def _live_schema(ddb: Any, name: str, field: str) -> dict[str, Any] | None:
    """The live table's schema; a table that is gone is an error for `schema_from`, else just no schema."""
    try:
        return capture_schema(ddb, name)
    except InputError:  # describe_table's answer to ResourceNotFoundException
        if field == "schema_from":
            raise InputError("schema_from", f"table {name!r} does not exist in this region",
                             "name a live table with the backed-up table's keys and indexes") from None
        return None


def resolve_schema(ddb: Any, table: str, how: SchemaSource, found: _Found,
                   region: str) -> tuple[dict[str, Any], str | None]:
    """The adopted backup's schema, named `table`, and the ARN of the live table it came from (if any)."""
    how.validate()
    schema = None
    if how.schema_from:
        schema = _live_schema(ddb, how.schema_from, "schema_from")
    elif how.key_attributes:
        schema = _schema_from_keys(table, how.key_attributes)
    elif found.summary.get("tableArn"):
        arn = parse_arn(str(found.summary["tableArn"]))
        if arn is not None and arn.region == region:
            schema = _live_schema(ddb, arn.resource.split("/", 1)[-1], "tableArn")
    if schema is None:
        raise InputError("schema_from", f"the folder to adopt ({found.data_format}) carries no schema that "
                         "can be used here", "name a live table with the same keys (schema_from), or give "
                         "key_attributes")
    # The backup is of `table` (the export's table, when it names one), not of the table lending its schema.
    return dict(schema, TableName=table, TableArn=found.summary.get("tableArn")), schema.get("TableArn")


def _account(arns: list[str | None], account_id: str | None, fallback: Callable[[], str]) -> str:
    """`account_id`, else the account of the first ARN that names one, else `fallback()`."""
    if account_id:
        return check_account_id("account_id", account_id)
    for arn in arns:
        parsed = parse_arn(arn or "")
        if parsed is not None and parsed.account:
            return parsed.account
    return check_account_id("account_id", fallback())


def _no_account() -> str:
    raise InputError("account_id", "no table ARN tells whose backup this is", "set account_id")


def _export_id(found: _Found) -> str:
    """The export's id: its folder's name, else the end of the ARN its summary names."""
    name = found.root.rstrip("/").rsplit("/", 1)[-1] or str(found.summary.get("exportArn", "")).rsplit("/", 1)[-1]
    return check_relative_key(NATIVE_SUMMARY, name or "export")


class _CopyingReader(io.RawIOBase):
    """Reads a source file and writes every byte read to the adopted copy, so it is read once."""

    def __init__(self, inner: BinaryIO, copy: HashingWriter) -> None:
        self.inner, self.copy = inner, copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(min(len(buffer), _COPY_CHUNK))
        buffer[:len(data)] = data
        if data:
            self.copy.write(data)
        return len(data)


def _item_of(put_request: bytes) -> dict[str, Any]:
    return json.loads(put_request)["PutRequest"]["Item"]  # type: ignore[no-any-return]


def _check_keys(item: dict[str, Any], keys: list[tuple[str, str]], where: str) -> None:
    for name, kind in keys:
        value = item.get(name)
        if not isinstance(value, dict) or kind not in value:
            found = f"of type {next(iter(value))}" if isinstance(value, dict) and value else "none"
            raise InputError(_SOURCE, f"{where}: the item has no key attribute {name!r} of type {kind} ({found})",
                             "adopt only backups of a table with these keys, or fix schema_from/key_attributes")


def _copy_data(source: BackupStore, key: str, dest: BackupStore, dest_key: str, data_format: str,
               keys: list[tuple[str, str]]) -> tuple[int, HashingWriter, str]:
    """Copy one data file, checking every item's keys; (items, the copy's writer, the source's md5)."""
    decode = READERS[data_format]
    url = url_under(source.url, key)
    copy = HashingWriter(dest.open_writer(dest_key))
    raw = source.open_reader(key)
    items = 0
    try:
        lines, hashing = line_stream(_CopyingReader(raw, copy))
        with lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = _item_of(decode(line))
                except (CodecError, ValueError, KeyError, TypeError) as exc:
                    raise HippolyteError(f"{url} line {number}: {exc}") from exc
                _check_keys(item, keys, f"{url} line {number}")
                items += 1
        hashing.drain()  # the rest of the file (a gzip trailer) is copied too
        copy.close()
    except BaseException:
        copy.abort()
        raise
    finally:
        raw.close()
    return items, copy, hashing.md5_base64


def adopt_folder(source: BackupStore, dest: BackupStore, ddb: Any, table: str, region: str, how: SchemaSource,
                 data_format: str = "auto", account_id: str | None = None, taken_at: datetime | None = None,
                 account_fallback: Callable[[], str] = _no_account) -> ImportResult:
    """Copy the backup in `source` (made elsewhere) into a new backup of `table` under `dest`, manifest last.

    Filed at `taken_at`, else a native export's export time, else now, or the next free second when that
    folder is taken. The same source adopted before (same place, same content digest) is found by its
    manifest's origin, not copied again. `account_fallback` gives the account when neither `account_id`
    nor a table ARN does (the credentials' account)."""
    found = find_format(source, data_format)
    schema, lender = resolve_schema(ddb, table, how, found, region)
    account = _account([schema.get("TableArn"), lender], account_id, account_fallback)
    exported = found.summary.get("exportTime")
    taken = (taken_at or (parse_instant(str(exported), f"{NATIVE_SUMMARY} exportTime") if exported else None)
             or utc_now()).astimezone(UTC).replace(microsecond=0)
    origin = url_under(source.url, found.root).rstrip("/")
    earlier = earlier_import(dest, account, region, table, origin,
                             lambda: source_digest(source, [*found.keys, *found.extra], found.root))
    if earlier is not None:
        folder, doc = earlier
        return ImportResult(folder, url_under(dest.url, folder), False, doc)
    # A night's backup or another import may hold that second's folder: the next free one.
    folder = claim_folder(dest, account, region, table, taken).folder
    key_names = [(k["AttributeName"], next(a["AttributeType"] for a in schema["AttributeDefinitions"]
                                           if a["AttributeName"] == k["AttributeName"]))
                 for k in schema["KeySchema"]]
    # The native tree keeps its AWSDynamoDB/<id>/ path below data/, as the export engine's backups do.
    base = join("data", "AWSDynamoDB", _export_id(found)) if found.data_format == NATIVE else "data"
    read: list[tuple[str, str]] = []  # (path in the source, sha256): the source's content digest
    try:
        files = []
        for key in found.keys:
            path = join(base, key[len(found.root):])
            items, copy, md5 = _copy_data(source, key, dest, join(folder, path), found.data_format, key_names)
            entry = found.entries.get(key, {})
            if entry.get("md5Checksum") and entry["md5Checksum"] != md5:
                raise HippolyteError(f"{url_under(source.url, key)}: md5 differs from {NATIVE_FILES}")
            if "itemCount" in entry and int(entry["itemCount"]) != items:
                raise HippolyteError(f"{url_under(source.url, key)} holds {items} items, {NATIVE_FILES} "
                                     f"says {entry['itemCount']}")
            files.append(manifest_file.DataFile(path, items, copy.size, copy.sha256))
            read.append((key[len(found.root):].lstrip("/"), copy.sha256))  # copied unchanged: the same bytes
        for key in found.extra:
            extra = source.read_bytes(key)
            dest.put_bytes(join(folder, base, key[len(found.root):]), extra)
            read.append((key[len(found.root):].lstrip("/"), hashlib.sha256(extra).hexdigest()))
    except BaseException:
        dest.delete_tree(folder)  # the claim with the rest: nothing of a failed adoption is left
        raise
    now = utc_now().isoformat()
    doc = write_manifest(dest, folder, schema=schema, account=account,
                         region=region, engine=f"adopted-{found.data_format}", data_format=found.data_format,
                         consistency="point-in-time" if found.data_format == NATIVE else "fuzzy-scan",
                         started=taken.isoformat(), finished=now, files=files,
                         origin=manifest_file.import_origin(origin, manifest_file.content_digest(read), now))
    return ImportResult(folder, url_under(dest.url, folder), True, doc)
