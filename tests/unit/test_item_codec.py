"""The dynamodb-json codec: every attribute type round-trips exactly, numbers never pass through float."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.item_codec import (
    CodecError,
    decode_line,
    encode_json_line,
    encode_json_lines,
    encode_line,
    to_json_item,
)
from tests.support.items import N38, big_item, every_type_item, items


def test_every_type_round_trips() -> None:
    item = every_type_item("k1")
    assert decode_line(encode_line(item)) == item


def test_line_is_native_export_json() -> None:
    doc = json.loads(encode_line({"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}, "n": {"N": N38}}))
    # Upper-case type keys, base64 binary and numbers as strings, as a native export writes them.
    assert doc == {"Item": {"pk": {"S": "a"}, "b": {"B": "AAE="}, "n": {"N": N38}}}


def test_38_digit_numbers_are_kept_as_text() -> None:
    line = encode_line({"n": {"N": N38}})
    assert N38 in line
    assert decode_line(line)["n"]["N"] == N38


def test_binary_nested_in_lists_and_maps() -> None:
    item = {"l": {"L": [{"M": {"b": {"B": b"\xff"}}}, {"BS": [b"\x00"]}]}}
    line = encode_line(item)
    assert "/w==" in line and "AA==" in line
    assert decode_line(line) == item


def test_item_near_the_400_kb_limit() -> None:
    item = big_item("big")
    assert decode_line(encode_line(item)) == item


@given(items)
@settings(max_examples=200, deadline=None)
def test_random_items_round_trip(item: dict) -> None:
    assert decode_line(encode_line(item)) == item


def test_a_page_of_items_gives_one_line_per_item_even_when_they_look_like_the_separator() -> None:
    page = [
        {"Item": {"S": '},{"Item":'}},  # the separator as an attribute name and as text
        {"pk": {"S": "b"}, "Item": {"M": {"Item": {"L": [{"M": {"Item": {"N": "1"}}}, {"M": {"a": {"S": "x"}}}]}}}},
        {"l": {"L": [{"M": {"Item": {"S": "y"}}}, {"M": {"Item": {"S": "z"}}}]}},
        {"pk": {"S": "line\nbreak"}},
    ]
    lines = encode_json_lines(page)
    assert lines == "".join(encode_json_line(item) + "\n" for item in page)
    assert lines.count("\n") == len(page)
    assert encode_json_lines([]) == ""


@given(st.lists(items, min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_a_page_of_random_items_encodes_as_each_item_does(page: list[dict]) -> None:
    json_items = [to_json_item(item) for item in page]
    assert encode_json_lines(json_items) == "".join(encode_json_line(item) + "\n" for item in json_items)


@pytest.mark.parametrize(("line", "problem"), [
    ("not json", "not a JSON line"),
    ('{"pk": {"S": "a"}}', "must be {\"Item\""),
    ('{"Item": {"x": {"Q": "1"}}}', "unknown attribute type 'Q'"),
    ('{"Item": {"x": {"S": "a", "N": "1"}}}', "one type key"),
    ('{"Item": {"x": {"B": "not base64!"}}}', "is not base64"),
])
def test_bad_lines_are_refused(line: str, problem: str) -> None:
    with pytest.raises(CodecError, match=re.escape(problem)):
        decode_line(line)
