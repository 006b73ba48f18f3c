"""backup_reader: a backup's data files read back as PutRequests, each file checked against its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import emr_connector_codec as emr
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import (
    CodecError,
    encode_line,
    to_json_item,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import DataFile, data_files
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_reader import (
    READERS,
    iter_put_requests,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from tests.support.items import every_type_item, items
from tests.support.stored_backups import gzipped_lines, write_backup

PART = "data/part-00000.json.gz"


def stored(tmp_path: Path, data: bytes, data_format: str = "dynamodb-json") -> tuple[Any, str, DataFile]:
    store = open_store(f"file://{tmp_path}")
    folder, doc = write_backup(store, {PART: data}, data_format=data_format)
    return store, folder, data_files(doc)[0]


def put_items(requests: list[bytes]) -> list[dict[str, Any]]:
    docs = [json.loads(r) for r in requests]
    assert all(doc.keys() == {"PutRequest"} and doc["PutRequest"].keys() == {"Item"} for doc in docs)
    return [doc["PutRequest"]["Item"] for doc in docs]


def test_compact_lines_become_put_requests_byte_for_byte(tmp_path: Path) -> None:
    lines = [encode_line(every_type_item(f"k{n}")) for n in range(3)]
    store, folder, data_file = stored(tmp_path, gzipped_lines(every_type_item(f"k{n}") for n in range(3)))
    requests = list(iter_put_requests(store, folder, data_file, "dynamodb-json"))
    assert requests == [b'{"PutRequest":' + line.encode() + b"}" for line in lines]
    assert put_items(requests) == [to_json_item(every_type_item(f"k{n}")) for n in range(3)]


def test_a_native_export_part_reads_as_dynamodb_json(tmp_path: Path) -> None:
    store, folder, data_file = stored(tmp_path, gzipped_lines([every_type_item("a")]), "native-export")
    assert put_items(list(iter_put_requests(store, folder, data_file, "native-export"))) == [
        to_json_item(every_type_item("a"))]


def test_spaced_lines_are_parsed_and_blank_lines_skipped(tmp_path: Path) -> None:
    text = b'{ "Item" : { "pk" : { "S" : "a" } } }\n\n  \n{"Item": {"pk": {"N": "1"}}}\r\n'
    store, folder, data_file = stored(tmp_path, text)
    assert put_items(list(iter_put_requests(store, folder, data_file, "dynamodb-json"))) == [
        {"pk": {"S": "a"}}, {"pk": {"N": "1"}}]


@pytest.mark.parametrize(("line", "message"), [
    (b'{"Item": {"pk": {"S": "a"}}', "not a JSON line"),
    (b'{"Item": {"pk": {"S": "a"}}, "Extra": 1}', 'must be {"Item": {...}}'),
    (b'{"item": {"pk": {"S": "a"}}}', 'must be {"Item": {...}}'),
    (b'["Item"]', 'must be {"Item": {...}}'),
])
def test_a_damaged_line_is_refused_before_it_is_sent(tmp_path: Path, line: bytes, message: str) -> None:
    store, folder, data_file = stored(tmp_path, b'{"Item":{"pk":{"S":"ok"}}}\n' + line + b"\n")
    reader = iter_put_requests(store, folder, data_file, "dynamodb-json")
    assert put_items([next(reader)]) == [{"pk": {"S": "ok"}}]
    with pytest.raises(CodecError, match=message):
        next(reader)


def test_emr_connector_lines_of_both_styles(tmp_path: Path) -> None:
    json_items = [to_json_item(every_type_item("a")), to_json_item(every_type_item("b"))]
    text = (emr.encode_line(json_items[0]) + "\n" + emr.encode_legacy_line(json_items[1]) + "\n").encode()
    store, folder, data_file = stored(tmp_path, text, "emr-connector")
    requests = list(iter_put_requests(store, folder, data_file, "emr-connector"))
    assert [item["pk"] for item in put_items(requests)] == [{"S": "a"}, {"S": "b"}]
    assert put_items(requests) == [json.loads(emr.to_put_request(line))["PutRequest"]["Item"]
                                   for line in text.decode().splitlines()]


def test_an_unknown_format_is_refused_naming_the_ones_read(tmp_path: Path) -> None:
    store, folder, data_file = stored(tmp_path, gzipped_lines([{"pk": {"S": "a"}}]))
    with pytest.raises(HippolyteError, match="data format 'parquet' cannot be restored") as raised:
        next(iter_put_requests(store, folder, data_file, "parquet"))
    assert all(name in str(raised.value) for name in READERS)


def test_a_file_that_differs_from_its_manifest_fails_once_read(tmp_path: Path) -> None:
    store, folder, data_file = stored(tmp_path, b'{"Item":{"pk":{"S":"a"}}}\n{"Item":{"pk":{"S":"b"}}}\n')
    (tmp_path / folder / PART).write_bytes(b'{"Item":{"pk":{"S":"a"}}}\n{"Item":{"pk":{"S":"c"}}}\n')
    with pytest.raises(HippolyteError, match=f"{PART} does not match the manifest .*the backup is damaged"):
        list(iter_put_requests(store, folder, data_file, "dynamodb-json"))


def test_a_wrong_item_count_fails_naming_both_counts(tmp_path: Path) -> None:
    store, folder, data_file = stored(tmp_path, gzipped_lines([{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]))
    wrong = DataFile(data_file.path, 3, data_file.bytes, data_file.sha256)
    with pytest.raises(HippolyteError, match="holds 2 items, the manifest says 3"):
        list(iter_put_requests(store, folder, wrong, "dynamodb-json"))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(items, min_size=1, max_size=3), data_format=st.sampled_from(["dynamodb-json", "emr-connector"]))
def test_any_items_come_back_as_written(tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]],
                                        data_format: str) -> None:
    json_items = [to_json_item(item) for item in batch]
    if data_format == "emr-connector":
        data = "".join(emr.encode_line(j) + "\n" for j in json_items).encode()
    else:
        data = gzipped_lines(batch)
    store, folder, data_file = stored(tmp_path_factory.mktemp("b"), data, data_format)
    assert put_items(list(iter_put_requests(store, folder, data_file, data_format))) == json_items
