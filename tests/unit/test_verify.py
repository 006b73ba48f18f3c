"""verify: every data file of a backup re-read against its manifest; each kind of damage named with its file."""

from __future__ import annotations

import gzip
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from botocore.exceptions import ReadTimeoutError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    FileStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection, scan_catalog
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.verify import find_damage, verify_entries
from tests.support.stored_backups import TAKEN, gzipped_lines, write_backup

PART_A, PART_B = "data/part-00000.json.gz", "data/part-00001.json.gz"


def items(first: int, count: int) -> list[dict[str, Any]]:
    return [{"pk": {"S": f"k{n}"}, "v": {"N": str(n)}} for n in range(first, first + count)]


def backup(tmp_path: Path, **kwargs: Any) -> tuple[BackupStore, str, dict[str, Any]]:
    store = open_store(f"file://{tmp_path}")
    folder, doc = write_backup(store, {PART_A: gzipped_lines(items(0, 3)), PART_B: gzipped_lines(items(3, 2))},
                               **kwargs)
    return store, folder, doc


def damage(store: BackupStore, folder: str, doc: dict[str, Any], count_items: bool = True) -> list[tuple[str, str]]:
    return [(d.file.rsplit("/", 1)[-1], d.reason) for d in find_damage(store, folder, doc, count_items=count_items)]


def test_an_intact_backup_has_no_damage(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    assert damage(store, folder, doc) == [] and damage(store, folder, doc, count_items=False) == []


def test_a_missing_file_is_named_by_its_url(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    (tmp_path / folder / PART_B).unlink()
    found = find_damage(store, folder, doc)
    assert [(d.file, d.reason) for d in found] == [
        (f"file://{tmp_path}/{folder}/{PART_B}", "missing: the manifest lists it, the folder does not hold it")]


def test_a_file_of_another_size_is_damaged_without_being_read(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    with (tmp_path / folder / PART_A).open("ab") as fh:
        fh.write(b"x")
    size = doc["files"][0]["bytes"]
    assert damage(store, folder, doc) == [("part-00000.json.gz", f"size is {size + 1} bytes, the manifest says {size}")]


def test_a_changed_byte_of_the_same_size_is_caught_by_its_sha256(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    path = tmp_path / folder / PART_B
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # inside the gzip trailer: still decompresses as far as the CRC
    path.write_bytes(bytes(data))
    for count_items in (False, True):
        (found,) = damage(store, folder, doc, count_items)
        assert found[0] == "part-00001.json.gz" and found[1].startswith(
            f"sha256 is {hashlib.sha256(bytes(data)).hexdigest()}, the manifest says")


def test_a_wrong_item_count_is_found_only_when_items_are_counted(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    doc["files"][1]["items"] = 5
    assert damage(store, folder, doc, count_items=False) == []
    assert damage(store, folder, doc) == [("part-00001.json.gz", "holds 2 items, the manifest says 5")]


def test_a_file_that_matches_its_sha256_but_does_not_decompress_says_so(tmp_path: Path) -> None:
    store, folder, doc = backup(tmp_path)
    broken = gzip.compress(b'{"Item":{"pk":{"S":"a"}}}\n', mtime=0)[:-6]  # cut: the trailer is gone
    (tmp_path / folder / PART_A).write_bytes(broken)
    doc = {**doc, "files": [{**doc["files"][0], "bytes": len(broken), "sha256": hashlib.sha256(broken).hexdigest()}]}
    (found,) = damage(store, folder, doc)
    assert found[1].startswith("matches its sha256 but cannot be decompressed:")
    assert damage(store, folder, doc, count_items=False) == []  # the bytes are as the backup wrote them


class FlakyReads(FileStore):
    """A store whose reads fail on the way `fails` times, as an S3 GET cut by a timeout does (botocore raises
    ReadTimeoutError). No emulator drops a read on demand, so the failure is injected here; the bytes are the
    file store's own."""

    def __init__(self, root: Path, fails: int) -> None:
        super().__init__(root, f"file://{root}")
        self.fails = fails

    def open_reader(self, key: str) -> BinaryIO:
        if self.fails:
            self.fails -= 1
            raise ReadTimeoutError(endpoint_url="https://s3.example")
        return super().open_reader(key)


def test_a_read_that_fails_on_the_way_is_read_again_and_twice_is_damage(tmp_path: Path) -> None:
    _store, folder, doc = backup(tmp_path)
    doc = {**doc, "files": doc["files"][:1]}
    assert find_damage(FlakyReads(tmp_path, fails=1), folder, doc) == []
    (found,) = find_damage(FlakyReads(tmp_path, fails=2), folder, doc)
    assert found.reason.startswith("unreadable twice: Read timeout")


def test_verify_entries_checks_every_complete_backup_and_reports_a_bad_manifest(tmp_path: Path) -> None:
    store, good, _doc = backup(tmp_path)
    _store, bad, _bad_doc = backup(tmp_path, taken=TAKEN + timedelta(hours=1))
    _store, unreadable, _unreadable_doc = backup(tmp_path, taken=TAKEN + timedelta(hours=2))
    (tmp_path / bad / PART_A).write_bytes(b"not gzip at all")
    manifest_key = join(unreadable, manifest_file.MANIFEST_NAME)
    store.put_bytes(manifest_key, store.read_bytes(manifest_key).replace(b'"engine": "local"', b'"engine": "emr"'))
    entries = scan_catalog(store, Selection())
    checks = verify_entries(store, entries, workers=3)
    assert [c.entry.ref.folder for c in checks] == [good, bad, unreadable]
    sizes = sum((tmp_path / good / p).stat().st_size for p in (PART_A, PART_B))
    assert (checks[0].ok, checks[0].files, checks[0].bytes_read) == (True, 2, sizes)
    assert not checks[1].ok and checks[1].files == 2
    assert [d.file.rsplit("/", 1)[-1] for d in checks[1].damage] == ["part-00000.json.gz"]
    assert checks[1].damage[0].reason.startswith("size is 15 bytes")
    assert (checks[2].ok, checks[2].files, checks[2].bytes_read) == (False, 0, 0)
    (manifest_damage,) = checks[2].damage
    assert manifest_damage.file == f"file://{tmp_path}/{manifest_key}"
    assert "does not match its own digest" in manifest_damage.reason


def test_verify_entries_of_nothing_is_nothing(tmp_path: Path) -> None:
    assert verify_entries(open_store(f"file://{tmp_path}"), []) == []


@pytest.mark.parametrize("workers", [1, 8])
def test_damage_is_reported_in_manifest_order_whatever_the_pool(tmp_path: Path, workers: int) -> None:
    store = open_store(f"file://{tmp_path}")
    parts = {f"data/part-{n:05d}.json.gz": gzipped_lines(items(n * 10, 3)) for n in range(6)}
    folder, doc = write_backup(store, parts)
    for name in list(parts)[1::2]:
        (tmp_path / folder / name).unlink()
    found = find_damage(store, folder, doc, workers=workers)
    assert [d.file.rsplit("/", 1)[-1] for d in found] == [f"part-{n:05d}.json.gz" for n in (1, 3, 5)]
