"""Which files of an export's data folder hold items: the one rule for every engine that lists its data.

A DynamoDBExport (EMR, Data Pipeline) folder holds item files beside its `manifest` and `_SUCCESS`.
A native export writes `AWSDynamoDB/<ExportId>/` with `manifest-*.json` files and `data/*.json.gz`.
Dot and underscore files (a tool's markers and temporaries) are never data.
"""

from __future__ import annotations

from collections.abc import Iterable

CONNECTOR_MARKERS = ("manifest", "_SUCCESS")  # what DynamoDBExport writes beside its data
NATIVE = "native-export"
CONNECTOR = "emr-connector"


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
