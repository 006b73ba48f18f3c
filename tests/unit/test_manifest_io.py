"""manifest_io: a backup's manifest is written last, once, exclusively, and reads back as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import manifest as manifest_file
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    ObjectExists,
    join,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.manifest_io import write_manifest
from tests.support.stored_backups import REGION, schema_of_table

FOLDER = f"123456789012/{REGION}/orders/2026-11-20-01-00-00"


def fields(**changed: Any) -> dict[str, Any]:
    return {"schema": schema_of_table("orders"), "account": "123456789012", "region": REGION, "engine": "local",
            "data_format": "dynamodb-json", "consistency": "fuzzy-scan", "started": "2026-11-20T01:00:00+00:00",
            "finished": "2026-11-20T01:02:00+00:00", "origin": manifest_file.night_origin("local", None, None),
            "files": [manifest_file.DataFile("data/part-00001.json.gz", 2, 20, "b" * 64),
                      manifest_file.DataFile("data/part-00000.json.gz", 3, 30, "a" * 64)], **changed}


def test_the_manifest_is_stored_with_its_digest_and_the_engines_additions(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    doc = write_manifest(store, FOLDER, extra={"export_arn": "arn:aws:dynamodb:x"}, **fields())
    stored = manifest_file.loads(store.read_bytes(join(FOLDER, manifest_file.MANIFEST_NAME)), "here")
    assert stored == {**doc, manifest_file.DIGEST_FIELD: stored[manifest_file.DIGEST_FIELD]}
    assert stored["export_arn"] == "arn:aws:dynamodb:x"
    assert (stored["item_count"], stored["byte_count"]) == (5, 50)
    assert [f["path"] for f in stored["files"]] == ["data/part-00000.json.gz", "data/part-00001.json.gz"]
    assert store.list_files(FOLDER) == [join(FOLDER, manifest_file.MANIFEST_NAME)]


def test_a_second_writer_fails_and_the_first_manifest_stays(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    write_manifest(store, FOLDER, **fields())
    first = store.read_bytes(join(FOLDER, manifest_file.MANIFEST_NAME))
    with pytest.raises(ObjectExists, match="already exists: another writer wrote it first") as raised:
        write_manifest(store, FOLDER, **fields(engine="native"))
    assert raised.value.url == f"file://{tmp_path}/{FOLDER}/{manifest_file.MANIFEST_NAME}"
    assert store.read_bytes(join(FOLDER, manifest_file.MANIFEST_NAME)) == first


@pytest.mark.parametrize("changed", [{"data_format": "csv"}, {"consistency": "strong"}])
def test_an_unknown_format_writes_nothing(tmp_path: Path, changed: dict[str, str]) -> None:
    store = open_store(f"file://{tmp_path}")
    with pytest.raises(ValueError, match="unknown data format"):
        write_manifest(store, FOLDER, **fields(**changed))
    assert store.list_files("") == []


def test_extra_fields_cannot_hide_a_missing_required_field(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}")
    with pytest.raises(TypeError, match="files"):
        write_manifest(store, FOLDER, **{k: v for k, v in fields().items() if k != "files"})
    assert store.list_files("") == []
