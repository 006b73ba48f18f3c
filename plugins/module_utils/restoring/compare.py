"""A table compared with a backup item by item: which keys only one side holds, and which items differ.

The backup's lines are streamed (a few data files at a time, each checked against the manifest as it
reads) into one dict of primary key -> 16-byte digest of the item's canonical form (item_codec), so
attribute order, set order and number spelling (1.0 or 1) are not differences. The table is then read by
a parallel Scan (segments), each item's key taken out of the dict: a key not there is extra, a digest
that differs is changed, and what is left in the dict at the end is missing from the table.

Memory: the dict holds every key of the backup with its digest, about 160 bytes per item with keys of a
dozen characters (1.6 GB for ten million items, more for longer keys); the items themselves are never kept.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.raw_scan import RAW_ITEMS, RawItemScans
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import (
    canonical_bytes,
    canonical_value,
    to_json_item,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import iter_put_requests
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore

# Keys listed per kind of difference; the counts are always complete.
FIRST_KEYS = 10
DIGEST_BYTES = 16


@dataclass
class Difference:
    """One kind of difference: how many items, and the keys of the first few (sorted)."""

    count: int = 0
    keys: list[dict[str, Any]] = field(default_factory=list)

    def add(self, key: dict[str, Any]) -> None:
        self.count += 1
        if len(self.keys) < FIRST_KEYS:
            self.keys.append(key)

    def merge(self, other: Difference) -> None:
        self.count += other.count
        self.keys = sorted(self.keys + other.keys, key=_sort_key)[:FIRST_KEYS]


@dataclass
class Comparison:
    """A table against a backup. `missing`: in the backup, not in the table; `extra`: the reverse."""

    table: str
    backup_items: int = 0
    table_items: int = 0
    missing: Difference = field(default_factory=Difference)
    extra: Difference = field(default_factory=Difference)
    changed: Difference = field(default_factory=Difference)

    @property
    def equal(self) -> bool:
        return self.backup_items == self.table_items and not (self.missing.count or self.extra.count
                                                              or self.changed.count)

    def report(self) -> dict[str, Any]:
        """The restore's `compare` result: counts and the first keys of each difference."""
        return {"equal": self.equal, "backup_items": self.backup_items, "table_items": self.table_items,
                "missing": self.missing.keys, "extra": self.extra.keys, "changed": self.changed.keys,
                "missing_count": self.missing.count, "extra_count": self.extra.count,
                "changed_count": self.changed.count}

    def drift(self) -> dict[str, Any]:
        """How far a live table has moved on since the backup: items added, removed and changed since."""
        return {"in_sync": self.equal, "backup_items": self.backup_items, "table_items": self.table_items,
                "added": self.extra.count, "removed": self.missing.count, "changed": self.changed.count,
                "added_keys": self.extra.keys, "removed_keys": self.missing.keys, "changed_keys": self.changed.keys}

    def summary(self) -> str:
        parts = [f"{what} {diff.count} (first: {', '.join(map(_show, diff.keys))})"
                 for what, diff in (("missing", self.missing), ("extra", self.extra), ("changed", self.changed))
                 if diff.count]
        return (f"table {self.table} holds {self.table_items} items, the backup {self.backup_items}; "
                + ("; ".join(parts) or "duplicate keys in the backup"))


class TableDiffers(HippolyteError):
    """The restored table is not item for item the backup; carries the comparison for the task's result."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        super().__init__(f"the restored table differs from the backup: {comparison.summary()}")


def check_same_key(table: dict[str, Any], schema: dict[str, Any], field: str) -> None:
    """A table compared by the backup's primary key must have that key (DescribeTable's `Table`)."""
    if _primary_key(table) != _primary_key(schema):
        raise InputError(field, f"table {table.get('TableName')!r} has the key {_primary_key(table)}, the backup's "
                         f"table had {_primary_key(schema)}", "compare with a table of the same primary key")


def _primary_key(description: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in description.get("KeySchema", [])]


def compare_table(ddb: Any, store: BackupStore, folder: str, doc: dict[str, Any], table: str, segments: int = 8,
                  readers: int = 4, stop: threading.Event | None = None) -> Comparison:
    """Compare `table` with the backup in `folder` (its manifest `doc`), keyed by the backup's primary key."""
    return table_differences(ddb, store, folder, doc, table, segments, readers, stop).comparison


@dataclass
class Differences:
    """A comparison with every key behind it (canonical key bytes, as `key_bytes` makes them), for a repair."""

    comparison: Comparison
    missing: set[bytes]
    changed: set[bytes]


