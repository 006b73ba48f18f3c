# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Which files of an export's data folder hold items: the one rule for every engine that lists its data.

A DynamoDBExport (EMR, Data Pipeline) folder holds item files beside its `manifest` and `_SUCCESS`.
A native export writes `AWSDynamoDB/<ExportId>/` with `manifest-*.json` files and `data/*.json.gz`.
Dot and underscore files (a tool's markers and temporaries) are never data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

CONNECTOR_MARKERS = ("manifest", "_SUCCESS")  # what DynamoDBExport writes beside its data
NATIVE = "native-export"
CONNECTOR = "emr-connector"
NATIVE_SUMMARY = "manifest-summary.json"
NATIVE_FILES = "manifest-files.json"


def data_files(keys: Iterable[str], data_root: str, data_format: str) -> list[str]:
    """The keys among `keys` (the files under a backup's `data_root`) that hold items, sorted.

    `data_format` is the manifest's: "native-export" keeps the .gz files of a `data/` folder below the
    root (the export's own); "emr-connector" keeps every file but the connector's markers.
    """
    def holds_items(key: str) -> bool:
        name = key.rstrip("/").rsplit("/", 1)[-1]
        if not name or name.startswith((".", "_")):
            return False
        if data_format == NATIVE:
            return name.endswith(".gz") and "/data/" in key[len(data_root.rstrip("/")):]
        return name not in CONNECTOR_MARKERS

    return sorted(k for k in keys if holds_items(k))


def connector_data_keys(store: BackupStore, data: str, require_marker: bool) -> list[str]:
    """Keys of a DynamoDBExport folder's data files under `data` (relative to `store`), sorted.

    The tool's `manifest`, when present, names them (a file it names and the folder lacks is an error);
    else every file but the markers is data. `require_marker`: a folder with neither `manifest` nor
    `_SUCCESS` is an export that did not finish, and is refused.
    """
    keys = store.list_files(data)
    names = {k.rsplit("/", 1)[-1]: k for k in keys}
    manifest, success = CONNECTOR_MARKERS
    where = url_under(store.url, data).rstrip("/")
    if manifest in names:
        try:
            doc = json.loads(store.read_bytes(names[manifest]))
            urls = [e["url"] for e in doc["entries"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise HippolyteError(f"{where}/{manifest} is not an export manifest ({exc})") from exc
        wanted = [u.rstrip("/").rsplit("/", 1)[-1] for u in urls]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise HippolyteError(f"the export manifest names files that are not in {where}: {', '.join(missing)}")
        return sorted(names[w] for w in wanted)
    if require_marker and success not in names:
        raise HippolyteError(f"{where} has neither {success} nor {manifest}: the export did not finish")
    return data_files(keys, data, CONNECTOR)
