"""A verified second copy: intact backups copied to another destination (another account, region or store),
each object checked against the manifest twice, and the manifest written last.

A backup folder is copied under the same relative key, so the copy's catalog, restores and retention work as
on the first destination. Every data file is streamed through a hash on its way (the source must still be what
its manifest says), then read back at the copy (what the copy holds must be, too); only then is the manifest
written, so a copy that has a manifest is complete and checked. A copy that fails either check, or breaks off,
is removed, and the folder reported failed. A folder whose manifest is already at the copy, byte for byte, is
left as it is: running the copy again copies only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    HashingReader,
    HashingWriter,
    join,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import (
    CatalogEntry,
    Selection,
    scan_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.verify import find_damage

CHUNK = 1024**2  # bytes streamed per read: a copy never holds a whole file
COPIED, ALREADY, FAILED, WOULD_COPY = "copied", "already copied", "failed", "would copy"


@dataclass(frozen=True)
class CopyOutcome:
    table: str
    folder: str  # relative to both destinations
    status: str  # copied | already copied | failed | would copy
    files: int = 0
    bytes: int = 0
    error: str | None = None

    def to_result(self, source: BackupStore, target: BackupStore) -> dict[str, Any]:
        return {"table": self.table, "folder": self.folder, "status": self.status, "files": self.files,
                "bytes": self.bytes, "error": self.error, "source_url": url_under(source.url, self.folder),
                "copy_url": url_under(target.url, self.folder)}


def copy_backups(source: BackupStore, target: BackupStore, selection: Selection, *, night: str | None = None,
                 workers: int = 8, check_mode: bool = False) -> list[CopyOutcome]:
    """Copy every intact selected backup (with `night`, only those that night's runs took) to `target`.

    Folders are copied side by side, `workers` at a time; a damaged or incomplete source folder is not a
    backup to copy and is skipped (the catalog's verify reports it)."""
    if not check_mode:
        target.check_writable()
    entries = [e for e in scan_catalog(source, selection, workers) if e.intact and _of_night(e, night)]

    def one(entry: CatalogEntry) -> CopyOutcome:
        return copy_backup(source, target, entry, check_mode=check_mode)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(one, entries))


def _of_night(entry: CatalogEntry, night: str | None) -> bool:
    origin = entry.origin or {}
    return night is None or (origin.get("kind") == manifest_file.NIGHT and origin.get("night") == night)


def copy_backup(source: BackupStore, target: BackupStore, entry: CatalogEntry,
                check_mode: bool = False) -> CopyOutcome:
    """One backup folder to `target`, checked; its outcome (a failure is reported, never raised)."""
    folder, table = entry.ref.folder, entry.ref.table
    manifest_key = join(folder, manifest_file.MANIFEST_NAME)
    try:
        manifest_bytes = source.read_bytes(manifest_key)
        if target.exists(manifest_key) and target.read_bytes(manifest_key) == manifest_bytes:
            return CopyOutcome(table, folder, ALREADY)
        doc = entry.manifest or {}
        others = [o for o in entry.objects if o.key != manifest_key]
        size = sum(o.size for o in others) + len(manifest_bytes)
        if check_mode:
            return CopyOutcome(table, folder, WOULD_COPY, len(others) + 1, size)
        expected = {join(folder, f.path): f for f in manifest_file.data_files(doc)}
        missing = sorted(set(expected) - {o.key for o in others})
        if missing:
            raise HippolyteError(f"the source lacks {len(missing)} file(s) its manifest lists: {missing[0]}")
        target.delete_tree(folder)  # what an earlier copy left half-written
        for obj in others:
            _copy_object(source, target, obj.key, expected.get(obj.key))
        damage = find_damage(target, folder, doc)
        if damage:
            raise HippolyteError(f"the copy does not match the manifest: {damage[0].file}: {damage[0].reason}")
        target.put_bytes(manifest_key, manifest_bytes)  # last: a copy with a manifest is complete and checked
        return CopyOutcome(table, folder, COPIED, len(others) + 1, size)
    except (HippolyteError, OSError) as exc:
        return CopyOutcome(table, folder, FAILED, error=_removed(target, folder, str(exc)))
    except Exception as exc:  # an S3 error mid-copy: reported with the folder, the others go on
        return CopyOutcome(table, folder, FAILED, error=_removed(target, folder, f"{type(exc).__name__}: {exc}"))


def _copy_object(source: BackupStore, target: BackupStore, key: str,
                 expected: manifest_file.DataFile | None) -> None:
    """Stream one object across; a data file must hash to its manifest's sha256 on the way."""
    writer = HashingWriter(target.open_writer(key))
    try:
        with source.open_reader(key) as raw:
            reading = HashingReader(raw)
            _pump(reading.read, writer.write)
    except BaseException:
        writer.abort()
        raise
    if expected is not None and (writer.size != expected.bytes or writer.sha256 != expected.sha256):
        writer.abort()
        raise HippolyteError(f"{url_under(source.url, key)} no longer matches its manifest (sha256 {writer.sha256}, "
                             f"{writer.size} bytes; the manifest says {expected.sha256}, {expected.bytes} bytes): "
                             "verify the source with backup_info state=verified")
    writer.close()


def _pump(read: Callable[[int], bytes | None], write: Callable[[bytes], int]) -> None:
    while True:
        chunk = read(CHUNK)
        if not chunk:
            return
        write(chunk)


def _removed(target: BackupStore, folder: str, error: str) -> str:
    """Remove a failed copy's folder, so nothing half-copied stays; the error says if that failed too."""
    try:
        target.delete_tree(folder)
    except Exception as exc:  # the copy's failure is the news; a folder left behind is said beside it
        return f"{error}; the partial copy could not be removed ({type(exc).__name__}: {exc})"
    return error


def copy_selection(tables: list[str], accounts: list[str], regions: list[str], workers: int) -> Selection:
    """The backups the module is asked to copy, checked before any store is opened."""
    if workers < 1:
        raise InputError("workers", f"must be at least 1, got {workers}", "use 1 to 64")
    selection = Selection(tables=tables, accounts=accounts, regions=regions)
    selection.validate()
    return selection


def copy_result(source: BackupStore, target: BackupStore, selection: Selection, *, night: str | None = None,
                workers: int = 8, check_mode: bool = False) -> dict[str, Any]:
    """`copy_backups` as the module returns it: copied (or that would be), already there, not copied, a message."""
    outcomes = copy_backups(source, target, selection, night=night, workers=workers, check_mode=check_mode)

    def listed(*statuses: str) -> list[dict[str, Any]]:
        return [o.to_result(source, target) for o in outcomes if o.status in statuses]

    copied, already, failed = listed(COPIED, WOULD_COPY), listed(ALREADY), listed(FAILED)
    verb = "would copy" if check_mode else "copied"
    msg = (f"{verb} {len(copied)} backup(s) to {target.url} ({sum(c['bytes'] for c in copied):,} bytes), "
           f"{len(already)} already there")
    if failed:
        msg += f"; {len(failed)} NOT copied: " + "; ".join(f"{f['folder']}: {f['error']}" for f in failed[:3])
    return {"changed": bool(copied), "copied": copied, "already_copied": already, "not_copied": failed, "msg": msg}