def table_differences(ddb: Any, store: BackupStore, folder: str, doc: dict[str, Any], table: str,
                      segments: int = 8, readers: int = 4, stop: threading.Event | None = None) -> Differences:
    """`compare_table`, keeping every missing and changed key rather than the first few."""
    key_names = backup_key_names(doc)
    comparison = Comparison(table)
    expected, comparison.backup_items = _backup_digests(store, folder, doc, key_names, readers, stop)
    segments = max(1, segments)
    changed_keys: set[bytes] = set()
    with RawItemScans(ddb), ThreadPoolExecutor(segments) as pool:
        results = list(pool.map(lambda s: _scan_segment(ddb, table, s, segments, key_names, expected, stop,
                                                        changed_keys), range(segments)))
    for counted, extra, changed in results:
        comparison.table_items += counted
        comparison.extra.merge(extra)
        comparison.changed.merge(changed)
    comparison.missing.count = len(expected)
    comparison.missing.keys = sorted((_key_of(key_names, k) for k in itertools.islice(expected, FIRST_KEYS)),
                                     key=_sort_key)
    return Differences(comparison, set(expected), changed_keys)


def backup_key_names(doc: dict[str, Any]) -> list[str]:
    """The backup's primary key attributes, partition key first."""
    return [k["AttributeName"] for k in sorted(doc["schema"]["KeySchema"], key=lambda k: k["KeyType"] != "HASH")]


def key_bytes(item: dict[str, Any], key_names: list[str]) -> bytes:
    """An item's (or a key's) canonical key, in JSON form: what the comparison's key sets hold."""
    return _identify_key(item, key_names)


def _backup_digests(store: BackupStore, folder: str, doc: dict[str, Any], key_names: list[str], readers: int,
                    stop: threading.Event | None) -> tuple[dict[bytes, bytes], int]:
    """Key -> digest of every backup item, and the number of lines read (more than keys if a key repeats)."""
    digests: dict[bytes, bytes] = {}

    def read(data_file: manifest_file.DataFile) -> int:
        lines = 0
        for request in iter_put_requests(store, folder, data_file, doc["data_format"]):
            if lines % 1000 == 0:
                raise_if_stopped(stop)
            key, digest = _identify(json.loads(request)["PutRequest"]["Item"], key_names)
            digests.setdefault(key, digest)  # one atomic step under the GIL: readers share the dict
            lines += 1
        return lines

    files = manifest_file.data_files(doc)
    with ThreadPoolExecutor(max(1, min(readers, len(files) or 1))) as pool:
        return digests, sum(pool.map(read, files))


def _scan_segment(ddb: Any, table: str, segment: int, segments: int, key_names: list[str],
                  expected: dict[bytes, bytes], stop: threading.Event | None,
                  changed_keys: set[bytes]) -> tuple[int, Difference, Difference]:
    """Count one segment's items, taking each one's key out of `expected`; (items, extra, changed). Every changed
    key also goes into `changed_keys`."""
    extra, changed, counted = Difference(), Difference(), 0
    for item in _segment_items(ddb, table, segment, segments, stop):
        counted += 1
        key, digest = _identify(item, key_names)
        wanted = expected.pop(key, None)  # dict.pop is atomic: segments share the dict
        if wanted is None:
            extra.add(_key_of(key_names, key))
        elif wanted != digest:
            changed.add(_key_of(key_names, key))
            changed_keys.add(key)  # set.add is atomic too
    return counted, extra, changed


def _segment_items(ddb: Any, table: str, segment: int, segments: int,
                   stop: threading.Event | None) -> Iterator[dict[str, Any]]:
    """A segment's items in JSON form (binary as base64), strongly consistent so a load just ended is all seen."""
    kwargs: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": segments,
                              "ConsistentRead": True}
    while True:
        raise_if_stopped(stop)
        page = ddb.scan(**kwargs)
        raw = page.get(RAW_ITEMS)
        if raw is not None:
            # One item per "\n": str.splitlines() would also cut at U+2028, U+2029 and U+0085 inside a string.
            for line in raw.lines.split("\n"):
                if line:
                    yield json.loads(line)["Item"]
        else:  # a body the raw reader could not split was parsed by botocore: binary is bytes there
            yield from (to_json_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _identify(item: dict[str, Any], key_names: list[str]) -> tuple[bytes, bytes]:
    """(canonical key, digest of the canonical item) of an item in JSON form."""
    return _identify_key(item, key_names), hashlib.blake2b(canonical_bytes(item), digest_size=DIGEST_BYTES).digest()


def _identify_key(item: dict[str, Any], key_names: list[str]) -> bytes:
    try:
        return json.dumps([canonical_value(item[name]) for name in key_names], separators=(",", ":"),
                          ensure_ascii=False).encode()
    except KeyError as exc:
        raise HippolyteError(f"an item has no key attribute {exc.args[0]!r}: {json.dumps(item)[:200]}") from None


def _key_of(key_names: list[str], key: bytes) -> dict[str, Any]:
    """A canonical key as the task shows it: attribute name -> value (binary as base64)."""
    return {name: next(iter(value.values())) for name, value in zip(key_names, json.loads(key), strict=True)}


def _sort_key(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def _show(key: dict[str, Any]) -> str:
    return json.dumps(key, ensure_ascii=False, sort_keys=True)
