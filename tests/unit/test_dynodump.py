"""dynodump: a dynamodump table folder imported once as a backup (file:// stores on both sides); the same dump is
found again by its origin; a damaged dump leaves nothing behind."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import data_files, origin_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import iter_put_requests
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.dynodump import (
    ENGINE,
    import_dump,
    schema_from_description,
)
from tests.support.stored_backups import ACCOUNT, REGION, TAKEN

DESCRIBED = {"Table": {"TableName": "orders", "TableArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders",
                       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                       "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                       "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}}
BLOB = base64.b64encode(b"\x00\xffbin").decode()
PAGES = [[{"pk": {"S": f"k{n}"}, "b": {"B": BLOB}, "n": {"N": str(n)}} for n in range(3)],
         [{"pk": {"S": "k9"}, "m": {"M": {"x": {"SS": ["a", "b"]}}}}]]


def dump(tmp_path: Path, pages: list[Any] | None = None, described: Any = None) -> BackupStore:
    source = open_store(f"file://{tmp_path}/dump")
    source.put_bytes("orders/schema.json", json.dumps(DESCRIBED if described is None else described).encode())
    for number, items in enumerate(PAGES if pages is None else pages, 1):
        body = items if isinstance(items, bytes) else json.dumps({"Items": items, "Count": len(items)}).encode()
        source.put_bytes(f"orders/data/{number:04d}.json", body)
    return source


def test_a_dump_becomes_a_backup_holding_its_items(tmp_path: Path) -> None:
    source, dest = dump(tmp_path), open_store(f"file://{tmp_path}/backups")
    result = import_dump(source, "orders", dest, REGION, taken_at=TAKEN)
    assert result.changed and result.url == f"file://{tmp_path}/backups/{result.folder}"
    assert result.folder == f"{ACCOUNT}/{REGION}/orders/2026-11-20-01-00-00"
    doc = result.manifest
    assert (doc["engine"], doc["data_format"], doc["consistency"], doc["item_count"]) == (
        ENGINE, "dynamodb-json", "fuzzy-scan", 4)
    assert origin_of(doc)["kind"] == "import" and origin_of(doc)["source"] == f"file://{tmp_path}/dump/orders"
    assert doc["schema"]["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    read = [json.loads(r)["PutRequest"]["Item"] for f in data_files(doc)
            for r in iter_put_requests(dest, result.folder, f, doc["data_format"])]
    assert read == PAGES[0] + PAGES[1]


def test_the_same_dump_is_found_again_and_a_changed_one_is_filed_beside_it(tmp_path: Path) -> None:
    source, dest = dump(tmp_path), open_store(f"file://{tmp_path}/backups")
    first = import_dump(source, "orders", dest, REGION, taken_at=TAKEN)
    again = import_dump(source, "orders", dest, REGION, taken_at=TAKEN + timedelta(days=1))
    assert (again.changed, again.folder) == (False, first.folder)
    source.put_bytes("orders/data/0003.json", json.dumps({"Items": [{"pk": {"S": "late"}}]}).encode())
    changed = import_dump(source, "orders", dest, REGION, taken_at=TAKEN)
    assert changed.changed and changed.folder.endswith("2026-11-20-01-00-01")  # the next free second
    assert changed.manifest["item_count"] == 5


def test_a_bare_description_and_the_account_given(tmp_path: Path) -> None:
    table = {k: v for k, v in DESCRIBED["Table"].items() if k != "TableArn"}
    source, dest = dump(tmp_path, described=table), open_store(f"file://{tmp_path}/backups")
    with pytest.raises(InputError) as raised:
        import_dump(source, "orders", dest, REGION, taken_at=TAKEN)
    assert raised.value.field == "account_id"
    result = import_dump(source, "orders", dest, REGION, account_id="210987654321", taken_at=TAKEN)
    assert result.folder.startswith("210987654321/")


@pytest.mark.parametrize(("table_dir", "field"), [("../orders", "table"), ("missing", "source")])
def test_a_folder_that_is_not_a_dump_is_refused(tmp_path: Path, table_dir: str, field: str) -> None:
    source, dest = dump(tmp_path), open_store(f"file://{tmp_path}/backups")
    with pytest.raises(InputError) as raised:
        import_dump(source, table_dir, dest, REGION, taken_at=TAKEN)
    assert raised.value.field == field
    assert dest.list_files("") == []


def test_a_schema_without_keys_names_what_it_lacks() -> None:
    with pytest.raises(InputError, match=r"schema\.json lacks KeySchema"):
        schema_from_description({"TableName": "orders", "AttributeDefinitions": []})


@pytest.mark.parametrize(("page", "message"), [
    (b"{not json", "0002.json is not JSON"),
    (b'{"Count": 0}', "0002.json has no Items list: not a dynamodump page"),
    (json.dumps({"Items": [{"pk": {"B": "not base64!"}}]}).encode(), "0002.json: "),
])
def test_a_damaged_page_fails_and_leaves_nothing(tmp_path: Path, page: bytes, message: str) -> None:
    source, dest = dump(tmp_path, pages=[PAGES[0], page]), open_store(f"file://{tmp_path}/backups")
    with pytest.raises(HippolyteError, match=message):
        import_dump(source, "orders", dest, REGION, taken_at=TAKEN)
    assert dest.list_files("") == []  # neither the first page's part nor the claim
