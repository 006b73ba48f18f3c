"""The dynamodb-json codec: every attribute type round-trips exactly, numbers never pass through float."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import (
    CodecError,
    decode_line,
    encode_line,
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
