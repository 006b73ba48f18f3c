"""import_identity: an import is known by its source and the digest of what the source held, never by its time."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.import_identity import (
    earlier_import,
    source_digest,
)
from tests.support.stored_backups import ACCOUNT, REGION, TAKEN, gzipped_lines, write_backup

SOURCE = "s3://legacy/dumps/orders"
PART = {"data/part-00000.json.gz": gzipped_lines([{"pk": {"S": "a"}}])}


class Digest:
    """`digest()` as earlier_import asks it: counted, because it reads the whole source."""

    def __init__(self, value: str) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> str:
        self.calls += 1
        return self.value


def imported(store: BackupStore, seconds: int, source: str = SOURCE, digest: str | None = "d1") -> str:
    origin = manifest_file.import_origin(source, digest or "", TAKEN.isoformat())
    if digest is None:
        origin["content_sha256"] = None  # recorded before imports carried a digest
    folder, _doc = write_backup(store, PART, taken=TAKEN + timedelta(seconds=seconds), origin=origin)
    return folder


def test_source_digest_is_the_content_digest_of_paths_relative_to_the_root(tmp_path: Path) -> None:
    source = open_store(f"file://{tmp_path}")
    source.put_bytes("dump/orders/data/a.json", b"first")
    source.put_bytes("dump/orders/schema.json", b"{}")
    digest = source_digest(source, ["dump/orders/schema.json", "dump/orders/data/a.json"], "dump/orders")
    expected = [("data/a.json", hashlib.sha256(b"first").hexdigest()),
                ("schema.json", hashlib.sha256(b"{}").hexdigest())]
    assert digest == manifest_file.content_digest(expected)
    # The same files elsewhere are the same content; one changed byte is another.
    source.put_bytes("copy/data/a.json", b"first")
    source.put_bytes("copy/schema.json", b"{}")
    assert source_digest(source, ["copy/data/a.json", "copy/schema.json"], "copy/") == digest
    source.put_bytes("copy/data/a.json", b"First")
    assert source_digest(source, ["copy/data/a.json", "copy/schema.json"], "copy") != digest


@settings(max_examples=25, deadline=None)
@given(contents=st.dictionaries(st.from_regex(r"(data/)?[a-z]{1,6}\.json", fullmatch=True), st.binary(max_size=64),
                                min_size=1, max_size=5),
       order=st.randoms(use_true_random=False))
def test_source_digest_ignores_the_order_keys_are_listed_in(tmp_path_factory: pytest.TempPathFactory,
                                                            contents: dict[str, bytes], order: Random) -> None:
    source = open_store(f"file://{tmp_path_factory.mktemp('src')}")
    for key, data in contents.items():
        source.put_bytes(f"src/{key}", data)
    keys = [f"src/{key}" for key in contents]
    shuffled = list(keys)
    order.shuffle(shuffled)
    assert source_digest(source, keys, "src") == source_digest(source, shuffled, "src")


def test_no_import_of_the_source_means_none_and_no_digest_read(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    write_backup(dest, PART)  # a night's backup
    imported(dest, 1, source="s3://legacy/dumps/other")
    digest = Digest("d1")
    assert earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, digest) is None
    assert digest.calls == 0


def test_the_same_source_and_content_is_found_whatever_second_it_was_filed_at(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    folder = imported(dest, 7)
    found = earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, Digest("d1"))
    assert found is not None and found[0] == folder
    assert manifest_file.origin_of(found[1])["source"] == SOURCE


def test_changed_content_is_another_import(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    imported(dest, 0)
    digest = Digest("d2")
    assert earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, digest) is None
    assert digest.calls == 1


def test_the_newest_matching_import_wins(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    imported(dest, 0)
    newest = imported(dest, 5)
    imported(dest, 9, digest="d-other")
    found = earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, Digest("d1"))
    assert found is not None and found[0] == newest


def test_an_import_recorded_without_a_digest_is_known_by_its_source_alone(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    folder = imported(dest, 0, digest=None)
    found = earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, Digest("anything"))
    assert found is not None and found[0] == folder


def test_incomplete_and_damaged_imports_are_never_reused(tmp_path: Path) -> None:
    dest = open_store(f"file://{tmp_path}")
    damaged = imported(dest, 0)
    manifest_key = join(damaged, manifest_file.MANIFEST_NAME)
    raw = dest.read_bytes(manifest_key)
    assert b'"item_count": 1,' in raw
    dest.put_bytes(manifest_key, raw.replace(b'"item_count": 1,', b'"item_count": 2,'))
    incomplete = imported(dest, 1)
    (tmp_path / incomplete / manifest_file.MANIFEST_NAME).unlink()
    assert earlier_import(dest, ACCOUNT, REGION, "orders", SOURCE, Digest("d1")) is None
