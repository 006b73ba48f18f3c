"""restoring/adoption: a backup made elsewhere (here the original Hippolyte's Data Pipeline folder, on disk) becomes an
ordinary backup: files copied unchanged and counted, the manifest last, the same source adopted once; a folder whose
items lack the key is refused, naming the file and line, and leaves nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import FileStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.adoption import (
    SchemaSource,
    adopt_folder,
    find_format,
)
from tests.support.foreign_backups import ACCOUNT, emr_connector_line, write_emr_folder
from tests.support.tables import simple_items

REGION = "eu-west-1"
KEYS = SchemaSource(key_attributes=(("pk", "S"),))
TAKEN = datetime(2019, 3, 1, 1, 0, tzinfo=UTC)


def legacy(tmp_path: Path, count: int = 10) -> tuple[FileStore, FileStore]:
    write_emr_folder(tmp_path / "legacy", list(simple_items(count, pad=10)), legacy=True, markers=True)
    return (FileStore(tmp_path / "legacy", f"file://{tmp_path}/legacy"),
            FileStore(tmp_path / "backups", f"file://{tmp_path}/backups"))


def test_files_are_copied_unchanged_counted_and_adopted_once(tmp_path: Path) -> None:
    source, dest = legacy(tmp_path)
    # No table is asked for: the keys are given (ddb is never called).
    adopted = adopt_folder(source, dest, None, "orders", REGION, KEYS, account_id=ACCOUNT, taken_at=TAKEN)
    doc = adopted.manifest
    assert adopted.changed and adopted.folder.startswith(f"{ACCOUNT}/{REGION}/orders/2019-03-01")
    assert (doc["data_format"], doc["item_count"], doc["consistency"]) == ("emr-connector", 10, "fuzzy-scan")
    for entry in doc["files"]:
        copied = dest.read_bytes(join(adopted.folder, entry["path"]))
        original = (tmp_path / "legacy" / entry["path"].removeprefix("data/")).read_bytes()
        assert copied == original and hashlib.sha256(copied).hexdigest() == entry["sha256"]
    assert doc["schema"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]

    again = adopt_folder(source, dest, None, "orders", REGION, KEYS, account_id=ACCOUNT)
    assert (again.changed, again.folder) == (False, adopted.folder)


def test_an_item_without_the_key_is_refused_by_file_and_line_and_nothing_is_left(tmp_path: Path) -> None:
    items = list(simple_items(4, pad=10))
    lines = [emr_connector_line(i, True, n) for n, i in enumerate(items)]
    lines[3] = emr_connector_line({"id": {"S": "x"}}, True, 3)
    write_emr_folder(tmp_path / "legacy", items, legacy=True, markers=False, lines=lines)
    source = FileStore(tmp_path / "legacy", f"file://{tmp_path}/legacy")
    dest = FileStore(tmp_path / "backups", f"file://{tmp_path}/backups")
    with pytest.raises(InputError) as refused:
        adopt_folder(source, dest, None, "orders", REGION, KEYS, account_id=ACCOUNT, taken_at=TAKEN)
    assert "line 2: the item has no key attribute 'pk' of type S" in str(refused.value)
    assert not any(p.is_file() for p in (tmp_path / "backups").rglob("*"))


def test_without_an_account_or_a_table_arn_the_account_is_asked_for(tmp_path: Path) -> None:
    source, dest = legacy(tmp_path)
    with pytest.raises(InputError) as refused:
        adopt_folder(source, dest, None, "orders", REGION, KEYS)
    assert refused.value.field == "account_id"
    fallback = adopt_folder(source, dest, None, "orders", REGION, KEYS, account_fallback=lambda: "111122223333")
    assert fallback.folder.startswith("111122223333/")


def test_without_keys_or_a_live_table_there_is_no_schema(tmp_path: Path) -> None:
    source, dest = legacy(tmp_path)
    with pytest.raises(InputError) as refused:
        adopt_folder(source, dest, None, "orders", REGION, SchemaSource(), account_id=ACCOUNT)
    assert refused.value.field == "schema_from"


def test_the_format_asked_for_must_be_there(tmp_path: Path) -> None:
    source, _unused = legacy(tmp_path)
    assert find_format(source, "auto").data_format == "emr-connector"
    with pytest.raises(InputError) as native:
        find_format(source, "native-export")
    assert native.value.field == "adopt_from"
    with pytest.raises(InputError) as unknown:
        find_format(source, "csv")
    assert unknown.value.field == "adopt_format"


@pytest.mark.parametrize("keys", [
    (("pk", "S"), ("sk", "N"), ("x", "S")), (("pk", "BOOL"),), (("", "S"),),
])
def test_key_attributes_are_one_or_two_named_and_typed(keys: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(InputError) as refused:
        SchemaSource(key_attributes=keys).validate()
    assert refused.value.field == "key_attributes"
