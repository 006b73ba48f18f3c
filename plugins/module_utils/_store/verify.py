# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Checking backups against their manifests: every data file re-read, streamed, in parallel.

A file missing from the folder's listing, or listed with another size, is damaged without being read.
The others are read once: size and sha256 always, the item count too when asked (it needs the file
decompressed). A file that no longer decompresses is hashed raw, so the reason given is the checksum.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    HashingReader,
    join,
    measure,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import CatalogEntry
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

# What reading a damaged file can raise: a bad gzip header or trailer, truncated or corrupt deflate data.
_UNREADABLE = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class Damage:
    file: str  # URL of the damaged file (or of the manifest)
    reason: str


@dataclass(frozen=True)
class BackupCheck:
    entry: CatalogEntry
    damage: tuple[Damage, ...]
    files: int
    bytes_read: int

    @property
    def ok(self) -> bool:
        return not self.damage


@dataclass(frozen=True)
class _FileCheck:
    damage: Damage | None
    bytes_read: int


def _raw_digest(store: BackupStore, key: str) -> tuple[int, str]:
    with store.open_reader(key) as raw:
        hashing = HashingReader(raw)
        hashing.drain()
    return hashing.size, hashing.sha256


def _read(store: BackupStore, key: str, count_items: bool) -> tuple[int, str, int | None]:
    if count_items:
        facts = measure(store, key)
        return facts.size, facts.sha256, facts.items
    return (*_raw_digest(store, key), None)


def _check_file(store: BackupStore, folder: str, data_file: manifest_file.DataFile, listed_size: int | None,
                count_items: bool) -> _FileCheck:
    key = join(folder, data_file.path)
    where = url_under(store.url, key)
    if listed_size is None:
        return _FileCheck(Damage(where, "missing: the manifest lists it, the folder does not hold it"), 0)
    if listed_size != data_file.bytes:
        return _FileCheck(Damage(where, f"size is {listed_size} bytes, the manifest says {data_file.bytes}"), 0)
    from botocore.exceptions import BotoCoreError  # imported here: adapters report a missing botocore

    items = None
    try:
        try:
            size, sha256, items = _read(store, key, count_items)
        except BotoCoreError:  # failed on the way (a checksum or a connection): the stored bytes may be fine
            size, sha256, items = _read(store, key, count_items)
    except BotoCoreError as exc:
        return _FileCheck(Damage(where, f"unreadable twice: {exc}"), 0)
    except _UNREADABLE as exc:
        try:
            size, sha256 = _raw_digest(store, key)
        except _UNREADABLE:
            return _FileCheck(Damage(where, f"unreadable: {exc}"), 0)
        if sha256 == data_file.sha256:
            return _FileCheck(Damage(where, f"matches its sha256 but cannot be decompressed: {exc}"), size)
    if size != data_file.bytes:
        return _FileCheck(Damage(where, f"read {size} bytes, the manifest says {data_file.bytes}"), size)
    if sha256 != data_file.sha256:
        return _FileCheck(Damage(where, f"sha256 is {sha256}, the manifest says {data_file.sha256}"), size)
    if items is not None and items != data_file.items:
        return _FileCheck(Damage(where, f"holds {items} items, the manifest says {data_file.items}"), size)
    return _FileCheck(None, size)


def find_damage(store: BackupStore, folder: str, doc: dict[str, Any], workers: int = 4,
                count_items: bool = False) -> list[Damage]:
    """Every data file of one backup that differs from its manifest (one listing of the folder, then reads)."""
    listed = {o.key: o.size for o in store.list_objects(folder)}
    files = manifest_file.data_files(doc)
    with ThreadPoolExecutor(max(1, min(workers, len(files) or 1))) as pool:
        checks = list(pool.map(lambda f: _check_file(store, folder, f, listed.get(join(folder, f.path)), count_items),
                               files))
    return [c.damage for c in checks if c.damage]


def verify_entries(store: BackupStore, entries: Sequence[CatalogEntry], workers: int = 8) -> list[BackupCheck]:
    """Re-read every data file of the complete `entries` (all files of all backups share one pool of readers)."""
    jobs: list[tuple[int, str, manifest_file.DataFile, int | None]] = []
    for index, entry in enumerate(entries):
        if entry.manifest is not None:
            listed = {o.key: o.size for o in entry.objects}
            folder = entry.ref.folder
            jobs += [(index, folder, f, listed.get(join(folder, f.path)))
                     for f in manifest_file.data_files(entry.manifest)]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        checks = list(pool.map(lambda job: _check_file(store, job[1], job[2], job[3], count_items=True), jobs))
    damage: dict[int, list[Damage]] = {i: [] for i in range(len(entries))}
    read: dict[int, int] = dict.fromkeys(range(len(entries)), 0)
    for (index, *_job), check in zip(jobs, checks, strict=True):
        read[index] += check.bytes_read
        if check.damage:
            damage[index].append(check.damage)
    results = []
    for index, entry in enumerate(entries):
        if entry.manifest_error:
            where = url_under(store.url, join(entry.ref.folder, manifest_file.MANIFEST_NAME))
            damage[index].append(Damage(where, entry.manifest_error))
        files = len(entry.manifest["files"]) if entry.manifest else 0
        results.append(BackupCheck(entry, tuple(damage[index]), files, read[index]))
    return results
