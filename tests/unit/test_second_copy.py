"""catalog/second_copy: backups copied folder by folder between two stores (here two folders on disk), checked
against their manifests, the manifest last; a night's copy only takes that night's backups."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import FileStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.second_copy import (
    ALREADY,
    COPIED,
    FAILED,
    WOULD_COPY,
    copy_backups,
    copy_result,
    copy_selection,
)
from tests.support.stored_backups import TAKEN, gzipped_lines, write_backup

PART = "data/part-00000.json.gz"


def stores(tmp_path: Path) -> tuple[FileStore, FileStore]:
    return (FileStore(tmp_path / "a", f"file://{tmp_path}/a"), FileStore(tmp_path / "b", f"file://{tmp_path}/b"))


def test_a_copy_holds_the_same_bytes_and_a_second_run_copies_nothing(tmp_path: Path) -> None:
    source, target = stores(tmp_path)
    data = gzipped_lines({"pk": {"S": f"k{n}"}} for n in range(5))
    folder, _unused = write_backup(source, {PART: data})
    manifest_key = join(folder, manifest_file.MANIFEST_NAME)

    first = copy_backups(source, target, Selection(), workers=2)
    assert [(o.folder, o.status, o.files) for o in first] == [(folder, COPIED, 2)]
    assert target.read_bytes(join(folder, PART)) == data
    assert target.read_bytes(manifest_key) == source.read_bytes(manifest_key)
    assert first[0].bytes == len(data) + len(source.read_bytes(manifest_key))

    assert [o.status for o in copy_backups(source, target, Selection())] == [ALREADY]


def test_check_mode_says_what_it_would_copy_and_writes_nothing(tmp_path: Path) -> None:
    source, target = stores(tmp_path)
    folder, _unused = write_backup(source, {PART: gzipped_lines([{"pk": {"S": "a"}}])})
    result = copy_result(source, target, Selection(), check_mode=True)
    assert [c["status"] for c in result["copied"]] == [WOULD_COPY]
    assert result["changed"] is True
    assert result["msg"].startswith("would copy 1 backup(s)")
    assert not target.exists(join(folder, manifest_file.MANIFEST_NAME))
    assert not (tmp_path / "b").exists()


def test_a_source_file_changed_since_its_manifest_fails_and_leaves_no_copy(tmp_path: Path) -> None:
    source, target = stores(tmp_path)
    folder, _unused = write_backup(source, {PART: gzipped_lines([{"pk": {"S": "a"}}])})
    source.put_bytes(join(folder, PART), gzipped_lines([{"pk": {"S": "b"}}]))  # same size, other bytes

    result = copy_result(source, target, Selection())
    assert result["changed"] is False
    assert [f["status"] for f in result["not_copied"]] == [FAILED]
    assert "no longer matches its manifest" in result["not_copied"][0]["error"]
    assert "1 NOT copied" in result["msg"]
    assert target.list_objects(folder) == []


def test_a_source_lacking_a_listed_file_is_not_copied(tmp_path: Path) -> None:
    source, target = stores(tmp_path)
    folder, _unused = write_backup(source, {PART: gzipped_lines([{"pk": {"S": "a"}}])})
    source.delete_tree(join(folder, "data"))
    (outcome,) = copy_backups(source, target, Selection())
    assert outcome.status == FAILED
    assert outcome.error == f"the source lacks 1 file(s) its manifest lists: {folder}/{PART}"
    assert not target.exists(join(folder, manifest_file.MANIFEST_NAME))


def test_only_the_named_nights_backups_are_copied(tmp_path: Path) -> None:
    source, target = stores(tmp_path)
    part = {PART: gzipped_lines([{"pk": {"S": "a"}}])}
    tonight, _unused = write_backup(source, part, origin=manifest_file.night_origin("local", "n2", "r1"))
    write_backup(source, part, taken=TAKEN - timedelta(days=1), origin=manifest_file.night_origin("local", "n1", "r1"))
    copied = copy_backups(source, target, Selection(), night="n2")
    assert [(o.folder, o.status) for o in copied] == [(tonight, COPIED)]


def test_the_selection_is_checked_before_any_store_is_opened() -> None:
    with pytest.raises(InputError) as bad_workers:
        copy_selection(["*"], [], [], 0)
    assert bad_workers.value.field == "workers"
    with pytest.raises(InputError) as bad_region:
        copy_selection(["*"], [], ["moon-1"], 4)
    assert bad_region.value.field == "regions"
    assert copy_selection(["orders*"], [], ["eu-west-1"], 4).tables == ["orders*"]
