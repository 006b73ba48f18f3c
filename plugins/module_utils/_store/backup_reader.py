# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Reading a backup's data files back as PutRequests, checking each file's size and sha256 as it streams."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_batch_write import put_request
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import emr_connector_codec
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import CodecError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import DataFile
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_lines,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

# How the local engine and native exports write a line; anything else is parsed before it is sent.
_COMPACT_ITEM = (b'{"Item":{', b"}}")


def _dynamodb_json(line: bytes) -> bytes:
    """A line is already the JSON of a PutRequest's body, and is kept as bytes. Its bytes are checked
    against the manifest's sha256 as the file streams, so a compact `{"Item":{...}}` line is only checked
    for that shape; any other line is parsed, to refuse a damaged one before it is sent."""
    text = line.strip()
    if not (text.startswith(_COMPACT_ITEM[0]) and text.endswith(_COMPACT_ITEM[1])):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise CodecError(f"not a JSON line: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict) or len(doc) != 1:
            raise CodecError('a dynamodb-json line must be {"Item": {...}}')
    return put_request(text)


def _emr_connector(line: bytes) -> bytes:
    """A DynamoDBExport line (JSON with any type-key casing, or the legacy U+0003/U+0002 style)."""
    return emr_connector_codec.to_put_request(line).encode()


# Data format (manifest `data_format`) -> one stored line as PutRequest JSON. A native export's data
# files hold the same `{"Item": {...}}` lines as the local engine's.
READERS = {"dynamodb-json": _dynamodb_json, "emr-connector": _emr_connector, "native-export": _dynamodb_json}


def iter_put_requests(store: BackupStore, folder: str, data_file: DataFile, data_format: str) -> Iterator[bytes]:
    """Yield one data file's items as PutRequest JSON (UTF-8); raises if its bytes differ from the manifest."""
    decode = READERS.get(data_format)
    if decode is None:
        raise HippolyteError(f"data format {data_format!r} cannot be restored by this version; "
                             f"it reads {', '.join(READERS)}")
    return (decode(line) for line in iter_lines(store, folder, data_file))


def iter_lines(store: BackupStore, folder: str, data_file: DataFile) -> Iterator[bytes]:
    """Yield one data file's non-blank lines as stored; raises, once read, if its bytes or its line count differ
    from the manifest (so a consumer that acts on lines as they come must not trust them before the end)."""
    where = url_under(store.url, join(folder, data_file.path))
    count = 0
    with open_lines(store, join(folder, data_file.path)) as (lines, hashing):
        for line in lines:
            if line.strip():
                count += 1
                yield line
    if hashing.size != data_file.bytes or hashing.sha256 != data_file.sha256:
        raise HippolyteError(f"{where} does not match the manifest (size {hashing.size} vs {data_file.bytes}, "
                             "or sha256 differs): the backup is damaged")
    if count != data_file.items:
        raise HippolyteError(f"{where} holds {count} items, the manifest says {data_file.items}")
