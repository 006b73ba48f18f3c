"""A Scan response body cut into dynamodb-json lines: each line is the item exactly as DynamoDB sent it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.page_lines import split_page
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import decode_line, to_json_item
from tests.support.items import every_type_item, items


def body(doc: dict[str, Any], **dumps: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, **dumps).encode()


def test_items_become_lines_cut_from_the_body_and_the_rest_keeps_everything_else() -> None:
    page = [to_json_item(every_type_item("k1")), {"pk": {"S": 'a "quoted" },{"Item": ] text\\n'}}]
    doc = {"Count": 2, "Items": page, "ScannedCount": 2, "LastEvaluatedKey": {"Items": {"S": "x]"}},
           "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.5}}
    text = body(doc, separators=(",", ":"))
    lines = split_page(text)
    assert lines is not None and lines.count == 2
    assert lines.lines.endswith("\n") and lines.lines.count("\n") == 2
    sent = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in page]
    assert lines.lines == "".join(f'{{"Item":{item}}}\n' for item in sent)  # byte for byte as sent
    assert decode_line(lines.lines.split("\n")[0]) == every_type_item("k1")
    assert json.loads(lines.rest) == {**doc, "Items": []}


def test_an_empty_page_and_a_body_without_items() -> None:
    empty = split_page(b'{"Count":0,"Items":[],"ScannedCount":0}')
    assert empty is not None and (empty.count, empty.lines) == (0, "")
    assert split_page(b'{"Count":0,"ScannedCount":0}') is None


def test_a_pretty_printed_body_still_gives_one_line_per_item() -> None:
    page = [{"pk": {"S": "a"}, "m": {"M": {"x": {"L": [{"N": "1"}]}}}}, {"pk": {"S": "b"}}]
    lines = split_page(body({"Items": page, "Count": 2}, indent=2))
    assert lines is not None
    assert [json.loads(line) for line in lines.lines.split("\n")[:-1]] == [{"Item": item} for item in page]


@pytest.mark.parametrize("cut", [1, 10, 30, 45, 60])
def test_a_cut_off_body_is_refused(cut: int) -> None:
    text = body({"Count": 2, "Items": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ScannedCount": 2})
    with pytest.raises(ValueError):
        split_page(text[:cut])


@given(st.lists(items, max_size=6))
@settings(max_examples=100, deadline=None)
def test_random_pages_round_trip(page: list[dict[str, Any]]) -> None:
    json_items = [to_json_item(item) for item in page]
    lines = split_page(body({"Count": len(page), "Items": json_items, "ScannedCount": len(page)},
                            separators=(",", ":")))
    assert lines is not None and lines.count == len(page)
    assert [decode_line(line) for line in lines.lines.split("\n")[:-1]] == page
